//! The Rekor v2 write request, `POST /api/v2/log/entries` with a JSON
//! `dev.sigstore.rekor.v2.CreateEntryRequest` (`proto/rekor/v2/entry.proto`), and its
//! validation into a [`HashedRekordRequest`] the log can verify and log.
//!
//! ```text
//! {"hashedRekordRequestV002": {
//!    "digest": <base64>,
//!    "signature": {"content": <base64>,
//!                  "verifier": {"publicKey": {"rawBytes": <base64 DER SPKI>},
//!                               "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}}
//! ```
//!
//! Parsing follows the [protobuf JSON mapping](https://protobuf.dev/programming-guides/json/)
//! strictly where it leaves a choice:
//! * field names: the lowerCamelCase JSON name or the original proto name (both are
//!   required of parsers; rekor-tiles' own curl example sends `key_details`), but not both
//!   for one field, and no unknown fields;
//! * bytes: standard or URL-safe base64, padded or not (see `b64.rs`);
//! * enums: by name only; numbers are rejected, as their meaning changed between
//!   protobuf-specs releases;
//! * required fields: absent, `null` and empty values are all "missing" (proto3 JSON does not
//!   distinguish them);
//! * one oneof member at most; `dsseRequestV002` is recognised and refused.
//!
//! [`CreateEntryRequest::to_json`] writes the canonical protobuf JSON spelling (camelCase,
//! standard padded base64), so `from_json(to_json(x)) == x`.

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::algorithms::{HashAlgorithm, PublicKeyDetails};
use crate::b64;
use crate::body::HashedRekordV002Body;
use crate::crypto::verify::check_signature_shape;
use crate::crypto::{SignerAlgorithm, SignerKey, SignerKeyPair};
use crate::error::EntryError;
use crate::message::{HashOutput, Signature, Verifier, VerifierKey};

/// The largest request body [`CreateEntryRequest::from_json`] reads. A valid request is
/// well under 1 KiB; the cap leaves room for certificates should they be accepted later.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

const F_REQ: &str = "hashedRekordRequestV002";
const F_DIGEST: &str = "hashedRekordRequestV002.digest";
const F_SIG: &str = "hashedRekordRequestV002.signature";
const F_CONTENT: &str = "hashedRekordRequestV002.signature.content";
const F_VERIFIER: &str = "hashedRekordRequestV002.signature.verifier";
const F_KEY_DETAILS: &str = "hashedRekordRequestV002.signature.verifier.keyDetails";
const F_PUBLIC_KEY: &str = "hashedRekordRequestV002.signature.verifier.publicKey.rawBytes";
const F_CERT: &str = "hashedRekordRequestV002.signature.verifier.x509Certificate.rawBytes";

/// `dev.sigstore.rekor.v2.CreateEntryRequest` with its `hashed_rekord_request_v002` member,
/// decoded but not yet validated (see [`CreateEntryRequest::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreateEntryRequest {
    /// The request (the only oneof member this log accepts).
    pub hashed_rekord_request_v002: HashedRekordRequestV002,
}

/// `dev.sigstore.rekor.v2.HashedRekordRequestV002`: a digest and one signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HashedRekordRequestV002 {
    /// The artifact's digest (the log never sees the artifact).
    pub digest: Vec<u8>,
    /// The signature over the digest, with its verifier.
    pub signature: Signature,
}

