//! The storage conformance suite: one set of checks every [`LogStore`] driver must pass
//! (as sumdb's `storage.TestStorage`). Drivers call [`check_store`] from their own tests with
//! a fresh, empty store. [`FaultStore`] wraps a store to fail or stall a chosen commit.

// A conformance failure is a test failure: panicking with a message is the point here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fault;
pub use fault::{Fault, FaultStore, InjectedFault};

use crate::store::{CommitBatch, LogMeta, LogStore, NewEntry, StoreError, StoredEntry, TreeState};
use cairn_merkle::tiles::Tile;
use cairn_merkle::{leaf_hash, Hash};

fn state(size: u64) -> TreeState {
    TreeState {
        size,
        root: Hash([size as u8; 32]),
        checkpoint: format!("checkpoint {size}\n").into_bytes(),
    }
}

fn entry(index: u64) -> NewEntry {
    let body = format!("entry {index}").into_bytes();
    NewEntry {
        index,
        leaf_hash: leaf_hash(&body),
        integrated_time: 1_700_000_000 + index,
        body,
    }
}

fn tile(level: u8, index: u64, width: u16) -> (Tile, Vec<u8>) {
    let t = Tile::new(level, index, width).unwrap();
    let data = (0..width)
        .flat_map(|i| [level.wrapping_add(i as u8); 32])
        .collect();
    (t, data)
}

/// A clock that always reads 1,700,000,000 (November 2023), so integrated times are stable.
pub struct FixedClock;

impl crate::Clock for FixedClock {
    fn unix_seconds(&self) -> u64 {
        1_700_000_000
    }
}

/// Opens a [`crate::Sequencer`] on `store` for the log `origin`, signing with a fixed test key
/// (seed `[9; 32]`) and reading time from [`FixedClock`]: the one setup every driver's
/// sequencer tests share.
///
/// # Errors
/// As [`crate::Sequencer::open`].
pub fn open_sequencer<S: LogStore>(
    store: S,
    origin: &str,
) -> Result<crate::Sequencer<S>, crate::SequencerError> {
    let name: cairn_note::KeyName = origin.parse().expect("a valid test origin");
    let signer =
        cairn_note::Ed25519Signer::new(name, ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]));
    let meta = LogMeta {
        origin: origin.into(),
        vkey: signer.vkey(),
        created: 1,
    };
    crate::Sequencer::open(
        store,
        &meta,
        origin.parse().expect("a valid test origin"),
        Box::new(signer),
        Box::new(FixedClock),
    )
}

/// The tree size [`check_store`] leaves the store at; its last state row's checkpoint is
/// `checkpoint <size>\n`.
pub const CHECKED_SIZE: u64 = 1839;

