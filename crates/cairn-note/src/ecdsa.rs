//! ECDSA P-256 note signatures (signed-note type 0x02) as Rekor v1 logs make them:
//! [`EcdsaP256Verifier`].
//!
//! ```text
//! key ID    = SHA-256(DER SubjectPublicKeyInfo)[:4]     ; NOT the name-based key ID
//! log ID    = SHA-256(DER SubjectPublicKeyInfo)         ; Rekor v1 logId.keyId
//! signature = ASN.1 DER ECDSA-P256(SHA-256(note text))
//! ```
//!
//! Only verification is offered: signing ECDSA needs randomness, which this crate does not
//! reach for, and Cairn's own logs sign with Ed25519.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::{Format, NoteError};
use crate::name::KeyName;
use crate::note::NoteVerifier;

/// The DER prefix of every P-256 SubjectPublicKeyInfo holding an uncompressed point:
/// SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID prime256v1 }, BIT STRING (66 bytes, 0 unused
/// bits) }. The 65-byte point (0x04 || X || Y) follows.
pub const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The length of an uncompressed P-256 point: 0x04 || X || Y.
const P256_POINT_LEN: usize = 65;

/// Returns the DER SubjectPublicKeyInfo for an uncompressed P-256 point (0x04 || X || Y), as
/// `ring` and most HSMs hand out public keys.
///
/// # Errors
/// [`NoteError::Malformed`] ([`Format::PublicKey`]) when `point` is not 65 bytes starting
/// with 0x04. The point is not checked to be on the curve here; verification fails if it is not.
pub fn p256_spki_from_point(point: &[u8]) -> Result<Vec<u8>, NoteError> {
    if point.len() != P256_POINT_LEN || point.first() != Some(&0x04) {
        return Err(NoteError::malformed(
            Format::PublicKey,
            "not an uncompressed P-256 point",
        ));
    }
    let mut der = Vec::with_capacity(P256_SPKI_PREFIX.len() + P256_POINT_LEN);
    der.extend_from_slice(&P256_SPKI_PREFIX);
    der.extend_from_slice(point);
    Ok(der)
}

/// Returns the ECDSA (type 0x02) key ID: the first four bytes of SHA-256(`spki_der`),
/// big-endian.
pub fn key_id_ecdsa(spki_der: &[u8]) -> u32 {
    let h = spki_log_id(spki_der);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// Returns SHA-256(`spki_der`): the log ID of a Rekor v1 log with this key.
pub fn spki_log_id(spki_der: &[u8]) -> [u8; 32] {
    Sha256::digest(spki_der).into()
}

/// The one place that calls the ECDSA backend, so it can be swapped (for the pure-Rust `p256`
/// crate, say) without touching anything else. `ring` hashes `msg` with SHA-256 itself and
/// rejects points off the curve and malformed DER.
fn p256_sha256_verify(point: &[u8], msg: &[u8], der_sig: &[u8]) -> bool {
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
        .verify(msg, der_sig)
        .is_ok()
}

/// Verifies ECDSA P-256 note signatures (type 0x02) from one key, as Rekor v1 checkpoints
/// carry them.
#[derive(Clone, PartialEq, Eq)]
pub struct EcdsaP256Verifier {
    name: KeyName,
    spki_der: Vec<u8>,
    key_id: u32,
}

impl EcdsaP256Verifier {
    /// Returns a verifier for the P-256 key in `spki_der` under `name` (for Rekor v1, the
    /// log's host name, such as `rekor.sigstore.dev`).
    ///
    /// Only the canonical encoding is accepted: [`P256_SPKI_PREFIX`] followed by an
    /// uncompressed point, 91 bytes in all, which is what Rekor and Sigstore trusted roots use.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] ([`Format::PublicKey`]) for any other encoding. Whether the
    /// point is on the curve is checked when verifying (every signature then fails).
    pub fn new(name: KeyName, spki_der: &[u8]) -> Result<EcdsaP256Verifier, NoteError> {
        let point = spki_der
            .strip_prefix(P256_SPKI_PREFIX.as_slice())
            .ok_or_else(|| {
                NoteError::malformed(Format::PublicKey, "not a P-256 SubjectPublicKeyInfo")
            })?;
        p256_spki_from_point(point)?;
        Ok(EcdsaP256Verifier {
            key_id: key_id_ecdsa(spki_der),
            name,
            spki_der: spki_der.to_vec(),
        })
    }

    /// Returns the public key as DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Returns SHA-256 of the SubjectPublicKeyInfo, the Rekor v1 log ID.
    pub fn log_id(&self) -> [u8; 32] {
        spki_log_id(&self.spki_der)
    }

    fn point(&self) -> &[u8] {
        // new() checked the prefix, so this slice is the 65-byte point; get() keeps it
        // panic-free regardless.
        self.spki_der
            .get(P256_SPKI_PREFIX.len()..)
            .unwrap_or_default()
    }
}

impl NoteVerifier for EcdsaP256Verifier {
    fn name(&self) -> &KeyName {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        p256_sha256_verify(self.point(), msg, sig)
    }
}

impl fmt::Debug for EcdsaP256Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdsaP256Verifier")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spki_shape() {
        let point = [4u8; 65];
        let der = p256_spki_from_point(&point).unwrap();
        assert_eq!(der.len(), 91);
        let v = EcdsaP256Verifier::new("k".parse().unwrap(), &der).unwrap();
        assert_eq!(v.point(), point);
        assert_eq!(v.key_id(), key_id_ecdsa(&der));
        // Garbage points fail to verify rather than panic.
        assert!(!v.verify(b"msg\n", b"\x30\x00"));
        for bad in [&der[..90], &der[1..], &[der.as_slice(), &[0]].concat()[..]] {
            assert!(EcdsaP256Verifier::new("k".parse().unwrap(), bad).is_err());
        }
        let mut compressed = der.clone();
        compressed[26] = 2;
        assert!(EcdsaP256Verifier::new("k".parse().unwrap(), &compressed).is_err());
    }
}
