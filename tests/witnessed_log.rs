//! A log with witnesses, end to end over real sockets: the log sends each checkpoint to three
//! C2SP witnesses, publishes it with their cosignatures, and `cairn sign` bundles carry them;
//! `cairn verify --witness-policy` accepts a policy they meet and refuses one they do not.
//! Failing closed, a lost quorum turns submitters away (503) without publishing; failing
//! open, the checkpoint is published anyway and counted.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;
mod watch_support;

use cairn_e2e::{Client, TestServer, TEST_ORIGIN};
use cairn_entry::SignerAlgorithm;
use cairn_monitor::witness::config::load_key;
use cairn_monitor::witness::{LogKeys, RedbWitnessStore, SystemClock, Witness};
use cairn_note::{CosignatureSigner, Ed25519Verifier, SignedCheckpoint};
use cairn_server::RawConfig;
use cli_support::*;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use watch_support::{key, request, start_witness, start_witness_at, Running};

/// A witness of the test log, with its own key and durable state under `dir`.
struct TestWitness {
    name: String,
    key_hex: String,
    vkey: String,
    witness: Arc<Witness>,
    running: Option<Running>,
}

impl TestWitness {
    fn start(dir: &Path, name: &str, log_vkey: &str) -> TestWitness {
        std::fs::create_dir_all(dir).unwrap();
        let key_path = dir.join("witness.key");
        let key = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
        let pem = key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap();
        std::fs::write(&key_path, pem.as_bytes()).unwrap();
        let signer = CosignatureSigner::new(name.parse().unwrap(), load_key(&key_path).unwrap());
        let store = RedbWitnessStore::open(&dir.join("witness.redb")).unwrap();
        let witness = Arc::new(Witness::new(
            signer,
            vec![
                LogKeys::from_vkeys(TEST_ORIGIN.parse().unwrap(), &[log_vkey.to_string()]).unwrap(),
            ],
            Box::new(store),
            Box::new(SystemClock),
        ));
        TestWitness {
            name: name.to_string(),
            key_hex: hex::encode(key.verifying_key().as_bytes()),
            vkey: witness.vkey(),
            running: Some(start_witness(witness.clone())),
            witness,
        }
    }

    fn url(&self) -> String {
        self.running.as_ref().unwrap().url.clone()
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop();
        }
    }

    /// Starts it again on `url`'s port, with the same state.
    fn restart_at(&mut self, url: &str) {
        let addr = url.strip_prefix("http://").unwrap();
        self.running = Some(start_witness_at(self.witness.clone(), addr));
    }
}

/// Creates a log in a new directory by starting it once without witnesses (which makes its
/// key); returns the directory, the log's data directory and its vkey.
fn fresh_log() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("log");
    let first = TestServer::start(&data);
    let vkey = first.info.vkey.clone();
    first.stop().unwrap();
    (dir, data, vkey)
}

fn log_key_hex(vkey: &str) -> String {
    let v = Ed25519Verifier::from_vkey(vkey).unwrap();
    hex::encode(v.verifying_key().as_bytes())
}