impl CreateEntryRequest {
    /// Parses a request body: protobuf JSON, strictly as described in the module doc.
    ///
    /// # Errors
    /// [`EntryError::TooLarge`], [`EntryError::Json`] (syntax, unknown or duplicate field,
    /// wrong JSON type), [`EntryError::Missing`], [`EntryError::Base64`],
    /// [`EntryError::UnknownEnumValue`], [`EntryError::EnumByNumber`],
    /// [`EntryError::OneofConflict`], [`EntryError::UnsupportedRequestType`].
    pub fn from_json(json: &[u8]) -> Result<Self, EntryError> {
        if json.len() > MAX_REQUEST_BYTES {
            return Err(EntryError::TooLarge {
                size: json.len(),
                limit: MAX_REQUEST_BYTES,
            });
        }
        let raw: RawRequest =
            serde_json::from_slice(json).map_err(|e| EntryError::Json(e.to_string()))?;
        let hashed = match (raw.hashed, raw.dsse) {
            (Some(_), Some(_)) => {
                return Err(EntryError::OneofConflict {
                    field: "CreateEntryRequest",
                    members: "hashedRekordRequestV002, dsseRequestV002",
                })
            }
            (None, Some(_)) => return Err(EntryError::UnsupportedRequestType("dsseRequestV002")),
            (None, None) => return Err(EntryError::Missing { field: F_REQ }),
            (Some(h), None) => h,
        };
        let digest = required_bytes(F_DIGEST, hashed.digest)?;
        let sig = hashed
            .signature
            .ok_or(EntryError::Missing { field: F_SIG })?;
        let content = required_bytes(F_CONTENT, sig.content)?;
        let verifier = sig
            .verifier
            .ok_or(EntryError::Missing { field: F_VERIFIER })?;
        let key_details = match verifier.key_details {
            None | Some(serde_json::Value::Null) => {
                return Err(EntryError::Missing {
                    field: F_KEY_DETAILS,
                })
            }
            Some(serde_json::Value::String(name)) => {
                PublicKeyDetails::parse_field(F_KEY_DETAILS, &name)?
            }
            Some(serde_json::Value::Number(n)) => {
                return Err(EntryError::EnumByNumber {
                    field: F_KEY_DETAILS,
                    number: n.to_string(),
                })
            }
            Some(_) => {
                return Err(EntryError::Json(format!(
                    "{F_KEY_DETAILS}: expected an enum name string"
                )))
            }
        };
        let key = match (verifier.public_key, verifier.x509_certificate) {
            (Some(_), Some(_)) => {
                return Err(EntryError::OneofConflict {
                    field: F_VERIFIER,
                    members: "publicKey, x509Certificate",
                })
            }
            (Some(pk), None) => VerifierKey::PublicKey {
                raw_bytes: required_bytes(F_PUBLIC_KEY, pk.raw_bytes)?,
            },
            (None, Some(cert)) => VerifierKey::X509Certificate {
                raw_bytes: required_bytes(F_CERT, cert.raw_bytes)?,
            },
            (None, None) => {
                return Err(EntryError::Missing {
                    field: "hashedRekordRequestV002.signature.verifier.publicKey",
                })
            }
        };
        Ok(Self {
            hashed_rekord_request_v002: HashedRekordRequestV002 {
                digest,
                signature: Signature {
                    content,
                    verifier: Verifier { key, key_details },
                },
            },
        })
    }

    /// Returns the request as protobuf JSON (camelCase names, standard padded base64).
    pub fn to_json(&self) -> Vec<u8> {
        let r = &self.hashed_rekord_request_v002;
        let v = &r.signature.verifier;
        let key = match &v.key {
            VerifierKey::PublicKey { raw_bytes } => {
                serde_json::json!({"publicKey": {"rawBytes": b64::encode(raw_bytes)}})
            }
            VerifierKey::X509Certificate { raw_bytes } => {
                serde_json::json!({"x509Certificate": {"rawBytes": b64::encode(raw_bytes)}})
            }
        };
        let mut verifier = key;
        if let Some(map) = verifier.as_object_mut() {
            map.insert("keyDetails".into(), v.key_details.name().into());
        }
        let value = serde_json::json!({
            "hashedRekordRequestV002": {
                "digest": b64::encode(&r.digest),
                "signature": {
                    "content": b64::encode(&r.signature.content),
                    "verifier": verifier,
                }
            }
        });
        // Serializing a Value built from strings cannot fail; an empty body would be rejected
        // by any parser rather than silently accepted.
        serde_json::to_vec(&value).unwrap_or_default()
    }

    /// Checks that the request is one this log accepts and returns it typed: keyDetails is
    /// `PKIX_ECDSA_P256_SHA_256` or `PKIX_ED25519_PH`, the verifier is a public key whose
    /// DER SubjectPublicKeyInfo parses as that algorithm, the digest has that algorithm's
    /// hash length, and the signature is well formed. The signature is not verified here
    /// (see [`HashedRekordRequest::verify`]), so this is cheap enough for a request handler.
    ///
    /// # Errors
    /// [`EntryError::UnsupportedKeyDetails`], [`EntryError::UnsupportedVerifier`],
    /// [`EntryError::InvalidPublicKey`], [`EntryError::KeyAlgorithmMismatch`],
    /// [`EntryError::DigestLength`], [`EntryError::MalformedSignature`].
    pub fn validate(&self) -> Result<HashedRekordRequest, EntryError> {
        let r = &self.hashed_rekord_request_v002;
        let algorithm = SignerAlgorithm::from_key_details(r.signature.verifier.key_details)?;
        let spki = match &r.signature.verifier.key {
            VerifierKey::PublicKey { raw_bytes } => raw_bytes,
            VerifierKey::X509Certificate { .. } => return Err(EntryError::UnsupportedVerifier),
        };
        let key = SignerKey::parse(algorithm, spki, F_PUBLIC_KEY)?;
        HashedRekordRequest::new(key, r.digest.clone(), r.signature.content.clone())
    }
}

