//! Finding (building) the `cairn` binary from the e2e package, where `CARGO_BIN_EXE_cairn` is
//! not available (it only exists for tests of the package that owns the binary).
//!
//! The binary is built once per test process with `cargo build -p cairn-cli --bin cairn
//! --message-format=json`, in the same profile as the tests, and its path is taken from
//! cargo's own `compiler-artifact` message: this works whatever `CARGO_TARGET_DIR`,
//! `--target-dir` or profile is in use, and rebuilds if the CLI changed.

// Shared by several test binaries, each using a part.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn cairn_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "-p",
            "cairn-cli",
            "--bin",
            "cairn",
            "--message-format=json",
        ]);
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let out = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("running cargo build");
        assert!(
            out.status.success(),
            "cargo build -p cairn-cli failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "cairn")
            .find_map(|v| v["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no cairn executable")
    })
}

/// Runs `cairn ARGS` in `dir`.
pub fn cairn(dir: &Path, args: &[&str]) -> Output {
    cairn_env(dir, args, &[])
}

pub fn cairn_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(cairn_bin());
    cmd.args(args)
        .current_dir(dir)
        .env_remove("CAIRN_KEY_PASSPHRASE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running cairn")
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Says loudly that a test was skipped (libtest captures eprintln! of passing tests).
pub fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// Returns the sigstore-js interop folder when node and its installed modules are present;
/// otherwise skips loudly, or fails when CAIRN_REQUIRE_NODE=1 (CI).
pub fn node_interop_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/node");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let modules = dir.join("node_modules/@sigstore/verify").is_dir();
    if node_ok && modules {
        return Some(dir);
    }
    let why = format!(
        "node {} and @sigstore/verify {} (run `npm ci --prefix tests/interop/node`)",
        if node_ok { "found" } else { "not found" },
        if modules {
            "installed"
        } else {
            "not installed"
        }
    );
    if std::env::var("CAIRN_REQUIRE_NODE").as_deref() == Ok("1") {
        panic!("CAIRN_REQUIRE_NODE=1 but {why}");
    }
    skipped(&format!("sigstore-js interop: {why}"));
    None
}
