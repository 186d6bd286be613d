//! `cairn keygen`, `cairn sign` and `cairn verify` end to end: the real binary against a real
//! server on 127.0.0.1:0. Both key types, exit codes, tampering, passphrase-encrypted keys, a
//! 1 GiB artifact hashed in bounded memory, the rollback state, and an unreachable log.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use cairn_e2e::TestServer;
use cli_support::*;
use std::path::Path;

fn setup() -> (tempfile::TempDir, TestServer, String) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("data"));
    let root = dir.path().join("data/trusted_root.json");
    (dir, server, root.to_string_lossy().into_owned())
}

fn keygen(dir: &Path, name: &str, ty: &str) {
    let o = cairn(dir, &["keygen", "--type", ty, "--out", name]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn sign_and_verify_with_both_key_types() {
    let (dir, server, root) = setup();
    let d = dir.path();
    for ty in ["p256", "ed25519"] {
        keygen(d, ty, ty);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(d.join(format!("{ty}.key")))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{ty}.key mode {mode:o}");
        }
        let (a, b) = (format!("{ty}-a.bin"), format!("{ty}-b.bin"));
        std::fs::write(d.join(&a), format!("artifact a {ty}")).unwrap();
        std::fs::write(d.join(&b), format!("artifact b {ty}")).unwrap();
        let key = format!("{ty}.key");
        let o = cairn(
            d,
            &[
                "sign",
                "--key",
                &key,
                "--log",
                &server.url,
                "--trusted-root",
                &root,
                &a,
                &b,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(
            out.contains(&format!("signed {a}: logged at index")),
            "{out}"
        );
        let pubkey = format!("{ty}.pub");
        let o = cairn(
            d,
            &["verify", "--trusted-root", &root, "--key", &pubkey, &a],
        );
        assert!(o.status.success(), "{}", text(&o));
        let line = String::from_utf8_lossy(&o.stdout);
        assert_eq!(line.lines().count(), 1);
        assert!(
            line.starts_with(&format!("OK: {a} was signed by key ")),
            "{line}"
        );
        assert!(line.contains("http://cairn.test/log"), "{line}");
        // --json
        let o = cairn(
            d,
            &[
                "verify",
                "--json",
                "--require-set",
                "--trusted-root",
                &root,
                "--key",
                &pubkey,
                &b,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["verified"], true);
        assert_eq!(v["set_verified"], true);
        // Signing again is a duplicate: same entry, still a good bundle.
        let o = cairn(
            d,
            &[
                "sign",
                "--json",
                "--key",
                &key,
                "--log",
                &server.url,
                "--trusted-root",
                &root,
                &a,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["new_entry"], false);
    }
    // Wrong artifact, wrong key, wrong bundle: exit 1 with the failing check.
    std::fs::write(d.join("p256-a.bin"), "changed").unwrap();
    let o = cairn(
        d,
        &[
            "verify",
            "--json",
            "--trusted-root",
            &root,
            "--key",
            "p256.pub",
            "p256-a.bin",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["check"], "digest");
    let o = cairn(
        d,
        &[
            "verify",
            "--trusted-root",
            &root,
            "--key",
            "ed25519.pub",
            "p256-b.bin",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("FAILED: p256-b.bin: "),
        "{}",
        text(&o)
    );
    let o = cairn(
        d,
        &[
            "verify",
            "--trusted-root",
            &root,
            "--key",
            "p256.pub",
            "--bundle",
            "ed25519-b.bin.sigstore.json",
            "p256-b.bin",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Another log's trusted root.
    let other = tempfile::tempdir().unwrap();
    let other_server = TestServer::start(&other.path().join("data"));
    let other_root = other.path().join("data/trusted_root.json");
    drop(other_server);
    let o = cairn(
        d,
        &[
            "verify",
            "--json",
            "--trusted-root",
            other_root.to_str().unwrap(),
            "--key",
            "p256.pub",
            "p256-b.bin",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["check"], "checkpoint", "{v}");
    // Unreadable input: exit 3.
    let o = cairn(
        d,
        &[
            "verify",
            "--trusted-root",
            &root,
            "--key",
            "p256.pub",
            "missing.bin",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    // Usage error: clap's 2, and --help everywhere.
    assert_eq!(cairn(d, &["verify"]).status.code(), Some(2));
    for cmd in ["keygen", "sign", "verify"] {
        let o = cairn(d, &[cmd, "--help"]);
        assert!(o.status.success() && !o.stdout.is_empty(), "{cmd}");
    }
}

#[test]
fn passphrase_encrypted_keys() {
    let (dir, server, root) = setup();
    let d = dir.path();
    let pass = [("CAIRN_KEY_PASSPHRASE", "correct horse")];
    let o = cairn_env(d, &["keygen", "--out", "enc"], &pass);
    assert!(o.status.success(), "{}", text(&o));
    let pem = std::fs::read_to_string(d.join("enc.key")).unwrap();
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{pem}"
    );
    std::fs::write(d.join("x"), "x").unwrap();
    let args = [
        "sign",
        "--key",
        "enc.key",
        "--log",
        &server.url,
        "--trusted-root",
        &root,
        "x",
    ];
    let o = cairn(d, &args);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("CAIRN_KEY_PASSPHRASE"),
        "{}",
        text(&o)
    );
    let o = cairn_env(d, &args, &[("CAIRN_KEY_PASSPHRASE", "wrong")]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = cairn_env(d, &args, &pass);
    assert!(o.status.success(), "{}", text(&o));
    let o = cairn(
        d,
        &["verify", "--trusted-root", &root, "--key", "enc.pub", "x"],
    );
    assert!(o.status.success(), "{}", text(&o));
    // keygen refuses to overwrite without --force.
    assert!(!cairn(d, &["keygen", "--out", "enc"]).status.success());
}

/// Peak resident memory (VmHWM, KiB) of a child, polled until it exits.
#[cfg(target_os = "linux")]
fn run_measuring_peak(mut cmd: std::process::Command) -> (std::process::Output, u64) {
    use std::process::Stdio;
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let reader = std::thread::spawn(move || child.wait_with_output().unwrap());
    let mut peak = 0;
    while !reader.is_finished() {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    (reader.join().unwrap(), peak)
}

#[cfg(target_os = "linux")]
#[test]
fn a_one_gib_artifact_is_streamed_not_loaded() {
    let (dir, server, root) = setup();
    let d = dir.path();
    keygen(d, "k", "p256");
    let big = d.join("big.img");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(1 << 30).unwrap(); // sparse: no disk, all zeros
    drop(f);
    let mut cmd = std::process::Command::new(cairn_bin());
    cmd.current_dir(d).args([
        "sign",
        "--key",
        "k.key",
        "--log",
        &server.url,
        "--trusted-root",
        &root,
        "big.img",
    ]);
    let (o, peak_kib) = run_measuring_peak(cmd);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        peak_kib > 0 && peak_kib < 64 * 1024,
        "cairn sign peaked at {peak_kib} KiB for a 1 GiB artifact"
    );
    let mut cmd = std::process::Command::new(cairn_bin());
    cmd.current_dir(d).args([
        "verify",
        "--trusted-root",
        &root,
        "--key",
        "k.pub",
        "big.img",
    ]);
    let (o, peak_kib) = run_measuring_peak(cmd);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        peak_kib < 64 * 1024,
        "cairn verify peaked at {peak_kib} KiB"
    );
}

#[test]
fn state_dir_refuses_rollback_without_a_proof_and_fetches_one_with_log() {
    let (dir, server, root) = setup();
    let d = dir.path();
    keygen(d, "k", "p256");
    std::fs::write(d.join("old"), "old").unwrap();
    let sign = |name: &str| {
        let o = cairn(
            d,
            &[
                "sign",
                "--key",
                "k.key",
                "--log",
                &server.url,
                "--trusted-root",
                &root,
                name,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    };
    sign("old");
    for i in 0..3 {
        let n = format!("new{i}");
        std::fs::write(d.join(&n), &n).unwrap();
        sign(&n);
    }
    let verify = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--json",
            "--trusted-root",
            &root,
            "--key",
            "k.pub",
            "--state-dir",
            "state",
        ];
        args.extend_from_slice(extra);
        args.push(name);
        let o = cairn(d, &args);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        (o.status.code(), v)
    };
    let (code, v) = verify("new2", &[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["state"], "First");
    // The old bundle's checkpoint is smaller: refused offline ...
    let (code, v) = verify("old", &[]);
    assert_eq!(code, Some(3), "{v}");
    assert_eq!(v["check"], "state");
    // ... accepted with a consistency proof fetched from the log's tiles.
    let (code, v) = verify("old", &["--log", &server.url]);
    assert_eq!(code, Some(0), "{v}");
    assert!(v["state"].as_str().unwrap().starts_with("Older"), "{v}");
}

#[test]
fn an_unreachable_log_is_retried_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A trusted root from a log that is then stopped.
    let server = TestServer::start(&d.join("data"));
    let root = d
        .join("data/trusted_root.json")
        .to_string_lossy()
        .into_owned();
    drop(server);
    keygen(d, "k", "p256");
    std::fs::write(d.join("a"), "a").unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let t = std::time::Instant::now();
    let o = cairn(
        d,
        &[
            "sign",
            "--key",
            "k.key",
            "--log",
            &url,
            "--trusted-root",
            &root,
            "a",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("retrying in"), "{err}");
    assert!(
        err.contains("could not reach the log after 6 attempt(s)"),
        "{err}"
    );
    assert!(
        t.elapsed() >= std::time::Duration::from_secs(5),
        "backoff waited {:?}",
        t.elapsed()
    );
    assert!(!d.join("a.sigstore.json").exists());
}
