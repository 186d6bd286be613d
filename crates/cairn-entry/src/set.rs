//! Signed entry timestamps (SET, `inclusionPromise.signedEntryTimestamp`): the log's
//! signature over RFC 8785 canonical JSON of
//!
//! ```text
//! {"body":"<base64 canonicalizedBody>","integratedTime":<int>,"logID":"<hex log ID>","logIndex":<int>}
//! ```
//!
//! as defined by Rekor v1 (sigstore/rekor `pkg/api/entries.go`, verified by sigstore-go
//! `VerifySET` and sigstore-js `verifyTLogSET`). An Ed25519 log key signs the payload bytes
//! directly; an ECDSA P-256 log key (Rekor v1) signs their SHA-256, DER-encoded.
//!
//! Rekor v2 no longer issues SETs, but sigstore-js needs one (or an RFC 3161 timestamp) to
//! verify a bundle, so this log issues them with its Ed25519 key.

use std::fmt;

use aws_lc_rs::signature::ParsedPublicKey;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use crate::algorithms::PublicKeyDetails;
use crate::b64;
use crate::canonical::Value;
use crate::crypto::der;
use crate::crypto::verify::{ed25519_spki_der, parse_ed25519_spki, parse_p256_spki};
use crate::error::EntryError;

/// Returns the SET payload: canonical JSON of the body (base64), integration time (Unix
/// seconds), log ID (lower-case hex) and log index.
pub fn set_payload(
    body: &[u8],
    integrated_time: i64,
    log_id: &[u8; 32],
    log_index: u64,
) -> Vec<u8> {
    Value::obj([
        ("body", Value::str(b64::encode(body))),
        ("integratedTime", Value::Int(i128::from(integrated_time))),
        ("logID", Value::str(hex::encode(log_id))),
        ("logIndex", Value::Int(i128::from(log_index))),
    ])
    .to_bytes()
}

/// Returns the Ed25519 signature (64 bytes) of `key` over `payload` (from [`set_payload`]).
pub fn sign_set(key: &SigningKey, payload: &[u8]) -> Vec<u8> {
    key.sign(payload).to_bytes().to_vec()
}

/// The log's SET signer: the very bytes [`sign_set`] makes (Ed25519 signatures are
/// deterministic), made with aws-lc-rs, which signs in 13.7 µs here against ed25519-dalek's
/// 32.0 µs (`cargo bench -p cairn-entry --bench verify`). The log signs one SET per answer,
/// so this is a per-entry cost of the write path.
pub struct SetSigner {
    pair: aws_lc_rs::signature::Ed25519KeyPair,
}

impl SetSigner {
    /// Builds the signer for `key`.
    ///
    /// # Errors
    /// [`EntryError::InvalidPrivateKey`] if aws-lc-rs derives another public key from the
    /// seed than ed25519-dalek does (it never should; checked so that it cannot go unseen).
    pub fn new(key: &SigningKey) -> Result<SetSigner, EntryError> {
        let invalid = |reason: &str| EntryError::InvalidPrivateKey {
            reason: reason.to_string(),
        };
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(key.as_bytes())
            .map_err(|_| invalid("aws-lc-rs refused the Ed25519 seed"))?;
        use aws_lc_rs::signature::KeyPair as _;
        if pair.public_key().as_ref() != key.verifying_key().as_bytes() {
            return Err(invalid("aws-lc-rs derived another public key"));
        }
        Ok(SetSigner { pair })
    }

    /// Returns the SET over `payload`: what [`sign_set`] returns for the same key.
    pub fn sign(&self, payload: &[u8]) -> Vec<u8> {
        self.pair.sign(payload).as_ref().to_vec()
    }
}

#[derive(Clone)]
enum Inner {
    Ed25519(VerifyingKey),
    EcdsaP256(ParsedPublicKey),
}

/// A transparency log's public key, as a trusted root lists it, for verifying SETs.
#[derive(Clone)]
pub struct LogKey {
    spki_der: Vec<u8>,
    inner: Inner,
}

impl LogKey {
    /// Returns the log key for an Ed25519 verifying key.
    pub fn ed25519(key: VerifyingKey) -> Self {
        Self {
            spki_der: ed25519_spki_der(&key),
            inner: Inner::Ed25519(key),
        }
    }

