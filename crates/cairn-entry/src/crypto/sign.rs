//! Client side, kept apart from the verification code the log runs: signer key pairs,
//! generated from a caller-supplied RNG or read from PKCS#8, that sign a digest.
//!
//! ECDSA P-256 signing uses the pure-Rust `p256` crate with RFC 6979 deterministic nonces, so
//! signing needs no randomness at all and this crate never reaches the OS RNG; only key
//! generation takes an RNG, from the caller (`rand_core::OsRng` at the edge). Ed25519ph is
//! deterministic by construction (RFC 8032).

use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use p256::ecdsa::signature::hazmat::PrehashSigner as _;
use p256::pkcs8::EncodePublicKey as _;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::crypto::der::{self, oid};
use crate::crypto::prehash::PrehashedSha512;
use crate::crypto::verify::{ed25519_spki_der, SignerAlgorithm, SignerKey};
use crate::error::EntryError;

#[derive(Clone)]
enum Inner {
    EcdsaP256(p256::ecdsa::SigningKey),
    Ed25519Ph(ed25519_dalek::SigningKey),
}

/// A signer's private key for one of the accepted algorithms, for the signing client.
#[derive(Clone)]
pub struct SignerKeyPair {
    inner: Inner,
}

impl SignerKeyPair {
    /// Generates a new key pair for `algorithm` from `rng` (pass `rand_core::OsRng` at the
    /// edge; tests pass a seeded RNG).
    pub fn generate(algorithm: SignerAlgorithm, rng: &mut impl CryptoRngCore) -> Self {
        let inner = match algorithm {
            SignerAlgorithm::EcdsaP256Sha256 => {
                Inner::EcdsaP256(p256::ecdsa::SigningKey::random(rng))
            }
            SignerAlgorithm::Ed25519Ph => {
                Inner::Ed25519Ph(ed25519_dalek::SigningKey::generate(rng))
            }
        };
        Self { inner }
    }

    /// Reads a PKCS#8 (RFC 5208 / RFC 5958) DER private key: an EC P-256 key, or an Ed25519
    /// key (used as Ed25519ph).
    ///
    /// # Errors
    /// [`EntryError::InvalidPrivateKey`] for malformed DER or any other key type.
    pub fn from_pkcs8_der(der_bytes: &[u8]) -> Result<Self, EntryError> {
        let invalid = |reason: String| EntryError::InvalidPrivateKey { reason };
        let (algorithm, curve) = pkcs8_algorithm(der_bytes).map_err(|r| invalid(r.into()))?;
        let inner = match (algorithm, curve) {
            (oid::EC_PUBLIC_KEY, Some(oid::P256)) => Inner::EcdsaP256(
                p256::ecdsa::SigningKey::from_pkcs8_der(der_bytes)
                    .map_err(|e| invalid(e.to_string()))?,
            ),
            (oid::ED25519, None) => Inner::Ed25519Ph(
                ed25519_dalek::SigningKey::from_pkcs8_der(der_bytes)
                    .map_err(|e| invalid(e.to_string()))?,
            ),
            _ => {
                return Err(invalid(
                    "only EC P-256 and Ed25519 private keys are supported".into(),
                ))
            }
        };
        Ok(Self { inner })
    }

    /// Returns the private key as PKCS#8 DER (v1 for P-256, v2 with the public key for
    /// Ed25519), in a buffer that is zeroed when dropped.
    ///
    /// # Errors
    /// [`EntryError::InvalidPrivateKey`] if the encoder fails (it does not for valid keys).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, EntryError> {
        let doc = match &self.inner {
            Inner::EcdsaP256(k) => k.to_pkcs8_der(),
            Inner::Ed25519Ph(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| EntryError::InvalidPrivateKey {
            reason: e.to_string(),
        })?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Reads a PEM `PRIVATE KEY` (PKCS#8) block, as [`SignerKeyPair::from_pkcs8_der`].
    ///
    /// # Errors
    /// [`EntryError::InvalidPrivateKey`] for bad PEM, another label, or a bad key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, EntryError> {
        let (label, doc) = p256::pkcs8::der::SecretDocument::from_pem(pem).map_err(|e| {
            EntryError::InvalidPrivateKey {
                reason: format!("PEM: {e}"),
            }
        })?;
        if label != "PRIVATE KEY" {
            return Err(EntryError::InvalidPrivateKey {
                reason: format!("PEM label is {label:?}, expected \"PRIVATE KEY\" (PKCS#8)"),
            });
        }
        Self::from_pkcs8_der(doc.as_bytes())
    }

    /// Returns the private key as a PEM `PRIVATE KEY` (PKCS#8) block with LF line endings, in
    /// a string that is zeroed when dropped.
    ///
    /// # Errors
    /// [`EntryError::InvalidPrivateKey`] if the encoder fails (it does not for valid keys).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, EntryError> {
        let der = self.to_pkcs8_der()?;
        p256::pkcs8::der::SecretDocument::try_from(der.as_slice())
            .and_then(|doc| doc.to_pem("PRIVATE KEY", p256::pkcs8::der::pem::LineEnding::LF))
            .map_err(|e| EntryError::InvalidPrivateKey {
                reason: e.to_string(),
            })
    }

