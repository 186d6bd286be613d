//! Storage faults under a real server ([`FaultStore`] around the redb store, real sockets): a
//! failed commit, a commit that wrote but reported an error, and a stalled commit. The server
//! answers nobody whose entry is not durable, stops accepting (503, `/healthz` 503, `serve`
//! returns an error), and a restart on the real store keeps every acknowledged entry at its
//! index, with a checkpoint consistent with every one handed out before.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_e2e::{tempdir, Client, TestServer, TEST_ORIGIN};
use cairn_entry::{HashedRekordRequest, SignerAlgorithm, SignerKeyPair, TransparencyLogEntry};
use cairn_log::testing::{Fault, FaultStore};
use cairn_log::{LogStore, RedbStore};
use cairn_merkle::tiles::TileHashReader;
use cairn_merkle::{consistency_proof, tree_hash, verify_consistency};
use cairn_note::{open_checkpoint, Checkpoint, Ed25519Verifier, NoteVerifier};
use cairn_server::RawConfig;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn requests(n: usize) -> Vec<Vec<u8>> {
    let kp = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rand_core::OsRng);
    (0..n)
        .map(|i| {
            let digest = kp.algorithm().digest(format!("fault {i}").as_bytes());
            HashedRekordRequest::sign(&kp, digest)
                .unwrap()
                .to_wire()
                .to_json()
        })
        .collect()
}

fn raw(data: &Path) -> RawConfig {
    RawConfig {
        data: Some(data.to_path_buf()),
        public_url: Some(format!("http://{TEST_ORIGIN}")),
        ..RawConfig::default()
    }
}

/// Starts a server on `data` whose redb store sits under a [`FaultStore`].
fn start_faulty(data: &Path) -> (TestServer, Arc<FaultStore<RedbStore>>) {
    let store = Arc::new(FaultStore::new(
        RedbStore::open(&data.join("log.redb")).unwrap(),
    ));
    let s = store.clone();
    let server = TestServer::try_start_with_store(
        raw(data),
        Some(Box::new(move |_| Ok(s as Arc<dyn LogStore>))),
    )
    .unwrap();
    (server, store)
}

fn log_index(body: &[u8]) -> u64 {
    let tle: TransparencyLogEntry = serde_json::from_slice(body).unwrap();
    u64::try_from(tle.log_index).unwrap()
}

fn open(server: &TestServer, note: &[u8]) -> Checkpoint {
    let v = Ed25519Verifier::from_vkey(&server.info.vkey).unwrap();
    let vs: [&dyn NoteVerifier; 1] = [&v];
    open_checkpoint(note, &vs, Some(&TEST_ORIGIN.parse().unwrap()))
        .unwrap()
        .0
}

/// Submits `reqs` one at a time (one commit each); all must be acknowledged with 201.
/// Returns their indexes and the checkpoint after each.
fn submit_all(client: &Client, reqs: &[Vec<u8>]) -> Vec<(u64, Vec<u8>)> {
    reqs.iter()
        .map(|r| {
            let reply = client.submit(r.clone());
            assert_eq!(reply.status, 201, "{}", reply.text());
            (log_index(&reply.body), client.checkpoint())
        })
        .collect()
}

/// The server stopped by itself: `serve` ended with the fatal error, and the in-process
/// router says so on `/healthz` and refuses submissions.
fn assert_stopped(server: &mut TestServer) {
    let ended = server
        .wait_stopped(Duration::from_secs(20))
        .expect("the server keeps running after a failed commit");
    let msg = format!("{:#}", ended.unwrap_err());
    assert!(msg.contains("fatal"), "{msg}");
    assert_eq!(server.in_process_get("/healthz").0, 503);
}