    /// Parses a trusted root's `publicKey`: `rawBytes` (DER SubjectPublicKeyInfo) with
    /// `keyDetails` `PKIX_ED25519` or `PKIX_ECDSA_P256_SHA_256`.
    ///
    /// # Errors
    /// [`EntryError::UnsupportedKeyDetails`] for other key types, and the key parsing errors
    /// of [`crate::SignerKey::from_spki_der`].
    pub fn from_spki_der(
        key_details: PublicKeyDetails,
        spki_der: &[u8],
    ) -> Result<Self, EntryError> {
        let inner = match key_details {
            PublicKeyDetails::PkixEd25519 => {
                Inner::Ed25519(parse_ed25519_spki(spki_der, key_details, "log public key")?)
            }
            PublicKeyDetails::PkixEcdsaP256Sha256 => {
                Inner::EcdsaP256(parse_p256_spki(spki_der, key_details, "log public key")?)
            }
            other => return Err(EntryError::UnsupportedKeyDetails(other)),
        };
        Ok(Self {
            spki_der: spki_der.to_vec(),
            inner,
        })
    }

    /// Returns the key's `PublicKeyDetails`.
    pub fn key_details(&self) -> PublicKeyDetails {
        match self.inner {
            Inner::Ed25519(_) => PublicKeyDetails::PkixEd25519,
            Inner::EcdsaP256(_) => PublicKeyDetails::PkixEcdsaP256Sha256,
        }
    }

    /// Returns the DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Verifies a SET over `payload` (from [`set_payload`]).
    ///
    /// # Errors
    /// [`EntryError::MalformedSignature`] if `set` cannot be a signature of the key's type,
    /// [`EntryError::SetMismatch`] if it does not verify.
    pub fn verify_set(&self, payload: &[u8], set: &[u8]) -> Result<(), EntryError> {
        match &self.inner {
            Inner::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(set).map_err(|e| {
                    EntryError::MalformedSignature {
                        algorithm: "Ed25519 (64-byte)",
                        reason: e.to_string(),
                    }
                })?;
                key.verify_strict(payload, &sig)
                    .map_err(|_| EntryError::SetMismatch)
            }
            Inner::EcdsaP256(key) => {
                der::check_ecdsa_signature(set, 32).map_err(|reason| {
                    EntryError::MalformedSignature {
                        algorithm: "ECDSA P-256 (ASN.1 DER)",
                        reason: reason.into(),
                    }
                })?;
                key.verify_sig(payload, set)
                    .map_err(|_| EntryError::SetMismatch)
            }
        }
    }
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogKey")
            .field("key_details", &self.key_details())
            .field("spki_der", &hex::encode(&self.spki_der))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_shape() {
        let payload = set_payload(b"{}", 1_700_000_000, &[0xab; 32], 7);
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            format!(
                r#"{{"body":"e30=","integratedTime":1700000000,"logID":"{}","logIndex":7}}"#,
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn the_aws_lc_signer_makes_the_same_sets_as_dalek() {
        for seed in 0..64u8 {
            let sk = SigningKey::from_bytes(&[seed.wrapping_mul(37) ^ 0x5a; 32]);
            let signer = SetSigner::new(&sk).unwrap();
            for index in [0, 1, 255, 1 << 40] {
                let body = vec![seed; usize::from(seed) * 7];
                let payload =
                    set_payload(&body, 1_700_000_000 + i64::from(seed), &[seed; 32], index);
                assert_eq!(signer.sign(&payload), sign_set(&sk, &payload));
            }
        }
    }

    #[test]
    fn ed25519_sign_verify() {
        let sk = SigningKey::from_bytes(&[5; 32]);
        let key = LogKey::ed25519(sk.verifying_key());
        let payload = set_payload(b"body", 1, &[1; 32], 2);
        let set = sign_set(&sk, &payload);
        key.verify_set(&payload, &set).unwrap();
        let other = set_payload(b"body", 1, &[1; 32], 3);
        assert_eq!(key.verify_set(&other, &set), Err(EntryError::SetMismatch));
        let parsed = LogKey::from_spki_der(PublicKeyDetails::PkixEd25519, key.spki_der()).unwrap();
        parsed.verify_set(&payload, &set).unwrap();
        assert!(matches!(
            key.verify_set(&payload, &set[1..]),
            Err(EntryError::MalformedSignature { .. })
        ));
    }
}
