//! The witness's durable state: for each log origin, the size and root of the latest checkpoint
//! it cosigned, behind [`WitnessStore`].
//!
//! The contract (STYLE P7, P12; torchwood `persistTreeHead`):
//! - [`WitnessStore::compare_and_swap`] MUST be atomic: it replaces the stored head only if the
//!   stored head is exactly the expected one, as one indivisible step. The witness never checks
//!   and then writes in two steps, so two concurrent requests cannot both advance from one
//!   head, and neither can roll the other back.
//! - It MUST be durable when it returns [`Cas::Swapped`]: the new head survives `kill -9` and
//!   power loss. The witness answers with a cosignature only after that.
//! - [`WitnessStore::load`] MUST only ever see heads that a swap committed.

use cairn_merkle::Hash;
use cairn_note::Origin;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

/// A tree head: a size and the root hash at that size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// The tree size.
    pub size: u64,
    /// The RFC 6962 root hash.
    pub root: Hash,
}

/// The outcome of a [`WitnessStore::compare_and_swap`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cas {
    /// The expected head was stored; the new one now is, durably.
    Swapped,
    /// Another head was stored (returned); nothing was written.
    Conflict(Option<TreeHead>),
}

/// A storage failure (a 500 for the witness: it cannot know what is stored).
#[derive(Debug, thiserror::Error)]
#[error("witness storage: {0}")]
pub struct StoreError(pub String);

/// Durable per-origin witness state. See the module documentation for the contract.
pub trait WitnessStore: Send + Sync {
    /// Returns the latest cosigned head of `origin`, or `None` if it never cosigned one.
    ///
    /// # Errors
    /// Backend failures.
    fn load(&self, origin: &Origin) -> Result<Option<TreeHead>, StoreError>;

    /// Atomically replaces the head of `origin` with `new` (and keeps `checkpoint`, the signed
    /// note, for the operator) if the stored head equals `expected`; durable before it returns.
    ///
    /// # Errors
    /// Backend failures, after which the caller MUST NOT assume either outcome.
    fn compare_and_swap(
        &self,
        origin: &Origin,
        expected: Option<&TreeHead>,
        new: &TreeHead,
        checkpoint: &[u8],
    ) -> Result<Cas, StoreError>;
}

/// Keeps heads in memory: for tests only (it is not durable).
#[derive(Default)]
pub struct MemWitnessStore {
    heads: Mutex<HashMap<String, TreeHead>>,
}

impl MemWitnessStore {
    /// Returns an empty store.
    pub fn new() -> MemWitnessStore {
        MemWitnessStore::default()
    }
}

impl WitnessStore for MemWitnessStore {
    fn load(&self, origin: &Origin) -> Result<Option<TreeHead>, StoreError> {
        let heads = self
            .heads
            .lock()
            .map_err(|_| StoreError("lock poisoned".into()))?;
        Ok(heads.get(origin.as_str()).copied())
    }

    fn compare_and_swap(
        &self,
        origin: &Origin,
        expected: Option<&TreeHead>,
        new: &TreeHead,
        _checkpoint: &[u8],
    ) -> Result<Cas, StoreError> {
        let mut heads = self
            .heads
            .lock()
            .map_err(|_| StoreError("lock poisoned".into()))?;
        let current = heads.get(origin.as_str()).copied();
        if current.as_ref() != expected {
            return Ok(Cas::Conflict(current));
        }
        heads.insert(origin.as_str().to_string(), *new);
        Ok(Cas::Swapped)
    }
}

/// The table of heads: origin -> size (8 bytes, big-endian) || root (32 bytes).
const HEADS: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("heads");
/// The signed checkpoint behind each head, for the operator and for evidence.
const CHECKPOINTS: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("checkpoints");

/// Heads in one redb database file.
///
/// redb runs one write transaction at a time, and the compare and the write happen inside
/// one, so the swap is atomic across threads; the database file is locked, so across
/// processes too. Commits use redb's default `Durability::Immediate`: fsynced before they
/// return.
pub struct RedbWitnessStore {
    db: redb::Database,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl RedbWitnessStore {
    /// Opens (or creates) the database at `path`.
    ///
    /// # Errors
    /// The file cannot be opened or created, or another process holds it.
    pub fn open(path: &Path) -> Result<RedbWitnessStore, StoreError> {
        let db = redb::Database::create(path)
            .map_err(|e| StoreError(format!("opening {}: {e}", path.display())))?;
        let tx = db.begin_write().map_err(backend)?;
        tx.open_table(HEADS).map_err(backend)?;
        tx.open_table(CHECKPOINTS).map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(RedbWitnessStore { db })
    }

    /// Returns every stored origin with its head.
    ///
    /// # Errors
    /// Backend failures or a corrupt row.
    pub fn heads(&self) -> Result<Vec<(String, TreeHead)>, StoreError> {
        use redb::ReadableTable as _;
        let tx = self.db.begin_read().map_err(backend)?;
        let table = tx.open_table(HEADS).map_err(backend)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(backend)? {
            let (k, v) = row.map_err(backend)?;
            out.push((k.value().to_string(), decode(v.value())?));
        }
        Ok(out)
    }
}

fn encode(head: &TreeHead) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..8].copy_from_slice(&head.size.to_be_bytes());
    out[8..].copy_from_slice(&head.root.0);
    out
}

