//! The sequencing thread: owns the [`Sequencer`], takes submissions from a bounded queue,
//! and answers each through its own oneshot channel after the batch is durable.
//!
//! It is an OS thread rather than a tokio task because each round ends in a blocking fsync;
//! the queue (tokio mpsc) and replies (tokio oneshot) work from both sides without a runtime.
//! Batching is opportunistic group commit: a round takes everything waiting (up to
//! `max_batch`) and never waits on a timer while entries are queued, so batches are small at
//! low load and large at high load. `batch_delay` (default zero) lets an operator trade
//! latency for larger batches: a round then waits up to that long for more entries.

use crate::metrics::Metrics;
use crate::witnessing::{WitnessMode, Witnessing};
use cairn_log::{BatchOutcome, LogStore, PendingEntry, Published, Sequenced, Sequencer};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

/// One submission waiting for the sequencer.
pub(crate) struct Job {
    /// The verified entry.
    pub(crate) entry: PendingEntry,
    /// Where the answer goes; `Err` when there is no answer to give.
    pub(crate) reply: oneshot::Sender<Result<Answer, Unanswered>>,
}

/// The sequencer's answer to one job.
pub(crate) struct Answer {
    /// Index, time, duplicate flag and proof.
    pub(crate) sequenced: Sequenced,
    /// The checkpoint the proof is against.
    pub(crate) published: Arc<Published>,
}

/// Why a job gets no answer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unanswered {
    /// The sequencer stopped on a fatal error; nothing about this entry is known to be durable.
    Stopped,
    /// The entry is durable at `index`, but (failing closed) its checkpoint did not reach the
    /// witness quorum, so there is no published checkpoint to prove it against yet.
    Unwitnessed {
        /// The entry's index.
        index: u64,
    },
}

/// How the loop runs.
pub(crate) struct Settings {
    /// Most entries per round.
    pub(crate) max_batch: usize,
    /// Longest a round waits for more entries.
    pub(crate) batch_delay: Duration,
    /// Witnesses to cosign each new checkpoint, if any.
    pub(crate) witnessing: Option<Witnessing>,
}

/// Runs the sequencing loop until the queue closes or a fatal error. On a fatal error it
/// fails every job it holds and sends `true` on `fatal`, so the server shuts down rather than
/// go on with unknown state.
///
/// With witnesses, publishing is pipelined: the durable batch goes to a publishing thread
/// that collects its cosignatures, publishes and answers, while this thread already commits
/// the next batch. Witnesses still see every checkpoint in order (one publishing thread,
/// each proof from the size the witness last cosigned); without the pipeline each round
/// would take commit + witnessing and throughput would halve (docs/performance.md).
pub(crate) fn run<S: LogStore>(
    mut seq: Sequencer<S>,
    mut queue: mpsc::Receiver<Job>,
    published: watch::Sender<Arc<Published>>,
    fatal: watch::Sender<bool>,
    settings: Settings,
    metrics: Arc<Metrics>,
) {
    let Settings {
        max_batch,
        batch_delay,
        witnessing,
    } = settings;
    // A runtime of this thread's own, only to wait on the queue with a deadline.
    let waiter = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(target: "cairn.log", error = %e, "cannot start the sequencer");
            let _ = fatal.send(true);
            return;
        }
    };
    let publisher = match Publisher::start(witnessing, seq.published(), published, &metrics) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(target: "cairn.log", error = %e, "cannot start the publisher");
            let _ = fatal.send(true);
            return;
        }
    };
    let mut jobs: Vec<Job> = Vec::with_capacity(max_batch);
    while let Some(first) = queue.blocking_recv() {
        jobs.push(first);
        let deadline = Instant::now() + batch_delay;
        while jobs.len() < max_batch {
            match queue.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) if batch_delay.is_zero() => break,
                Err(_) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match waiter.block_on(tokio::time::timeout(left, queue.recv())) {
                        Ok(Some(j)) => jobs.push(j),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }
        let started = Instant::now();
        let pending: Vec<PendingEntry> = jobs
            .iter_mut()
            .map(|j| PendingEntry {
                body: std::mem::take(&mut j.entry.body),
                leaf_hash: j.entry.leaf_hash,
            })
            .collect();
        match seq.integrate(&pending) {
            Ok(outcome) => {
                metrics.observe_integration(started.elapsed().as_secs_f64());
                metrics.batches.fetch_add(1, Relaxed);
                metrics.batch_entries.fetch_add(jobs.len() as u64, Relaxed);
                metrics.tree_size.store(outcome.published.size, Relaxed);
                let batch = std::mem::replace(&mut jobs, Vec::with_capacity(max_batch));
                publisher.publish(batch, outcome);
            }
            Err(e) => {
                tracing::error!(target: "cairn.log", error = %e, "sequencer stopped on a fatal error");
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(Unanswered::Stopped));
                }
                queue.close();
                while let Ok(job) = queue.try_recv() {
                    let _ = job.reply.send(Err(Unanswered::Stopped));
                }
                let _ = fatal.send(true);
                // Batches already committed are still witnessed and answered.
                publisher.finish();
                return;
            }
        }
    }
    publisher.finish();
}

