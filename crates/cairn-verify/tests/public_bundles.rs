//! The verifier against real bundles from Sigstore's public instance (Rekor v1 and v2,
//! production and staging) in `../shared/sigstore-public`, beside the checkout: every bundle's
//! log entry verifies against its trusted root, the key-signed one verifies in full, and every
//! upstream negative case and every tampered variant is rejected.
//!
//! Without `../shared` the tests print "SKIPPED: ../shared not found" and pass, unless
//! `CAIRN_REQUIRE_SHARED=1`, when they fail. Nothing from there is copied into the repo.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};

use cairn_entry::{SignerAlgorithm, SignerKey};
use cairn_verify::*;
use serde_json::Value;

fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sigstore-public");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CAIRN_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "CAIRN_REQUIRE_SHARED=1 but ../shared not found at {}",
            dir.display()
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: ../shared not found (looked for {})",
        dir.display()
    );
    None
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&read(&dir.join("manifest.json"))).unwrap()
}

fn trust(dir: &Path, rel: &str) -> TrustedLogs {
    TrustedLogs::from_json(&read(&dir.join(rel))).unwrap()
}

#[test]
fn every_public_bundle_log_entry_verifies() {
    let Some(dir) = shared() else { return };
    let m = manifest(&dir);
    let bundles = m["bundles"].as_array().unwrap();
    let (mut v1, mut v2, mut with_set) = (0, 0, 0);
    for b in bundles {
        let id = b["id"].as_str().unwrap();
        let trust = trust(&dir, b["trusted_root"].as_str().unwrap());
        let json = read(&dir.join(b["bundle"].as_str().unwrap()));
        let entries = verify_bundle_tlog(&json, &trust, &VerifyOptions::new())
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let e = &entries[0];
        match e.log().kind() {
            LogKind::RekorV1 => v1 += 1,
            _ => v2 += 1,
        }
        if e.set_verified() {
            with_set += 1;
        }
        assert_eq!(
            e.checkpoint().checkpoint().size,
            e.leaf_index() + 1,
            "{id}: these entries are the last leaf of their tree"
        );
    }
    assert_eq!((v1, v2, with_set), (8, 6, 7));
}

#[test]
fn the_key_signed_public_bundle_verifies_in_full() {
    let Some(dir) = shared() else { return };
    let b = dir.join("bundles/v1-prod-publickey");
    let key = SignerKey::from_spki_pem(
        SignerAlgorithm::EcdsaP256Sha256,
        std::str::from_utf8(&read(&b.join("key.pub"))).unwrap(),
    )
    .unwrap();
    let trust = trust(&dir, "trusted_roots/production.json");
    let bundle = read(&b.join("bundle.sigstore.json"));
    let artifact = read(&b.join("a.txt"));
    let opts = VerifyOptions::new().requiring_set(true);
    let v = verify_bundle(
        &bundle,
        ArtifactInput::Bytes(&artifact),
        &key,
        &trust,
        &opts,
    )
    .unwrap();
    assert_eq!(v.log_index(), 771488337);
    assert_eq!(v.tlog().leaf_index(), 649584075);
    assert_eq!(v.log().base_url(), "https://rekor.sigstore.dev");
    assert!(v.tlog().set_verified());
    let e =
        verify_bundle(&bundle, ArtifactInput::Bytes(b"other"), &key, &trust, &opts).unwrap_err();
    assert!(matches!(e, VerifyError::DigestMismatch { .. }));
    // Every tampered variant of it fails the full verification too.
    for t in std::fs::read_dir(dir.join("tampered/v1-prod-publickey")).unwrap() {
        let p = t.unwrap().path();
        let e = verify_bundle(
            &read(&p),
            ArtifactInput::Bytes(&artifact),
            &key,
            &trust,
            &opts,
        )
        .expect_err(&p.display().to_string());
        assert!(e.is_verification_failure(), "{}: {e}", p.display());
    }
    // Certificate bundles are refused by the key-based entry point, with the way out named.
    let cert = read(&dir.join("bundles/v1-prod-hashedrekord/bundle.sigstore.json"));
    let e = verify_bundle(&cert, ArtifactInput::Bytes(&artifact), &key, &trust, &opts).unwrap_err();
    assert!(matches!(e, VerifyError::BundleShape(m) if m.contains("verify_bundle_tlog")));
}

#[test]
fn upstream_negative_cases_are_rejected_for_the_right_reason() {
    let Some(dir) = shared() else { return };
    let m = manifest(&dir);
    let mut n = 0;
    for b in m["negative"].as_array().unwrap() {
        let id = b["id"].as_str().unwrap();
        let trust = trust(&dir, b["trusted_root"].as_str().unwrap());
        let json = read(&dir.join(b["bundle"].as_str().unwrap()));
        let e = verify_bundle_tlog(&json, &trust, &VerifyOptions::new()).expect_err(id);
        let check = e.check();
        let want = match id {
            "checkpoint-bad-keyhint_fail"
            | "invalid-checkpoint-signature_fail"
            | "rekor2-checkpoint-no-matching-signature_fail"
            | "rekor2-checkpoint-missing-log-signature_fail"
            | "rekor2-checkpoint-missing-root-hash_fail"
            | "rekor2-no-inclusion-proof_fail" => "checkpoint",
            "checkpoint-wrong-roothash_fail" | "inclusion-proof-corrupted-hash_fail" => "inclusion",
            "set-invalid-signature_fail" => "set",
            other => panic!("unexpected negative case {other}"),
        };
        // A wrong root hash in the checkpoint is caught by its signature or by the proof.
        let ok = check == want || (id == "checkpoint-wrong-roothash_fail" && check == "checkpoint");
        assert!(ok, "{id}: {check}: {e}");
        n += 1;
    }
    assert_eq!(n, 9);
}

#[test]
fn every_tampered_public_bundle_is_rejected() {
    let Some(dir) = shared() else { return };
    let m = manifest(&dir);
    let mut n = 0;
    for b in m["bundles"].as_array().unwrap() {
        let id = b["id"].as_str().unwrap();
        let trust = trust(&dir, b["trusted_root"].as_str().unwrap());
        let Ok(variants) = std::fs::read_dir(dir.join("tampered").join(id)) else {
            continue;
        };
        for t in variants {
            let p = t.unwrap().path();
            let variant = p.file_name().unwrap().to_string_lossy().into_owned();
            let e = verify_bundle_tlog(&read(&p), &trust, &VerifyOptions::new())
                .expect_err(&format!("{id}/{variant}"));
            let want: &[&str] = match variant.split('.').next().unwrap() {
                "body-byte" => &["inclusion", "body"],
                "proof-hash" | "leaf-index" => &["inclusion"],
                "checkpoint-sig" | "checkpoint-root" | "log-id" => &["checkpoint"],
                "bundle-signature" => &["body"],
                "set-integrated-time" => &["set"],
                other => panic!("unexpected variant {other}"),
            };
            assert!(
                want.contains(&e.check()),
                "{id}/{variant}: {}: {e}",
                e.check()
            );
            n += 1;
        }
    }
    assert!(n >= 14 * 7, "{n}");
}
