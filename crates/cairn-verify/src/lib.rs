//! Offline verification of Sigstore bundles for installers: bundle + artifact + signer key +
//! trusted root in, a [`VerifiedEntry`] or the precise reason out.
//!
//! This crate is small, synchronous and offline. It depends only on Cairn's pure crates
//! (cairn-merkle, cairn-note, cairn-entry) and small hash/format crates: no async runtime,
//! no HTTP (a test checks this with `cargo tree`). It reads no clock: the current time comes
//! in through [`VerifyOptions::now`]. The only I/O is the optional [`CheckpointState`]
//! directory and reading an artifact through [`ArtifactInput::Reader`].
//!
//! # What is checked, in order
//!
//! [`verify_bundle`], for key-signed bundles such as `cairn sign` writes:
//!
//! | # | check | error |
//! |---|---|---|
//! | 1 | bundle JSON, media type, message signature, public-key material, one log entry | [`VerifyError::MalformedBundle`], [`VerifyError::UnsupportedMediaType`], [`VerifyError::BundleShape`] |
//! | 2 | the artifact's digest is the bundle's | [`VerifyError::DigestAlgorithm`], [`VerifyError::DigestMismatch`] |
//! | 3 | the signature verifies with the given key | [`VerifyError::Signature`] |
//! | 4 | the logged body records this digest, signature and key | [`VerifyError::Body`], [`VerifyError::BodyMismatch`] |
//! | 5 | the checkpoint is signed by a trusted log (log ID, key name, origin, validity window), witness policy | [`VerifyError::UnknownLog`], [`VerifyError::Checkpoint`], [`VerifyError::CheckpointOrigin`], [`VerifyError::LogKeyNotValid`], [`VerifyError::LogNotInPolicy`], [`VerifyError::WitnessQuorum`] |
//! | 6 | the inclusion proof leads to the checkpoint's root | [`VerifyError::ProofMismatch`], [`VerifyError::Inclusion`] |
//! | 7 | the signed entry timestamp | [`VerifyError::MissingSet`], [`VerifyError::Set`] |
//! | — | freshness bound | [`VerifyError::CheckpointUndated`], [`VerifyError::StaleCheckpoint`] |
//!
//! [`verify_tlog_entry`] makes checks 5–7 alone; [`verify_bundle_tlog`] makes them for every
//! entry of any bundle (certificate bundles from the public Sigstore instance included,
//! Rekor v1 and v2) after checking that each logged body records the bundle's signature.
//! Certificates (Fulcio) are not checked here.
//!
//! Rollback and split-view protection is a separate step: [`CheckpointState::check`]
//! remembers the newest checkpoint per log and demands a consistency proof
//! ([`ConsistencyProofSource`]) for any other size, reporting a fork with both signed
//! checkpoints.
//!
//! # Example
//!
//! ```no_run
//! use cairn_entry::{SignerAlgorithm, SignerKey};
//! use cairn_verify::{verify_bundle, ArtifactInput, CheckpointState, NoProofs, TrustedLogs, VerifyOptions};
//!
//! let trust = TrustedLogs::from_json(&std::fs::read("trusted_root.json")?)?;
//! let key = SignerKey::from_spki_pem(
//!     SignerAlgorithm::EcdsaP256Sha256,
//!     &std::fs::read_to_string("release.pub")?,
//! )?;
//! let bundle = std::fs::read("app.tar.gz.sigstore.json")?;
//! let mut artifact = std::fs::File::open("app.tar.gz")?;
//! let opts = VerifyOptions::new().requiring_set(true);
//! let verified = verify_bundle(&bundle, ArtifactInput::Reader(&mut artifact), &key, &trust, &opts)?;
//! // Remember the checkpoint; refuse rollbacks and forks on the next update.
//! CheckpointState::open("/var/lib/myapp/cairn")?.check(verified.checkpoint(), &NoProofs)?;
//! println!("logged at index {} of {}", verified.log_index(), verified.log().base_url());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod bundle;
mod error;
mod options;
mod policy;
mod state;
mod tlog;
mod trust;

pub use bundle::{
    hash_reader, verify_bundle, verify_bundle_tlog, ArtifactInput, VerifiedEntry,
    SUPPORTED_MEDIA_TYPES,
};
pub use error::{ForkEvidence, VerifyError};
pub use options::VerifyOptions;
pub use policy::{
    PolicyError, PolicyLog, PolicyWitness, QuorumOutcome, WitnessPolicy, MAX_POLICY_ITEMS,
};
pub use state::{CheckpointState, ConsistencyProofSource, NoProofs, StateOutcome, StaticProofs};
pub use tlog::{verify_tlog_entry, VerifiedCheckpoint, VerifiedTlogEntry};
pub use trust::{LogKind, TrustedLog, TrustedLogs};