/// Runs every check against `store`, which must be empty. Panics on the first failure.
pub fn check_store<S: LogStore>(store: S) {
    let meta = LogMeta {
        origin: "example.com/log".into(),
        vkey: "example.com/log+00000000+AQ".into(),
        created: 1_700_000_000,
    };
    assert!(store.meta().unwrap().is_none(), "a new store has no meta");
    assert!(matches!(store.state(), Err(StoreError::NotInitialized)));

    store.init(&meta, &state(0)).unwrap();
    assert_eq!(store.meta().unwrap(), Some(meta.clone()));
    assert_eq!(store.state().unwrap(), state(0));
    assert!(
        matches!(
            store.init(&meta, &state(5)),
            Err(StoreError::AlreadyInitialized)
        ),
        "a second init is refused"
    );
    assert_eq!(
        store.state().unwrap(),
        state(0),
        "a refused init writes nothing"
    );

    // A first batch of three entries and a partial tile.
    let b1 = CommitBatch {
        old_size: 0,
        new_state: state(3),
        entries: (0..3).map(entry).collect(),
        tiles: vec![tile(0, 0, 3)],
    };
    store.commit(&b1).unwrap();
    assert_eq!(store.state().unwrap(), state(3));
    assert_eq!(store.read_tile(0, 0).unwrap(), Some(tile(0, 0, 3).1));
    assert_eq!(store.read_tile(0, 1).unwrap(), None);
    assert_eq!(store.read_tile(1, 0).unwrap(), None);
    for i in 0..3 {
        assert_eq!(store.lookup(&entry(i).leaf_hash).unwrap(), Some(i));
    }
    assert_eq!(store.lookup(&leaf_hash(b"absent")).unwrap(), None);
    assert_eq!(
        store
            .lookup_many(&[entry(2).leaf_hash, leaf_hash(b"absent"), entry(0).leaf_hash])
            .unwrap(),
        vec![Some(2), None, Some(0)],
        "lookup_many answers like lookup, in order"
    );
    let read = store.read_entries(0, 10).unwrap();
    let want: Vec<StoredEntry> = (0..3)
        .map(|i| StoredEntry {
            integrated_time: entry(i).integrated_time,
            body: entry(i).body,
        })
        .collect();
    assert_eq!(read, want);
    assert_eq!(store.read_entries(1, 2).unwrap(), want[1..2]);
    assert_eq!(store.read_entries(3, 5).unwrap(), vec![]);

    // A stale compare-and-swap writes nothing at all.
    let stale = CommitBatch {
        old_size: 0,
        new_state: state(9),
        entries: vec![entry(7)],
        tiles: vec![tile(0, 0, 9), tile(2, 0, 1)],
    };
    match store.commit(&stale) {
        Err(StoreError::Conflict {
            expected: 0,
            found: 3,
        }) => {}
        other => panic!("stale commit: want Conflict, got {other:?}"),
    }
    assert_eq!(store.state().unwrap(), state(3));
    assert_eq!(store.read_tile(0, 0).unwrap(), Some(tile(0, 0, 3).1));
    assert_eq!(store.read_tile(2, 0).unwrap(), None);
    assert_eq!(store.lookup(&entry(7).leaf_hash).unwrap(), None);
    assert_eq!(store.read_entries(7, 8).unwrap(), vec![]);

    // The partial tile grows: the widest version replaces it; a full tile and a level-1 tile.
    let b2 = CommitBatch {
        old_size: 3,
        new_state: state(300),
        entries: (3..300).map(entry).collect(),
        tiles: vec![tile(0, 0, 256), tile(0, 1, 44), tile(1, 0, 1)],
    };
    store.commit(&b2).unwrap();
    assert_eq!(store.state().unwrap(), state(300));
    assert_eq!(store.read_tile(0, 0).unwrap(), Some(tile(0, 0, 256).1));
    assert_eq!(store.read_tile(0, 1).unwrap(), Some(tile(0, 1, 44).1));
    assert_eq!(store.read_tile(1, 0).unwrap(), Some(tile(1, 0, 1).1));
    assert_eq!(store.read_entries(0, 1000).unwrap().len(), 300);
    assert_eq!(store.lookup(&entry(299).leaf_hash).unwrap(), Some(299));
    assert_eq!(store.meta().unwrap(), Some(meta), "meta never changes");

    // Batches of every shape around the 256-entry bundle boundaries (ending a bundle
    // exactly, spanning several, one entry past one), bodies from empty to the largest
    // entry: every range reads back what was written.
    let mut size = 300;
    for n in [211, 1, 1, 255, 256, 300, 2, 512, 1] {
        let b = CommitBatch {
            old_size: size,
            new_state: state(size + n),
            entries: (size..size + n).map(sized_entry).collect(),
            tiles: vec![],
        };
        store.commit(&b).unwrap();
        size += n;
        assert_eq!(store.state().unwrap(), state(size));
        check_entries(&store, size);
    }
    assert_eq!(
        store.lookup(&sized_entry(size - 1).leaf_hash).unwrap(),
        Some(size - 1)
    );
}

/// Entry `index` of the later batches: sizes that cross chunk and page boundaries.
fn sized_entry(index: u64) -> NewEntry {
    // Every body differs (drivers may keep the dedup index unique): one empty body only.
    let len = match (index, index % 97) {
        (301, _) => 0,
        (_, 0) => cairn_merkle::tiles::MAX_ENTRY_SIZE,
        (_, k) => 16 + (k as usize * 131) % 3000,
    };
    let mut body = format!("entry {index}:").into_bytes();
    body.resize(len.max(body.len()), (index % 251) as u8);
    body.truncate(len);
    NewEntry {
        index,
        leaf_hash: leaf_hash(&body),
        integrated_time: 1_700_000_000 + index * 3,
        body,
    }
}

fn check_entries<S: LogStore>(store: &S, size: u64) {
    let want = |i: u64| {
        let e = if i < 300 { entry(i) } else { sized_entry(i) };
        StoredEntry {
            integrated_time: e.integrated_time,
            body: e.body,
        }
    };
    for start in (0..size + 3)
        .step_by(37)
        .chain([size - 1, size, 255, 256, 511, 512])
    {
        for len in [1, 2, 255, 256, 257, 700] {
            let got = store.read_entries(start, start + len).unwrap();
            let want: Vec<StoredEntry> = (start..(start + len).min(size)).map(want).collect();
            assert!(
                got == want,
                "read_entries({start}, {}) at size {size}: {} entries, want {}",
                start + len,
                got.len(),
                want.len()
            );
        }
    }
}