    /// Returns the key pair's algorithm.
    pub fn algorithm(&self) -> SignerAlgorithm {
        match self.inner {
            Inner::EcdsaP256(_) => SignerAlgorithm::EcdsaP256Sha256,
            Inner::Ed25519Ph(_) => SignerAlgorithm::Ed25519Ph,
        }
    }

    /// Returns the public key as DER SubjectPublicKeyInfo (what goes in
    /// `verifier.publicKey.rawBytes`).
    pub fn public_spki_der(&self) -> Vec<u8> {
        match &self.inner {
            // Encoding a valid P-256 point cannot fail; fall back to the fixed-prefix form
            // rather than panic if the encoder ever disagreed.
            Inner::EcdsaP256(k) => k
                .verifying_key()
                .to_public_key_der()
                .map(|d| d.into_vec())
                .unwrap_or_else(|_| {
                    let mut out = P256_SPKI_PREFIX.to_vec();
                    out.extend_from_slice(k.verifying_key().to_encoded_point(false).as_bytes());
                    out
                }),
            Inner::Ed25519Ph(k) => ed25519_spki_der(&k.verifying_key()),
        }
    }

    /// Returns the public half as a [`SignerKey`].
    ///
    /// # Errors
    /// Only if our own public key fails to parse, which would be a bug.
    pub fn signer_key(&self) -> Result<SignerKey, EntryError> {
        SignerKey::from_spki_der(self.algorithm(), &self.public_spki_der())
    }

    /// Signs a prehashed `digest` (SHA-256 for ECDSA P-256, returning an ASN.1 DER
    /// signature; SHA-512 for Ed25519ph, returning 64 bytes).
    ///
    /// # Errors
    /// [`EntryError::DigestLength`] if the digest length does not match the algorithm.
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, EntryError> {
        self.algorithm().check_digest_len(digest)?;
        match &self.inner {
            Inner::EcdsaP256(k) => {
                let sig: p256::ecdsa::Signature =
                    k.sign_prehash(digest)
                        .map_err(|e| EntryError::MalformedSignature {
                            algorithm: "ECDSA P-256 (ASN.1 DER)",
                            reason: e.to_string(),
                        })?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Inner::Ed25519Ph(k) => {
                let digest: [u8; 64] =
                    digest
                        .try_into()
                        .map_err(|_| EntryError::MalformedSignature {
                            algorithm: "Ed25519ph (64-byte)",
                            reason: "digest must be 64 bytes".into(),
                        })?;
                let sig = k
                    .sign_prehashed(PrehashedSha512::new(digest), None)
                    .map_err(|e| EntryError::MalformedSignature {
                        algorithm: "Ed25519ph (64-byte)",
                        reason: e.to_string(),
                    })?;
                Ok(sig.to_bytes().to_vec())
            }
        }
    }
}

impl std::fmt::Debug for SignerKeyPair {
    /// Shows the algorithm and public key only, never the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerKeyPair")
            .field("algorithm", &self.algorithm())
            .field("public_spki_der", &hex::encode(self.public_spki_der()))
            .finish_non_exhaustive()
    }
}

