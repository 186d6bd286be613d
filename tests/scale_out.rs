//! End to end, scale-out: a sequencer on PostgreSQL and a bucket, a stateless read replica in
//! front of the same bucket, submissions through the replica, and the monitor and an
//! independent C2SP tile client auditing the whole log through the replica only. Run twice:
//! on a local directory with in-process replicas, and on an S3 server (moto) with the
//! sequencer given the URL-query form of `--objects` and the replicas run as `cairn serve
//! --read-only` processes given the environment form.
//!
//! Needs PostgreSQL and, for S3, moto (see `cairn_store_pg::testing`): prints SKIPPED without
//! them, fails with `CAIRN_REQUIRE_PG=1` / `CAIRN_REQUIRE_S3=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod c2sp_client;
mod cli_support;
mod watch_support;

use cairn_entry::SignerAlgorithm;
use cairn_monitor::monitor::{Monitor, Outcome, WatchedKey};
use cairn_server::replica::{serve_replica, ReplicaConfig};
use cairn_server::RawConfig;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use watch_support::*;

/// A read replica, in this process or as a `cairn serve --read-only` child.
enum Replica {
    InProcess(Running),
    Process { child: Child, url: String },
}

impl Replica {
    fn url(&self) -> &str {
        match self {
            Replica::InProcess(r) => &r.url,
            Replica::Process { url, .. } => url,
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Replica::Process { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// How the scenario's replicas start, given the sequencer's URL.
type StartReplica<'a> = &'a dyn Fn(&str) -> Replica;

fn start_replica(objects: &str, upstream: &str) -> Replica {
    let config = ReplicaConfig {
        objects: objects.to_string(),
        upstream: upstream.to_string(),
        max_body_bytes: 65536,
        request_timeout: Duration::from_secs(30),
    };
    Replica::InProcess(run_server(move |listener, stop| async move {
        serve_replica(&config, listener, async move {
            let _ = stop.await;
        })
        .await
        .unwrap();
    }))
}

/// Starts `cairn serve --read-only --objects OBJECTS` with `env`; returns once it answers.
fn start_replica_process(objects: &str, env: &[(&str, String)], upstream: &str) -> Replica {
    let port = cli_support::free_port();
    let mut cmd = Command::new(cli_support::cairn_bin());
    cmd.args(["serve", "--read-only", "--objects", objects, "--upstream"])
        .arg(upstream)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut replica = Replica::Process {
        child: cmd.spawn().unwrap(),
        url: format!("http://127.0.0.1:{port}"),
    };
    let start = Instant::now();
    loop {
        let answer = reqwest::blocking::get(format!("{}/api/v2/checkpoint", replica.url()));
        if answer.is_ok_and(|r| r.status() == 200) {
            return replica;
        }
        if let Replica::Process { child, .. } = &mut replica {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("cairn serve --read-only exited with {status}");
            }
        }
        assert!(start.elapsed() < Duration::from_secs(30), "replica start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_monitor_audits_a_postgres_log_through_a_read_replica() {
    let Some(pg) = cairn_store_pg::testing::database("scale_out e2e") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let objects = format!("file://{}/bucket", dir.path().display());
    audit_through_replicas(dir.path(), &pg, &objects, &|up| start_replica(&objects, up));
}

#[test]
fn a_monitor_and_a_tile_client_audit_a_log_on_s3_through_replica_processes() {
    let Some(pg) = cairn_store_pg::testing::database("scale_out on S3") else {
        return;
    };
    let Some(s3) = cairn_store_pg::testing::s3_server("scale_out on S3") else {
        return;
    };
    let bucket = s3.bucket();
    let dir = tempfile::tempdir().unwrap();
    let plain = format!("s3://{}/v2", bucket.name);
    audit_through_replicas(dir.path(), &pg, &bucket.url("v2"), &|up| {
        start_replica_process(&plain, &bucket.env(), up)
    });
}

/// Runs a sequencer on `pg` and `objects` with data in `dir`, submits through a replica,
/// audits through it, restarts the sequencer and audits the growth.
fn audit_through_replicas(
    dir: &std::path::Path,
    pg: &str,
    objects: &str,
    start_replica: StartReplica,
) {
    let raw = || RawConfig {
        data: Some(dir.join("data")),
        public_url: Some(format!("http://{ORIGIN}")),
        store: Some(pg.to_string()),
        objects: Some(objects.to_string()),
        ..RawConfig::default()
    };
    let log = LogServer::start_with(raw());
    let replica = start_replica(log.url());
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
    let indexes = submit_all(replica.url(), &bodies, 4);
    let mut sorted = indexes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..300).collect::<Vec<u64>>());

    // The replica serves the bucket: the sequencer's checkpoint, tiles with immutable headers.
    let get = |base: &str, path: &str| http.get(format!("{base}/api/v2/{path}")).send().unwrap();
    let cp = get(replica.url(), "checkpoint");
    assert_eq!(cp.headers()["cache-control"], "no-cache");
    let cp = cp.bytes().unwrap();
    assert_eq!(cp, get(log.url(), "checkpoint").bytes().unwrap());
    let full = get(replica.url(), "tile/0/000");
    assert_eq!(full.status(), 200);
    assert_eq!(
        full.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        full.bytes().unwrap(),
        get(log.url(), "tile/0/000").bytes().unwrap()
    );
    assert_eq!(get(replica.url(), "tile/0/009").status(), 404);
    assert_eq!(get(replica.url(), "tile/0/x").status(), 400);
    assert_eq!(get(replica.url(), "trustedRoot").status(), 200);

    // The monitor, given only the replica, audits every tile and bundle and finds the
    // watched key's entries.
    let state = dir.join("monitor");
    let watched =
        WatchedKey::from_pem("mine.pub", &mine.signer_key().unwrap().to_spki_pem()).unwrap();
    let config = monitor_config(replica.url(), &log.info.vkey, &state, vec![watched]);
    let mut m = Monitor::open(config).unwrap();
    let mut alerts = Vec::new();
    let r = m.round(&mut alerts).unwrap();
    assert_eq!(r.outcome, Outcome::Grew { from: 0, to: 300 });
    assert_eq!(alerts.len(), 100);

    // An independent C2SP tile client, given only the replica, finds the same log: each
    // request's digest and signature in the entry at the index the sequencer answered with.
    let api = format!("{}/api/v2", replica.url());
    let verified = c2sp_client::verify_log(&api, &log.info.vkey);
    assert_eq!((verified.origin.as_str(), verified.size), (ORIGIN, 300));
    for (body, index) in bodies.iter().zip(&indexes) {
        let request: serde_json::Value = serde_json::from_slice(body).unwrap();
        let request = &request["hashedRekordRequestV002"];
        let entry = String::from_utf8(verified.entries[usize::try_from(*index).unwrap()].clone());
        let entry = entry.unwrap();
        for field in [&request["digest"], &request["signature"]["content"]] {
            assert!(
                entry.contains(field.as_str().unwrap()),
                "{field} in entry {index}"
            );
        }
    }

    // A restart of the sequencer on the same database and bucket goes on at the same size.
    log.stop();
    let log = LogServer::start_with(raw());
    assert_eq!(log.info.tree_size, 300);
    let replica = start_replica(log.url());
    let more: Vec<Vec<u8>> = (300..310)
        .map(|i| request(&theirs, format!("artifact {i}").as_bytes()))
        .collect();
    submit_all(replica.url(), &more, 2);
    let config = monitor_config(replica.url(), &log.info.vkey, &state, vec![]);
    let mut m = Monitor::open(config).unwrap();
    let r = m.round(&mut Vec::new()).unwrap();
    assert_eq!(r.outcome, Outcome::Grew { from: 300, to: 310 });
    let api = format!("{}/api/v2", replica.url());
    assert_eq!(c2sp_client::verify_log(&api, &log.info.vkey).size, 310);
}
