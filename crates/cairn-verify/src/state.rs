//! Rollback and split-view protection for installers: [`CheckpointState`] remembers the newest
//! verified checkpoint of each log in a directory, one file per origin.
//!
//! For a newly verified checkpoint and the remembered one of the same log:
//!
//! | sizes | what is needed | result |
//! |---|---|---|
//! | nothing remembered | — | remember it ([`StateOutcome::First`]) |
//! | equal, same root | — | [`StateOutcome::Same`] |
//! | equal, other root | — | [`VerifyError::Fork`] with both signed checkpoints |
//! | presented larger | consistency proof remembered → presented | remember it ([`StateOutcome::Advanced`]) |
//! | presented smaller | consistency proof presented → remembered | accept, keep ([`StateOutcome::Older`]) |
//!
//! A proof comes from the caller's [`ConsistencyProofSource`] (the HTTP client fetches one
//! from the log's tiles; a file shipped beside the bundle works too). No proof available is
//! [`VerifyError::ConsistencyProofUnavailable`]; a proof that fails is
//! [`VerifyError::InconsistentCheckpoints`], with both checkpoints as evidence.
//!
//! Durability: the new state is written to a temporary file, fsynced, renamed over the old
//! one, and the directory fsynced, so a crash leaves the old or the new checkpoint, never a
//! torn one. A lock file (`<file>.lock`, created exclusively) serialises updates from
//! concurrent installers, and the remembered checkpoint is read again under the lock, so the
//! check and the write are one step.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cairn_merkle::{verify_consistency, Hash};
use cairn_note::{Checkpoint, SignedCheckpoint};
use sha2::{Digest as _, Sha256};

use crate::error::{ForkEvidence, VerifyError};
use crate::tlog::VerifiedCheckpoint;

/// Supplies RFC 6962 consistency proofs between two sizes of a log's tree.
pub trait ConsistencyProofSource {
    /// Returns the proof from the tree of `old_size` to the tree of `new_size` of the log with
    /// this origin, or `Ok(None)` when this source has none.
    ///
    /// # Errors
    /// A fetch failure, described for people.
    fn consistency_proof(
        &self,
        origin: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<Option<Vec<Hash>>, String>;
}

/// A source with no proofs: only equal sizes (or a first checkpoint) pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProofs;

impl ConsistencyProofSource for NoProofs {
    fn consistency_proof(&self, _: &str, _: u64, _: u64) -> Result<Option<Vec<Hash>>, String> {
        Ok(None)
    }
}

/// Fixed proofs, for example from a file shipped beside the bundle: `(origin, old, new, hashes)`.
#[derive(Debug, Clone, Default)]
pub struct StaticProofs(pub Vec<(String, u64, u64, Vec<Hash>)>);

impl ConsistencyProofSource for StaticProofs {
    fn consistency_proof(
        &self,
        origin: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<Option<Vec<Hash>>, String> {
        Ok(self
            .0
            .iter()
            .find(|(o, a, b, _)| o == origin && *a == old_size && *b == new_size)
            .map(|(_, _, _, p)| p.clone()))
    }
}

/// What [`CheckpointState::check`] concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateOutcome {
    /// Nothing was remembered for this log; the checkpoint is now.
    First,
    /// The remembered checkpoint has the same size and root.
    Same,
    /// The checkpoint is newer and consistent; it replaced the remembered one of `from` leaves.
    Advanced {
        /// The previously remembered size.
        from: u64,
    },
    /// The checkpoint is older than the remembered one of `newest` leaves and consistent with it.
    Older {
        /// The remembered size, which stays.
        newest: u64,
    },
}

/// The newest verified checkpoint of each log, in a directory.
#[derive(Debug, Clone)]
pub struct CheckpointState {
    dir: PathBuf,
}

/// How long a lock file may live before it is taken for the leftover of a crashed process.
const STALE_LOCK: Duration = Duration::from_secs(60);

impl CheckpointState {
    /// Opens (creating if needed) a state directory.
    ///
    /// # Errors
    /// [`VerifyError::State`] when the directory cannot be created.
    pub fn open(dir: impl Into<PathBuf>) -> Result<CheckpointState, VerifyError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(VerifyError::State)?;
        Ok(CheckpointState { dir })
    }