/// Names (in line order) of the cosignature lines on a checkpoint, other than the log's.
fn cosigners(note: &[u8]) -> Vec<String> {
    let signed = SignedCheckpoint::parse(note).unwrap();
    signed
        .note()
        .signatures
        .iter()
        .map(|s| s.name.to_string())
        .filter(|n| n != TEST_ORIGIN)
        .collect()
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn log_with(data: &Path, extra: RawConfig) -> TestServer {
    TestServer::start_with(RawConfig {
        data: Some(data.to_path_buf()),
        public_url: Some(format!("http://{TEST_ORIGIN}")),
        ..extra
    })
}

fn metric(client: &Client, name: &str) -> u64 {
    let text = client.get("/metrics").text();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
}

#[test]
fn bundles_carry_cosignatures_that_a_witness_policy_checks() {
    let (dir, data, log_vkey) = fresh_log();
    let d = dir.path();
    let mut ws: Vec<TestWitness> = (1..=3)
        .map(|i| {
            TestWitness::start(
                &d.join(format!("w{i}")),
                &format!("witness.test/w{i}"),
                &log_vkey,
            )
        })
        .collect();
    // w1 and w2 have their URLs in the policy; w3's comes from --witness.
    let policy = write(
        &d.join("policy"),
        &format!(
            "# the test log and its three witnesses\n\
             log {log}\n\
             witness {n1} {k1} {u1}\n\
             witness {n2} {k2} {u2}\n\
             witness {n3} {k3}\n\
             group two-of-three 2 {n1} {n2} {n3}\n\
             quorum two-of-three\n",
            log = log_key_hex(&log_vkey),
            n1 = ws[0].name,
            k1 = ws[0].key_hex,
            u1 = ws[0].url(),
            n2 = ws[1].name,
            k2 = ws[1].key_hex,
            u2 = ws[1].url(),
            n3 = ws[2].name,
            k3 = ws[2].key_hex,
        ),
    );
    let server = log_with(
        &data,
        RawConfig {
            witness: Some(vec![format!("{}={}", ws[2].url(), ws[2].vkey)]),
            witness_policy: Some(PathBuf::from(&policy)),
            witness_timeout_ms: Some(10_000),
            ..RawConfig::default()
        },
    );
    let client = server.client();
    let root = data
        .join("trusted_root.json")
        .to_string_lossy()
        .into_owned();

    // The stored checkpoint is cosigned at start, and every new one with all three.
    let w1_url = ws[0].url();
    let o = cairn(d, &["keygen", "--out", "release"]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(d.join("app.bin"), b"a release").unwrap();
    let sign = |artifact: &str| {
        cairn(
            d,
            &[
                "sign",
                "--key",
                "release.key",
                "--log",
                &server.url,
                "--trusted-root",
                &root,
                artifact,
            ],
        )
    };
    let o = sign("app.bin");
    assert!(o.status.success(), "{}", text(&o));
    let names: Vec<String> = ws.iter().map(|w| w.name.clone()).collect();
    assert_eq!(cosigners(&client.checkpoint()), names);
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("app.bin.sigstore.json")).unwrap()).unwrap();
    let envelope = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"]
        .as_str()
        .unwrap();
    assert_eq!(cosigners(envelope.as_bytes()), names, "{envelope}");

    let verify_file = |policy: &str, artifact: &str| {
        cairn(
            d,
            &[
                "verify",
                "--trusted-root",
                &root,
                "--key",
                "release.pub",
                "--witness-policy",
                policy,
                artifact,
            ],
        )
    };
    let verify = |policy: &str| verify_file(policy, "app.bin");
    let o = verify(&policy);
    assert!(o.status.success(), "{}", text(&o));

    // A policy the cosignatures do not meet: a fourth witness that never saw the log.
    let stranger = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let unmet = write(
        &d.join("unmet"),
        &format!(
            "witness {n1} {k1}\nwitness w4.test {k4}\ngroup both all {n1} w4.test\nquorum both\n",
            n1 = ws[0].name,
            k1 = ws[0].key_hex,
            k4 = hex::encode(stranger.verifying_key().as_bytes()),
        ),
    );
    let o = verify(&unmet);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("do not meet the quorum both (2 of 2)"),
        "{}",
        text(&o)
    );
    // A policy that names the witnesses under other names: their lines do not count.
    let renamed = write(
        &d.join("renamed"),
        &format!(
            "witness other.test/w1 {}\nquorum other.test/w1\n",
            ws[0].key_hex
        ),
    );
    assert_eq!(verify(&renamed).status.code(), Some(1));
    // A policy that lists another log.
    let other_log = write(
        &d.join("other-log"),
        &format!(
            "log {}\nquorum none\n",
            hex::encode(stranger.verifying_key().as_bytes())
        ),
    );
    let o = verify(&other_log);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not list the log"),
        "{}",
        text(&o)
    );
    // A malformed policy is a usage/input error, not a verification failure.
    let broken = write(&d.join("broken"), "quorum nobody\n");
    assert_eq!(verify(&broken).status.code(), Some(3));

    // One witness down: two of three still cosign, and the bundle still verifies.
    ws[0].stop();
    std::fs::write(d.join("second.bin"), b"second release").unwrap();
    let o = sign("second.bin");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(cosigners(&client.checkpoint()), names[1..].to_vec());
    let o = verify_file(&policy, "second.bin");
    assert!(o.status.success(), "{}", text(&o));

    // Two down: failing closed, the entry is logged but not answered, and the published
    // checkpoint does not move.
    ws[1].stop();
    let before = client.checkpoint();
    let signer = key(SignerAlgorithm::EcdsaP256Sha256);
    let body = request(&signer, b"while the witnesses are away");
    let r = client.submit(body.clone());
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.headers["retry-after"], "1");
    assert!(r.text().contains("logged at index"), "{}", r.text());
    assert_eq!(client.checkpoint(), before);
    assert!(metric(&client, "cairn_log_witness_quorum_missed_total") >= 1);
    assert_eq!(
        metric(&client, "cairn_log_entries_total{result=\"unwitnessed\"}"),
        1
    );

    // A witness comes back: the resubmission is answered (200, a duplicate) with a witnessed
    // checkpoint that includes it; the returning witness gets a consistency proof from the
    // size it last cosigned.
    ws[0].restart_at(&w1_url);
    let r = client.submit(body);
    assert_eq!(r.status, 200, "{}", r.text());
    let entry: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let envelope = entry["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    assert_eq!(
        cosigners(envelope.as_bytes()),
        vec![names[0].clone(), names[2].clone()]
    );
    assert_ne!(client.checkpoint(), before);
    server.stop().unwrap();
    for w in &mut ws {
        w.stop();
    }
}