/// Publishes durable batches and answers their submitters: inline without witnesses, on a
/// thread of its own with them.
enum Publisher {
    Inline(Box<Publish>),
    Pipelined {
        batches: std::sync::mpsc::SyncSender<(Vec<Job>, BatchOutcome)>,
        thread: std::thread::JoinHandle<()>,
    },
}

impl Publisher {
    fn start(
        witnessing: Option<Witnessing>,
        first: Published,
        published: watch::Sender<Arc<Published>>,
        metrics: &Arc<Metrics>,
    ) -> std::io::Result<Publisher> {
        let publish = Publish {
            witnessing,
            published,
            metrics: metrics.clone(),
        };
        if publish.witnessing.is_none() {
            return Ok(Publisher::Inline(Box::new(publish)));
        }
        // One batch may wait while another is being cosigned: the sequencer runs at most
        // two batches ahead of what readers see, and queues up larger batches meanwhile.
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<Job>, BatchOutcome)>(1);
        let thread = std::thread::Builder::new()
            .name("cairn-publisher".into())
            .spawn(move || {
                // Cosign the stored checkpoint first, so a restarted log serves it witnessed
                // again.
                publish.republish(first);
                while let Ok((jobs, outcome)) = rx.recv() {
                    publish.batch(jobs, outcome);
                }
            })?;
        Ok(Publisher::Pipelined {
            batches: tx,
            thread,
        })
    }

    fn publish(&self, jobs: Vec<Job>, outcome: BatchOutcome) {
        match self {
            Publisher::Inline(p) => p.batch(jobs, outcome),
            Publisher::Pipelined { batches, .. } => {
                if let Err(std::sync::mpsc::SendError((jobs, _))) = batches.send((jobs, outcome)) {
                    // The publishing thread is gone (it panicked): the entries are durable
                    // but cannot be answered with a witnessed checkpoint.
                    tracing::error!(target: "cairn.witness", "the publishing thread stopped");
                    for job in jobs {
                        let _ = job.reply.send(Err(Unanswered::Stopped));
                    }
                }
            }
        }
    }

    /// Waits until every batch handed over is answered.
    fn finish(self) {
        if let Publisher::Pipelined { batches, thread } = self {
            drop(batches);
            let _ = thread.join();
        }
    }
}

/// The publishing step of one batch.
struct Publish {
    witnessing: Option<Witnessing>,
    published: watch::Sender<Arc<Published>>,
    metrics: Arc<Metrics>,
}

impl Publish {
    fn republish(&self, first: Published) {
        if let Some(w) = &self.witnessing {
            let witnessed = w.cosign(&first);
            if witnessed.met || w.mode() == WitnessMode::Open {
                self.published.send_replace(Arc::new(Published {
                    checkpoint: witnessed.checkpoint,
                    ..first
                }));
            }
        }
    }

    fn batch(&self, mut jobs: Vec<Job>, outcome: BatchOutcome) {
        let mut p = outcome.published;
        if let Some(w) = &self.witnessing {
            let witnessed = w.cosign(&p);
            if !witnessed.met && w.mode() == WitnessMode::Closed {
                for (job, sequenced) in jobs.drain(..).zip(outcome.entries) {
                    let index = sequenced.index;
                    let _ = job.reply.send(Err(Unanswered::Unwitnessed { index }));
                }
                return;
            }
            if !witnessed.met {
                self.metrics
                    .witness_published_unwitnessed
                    .fetch_add(1, Relaxed);
            }
            p.checkpoint = witnessed.checkpoint;
        }
        let p = Arc::new(p);
        self.published.send_replace(p.clone());
        for (job, sequenced) in jobs.drain(..).zip(outcome.entries) {
            // A submitter that gave up has dropped its receiver; nothing to do.
            let _ = job.reply.send(Ok(Answer {
                sequenced,
                published: p.clone(),
            }));
        }
    }
}
