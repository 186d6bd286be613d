//! End to end: `cairn monitor`'s library against real log servers on 127.0.0.1:0: watched-key
//! alerts (exactly the watched entries), state across restarts, a fork between two copies of
//! one log, tampered tiles, bundles and checkpoints behind a proxy, and a stale view.

// Tests may unwrap and panic: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod watch_support;

use cairn_entry::SignerAlgorithm;
use cairn_monitor::monitor::{
    key_fingerprint, Alert, Monitor, MonitorError, Outcome, WatchedKey, STATE_FILE,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use watch_support::*;

fn watched(label: &str, key: &cairn_entry::SignerKeyPair) -> WatchedKey {
    WatchedKey::from_pem(label, &key.signer_key().unwrap().to_spki_pem()).unwrap()
}

fn round(m: &mut Monitor) -> Result<(Outcome, Vec<Alert>), MonitorError> {
    let mut alerts = Vec::new();
    let r = m.round(&mut alerts)?;
    Ok((r.outcome, alerts))
}

#[test]
fn watched_key_alerts_are_exactly_the_watched_entries_and_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = LogServer::start(&dir.path().join("log"));
    let mine = key(SignerAlgorithm::EcdsaP256Sha256);
    let mine_ed = key(SignerAlgorithm::Ed25519Ph);
    let theirs = key(SignerAlgorithm::EcdsaP256Sha256);
    // 600 entries: crosses two level-0 tiles, so full tiles, a partial one and a level-1 tile.
    let keys = [&mine, &theirs, &mine_ed, &theirs, &theirs];
    let bodies: Vec<Vec<u8>> = (0..600)
        .map(|i| request(keys[i % keys.len()], format!("artifact {i}").as_bytes()))
        .collect();
    let indexes = submit_all(log.url(), &bodies, 8);
    let want = |range: std::ops::Range<usize>| -> BTreeSet<u64> {
        range
            .filter(|i| i % 5 == 0 || i % 5 == 2)
            .map(|i| indexes[i])
            .collect()
    };

    let state = dir.path().join("monitor");
    let config = || {
        monitor_config(
            log.url(),
            &log.info.vkey,
            &state,
            vec![watched("mine.pub", &mine), watched("mine-ed.pub", &mine_ed)],
        )
    };
    let mut m = Monitor::open(config()).unwrap();
    let (outcome, alerts) = round(&mut m).unwrap();
    assert_eq!(outcome, Outcome::Grew { from: 0, to: 600 });
    let got: BTreeSet<u64> = alerts.iter().map(|a| a.log_index).collect();
    assert_eq!(got.len(), alerts.len(), "an entry reported twice");
    assert_eq!(got, want(0..600));
    // Each alert names the right key and digest, and says the time is unknown.
    for a in &alerts {
        let i = indexes.iter().position(|x| *x == a.log_index).unwrap();
        let k = keys[i % keys.len()];
        assert_eq!(a.key_fingerprint, key_fingerprint(&k.public_spki_der()));
        assert_eq!(
            a.digest,
            hex::encode(k.algorithm().digest(format!("artifact {i}").as_bytes()))
        );
        assert_eq!(a.integrated_time, None);
        assert_eq!(a.origin, ORIGIN);
        assert_eq!(a.checkpoint_size, 600);
    }
    let json = serde_json::to_string(&alerts[0]).unwrap();
    assert!(json.contains("\"integrated_time\":null"), "{json}");
    assert_eq!(round(&mut m).unwrap().0, Outcome::Unchanged { size: 600 });
    drop(m);

    // Restart: the state is on disk, atomically replaced (no temporary left behind).
    assert!(state.join(STATE_FILE).exists());
    assert!(!state.join(format!("{STATE_FILE}.tmp")).exists());
    let mut m = Monitor::open(config()).unwrap();
    assert_eq!(m.state().size(), 600);
    assert_eq!(
        round(&mut m).unwrap(),
        (Outcome::Unchanged { size: 600 }, vec![])
    );

    // More entries: only the new watched ones are reported.
    let more: Vec<Vec<u8>> = (600..1000)
        .map(|i| request(keys[i % keys.len()], format!("artifact {i}").as_bytes()))
        .collect();
    let more_idx = submit_all(log.url(), &more, 8);
    let mut all = indexes.clone();
    all.extend(more_idx);
    let want2: BTreeSet<u64> = (600..1000)
        .filter(|i| i % 5 == 0 || i % 5 == 2)
        .map(|i| all[i])
        .collect();
    let (outcome, alerts) = round(&mut m).unwrap();
    assert_eq!(
        outcome,
        Outcome::Grew {
            from: 600,
            to: 1000
        }
    );
    assert_eq!(
        alerts.iter().map(|a| a.log_index).collect::<BTreeSet<_>>(),
        want2
    );
    assert_eq!(alerts.len(), want2.len());

    // A monitor watching nothing audits the same log without alerts.
    let mut quiet = Monitor::open(monitor_config(
        log.url(),
        &log.info.vkey,
        &dir.path().join("quiet"),
        vec![],
    ))
    .unwrap();
    let (outcome, alerts) = round(&mut quiet).unwrap();
    assert_eq!(outcome, Outcome::Grew { from: 0, to: 1000 });
    assert!(alerts.is_empty());
}

