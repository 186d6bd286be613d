//! Verification side: the signer keys the log accepts, parsed from DER SubjectPublicKeyInfo,
//! and signature checks over a digest the client computed (the log never sees the artifact).
//!
//! * ECDSA P-256 (`PKIX_ECDSA_P256_SHA_256`): ASN.1 DER signature over a 32-byte SHA-256
//!   digest, verified with aws-lc-rs `verify_digest_sig` (ring has no prehash API).
//! * Ed25519ph (`PKIX_ED25519_PH`, RFC 8032 §5.1, empty context): 64-byte signature over a
//!   64-byte SHA-512 digest, verified with ed25519-dalek `verify_prehashed_strict` (rejects
//!   small-order keys and R, and non-canonical S).

use std::fmt;

use aws_lc_rs::signature::{ParsedPublicKey, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use ed25519_dalek::VerifyingKey;

use crate::algorithms::{HashAlgorithm, PublicKeyDetails};
use crate::crypto::der::{self, oid};
use crate::crypto::prehash::PrehashedSha512;
use crate::error::EntryError;

/// The signer algorithms this log accepts for hashedrekord entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignerAlgorithm {
    /// ECDSA on P-256 over a SHA-256 digest (`PKIX_ECDSA_P256_SHA_256`).
    EcdsaP256Sha256,
    /// Ed25519ph over a SHA-512 digest (`PKIX_ED25519_PH`).
    Ed25519Ph,
}

impl SignerAlgorithm {
    /// Returns the protobuf `PublicKeyDetails` value naming this algorithm.
    pub fn key_details(self) -> PublicKeyDetails {
        match self {
            Self::EcdsaP256Sha256 => PublicKeyDetails::PkixEcdsaP256Sha256,
            Self::Ed25519Ph => PublicKeyDetails::PkixEd25519Ph,
        }
    }

    /// Returns the algorithm for `key_details`.
    ///
    /// # Errors
    /// [`EntryError::UnsupportedKeyDetails`] for any key type but the two this log accepts.
    pub fn from_key_details(key_details: PublicKeyDetails) -> Result<Self, EntryError> {
        match key_details {
            PublicKeyDetails::PkixEcdsaP256Sha256 => Ok(Self::EcdsaP256Sha256),
            PublicKeyDetails::PkixEd25519Ph => Ok(Self::Ed25519Ph),
            other => Err(EntryError::UnsupportedKeyDetails(other)),
        }
    }

    /// Returns the hash whose digest this algorithm signs.
    pub fn hash_algorithm(self) -> HashAlgorithm {
        match self {
            Self::EcdsaP256Sha256 => HashAlgorithm::Sha2_256,
            Self::Ed25519Ph => HashAlgorithm::Sha2_512,
        }
    }

    /// Returns the digest length in bytes (32 for SHA-256, 64 for SHA-512).
    pub fn digest_len(self) -> usize {
        self.hash_algorithm().output_len()
    }

    /// Returns the digest of `artifact` that this algorithm signs (for clients; the log never
    /// sees artifacts).
    pub fn digest(self, artifact: &[u8]) -> Vec<u8> {
        use sha2::Digest as _;
        match self {
            Self::EcdsaP256Sha256 => sha2::Sha256::digest(artifact).to_vec(),
            Self::Ed25519Ph => sha2::Sha512::digest(artifact).to_vec(),
        }
    }

    /// Checks that `digest` has this algorithm's digest length.
    ///
    /// # Errors
    /// [`EntryError::DigestLength`] when it does not.
    pub fn check_digest_len(self, digest: &[u8]) -> Result<(), EntryError> {
        let expected = self.digest_len();
        if digest.len() == expected {
            Ok(())
        } else {
            Err(EntryError::DigestLength {
                key_details: self.key_details(),
                algorithm: self.hash_algorithm(),
                expected,
                actual: digest.len(),
            })
        }
    }

    pub(crate) fn signature_name(self) -> &'static str {
        match self {
            Self::EcdsaP256Sha256 => "ECDSA P-256 (ASN.1 DER)",
            Self::Ed25519Ph => "Ed25519ph (64-byte)",
        }
    }
}

impl fmt::Display for SignerAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key_details().name())
    }
}

#[derive(Clone)]
enum Inner {
    EcdsaP256(ParsedPublicKey),
    Ed25519(VerifyingKey),
}

