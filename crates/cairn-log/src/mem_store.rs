//! An in-memory store: for tests, and the reference the conformance suite holds drivers to.
//! It keeps the same contract as a durable store except that "durable" means "in this process".

use crate::store::{CommitBatch, LogMeta, LogStore, StoreError, StoredEntry, TreeState};
use cairn_merkle::Hash;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct Inner {
    meta: Option<LogMeta>,
    state: Option<TreeState>,
    tiles: HashMap<(u8, u64), Vec<u8>>,
    entries: BTreeMap<u64, StoredEntry>,
    dedup: HashMap<Hash, u64>,
}

/// A [`LogStore`] held in memory.
#[derive(Default)]
pub struct MemStore {
    inner: Mutex<Inner>,
}

impl MemStore {
    /// Returns an empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Corrupt("memory store lock poisoned".into()))
    }
}

impl LogStore for MemStore {
    fn meta(&self) -> Result<Option<LogMeta>, StoreError> {
        Ok(self.lock()?.meta.clone())
    }

    fn init(&self, meta: &LogMeta, state: &TreeState) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        if inner.meta.is_some() {
            return Err(StoreError::AlreadyInitialized);
        }
        inner.meta = Some(meta.clone());
        inner.state = Some(state.clone());
        Ok(())
    }

    fn state(&self) -> Result<TreeState, StoreError> {
        self.lock()?.state.clone().ok_or(StoreError::NotInitialized)
    }

    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let found = inner.state.as_ref().ok_or(StoreError::NotInitialized)?.size;
        if found != batch.old_size {
            return Err(StoreError::Conflict {
                expected: batch.old_size,
                found,
            });
        }
        for e in &batch.entries {
            inner.entries.insert(
                e.index,
                StoredEntry {
                    integrated_time: e.integrated_time,
                    body: e.body.clone(),
                },
            );
            inner.dedup.insert(e.leaf_hash, e.index);
        }
        for (tile, data) in &batch.tiles {
            inner
                .tiles
                .insert((tile.level(), tile.index()), data.clone());
        }
        inner.state = Some(batch.new_state.clone());
        Ok(())
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock()?.tiles.get(&(level, index)).cloned())
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, StoreError> {
        Ok(self
            .lock()?
            .entries
            .range(start..end)
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn lookup(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        Ok(self.lock()?.dedup.get(leaf).copied())
    }
}
