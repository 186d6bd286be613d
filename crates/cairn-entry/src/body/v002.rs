//! hashedrekord 0.0.2: `dev.sigstore.rekor.v2.Entry` whose spec is a
//! `HashedRekordLogEntryV002` (`proto/rekor/v2/entry.proto`, `hashedrekord.proto`),
//! serialized as rekor-tiles does: `protojson.Marshal` then RFC 8785 canonicalization
//! (rekor-tiles `pkg/server/service.go` `CreateEntry`, `pkg/types/hashedrekord/leafhash.go`).
//!
//! ```text
//! {"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{
//!   "data":{"algorithm":"SHA2_256","digest":"<base64>"},
//!   "signature":{"content":"<base64>",
//!                "verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256",
//!                            "publicKey":{"rawBytes":"<base64 DER SPKI>"}}}}}}
//! ```
//!
//! (one line, no spaces; `x509Certificate` takes the place of `publicKey` for certificates).
//! protojson omits empty fields, so a body with an empty digest, signature or key would have
//! another shape: [`HashedRekordV002Body::new`] refuses them, and so every value here has
//! exactly the bytes rekor-tiles would log for it.

use serde::Deserialize;

use crate::algorithms::{HashAlgorithm, PublicKeyDetails};
use crate::b64;
use crate::body::{expect_kind, from_json, KIND_HASHEDREKORD};
use crate::canonical::Value;
use crate::error::EntryError;
use crate::message::{HashOutput, Signature, Verifier, VerifierKey};

const F_ALGORITHM: &str = "spec.hashedRekordV002.data.algorithm";
const F_DIGEST: &str = "spec.hashedRekordV002.data.digest";
const F_CONTENT: &str = "spec.hashedRekordV002.signature.content";
const F_KEY_DETAILS: &str = "spec.hashedRekordV002.signature.verifier.keyDetails";
const F_PUBLIC_KEY: &str = "spec.hashedRekordV002.signature.verifier.publicKey.rawBytes";
const F_CERT: &str = "spec.hashedRekordV002.signature.verifier.x509Certificate.rawBytes";

/// A hashedrekord 0.0.2 log entry: the digest of an artifact and one signature over it.
///
/// Construct with [`HashedRekordV002Body::new`], from a validated request
/// ([`crate::HashedRekordRequest::to_body`]), or by parsing logged bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HashedRekordV002Body {
    data: HashOutput,
    signature: Signature,
}

impl HashedRekordV002Body {
    /// The `apiVersion` of this kind.
    pub const API_VERSION: &'static str = "0.0.2";

    /// Builds a body, checking what the format itself requires: non-empty digest, signature
    /// and key bytes, and a digest as long as its algorithm's output. (Which key types a log
    /// accepts is a policy question for [`crate::CreateEntryRequest::validate`], not this.)
    ///
    /// # Errors
    /// [`EntryError::Missing`] for an empty field, [`EntryError::Inconsistent`] for a digest
    /// of the wrong length.
    pub fn new(data: HashOutput, signature: Signature) -> Result<Self, EntryError> {
        if data.digest.is_empty() {
            return Err(EntryError::Missing { field: F_DIGEST });
        }
        if data.digest.len() != data.algorithm.output_len() {
            return Err(EntryError::Inconsistent(format!(
                "{F_DIGEST} is {} bytes but {} digests are {} bytes",
                data.digest.len(),
                data.algorithm,
                data.algorithm.output_len()
            )));
        }
        if signature.content.is_empty() {
            return Err(EntryError::Missing { field: F_CONTENT });
        }
        match &signature.verifier.key {
            VerifierKey::PublicKey { raw_bytes } if raw_bytes.is_empty() => {
                return Err(EntryError::Missing {
                    field: F_PUBLIC_KEY,
                })
            }
            VerifierKey::X509Certificate { raw_bytes } if raw_bytes.is_empty() => {
                return Err(EntryError::Missing { field: F_CERT })
            }
            _ => {}
        }
        Ok(Self { data, signature })
    }

    /// Builds a body from parts a validated request guarantees to be well formed.
    pub(crate) fn from_validated(data: HashOutput, signature: Signature) -> Self {
        Self { data, signature }
    }

    /// Returns the digest and its algorithm (`spec.hashedRekordV002.data`).
    pub fn data(&self) -> &HashOutput {
        &self.data
    }

