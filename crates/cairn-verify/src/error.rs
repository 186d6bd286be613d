//! The verifier's one error type, [`VerifyError`]: one variant (or a small group) per check,
//! in the order [`crate::verify_bundle`] makes them, so a caller can tell exactly which check
//! failed and an installer can print the reason.

use cairn_entry::EntryError;
use cairn_merkle::ProofError;
use cairn_note::NoteError;

/// Two signed checkpoints of one log that cannot both be honest: the evidence of a fork (or of
/// a log that lies about consistency). Both notes are signed by the log's key, so anyone can
/// check them and take them to the log operator or a gossip channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkEvidence {
    /// The log's origin.
    pub origin: String,
    /// The signed checkpoint remembered in the state directory (note bytes).
    pub remembered: Vec<u8>,
    /// The signed checkpoint presented now (note bytes).
    pub presented: Vec<u8>,
}

/// Why a bundle, log entry or checkpoint did not verify.
///
/// The variants follow the checks in order: bundle shape, artifact digest, signature, logged
/// body, checkpoint (log, signature, origin, validity window, witnesses, freshness),
/// inclusion proof, SET, and finally the rollback/fork state.
/// [`VerifyError::is_verification_failure`] separates "this bundle is not good" from
/// "something could not be read".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    // --- 1. bundle shape and media type
    /// The bundle is not JSON of the Sigstore Bundle shape.
    #[error("bundle: not a Sigstore bundle: {0}")]
    MalformedBundle(String),
    /// The bundle's `mediaType` is not a Sigstore bundle version this verifier reads.
    #[error("bundle: unsupported mediaType {0:?}")]
    UnsupportedMediaType(String),
    /// A field the check needs is absent or of the wrong kind (for example a certificate where
    /// a key-signed bundle is expected, or no transparency log entry).
    #[error("bundle: {0}")]
    BundleShape(&'static str),

    // --- 2. artifact digest
    /// The bundle's message digest is of another hash than the key signs.
    #[error("artifact digest: the bundle has a {bundle} digest but the key signs {key} digests")]
    DigestAlgorithm {
        /// The algorithm named in the bundle.
        bundle: String,
        /// The algorithm the key's signatures cover.
        key: String,
    },
    /// The artifact does not hash to the digest in the bundle: this bundle is for another
    /// artifact, or the artifact was changed.
    #[error("artifact digest: the artifact's {algorithm} digest {actual} is not the bundle's {expected}")]
    DigestMismatch {
        /// The hash algorithm.
        algorithm: String,
        /// Hex of the bundle's digest.
        expected: String,
        /// Hex of the artifact's digest.
        actual: String,
    },
    /// The artifact could not be read.
    #[error("artifact: {0}")]
    Artifact(#[source] std::io::Error),

    // --- 3. signature
    /// The bundle's signature does not verify over the digest with the given key (or is
    /// malformed for the key's algorithm).
    #[error("signature: {0}")]
    Signature(#[source] EntryError),

    // --- 4. logged body
    /// The logged body cannot be read (not canonical, or of an unsupported kind where the
    /// check needs to read it).
    #[error("log entry body: {0}")]
    Body(#[source] EntryError),
    /// The logged body records something other than this bundle: another digest, signature
    /// or key. `field` names what differs.
    #[error("log entry body: its {field} is not the bundle's")]
    BodyMismatch {
        /// What differs.
        field: &'static str,
    },

    // --- 5. checkpoint
    /// No log in the trusted root has the entry's log ID.
    #[error("checkpoint: log ID {log_id} is not in the trusted root")]
    UnknownLog {
        /// Hex of the entry's `logId.keyId`.
        log_id: String,
    },
    /// The entry has no inclusion proof or no checkpoint.
    #[error("checkpoint: the entry has no {0} (offline verification needs one)")]
    MissingProof(&'static str),
    /// The checkpoint is malformed or not signed by the log's key (unverified, or a bad
    /// signature from the log's key name and key ID).
    #[error("checkpoint: {0}")]
    Checkpoint(#[source] NoteError),
    /// The checkpoint is signed by the log's key but names another log.
    #[error("checkpoint: origin {found:?} is not the log's ({expected})")]
    CheckpointOrigin {
        /// What the trusted root makes us expect.
        expected: String,
        /// The checkpoint's origin line.
        found: String,
    },
    /// The entry's time is outside the validity window the trusted root gives the log key.
    #[error("checkpoint: the log key of {log} is valid {window}, but the entry was integrated at {time}")]
    LogKeyNotValid {
        /// The log's base URL.
        log: String,
        /// Unix seconds of the entry.
        time: i64,
        /// The window, for people.
        window: String,
    },
    /// A witness in the policy has a bad cosignature on the checkpoint.
    #[error("checkpoint: witness cosignature: {0}")]
    Cosignature(#[source] NoteError),
    /// The witnesses that cosigned the checkpoint do not meet the policy's quorum.
    #[error("checkpoint: {have} valid policy witness cosignature(s) do not meet the {quorum}")]
    WitnessQuorum {
        /// Verified cosignatures from the policy's witnesses.
        have: usize,
        /// The policy's quorum, for people.
        quorum: String,
    },
    /// The witness policy lists logs, and not this one.
    #[error("checkpoint: the witness policy does not list the log {log}")]
    LogNotInPolicy {
        /// The log's base URL.
        log: String,
    },
    /// A freshness bound is set but nothing dates the checkpoint (no verified cosignature
    /// timestamp, no SET-backed integrated time).
    #[error("checkpoint: a freshness bound is set but no signed time dates the checkpoint")]
    CheckpointUndated,
    /// The checkpoint is older than the freshness bound.
    #[error("checkpoint: {age} s old; the bound is {max_age} s")]
    StaleCheckpoint {
        /// Age in seconds.
        age: u64,
        /// The bound in seconds.
        max_age: u64,
    },

    // --- 6. inclusion proof
    /// The inclusion proof's tree size, root or index disagree with the checkpoint or entry.
    #[error("inclusion proof: {0}")]
    ProofMismatch(&'static str),
    /// The inclusion proof does not lead from the entry to the checkpoint's root.
    #[error("inclusion proof: {0}")]
    Inclusion(#[source] ProofError),

    // --- 7. SET
    /// The entry has no SET but the options require one.
    #[error("signed entry timestamp: missing (required by the options)")]
    MissingSet,
    /// The SET does not verify (or is malformed) with the log's key.
    #[error("signed entry timestamp: {0}")]
    Set(#[source] EntryError),

    // --- 8. rollback and split-view state
    /// The checkpoint differs from the remembered one in a way only a consistency proof can
    /// settle, and none was available.
    #[error("state: checkpoint of size {presented} and remembered size {remembered} need a consistency proof, and none is available")]
    ConsistencyProofUnavailable {
        /// Size of the presented checkpoint.
        presented: u64,
        /// Size of the remembered checkpoint.
        remembered: u64,
    },
    /// The consistency proof between the remembered and the presented checkpoint fails: the
    /// log may have forked (or the proof source is wrong).
    #[error("state: consistency proof from size {old} to {new} fails ({error}): possible fork of {}", evidence.origin)]
    InconsistentCheckpoints {
        /// The smaller tree size.
        old: u64,
        /// The larger tree size.
        new: u64,
        /// Why the proof failed.
        error: ProofError,
        /// Both signed checkpoints.
        evidence: Box<ForkEvidence>,
    },
    /// Two checkpoints of the same size with different roots, both signed by the log: a fork.
    #[error("state: FORK: the log {} signed two different trees of the same size", evidence.origin)]
    Fork {
        /// Both signed checkpoints.
        evidence: Box<ForkEvidence>,
    },
    /// The state directory could not be read or written.
    #[error("state: {0}")]
    State(#[source] std::io::Error),
    /// The consistency proof source failed.
    #[error("state: fetching a consistency proof: {0}")]
    ProofSource(String),

    // --- trust material
    /// The trusted root is unusable (malformed, or no usable log).
    #[error("trusted root: {0}")]
    TrustedRoot(String),
}

impl VerifyError {
    /// Returns true when the inputs were read but do not verify (the bundle, artifact or log
    /// is not good), as opposed to an input that could not be read or a failing state
    /// directory or proof source.
    pub fn is_verification_failure(&self) -> bool {
        !matches!(
            self,
            VerifyError::Artifact(_)
                | VerifyError::State(_)
                | VerifyError::ProofSource(_)
                | VerifyError::TrustedRoot(_)
                | VerifyError::ConsistencyProofUnavailable { .. }
        )
    }

    /// Returns the fork evidence when this error is a (possible) fork.
    pub fn fork_evidence(&self) -> Option<&ForkEvidence> {
        match self {
            VerifyError::Fork { evidence }
            | VerifyError::InconsistentCheckpoints { evidence, .. } => Some(evidence),
            _ => None,
        }
    }

    /// Returns a short stable name of the check that failed, for `--json` output and logs.
    pub fn check(&self) -> &'static str {
        match self {
            VerifyError::MalformedBundle(_)
            | VerifyError::UnsupportedMediaType(_)
            | VerifyError::BundleShape(_) => "bundle",
            VerifyError::DigestAlgorithm { .. }
            | VerifyError::DigestMismatch { .. }
            | VerifyError::Artifact(_) => "digest",
            VerifyError::Signature(_) => "signature",
            VerifyError::Body(_) | VerifyError::BodyMismatch { .. } => "body",
            VerifyError::UnknownLog { .. }
            | VerifyError::MissingProof(_)
            | VerifyError::Checkpoint(_)
            | VerifyError::CheckpointOrigin { .. }
            | VerifyError::LogKeyNotValid { .. } => "checkpoint",
            VerifyError::Cosignature(_)
            | VerifyError::WitnessQuorum { .. }
            | VerifyError::LogNotInPolicy { .. } => "witnesses",
            VerifyError::CheckpointUndated | VerifyError::StaleCheckpoint { .. } => "freshness",
            VerifyError::ProofMismatch(_) | VerifyError::Inclusion(_) => "inclusion",
            VerifyError::MissingSet | VerifyError::Set(_) => "set",
            VerifyError::ConsistencyProofUnavailable { .. }
            | VerifyError::InconsistentCheckpoints { .. }
            | VerifyError::ProofSource(_)
            | VerifyError::State(_) => "state",
            VerifyError::Fork { .. } => "fork",
            VerifyError::TrustedRoot(_) => "trusted-root",
        }
    }
}
