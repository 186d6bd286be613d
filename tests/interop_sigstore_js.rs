//! Interop acceptance test: bundles made by `cairn sign` with a P-256 key verify with stock
//! sigstore-js (`@sigstore/verify`, key-based trust material, the server's trusted_root.json),
//! and a changed artifact does not.
//!
//! Needs node and `npm ci --prefix tests/interop/node`; without them it prints
//! "SKIPPED: sigstore-js interop ..." and passes, unless CAIRN_REQUIRE_NODE=1 (CI), when it
//! fails. See docs/verify.md.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use cairn_e2e::TestServer;
use cli_support::*;
use std::path::Path;
use std::process::Command;

fn node_verify(
    node_dir: &Path,
    dir: &Path,
    bundle: &str,
    artifact: &str,
    root: &str,
    key: &str,
) -> std::process::Output {
    Command::new("node")
        .arg(node_dir.join("verify.js"))
        .args([bundle, artifact, root, key])
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn cairn_bundles_verify_with_stock_sigstore_js() {
    let Some(node_dir) = node_interop_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = TestServer::start(&d.join("data"));
    let root = d
        .join("data/trusted_root.json")
        .to_string_lossy()
        .into_owned();
    for ty in ["p256", "ed25519"] {
        let o = cairn(d, &["keygen", "--type", ty, "--out", ty]);
        assert!(o.status.success(), "{}", text(&o));
        let artifact = format!("{ty}.txt");
        std::fs::write(d.join(&artifact), format!("hello from {ty}\n")).unwrap();
        let o = cairn(
            d,
            &[
                "sign",
                "--key",
                &format!("{ty}.key"),
                "--log",
                &server.url,
                "--trusted-root",
                &root,
                &artifact,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let bundle = format!("{artifact}.sigstore.json");
        let o = node_verify(
            &node_dir,
            d,
            &bundle,
            &artifact,
            &root,
            &format!("{ty}.pub"),
        );
        if ty == "p256" {
            assert!(
                o.status.success(),
                "sigstore-js rejected a cairn bundle:\n{}",
                text(&o)
            );
            assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "verified");
            // A changed artifact fails in sigstore-js too.
            std::fs::write(d.join("other.txt"), "not what was signed\n").unwrap();
            let o = node_verify(&node_dir, d, &bundle, "other.txt", &root, "p256.pub");
            assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        } else {
            // Documented limitation (INTEROP.md): sigstore-js refuses Ed25519 signer keys,
            // which is why `cairn keygen` defaults to P-256.
            assert!(
                !o.status.success(),
                "sigstore-js now accepts Ed25519ph: update the docs\n{}",
                text(&o)
            );
        }
    }
}