/// A signer's public key of an accepted algorithm, parsed once from its DER
/// SubjectPublicKeyInfo and ready to verify signatures over digests.
///
/// A value exists only if the DER is canonical and of the stated algorithm, the point is on
/// the curve, and (Ed25519) the key is not of small order.
#[derive(Clone)]
pub struct SignerKey {
    algorithm: SignerAlgorithm,
    spki_der: Vec<u8>,
    inner: Inner,
}

impl SignerKey {
    /// Parses `spki_der` as a public key for `algorithm`.
    ///
    /// # Errors
    /// [`EntryError::InvalidPublicKey`] if the DER is malformed or the key invalid;
    /// [`EntryError::KeyAlgorithmMismatch`] if it is a well-formed key of another algorithm.
    pub fn from_spki_der(algorithm: SignerAlgorithm, spki_der: &[u8]) -> Result<Self, EntryError> {
        Self::parse(algorithm, spki_der, "public key")
    }

    pub(crate) fn parse(
        algorithm: SignerAlgorithm,
        spki_der: &[u8],
        field: &'static str,
    ) -> Result<Self, EntryError> {
        let inner = match algorithm {
            SignerAlgorithm::EcdsaP256Sha256 => {
                Inner::EcdsaP256(parse_p256_spki(spki_der, algorithm.key_details(), field)?)
            }
            SignerAlgorithm::Ed25519Ph => Inner::Ed25519(parse_ed25519_spki(
                spki_der,
                algorithm.key_details(),
                field,
            )?),
        };
        Ok(Self {
            algorithm,
            spki_der: spki_der.to_vec(),
            inner,
        })
    }

    /// Parses a PEM `PUBLIC KEY` block (DER SubjectPublicKeyInfo, the `key.pub` files cosign
    /// and sigstore write) as a public key for `algorithm`.
    ///
    /// # Errors
    /// [`EntryError::InvalidPublicKey`] for bad PEM or another label, and the errors of
    /// [`SignerKey::from_spki_der`].
    pub fn from_spki_pem(algorithm: SignerAlgorithm, pem: &str) -> Result<Self, EntryError> {
        let invalid = |reason: String| EntryError::InvalidPublicKey {
            field: "public key",
            reason,
        };
        let (label, doc) =
            p256::pkcs8::der::Document::from_pem(pem).map_err(|e| invalid(format!("PEM: {e}")))?;
        if label != "PUBLIC KEY" {
            return Err(invalid(format!(
                "PEM label is {label:?}, expected \"PUBLIC KEY\""
            )));
        }
        Self::from_spki_der(algorithm, doc.as_bytes())
    }

    /// Returns the key as a PEM `PUBLIC KEY` block with LF line endings.
    pub fn to_spki_pem(&self) -> String {
        let body = crate::b64::encode(&self.spki_der);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        // RFC 7468 §2: base64 lines of exactly 64 characters but the last.
        for line in body.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        out
    }

    /// Returns the key's algorithm.
    pub fn algorithm(&self) -> SignerAlgorithm {
        self.algorithm
    }

    /// Returns the `PublicKeyDetails` value for this key.
    pub fn key_details(&self) -> PublicKeyDetails {
        self.algorithm.key_details()
    }

    /// Returns the hash whose digest this key's signatures cover.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.algorithm.hash_algorithm()
    }

    /// Returns the DER SubjectPublicKeyInfo the key was parsed from.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Verifies `signature` over the prehashed `digest` (SHA-256 for ECDSA P-256, SHA-512 for
    /// Ed25519ph).
    ///
    /// # Errors
    /// [`EntryError::DigestLength`] if the digest has the wrong length;
    /// [`EntryError::MalformedSignature`] if the signature cannot be one of this algorithm
    /// (not DER, wrong length); [`EntryError::SignatureMismatch`] if it does not verify.
    pub fn verify_digest(&self, digest: &[u8], signature: &[u8]) -> Result<(), EntryError> {
        self.algorithm.check_digest_len(digest)?;
        check_signature_shape(self.algorithm, signature)?;
        match &self.inner {
            Inner::EcdsaP256(key) => {
                let digest =
                    aws_lc_rs::digest::Digest::import_less_safe(digest, &aws_lc_rs::digest::SHA256)
                        .map_err(|_| EntryError::SignatureMismatch)?;
                key.verify_digest_sig(&digest, signature)
                    .map_err(|_| EntryError::SignatureMismatch)
            }
            Inner::Ed25519(key) => {
                let digest: [u8; 64] = digest
                    .try_into()
                    .map_err(|_| EntryError::SignatureMismatch)?;
                let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|e| {
                    EntryError::MalformedSignature {
                        algorithm: self.algorithm.signature_name(),
                        reason: e.to_string(),
                    }
                })?;
                key.verify_prehashed_strict(PrehashedSha512::new(digest), None, &signature)
                    .map_err(|_| EntryError::SignatureMismatch)
            }
        }
    }
}

