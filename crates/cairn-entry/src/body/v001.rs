//! hashedrekord 0.0.1, as Rekor v1 logged it (sigstore/rekor
//! `pkg/types/hashedrekord/v0.0.1`, canonicalized with RFC 8785):
//!
//! ```text
//! {"apiVersion":"0.0.1","kind":"hashedrekord","spec":{
//!   "data":{"hash":{"algorithm":"sha256","value":"<lower-case hex>"}},
//!   "signature":{"content":"<base64 signature>",
//!                "publicKey":{"content":"<base64 of a PEM public key or certificate>"}}}}
//! ```
//!
//! Read-only here (the verifier checks Rekor v1 bundles); this log writes 0.0.2.

use serde::Deserialize;

use crate::algorithms::HashAlgorithm;
use crate::b64;
use crate::body::{expect_kind, from_json, KIND_HASHEDREKORD};
use crate::canonical::Value;
use crate::error::{truncate_for_error, EntryError};

const F_ALGORITHM: &str = "spec.data.hash.algorithm";
const F_VALUE: &str = "spec.data.hash.value";
const F_CONTENT: &str = "spec.signature.content";
const F_PUBLIC_KEY: &str = "spec.signature.publicKey.content";

/// A Rekor v1 hashedrekord 0.0.1 entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HashedRekordV001Body {
    hash_algorithm: HashAlgorithm,
    digest: Vec<u8>,
    signature: Vec<u8>,
    public_key_pem: Vec<u8>,
}

impl HashedRekordV001Body {
    /// The `apiVersion` of this kind.
    pub const API_VERSION: &'static str = "0.0.1";

    /// Returns the hash algorithm (`sha256`, `sha384` or `sha512` on the wire).
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash_algorithm
    }

    /// Returns the artifact digest (`spec.data.hash.value`, hex-decoded).
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// Returns the signature bytes (`spec.signature.content`, base64-decoded).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Returns the PEM text of the signer's public key or certificate
    /// (`spec.signature.publicKey.content`, base64-decoded).
    pub fn public_key_pem(&self) -> &[u8] {
        &self.public_key_pem
    }

    /// Returns the canonical JSON bytes.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        Value::obj([
            ("apiVersion", Value::str(Self::API_VERSION)),
            ("kind", Value::str(KIND_HASHEDREKORD)),
            (
                "spec",
                Value::obj([
                    (
                        "data",
                        Value::obj([(
                            "hash",
                            Value::obj([
                                ("algorithm", Value::str(v001_name(self.hash_algorithm))),
                                ("value", Value::str(hex::encode(&self.digest))),
                            ]),
                        )]),
                    ),
                    (
                        "signature",
                        Value::obj([
                            ("content", Value::str(b64::encode(&self.signature))),
                            (
                                "publicKey",
                                Value::obj([(
                                    "content",
                                    Value::str(b64::encode(&self.public_key_pem)),
                                )]),
                            ),
                        ]),
                    ),
                ]),
            ),
        ])
        .to_bytes()
    }

    /// Parses a logged body, accepting it only if it is exactly the canonical encoding.
    ///
    /// # Errors
    /// [`EntryError::TooLarge`], [`EntryError::Json`], [`EntryError::UnsupportedEntryKind`],
    /// [`EntryError::UnknownEnumValue`], [`EntryError::Hex`], [`EntryError::Base64`],
    /// [`EntryError::Missing`], [`EntryError::NonCanonical`].
    pub fn parse_canonical(bytes: &[u8]) -> Result<Self, EntryError> {
        let raw: Raw = from_json(bytes)?;
        expect_kind(raw.kind, raw.api_version, Self::API_VERSION)?;
        let hash = raw.spec.data.hash;
        let hash_algorithm = match hash.algorithm.as_str() {
            "sha256" => HashAlgorithm::Sha2_256,
            "sha384" => HashAlgorithm::Sha2_384,
            "sha512" => HashAlgorithm::Sha2_512,
            other => {
                return Err(EntryError::UnknownEnumValue {
                    field: F_ALGORITHM,
                    value: truncate_for_error(other),
                })
            }
        };
        let digest = hex::decode(&hash.value).map_err(|e| EntryError::Hex {
            field: F_VALUE,
            reason: e.to_string(),
        })?;
        if digest.len() != hash_algorithm.output_len() {
            return Err(EntryError::Hex {
                field: F_VALUE,
                reason: format!(
                    "{} bytes, but {} digests are {}",
                    digest.len(),
                    hash.algorithm,
                    hash_algorithm.output_len()
                ),
            });
        }
        let signature = b64::decode_canonical(F_CONTENT, &raw.spec.signature.content)?;
        let public_key_pem =
            b64::decode_canonical(F_PUBLIC_KEY, &raw.spec.signature.public_key.content)?;
        if signature.is_empty() {
            return Err(EntryError::Missing { field: F_CONTENT });
        }
        if public_key_pem.is_empty() {
            return Err(EntryError::Missing {
                field: F_PUBLIC_KEY,
            });
        }
        let body = Self {
            hash_algorithm,
            digest,
            signature,
            public_key_pem,
        };
        // Also rejects upper-case hex, which decodes but is not what Rekor wrote.
        if body.to_canonical_bytes() != bytes {
            return Err(EntryError::NonCanonical);
        }
        Ok(body)
    }
}

fn v001_name(algorithm: HashAlgorithm) -> &'static str {
    match algorithm {
        HashAlgorithm::Sha2_384 => "sha384",
        HashAlgorithm::Sha2_512 => "sha512",
        // Only the three SHA-2 names can be parsed, so nothing else is ever held.
        _ => "sha256",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    spec: RawSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    data: RawData,
    signature: RawSignature,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    hash: RawHash,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    content: String,
    #[serde(rename = "publicKey")]
    public_key: RawContent,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContent {
    content: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        format!(
            r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
            "ab".repeat(32),
            b64::encode(b"sig"),
            b64::encode(b"-----BEGIN PUBLIC KEY-----\n")
        )
    }

    #[test]
    fn round_trip() {
        let s = sample();
        let body = HashedRekordV001Body::parse_canonical(s.as_bytes()).unwrap();
        assert_eq!(body.digest(), &[0xab; 32]);
        assert_eq!(body.signature(), b"sig");
        assert_eq!(body.to_canonical_bytes(), s.as_bytes());
    }

    #[test]
    fn rejects_upper_case_hex_and_wrong_lengths() {
        let s = sample();
        assert_eq!(
            HashedRekordV001Body::parse_canonical(s.replace("abab", "ABAB").as_bytes()),
            Err(EntryError::NonCanonical)
        );
        assert!(matches!(
            HashedRekordV001Body::parse_canonical(s.replacen("abab", "ab", 1).as_bytes()),
            Err(EntryError::Hex { .. })
        ));
        assert!(matches!(
            HashedRekordV001Body::parse_canonical(s.replace("sha256", "sha1").as_bytes()),
            Err(EntryError::UnknownEnumValue { .. })
        ));
    }
}