    /// Returns the signature and verifier (`spec.hashedRekordV002.signature`).
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Returns the RFC 8785 canonical JSON bytes the log stores and hashes.
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        let verifier = &self.signature.verifier;
        let key = match &verifier.key {
            VerifierKey::PublicKey { raw_bytes } => (
                "publicKey",
                Value::obj([("rawBytes", Value::str(b64::encode(raw_bytes)))]),
            ),
            VerifierKey::X509Certificate { raw_bytes } => (
                "x509Certificate",
                Value::obj([("rawBytes", Value::str(b64::encode(raw_bytes)))]),
            ),
        };
        Value::obj([
            ("apiVersion", Value::str(Self::API_VERSION)),
            ("kind", Value::str(KIND_HASHEDREKORD)),
            (
                "spec",
                Value::obj([(
                    "hashedRekordV002",
                    Value::obj([
                        (
                            "data",
                            Value::obj([
                                ("algorithm", Value::str(self.data.algorithm.name())),
                                ("digest", Value::str(b64::encode(&self.data.digest))),
                            ]),
                        ),
                        (
                            "signature",
                            Value::obj([
                                ("content", Value::str(b64::encode(&self.signature.content))),
                                (
                                    "verifier",
                                    Value::obj([
                                        ("keyDetails", Value::str(verifier.key_details.name())),
                                        key,
                                    ]),
                                ),
                            ]),
                        ),
                    ]),
                )]),
            ),
        ])
        .to_bytes()
    }

    /// Parses a logged body, accepting it only if it is exactly the canonical encoding of the
    /// value it describes.
    ///
    /// # Errors
    /// [`EntryError::TooLarge`], [`EntryError::Json`] (shape), [`EntryError::UnsupportedEntryKind`],
    /// [`EntryError::Base64`], [`EntryError::UnknownEnumValue`], [`EntryError::Missing`],
    /// [`EntryError::OneofConflict`], [`EntryError::Inconsistent`], [`EntryError::NonCanonical`].
    pub fn parse_canonical(bytes: &[u8]) -> Result<Self, EntryError> {
        let raw: Raw = from_json(bytes)?;
        expect_kind(raw.kind, raw.api_version, Self::API_VERSION)?;
        let h = raw.spec.hashed_rekord_v002;
        let v = h.signature.verifier;
        let key = match (v.public_key, v.x509_certificate) {
            (Some(pk), None) => VerifierKey::PublicKey {
                raw_bytes: b64::decode_canonical(F_PUBLIC_KEY, &pk.raw_bytes)?,
            },
            (None, Some(cert)) => VerifierKey::X509Certificate {
                raw_bytes: b64::decode_canonical(F_CERT, &cert.raw_bytes)?,
            },
            (Some(_), Some(_)) => {
                return Err(EntryError::OneofConflict {
                    field: "spec.hashedRekordV002.signature.verifier",
                    members: "publicKey, x509Certificate",
                })
            }
            (None, None) => {
                return Err(EntryError::Missing {
                    field: "spec.hashedRekordV002.signature.verifier.publicKey",
                })
            }
        };
        let body = Self::new(
            HashOutput {
                algorithm: HashAlgorithm::parse_field(F_ALGORITHM, &h.data.algorithm)?,
                digest: b64::decode_canonical(F_DIGEST, &h.data.digest)?,
            },
            Signature {
                content: b64::decode_canonical(F_CONTENT, &h.signature.content)?,
                verifier: Verifier {
                    key,
                    key_details: PublicKeyDetails::parse_field(F_KEY_DETAILS, &v.key_details)?,
                },
            },
        )?;
        if body.to_canonical_bytes() != bytes {
            return Err(EntryError::NonCanonical);
        }
        Ok(body)
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
    #[serde(rename = "hashedRekordV002")]
    hashed_rekord_v002: RawHashedRekord,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHashedRekord {
    data: RawHashOutput,
    signature: RawSignature,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHashOutput {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    content: String,
    verifier: RawVerifier,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerifier {
    #[serde(rename = "keyDetails")]
    key_details: String,
    #[serde(default, rename = "publicKey")]
    public_key: Option<RawBytes>,
    #[serde(default, rename = "x509Certificate")]
    x509_certificate: Option<RawBytes>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBytes {
    #[serde(rename = "rawBytes")]
    raw_bytes: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body from rekor-tiles CLIENTS.md ("Parse the entry"), as logged.
    const CLIENTS_MD_BODY: &str = concat!(
        r#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":"#,
        r#"{"algorithm":"SHA2_256","digest":"dyj4ednYHjN4/zsjjBeeLahS9slp97Z67LTAVxjrjXw="},"#,
        r#""signature":{"content":"MEQCIB+YPa9o3SN0sQ4uduGf+mZxwFfOhFZ0Cgy+p7Vt1o2SAiAPFDHqOAJLYmvtCWOsDyNY1H4V3zm4NEDYs3NyvHh1Pg==","#,
        r#""verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"#,
        r#""MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2slOf8eZcj2moW2t4UFj7vCL6QpDzkDqqSUmm4OJCVvIauKLxm0aGs3VMPPfauMPaMutn0/s3jg0rroFxoicyg=="}}}}}}"#
    );

    #[test]
    fn parses_and_re_encodes_the_clients_md_example() {
        let body = HashedRekordV002Body::parse_canonical(CLIENTS_MD_BODY.as_bytes()).unwrap();
        assert_eq!(body.data().algorithm, HashAlgorithm::Sha2_256);
        assert_eq!(
            body.signature().verifier.key_details,
            PublicKeyDetails::PkixEcdsaP256Sha256
        );
        assert_eq!(body.to_canonical_bytes(), CLIENTS_MD_BODY.as_bytes());
    }

    #[test]
    fn rejects_non_canonical_spellings() {
        let pretty = serde_json::to_vec_pretty(
            &serde_json::from_str::<serde_json::Value>(CLIENTS_MD_BODY).unwrap(),
        )
        .unwrap();
        assert_eq!(
            HashedRekordV002Body::parse_canonical(&pretty),
            Err(EntryError::NonCanonical)
        );
        let reordered = CLIENTS_MD_BODY.replacen(
            r#"{"apiVersion":"0.0.2","kind":"hashedrekord","#,
            r#"{"kind":"hashedrekord","apiVersion":"0.0.2","#,
            1,
        );
        assert_eq!(
            HashedRekordV002Body::parse_canonical(reordered.as_bytes()),
            Err(EntryError::NonCanonical)
        );
        let escaped = CLIENTS_MD_BODY.replacen("dyj4ednYHjN4/", "dyj4ednYHjN4\\/", 1);
        assert_eq!(
            HashedRekordV002Body::parse_canonical(escaped.as_bytes()),
            Err(EntryError::NonCanonical)
        );
        let unpadded = CLIENTS_MD_BODY.replacen("rjXw=", "rjXw", 1);
        assert!(matches!(
            HashedRekordV002Body::parse_canonical(unpadded.as_bytes()),
            Err(EntryError::Base64 { .. })
        ));
        let extra = CLIENTS_MD_BODY.replacen("{\"apiVersion\"", "{\"a\":\"b\",\"apiVersion\"", 1);
        assert!(matches!(
            HashedRekordV002Body::parse_canonical(extra.as_bytes()),
            Err(EntryError::Json(_))
        ));
        let mut trailing = CLIENTS_MD_BODY.as_bytes().to_vec();
        trailing.push(b'\n');
        assert_eq!(
            HashedRekordV002Body::parse_canonical(&trailing),
            Err(EntryError::NonCanonical)
        );
    }

    #[test]
    fn every_single_byte_change_is_rejected_or_changes_the_value() {
        let good = HashedRekordV002Body::parse_canonical(CLIENTS_MD_BODY.as_bytes()).unwrap();
        let bytes = CLIENTS_MD_BODY.as_bytes();
        for i in 0..bytes.len() {
            for delta in [1u8, 0x20, 0x80] {
                let mut m = bytes.to_vec();
                m[i] ^= delta;
                if let Ok(parsed) = HashedRekordV002Body::parse_canonical(&m) {
                    // Accepted only if it is a different, still canonical, value.
                    assert_ne!(parsed, good, "byte {i} ^ {delta:#x}");
                    assert_eq!(parsed.to_canonical_bytes(), m);
                }
            }
        }
        for n in 0..bytes.len() {
            assert!(HashedRekordV002Body::parse_canonical(&bytes[..n]).is_err());
        }
    }

    #[test]
    fn new_refuses_what_protojson_would_omit() {
        let sig = Signature {
            content: vec![1],
            verifier: Verifier {
                key: VerifierKey::PublicKey { raw_bytes: vec![] },
                key_details: PublicKeyDetails::PkixEcdsaP256Sha256,
            },
        };
        let data = HashOutput {
            algorithm: HashAlgorithm::Sha2_256,
            digest: vec![0; 32],
        };
        assert_eq!(
            HashedRekordV002Body::new(data.clone(), sig.clone()),
            Err(EntryError::Missing {
                field: F_PUBLIC_KEY
            })
        );
        let short = HashOutput {
            algorithm: HashAlgorithm::Sha2_512,
            digest: vec![0; 32],
        };
        assert!(matches!(
            HashedRekordV002Body::new(short, sig),
            Err(EntryError::Inconsistent(_))
        ));
    }
}