impl PartialEq for SignerKey {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm && self.spki_der == other.spki_der
    }
}

impl Eq for SignerKey {}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerKey")
            .field("algorithm", &self.algorithm)
            .field("spki_der", &hex::encode(&self.spki_der))
            .finish()
    }
}

/// Checks the encoding of a signature before any curve arithmetic.
pub(crate) fn check_signature_shape(
    algorithm: SignerAlgorithm,
    signature: &[u8],
) -> Result<(), EntryError> {
    let result = match algorithm {
        SignerAlgorithm::EcdsaP256Sha256 => der::check_ecdsa_signature(signature, 32),
        SignerAlgorithm::Ed25519Ph if signature.len() == 64 => Ok(()),
        SignerAlgorithm::Ed25519Ph => Err("must be exactly 64 bytes"),
    };
    result.map_err(|reason| EntryError::MalformedSignature {
        algorithm: algorithm.signature_name(),
        reason: reason.into(),
    })
}

/// Parses a DER SubjectPublicKeyInfo that must hold an uncompressed P-256 point.
pub(crate) fn parse_p256_spki(
    der_bytes: &[u8],
    key_details: PublicKeyDetails,
    field: &'static str,
) -> Result<ParsedPublicKey, EntryError> {
    let invalid = |reason: &str| EntryError::InvalidPublicKey {
        field,
        reason: reason.into(),
    };
    let spki = der::parse_spki(der_bytes).map_err(invalid)?;
    if spki.algorithm != oid::EC_PUBLIC_KEY || spki.parameters_oid != Some(oid::P256) {
        return Err(EntryError::KeyAlgorithmMismatch {
            key_details,
            actual: der::describe(&spki),
        });
    }
    // Go's x509.ParsePKIXPublicKey (what Rekor runs) accepts only uncompressed points here.
    match spki.key {
        [0x04, rest @ ..] if rest.len() == 64 => {}
        _ => return Err(invalid("P-256 point must be 65 bytes, uncompressed (0x04)")),
    }
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki.key)
        .parse()
        .map_err(|_| invalid("point is not on the P-256 curve"))
}

/// Parses a DER SubjectPublicKeyInfo (RFC 8410) that must hold an Ed25519 key.
pub(crate) fn parse_ed25519_spki(
    der_bytes: &[u8],
    key_details: PublicKeyDetails,
    field: &'static str,
) -> Result<VerifyingKey, EntryError> {
    let invalid = |reason: &str| EntryError::InvalidPublicKey {
        field,
        reason: reason.into(),
    };
    let spki = der::parse_spki(der_bytes).map_err(invalid)?;
    if spki.algorithm != oid::ED25519 {
        return Err(EntryError::KeyAlgorithmMismatch {
            key_details,
            actual: der::describe(&spki),
        });
    }
    if spki.has_parameters {
        return Err(invalid(
            "Ed25519 algorithm parameters must be absent (RFC 8410)",
        ));
    }
    let bytes: [u8; 32] = spki
        .key
        .try_into()
        .map_err(|_| invalid("Ed25519 key must be 32 bytes"))?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| invalid("not a valid Ed25519 point"))?;
    if key.is_weak() {
        return Err(invalid("Ed25519 key of small order"));
    }
    Ok(key)
}