    /// Returns the file that holds a log's state: the hex SHA-256 of its origin (origins hold
    /// `/`, `:` and spaces), with the `.checkpoint` extension.
    pub fn path_for(&self, origin: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.checkpoint",
            hex::encode(Sha256::digest(origin))
        ))
    }

    /// Returns the remembered signed checkpoint of the log with this origin.
    ///
    /// # Errors
    /// [`VerifyError::State`] when the file cannot be read or does not hold a checkpoint of
    /// this origin.
    pub fn remembered(&self, origin: &str) -> Result<Option<SignedCheckpoint>, VerifyError> {
        read_state(&self.path_for(origin), origin)
    }

    /// Checks a verified checkpoint against the remembered one of its log and remembers it
    /// when it is newer (see the module doc for the rules).
    ///
    /// # Errors
    /// [`VerifyError::Fork`], [`VerifyError::InconsistentCheckpoints`],
    /// [`VerifyError::ConsistencyProofUnavailable`], [`VerifyError::ProofSource`], or
    /// [`VerifyError::State`] for file errors.
    pub fn check(
        &self,
        presented: &VerifiedCheckpoint,
        proofs: &dyn ConsistencyProofSource,
    ) -> Result<StateOutcome, VerifyError> {
        let cp = presented.checkpoint();
        let origin = cp.origin.as_str();
        let path = self.path_for(origin);
        let _lock = Lock::acquire(&path)?;
        let Some(remembered) = read_state(&path, origin)? else {
            write_atomic(&path, presented.note_bytes())?;
            return Ok(StateOutcome::First);
        };
        let old = remembered.checkpoint();
        let evidence = || {
            Box::new(ForkEvidence {
                origin: origin.to_string(),
                remembered: remembered.to_bytes(),
                presented: presented.note_bytes().to_vec(),
            })
        };
        if cp.size == old.size {
            return if cp.root == old.root {
                Ok(StateOutcome::Same)
            } else {
                Err(VerifyError::Fork {
                    evidence: evidence(),
                })
            };
        }
        let (small, large): (&Checkpoint, &Checkpoint) = if cp.size < old.size {
            (cp, old)
        } else {
            (old, cp)
        };
        let proof = proofs
            .consistency_proof(origin, small.size, large.size)
            .map_err(VerifyError::ProofSource)?
            .ok_or(VerifyError::ConsistencyProofUnavailable {
                presented: cp.size,
                remembered: old.size,
            })?;
        verify_consistency(small.size, large.size, &small.root, &large.root, &proof).map_err(
            |error| VerifyError::InconsistentCheckpoints {
                old: small.size,
                new: large.size,
                error,
                evidence: evidence(),
            },
        )?;
        if cp.size > old.size {
            write_atomic(&path, presented.note_bytes())?;
            Ok(StateOutcome::Advanced { from: old.size })
        } else {
            Ok(StateOutcome::Older { newest: old.size })
        }
    }
}

fn read_state(path: &Path, origin: &str) -> Result<Option<SignedCheckpoint>, VerifyError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(VerifyError::State(e)),
    };
    let bad = |what: String| {
        VerifyError::State(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        ))
    };
    let signed = SignedCheckpoint::parse(&bytes).map_err(|e| bad(e.to_string()))?;
    if signed.checkpoint().origin.as_str() != origin {
        return Err(bad(format!(
            "holds a checkpoint of {:?}, not {origin:?}",
            signed.checkpoint().origin.as_str()
        )));
    }
    Ok(Some(signed))
}

/// Writes `bytes` to `path` atomically and durably: temp file, fsync, rename, fsync of the
/// directory (without the last step a crash can lose the rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), VerifyError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("checkpoint.tmp");
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(VerifyError::State)
}

/// An exclusive lock on a state file: `<file>.lock`, created with O_EXCL, removed on drop.
struct Lock(PathBuf);

impl Lock {
    fn acquire(path: &Path) -> Result<Lock, VerifyError> {
        let lock = path.with_extension("lock");
        for _ in 0..200 {
            match OpenOptions::new().write(true).create_new(true).open(&lock) {
                Ok(_) => return Ok(Lock(lock)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(&lock)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        let _ = fs::remove_file(&lock);
                    } else {
                        std::thread::sleep(Duration::from_millis(25));
                    }
                }
                Err(e) => return Err(VerifyError::State(e)),
            }
        }
        Err(VerifyError::State(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            format!("{} is held by another process", lock.display()),
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}
