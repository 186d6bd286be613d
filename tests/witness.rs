//! End to end: the witness (`cairn_monitor::witness`) over real sockets, cosigning the
//! checkpoints of a real Cairn log: the client the log will use, every status code, racing
//! requests, a restart on the same state, and a forked copy of the log refused.

// Tests may unwrap and panic: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod watch_support;

use cairn_client::witness::{AddCheckpointError, WitnessClient};
use cairn_entry::SignerAlgorithm;
use cairn_merkle::Hash;
use cairn_monitor::monitor::TileClient;
use cairn_monitor::witness::config::load_key;
use cairn_monitor::witness::{
    AddCheckpointRequest, LogKeys, RedbWitnessStore, SystemClock, Witness,
};
use cairn_note::{CosignatureSigner, CosignatureVerifier, Note, SignedCheckpoint};
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use watch_support::*;

/// Writes a witness key as `cairn keygen --type ed25519` does (PKCS#8 PEM) and opens a witness
/// on `state` for the test log.
fn open_witness(dir: &Path, log_vkey: &str) -> Arc<Witness> {
    let key_path = dir.join("witness.key");
    if !key_path.exists() {
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let pem = key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap();
        std::fs::write(&key_path, pem.as_bytes()).unwrap();
    }
    let signer = CosignatureSigner::new(
        "witness.test/w1".parse().unwrap(),
        load_key(&key_path).unwrap(),
    );
    std::fs::create_dir_all(dir.join("state")).unwrap();
    let store = RedbWitnessStore::open(&dir.join("state/witness.redb")).unwrap();
    Arc::new(Witness::new(
        signer,
        vec![LogKeys::from_vkeys(ORIGIN.parse().unwrap(), &[log_vkey.to_string()]).unwrap()],
        Box::new(store),
        Box::new(SystemClock),
    ))
}

/// Builds an add-checkpoint request for the log at `url` from `old` to the checkpoint `note`,
/// with the consistency proof from the log's tiles.
fn request_for(url: &str, old: u64, note: &[u8]) -> AddCheckpointRequest {
    let checkpoint = SignedCheckpoint::parse(note).unwrap();
    let new = checkpoint.checkpoint().size;
    let proof = if old == 0 || old == new {
        Vec::new()
    } else {
        TileClient::new(&format!("{url}/api/v2"), 4)
            .unwrap()
            .consistency_proof(old, new)
            .unwrap()
    };
    AddCheckpointRequest {
        old_size: old,
        proof,
        checkpoint,
    }
}

fn post(witness_url: &str, body: Vec<u8>) -> (u16, Option<String>, String) {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{witness_url}/add-checkpoint"))
        .body(body)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    (status, ct, resp.text().unwrap())
}

fn grow(log: &LogServer, n: usize, tag: &str) -> Vec<u8> {
    let k = key(SignerAlgorithm::EcdsaP256Sha256);
    let bodies: Vec<_> = (0..n)
        .map(|i| request(&k, format!("{tag} {i}").as_bytes()))
        .collect();
    submit_all(log.url(), &bodies, 4);
    checkpoint(log.url())
}

#[test]
fn cosigns_a_live_log_through_the_client_and_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let log = LogServer::start(&dir.path().join("log"));
    let wdir = dir.path().join("witness");
    std::fs::create_dir_all(&wdir).unwrap();
    let witness = open_witness(&wdir, &log.info.vkey);
    let vkey = witness.vkey();
    let server = start_witness(witness);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = WitnessClient::new(&server.url, &vkey, Duration::from_secs(10)).unwrap();

    let cp1 = grow(&log, 300, "a");
    let sig = rt
        .block_on(client.add_checkpoint(&request_for(log.url(), 0, &cp1)))
        .unwrap();
    // The log adds the cosignature to its checkpoint; a client that trusts the witness
    // verifies it.
    let mut note = Note::parse(&cp1).unwrap();
    note.add_signature_lines(&[sig]).unwrap();
    note.verify(&[&CosignatureVerifier::from_vkey(&vkey).unwrap()])
        .unwrap();

    let cp2 = grow(&log, 50, "b");
    rt.block_on(client.add_checkpoint(&request_for(log.url(), 300, &cp2)))
        .unwrap();
    // A stale old size: 409 with the witness's size, which the client reports.
    let cp3 = grow(&log, 10, "c");
    match rt.block_on(client.add_checkpoint(&request_for(log.url(), 300, &cp3))) {
        Err(AddCheckpointError::Conflict { known_size: 350 }) => {}
        other => panic!("{other:?}"),
    }
    server.stop();

    // Restart on the same state: the witness remembers 350 and never goes back.
    let witness = open_witness(&wdir, &log.info.vkey);
    assert_eq!(witness.vkey(), vkey);
    assert_eq!(
        witness
            .head(&ORIGIN.parse().unwrap())
            .unwrap()
            .unwrap()
            .size,
        350
    );
    let server = start_witness(witness);
    let (s, ct, body) = post(&server.url, request_for(log.url(), 0, &cp1).to_bytes());
    assert_eq!(
        (s, ct.as_deref(), body.as_str()),
        (409, Some("text/x.tlog.size"), "350\n")
    );
    let above = AddCheckpointRequest {
        old_size: 350,
        proof: Vec::new(),
        checkpoint: SignedCheckpoint::parse(&cp1).unwrap(),
    };
    let (s, _, body) = post(&server.url, above.to_bytes());
    assert_eq!(s, 400, "{body}"); // old above the checkpoint's size
    let client = WitnessClient::new(&server.url, &vkey, Duration::from_secs(10)).unwrap();
    rt.block_on(client.add_checkpoint(&request_for(log.url(), 350, &cp3)))
        .unwrap();
}