#[test]
fn failing_open_publishes_without_the_quorum_and_counts_it() {
    let (dir, data, log_vkey) = fresh_log();
    let d = dir.path();
    let mut w1 = TestWitness::start(&d.join("w1"), "witness.test/w1", &log_vkey);
    // A witness nobody runs: its port is closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dead = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let policy = write(
        &d.join("policy"),
        &format!(
            "witness {} {} {}\nwitness dead.test {} {dead_url}\ngroup both all {} dead.test\nquorum both\n",
            w1.name,
            w1.key_hex,
            w1.url(),
            hex::encode(dead.verifying_key().as_bytes()),
            w1.name,
        ),
    );
    let server = log_with(
        &data,
        RawConfig {
            witness_policy: Some(PathBuf::from(&policy)),
            witness_mode: Some("open".into()),
            witness_timeout_ms: Some(2_000),
            ..RawConfig::default()
        },
    );
    let client = server.client();
    let signer = key(SignerAlgorithm::Ed25519Ph);
    let r = client.submit(request(&signer, b"fail open"));
    assert_eq!(r.status, 201, "{}", r.text());
    let entry: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let envelope = entry["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    assert_eq!(cosigners(envelope.as_bytes()), vec![w1.name.clone()]);
    assert_eq!(client.checkpoint(), envelope.as_bytes());
    assert!(metric(&client, "cairn_log_witness_published_unwitnessed_total") >= 1);
    assert!(metric(&client, "cairn_log_witness_errors_total") >= 1);
    server.stop().unwrap();
    w1.stop();
}