/// Two copies of one log (same key, same origin, separate stores) that share 100 entries and
/// then diverge.
fn diverged(dir: &std::path::Path, a_extra: usize, b_extra: usize) -> (LogServer, LogServer) {
    let a = LogServer::start(&dir.join("a"));
    let b = a.start_copy_of(&dir.join("b"));
    assert_eq!(a.info.vkey, b.info.vkey);
    let k = key(SignerAlgorithm::EcdsaP256Sha256);
    let http = reqwest::blocking::Client::new();
    // One at a time, so both logs sequence them in the same order.
    for i in 0..100 {
        let body = request(&k, format!("shared {i}").as_bytes());
        assert_eq!(submit(&http, a.url(), &body), i);
        assert_eq!(submit(&http, b.url(), &body), i);
    }
    let ka: Vec<_> = (0..a_extra)
        .map(|i| request(&k, format!("a {i}").as_bytes()))
        .collect();
    let kb: Vec<_> = (0..b_extra)
        .map(|i| request(&k, format!("b {i}").as_bytes()))
        .collect();
    submit_all(a.url(), &ka, 4);
    submit_all(b.url(), &kb, 4);
    (a, b)
}

#[test]
fn a_fork_between_two_copies_of_one_log_is_detected_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = diverged(dir.path(), 200, 250);
    let state = dir.path().join("monitor");
    let mut m = Monitor::open(monitor_config(a.url(), &a.info.vkey, &state, vec![])).unwrap();
    assert_eq!(round(&mut m).unwrap().0, Outcome::Grew { from: 0, to: 300 });
    // Each copy alone is a valid log.
    let mut mb = Monitor::open(monitor_config(
        b.url(),
        &b.info.vkey,
        &dir.path().join("mb"),
        vec![],
    ))
    .unwrap();
    assert_eq!(
        round(&mut mb).unwrap().0,
        Outcome::Grew { from: 0, to: 350 }
    );

    // The monitor that followed A is shown B: B's checkpoint does not extend A's.
    let mut m = Monitor::open(monitor_config(b.url(), &a.info.vkey, &state, vec![])).unwrap();
    let e = round(&mut m).unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
    let ev = e.evidence().unwrap().to_path_buf();
    for f in [
        "new.checkpoint",
        "stored.checkpoint",
        "proof.txt",
        "summary.json",
    ] {
        assert!(ev.join(f).exists(), "{f} in {}", ev.display());
    }
    assert_eq!(
        std::fs::read(ev.join("new.checkpoint")).unwrap(),
        checkpoint(b.url())
    );
    // Nothing advanced; the same happens again.
    assert_eq!(m.state().size(), 300);
    assert_eq!(round(&mut m).unwrap_err().exit_code(), 3);

    // Same size, another root: grow A to 350 entries too, then follow A and show B.
    let k = key(SignerAlgorithm::EcdsaP256Sha256);
    let extra: Vec<_> = (0..50)
        .map(|i| request(&k, format!("c {i}").as_bytes()))
        .collect();
    submit_all(a.url(), &extra, 4);
    let state2 = dir.path().join("monitor2");
    let mut m2 = Monitor::open(monitor_config(a.url(), &a.info.vkey, &state2, vec![])).unwrap();
    assert_eq!(
        round(&mut m2).unwrap().0,
        Outcome::Grew { from: 0, to: 350 }
    );
    let mut m2 = Monitor::open(monitor_config(b.url(), &a.info.vkey, &state2, vec![])).unwrap();
    let e = round(&mut m2).unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
    let ev = e.evidence().unwrap();
    assert!(ev.join("new.checkpoint").exists() && ev.join("stored.checkpoint").exists());
    assert_ne!(
        std::fs::read(ev.join("new.checkpoint")).unwrap(),
        std::fs::read(ev.join("stored.checkpoint")).unwrap()
    );
}

fn flip(byte: usize) -> impl Fn(Vec<u8>) -> Vec<u8> {
    move |mut b| {
        let i = byte.min(b.len() - 1);
        b[i] ^= 1;
        b
    }
}