const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Reads the algorithm OID (and curve OID, if any) of a PKCS#8 OneAsymmetricKey.
fn pkcs8_algorithm(der_bytes: &[u8]) -> Result<(&[u8], Option<&[u8]>), &'static str> {
    let seq = der::single(der_bytes, der::TAG_SEQUENCE, "not a DER SEQUENCE")?;
    let mut r = der::Reader::new(seq);
    r.expect(der::TAG_INTEGER, "version is not an INTEGER")?;
    let alg = r.expect(der::TAG_SEQUENCE, "privateKeyAlgorithm is not a SEQUENCE")?;
    let mut ar = der::Reader::new(alg);
    let algorithm = ar.expect(der::TAG_OID, "algorithm is not an OID")?;
    let curve = if ar.is_empty() {
        None
    } else {
        Some(ar.expect(der::TAG_OID, "parameters are not a named curve")?)
    };
    Ok((algorithm, curve))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Digest as _, Sha512};
    use rand_chacha::rand_core::SeedableRng;

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(7)
    }

    #[test]
    fn sign_then_verify_both_algorithms() {
        for alg in [SignerAlgorithm::EcdsaP256Sha256, SignerAlgorithm::Ed25519Ph] {
            let pair = SignerKeyPair::generate(alg, &mut rng());
            let digest = alg.digest(b"hello");
            let sig = pair.sign_digest(&digest).unwrap();
            pair.signer_key()
                .unwrap()
                .verify_digest(&digest, &sig)
                .unwrap();
            assert!(matches!(
                pair.sign_digest(&digest[1..]),
                Err(EntryError::DigestLength { .. })
            ));
        }
    }

    #[test]
    fn ed25519ph_matches_dalek_sign_prehashed() {
        let pair = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rng());
        let Inner::Ed25519Ph(sk) = &pair.inner else {
            panic!("wrong variant")
        };
        let msg = b"the artifact";
        let expected = sk
            .sign_prehashed(Sha512::new().chain_update(msg), None)
            .unwrap();
        let ours = pair
            .sign_digest(&SignerAlgorithm::Ed25519Ph.digest(msg))
            .unwrap();
        assert_eq!(ours, expected.to_bytes());
    }

    #[test]
    fn pkcs8_round_trip() {
        for alg in [SignerAlgorithm::EcdsaP256Sha256, SignerAlgorithm::Ed25519Ph] {
            let pair = SignerKeyPair::generate(alg, &mut rng());
            let der = pair.to_pkcs8_der().unwrap();
            let back = SignerKeyPair::from_pkcs8_der(&der).unwrap();
            assert_eq!(back.algorithm(), alg);
            assert_eq!(back.public_spki_der(), pair.public_spki_der());
        }
        assert!(matches!(
            SignerKeyPair::from_pkcs8_der(b"\x30\x00"),
            Err(EntryError::InvalidPrivateKey { .. })
        ));
    }

    #[test]
    fn pkcs8_pem_round_trip() {
        for alg in [SignerAlgorithm::EcdsaP256Sha256, SignerAlgorithm::Ed25519Ph] {
            let pair = SignerKeyPair::generate(alg, &mut rng());
            let pem = pair.to_pkcs8_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            let back = SignerKeyPair::from_pkcs8_pem(&pem).unwrap();
            assert_eq!(back.public_spki_der(), pair.public_spki_der());
            let public = pair.signer_key().unwrap().to_spki_pem();
            let key = SignerKey::from_spki_pem(alg, &public).unwrap();
            assert_eq!(key.spki_der(), pair.public_spki_der());
        }
        let wrong = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(matches!(
            SignerKeyPair::from_pkcs8_pem(wrong),
            Err(EntryError::InvalidPrivateKey { .. })
        ));
    }

    #[test]
    fn ecdsa_signatures_are_deterministic_and_verify_with_aws_lc() {
        let pair = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng());
        let digest = SignerAlgorithm::EcdsaP256Sha256.digest(b"x");
        assert_eq!(
            pair.sign_digest(&digest).unwrap(),
            pair.sign_digest(&digest).unwrap()
        );
        // Cross-check against aws-lc-rs verifying the full message (it hashes itself).
        let sig = pair.sign_digest(&digest).unwrap();
        let key = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
            pair.public_spki_der(),
        );
        key.verify(b"x", &sig).unwrap();
    }

    #[test]
    fn debug_does_not_leak_the_private_key() {
        let pair = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rng());
        let Inner::Ed25519Ph(sk) = &pair.inner else {
            panic!("wrong variant")
        };
        let secret_hex = hex::encode(sk.to_bytes());
        assert!(!format!("{pair:?}").contains(&secret_hex));
    }
}
