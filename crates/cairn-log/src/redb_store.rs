//! The embedded default store, on redb.
//!
//! Why redb and not sled (the design's first choice): sled 0.34 flushes with
//! `sync_file_range`, which does not make data durable on Linux (its issue #1452), and it has
//! open corruption reports. redb commits with a copy-on-write B-tree and fsync
//! (`Durability::Immediate`, its default), so a commit that returned is on disk. See
//! `docs/durability.md`.
//!
//! Tables: `meta` (identity and tree state), `tiles` ((level, index) -> widest tile bytes),
//! `entries` (index -> 8-byte big-endian integrated time || body) for the entries of the
//! last, partial entry bundle, `bundles` ((bundle, chunk) -> bytes) for full bundles, and
//! `dedup` (leaf hash -> index).
//!
//! Why full bundles are packed into chunks: redb puts rows into 4 KiB leaf pages and values
//! larger than a page into power-of-two runs of pages. One row per entry left the leaf pages
//! of `entries` about 60% full (measured with [`RedbStore::space`]: 315 bytes of empty page
//! per 506-byte row), and one row per bundle (~128 KiB) would waste up to half of a run. So
//! the commit that completes a bundle writes it as one record cut into chunks that each fill
//! one page ([`CHUNK`]) and deletes the bundle's per-entry rows, in the same transaction.
//! A record is `[time as u64 BE; n] [end offset of each body as u32 BE; n] [bodies]`, so a
//! read of a few entries reads the header chunk and the chunks that hold them.

use crate::store::{CommitBatch, LogMeta, LogStore, StoreError, StoredEntry, TreeState};
use cairn_merkle::Hash;
use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::Path;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const TILES: TableDefinition<(u8, u64), &[u8]> = TableDefinition::new("tiles");
const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
const DEDUP: TableDefinition<&[u8], u64> = TableDefinition::new("dedup");
const BUNDLES: TableDefinition<(u64, u16), &[u8]> = TableDefinition::new("bundles");

/// The on-disk format version; a start on a different one is refused.
const FORMAT_VERSION: &[u8] = b"cairn-redb-2";

/// Entries per bundle (C2SP tlog-tiles entry bundles).
const BUNDLE: u64 = cairn_merkle::tiles::TILE_WIDTH;

/// Bytes per chunk of a bundle record: the most that fits one 4 KiB leaf page as its only
/// row (page header 4 bytes, the value's end offset 4, the fixed 10-byte key), less a margin
/// for redb's own bookkeeping. A chunk one byte too large would take an 8 KiB run.
pub(crate) const CHUNK: usize = 4096 - 64;

/// The bundle record's header: a time and an end offset per entry.
const HEADER: usize = BUNDLE as usize * 12;

/// redb's page cache limit when the operator sets none. redb's own default is 1 GiB, which
/// makes a server's resident memory grow with the log until the cache is full; the write path
/// touches only the right edge of the entry and tile tables and one random leaf page of the
/// dedup index per entry, which the OS page cache serves just as well (docs/performance.md).
pub const DEFAULT_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// A log stored in one redb database file.
pub struct RedbStore {
    db: Database,
}

