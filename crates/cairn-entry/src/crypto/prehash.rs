//! A "hash" that outputs a SHA-512 digest computed elsewhere, so ed25519-dalek's Ed25519ph
//! API (which takes a `Digest` object, not bytes) can be used when only the digest is known.
//!
//! Ed25519ph (RFC 8032 §5.1) signs PH(M) = SHA-512(M). The log never sees M, only the
//! client-supplied 64-byte digest; `verify_prehashed_strict` / `sign_prehashed` call
//! `finalize()` on the object they are given and nothing else (ed25519-dalek 2.x
//! `verifying.rs` / `signing.rs`), so handing them this wrapper is exactly
//! `verify_prehashed_strict(Sha512::new().chain_update(M), ..)`. The unit tests below check
//! that equivalence against real `Sha512` objects.

use digest::consts::U64;
use digest::{FixedOutput, HashMarker, Output, OutputSizeUser, Update};

/// A finished SHA-512 digest posing as a hasher. Private to the crate: `update` cannot
/// absorb data, so it must only ever be handed, already filled, to the Ed25519ph functions.
#[derive(Clone)]
pub(crate) struct PrehashedSha512 {
    digest: [u8; 64],
}

impl PrehashedSha512 {
    pub(crate) fn new(digest: [u8; 64]) -> Self {
        Self { digest }
    }
}

// `Digest` is implemented for every `FixedOutput + Default + Update + HashMarker`; Default is
// only there to satisfy that bound (an all-zero digest is never produced by our code paths).
impl Default for PrehashedSha512 {
    fn default() -> Self {
        Self { digest: [0; 64] }
    }
}

impl HashMarker for PrehashedSha512 {}

impl OutputSizeUser for PrehashedSha512 {
    type OutputSize = U64;
}

impl Update for PrehashedSha512 {
    /// Ignores `data`: the digest is already final. ed25519-dalek never calls this on a
    /// prehashed message (it only finalizes it), and the type does not leave the crate.
    fn update(&mut self, _data: &[u8]) {}
}

impl FixedOutput for PrehashedSha512 {
    fn finalize_into(self, out: &mut Output<Self>) {
        out.copy_from_slice(&self.digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Digest as _, Sha512, SigningKey};

    #[test]
    fn verifies_what_dalek_signs_over_a_real_sha512() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        for msg in [&b""[..], b"abc", &[0xa5; 1000]] {
            let sig = key
                .sign_prehashed(Sha512::new().chain_update(msg), None)
                .unwrap();
            let digest: [u8; 64] = Sha512::digest(msg).into();
            key.verifying_key()
                .verify_prehashed_strict(PrehashedSha512::new(digest), None, &sig)
                .unwrap();
            // And signing through the wrapper gives the same (deterministic) signature.
            let ours = key
                .sign_prehashed(PrehashedSha512::new(digest), None)
                .unwrap();
            assert_eq!(ours, sig);
        }
    }

    #[test]
    fn rejects_a_different_digest() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let sig = key
            .sign_prehashed(Sha512::new().chain_update(b"abc"), None)
            .unwrap();
        let digest: [u8; 64] = Sha512::digest(b"abd").into();
        assert!(key
            .verifying_key()
            .verify_prehashed_strict(PrehashedSha512::new(digest), None, &sig)
            .is_err());
    }
}
