//! Faults below the sequencer ([`FaultStore`]): a failed commit, a commit that wrote but
//! reported an error, a stalled commit. Each failed round is an error for every entry in it,
//! the sequencer's published state does not move, and reopening the real store underneath
//! recovers exactly what it holds: an entry of a failed round is either absent or found by
//! dedup at the index it was written with.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_log::testing::{open_sequencer, Fault, FaultStore, InjectedFault};
use cairn_log::{LogStore, PendingEntry, RedbStore, Sequencer, SequencerError, StoreError};
use cairn_merkle::{leaf_hash, verify_inclusion};
use std::sync::Arc;
use std::time::Duration;

const ORIGIN: &str = "example.com/fault-log";

fn open<S: LogStore>(store: S) -> Sequencer<S> {
    open_sequencer(store, ORIGIN).unwrap()
}

fn pending(i: u64) -> PendingEntry {
    let body = format!("{{\"entry\":{i}}}").into_bytes();
    PendingEntry {
        leaf_hash: leaf_hash(&body),
        body,
    }
}

fn batch(range: std::ops::Range<u64>) -> Vec<PendingEntry> {
    range.map(pending).collect()
}

fn is_injected(e: &SequencerError, want: Fault) -> bool {
    match e {
        SequencerError::Store(StoreError::Backend(inner)) => inner
            .downcast_ref::<InjectedFault>()
            .is_some_and(|f| f.fault == want),
        _ => false,
    }
}

/// A redb store in a fresh directory, wrapped; returns the directory so it can be reopened.
fn redb_fault_store() -> (tempfile::TempDir, Arc<FaultStore<RedbStore>>) {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("log.redb")).unwrap();
    (dir, Arc::new(FaultStore::new(store)))
}

#[test]
fn one_commit_per_round() {
    let (_dir, store) = redb_fault_store();
    let mut seq = open(store.clone());
    for round in 0..5u64 {
        seq.integrate(&batch(round * 10..round * 10 + 10)).unwrap();
    }
    // A round of duplicates only writes nothing.
    seq.integrate(&batch(0..10)).unwrap();
    assert_eq!(store.commits(), 5, "one write per round with new entries");
}

#[test]
fn a_failed_commit_writes_nothing_and_a_reopen_continues() {
    let (dir, store) = redb_fault_store();
    let mut seq = open(store.clone());
    let before = seq.integrate(&batch(0..3)).unwrap().published;
    store.arm(1, Fault::Fail);
    let err = seq.integrate(&batch(3..7)).unwrap_err();
    assert!(is_injected(&err, Fault::Fail), "{err}");
    assert_eq!(seq.published(), before, "nothing published after a failure");
    drop(seq);
    drop(store);

    let real = RedbStore::open(&dir.path().join("log.redb")).unwrap();
    assert_eq!(real.state().unwrap().size, 3);
    for i in 3..7 {
        assert_eq!(real.lookup(&pending(i).leaf_hash).unwrap(), None);
    }
    let mut seq = open(real);
    let out = seq.integrate(&batch(3..7)).unwrap();
    assert_eq!(out.published.size, 7);
    assert!(out.entries.iter().all(|e| !e.duplicate));
}

#[test]
fn a_commit_that_wrote_but_failed_is_recovered_by_reopening() {
    let (dir, store) = redb_fault_store();
    let mut seq = open(store.clone());
    seq.integrate(&batch(0..300)).unwrap();
    store.arm(1, Fault::PersistThenFail);
    let err = seq.integrate(&batch(300..520)).unwrap_err();
    assert!(is_injected(&err, Fault::PersistThenFail), "{err}");
    assert_eq!(seq.published().size, 300, "the sequencer does not guess");
    drop(seq);
    drop(store);

    // A restart on the real store finds the batch whole: the root recomputed from its tiles
    // matches its signed state, and every entry is found by dedup at the index it was
    // written with, with a valid proof.
    let real = RedbStore::open(&dir.path().join("log.redb")).unwrap();
    let mut seq = open(real);
    let published = seq.published();
    assert_eq!(published.size, 520);
    let out = seq.integrate(&batch(0..520)).unwrap();
    assert_eq!(out.published, published, "re-submitting changes nothing");
    for (i, e) in out.entries.iter().enumerate() {
        assert!(e.duplicate);
        assert_eq!(e.index, i as u64);
        verify_inclusion(
            e.index,
            published.size,
            &pending(i as u64).leaf_hash,
            &e.proof,
            &published.root,
        )
        .unwrap();
    }
}

#[test]
fn a_stalled_commit_returns_nothing_until_it_is_durable() {
    let (_dir, store) = redb_fault_store();
    let mut seq = open(store.clone());
    seq.integrate(&batch(0..2)).unwrap();
    store.arm(1, Fault::Stall);
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let out = seq.integrate(&batch(2..5));
        tx.send(()).unwrap();
        (seq, out)
    });
    assert!(store.wait_stalled(Duration::from_secs(10)), "never stalled");
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "integrate returned while its commit was blocked"
    );
    assert_eq!(store.inner().state().unwrap().size, 2, "nothing stored yet");
    store.release();
    let (seq, out) = worker.join().unwrap();
    let out = out.unwrap();
    assert_eq!(out.published.size, 5);
    assert_eq!(seq.published(), out.published);
    assert_eq!(store.inner().state().unwrap().size, 5);
}