/// Space one table takes, from redb's own accounting (`RedbStore::space`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpace {
    /// The table's name.
    pub name: &'static str,
    /// Rows.
    pub rows: u64,
    /// Bytes of keys and values as inserted.
    pub stored_bytes: u64,
    /// Bytes of branch-page keys and other B-tree metadata.
    pub metadata_bytes: u64,
    /// Bytes of pages allocated to the table but holding nothing.
    pub fragmented_bytes: u64,
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
        RedbStore::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the database file at `path` with a page cache of at most
    /// `cache_bytes`.
    ///
    /// # Errors
    /// As [`RedbStore::open`].
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<RedbStore, StoreError> {
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(backend)?;
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

    /// Reports the space each table takes, for capacity planning and the scale benchmark.
    ///
    /// # Errors
    /// Backend failures.
    pub fn space(&self) -> Result<Vec<TableSpace>, StoreError> {
        fn one<K: redb::Key + 'static, V: redb::Value + 'static>(
            txn: &redb::ReadTransaction,
            name: &'static str,
            def: TableDefinition<K, V>,
        ) -> Result<TableSpace, StoreError> {
            let t = txn.open_table(def).map_err(backend)?;
            let s = t.stats().map_err(backend)?;
            Ok(TableSpace {
                name,
                rows: t.len().map_err(backend)?,
                stored_bytes: s.stored_bytes(),
                metadata_bytes: s.metadata_bytes(),
                fragmented_bytes: s.fragmented_bytes(),
            })
        }
        let txn = self.db.begin_read().map_err(backend)?;
        Ok(vec![
            one(&txn, "meta", META)?,
            one(&txn, "tiles", TILES)?,
            one(&txn, "entries", ENTRIES)?,
            one(&txn, "bundles", BUNDLES)?,
            one(&txn, "dedup", DEDUP)?,
        ])
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
    let (integrated_time, body) = split_row(v)?;
    Ok(StoredEntry {
        integrated_time,
        body: body.to_vec(),
    })
}

fn split_row(v: &[u8]) -> Result<(u64, &[u8]), StoreError> {
    let (time, body) = v
        .split_first_chunk::<8>()
        .ok_or_else(|| StoreError::Corrupt("entry row is too short".into()))?;
    Ok((u64::from_be_bytes(*time), body))
}

fn too_big() -> StoreError {
    StoreError::Corrupt("entry index beyond this machine's address space".into())
}

/// Builds the record of one full bundle (layout in the module documentation).
#[derive(Default)]
struct BundleRecord {
    times: Vec<u8>,
    ends: Vec<u8>,
    bodies: Vec<u8>,
}

impl BundleRecord {
    fn push(&mut self, time: u64, body: &[u8]) -> Result<(), StoreError> {
        self.bodies.extend_from_slice(body);
        let end = u32::try_from(self.bodies.len())
            .map_err(|_| StoreError::Corrupt("bundle record over 4 GiB".into()))?;
        self.times.extend_from_slice(&time.to_be_bytes());
        self.ends.extend_from_slice(&end.to_be_bytes());
        Ok(())
    }

    fn finish(self, first: u64) -> Result<Vec<u8>, StoreError> {
        if self.times.len() != BUNDLE as usize * 8 {
            return Err(StoreError::Corrupt(format!(
                "bundle at {first} has {} entries, not {BUNDLE}: rows are missing",
                self.times.len() / 8
            )));
        }
        let mut v = Vec::with_capacity(HEADER + self.bodies.len());
        v.extend_from_slice(&self.times);
        v.extend_from_slice(&self.ends);
        v.extend_from_slice(&self.bodies);
        Ok(v)
    }
}

/// Appends the entries `from..to` (within the bundle) of bundle `b`'s record to `out`;
/// returns false when the bundle has no record (it is partial, or beyond the log).
fn read_record(
    bundles: &redb::ReadOnlyTable<(u64, u16), &[u8]>,
    b: u64,
    from: u64,
    to: u64,
    out: &mut Vec<StoredEntry>,
) -> Result<bool, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("bundle record {b} is malformed"));
    let Some(first) = bundles.get((b, 0)).map_err(backend)? else {
        return Ok(false);
    };
    let header = first.value().get(..HEADER).ok_or_else(corrupt)?;
    let (times, ends) = header.split_at(BUNDLE as usize * 8);
    let word = |bytes: &[u8], i: u64, w: usize| -> Result<u64, StoreError> {
        let at = usize::try_from(i).map_err(|_| corrupt())? * w;
        let b = bytes.get(at..at + w).ok_or_else(corrupt)?;
        Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    };
    let end_of = |i: u64| word(ends, i, 4);
    let start_of = |i: u64| if i == 0 { Ok(0) } else { end_of(i - 1) };
    // The bytes of bodies from..to within the record, and the chunks holding them.
    let lo = HEADER as u64 + start_of(from)?;
    let hi = HEADER as u64 + end_of(to - 1)?;
    if hi < lo {
        return Err(corrupt());
    }
    let chunk = CHUNK as u64;
    let (c0, c1) = (lo / chunk, hi.saturating_sub(1).max(lo) / chunk);
    let (c0, c1) = (
        u16::try_from(c0).map_err(|_| corrupt())?,
        u16::try_from(c1).map_err(|_| corrupt())?,
    );
    let mut bytes = Vec::with_capacity(usize::try_from(hi - lo).map_err(|_| corrupt())?);
    for row in bundles.range((b, c0)..=(b, c1)).map_err(backend)? {
        let (_, v) = row.map_err(backend)?;
        bytes.extend_from_slice(v.value());
    }
    let base = u64::from(c0) * chunk;
    for i in from..to {
        let at = |offset: u64| {
            (HEADER as u64 + offset)
                .checked_sub(base)
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(corrupt)
        };
        let (s, e) = (at(start_of(i)?)?, at(end_of(i)?)?);
        let body = bytes.get(s..e).ok_or_else(corrupt)?;
        out.push(StoredEntry {
            integrated_time: word(times, i, 8)?,
            body: body.to_vec(),
        });
    }
    Ok(true)
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
            txn.open_table(BUNDLES).map_err(backend)?;
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
            let mut bundles = txn.open_table(BUNDLES).map_err(backend)?;
            let mut dedup = txn.open_table(DEDUP).map_err(backend)?;
            let old = batch.old_size;
            for (i, e) in (old..).zip(&batch.entries) {
                if e.index != i {
                    return Err(StoreError::Corrupt(format!(
                        "batch entry {i} has index {}: entries must follow the old size",
                        e.index
                    )));
                }
                dedup
                    .insert(e.leaf_hash.0.as_slice(), e.index)
                    .map_err(backend)?;
            }
            let new_end = old + batch.entries.len() as u64;
            // Entries from `full_end` on stay rows; the bundles below it that this batch
            // completes become records, with the rows earlier batches left for them.
            let full_end = new_end - new_end % BUNDLE;
            for b in old / BUNDLE..full_end / BUNDLE {
                let lo = b * BUNDLE;
                let mut record = BundleRecord::default();
                if lo < old {
                    for row in entries.range(lo..old).map_err(backend)? {
                        let (_, v) = row.map_err(backend)?;
                        let (time, body) = split_row(v.value())?;
                        record.push(time, body)?;
                    }
                    entries.retain_in(lo..old, |_, _| false).map_err(backend)?;
                }
                let from = usize::try_from(lo.max(old) - old).map_err(|_| too_big())?;
                let to = usize::try_from(lo + BUNDLE - old).map_err(|_| too_big())?;
                for e in batch.entries.get(from..to).unwrap_or_default() {
                    record.push(e.integrated_time, &e.body)?;
                }
                for (c, chunk) in (0u16..).zip(record.finish(lo)?.chunks(CHUNK)) {
                    bundles.insert((b, c), chunk).map_err(backend)?;
                }
            }
            let mut row = Vec::new();
            let first_row = usize::try_from(full_end.max(old) - old).map_err(|_| too_big())?;
            for e in batch.entries.get(first_row..).unwrap_or_default() {
                row.clear();
                row.extend_from_slice(&e.integrated_time.to_be_bytes());
                row.extend_from_slice(&e.body);
                entries.insert(e.index, row.as_slice()).map_err(backend)?;
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
        let entries = txn.open_table(ENTRIES).map_err(backend)?;
        let bundles = txn.open_table(BUNDLES).map_err(backend)?;
        let mut out = Vec::new();
        let mut i = start;
        while i < end {
            let lo = i - i % BUNDLE;
            let hi = end.min(lo + BUNDLE);
            let found = out.len();
            if !read_record(&bundles, lo / BUNDLE, i - lo, hi - lo, &mut out)? {
                for row in entries.range(i..hi).map_err(backend)? {
                    let (_, v) = row.map_err(backend)?;
                    out.push(decode_entry(v.value())?);
                }
            }
            if (out.len() - found) as u64 != hi - i {
                break; // the end of the log
            }
            i = hi;
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