fn tamper(path: &'static str, f: impl Fn(Vec<u8>) -> Vec<u8> + Send + Sync + 'static) -> Rewrite {
    Arc::new(move |p: &str, body: Vec<u8>| if p == path { f(body) } else { body })
}

#[test]
fn tampered_tiles_bundles_and_checkpoints_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let log = LogServer::start(&dir.path().join("log"));
    let k = key(SignerAlgorithm::EcdsaP256Sha256);
    let bodies: Vec<_> = (0..600)
        .map(|i| request(&k, format!("t {i}").as_bytes()))
        .collect();
    submit_all(log.url(), &bodies, 8);
    let cases: Vec<(&str, Rewrite, u8)> = vec![
        ("full level-0 tile", tamper("tile/0/001", flip(100)), 4),
        (
            "partial level-0 tile",
            tamper("tile/0/002.p/88", flip(5)),
            4,
        ),
        (
            "partial level-1 tile",
            tamper("tile/1/000.p/2", flip(40)),
            4,
        ),
        // One entry of a bundle replaced: its hash no longer matches the served tile.
        ("entry bundle", tamper("tile/entries/000", flip(1000)), 4),
        (
            "truncated bundle",
            tamper("tile/entries/001", |b: Vec<u8>| b[..b.len() - 1].to_vec()),
            4,
        ),
        (
            "checkpoint signature",
            tamper("checkpoint", flip(usize::MAX)),
            5,
        ),
    ];
    for (what, rewrite, code) in cases {
        let proxy = start_proxy(log.url(), rewrite);
        let state = dir.path().join(format!("m-{}", what.replace(' ', "-")));
        let mut m =
            Monitor::open(monitor_config(&proxy.url, &log.info.vkey, &state, vec![])).unwrap();
        let e = round(&mut m).unwrap_err();
        assert_eq!(e.exit_code(), code, "{what}: {e}");
        assert!(
            e.evidence().unwrap().join("summary.json").exists(),
            "{what}"
        );
        assert_eq!(m.state().size(), 0, "{what}: the state advanced");
        assert!(!state.join(STATE_FILE).exists(), "{what}");
        proxy.stop();
    }
    // The tampered tile's evidence has both versions.
    let proxy = start_proxy(log.url(), tamper("tile/0/001", flip(100)));
    let mut m = Monitor::open(monitor_config(
        &proxy.url,
        &log.info.vkey,
        &dir.path().join("m-evidence"),
        vec![],
    ))
    .unwrap();
    let e = round(&mut m).unwrap_err();
    let ev = e.evidence().unwrap();
    let served = std::fs::read(ev.join("tile_0_001.served")).unwrap();
    let recomputed = std::fs::read(ev.join("tile_0_001.recomputed")).unwrap();
    assert_eq!(served.len(), 8192);
    assert_eq!(
        served
            .iter()
            .zip(&recomputed)
            .filter(|(a, b)| a != b)
            .count(),
        1
    );
    // Through no proxy, the same log audits clean.
    let mut m = Monitor::open(monitor_config(
        log.url(),
        &log.info.vkey,
        &dir.path().join("clean"),
        vec![],
    ))
    .unwrap();
    assert_eq!(round(&mut m).unwrap().0, Outcome::Grew { from: 0, to: 600 });
}

#[test]
fn a_stale_checkpoint_is_a_prefix_not_a_fork() {
    let dir = tempfile::tempdir().unwrap();
    let log = LogServer::start(&dir.path().join("log"));
    let k = key(SignerAlgorithm::EcdsaP256Sha256);
    let first: Vec<_> = (0..300)
        .map(|i| request(&k, format!("s {i}").as_bytes()))
        .collect();
    submit_all(log.url(), &first, 4);
    let old = checkpoint(log.url());
    let second: Vec<_> = (300..400)
        .map(|i| request(&k, format!("s {i}").as_bytes()))
        .collect();
    submit_all(log.url(), &second, 4);
    let state = dir.path().join("m");
    let mut m = Monitor::open(monitor_config(log.url(), &log.info.vkey, &state, vec![])).unwrap();
    assert_eq!(round(&mut m).unwrap().0, Outcome::Grew { from: 0, to: 400 });
    // A cache serving the older checkpoint: proven to be a prefix, nothing moves.
    let proxy = start_proxy(
        log.url(),
        Arc::new(move |p: &str, b: Vec<u8>| if p == "checkpoint" { old.clone() } else { b }),
    );
    let mut m = Monitor::open(monitor_config(&proxy.url, &log.info.vkey, &state, vec![])).unwrap();
    assert_eq!(
        round(&mut m).unwrap().0,
        Outcome::Stale {
            served: 300,
            stored: 400
        }
    );
    assert_eq!(m.state().size(), 400);
}
