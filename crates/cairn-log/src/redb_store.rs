//! The embedded default store, on redb.
//!
//! Why redb and not sled (the design's first choice): sled 0.34 flushes with
//! `sync_file_range`, which does not make data durable on Linux (its issue #1452), and it has
//! open corruption reports. redb commits with a copy-on-write B-tree and fsync
//! (`Durability::Immediate`, its default), so a commit that returned is on disk. See
//! `docs/durability.md`.
//!
//! Tables: `meta` (identity and tree state), `tiles` ((level, index) -> widest tile bytes),
//! `entries` (index -> 8-byte big-endian integrated time || body), `dedup` (leaf hash -> index).
//! Entry bundles are assembled from `entries` on read, so appending never rewrites a bundle.

use crate::store::{CommitBatch, LogMeta, LogStore, StoreError, StoredEntry, TreeState};
use cairn_merkle::Hash;
use redb::{Database, ReadableTable, TableDefinition};
use std::path::Path;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const TILES: TableDefinition<(u8, u64), &[u8]> = TableDefinition::new("tiles");
const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
const DEDUP: TableDefinition<&[u8], u64> = TableDefinition::new("dedup");

/// The on-disk format version; a start on a different one is refused.
const FORMAT_VERSION: &[u8] = b"cairn-redb-1";

/// A log stored in one redb database file.
pub struct RedbStore {
    db: Database,
}

fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::Backend(Box::new(e))
}

impl RedbStore {
    /// Opens (or creates) the database file at `path`.
    ///
    /// # Errors
    /// Backend failures (permissions, a file that is not a redb database, a database of
    /// another format version).
    pub fn open(path: &Path) -> Result<RedbStore, StoreError> {
        let db = Database::create(path).map_err(backend)?;
        let store = RedbStore { db };
        if let Some(v) = store.get_meta("format")? {
            if v != FORMAT_VERSION {
                return Err(StoreError::Corrupt(format!(
                    "unknown format version {:?}",
                    String::from_utf8_lossy(&v)
                )));
            }
        }
        Ok(store)
    }

    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let table = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(backend(e)),
        };
        let value = table.get(key).map_err(backend)?;
        Ok(value.map(|v| v.value().to_vec()))
    }
}

fn encode_state(state: &TreeState) -> Vec<u8> {
    let mut v = Vec::with_capacity(40 + state.checkpoint.len());
    v.extend_from_slice(&state.size.to_be_bytes());
    v.extend_from_slice(&state.root.0);
    v.extend_from_slice(&state.checkpoint);
    v
}

fn decode_state(v: &[u8]) -> Result<TreeState, StoreError> {
    let corrupt = || StoreError::Corrupt("tree state row is too short".into());
    let (size, rest) = v.split_first_chunk::<8>().ok_or_else(corrupt)?;
    let (root, checkpoint) = rest.split_first_chunk::<32>().ok_or_else(corrupt)?;
    Ok(TreeState {
        size: u64::from_be_bytes(*size),
        root: Hash(*root),
        checkpoint: checkpoint.to_vec(),
    })
}

fn decode_entry(v: &[u8]) -> Result<StoredEntry, StoreError> {
    let (time, body) = v
        .split_first_chunk::<8>()
        .ok_or_else(|| StoreError::Corrupt("entry row is too short".into()))?;
    Ok(StoredEntry {
        integrated_time: u64::from_be_bytes(*time),
        body: body.to_vec(),
    })
}

impl LogStore for RedbStore {
    fn meta(&self) -> Result<Option<LogMeta>, StoreError> {
        let (Some(origin), Some(vkey)) = (self.get_meta("origin")?, self.get_meta("vkey")?) else {
            return Ok(None);
        };
        let created = match self.get_meta("created")? {
            Some(v) => u64::from_be_bytes(
                v.try_into()
                    .map_err(|_| StoreError::Corrupt("created is not 8 bytes".into()))?,
            ),
            None => 0,
        };
        let text = |v: Vec<u8>| {
            String::from_utf8(v).map_err(|_| StoreError::Corrupt("meta is not UTF-8".into()))
        };
        Ok(Some(LogMeta {
            origin: text(origin)?,
            vkey: text(vkey)?,
            created,
        }))
    }

