//! Logged entry bodies ("canonicalized bodies"): the exact bytes the log hashes into its
//! Merkle tree (leaf = SHA-256(0x00 || body)) and serves in entry bundles.
//!
//! Every body is RFC 8785 canonical JSON of
//! `{"apiVersion": .., "kind": .., "spec": ..}`; clients dispatch on `kind` and `apiVersion`
//! before reading `spec` (rekor-tiles `CLIENTS.md`). Parsing is strict: a body is accepted
//! only if re-encoding the parsed value gives back the same bytes, so one value has one body
//! and one leaf hash.
//!
//! * [`HashedRekordV002Body`]: hashedrekord 0.0.2, what this log (and Rekor v2) writes.
//! * [`HashedRekordV001Body`]: hashedrekord 0.0.1, what Rekor v1 wrote; parsed for the
//!   offline verifier.

mod v001;
mod v002;

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::error::EntryError;

pub use v001::HashedRekordV001Body;
pub use v002::HashedRekordV002Body;

/// The largest body the log stores: an entry in a C2SP tlog-tiles entry bundle is prefixed
/// by a 16-bit length.
pub const MAX_ENTRY_BYTES: usize = 65535;

/// The `kind` of hashedrekord entries.
pub const KIND_HASHEDREKORD: &str = "hashedrekord";

/// A parsed body of one of the supported kinds and versions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryBody {
    /// hashedrekord 0.0.2 (Rekor v2, this log).
    HashedRekordV002(HashedRekordV002Body),
    /// hashedrekord 0.0.1 (Rekor v1).
    HashedRekordV001(HashedRekordV001Body),
}

impl EntryBody {
    /// Parses a canonical body of any supported kind and version.
    ///
    /// # Errors
    /// [`EntryError::UnsupportedEntryKind`] for other kinds (such as `dsse`) or versions, and
    /// the errors of the kind's own `parse_canonical`.
    pub fn parse(bytes: &[u8]) -> Result<Self, EntryError> {
        let (kind, api_version) = kind_and_version(bytes)?;
        match (kind.as_str(), api_version.as_str()) {
            (KIND_HASHEDREKORD, HashedRekordV002Body::API_VERSION) => Ok(Self::HashedRekordV002(
                HashedRekordV002Body::parse_canonical(bytes)?,
            )),
            (KIND_HASHEDREKORD, HashedRekordV001Body::API_VERSION) => Ok(Self::HashedRekordV001(
                HashedRekordV001Body::parse_canonical(bytes)?,
            )),
            _ => Err(EntryError::UnsupportedEntryKind { kind, api_version }),
        }
    }

    /// Returns the body's `kind`.
    pub fn kind(&self) -> &'static str {
        KIND_HASHEDREKORD
    }

    /// Returns the body's `apiVersion`.
    pub fn api_version(&self) -> &'static str {
        match self {
            Self::HashedRekordV002(_) => HashedRekordV002Body::API_VERSION,
            Self::HashedRekordV001(_) => HashedRekordV001Body::API_VERSION,
        }
    }

    /// Returns the canonical bytes (equal to the bytes it was parsed from).
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        match self {
            Self::HashedRekordV002(b) => b.to_canonical_bytes(),
            Self::HashedRekordV001(b) => b.to_canonical_bytes(),
        }
    }
}

/// Reads `kind` and `apiVersion` of a body without interpreting `spec`.
///
/// # Errors
/// [`EntryError::TooLarge`], or [`EntryError::Json`] if the body is not an object of exactly
/// those three members.
pub fn kind_and_version(bytes: &[u8]) -> Result<(String, String), EntryError> {
    check_size(bytes)?;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Header {
        #[serde(rename = "apiVersion")]
        api_version: String,
        kind: String,
        #[allow(dead_code)] // Present so that the member is required; its value is not read here.
        spec: IgnoredAny,
    }
    let h: Header = serde_json::from_slice(bytes).map_err(|e| EntryError::Json(e.to_string()))?;
    Ok((h.kind, h.api_version))
}

/// Checks that a body is a hashedrekord of `api_version`.
fn expect_kind(kind: String, api_version: String, want: &str) -> Result<(), EntryError> {
    if kind != KIND_HASHEDREKORD || api_version != want {
        return Err(EntryError::UnsupportedEntryKind { kind, api_version });
    }
    Ok(())
}

fn check_size(bytes: &[u8]) -> Result<(), EntryError> {
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(EntryError::TooLarge {
            size: bytes.len(),
            limit: MAX_ENTRY_BYTES,
        });
    }
    Ok(())
}

/// Parses `bytes` as JSON into `T` (strict serde mirror), mapping errors.
fn from_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, EntryError> {
    check_size(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| EntryError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const V002: &[u8] = br#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},"signature":{"content":"AQ==","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"Ag=="}}}}}}"#;

    #[test]
    fn dispatches_on_kind_and_version() {
        let body = EntryBody::parse(V002).unwrap();
        assert_eq!((body.kind(), body.api_version()), ("hashedrekord", "0.0.2"));
        assert_eq!(body.to_canonical_bytes(), V002);
        let dsse = br#"{"apiVersion":"0.0.2","kind":"dsse","spec":{}}"#;
        assert_eq!(
            EntryBody::parse(dsse),
            Err(EntryError::UnsupportedEntryKind {
                kind: "dsse".into(),
                api_version: "0.0.2".into()
            })
        );
        assert!(matches!(
            EntryBody::parse(&vec![b' '; MAX_ENTRY_BYTES + 1]),
            Err(EntryError::TooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = EntryBody::parse(&bytes);
        }

        #[test]
        fn mutated_bodies_are_rejected_or_canonical(i in 0..V002.len(), b in any::<u8>()) {
            let mut m = V002.to_vec();
            m[i] = b;
            if let Ok(body) = EntryBody::parse(&m) {
                prop_assert_eq!(body.to_canonical_bytes(), m);
            }
        }
    }
}