fn decode(v: &[u8]) -> Result<TreeHead, StoreError> {
    let (size, root) = v
        .split_first_chunk::<8>()
        .ok_or_else(|| StoreError("corrupt head row".into()))?;
    Ok(TreeHead {
        size: u64::from_be_bytes(*size),
        root: Hash::from_slice(root).ok_or_else(|| StoreError("corrupt head row".into()))?,
    })
}

impl WitnessStore for RedbWitnessStore {
    fn load(&self, origin: &Origin) -> Result<Option<TreeHead>, StoreError> {
        let tx = self.db.begin_read().map_err(backend)?;
        let table = tx.open_table(HEADS).map_err(backend)?;
        let row = table.get(origin.as_str()).map_err(backend)?;
        row.map(|v| decode(v.value())).transpose()
    }

    fn compare_and_swap(
        &self,
        origin: &Origin,
        expected: Option<&TreeHead>,
        new: &TreeHead,
        checkpoint: &[u8],
    ) -> Result<Cas, StoreError> {
        use redb::ReadableTable as _;
        // One write transaction: redb admits no other writer until it commits or aborts, so
        // nothing can change the head between the compare and the write.
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut table = tx.open_table(HEADS).map_err(backend)?;
            let current = table
                .get(origin.as_str())
                .map_err(backend)?
                .map(|v| decode(v.value()))
                .transpose()?;
            if current.as_ref() != expected {
                // Dropping `tx` aborts it: nothing is written.
                return Ok(Cas::Conflict(current));
            }
            if current.as_ref() == Some(new) {
                // Re-cosigning the same head: nothing to write.
                return Ok(Cas::Swapped);
            }
            table
                .insert(origin.as_str(), encode(new).as_slice())
                .map_err(backend)?;
            let mut cps = tx.open_table(CHECKPOINTS).map_err(backend)?;
            cps.insert(origin.as_str(), checkpoint).map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        Ok(Cas::Swapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_store(store: &dyn WitnessStore) {
        let o: Origin = "example.com/log".parse().unwrap();
        let a = TreeHead {
            size: 5,
            root: Hash([1; 32]),
        };
        let b = TreeHead {
            size: 9,
            root: Hash([2; 32]),
        };
        assert_eq!(store.load(&o).unwrap(), None);
        assert_eq!(
            store.compare_and_swap(&o, Some(&a), &b, b"x").unwrap(),
            Cas::Conflict(None)
        );
        assert_eq!(
            store.compare_and_swap(&o, None, &a, b"a").unwrap(),
            Cas::Swapped
        );
        assert_eq!(store.load(&o).unwrap(), Some(a));
        assert_eq!(
            store.compare_and_swap(&o, None, &b, b"b").unwrap(),
            Cas::Conflict(Some(a))
        );
        // Same size, other root: still a conflict.
        let a2 = TreeHead {
            size: 5,
            root: Hash([3; 32]),
        };
        assert_eq!(
            store.compare_and_swap(&o, Some(&a2), &b, b"b").unwrap(),
            Cas::Conflict(Some(a))
        );
        assert_eq!(
            store.compare_and_swap(&o, Some(&a), &b, b"b").unwrap(),
            Cas::Swapped
        );
        assert_eq!(store.load(&o).unwrap(), Some(b));
        let other: Origin = "example.com/other".parse().unwrap();
        assert_eq!(store.load(&other).unwrap(), None);
    }

    #[test]
    fn mem_store_contract() {
        check_store(&MemWitnessStore::new());
    }

    #[test]
    fn redb_store_contract_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.redb");
        {
            let s = RedbWitnessStore::open(&path).unwrap();
            check_store(&s);
            // A second open of a held file fails rather than sharing it.
            assert!(RedbWitnessStore::open(&path).is_err());
        }
        let s = RedbWitnessStore::open(&path).unwrap();
        let o: Origin = "example.com/log".parse().unwrap();
        assert_eq!(s.load(&o).unwrap().unwrap().size, 9);
        assert_eq!(s.heads().unwrap().len(), 1);
    }
}
