//! The write path's hot paths, one criterion group each: signature verification per signer
//! key type (and Ed25519 batch verification), the canonical body, the leaf hash, checkpoint
//! signing, batch integration on MemStore and RedbStore (batches of 1, 64 and 256), and
//! inclusion proof construction. Bundle verification is next to its signature checks in
//! `cargo bench -p cairn-verify --bench verify_bundle`.
//!
//! `cargo bench -p cairn-bench --bench hot_paths` (docs/performance-notes.md).

// A bench is test code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use cairn_bench::{log_signer, open_sequencer, pending_range};
use cairn_entry::{
    set_payload, sign_set, HashedRekordRequest, LogKey, SignerAlgorithm, SignerKeyPair,
};
use cairn_log::{LogStore, MemStore, RedbStore, Sequencer};
use cairn_merkle::leaf_hash;
use cairn_note::{sign_checkpoint, Checkpoint, NoteSigner};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use ed25519_dalek::{Signer as _, SigningKey};
use rand_chacha::rand_core::SeedableRng;
use std::hint::black_box;
use std::time::Duration;

fn signatures(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("signature_verify");
    for (name, alg) in [
        ("p256 aws-lc-rs prehash", SignerAlgorithm::EcdsaP256Sha256),
        (
            "ed25519ph verify_prehashed_strict",
            SignerAlgorithm::Ed25519Ph,
        ),
    ] {
        let pair = SignerKeyPair::generate(alg, &mut rng);
        let digest = alg.digest(b"an artifact");
        let sig = pair.sign_digest(&digest).unwrap();
        let key = pair.signer_key().unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                key.verify_digest(black_box(&digest), black_box(&sig))
                    .unwrap()
            })
        });
    }

    // Pure Ed25519 (SETs, checkpoints): one verify_strict, and a batch of 64 per signature.
    // dalek's batch API has no prehashed form, so Ed25519ph entries cannot use it.
    let keys: Vec<SigningKey> = (0..64).map(|_| SigningKey::generate(&mut rng)).collect();
    let messages: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; 600]).collect();
    let sigs: Vec<ed25519_dalek::Signature> =
        keys.iter().zip(&messages).map(|(k, m)| k.sign(m)).collect();
    let vks: Vec<ed25519_dalek::VerifyingKey> = keys.iter().map(|k| k.verifying_key()).collect();
    g.bench_function("ed25519 verify_strict", |b| {
        b.iter(|| {
            vks[0]
                .verify_strict(black_box(&messages[0]), &sigs[0])
                .unwrap()
        })
    });
    let refs: Vec<&[u8]> = messages.iter().map(|m| m.as_slice()).collect();
    g.throughput(Throughput::Elements(64));
    g.bench_function("ed25519 verify_batch of 64", |b| {
        b.iter(|| ed25519_dalek::verify_batch(black_box(&refs), &sigs, &vks).unwrap())
    });
    g.finish();
}

fn encoding_and_hashing(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let pair = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng);
    let request =
        HashedRekordRequest::sign(&pair, SignerAlgorithm::EcdsaP256Sha256.digest(b"x")).unwrap();
    let body = request.to_body().to_canonical_bytes();
    let mut g = c.benchmark_group("entry");
    g.bench_function("canonical body (P-256 hashedrekord 0.0.2)", |b| {
        b.iter(|| black_box(&request).to_body().to_canonical_bytes())
    });
    g.bench_function(format!("leaf hash ({} bytes)", body.len()), |b| {
        b.iter(|| leaf_hash(black_box(&body)))
    });
    let log = SigningKey::from_bytes(&[3; 32]);
    let payload = set_payload(&body, 1_760_000_000, &[7; 32], 123_456);
    g.bench_function("SET sign", |b| {
        b.iter(|| sign_set(&log, black_box(&payload)))
    });
    let log_key = LogKey::ed25519(log.verifying_key());
    let set = sign_set(&log, &payload);
    g.bench_function("SET verify", |b| {
        b.iter(|| log_key.verify_set(black_box(&payload), &set).unwrap())
    });
    let signer = log_signer();
    let checkpoint = Checkpoint::new(
        cairn_bench::ORIGIN.parse().unwrap(),
        1_234_567,
        cairn_merkle::Hash([9; 32]),
    );
    let signers: [&dyn NoteSigner; 1] = [&signer];
    g.bench_function("checkpoint sign", |b| {
        b.iter(|| sign_checkpoint(black_box(&checkpoint), &signers).unwrap())
    });
    g.finish();
}

/// One `integrate` call per iteration, with fresh entries each time (made outside the timing).
fn integrate_on<S: LogStore>(c: &mut Criterion, store_name: &str, mut seq: Sequencer<S>) {
    let mut g = c.benchmark_group(format!("integrate_{store_name}"));
    let mut next = seq.published().size;
    for n in [1u64, 64, 256] {
        g.throughput(Throughput::Elements(n));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_batched(
                || {
                    let batch = pending_range(next, n);
                    next += n;
                    batch
                },
                |batch| seq.integrate(&batch).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn integration(c: &mut Criterion) {
    integrate_on(c, "memstore", open_sequencer(MemStore::new()));
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("log.redb")).unwrap();
    integrate_on(c, "redb", open_sequencer(store));
}

fn proofs(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut seq = open_sequencer(RedbStore::open(&dir.path().join("log.redb")).unwrap());
    const SIZE: u64 = 65_536;
    for start in (0..SIZE).step_by(4096) {
        seq.integrate(&pending_range(start, 4096)).unwrap();
    }
    let mut g = c.benchmark_group("inclusion_proof_redb_65536");
    let mut i = 0u64;
    g.bench_function("any index, tiles read from redb", |b| {
        b.iter(|| {
            i = (i + 40_503) % SIZE;
            seq.inclusion_proof(i, SIZE).unwrap()
        })
    });
    // Inside a round the proofs of new entries come mostly from the edge the sequencer holds;
    // their cost is inside the integrate groups.
    g.finish();
}

fn config() -> Criterion {
    // Small samples: the machine has 2 cores shared with other builds; medians are enough.
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = signatures, encoding_and_hashing, integration, proofs }
criterion_main!(benches);
