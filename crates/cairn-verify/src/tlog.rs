//! The transparency-log half of verification, usable on its own (for certificate bundles,
//! whose certificate chain is checked elsewhere): the entry's log is in the trusted root, its
//! checkpoint is signed by that log (and cosigned as the policy requires), the inclusion proof
//! leads from the logged body to the checkpoint's root, and the SET, when present, verifies.

use cairn_entry::{set_payload, TransparencyLogEntry};
use cairn_merkle::{leaf_hash, verify_inclusion, Hash};
use cairn_note::{Checkpoint, KeyName, SignedCheckpoint};

use crate::error::VerifyError;
use crate::options::VerifyOptions;
use crate::trust::{LogKind, TrustedLog, TrustedLogs};

/// A checkpoint whose log signature (and witness policy, if any) verified. Only this crate
/// makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    note: Vec<u8>,
    cosigners: Vec<(KeyName, Option<u64>)>,
}

impl VerifiedCheckpoint {
    /// Returns the checkpoint (origin, tree size, root).
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Returns the signed note exactly as the bundle carried it.
    pub fn note_bytes(&self) -> &[u8] {
        &self.note
    }

    /// Returns the policy witnesses whose cosignatures verified, with their timestamps.
    pub fn cosigners(&self) -> &[(KeyName, Option<u64>)] {
        &self.cosigners
    }
}

/// A transparency log entry that verified: checkpoint, inclusion proof and (when present)
/// SET. Only this crate makes one.
#[derive(Debug, Clone)]
pub struct VerifiedTlogEntry {
    log: TrustedLog,
    log_index: u64,
    leaf_index: u64,
    integrated_time: Option<i64>,
    set_verified: bool,
    body: Vec<u8>,
    checkpoint: VerifiedCheckpoint,
}

impl VerifiedTlogEntry {
    /// Returns the log the entry is in.
    pub fn log(&self) -> &TrustedLog {
        &self.log
    }

    /// Returns the entry's `logIndex` (for Rekor v1, the global index across shards).
    pub fn log_index(&self) -> u64 {
        self.log_index
    }

    /// Returns the entry's index in the tree its checkpoint commits to.
    pub fn leaf_index(&self) -> u64 {
        self.leaf_index
    }

    /// Returns the integrated time (Unix seconds) when the entry has one (non-zero).
    pub fn integrated_time(&self) -> Option<i64> {
        self.integrated_time
    }

    /// Returns true when a SET verified, so [`Self::integrated_time`] is signed by the log.
    pub fn set_verified(&self) -> bool {
        self.set_verified
    }

    /// Returns the logged body (`canonicalizedBody`), whose leaf hash the proof verified.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Returns the verified checkpoint.
    pub fn checkpoint(&self) -> &VerifiedCheckpoint {
        &self.checkpoint
    }
}