/// Returns the RFC 8410 DER SubjectPublicKeyInfo of an Ed25519 key.
pub(crate) fn ed25519_spki_der(key: &VerifyingKey) -> Vec<u8> {
    const PREFIX: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let mut out = Vec::with_capacity(44);
    out.extend_from_slice(&PREFIX);
    out.extend_from_slice(key.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Digest as _, Sha512, SigningKey};
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use p256::pkcs8::EncodePublicKey;

    fn p256_fixture() -> (p256::ecdsa::SigningKey, Vec<u8>) {
        let sk = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
        let spki = sk.verifying_key().to_public_key_der().unwrap().into_vec();
        (sk, spki)
    }

    #[test]
    fn ecdsa_p256_prehash_round_trip() {
        let (sk, spki) = p256_fixture();
        let key = SignerKey::from_spki_der(SignerAlgorithm::EcdsaP256Sha256, &spki).unwrap();
        let digest = SignerAlgorithm::EcdsaP256Sha256.digest(b"artifact");
        let sig: p256::ecdsa::Signature = sk.sign_prehash(&digest).unwrap();
        let der = sig.to_der();
        key.verify_digest(&digest, der.as_bytes()).unwrap();

        let mut other = digest.clone();
        other[0] ^= 1;
        assert_eq!(
            key.verify_digest(&other, der.as_bytes()),
            Err(EntryError::SignatureMismatch)
        );
        assert!(matches!(
            key.verify_digest(&digest[..31], der.as_bytes()),
            Err(EntryError::DigestLength {
                expected: 32,
                actual: 31,
                ..
            })
        ));
        assert!(matches!(
            key.verify_digest(&digest, &der.as_bytes()[1..]),
            Err(EntryError::MalformedSignature { .. })
        ));
    }

    #[test]
    fn ed25519ph_round_trip() {
        let sk = SigningKey::from_bytes(&[3; 32]);
        let spki = ed25519_spki_der(&sk.verifying_key());
        let key = SignerKey::from_spki_der(SignerAlgorithm::Ed25519Ph, &spki).unwrap();
        let msg = b"artifact";
        let sig = sk
            .sign_prehashed(Sha512::new().chain_update(msg), None)
            .unwrap();
        let digest = SignerAlgorithm::Ed25519Ph.digest(msg);
        key.verify_digest(&digest, &sig.to_bytes()).unwrap();
        let mut bad = sig.to_bytes();
        bad[5] ^= 1;
        assert_eq!(
            key.verify_digest(&digest, &bad),
            Err(EntryError::SignatureMismatch)
        );
        // A pure Ed25519 signature over the same bytes is not an Ed25519ph signature.
        let pure = ed25519_dalek::Signer::sign(&sk, &digest);
        assert_eq!(
            key.verify_digest(&digest, &pure.to_bytes()),
            Err(EntryError::SignatureMismatch)
        );
    }

    #[test]
    fn algorithm_mismatch_is_named() {
        let (_, p256_spki) = p256_fixture();
        let err = SignerKey::from_spki_der(SignerAlgorithm::Ed25519Ph, &p256_spki).unwrap_err();
        assert_eq!(
            err,
            EntryError::KeyAlgorithmMismatch {
                key_details: PublicKeyDetails::PkixEd25519Ph,
                actual: "an ECDSA P-256 key".into()
            }
        );
        let ed = ed25519_spki_der(&SigningKey::from_bytes(&[3; 32]).verifying_key());
        assert!(matches!(
            SignerKey::from_spki_der(SignerAlgorithm::EcdsaP256Sha256, &ed),
            Err(EntryError::KeyAlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn off_curve_and_compressed_points_are_rejected() {
        let (_, mut spki) = p256_fixture();
        let last = spki.len() - 1;
        spki[last] ^= 1;
        assert!(matches!(
            SignerKey::from_spki_der(SignerAlgorithm::EcdsaP256Sha256, &spki),
            Err(EntryError::InvalidPublicKey { .. })
        ));
        let (sk, _) = p256_fixture();
        let compressed = sk
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec();
        let mut der = hex::decode("3039301306072a8648ce3d020106082a8648ce3d030107032200").unwrap();
        der.extend(compressed);
        assert!(matches!(
            SignerKey::from_spki_der(SignerAlgorithm::EcdsaP256Sha256, &der),
            Err(EntryError::InvalidPublicKey { .. })
        ));
    }

    #[test]
    fn small_order_ed25519_key_is_rejected() {
        // The identity point (y = 1) has small order.
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        let key = VerifyingKey::from_bytes(&bytes).unwrap();
        assert!(matches!(
            SignerKey::from_spki_der(SignerAlgorithm::Ed25519Ph, &ed25519_spki_der(&key)),
            Err(EntryError::InvalidPublicKey { .. })
        ));
    }
}