#[test]
fn witness_settings_that_cannot_work_are_refused_at_start() {
    let (dir, data, _) = fresh_log();
    let d = dir.path();
    let w = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let w_hex = hex::encode(w.verifying_key().as_bytes());
    let cases = [
        // No URL for the one witness the quorum needs.
        (
            format!("witness w.test {w_hex}\nquorum w.test\n"),
            "cannot meet",
        ),
        // The policy lists logs, not this one.
        (format!("log {w_hex}\nquorum none\n"), "not this log's key"),
        // Not a policy.
        ("witness\n".to_string(), "policy line 1"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let policy = write(&d.join(format!("policy{i}")), text);
        let err = TestServer::try_start_with(RawConfig {
            data: Some(data.clone()),
            public_url: Some(format!("http://{TEST_ORIGIN}")),
            witness_policy: Some(PathBuf::from(policy)),
            ..RawConfig::default()
        })
        .err()
        .unwrap_or_else(|| panic!("started with {text:?}"));
        let msg = format!("{err:#}");
        assert!(msg.contains(want), "{text:?}: {msg}");
    }
    // A --witness that is not in the policy, and a malformed one.
    let policy = write(
        &d.join("policy-ok"),
        &format!("witness w.test {w_hex} http://127.0.0.1:9\nquorum w.test\n"),
    );
    let stranger = CosignatureSigner::generate("s.test".parse().unwrap(), &mut rand_core::OsRng);
    for (witness, want) in [
        (
            format!("http://127.0.0.1:9={}", stranger.vkey()),
            "not a witness of the policy",
        ),
        ("http://127.0.0.1:9".to_string(), "URL=VKEY"),
        (format!("127.0.0.1:9={}", stranger.vkey()), "http://"),
    ] {
        let err = TestServer::try_start_with(RawConfig {
            data: Some(data.clone()),
            public_url: Some(format!("http://{TEST_ORIGIN}")),
            witness_policy: Some(PathBuf::from(&policy)),
            witness: Some(vec![witness.clone()]),
            ..RawConfig::default()
        })
        .err()
        .unwrap_or_else(|| panic!("started with {witness}"));
        assert!(format!("{err:#}").contains(want), "{witness}: {err:#}");
    }
}

/// Forwards every request to `upstream` after `delay`: a slow witness.
fn start_delaying_proxy(upstream: &str, delay: std::time::Duration) -> Running {
    let upstream = upstream.to_string();
    watch_support::run_server(move |listener, stop| async move {
        let http = reqwest::Client::new();
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method, uri: axum::http::Uri, body: axum::body::Bytes| {
                let (http, upstream) = (http.clone(), upstream.clone());
                async move {
                    tokio::time::sleep(delay).await;
                    let resp = http
                        .request(method, format!("{upstream}{}", uri.path()))
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    let status = axum::http::StatusCode::from_u16(resp.status().as_u16()).unwrap();
                    (status, resp.bytes().await.unwrap().to_vec())
                }
            },
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await
            .unwrap();
    })
}

#[test]
fn the_sequencer_commits_the_next_batch_while_a_checkpoint_is_being_cosigned() {
    let (dir, data, log_vkey) = fresh_log();
    let w = TestWitness::start(&dir.path().join("w"), "witness.test/slow", &log_vkey);
    // Each cosignature takes 1.5 s, far longer than a commit even on a loaded machine.
    let slow = start_delaying_proxy(&w.url(), std::time::Duration::from_millis(1500));
    let server = log_with(
        &data,
        RawConfig {
            witness: Some(vec![format!("{}={}", slow.url, w.vkey)]),
            witness_timeout_ms: Some(20_000),
            ..RawConfig::default()
        },
    );
    let url = server.url.clone();
    let signer = key(SignerAlgorithm::EcdsaP256Sha256);
    let send = |n: u8| {
        let (url, body) = (url.clone(), request(&signer, &[n; 8]));
        std::thread::spawn(move || {
            let http = reqwest::blocking::Client::new();
            let resp = http
                .post(format!("{url}/api/v2/log/entries"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .unwrap();
            assert_eq!(resp.status(), 201);
            let v: serde_json::Value = resp.json().unwrap();
            v["inclusionProof"]["checkpoint"]["envelope"]
                .as_str()
                .unwrap()
                .to_string()
        })
    };
    let client = server.client();
    let wait_for_size = |size: u64| {
        for _ in 0..1000 {
            if metric(&client, "cairn_log_tree_size") >= size {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("the tree never reached size {size}");
    };
    let a = send(1);
    wait_for_size(1);
    let b = send(2);
    // Entry 2 is committed while entry 1's checkpoint is still out for cosigning: without
    // the pipeline, the second commit would wait for the first round.
    wait_for_size(2);
    assert!(
        !a.is_finished(),
        "the first entry was answered before the second was committed"
    );
    for answer in [a.join().unwrap(), b.join().unwrap()] {
        assert_eq!(cosigners(answer.as_bytes()), vec!["witness.test/slow"]);
    }
    assert!(SignedCheckpoint::parse(&checkpoint_bytes(&client)).is_ok());
}

fn checkpoint_bytes(client: &Client) -> Vec<u8> {
    client.get("/api/v2/checkpoint").body
}
