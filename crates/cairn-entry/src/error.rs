//! The crate's one error type.

use crate::algorithms::{HashAlgorithm, PublicKeyDetails};

/// What went wrong while parsing, validating, building or verifying an entry.
///
/// The `Display` text names the offending field by its JSON path
/// (`hashedRekordRequestV002.signature.content`) and says what was expected, so a server can
/// return it verbatim to the client. Verification failures ([`EntryError::SignatureMismatch`],
/// [`EntryError::SetMismatch`]) are their own variants, apart from malformed input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The input is larger than the format allows.
    #[error("input is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit that applies.
        limit: usize,
    },

    /// The input is not JSON of the expected shape: a syntax error, an unknown or duplicated
    /// field, or a value of the wrong JSON type. The text is serde_json's, with position.
    #[error("invalid JSON: {0}")]
    Json(String),

    /// A required field is absent, null, or empty.
    #[error("{field}: required field is missing or empty")]
    Missing {
        /// JSON path of the field.
        field: &'static str,
    },

    /// A bytes field is not valid base64.
    #[error("{field}: invalid base64 ({reason})")]
    Base64 {
        /// JSON path of the field.
        field: &'static str,
        /// What the decoder objected to.
        reason: String,
    },

    /// A hex field is not lower-case hex of the right length.
    #[error("{field}: invalid hex ({reason})")]
    Hex {
        /// JSON path of the field.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },

    /// An enum field holds a name that is not one of the protobuf enum's value names
    /// (numbers are not accepted: their meaning has changed between protobuf-specs releases).
    #[error("{field}: unknown value {value:?}")]
    UnknownEnumValue {
        /// JSON path of the field.
        field: &'static str,
        /// The value as received (truncated to 64 characters).
        value: String,
    },

    /// An enum field holds a number; only value names are accepted.
    #[error("{field}: enum values must be given by name (e.g. \"PKIX_ECDSA_P256_SHA_256\"), not by number ({number})")]
    EnumByNumber {
        /// JSON path of the field.
        field: &'static str,
        /// The number received.
        number: String,
    },

    /// More than one member of a protobuf oneof is set.
    #[error("{field}: only one of {members} may be set")]
    OneofConflict {
        /// JSON path of the message holding the oneof.
        field: &'static str,
        /// The members, comma-separated.
        members: &'static str,
    },

    /// The request is for an entry type this log does not accept.
    #[error("{0} is not accepted by this log; send hashedRekordRequestV002")]
    UnsupportedRequestType(&'static str),

    /// The verifier is an X.509 certificate; this log accepts only public keys.
    #[error(
        "hashedRekordRequestV002.signature.verifier: x509Certificate is not accepted by this log; \
         send the signer's key as publicKey.rawBytes (DER SubjectPublicKeyInfo)"
    )]
    UnsupportedVerifier,

    /// The key type is valid Sigstore but not one this log accepts.
    #[error(
        "hashedRekordRequestV002.signature.verifier.keyDetails: {0} is not accepted by this log; \
         accepted: PKIX_ECDSA_P256_SHA_256, PKIX_ED25519_PH"
    )]
    UnsupportedKeyDetails(PublicKeyDetails),

    /// The digest does not have the length the key type's hash produces.
    #[error("digest is {actual} bytes; {key_details} signs a {expected}-byte {algorithm} digest")]
    DigestLength {
        /// The key type of the verifier.
        key_details: PublicKeyDetails,
        /// The hash that key type signs.
        algorithm: HashAlgorithm,
        /// The length that hash produces.
        expected: usize,
        /// The length received.
        actual: usize,
    },

    /// The public key bytes are not a DER SubjectPublicKeyInfo this crate can use.
    #[error("{field}: not a valid DER SubjectPublicKeyInfo ({reason})")]
    InvalidPublicKey {
        /// JSON path of the field (or `"public key"` outside a request).
        field: &'static str,
        /// What was wrong.
        reason: String,
    },

    /// The public key is well formed but of another algorithm than keyDetails names.
    #[error("public key is {actual} but keyDetails is {key_details}")]
    KeyAlgorithmMismatch {
        /// The key type the verifier claims.
        key_details: PublicKeyDetails,
        /// What the SubjectPublicKeyInfo actually holds.
        actual: String,
    },

    /// The signature bytes cannot be a signature of the key's algorithm (wrong length, not
    /// DER), before any verification is tried.
    #[error("signature is not a well-formed {algorithm} signature ({reason})")]
    MalformedSignature {
        /// The signature algorithm.
        algorithm: &'static str,
        /// What was wrong.
        reason: String,
    },

    /// The signature is well formed but does not verify over the digest with the given key.
    #[error("signature does not verify over the digest with the given public key")]
    SignatureMismatch,

    /// The signed entry timestamp does not verify with the log's key.
    #[error("signed entry timestamp does not verify with the log key")]
    SetMismatch,

    /// A logged entry body is valid JSON of the right shape but not in RFC 8785 canonical form
    /// (key order, whitespace, escapes, or base64 padding differ from what the log writes).
    #[error("entry body is not in canonical form (RFC 8785 JSON as the log writes it)")]
    NonCanonical,

    /// A logged entry body is of a kind or version this crate does not parse.
    #[error("entry kind {kind:?} apiVersion {api_version:?} is not supported")]
    UnsupportedEntryKind {
        /// The body's `kind`.
        kind: String,
        /// The body's `apiVersion`.
        api_version: String,
    },

    /// A PKCS#8 private key could not be read or written.
    #[error("invalid PKCS#8 private key ({reason})")]
    InvalidPrivateKey {
        /// What was wrong.
        reason: String,
    },

    /// A number does not fit the range the wire format allows.
    #[error("{field} = {value} is out of range (at most {max})")]
    OutOfRange {
        /// Name of the value.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The largest value allowed.
        max: u64,
    },

    /// Two values that must agree do not (for example a log entry that does not record the
    /// request it answers).
    #[error("inconsistent input: {0}")]
    Inconsistent(String),

    /// A log origin or base URL is not usable as a C2SP key name / Sigstore baseUrl.
    #[error("invalid log origin or base URL {value:?}: {reason}")]
    InvalidOrigin {
        /// The value given.
        value: String,
        /// What was wrong.
        reason: &'static str,
    },
}

/// Shortens a received value for inclusion in an error message, so an attacker cannot make
/// the server echo megabytes back.
pub(crate) fn truncate_for_error(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &value[..cut]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        let long = "é".repeat(100);
        let short = truncate_for_error(&long);
        assert_eq!(short.chars().count(), 64 + 3);
        assert_eq!(truncate_for_error("abc"), "abc");
    }

    #[test]
    fn messages_name_the_field() {
        let e = EntryError::Base64 {
            field: "hashedRekordRequestV002.digest",
            reason: "bad".into(),
        };
        assert_eq!(
            e.to_string(),
            "hashedRekordRequestV002.digest: invalid base64 (bad)"
        );
        let e = EntryError::DigestLength {
            key_details: PublicKeyDetails::PkixEcdsaP256Sha256,
            algorithm: HashAlgorithm::Sha2_256,
            expected: 32,
            actual: 31,
        };
        assert_eq!(
            e.to_string(),
            "digest is 31 bytes; PKIX_ECDSA_P256_SHA_256 signs a 32-byte SHA2_256 digest"
        );
    }
}