/// A validated hashedrekord v0.0.2 request: a digest of the right length for the signer key's
/// algorithm, a well-formed signature, and a parsed key of an accepted type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedRekordRequest {
    digest: Vec<u8>,
    signature: Vec<u8>,
    key: SignerKey,
}

impl HashedRekordRequest {
    /// Builds a request from its parts, checking digest length and signature shape (not the
    /// signature itself).
    ///
    /// # Errors
    /// [`EntryError::DigestLength`], [`EntryError::MalformedSignature`].
    pub fn new(key: SignerKey, digest: Vec<u8>, signature: Vec<u8>) -> Result<Self, EntryError> {
        key.algorithm().check_digest_len(&digest)?;
        check_signature_shape(key.algorithm(), &signature)?;
        Ok(Self {
            digest,
            signature,
            key,
        })
    }

    /// Signs `digest` with `key_pair` and returns the request a client sends (client side).
    ///
    /// # Errors
    /// [`EntryError::DigestLength`] if the digest length does not match the key's algorithm.
    pub fn sign(key_pair: &SignerKeyPair, digest: Vec<u8>) -> Result<Self, EntryError> {
        let signature = key_pair.sign_digest(&digest)?;
        Self::new(key_pair.signer_key()?, digest, signature)
    }

    /// Returns the artifact digest.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// Returns the signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Returns the signer's key.
    pub fn key(&self) -> &SignerKey {
        &self.key
    }

    /// Returns the hash algorithm of the digest.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.key.hash_algorithm()
    }

    /// Verifies the signature over the digest with the key. This is the expensive step
    /// (tens of microseconds); run it off the async reactor.
    ///
    /// # Errors
    /// [`EntryError::SignatureMismatch`] if the signature does not verify.
    pub fn verify(&self) -> Result<(), EntryError> {
        self.key.verify_digest(&self.digest, &self.signature)
    }

    /// Returns the entry the log records for this request (the hash algorithm comes from the
    /// key type, as in rekor-tiles).
    pub fn to_body(&self) -> HashedRekordV002Body {
        HashedRekordV002Body::from_validated(
            HashOutput {
                algorithm: self.hash_algorithm(),
                digest: self.digest.clone(),
            },
            Signature {
                content: self.signature.clone(),
                verifier: self.verifier(),
            },
        )
    }

    /// Returns the wire request a client sends for this entry.
    pub fn to_wire(&self) -> CreateEntryRequest {
        CreateEntryRequest {
            hashed_rekord_request_v002: HashedRekordRequestV002 {
                digest: self.digest.clone(),
                signature: Signature {
                    content: self.signature.clone(),
                    verifier: self.verifier(),
                },
            },
        }
    }

    fn verifier(&self) -> Verifier {
        Verifier {
            key: VerifierKey::PublicKey {
                raw_bytes: self.key.spki_der().to_vec(),
            },
            key_details: self.key.key_details(),
        }
    }
}

fn required_bytes(field: &'static str, value: Option<String>) -> Result<Vec<u8>, EntryError> {
    let text = value.ok_or(EntryError::Missing { field })?;
    let bytes = b64::decode_protojson(field, &text)?;
    if bytes.is_empty() {
        return Err(EntryError::Missing { field });
    }
    Ok(bytes)
}

// Serde mirrors of the JSON. Every field is optional here so that a missing field is
// reported with its full path by `from_json`, not by serde without context.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    #[serde(
        default,
        rename = "hashedRekordRequestV002",
        alias = "hashed_rekord_request_v002"
    )]
    hashed: Option<RawHashedRekord>,
    #[serde(default, rename = "dsseRequestV002", alias = "dsse_request_v002")]
    dsse: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHashedRekord {
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    signature: Option<RawSignature>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    verifier: Option<RawVerifier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerifier {
    #[serde(default, rename = "publicKey", alias = "public_key")]
    public_key: Option<RawBytesMessage>,
    #[serde(default, rename = "x509Certificate", alias = "x509_certificate")]
    x509_certificate: Option<RawBytesMessage>,
    #[serde(default, rename = "keyDetails", alias = "key_details")]
    key_details: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBytesMessage {
    #[serde(default, rename = "rawBytes", alias = "raw_bytes")]
    raw_bytes: Option<String>,
}

#[cfg(test)]
mod tests;
