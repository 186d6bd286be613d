//! The storage trait every driver implements, and its durability contract.
//!
//! The contract (MUST language as in Tessera's and Sunlight's drivers):
//! - [`LogStore::commit`] MUST be atomic: after a crash at any point either everything in the
//!   batch is stored, or none of it is.
//! - [`LogStore::commit`] MUST be durable when it returns `Ok`: the batch survives `kill -9`
//!   and power loss. The sequencer answers no submitter before that.
//! - [`LogStore::commit`] MUST be a compare-and-swap on the tree size: if the stored size is
//!   not `batch.old_size`, it MUST write nothing and return [`StoreError::Conflict`]. Two
//!   sequencers on one store can then never fork the log.
//! - Readers MUST only ever see committed batches, whole.
//! - Full tiles are written once and never change; a partial tile is overwritten by a wider
//!   one with the same prefix. The store keeps only the widest version: a narrower width is
//!   served as a prefix of it.

use cairn_merkle::tiles::Tile;
use cairn_merkle::Hash;

/// What identifies a log; fixed when the store is created and checked at every start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogMeta {
    /// The checkpoint origin (also the log's key name).
    pub origin: String,
    /// The log's note verifier key (`name+id+base64`), so a start with another key is refused.
    pub vkey: String,
    /// When the log was created (Unix seconds): the start of its key's validity.
    pub created: u64,
}

impl LogMeta {
    /// Returns whether `other` names the same log (origin and key; not the creation time).
    pub fn same_log(&self, other: &LogMeta) -> bool {
        self.origin == other.origin && self.vkey == other.vkey
    }
}

/// The durable tree state: the size, root and signed checkpoint of the latest commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeState {
    /// Number of entries in the tree.
    pub size: u64,
    /// The tree's root hash.
    pub root: Hash,
    /// The signed checkpoint (a C2SP signed note) for this size and root.
    pub checkpoint: Vec<u8>,
}

/// One entry as it is appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    /// The entry's index in the log.
    pub index: u64,
    /// The RFC 6962 leaf hash of the body (the dedup key).
    pub leaf_hash: Hash,
    /// When the log integrated the entry (Unix seconds).
    pub integrated_time: u64,
    /// The logged bytes.
    pub body: Vec<u8>,
}

/// One entry as it is read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    /// When the log integrated the entry (Unix seconds).
    pub integrated_time: u64,
    /// The logged bytes.
    pub body: Vec<u8>,
}

/// Everything one sequencing round writes, in one atomic and durable commit.
#[derive(Clone, Debug)]
pub struct CommitBatch {
    /// The tree size the batch extends: the compare-and-swap condition.
    pub old_size: u64,
    /// The state after the batch.
    pub new_state: TreeState,
    /// The new entries, with consecutive indexes from `old_size`.
    pub entries: Vec<NewEntry>,
    /// The hash tiles the batch changed, each with its full bytes at the new size.
    pub tiles: Vec<(Tile, Vec<u8>)>,
}

/// A storage failure. Every error from `commit` is fatal for the sequencer: it cannot know
/// what is stored, so it stops and lets a restart reload the state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The compare-and-swap failed: another writer moved the log.
    #[error("tree size is {found}, expected {expected}: another sequencer wrote to this store")]
    Conflict {
        /// The size the batch extended.
        expected: u64,
        /// The size found in the store.
        found: u64,
    },
    /// The store has never been initialised.
    #[error("the store is not initialised")]
    NotInitialized,
    /// `init` on a store that already holds a log.
    #[error("the store already holds a log")]
    AlreadyInitialized,
    /// Stored data that cannot be right (wrong lengths, missing rows).
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, disk full, permissions...).
    #[error("storage backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A log's storage. See the module documentation for the contract every method keeps.
pub trait LogStore: Send + Sync + 'static {
    /// Returns the log's identity, or `None` for an empty store.
    ///
    /// # Errors
    /// Backend failures.
    fn meta(&self) -> Result<Option<LogMeta>, StoreError>;

    /// Creates the log: writes `meta` and the initial (empty-tree) state, atomically and
    /// durably.
    ///
    /// # Errors
    /// [`StoreError::AlreadyInitialized`] if the store already holds a log (nothing is
    /// written), or backend failures.
    fn init(&self, meta: &LogMeta, state: &TreeState) -> Result<(), StoreError>;

    /// Returns the latest committed state.
    ///
    /// # Errors
    /// [`StoreError::NotInitialized`] before `init`, or backend failures.
    fn state(&self) -> Result<TreeState, StoreError>;

    /// Applies `batch` atomically and durably, as a compare-and-swap on `batch.old_size`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the stored size differs (nothing written), or any
    /// backend failure (after which the caller MUST NOT assume either outcome).
    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError>;

    /// Returns the widest stored version of the hash tile at (`level`, `index`).
    ///
    /// # Errors
    /// Backend failures.
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Returns the entries with indexes `start..end` that exist (fewer at the end of the log).
    ///
    /// # Errors
    /// Backend failures.
    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, StoreError>;

    /// Returns the index of the entry with leaf hash `leaf`, if it is in the log.
    ///
    /// # Errors
    /// Backend failures.
    fn lookup(&self, leaf: &Hash) -> Result<Option<u64>, StoreError>;

    /// Returns, for each of `leaves` in order, its index if it is in the log. The default asks
    /// [`LogStore::lookup`] once per leaf; a store behind a network answers in one round trip.
    ///
    /// # Errors
    /// Backend failures.
    fn lookup_batch(&self, leaves: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        leaves.iter().map(|leaf| self.lookup(leaf)).collect()
    }
}

impl<S: LogStore + ?Sized> LogStore for std::sync::Arc<S> {
    fn meta(&self) -> Result<Option<LogMeta>, StoreError> {
        (**self).meta()
    }
    fn init(&self, meta: &LogMeta, state: &TreeState) -> Result<(), StoreError> {
        (**self).init(meta, state)
    }
    fn state(&self) -> Result<TreeState, StoreError> {
        (**self).state()
    }
    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        (**self).commit(batch)
    }
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).read_tile(level, index)
    }
    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, StoreError> {
        (**self).read_entries(start, end)
    }
    fn lookup(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        (**self).lookup(leaf)
    }
    fn lookup_batch(&self, leaves: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        (**self).lookup_batch(leaves)
    }
}