/// Verifies a transparency log entry offline: checkpoint (log found by log ID, signature by
/// the log's key under its key name, origin, key validity window, witness policy), inclusion
/// proof against the checkpoint, SET, then the checkpoint's freshness.
///
/// It does NOT check that the body records any particular signature or artifact: callers
/// compare [`VerifiedTlogEntry::body`] with what they expect ([`crate::verify_bundle`] does).
///
/// # Errors
/// The [`VerifyError`] of the first check that fails.
pub fn verify_tlog_entry(
    entry: &TransparencyLogEntry,
    trust: &TrustedLogs,
    opts: &VerifyOptions,
) -> Result<VerifiedTlogEntry, VerifyError> {
    let log_id = entry
        .log_id
        .as_ref()
        .map(|l| l.key_id.as_slice())
        .unwrap_or_default();
    let mut logs = trust.find(log_id).peekable();
    if logs.peek().is_none() {
        return Err(VerifyError::UnknownLog {
            log_id: hex::encode(log_id),
        });
    }
    // Several trusted-root entries may share a key (Rekor v1 shards, key rotations with
    // different windows): the entry verifies if it verifies under one of them. Report the
    // error of the first candidate, which is the most specific for the usual single match.
    let mut first_err = None;
    for log in logs {
        match verify_with_log(entry, log, opts) {
            Ok(v) => return Ok(v),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or(VerifyError::UnknownLog {
        log_id: hex::encode(log_id),
    }))
}

fn verify_with_log(
    entry: &TransparencyLogEntry,
    log: &TrustedLog,
    opts: &VerifyOptions,
) -> Result<VerifiedTlogEntry, VerifyError> {
    // --- 5. checkpoint
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or(VerifyError::MissingProof("inclusion proof"))?;
    let envelope = proof
        .checkpoint
        .as_ref()
        .map(|c| c.envelope.as_str())
        .filter(|e| !e.is_empty())
        .ok_or(VerifyError::MissingProof("checkpoint"))?;
    let signed = SignedCheckpoint::parse(envelope.as_bytes()).map_err(VerifyError::Checkpoint)?;
    // Pass ONLY the log's key: any verifying known key is enough for Note::verify.
    let (checkpoint, verified_note) = signed
        .verify(&[log.note_verifier()], None)
        .map_err(VerifyError::Checkpoint)?;
    if !log.origin_matches(checkpoint.origin.as_str()) {
        return Err(VerifyError::CheckpointOrigin {
            expected: log.expected_origin(),
            found: checkpoint.origin.to_string(),
        });
    }
    let integrated_time = (entry.integrated_time != 0).then_some(entry.integrated_time);
    if let Some(t) = integrated_time {
        if !log.valid_at(t) {
            return Err(VerifyError::LogKeyNotValid {
                log: log.base_url().to_string(),
                time: t,
                window: log.window_text(),
            });
        }
    }
    let mut cosigners = Vec::new();
    if let Some(policy) = &opts.witness_policy {
        if !policy.logs().is_empty()
            && !log
                .ed25519_note_key()
                .is_some_and(|k| policy.accepts_log(k))
        {
            return Err(VerifyError::LogNotInPolicy {
                log: log.base_url().to_string(),
            });
        }
        let outcome = policy
            .evaluate(verified_note.note())
            .map_err(VerifyError::Cosignature)?;
        if !outcome.met {
            return Err(VerifyError::WitnessQuorum {
                have: outcome.cosigners.len(),
                quorum: policy.to_string(),
            });
        }
        cosigners = outcome.cosigners;
    }

    // --- 6. inclusion proof
    let leaf_index = u64::try_from(proof.log_index)
        .map_err(|_| VerifyError::ProofMismatch("negative leaf index"))?;
    let log_index = u64::try_from(entry.log_index)
        .map_err(|_| VerifyError::ProofMismatch("negative log index"))?;
    if u64::try_from(proof.tree_size).ok() != Some(checkpoint.size) {
        return Err(VerifyError::ProofMismatch(
            "the proof's tree size is not the checkpoint's",
        ));
    }
    if !proof.root_hash.is_empty() && proof.root_hash != checkpoint.root.0 {
        return Err(VerifyError::ProofMismatch(
            "the proof's root hash is not the checkpoint's",
        ));
    }
    if log.kind() == LogKind::TileLog && log_index != leaf_index {
        return Err(VerifyError::ProofMismatch(
            "the entry's log index is not the proof's leaf index",
        ));
    }
    let hashes = proof
        .hashes
        .iter()
        .map(|h| Hash::from_slice(h))
        .collect::<Option<Vec<Hash>>>()
        .ok_or(VerifyError::ProofMismatch("a proof hash is not 32 bytes"))?;
    let body = &entry.canonicalized_body;
    verify_inclusion(
        leaf_index,
        checkpoint.size,
        &leaf_hash(body),
        &hashes,
        &checkpoint.root,
    )
    .map_err(VerifyError::Inclusion)?;

    // --- 7. SET
    let set = entry
        .inclusion_promise
        .as_ref()
        .map(|p| p.signed_entry_timestamp.as_slice())
        .filter(|s| !s.is_empty());
    let set_verified = match set {
        Some(set) => {
            let id: [u8; 32] = log_id_bytes(entry)?;
            let payload = set_payload(body, entry.integrated_time, &id, log_index);
            log.set_key()
                .verify_set(&payload, set)
                .map_err(VerifyError::Set)?;
            true
        }
        None if opts.require_set => return Err(VerifyError::MissingSet),
        None => false,
    };

    // --- freshness (needs the SET-backed time, so it comes last)
    if let Some(max_age) = opts.max_checkpoint_age {
        let now = opts.now.ok_or(VerifyError::CheckpointUndated)?;
        let cosigned = cosigners.iter().filter_map(|(_, t)| *t).max();
        let set_time = integrated_time
            .filter(|_| set_verified)
            .and_then(|t| u64::try_from(t).ok());
        let dated = cosigned
            .or(set_time)
            .ok_or(VerifyError::CheckpointUndated)?;
        let age = now.saturating_sub(dated);
        if age > max_age {
            return Err(VerifyError::StaleCheckpoint { age, max_age });
        }
    }

    Ok(VerifiedTlogEntry {
        log: log.clone(),
        log_index,
        leaf_index,
        integrated_time,
        set_verified,
        body: body.clone(),
        checkpoint: VerifiedCheckpoint {
            checkpoint,
            note: envelope.as_bytes().to_vec(),
            cosigners,
        },
    })
}

fn log_id_bytes(entry: &TransparencyLogEntry) -> Result<[u8; 32], VerifyError> {
    entry
        .log_id
        .as_ref()
        .and_then(|l| <[u8; 32]>::try_from(l.key_id.as_slice()).ok())
        .ok_or(VerifyError::BundleShape("logId.keyId is not 32 bytes"))
}
