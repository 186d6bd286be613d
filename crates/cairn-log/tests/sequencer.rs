//! The sequencer against a naive reference: every round's root, checkpoint and proofs, dedup,
//! restart from the store, and a second writer on the same store.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_log::{
    testing::check_store, Clock, LogMeta, LogStore, MemStore, PendingEntry, RedbStore, Sequencer,
    SequencerError, StoreError,
};
use cairn_merkle::{leaf_hash, stored_hashes_for_leaf, tree_hash, verify_inclusion, Hash};
use cairn_note::{open_checkpoint, Ed25519Signer, KeyName, NoteVerifier, Origin};
use ed25519_dalek::SigningKey;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

struct TestClock(Arc<AtomicU64>);
impl Clock for TestClock {
    fn unix_seconds(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

const ORIGIN: &str = "example.com/test-log";

fn signer() -> Ed25519Signer {
    Ed25519Signer::new(
        ORIGIN.parse::<KeyName>().unwrap(),
        SigningKey::from_bytes(&[7u8; 32]),
    )
}

fn meta() -> LogMeta {
    LogMeta {
        origin: ORIGIN.into(),
        vkey: signer().vkey(),
        created: 1,
    }
}

fn open<S: LogStore>(store: S, time: &Arc<AtomicU64>) -> Result<Sequencer<S>, SequencerError> {
    Sequencer::open(
        store,
        &meta(),
        ORIGIN.parse::<Origin>().unwrap(),
        Box::new(signer()),
        Box::new(TestClock(time.clone())),
    )
}

fn pending(i: u64) -> PendingEntry {
    let body = format!("{{\"entry\":{i}}}").into_bytes();
    PendingEntry {
        leaf_hash: leaf_hash(&body),
        body,
    }
}

/// A naive model: all stored hashes in a flat vector.
#[derive(Default)]
struct Model {
    stored: Vec<Hash>,
    size: u64,
}

impl Model {
    fn append(&mut self, leaf: Hash) {
        let new = stored_hashes_for_leaf(self.size, leaf, &self.stored).unwrap();
        self.stored.extend(new);
        self.size += 1;
    }
    fn root(&self) -> Hash {
        tree_hash(self.size, &self.stored).unwrap()
    }
}

#[test]
fn mem_store_conforms() {
    check_store(MemStore::new());
}

#[test]
fn redb_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    check_store(RedbStore::open(&dir.path().join("log.redb")).unwrap());
}

fn check_rounds<S: LogStore>(store: Arc<S>, batches: &[u64]) {
    let time = Arc::new(AtomicU64::new(1_000));
    let mut seq = open(store.clone(), &time).unwrap();
    let verifier = signer().verifier();
    let verifiers: [&dyn NoteVerifier; 1] = [&verifier];
    let mut model = Model::default();
    let mut next = 0u64;
    for (round, &n) in batches.iter().enumerate() {
        time.store(1_000 + round as u64, Ordering::SeqCst);
        let batch: Vec<PendingEntry> = (next..next + n).map(pending).collect();
        let out = seq.integrate(&batch).unwrap();
        for p in &batch {
            model.append(p.leaf_hash);
        }
        next += n;
        assert_eq!(out.published.size, model.size);
        assert_eq!(out.published.root, model.root(), "root after round {round}");
        let (cp, _) = open_checkpoint(&out.published.checkpoint, &verifiers, None).unwrap();
        assert_eq!((cp.size, cp.root), (model.size, model.root()));
        for (p, s) in batch.iter().zip(&out.entries) {
            assert!(!s.duplicate);
            assert_eq!(s.integrated_time, 1_000 + round as u64);
            verify_inclusion(s.index, model.size, &p.leaf_hash, &s.proof, &model.root()).unwrap();
        }
        // Every few rounds, restart from the store: the same path as every start.
        if round % 3 == 2 {
            drop(seq);
            seq = open(store.clone(), &time).unwrap();
            assert_eq!(seq.published(), out.published);
        }
    }
}

#[test]
fn rounds_match_the_reference_across_tile_boundaries() {
    // Sizes walk over level-0 and level-1 tile boundaries (256, 65536) in uneven steps.
    let mut batches = vec![1, 1, 2, 250, 1, 1, 300, 255, 256, 257, 1000];
    batches.extend(std::iter::repeat_n(4093, 15));
    check_rounds(Arc::new(MemStore::new()), &batches);
}

#[test]
fn rounds_on_redb_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.redb");
    let time = Arc::new(AtomicU64::new(5));
    let published = {
        let store = Arc::new(RedbStore::open(&path).unwrap());
        check_rounds(store.clone(), &[1, 255, 1, 300, 700]);
        let seq = open(store, &time).unwrap();
        seq.published()
    };
    let seq = open(Arc::new(RedbStore::open(&path).unwrap()), &time).unwrap();
    assert_eq!(seq.published(), published);
    assert_eq!(published.size, 1257);
}