/// After a restart on the real store: every acknowledged entry is at its index (a
/// resubmission is a duplicate with the same index), the tiles hash to the signed root, and
/// every checkpoint handed out before is consistent with the new one.
fn assert_recovered(server: &TestServer, reqs: &[Vec<u8>], acked: &[(u64, Vec<u8>)]) -> Checkpoint {
    let client = server.client();
    let now = open(server, &client.checkpoint());
    let reader = TileHashReader::new(now.size, client.clone());
    assert_eq!(tree_hash(now.size, &reader).unwrap(), now.root);
    for (req, (index, cp)) in reqs.iter().zip(acked) {
        let again = client.submit(req.clone());
        assert_eq!(again.status, 200, "acknowledged entry {index} was lost");
        assert_eq!(log_index(&again.body), *index);
        let old = open(server, cp);
        let proof = consistency_proof(old.size, now.size, &reader).unwrap();
        verify_consistency(old.size, now.size, &old.root, &now.root, &proof).unwrap();
    }
    now
}

#[test]
fn a_failed_commit_answers_nobody_stops_the_server_and_a_restart_continues() {
    let dir = tempdir();
    let reqs = requests(4);
    let (mut server, store) = start_faulty(dir.path());
    let acked = submit_all(&server.client(), &reqs[..2]);
    store.arm(1, Fault::Fail);
    let r = server.client().submit(reqs[2].clone());
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("not accepting"), "{}", r.text());
    assert_stopped(&mut server);
    drop(server);
    drop(store);

    let server = TestServer::start_with(raw(dir.path()));
    let now = assert_recovered(&server, &reqs[..2], &acked);
    assert_eq!(now.size, 2, "the failed commit wrote nothing");
    let r = server.client().submit(reqs[2].clone());
    assert_eq!((r.status, log_index(&r.body)), (201, 2));
}

#[test]
fn a_commit_that_wrote_but_failed_is_not_acknowledged_and_is_kept() {
    let dir = tempdir();
    let reqs = requests(3);
    let (mut server, store) = start_faulty(dir.path());
    let acked = submit_all(&server.client(), &reqs[..2]);
    store.arm(1, Fault::PersistThenFail);
    let r = server.client().submit(reqs[2].clone());
    assert_eq!(r.status, 503, "an unknown outcome is not a success");
    assert_stopped(&mut server);
    assert_eq!(
        server.in_process_get("/api/v2/checkpoint"),
        (200, acked[1].1.clone()),
        "no checkpoint published for an unknown outcome"
    );
    drop(server);
    drop(store);

    let server = TestServer::start_with(raw(dir.path()));
    let now = assert_recovered(&server, &reqs[..2], &acked);
    assert_eq!(now.size, 3, "the batch was written whole");
    let r = server.client().submit(reqs[2].clone());
    assert_eq!(
        (r.status, log_index(&r.body)),
        (200, 2),
        "its retry finds it"
    );
}

#[test]
fn a_stalled_commit_holds_every_answer_until_it_is_durable() {
    let dir = tempdir();
    let reqs = requests(3);
    let (server, store) = start_faulty(dir.path());
    let client = server.client();
    let acked = submit_all(&client, &reqs[..1]);
    store.arm(1, Fault::Stall);
    let (tx, rx) = std::sync::mpsc::channel();
    for req in reqs[1..].iter().cloned() {
        let (client, tx) = (client.clone(), tx.clone());
        std::thread::spawn(move || tx.send(client.submit(req)).unwrap());
    }
    assert!(store.wait_stalled(Duration::from_secs(10)), "never stalled");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "a submitter was answered while its commit was blocked"
    );
    // Reads go on, and show the last durable state.
    assert_eq!(client.checkpoint(), acked[0].1);
    assert_eq!(client.get("/healthz").status, 200);
    store.release();
    let mut indexes: Vec<u64> = (0..2)
        .map(|_| {
            let r = rx.recv_timeout(Duration::from_secs(20)).unwrap();
            assert_eq!(r.status, 201, "{}", r.text());
            log_index(&r.body)
        })
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, [1, 2]);
    assert_eq!(open(&server, &client.checkpoint()).size, 3);
}
