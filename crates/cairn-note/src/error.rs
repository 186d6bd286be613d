//! The crate's one error type, [`NoteError`], and [`Format`], which names the format an input
//! failed to parse as.
//!
//! The variants fall into three groups, because callers answer them differently (a server maps
//! the first to 400 and the second to 403, STYLE P6):
//! - malformed input: [`NoteError::Malformed`], [`NoteError::DuplicateSignature`];
//! - verification failure: [`NoteError::UnverifiedNote`], [`NoteError::BadSignature`],
//!   [`NoteError::OriginMismatch`];
//! - caller or signer failure: [`NoteError::InvalidArgument`], [`NoteError::Signer`].

use std::fmt;

use crate::name::{KeyName, Origin};

/// The text or binary format that an input failed to parse as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// A signed-note key name.
    KeyName,
    /// A checkpoint origin line.
    Origin,
    /// A signed note, or note text about to be signed.
    Note,
    /// A single signature line of a signed note.
    SignatureLine,
    /// A verifier key string (`<name>+<hex id>+<base64 key>`).
    Vkey,
    /// A public key (raw bytes or DER SubjectPublicKeyInfo).
    PublicKey,
    /// A checkpoint body.
    Checkpoint,
    /// A tlog-cosignature/v1 signature.
    Cosignature,
    /// A `c2sp.org/tlog-proof@v1` file.
    TlogProof,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::KeyName => "key name",
            Format::Origin => "origin",
            Format::Note => "signed note",
            Format::SignatureLine => "signature line",
            Format::Vkey => "verifier key",
            Format::PublicKey => "public key",
            Format::Checkpoint => "checkpoint",
            Format::Cosignature => "cosignature",
            Format::TlogProof => "tlog-proof",
        })
    }
}

/// An error from parsing, signing or verifying notes, checkpoints, cosignatures and proofs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The input is not a well-formed value of `format` (this includes inputs over a size or
    /// count limit). Nothing about its signatures is known.
    #[error("malformed {format}: {reason}")]
    Malformed {
        /// The format the input was parsed as.
        format: Format,
        /// What was wrong, for people; do not match on it.
        reason: &'static str,
    },
    /// The note carries two signatures from the same known key (same name and key ID). The
    /// signed-note spec leaves this open; like Go's `note.Open` we refuse rather than guess
    /// which one counts.
    #[error("two signatures from known key {name} ({key_id:08x})")]
    DuplicateSignature {
        /// The key name of the repeated signature.
        name: KeyName,
        /// The key ID of the repeated signature.
        key_id: u32,
    },
    /// No signature on the note is from a known key, so its text must not be trusted.
    #[error("note has no verified signature from a known key")]
    UnverifiedNote,
    /// A signature whose key name and key ID match a known key does not verify. The spec says
    /// the whole note SHOULD then be rejected, and we do.
    #[error("bad signature from known key {name} ({key_id:08x})")]
    BadSignature {
        /// The key name on the failing signature line.
        name: KeyName,
        /// The key ID on the failing signature line.
        key_id: u32,
    },
    /// A verified checkpoint is for a different log than the caller expected.
    #[error("checkpoint origin is {found:?}, expected {expected:?}")]
    OriginMismatch {
        /// The origin the caller asked for.
        expected: Origin,
        /// The origin on the checkpoint.
        found: Origin,
    },
    /// The caller asked for something that cannot be done, such as signing with no signers.
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// A [`crate::NoteSigner`] could not produce a signature (for example, a remote key
    /// service failed).
    #[error("signer failed")]
    Signer(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl NoteError {
    /// Returns true when the input itself is malformed (a 400 for a server).
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            NoteError::Malformed { .. } | NoteError::DuplicateSignature { .. }
        )
    }

    /// Returns true when the input was well formed but did not verify against the given keys
    /// (a 403 for a server).
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            NoteError::UnverifiedNote
                | NoteError::BadSignature { .. }
                | NoteError::OriginMismatch { .. }
        )
    }

    pub(crate) fn malformed(format: Format, reason: &'static str) -> NoteError {
        NoteError::Malformed { format, reason }
    }
}
