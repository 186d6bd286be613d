//! A log that holds an entry it should have refused (a forged signature, garbage): the
//! monitor audits the tree, finds it consistent, and then reports the entry with exit code 6
//! and the entry as evidence. The log is written with the sequencer directly (the server
//! would refuse such entries) and served by `cairn_server` on 127.0.0.1:0.

// Tests may unwrap and panic: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cairn_entry::{HashedRekordRequest, SignerAlgorithm, SignerKeyPair};
use cairn_log::{Clock, LogMeta, PendingEntry, RedbStore, Sequencer};
use cairn_merkle::leaf_hash;
use cairn_monitor::monitor::{Alert, Monitor, MonitorConfig};
use cairn_note::{verifier_from_vkey, Ed25519Signer};
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use std::path::Path;

const ORIGIN: &str = "cairn.test/log";

struct FixedClock;
impl Clock for FixedClock {
    fn unix_seconds(&self) -> u64 {
        1_700_000_000
    }
}

/// Writes a log of `bodies` into `dir` as `cairn serve` would find it; returns its vkey.
fn write_log(dir: &Path, bodies: &[Vec<u8>]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let key = SigningKey::from_bytes(&[42; 32]);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.join("log.key"))
            .unwrap();
        f.write_all(pem.as_bytes()).unwrap();
    }
    let signer = Ed25519Signer::new(ORIGIN.parse().unwrap(), key);
    let vkey = signer.vkey();
    let meta = LogMeta {
        origin: ORIGIN.into(),
        vkey: vkey.clone(),
        created: 1_700_000_000,
    };
    let mut seq = Sequencer::open(
        RedbStore::open(&dir.join("log.redb")).unwrap(),
        &meta,
        ORIGIN.parse().unwrap(),
        Box::new(signer),
        Box::new(FixedClock),
    )
    .unwrap();
    let pending: Vec<PendingEntry> = bodies
        .iter()
        .map(|b| PendingEntry {
            leaf_hash: leaf_hash(b),
            body: b.clone(),
        })
        .collect();
    seq.integrate(&pending).unwrap();
    vkey
}

fn serve_and_monitor(
    dir: &Path,
    vkey: &str,
) -> (
    Result<u64, cairn_monitor::monitor::MonitorError>,
    Vec<Alert>,
) {
    let raw = cairn_server::RawConfig {
        data: Some(dir.to_path_buf()),
        public_url: Some(format!("http://{ORIGIN}")),
        ..cairn_server::RawConfig::default()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let prepared = cairn_server::prepare(&raw, listener.local_addr().unwrap()).unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            cairn_server::serve(prepared, listener, async move {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    let mut m = Monitor::open(MonitorConfig {
        tiles_prefix: format!("http://{addr}/api/v2"),
        origin: ORIGIN.parse().unwrap(),
        verifiers: vec![verifier_from_vkey(vkey).unwrap()],
        state_dir: dir.join("monitor"),
        watched: vec![],
        progress: false,
        fetch_parallelism: 2,
        threads: 2,
    })
    .unwrap();
    let mut alerts = Vec::new();
    let r = m.round(&mut alerts).map(|r| r.entries);
    let _ = stop_tx.send(());
    server.join().unwrap();
    (r, alerts)
}

fn good(key: &SignerKeyPair, i: u32) -> Vec<u8> {
    let digest = key.algorithm().digest(&i.to_be_bytes());
    HashedRekordRequest::sign(key, digest)
        .unwrap()
        .to_body()
        .to_canonical_bytes()
}

#[test]
fn an_entry_with_a_forged_signature_is_exit_6_after_a_clean_audit() {
    let key = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rand_core::OsRng);
    let mut bodies: Vec<Vec<u8>> = (0..300).map(|i| good(&key, i)).collect();
    // Entry 123: a well-formed body whose signature is over another digest.
    let other = String::from_utf8(good(&key, 9999)).unwrap();
    let mine = String::from_utf8(bodies[123].clone()).unwrap();
    let digest_of = |s: &str| {
        s.split("\"digest\":\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    bodies[123] = mine
        .replace(&digest_of(&mine), &digest_of(&other))
        .into_bytes();
    let dir = tempfile::tempdir().unwrap();
    let vkey = write_log(dir.path(), &bodies);
    let (r, _) = serve_and_monitor(dir.path(), &vkey);
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 6, "{e}");
    let ev = e.evidence().unwrap();
    assert_eq!(std::fs::read(ev.join("entry-123")).unwrap(), bodies[123]);
    assert!(ev.join("new.checkpoint").exists());
}

#[test]
fn garbage_entries_are_exit_6_and_a_clean_log_passes() {
    let key = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rand_core::OsRng);
    let clean: Vec<Vec<u8>> = (0..40).map(|i| good(&key, i)).collect();
    let dir = tempfile::tempdir().unwrap();
    let vkey = write_log(&dir.path().join("clean"), &clean);
    let (r, alerts) = serve_and_monitor(&dir.path().join("clean"), &vkey);
    assert_eq!(r.unwrap(), 40);
    assert!(alerts.is_empty());

    let mut bodies = clean;
    bodies.push(b"not a log entry".to_vec());
    let vkey = write_log(&dir.path().join("garbage"), &bodies);
    let (r, _) = serve_and_monitor(&dir.path().join("garbage"), &vkey);
    let e = r.unwrap_err();
    assert_eq!(e.exit_code(), 6, "{e}");
    assert!(e.evidence().unwrap().join("entry-40").exists());
}
