//! Sequencer rounds per second on this driver beside the embedded redb store: the same
//! sequencer, the same pre-hashed entries, batches of `BATCH` entries, `ROUNDS` rounds each.
//! Prints throughput and round latency percentiles (one round = dedup lookups, tree update,
//! checkpoint signature, the store's commit; for PostgreSQL also the uploads).
//!
//! `cargo run --release -p cairn-store-pg --example commit_rate -- [BATCH] [ROUNDS] [OBJECTS]`
//! with `CAIRN_TEST_PG_URL` naming a server (or a local PostgreSQL the test harness starts);
//! OBJECTS is an object_store URL (default: a `file://` directory in a temporary folder).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use cairn_log::{Clock, LogMeta, LogStore, PendingEntry, RedbStore, Sequencer};
use cairn_merkle::leaf_hash;
use cairn_note::{Ed25519Signer, KeyName, Origin};
use std::time::{Duration, Instant};

const ORIGIN: &str = "example.com/bench";

struct Wall;
impl Clock for Wall {
    fn unix_seconds(&self) -> u64 {
        1_700_000_000
    }
}

fn run<S: LogStore>(name: &str, store: S, batch: usize, rounds: usize) {
    let signer = Ed25519Signer::new(
        ORIGIN.parse::<KeyName>().unwrap(),
        ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]),
    );
    let meta = LogMeta {
        origin: ORIGIN.into(),
        vkey: signer.vkey(),
        created: 1,
    };
    let mut seq = Sequencer::open(
        store,
        &meta,
        ORIGIN.parse::<Origin>().unwrap(),
        Box::new(signer),
        Box::new(Wall),
    )
    .unwrap();
    let mut times = Vec::with_capacity(rounds);
    let start = Instant::now();
    for r in 0..rounds {
        let entries: Vec<PendingEntry> = (0..batch)
            .map(|i| {
                // A hashedrekord-sized body (about 1 KB).
                let body = format!(
                    "{{\"round\":{r},\"i\":{i},\"pad\":\"{}\"}}",
                    "x".repeat(900)
                )
                .into_bytes();
                PendingEntry {
                    leaf_hash: leaf_hash(&body),
                    body,
                }
            })
            .collect();
        let t = Instant::now();
        seq.integrate(&entries).unwrap();
        times.push(t.elapsed());
    }
    let total = start.elapsed();
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{name}: {rounds} rounds of {batch}: {:.0} entries/s; round p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        (rounds * batch) as f64 / total.as_secs_f64(),
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(pct(1.0)),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let batch: usize = args.get(1).map_or(256, |v| v.parse().unwrap());
    let rounds: usize = args.get(2).map_or(200, |v| v.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let objects = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| format!("file://{}/bucket", dir.path().display()));

    run(
        "redb (embedded)",
        RedbStore::open(&dir.path().join("log.redb")).unwrap(),
        batch,
        rounds,
    );
    let Some(url) = cairn_store_pg::testing::database("commit_rate") else {
        return;
    };
    let store = cairn_store_pg::PgStore::open(&url, &objects).unwrap();
    run(&format!("postgres + {objects}"), store, batch, rounds);
}
