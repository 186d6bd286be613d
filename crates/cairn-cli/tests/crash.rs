//! Crash consistency of the real `cairn serve` binary: submit under load, SIGKILL at a random
//! moment, restart, and check that every entry answered with 2xx is in the log at the index it
//! was given, and that every checkpoint ever returned is consistent with the final one.
//!
//! The short form (5 cycles) runs with `cargo test`; the long form:
//! `CAIRN_CRASH_CYCLES=50 cargo test --release -p cairn-cli --test crash -- --nocapture`.
//! The same cycles run on the embedded store and on PostgreSQL with a bucket (skipped, loudly,
//! without PostgreSQL; see `cairn_store_pg::testing`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_e2e::Client;
use cairn_entry::{HashedRekordRequest, SignerAlgorithm, SignerKeyPair, TransparencyLogEntry};
use cairn_merkle::tiles::{EntryBundle, Tile, TileHashReader};
use cairn_merkle::{consistency_proof, verify_consistency};
use cairn_note::{open_checkpoint, Checkpoint, Ed25519Verifier, NoteVerifier};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Server {
    child: Child,
    url: String,
    vkey: String,
}

fn start(data: &Path, store: &[String]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://crash.test/log",
        ])
        .arg("--data")
        .arg(data)
        .args(store)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut vkey) = (None, None);
    while url.is_none() || vkey.is_none() {
        let line = lines
            .next()
            .expect("server exited before it was ready")
            .unwrap();
        if let Some(a) = line.strip_prefix("cairn: listening on ") {
            url = Some(format!("http://{a}"));
        }
        if let Some(v) = line.strip_prefix("cairn: log verifier key ") {
            vkey = Some(v.to_string());
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        url: url.unwrap(),
        vkey: vkey.unwrap(),
    }
}

/// What a submitter was told: the entry's body and index, and the checkpoint it came with.
struct Ack {
    body: Vec<u8>,
    index: u64,
    checkpoint: Vec<u8>,
}

fn open(vkey: &str, note: &[u8]) -> Checkpoint {
    let v = Ed25519Verifier::from_vkey(vkey).unwrap();
    let vs: [&dyn NoteVerifier; 1] = [&v];
    open_checkpoint(note, &vs, None).unwrap().0
}

#[test]
fn acknowledged_entries_survive_sigkill() {
    sigkill_cycles(&[]);
}

#[test]
fn acknowledged_entries_survive_sigkill_on_postgres() {
    let Some(db) =
        cairn_store_pg::testing::database("acknowledged_entries_survive_sigkill_on_postgres")
    else {
        return;
    };
    let bucket = tempfile::tempdir().unwrap();
    sigkill_cycles(&[
        "--store".into(),
        db,
        "--objects".into(),
        format!("file://{}", bucket.path().display()),
    ]);
}

/// Runs the kill cycles on a server started with `store` flags, then checks every answer.
fn sigkill_cycles(store: &[String]) {
    let cycles: u64 = std::env::var("CAIRN_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let mut vkey = String::new();
    let mut next_artifact = 0u64;
    for cycle in 0..cycles {
        let mut server = start(dir.path(), store);
        vkey.clone_from(&server.vkey);
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let (client, stop, acks) = (Client::new(&server.url), stop.clone(), acks.clone());
                let start = next_artifact + w * 1_000_000;
                std::thread::spawn(move || {
                    let kp =
                        SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rand_core::OsRng);
                    for i in start.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let req =
                            HashedRekordRequest::sign(&kp, kp.algorithm().digest(&i.to_be_bytes()))
                                .unwrap();
                        let Some(r) = client.try_submit(req.to_wire().to_json()) else {
                            break; // the server is gone
                        };
                        if r.status == 201 || r.status == 200 {
                            let tle: TransparencyLogEntry =
                                serde_json::from_slice(&r.body).unwrap();
                            let proof = tle.inclusion_proof.unwrap();
                            acks.lock().unwrap().push(Ack {
                                body: tle.canonicalized_body,
                                index: tle.log_index as u64,
                                checkpoint: proof.checkpoint.unwrap().envelope.into_bytes(),
                            });
                        }
                    }
                })
            })
            .collect();
        next_artifact += 10_000_000;
        // Kill at a pseudo-random moment in the middle of the load.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        std::thread::sleep(Duration::from_millis(150 + u64::from(nanos % 400)));
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
        eprintln!(
            "cycle {cycle}: {} entries acknowledged so far",
            acks.lock().unwrap().len()
        );
    }

    // Restart once more and check everything that was ever acknowledged.
    let mut server = start(dir.path(), store);
    let client = Client::new(&server.url);
    let last = open(&server.vkey, &client.checkpoint());
    assert_eq!(server.vkey, vkey);
    let acks = acks.lock().unwrap();
    assert!(
        !acks.is_empty(),
        "no entry was acknowledged: the test proved nothing"
    );
    let mut lost = 0;
    let mut bundles: std::collections::HashMap<u64, EntryBundle> = Default::default();
    for ack in acks.iter() {
        assert!(
            ack.index < last.size,
            "index {} beyond the final size {}",
            ack.index,
            last.size
        );
        let n = ack.index / 256;
        let bundle = bundles.entry(n).or_insert_with(|| {
            let t = Tile::at_size(0, n, last.size).unwrap();
            let r = client.get(&format!("/api/v2/{}", t.entries_path()));
            assert_eq!(r.status, 200);
            EntryBundle::parse(&r.body, Some(t.width())).unwrap()
        });
        if bundle.entries()[(ack.index % 256) as usize] != ack.body {
            lost += 1;
        }
    }
    let reader = TileHashReader::new(last.size, client.clone());
    let mut seen = std::collections::HashSet::new();
    for ack in acks.iter() {
        if !seen.insert(ack.checkpoint.clone()) {
            continue;
        }
        let cp = open(&vkey, &ack.checkpoint);
        let proof = consistency_proof(cp.size, last.size, &reader).unwrap();
        verify_consistency(cp.size, last.size, &cp.root, &last.root, &proof).unwrap_or_else(|e| {
            panic!(
                "checkpoint {} is not consistent with the final one: {e}",
                cp.size
            )
        });
    }
    eprintln!(
        "crash test: {cycles} SIGKILL cycles, {} entries acknowledged, {} distinct checkpoints, \
         final size {}, {lost} lost",
        acks.len(),
        seen.len(),
        last.size
    );
    assert_eq!(lost, 0, "acknowledged entries lost");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
