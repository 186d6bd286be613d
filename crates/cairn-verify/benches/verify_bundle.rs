//! CPU cost of verifying one bundle in-process (docs/performance.md, "Bundle verification"):
//! a Cairn bundle (P-256 signer, Ed25519 log, SET) and, when ../shared is present, the public
//! key-signed Rekor v1 bundle (ECDSA log) that sigstore-js is timed on too.
//!
//! `cargo bench -p cairn-verify --bench verify_bundle`

// Bench setup may unwrap: a panic is a broken bench.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use cairn_entry::{set_payload, LogKey, SignerAlgorithm, SignerKey};
use cairn_note::SignedCheckpoint;
use cairn_verify::{verify_bundle, ArtifactInput, TrustedLogs, VerifyOptions};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let artifact = b"release 1.2.3\n";
    let opts = VerifyOptions::new().requiring_set(true);
    for (name, signer) in [("p256", common::p256()), ("ed25519ph", common::ed25519ph())] {
        let mut log = common::TestLog::new(1);
        for i in 0..1000 {
            log.filler(i);
        }
        let bundle = log.sign(&signer, artifact, 23);
        let trust_json = log.trusted_root();
        let key = signer.signer_key().unwrap();
        let trust = TrustedLogs::from_json(&trust_json).unwrap();
        let digest = signer.algorithm().digest(artifact);
        c.bench_function(&format!("verify_bundle/cairn-{name}"), |b| {
            b.iter(|| {
                verify_bundle(
                    black_box(&bundle),
                    ArtifactInput::Digest(&digest),
                    &key,
                    &trust,
                    &opts,
                )
                .unwrap()
            })
        });
        // The bound: the three signature checks the verification must do (signer, checkpoint,
        // SET), each on inputs parsed outside the timing.
        let v: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
        let sig = common::b64d(v["messageSignature"]["signature"].as_str().unwrap());
        let tle = &v["verificationMaterial"]["tlogEntries"][0];
        let body = common::b64d(tle["canonicalizedBody"].as_str().unwrap());
        let index: u64 = tle["logIndex"].as_str().unwrap().parse().unwrap();
        let time: i64 = tle["integratedTime"].as_str().unwrap().parse().unwrap();
        let set = common::b64d(
            tle["inclusionPromise"]["signedEntryTimestamp"]
                .as_str()
                .unwrap(),
        );
        let payload = set_payload(&body, time, &log.log_id, index);
        let log_key = LogKey::ed25519(log.key.verifying_key());
        let signed = SignedCheckpoint::parse(
            tle["inclusionProof"]["checkpoint"]["envelope"]
                .as_str()
                .unwrap()
                .as_bytes(),
        )
        .unwrap();
        let note_verifier = log.signer.verifier();
        c.bench_function(
            &format!("verify_bundle/cairn-{name}-signature-checks-only"),
            |b| {
                b.iter(|| {
                    key.verify_digest(black_box(&digest), black_box(&sig))
                        .unwrap();
                    signed.verify(&[&note_verifier], None).unwrap();
                    log_key.verify_set(black_box(&payload), &set).unwrap();
                })
            },
        );
        c.bench_function(
            &format!("verify_bundle/cairn-{name}+trusted-root-parse"),
            |b| {
                b.iter(|| {
                    let trust = TrustedLogs::from_json(black_box(&trust_json)).unwrap();
                    verify_bundle(&bundle, ArtifactInput::Bytes(artifact), &key, &trust, &opts)
                        .unwrap()
                })
            },
        );
    }

    // A bundle made elsewhere, e.g. by `cairn sign` against a running log, to time the same
    // bundle sigstore-js is timed on (tests/interop/node/verify.js): a directory holding
    // bundle.sigstore.json, artifact, trusted_root.json and key.pub (P-256).
    if let Some(dir) = std::env::var_os("CAIRN_BENCH_BUNDLE_DIR") {
        let dir = std::path::Path::new(&dir);
        bench_files(
            c,
            "verify_bundle/external",
            &dir.join("bundle.sigstore.json"),
            &dir.join("artifact"),
            &dir.join("key.pub"),
            &dir.join("trusted_root.json"),
        );
    }

    let shared =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sigstore-public");
    if shared.is_dir() {
        let b = shared.join("bundles/v1-prod-publickey");
        bench_files(
            c,
            "verify_bundle/rekor-v1-prod-publickey",
            &b.join("bundle.sigstore.json"),
            &b.join("a.txt"),
            &b.join("key.pub"),
            &shared.join("trusted_roots/production.json"),
        );
    } else {
        eprintln!("SKIPPED: ../shared not found; the public-bundle benchmark did not run");
    }
}

/// Times `verify_bundle` on a bundle made elsewhere (P-256 signer key), read from files.
fn bench_files(
    c: &mut Criterion,
    name: &str,
    bundle: &std::path::Path,
    artifact: &std::path::Path,
    key: &std::path::Path,
    trusted_root: &std::path::Path,
) {
    let key = SignerKey::from_spki_pem(
        SignerAlgorithm::EcdsaP256Sha256,
        &std::fs::read_to_string(key).unwrap(),
    )
    .unwrap();
    let (bundle, artifact) = (
        std::fs::read(bundle).unwrap(),
        std::fs::read(artifact).unwrap(),
    );
    let trust = TrustedLogs::from_json(&std::fs::read(trusted_root).unwrap()).unwrap();
    let opts = VerifyOptions::new().requiring_set(true);
    c.bench_function(name, |bch| {
        bch.iter(|| {
            verify_bundle(
                black_box(&bundle),
                ArtifactInput::Bytes(&artifact),
                &key,
                &trust,
                &opts,
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
