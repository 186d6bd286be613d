//! End to end, scale-out: a sequencer on PostgreSQL and a bucket (a local directory through
//! object_store), a stateless read replica in front of the same bucket, submissions through
//! the replica, and the monitor auditing the whole log through the replica only.
//!
//! Needs PostgreSQL (see `cairn_store_pg::testing`): prints SKIPPED without it, fails with
//! `CAIRN_REQUIRE_PG=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod watch_support;

use cairn_entry::SignerAlgorithm;
use cairn_monitor::monitor::{Monitor, Outcome, WatchedKey};
use cairn_server::replica::{serve_replica, ReplicaConfig};
use cairn_server::RawConfig;
use std::time::Duration;
use watch_support::*;

fn start_replica(objects: &str, upstream: &str) -> Running {
    let config = ReplicaConfig {
        objects: objects.to_string(),
        upstream: upstream.to_string(),
        max_body_bytes: 65536,
        request_timeout: Duration::from_secs(30),
    };
    run_server(move |listener, stop| async move {
        serve_replica(&config, listener, async move {
            let _ = stop.await;
        })
        .await
        .unwrap();
    })
}

#[test]
fn a_monitor_audits_a_postgres_log_through_a_read_replica() {
    let Some(pg) = cairn_store_pg::testing::database("scale_out e2e") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let objects = format!("file://{}/bucket", dir.path().display());
    let raw = || RawConfig {
        data: Some(dir.path().join("data")),
        public_url: Some(format!("http://{ORIGIN}")),
        store: Some(pg.clone()),
        objects: Some(objects.clone()),
        ..RawConfig::default()
    };
    let log = LogServer::start_with(raw());
    let replica = start_replica(&objects, log.url());
    let http = reqwest::blocking::Client::new();

    // Submissions through the replica get the sequencer's answers.
    let mine = key(SignerAlgorithm::EcdsaP256Sha256);
    let theirs = key(SignerAlgorithm::Ed25519Ph);
    let bodies: Vec<Vec<u8>> = (0..300)
        .map(|i| {
            let k = if i % 3 == 0 { &mine } else { &theirs };
            request(k, format!("artifact {i}").as_bytes())
        })
        .collect();
    let indexes = submit_all(&replica.url, &bodies, 4);
    let mut sorted = indexes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..300).collect::<Vec<u64>>());

    // The replica serves the bucket: the sequencer's checkpoint, tiles with immutable headers.
    let get = |base: &str, path: &str| http.get(format!("{base}/api/v2/{path}")).send().unwrap();
    let cp = get(&replica.url, "checkpoint");
    assert_eq!(cp.headers()["cache-control"], "no-cache");
    let cp = cp.bytes().unwrap();
    assert_eq!(cp, get(log.url(), "checkpoint").bytes().unwrap());
    let full = get(&replica.url, "tile/0/000");
    assert_eq!(full.status(), 200);
    assert_eq!(
        full.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        full.bytes().unwrap(),
        get(log.url(), "tile/0/000").bytes().unwrap()
    );
    assert_eq!(get(&replica.url, "tile/0/009").status(), 404);
    assert_eq!(get(&replica.url, "tile/0/x").status(), 400);
    assert_eq!(get(&replica.url, "trustedRoot").status(), 200);

    // The monitor, given only the replica, audits every tile and bundle and finds the
    // watched key's entries.
    let state = dir.path().join("monitor");
    let watched =
        WatchedKey::from_pem("mine.pub", &mine.signer_key().unwrap().to_spki_pem()).unwrap();
    let config = monitor_config(&replica.url, &log.info.vkey, &state, vec![watched]);
    let mut m = Monitor::open(config).unwrap();
    let mut alerts = Vec::new();
    let r = m.round(&mut alerts).unwrap();
    assert_eq!(r.outcome, Outcome::Grew { from: 0, to: 300 });
    assert_eq!(alerts.len(), 100);

    // A restart of the sequencer on the same database and bucket goes on at the same size.
    log.stop();
    let log = LogServer::start_with(raw());
    assert_eq!(log.info.tree_size, 300);
    let replica = start_replica(&objects, log.url());
    let more: Vec<Vec<u8>> = (300..310)
        .map(|i| request(&theirs, format!("artifact {i}").as_bytes()))
        .collect();
    submit_all(&replica.url, &more, 2);
    let config = monitor_config(&replica.url, &log.info.vkey, &state, vec![]);
    let mut m = Monitor::open(config).unwrap();
    let r = m.round(&mut Vec::new()).unwrap();
    assert_eq!(r.outcome, Outcome::Grew { from: 300, to: 310 });
}
