//! Typed mirrors of the small protobuf messages shared by requests and logged entries
//! (`proto/rekor/v2/verifier.proto`, and `HashOutput` from `sigstore_common.proto`).
//!
//! These hold decoded values (bytes, not base64; enums, not names). Which JSON spelling they
//! come from or go to is decided by [`crate::request`] (protobuf JSON mapping) and
//! [`crate::body`] (canonical log entry).

use crate::algorithms::{HashAlgorithm, PublicKeyDetails};

/// `dev.sigstore.common.v1.HashOutput`: a digest and the hash that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HashOutput {
    /// The hash algorithm.
    pub algorithm: HashAlgorithm,
    /// The raw digest bytes.
    pub digest: Vec<u8>,
}

/// `dev.sigstore.rekor.v2.Signature`: a signature with the verifier needed to check it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    /// The raw signature bytes (ASN.1 DER for ECDSA, 64 bytes for Ed25519).
    pub content: Vec<u8>,
    /// The key or certificate that verifies it.
    pub verifier: Verifier,
}

/// `dev.sigstore.rekor.v2.Verifier`: a public key or certificate plus its key type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Verifier {
    /// The `verifier` oneof.
    pub key: VerifierKey,
    /// Key encoding and signature algorithm (`key_details`).
    pub key_details: PublicKeyDetails,
}

/// The `verifier` oneof of `dev.sigstore.rekor.v2.Verifier`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VerifierKey {
    /// `public_key`: DER SubjectPublicKeyInfo (`PublicKey.raw_bytes`).
    PublicKey {
        /// DER SubjectPublicKeyInfo.
        raw_bytes: Vec<u8>,
    },
    /// `x509_certificate`: a DER X.509 certificate (`X509Certificate.raw_bytes`).
    X509Certificate {
        /// DER certificate.
        raw_bytes: Vec<u8>,
    },
}

impl VerifierKey {
    /// Returns the DER bytes, whichever the variant.
    pub fn raw_bytes(&self) -> &[u8] {
        match self {
            Self::PublicKey { raw_bytes } | Self::X509Certificate { raw_bytes } => raw_bytes,
        }
    }
}
