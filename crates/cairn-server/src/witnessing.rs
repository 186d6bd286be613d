//! Collecting witness cosignatures (C2SP tlog-witness) on each new checkpoint.
//!
//! After a batch is durable, the sequencing thread hands its checkpoint to [`Witnessing`],
//! which sends it to every configured witness at once, each with a consistency proof from
//! the size that witness last cosigned. The round ends when every witness has answered, or
//! when the policy's quorum is met and the stragglers have had as long again as the quorum
//! took (so one slow witness cannot hold up every batch, yet a quick one is not cut off), or
//! at the timeout. The checkpoint is then published with the cosignatures that arrived.
//!
//! Whether a round that misses the quorum still publishes is the operator's choice
//! ([`WitnessMode`]): fail closed (the default) answers the batch's submitters with 503 and
//! keeps serving the last witnessed checkpoint; fail open publishes it anyway and counts it.
//!
//! Requests that outlive their round keep running on this module's runtime and record what
//! they learn (the witness's size), so the next round does not start from a stale size. One
//! lock per witness orders its requests: a witness never sees two of ours at once.
//!
//! Cosignatures are not stored: after a restart the first round (on the stored checkpoint)
//! collects them again, which a witness allows because the checkpoint is the one it holds.

use crate::metrics::Metrics;
use cairn_client::witness::{AddCheckpointError, WitnessClient};
use cairn_log::{LogStore, Published, StoreTiles};
use cairn_merkle::tiles::TileHashReader;
use cairn_merkle::{consistency_proof, Hash};
use cairn_note::{AddCheckpointRequest, Note, NoteSignature, SignedCheckpoint};
use cairn_verify::WitnessPolicy;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Mutex};

/// What to do with a checkpoint whose cosignatures do not meet the quorum in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitnessMode {
    /// Do not publish it; answer the batch's submitters 503 (their entries are logged and a
    /// resubmission returns them with the next witnessed checkpoint).
    Closed,
    /// Publish it with the cosignatures that did arrive, and count it in the metrics.
    Open,
}

/// One witness the log sends checkpoints to.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// Index of the witness in the policy.
    pub policy_index: usize,
    /// Its submission prefix (`<url>/add-checkpoint`).
    pub url: String,
}

/// The checked witnessing configuration.
#[derive(Debug, Clone)]
pub struct WitnessingConfig {
    /// The quorum, and the keys the cosignatures are checked with.
    pub policy: WitnessPolicy,
    /// The witnesses the log can reach.
    pub endpoints: Vec<WitnessEndpoint>,
    /// Fail closed or open.
    pub mode: WitnessMode,
    /// Longest a round waits.
    pub timeout: Duration,
}

/// The result of one round.
pub(crate) struct Witnessed {
    /// The checkpoint with the cosignatures that arrived, log signature first.
    pub(crate) checkpoint: Vec<u8>,
    /// Whether they meet the quorum.
    pub(crate) met: bool,
}

struct Slot {
    policy_index: usize,
    client: WitnessClient,
    /// The size this witness last cosigned, as far as we know.
    known: Arc<Mutex<Option<u64>>>,
}

/// Sends checkpoints to witnesses; owned by the sequencing thread.
pub(crate) struct Witnessing {
    /// Always `Some` until dropped (see the `Drop` impl).
    runtime: Option<tokio::runtime::Runtime>,
    slots: Vec<Slot>,
    config: WitnessingConfig,
    store: Arc<dyn LogStore>,
    metrics: Arc<Metrics>,
}

impl Witnessing {
    /// Builds the clients and the runtime their requests run on.
    pub(crate) fn new(
        config: WitnessingConfig,
        store: Arc<dyn LogStore>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Witnessing> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cairn-witnessing")
            .enable_all()
            .build()?;
        let mut slots = Vec::with_capacity(config.endpoints.len());
        for e in &config.endpoints {
            let witness = config
                .policy
                .witnesses()
                .get(e.policy_index)
                .ok_or_else(|| anyhow::anyhow!("witness endpoint outside the policy"))?;
            slots.push(Slot {
                policy_index: e.policy_index,
                client: WitnessClient::new(&e.url, &witness.verifier.vkey(), config.timeout)?,
                known: Arc::new(Mutex::new(None)),
            });
        }
        Ok(Witnessing {
            runtime: Some(runtime),
            slots,
            config,
            store,
            metrics,
        })
    }

    /// Returns the fail mode.
    pub(crate) fn mode(&self) -> WitnessMode {
        self.config.mode
    }

