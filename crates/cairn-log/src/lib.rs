//! The log engine, without network I/O: the sequencer that owns the tree, the storage trait
//! with its written durability contract, the embedded redb store, an in-memory store, and the
//! conformance suite every store passes ([`testing::check_store`]).
//!
//! It does not speak HTTP, verify submitted signatures, or read the clock: the server does
//! those and hands the sequencer verified entries and a [`Clock`].

#![forbid(unsafe_code)]

mod mem_store;
mod redb_store;
mod sequencer;
mod store;
pub mod testing;

pub use mem_store::MemStore;
pub use redb_store::{RedbStore, TableSpace, DEFAULT_CACHE_BYTES};
pub use sequencer::{
    BatchOutcome, Clock, PendingEntry, Published, Sequenced, Sequencer, SequencerError, StoreTiles,
};
pub use store::{CommitBatch, LogMeta, LogStore, NewEntry, StoreError, StoredEntry, TreeState};
