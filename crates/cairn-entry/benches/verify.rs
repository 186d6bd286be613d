//! Signature verification costs behind the choice of crypto backend (docs/formats-entry.md,
//! "Choice of crypto backend"): prehashed ECDSA P-256 with aws-lc-rs and with the pure-Rust
//! p256 crate, Ed25519ph and Ed25519 with ed25519-dalek, and, for scale, ring verifying
//! ECDSA P-256 over a full message (ring cannot verify a bare digest). Plus the whole
//! request pipeline a server runs per entry.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-entry cargo bench -p cairn-entry --bench verify`.

// A bench is test code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use cairn_entry::{
    set_payload, sign_set, CreateEntryRequest, HashedRekordRequest, LogKey, SignerAlgorithm,
    SignerKey, SignerKeyPair,
};
use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Digest as _, Sha512};
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::pkcs8::DecodePublicKey as _;
use rand_chacha::rand_core::SeedableRng;

fn ecdsa_p256(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let pair = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng);
    let spki = pair.public_spki_der();
    let message = b"an artifact of some length, hashed by the client".repeat(4);
    let digest = SignerAlgorithm::EcdsaP256Sha256.digest(&message);
    let sig = pair.sign_digest(&digest).unwrap();

    let mut g = c.benchmark_group("ecdsa_p256_verify");
    let ours = SignerKey::from_spki_der(SignerAlgorithm::EcdsaP256Sha256, &spki).unwrap();
    g.bench_function("aws-lc-rs prehash (SignerKey::verify_digest)", |b| {
        b.iter(|| {
            ours.verify_digest(black_box(&digest), black_box(&sig))
                .unwrap()
        })
    });
    let aws = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
        spki.clone(),
    )
    .parse()
    .unwrap();
    g.bench_function("aws-lc-rs prehash (bare verify_digest_sig)", |b| {
        b.iter(|| {
            let d = aws_lc_rs::digest::Digest::import_less_safe(
                black_box(&digest),
                &aws_lc_rs::digest::SHA256,
            )
            .unwrap();
            aws.verify_digest_sig(&d, black_box(&sig)).unwrap()
        })
    });
    let p256_key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();
    g.bench_function("p256 crate prehash (verify_prehash)", |b| {
        b.iter(|| {
            let s = p256::ecdsa::Signature::from_der(black_box(&sig)).unwrap();
            p256_key.verify_prehash(black_box(&digest), &s).unwrap()
        })
    });
    let ring_key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_ASN1,
        p256_key.to_encoded_point(false).as_bytes().to_vec(),
    );
    g.bench_function("ring full message (no prehash API; for scale)", |b| {
        b.iter(|| {
            ring_key
                .verify(black_box(&message), black_box(&sig))
                .unwrap()
        })
    });
    g.finish();
}

fn ed25519(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let mut g = c.benchmark_group("ed25519_verify");

    let pair = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rng);
    let digest: Vec<u8> = Sha512::new().chain_update(b"artifact").finalize().to_vec();
    let sig = pair.sign_digest(&digest).unwrap();
    let key = pair.signer_key().unwrap();
    g.bench_function(
        "ed25519ph verify_prehashed_strict (SignerKey::verify_digest)",
        |b| {
            b.iter(|| {
                key.verify_digest(black_box(&digest), black_box(&sig))
                    .unwrap()
            })
        },
    );

    // A SET over a typical body: Ed25519 verify_strict of ~700 bytes.
    let log = ed25519_dalek::SigningKey::generate(&mut rng);
    let body = HashedRekordRequest::sign(
        &SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng),
        SignerAlgorithm::EcdsaP256Sha256.digest(b"x"),
    )
    .unwrap()
    .to_body()
    .to_canonical_bytes();
    let payload = set_payload(&body, 1_700_000_000, &[7; 32], 123_456);
    let set = sign_set(&log, &payload);
    let log_key = LogKey::ed25519(log.verifying_key());
    g.bench_function("ed25519 verify_strict (SET, LogKey::verify_set)", |b| {
        b.iter(|| {
            log_key
                .verify_set(black_box(&payload), black_box(&set))
                .unwrap()
        })
    });
    g.bench_function("ed25519 sign (SET, sign_set)", |b| {
        b.iter(|| sign_set(&log, black_box(&payload)))
    });
    let aws = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(log.as_bytes()).unwrap();
    assert_eq!(aws.sign(&payload).as_ref(), set.as_slice());
    g.bench_function("ed25519 sign (SET, aws-lc-rs Ed25519KeyPair)", |b| {
        b.iter(|| aws.sign(black_box(&payload)))
    });
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let pair = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng);
    let json = HashedRekordRequest::sign(&pair, SignerAlgorithm::EcdsaP256Sha256.digest(b"x"))
        .unwrap()
        .to_wire()
        .to_json();
    let mut g = c.benchmark_group("request_pipeline_ecdsa_p256");
    g.bench_function("from_json + validate", |b| {
        b.iter(|| {
            CreateEntryRequest::from_json(black_box(&json))
                .unwrap()
                .validate()
                .unwrap()
        })
    });
    g.bench_function("from_json + validate + verify + canonical body", |b| {
        b.iter(|| {
            let r = CreateEntryRequest::from_json(black_box(&json))
                .unwrap()
                .validate()
                .unwrap();
            r.verify().unwrap();
            r.to_body().to_canonical_bytes()
        })
    });
    g.finish();
}

fn config() -> Criterion {
    // Small samples: the machine has 2 cores shared with other builds; medians are enough.
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = ecdsa_p256, ed25519, pipeline }
criterion_main!(benches);
