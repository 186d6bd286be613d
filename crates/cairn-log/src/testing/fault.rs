//! A store wrapper that injects faults into one chosen commit: it fails it, lets it write and
//! then reports an error (the caller cannot know the outcome: an fsync error, a lost reply from
//! a remote database), or stalls it until the test releases it. Reads pass through untouched.
//!
//! The sequencer must treat every commit error as fatal and answer nobody whose entry was in
//! the failed batch; these faults let tests check that below the sequencer, in the server, and
//! across a restart on the real store underneath (as sunlight's `fail_checkpoint_but_persist`).

use crate::store::{CommitBatch, LogMeta, LogStore, StoreError, StoredEntry, TreeState};
use cairn_merkle::Hash;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// What happens to the chosen commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The commit writes nothing and returns a backend error.
    Fail,
    /// The commit writes the whole batch, then returns a backend error: the outcome is unknown
    /// to the caller.
    PersistThenFail,
    /// The commit blocks until [`FaultStore::release`], then runs normally.
    Stall,
}

#[derive(Default)]
struct Plan {
    /// Commits attempted so far (successful or not).
    commits: u64,
    /// The commit number (1-based, counted from the store's creation) and its fault.
    armed: Option<(u64, Fault)>,
    /// A commit is blocked in [`Fault::Stall`].
    stalled: bool,
    /// The stalled commit may go on.
    released: bool,
}

/// A [`LogStore`] around `S` that injects one [`Fault`] at a chosen commit.
pub struct FaultStore<S> {
    inner: S,
    plan: Mutex<Plan>,
    changed: Condvar,
}

/// The error an injected fault returns.
#[derive(Debug, thiserror::Error)]
#[error("injected fault at commit {commit}: {fault:?}")]
pub struct InjectedFault {
    /// The commit number.
    pub commit: u64,
    /// The fault.
    pub fault: Fault,
}

impl<S: LogStore> FaultStore<S> {
    /// Returns `inner` wrapped, with no fault armed.
    pub fn new(inner: S) -> FaultStore<S> {
        FaultStore {
            inner,
            plan: Mutex::new(Plan::default()),
            changed: Condvar::new(),
        }
    }

    /// Returns the wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn plan(&self) -> MutexGuard<'_, Plan> {
        // A test thread that panicked while holding the lock is already a failed test.
        self.plan.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms `fault` for the `n`-th commit from now (1 = the next one). Only one fault is armed
    /// at a time; arming again replaces it.
    pub fn arm(&self, n: u64, fault: Fault) {
        let mut p = self.plan();
        p.armed = Some((p.commits + n, fault));
        p.released = false;
    }

    /// Returns how many commits were attempted.
    pub fn commits(&self) -> u64 {
        self.plan().commits
    }

    /// Waits up to `timeout` for a commit to block in [`Fault::Stall`]; returns whether one is.
    pub fn wait_stalled(&self, timeout: Duration) -> bool {
        let p = self.plan();
        let (p, _) = self
            .changed
            .wait_timeout_while(p, timeout, |p| !p.stalled)
            .unwrap_or_else(|e| e.into_inner());
        p.stalled
    }

    /// Lets a stalled commit go on (or the next one to stall, if none is blocked yet).
    pub fn release(&self) {
        self.plan().released = true;
        self.changed.notify_all();
    }
}

impl<S: LogStore> LogStore for FaultStore<S> {
    fn meta(&self) -> Result<Option<LogMeta>, StoreError> {
        self.inner.meta()
    }
    fn init(&self, meta: &LogMeta, state: &TreeState) -> Result<(), StoreError> {
        self.inner.init(meta, state)
    }
    fn state(&self) -> Result<TreeState, StoreError> {
        self.inner.state()
    }
    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        let fault = {
            let mut p = self.plan();
            p.commits += 1;
            let commit = p.commits;
            match p.armed {
                Some((at, fault)) if at == commit => Some((commit, fault)),
                _ => None,
            }
        };
        let injected =
            |commit, fault| StoreError::Backend(Box::new(InjectedFault { commit, fault }));
        match fault {
            None => self.inner.commit(batch),
            Some((commit, Fault::Fail)) => Err(injected(commit, Fault::Fail)),
            Some((commit, Fault::PersistThenFail)) => {
                self.inner.commit(batch)?;
                Err(injected(commit, Fault::PersistThenFail))
            }
            Some((_, Fault::Stall)) => {
                let mut p = self.plan();
                p.stalled = true;
                self.changed.notify_all();
                let mut p = self
                    .changed
                    .wait_while(p, |p| !p.released)
                    .unwrap_or_else(|e| e.into_inner());
                p.stalled = false;
                drop(p);
                self.inner.commit(batch)
            }
        }
    }
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read_tile(level, index)
    }
    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, StoreError> {
        self.inner.read_entries(start, end)
    }
    fn lookup(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        self.inner.lookup(leaf)
    }
}