    /// Runs one round for `published` (see the module documentation).
    pub(crate) fn cosign(&self, published: &Published) -> Witnessed {
        let started = Instant::now();
        let unwitnessed = || Witnessed {
            checkpoint: published.checkpoint.clone(),
            met: false,
        };
        let Some(runtime) = &self.runtime else {
            return unwitnessed();
        };
        let signed = match SignedCheckpoint::parse(&published.checkpoint) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(target: "cairn.witness", error = %e, "own checkpoint does not parse");
                return unwitnessed();
            }
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        for slot in &self.slots {
            let task = WitnessTask {
                client: slot.client.clone(),
                known: slot.known.clone(),
                store: self.store.clone(),
                checkpoint: signed.clone(),
            };
            let (tx, index) = (tx.clone(), slot.policy_index);
            runtime.spawn(async move {
                let _ = tx.send((index, task.run().await));
            });
        }
        drop(tx);
        let policy = &self.config.policy;
        let mut cosigned = vec![false; policy.witnesses().len()];
        let mut sigs: Vec<(usize, NoteSignature)> = Vec::new();
        let deadline = tokio::time::Instant::from_std(started + self.config.timeout);
        let m = &self.metrics;
        runtime.block_on(async {
            let mut until = deadline;
            let mut met = policy.is_met(&cosigned);
            loop {
                let next = tokio::time::timeout_at(until, rx.recv()).await;
                let Ok(Some((index, result))) = next else {
                    break; // every witness answered, or time is up
                };
                match result {
                    Ok(sig) => {
                        m.witness_cosignatures.fetch_add(1, Relaxed);
                        if let Some(c) = cosigned.get_mut(index) {
                            *c = true;
                        }
                        sigs.push((index, sig));
                    }
                    Err(e) => {
                        m.witness_errors.fetch_add(1, Relaxed);
                        let name = policy.witnesses().get(index).map(|w| w.name.to_string());
                        tracing::warn!(target: "cairn.witness", witness = ?name, error = %e,
                            size = published.size, "no cosignature");
                    }
                }
                if !met && policy.is_met(&cosigned) {
                    met = true;
                    let grace = started.elapsed();
                    until = until.min(tokio::time::Instant::now() + grace);
                }
            }
        });
        let met = policy.is_met(&cosigned);
        m.observe_witnessing(started.elapsed().as_secs_f64(), met);
        // Cosignature lines in policy order, so the published bytes do not depend on timing.
        sigs.sort_by_key(|(i, _)| *i);
        let lines: Vec<NoteSignature> = sigs.into_iter().map(|(_, s)| s).collect();
        let mut note: Note = signed.note().clone();
        if let Err(e) = note.add_signature_lines(&lines) {
            tracing::error!(target: "cairn.witness", error = %e, "cannot add cosignatures");
            return unwitnessed();
        }
        Witnessed {
            checkpoint: note.to_bytes(),
            met,
        }
    }
}

impl Drop for Witnessing {
    fn drop(&mut self) {
        // Dropping a runtime blocks on its tasks, which panics inside an async context (a
        // failed start drops this in `prepare`); requests still in flight are abandoned.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// One witness's part of a round.
struct WitnessTask {
    client: WitnessClient,
    known: Arc<Mutex<Option<u64>>>,
    store: Arc<dyn LogStore>,
    checkpoint: SignedCheckpoint,
}

impl WitnessTask {
    /// Sends the checkpoint with a proof from the witness's known size; on a 409 learns the
    /// witness's size and tries once more.
    async fn run(self) -> Result<NoteSignature, String> {
        let mut known = self.known.lock().await;
        let size = self.checkpoint.checkpoint().size;
        for _ in 0..2 {
            let old = known.unwrap_or(0);
            if old > size {
                return Err(format!(
                    "the witness holds size {old}, beyond this checkpoint's {size}: it has \
                     seen a larger tree of this log (or of another log under its origin)"
                ));
            }
            let proof = self.proof(old, size)?;
            let request = AddCheckpointRequest {
                old_size: old,
                proof,
                checkpoint: self.checkpoint.clone(),
            };
            match self.client.add_checkpoint(&request).await {
                Ok(sig) => {
                    *known = Some(size);
                    return Ok(sig);
                }
                Err(AddCheckpointError::Conflict { known_size }) => *known = Some(known_size),
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("the witness's size changed between two requests".into())
    }

    fn proof(&self, old: u64, size: u64) -> Result<Vec<Hash>, String> {
        // Every size up to `size` is committed, so its tiles are in the store.
        let reader = TileHashReader::new(size, StoreTiles(&*self.store));
        consistency_proof(old, size, &reader).map_err(|e| format!("consistency proof: {e}"))
    }
}
