//! Log entries of a Sigstore-style transparency log: the Rekor v2 write request, the
//! canonical hashedrekord bodies the log stores, signed entry timestamps, and the Sigstore
//! messages built around them (TransparencyLogEntry, Bundle v0.3, TrustedRoot).
//!
//! This crate is shared by the server, the signing client and the offline verifier. It is
//! pure: no file or network I/O, no clock (times are parameters), no OS RNG (key generation
//! takes a `&mut impl CryptoRngCore`; ECDSA signing is deterministic, RFC 6979). It does not
//! verify inclusion proofs or checkpoints (cairn-merkle, cairn-note) nor certificates.
//!
//! The wire contract is in `proto/` at the repository root; `proto/README.md` explains how
//! the types here are tied to it. Formats, with examples: `docs/formats-entry.md`.
//!
//! # The write path, end to end
//!
//! ```
//! use cairn_entry::{
//!     set_payload, sign_set, CreateEntryRequest, HashedRekordRequest, HashedRekordV002Body,
//!     LogKey, SignerAlgorithm, SignerKeyPair,
//! };
//! use rand_chacha::rand_core::SeedableRng;
//!
//! // Client: sign the SHA-256 digest of an artifact with a P-256 key; send the JSON.
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let signer = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng);
//! let digest = SignerAlgorithm::EcdsaP256Sha256.digest(b"my artifact");
//! let json = HashedRekordRequest::sign(&signer, digest)?.to_wire().to_json();
//!
//! // Server: parse, validate (cheap), verify (the expensive step), then log the body.
//! let request = CreateEntryRequest::from_json(&json)?.validate()?;
//! request.verify()?;
//! let body = request.to_body().to_canonical_bytes();
//! assert!(body.starts_with(br#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":"#));
//! assert_eq!(HashedRekordV002Body::parse_canonical(&body)?, request.to_body());
//!
//! // Server: promise inclusion with a SET signed by the log's Ed25519 key.
//! let log_key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
//! let payload = set_payload(&body, 1_700_000_000, &[7; 32], 0);
//! let set = sign_set(&log_key, &payload);
//! LogKey::ed25519(log_key.verifying_key()).verify_set(&payload, &set)?;
//! # Ok::<(), cairn_entry::EntryError>(())
//! ```

#![forbid(unsafe_code)]

mod algorithms;
mod b64;
pub mod body;
mod canonical;
pub mod crypto;
mod error;
mod message;
pub mod request;
pub mod set;
pub mod sigstore;

pub use algorithms::{HashAlgorithm, PublicKeyDetails};
pub use body::{EntryBody, HashedRekordV001Body, HashedRekordV002Body};
pub use crypto::{SignerAlgorithm, SignerKey, SignerKeyPair};
pub use error::EntryError;
pub use message::{HashOutput, Signature, Verifier, VerifierKey};
pub use request::{CreateEntryRequest, HashedRekordRequest, HashedRekordRequestV002};
pub use set::{set_payload, sign_set, LogKey, SetSigner};
pub use sigstore::{
    bundle_v03, ed25519_log_id, public_key_hint, spki_log_id, to_json, transparency_log_entry,
    trusted_root_for_log, Bundle, InclusionProofParts, LogEntryParts, TransparencyLogEntry,
    TrustedRoot,
};