    fn init(&self, meta: &LogMeta, state: &TreeState) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut t = txn.open_table(META).map_err(backend)?;
            if t.get("origin").map_err(backend)?.is_some() {
                return Err(StoreError::AlreadyInitialized);
            }
            t.insert("format", FORMAT_VERSION).map_err(backend)?;
            t.insert("origin", meta.origin.as_bytes())
                .map_err(backend)?;
            t.insert("vkey", meta.vkey.as_bytes()).map_err(backend)?;
            t.insert("created", meta.created.to_be_bytes().as_slice())
                .map_err(backend)?;
            t.insert("state", encode_state(state).as_slice())
                .map_err(backend)?;
            // Create the other tables now, so readers never see them missing.
            txn.open_table(TILES).map_err(backend)?;
            txn.open_table(ENTRIES).map_err(backend)?;
            txn.open_table(DEDUP).map_err(backend)?;
        }
        txn.commit().map_err(backend)
    }

    fn state(&self) -> Result<TreeState, StoreError> {
        let v = self.get_meta("state")?.ok_or(StoreError::NotInitialized)?;
        decode_state(&v)
    }

    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(backend)?;
        {
            let mut meta = txn.open_table(META).map_err(backend)?;
            let found = match meta.get("state").map_err(backend)? {
                Some(v) => decode_state(v.value())?.size,
                None => return Err(StoreError::NotInitialized),
            };
            if found != batch.old_size {
                // Dropping the transaction without commit writes nothing.
                return Err(StoreError::Conflict {
                    expected: batch.old_size,
                    found,
                });
            }
            let mut entries = txn.open_table(ENTRIES).map_err(backend)?;
            let mut dedup = txn.open_table(DEDUP).map_err(backend)?;
            let mut row = Vec::new();
            for e in &batch.entries {
                row.clear();
                row.extend_from_slice(&e.integrated_time.to_be_bytes());
                row.extend_from_slice(&e.body);
                entries.insert(e.index, row.as_slice()).map_err(backend)?;
                dedup
                    .insert(e.leaf_hash.0.as_slice(), e.index)
                    .map_err(backend)?;
            }
            let mut tiles = txn.open_table(TILES).map_err(backend)?;
            for (tile, data) in &batch.tiles {
                tiles
                    .insert((tile.level(), tile.index()), data.as_slice())
                    .map_err(backend)?;
            }
            meta.insert("state", encode_state(&batch.new_state).as_slice())
                .map_err(backend)?;
        }
        // Durability::Immediate (redb's default): commit returns after fsync.
        txn.commit().map_err(backend)
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let t = txn.open_table(TILES).map_err(backend)?;
        let v = t.get((level, index)).map_err(backend)?;
        Ok(v.map(|v| v.value().to_vec()))
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let t = txn.open_table(ENTRIES).map_err(backend)?;
        let mut out = Vec::new();
        for row in t.range(start..end).map_err(backend)? {
            let (_, v) = row.map_err(backend)?;
            out.push(decode_entry(v.value())?);
        }
        Ok(out)
    }

    fn lookup(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(backend)?;
        let t = txn.open_table(DEDUP).map_err(backend)?;
        let v = t.get(leaf.0.as_slice()).map_err(backend)?;
        Ok(v.map(|v| v.value()))
    }

    fn lookup_many(&self, leaves: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        // One read transaction for the batch: opening one costs more than a B-tree lookup.
        let txn = self.db.begin_read().map_err(backend)?;
        let t = txn.open_table(DEDUP).map_err(backend)?;
        leaves
            .iter()
            .map(|leaf| {
                let v = t.get(leaf.0.as_slice()).map_err(backend)?;
                Ok(v.map(|v| v.value()))
            })
            .collect()
    }
}