#[test]
fn duplicates_get_the_original_index_and_time() {
    let time = Arc::new(AtomicU64::new(100));
    let mut seq = open(MemStore::new(), &time).unwrap();
    let first = seq.integrate(&[pending(0), pending(1)]).unwrap();
    time.store(200, Ordering::SeqCst);
    // A duplicate of a stored entry, a new entry, and the new entry again in the same batch.
    let out = seq
        .integrate(&[pending(1), pending(2), pending(2)])
        .unwrap();
    assert_eq!(out.published.size, 3);
    let e: Vec<(u64, u64, bool)> = out
        .entries
        .iter()
        .map(|s| (s.index, s.integrated_time, s.duplicate))
        .collect();
    assert_eq!(e, vec![(1, 100, true), (2, 200, false), (2, 200, true)]);
    for (s, p) in out.entries.iter().zip([pending(1), pending(2), pending(2)]) {
        verify_inclusion(s.index, 3, &p.leaf_hash, &s.proof, &out.published.root).unwrap();
    }
    // A batch of only duplicates commits nothing and keeps the checkpoint.
    let again = seq.integrate(&[pending(0)]).unwrap();
    assert_eq!(again.published, out.published);
    assert_eq!(again.entries[0].index, 0);
    assert_ne!(first.published, out.published);
}

#[test]
fn a_second_writer_is_refused_and_nothing_forks() {
    let store = Arc::new(MemStore::new());
    let time = Arc::new(AtomicU64::new(1));
    let mut a = open(store.clone(), &time).unwrap();
    let mut b = open(store.clone(), &time).unwrap();
    a.integrate(&[pending(0)]).unwrap();
    match b.integrate(&[pending(1)]) {
        Err(SequencerError::Store(StoreError::Conflict {
            expected: 0,
            found: 1,
        })) => {}
        other => panic!("want a conflict, got {other:?}"),
    }
    assert_eq!(store.state().unwrap().size, 1);
    assert_eq!(store.lookup(&pending(1).leaf_hash).unwrap(), None);
}

#[test]
fn another_log_or_key_is_refused() {
    let store = Arc::new(MemStore::new());
    let time = Arc::new(AtomicU64::new(1));
    open(store.clone(), &time).unwrap();
    let other = Ed25519Signer::new(
        ORIGIN.parse::<KeyName>().unwrap(),
        SigningKey::from_bytes(&[8u8; 32]),
    );
    let wrong_key = LogMeta {
        vkey: other.vkey(),
        ..meta()
    };
    let r = Sequencer::open(
        store.clone(),
        &wrong_key,
        ORIGIN.parse::<Origin>().unwrap(),
        Box::new(other),
        Box::new(TestClock(time.clone())),
    );
    assert!(matches!(r, Err(SequencerError::WrongLog { .. })));
}

#[test]
fn tampered_tiles_are_detected_at_start() {
    struct Tamper(MemStore);
    impl LogStore for Tamper {
        fn meta(&self) -> Result<Option<LogMeta>, StoreError> {
            self.0.meta()
        }
        fn init(&self, m: &LogMeta, s: &cairn_log::TreeState) -> Result<(), StoreError> {
            self.0.init(m, s)
        }
        fn state(&self) -> Result<cairn_log::TreeState, StoreError> {
            self.0.state()
        }
        fn commit(&self, b: &cairn_log::CommitBatch) -> Result<(), StoreError> {
            self.0.commit(b)
        }
        fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
            let mut t = self.0.read_tile(level, index)?;
            if let Some(t) = t.as_mut() {
                t[0] ^= 1;
            }
            Ok(t)
        }
        fn read_entries(&self, s: u64, e: u64) -> Result<Vec<cairn_log::StoredEntry>, StoreError> {
            self.0.read_entries(s, e)
        }
        fn lookup(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
            self.0.lookup(leaf)
        }
    }
    let store = Arc::new(Tamper(MemStore::new()));
    let time = Arc::new(AtomicU64::new(1));
    let mut seq = open(store.clone(), &time).unwrap();
    // The in-memory edge is right, so this round commits; the next start reads tiles.
    seq.integrate(&(0..10).map(pending).collect::<Vec<_>>())
        .unwrap();
    drop(seq);
    assert!(matches!(
        open(store, &time),
        Err(SequencerError::RootMismatch { size: 10, .. })
    ));
}
