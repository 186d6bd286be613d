//! `cairn monitor` as a user runs it: the real binary against real logs on 127.0.0.1:0. Its
//! JSON lines on stdout and the webhook's POSTs are exactly the watched entries, and each kind
//! of failure has its own exit code (0 ok, 1 operational, 2 usage, 3 fork, 4 tampered tile).

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;
mod watch_support;

use cairn_entry::SignerAlgorithm;
use cli_support::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use watch_support::*;

fn monitor(dir: &Path, url: &str, vkey: &str, extra: &[&str]) -> Output {
    monitor_in(dir, "state", url, vkey, extra)
}

fn monitor_in(dir: &Path, state: &str, url: &str, vkey: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "monitor",
        "--log",
        url,
        "--vkey",
        vkey,
        "--origin",
        ORIGIN,
        "--state",
        state,
        "--once",
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    cairn(dir, &args)
}

fn indexes_of(lines: &[u8]) -> BTreeSet<u64> {
    String::from_utf8_lossy(lines)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["log_index"].as_u64().unwrap_or_else(|| panic!("{l}"))
        })
        .collect()
}

#[test]
fn alerts_go_to_stdout_and_the_webhook_and_failures_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = LogServer::start(&d.join("a"));
    let b = a.start_copy_of(&d.join("b"));
    let mine = key(SignerAlgorithm::EcdsaP256Sha256);
    let theirs = key(SignerAlgorithm::Ed25519Ph);
    std::fs::write(d.join("mine.pub"), mine.signer_key().unwrap().to_spki_pem()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..40)
        .map(|i| {
            let k = if i % 4 == 0 { &mine } else { &theirs };
            request(k, format!("release {i}").as_bytes())
        })
        .collect();
    // The same entries, in the same order, in both copies; then they diverge.
    let http = reqwest::blocking::Client::new();
    let mut want = BTreeSet::new();
    for (i, body) in bodies.iter().enumerate() {
        let index = submit(&http, a.url(), body);
        assert_eq!(submit(&http, b.url(), body), index);
        if i % 4 == 0 {
            want.insert(index);
        }
    }

    let (hook, posted) = start_webhook();
    let o = monitor(
        d,
        a.url(),
        &a.info.vkey,
        &["--watch-key", "mine.pub", "--webhook", &hook.url],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(indexes_of(&o.stdout), want, "{}", text(&o));
    let posted: Vec<Vec<u8>> = posted.lock().unwrap().clone();
    assert_eq!(posted.len(), want.len());
    assert_eq!(indexes_of(&posted.join(&b'\n')), want);
    // Nothing new: nothing reported.
    let o = monitor(d, a.url(), &a.info.vkey, &["--watch-key", "mine.pub"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));

    // 3: the state holds A at 45; the other copy, grown with other entries, forks from it.
    let more: Vec<Vec<u8>> = (0..5)
        .map(|i| request(&theirs, format!("a only {i}").as_bytes()))
        .collect();
    submit_all(a.url(), &more, 2);
    let o = monitor(d, a.url(), &a.info.vkey, &["--watch-key", "mine.pub"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let other: Vec<Vec<u8>> = (0..7)
        .map(|i| request(&theirs, format!("b only {i}").as_bytes()))
        .collect();
    submit_all(b.url(), &other, 2);
    let o = monitor(d, b.url(), &b.info.vkey, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(d.join("state/evidence").is_dir(), "{}", text(&o));

    // 4: a fresh monitor behind a proxy that flips the last byte of every entry bundle.
    let proxy = start_proxy(
        a.url(),
        Arc::new(|path: &str, mut body: Vec<u8>| {
            if path.starts_with("tile/entries/") {
                if let Some(byte) = body.last_mut() {
                    *byte ^= 1;
                }
            }
            body
        }),
    );
    let o = monitor_in(d, "state-proxied", &proxy.url, &a.info.vkey, &[]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    proxy.stop();

    // 1: nothing listens there. 2: a usage error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    std::fs::create_dir_all(d.join("fresh")).unwrap();
    let o = cairn(
        &d.join("fresh"),
        &[
            "monitor",
            "--log",
            &url,
            "--vkey",
            &a.info.vkey,
            "--state",
            "state",
            "--once",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = cairn(d, &["monitor", "--log", &url, "--state", "state"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    hook.stop();
    a.stop();
    b.stop();
}