#[test]
fn every_status_code_over_a_real_socket() {
    let dir = tempfile::tempdir().unwrap();
    let log = LogServer::start(&dir.path().join("log"));
    let wdir = dir.path().join("witness");
    std::fs::create_dir_all(&wdir).unwrap();
    let server = start_witness(open_witness(&wdir, &log.info.vkey));
    let cp1 = grow(&log, 20, "a");
    let (s, ct, body) = post(&server.url, request_for(log.url(), 0, &cp1).to_bytes());
    assert_eq!(s, 200, "{body}");
    assert_eq!(ct.as_deref(), Some("text/plain; charset=utf-8"));
    assert!(body.starts_with("\u{2014} witness.test/w1 ") && body.ends_with('\n'));

    assert_eq!(post(&server.url, b"old 1\n".to_vec()).0, 400);
    // 403: a copy of the log under another key.
    let other = LogServer::start(&dir.path().join("other"));
    let cp_other = grow(&other, 30, "x");
    assert_eq!(
        post(
            &server.url,
            request_for(other.url(), 20, &cp_other).to_bytes()
        )
        .0,
        403
    );
    // 404: the witness does not know the origin.
    let foreign = "elsewhere.test/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} elsewhere.test/log AAAAAQAB\n";
    assert_eq!(
        post(&server.url, format!("old 0\n\n{foreign}").into_bytes()).0,
        404
    );
    let cp2 = grow(&log, 20, "b");
    let (s, ct, body) = post(&server.url, request_for(log.url(), 10, &cp2).to_bytes());
    assert_eq!(
        (s, ct.as_deref(), body.as_str()),
        (409, Some("text/x.tlog.size"), "20\n")
    );
    let mut bad = request_for(log.url(), 20, &cp2);
    bad.proof[0] = Hash([0; 32]);
    assert_eq!(post(&server.url, bad.to_bytes()).0, 422);
    assert_eq!(
        post(&server.url, request_for(log.url(), 20, &cp2).to_bytes()).0,
        200
    );
}

#[test]
fn racing_requests_cosign_one_of_them_and_never_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let log = LogServer::start(&dir.path().join("log"));
    let wdir = dir.path().join("witness");
    std::fs::create_dir_all(&wdir).unwrap();
    let witness = open_witness(&wdir, &log.info.vkey);
    let server = start_witness(witness.clone());
    let base = grow(&log, 10, "base");
    assert_eq!(
        post(&server.url, request_for(log.url(), 0, &base).to_bytes()).0,
        200
    );
    // Sixteen checkpoints of the growing log, each with a valid proof from size 10.
    let mut requests = Vec::new();
    for i in 0..16 {
        let cp = grow(&log, 3, &format!("r{i}"));
        requests.push(request_for(log.url(), 10, &cp));
    }
    for round in 0..3 {
        let results: Vec<(u64, u16, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = requests
                .iter()
                .map(|r| {
                    let url = server.url.clone();
                    s.spawn(move || {
                        let (st, _, body) = post(&url, r.to_bytes());
                        (r.checkpoint.checkpoint().size, st, body)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let head = witness
            .head(&ORIGIN.parse().unwrap())
            .unwrap()
            .unwrap()
            .size;
        let ok: Vec<_> = results.iter().filter(|r| r.1 == 200).collect();
        if round == 0 {
            assert_eq!(ok.len(), 1, "{results:?}");
            assert_eq!(ok[0].0, head);
        } else {
            // Later rounds all start from 10, which is no longer the head.
            assert!(ok.is_empty(), "{results:?}");
        }
        for r in results.iter().filter(|r| r.1 != 200) {
            assert_eq!((r.1, r.2.clone()), (409, format!("{head}\n")));
        }
    }
}

#[test]
fn a_forked_copy_of_the_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = LogServer::start(&dir.path().join("a"));
    let b = a.start_copy_of(&dir.path().join("b"));
    let k = key(SignerAlgorithm::EcdsaP256Sha256);
    let http = reqwest::blocking::Client::new();
    for i in 0..50 {
        let body = request(&k, format!("shared {i}").as_bytes());
        submit(&http, a.url(), &body);
        submit(&http, b.url(), &body);
    }
    let shared = checkpoint(a.url());
    assert_eq!(shared, checkpoint(b.url()).as_slice());
    let cp_a = grow(&a, 30, "a");
    let cp_b = grow(&b, 30, "b");
    let cp_b_more = grow(&b, 20, "b2");

    let wdir = dir.path().join("witness");
    std::fs::create_dir_all(&wdir).unwrap();
    let server = start_witness(open_witness(&wdir, &a.info.vkey));
    assert_eq!(
        post(&server.url, request_for(a.url(), 0, &shared).to_bytes()).0,
        200
    );
    assert_eq!(
        post(&server.url, request_for(a.url(), 50, &cp_a).to_bytes()).0,
        200
    );
    // B's checkpoint of the same size: 409. B's larger one, with B's own proof: 422.
    let (s, _, body) = post(&server.url, request_for(b.url(), 80, &cp_b).to_bytes());
    assert_eq!((s, body.as_str()), (409, "80\n"));
    assert_eq!(
        post(&server.url, request_for(b.url(), 80, &cp_b_more).to_bytes()).0,
        422
    );
    // Restarted, it still refuses B and still follows A.
    server.stop();
    let server = start_witness(open_witness(&wdir, &a.info.vkey));
    assert_eq!(
        post(&server.url, request_for(b.url(), 80, &cp_b_more).to_bytes()).0,
        422
    );
    let cp_a2 = grow(&a, 5, "a2");
    assert_eq!(
        post(&server.url, request_for(a.url(), 80, &cp_a2).to_bytes()).0,
        200
    );
}
