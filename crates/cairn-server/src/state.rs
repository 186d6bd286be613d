//! The state every handler shares.

use crate::metrics::Metrics;
use crate::sequencing::Job;
use cairn_entry::SetSigner;
use cairn_log::{LogStore, Published};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Cheap to clone: everything sits behind one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Arc<dyn LogStore>,
    queue: mpsc::Sender<Job>,
    published: watch::Receiver<Arc<Published>>,
    stopped: watch::Receiver<bool>,
    set_signer: SetSigner,
    log_id: [u8; 32],
    trusted_root: Vec<u8>,
    metrics: Arc<Metrics>,
}

/// What [`AppState::new`] needs.
pub(crate) struct Parts {
    /// The log's store, for reads.
    pub(crate) store: Arc<dyn LogStore>,
    /// The sequencer's queue.
    pub(crate) queue: mpsc::Sender<Job>,
    /// The latest published checkpoint.
    pub(crate) published: watch::Receiver<Arc<Published>>,
    /// Turns `true` when the sequencer stopped on a fatal error.
    pub(crate) stopped: watch::Receiver<bool>,
    /// The log's key, which signs entry timestamps.
    pub(crate) set_signer: SetSigner,
    /// The log ID: SHA-256(origin || 0x0A || 0x01 || public key).
    pub(crate) log_id: [u8; 32],
    /// The serialized TrustedRoot.
    pub(crate) trusted_root: Vec<u8>,
    /// Metrics.
    pub(crate) metrics: Arc<Metrics>,
}

impl AppState {
    /// Builds the state.
    pub(crate) fn new(p: Parts) -> AppState {
        AppState(Arc::new(Inner {
            store: p.store,
            queue: p.queue,
            published: p.published,
            stopped: p.stopped,
            set_signer: p.set_signer,
            log_id: p.log_id,
            trusted_root: p.trusted_root,
            metrics: p.metrics,
        }))
    }

    /// Returns the latest published checkpoint.
    pub fn published(&self) -> Arc<Published> {
        self.0.published.borrow().clone()
    }

    /// Returns whether the sequencer has stopped.
    pub fn is_stopped(&self) -> bool {
        *self.0.stopped.borrow()
    }

    /// Returns the store (reads only: the sequencer is the one writer).
    pub fn store(&self) -> &Arc<dyn LogStore> {
        &self.0.store
    }

    /// Returns the sequencer's queue.
    pub(crate) fn queue(&self) -> &mpsc::Sender<Job> {
        &self.0.queue
    }

    /// Returns the signer of entry timestamps (the log's key).
    pub fn set_signer(&self) -> &SetSigner {
        &self.0.set_signer
    }

    /// Returns the log ID.
    pub fn log_id(&self) -> &[u8; 32] {
        &self.0.log_id
    }

    /// Returns the serialized TrustedRoot.
    pub fn trusted_root_json(&self) -> &[u8] {
        &self.0.trusted_root
    }

    /// Returns the metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
}
