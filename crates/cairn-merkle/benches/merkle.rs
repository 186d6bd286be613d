//! Criterion benchmarks of cairn-merkle, each to be read against the first one: raw SHA-256
//! of 64 bytes (two compressions, like a node hash) is what this machine can do at best, so
//! every other figure is also a count of SHA-256-equivalents (docs/formats-merkle.md,
//! "Measured").
//!
//! Kept short (10 samples, a few seconds each) so that `cargo bench -p cairn-merkle` ends in
//! well under three minutes on a shared 2-core machine.

// Setup code unwraps: a failure here is a broken benchmark, not a crashed server.
#![allow(clippy::unwrap_used)]
// criterion_group! defines an undocumented `pub fn benches`.
#![allow(missing_docs)]

use cairn_merkle::tiles::{new_tiles, read_tile_data, Tile, TileHashReader, TileReader};
use cairn_merkle::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, stored_hashes_for_leaf, tree_hash,
    verify_consistency, verify_inclusion, Hash, MerkleError,
};
use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::Duration;

/// The tree size the proof benchmarks run at.
const N: u64 = 1_000_000;

/// Leaf hashes of `n` distinct 64-byte entries.
fn leaves(n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| {
            let mut e = [0u8; 64];
            e[..8].copy_from_slice(&i.to_be_bytes());
            leaf_hash(&e)
        })
        .collect()
}

/// Appends `leaves` to an empty store, as the sequencer does.
fn build(leaves: &[Hash]) -> Vec<Hash> {
    let mut stored = Vec::with_capacity(2 * leaves.len());
    for (i, leaf) in leaves.iter().enumerate() {
        let new = stored_hashes_for_leaf(i as u64, *leaf, &stored).unwrap();
        stored.extend(new);
    }
    stored
}

/// Tiles of one tree, kept in memory by coordinates.
struct Tiles(HashMap<(u8, u64), Vec<u8>>);

impl TileReader for &Tiles {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        tiles
            .iter()
            .map(|t| {
                let data = self
                    .0
                    .get(&(t.level(), t.index()))
                    .ok_or(MerkleError::MissingHash(0))?;
                Ok(data[..usize::from(t.width()) * 32].to_vec())
            })
            .collect()
    }
}

fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::Elements(1));
    let input = [7u8; 64];
    g.bench_function("sha256_64B", |b| {
        b.iter(|| -> [u8; 32] { Sha256::digest(black_box(&input)).into() })
    });
    g.bench_function("leaf_hash_64B", |b| b.iter(|| leaf_hash(black_box(&input))));
    let (l, r) = (leaf_hash(b"l"), leaf_hash(b"r"));
    g.bench_function("node_hash", |b| {
        b.iter(|| node_hash(black_box(&l), black_box(&r)))
    });
    g.finish();
}

fn append(c: &mut Criterion) {
    let leaves = leaves(N);
    let mut g = c.benchmark_group("append");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(N));
    // One iteration builds the whole 1M-leaf tree from precomputed leaf hashes.
    g.bench_function("build_1M", |b| b.iter(|| build(black_box(&leaves))));
    g.finish();
}

fn proofs(c: &mut Criterion) {
    let leaves = leaves(N);
    let stored = build(&leaves);
    let root = tree_hash(N, &stored).unwrap();
    let mut g = c.benchmark_group("proof_1M");
    g.throughput(Throughput::Elements(1));

    // 999_999 = 0b11110100001000111111: 12 complete subtrees to combine for its root.
    g.bench_function("tree_hash_1M", |b| {
        b.iter(|| tree_hash(black_box(N), &stored))
    });
    g.bench_function("tree_hash_999999", |b| {
        b.iter(|| tree_hash(black_box(N - 1), &stored))
    });

    let index = 123_457;
    let proof = inclusion_proof(N, index, &stored).unwrap();
    let leaf = leaves[index as usize];
    g.bench_function("inclusion_build", |b| {
        b.iter(|| inclusion_proof(black_box(N), black_box(index), &stored))
    });
    g.bench_function("inclusion_verify", |b| {
        b.iter(|| verify_inclusion(black_box(index), N, &leaf, &proof, &root))
    });

    let old = 654_321;
    let old_root = tree_hash(old, &stored).unwrap();
    let cproof = consistency_proof(old, N, &stored).unwrap();
    g.bench_function("consistency_build", |b| {
        b.iter(|| consistency_proof(black_box(old), black_box(N), &stored))
    });
    g.bench_function("consistency_verify", |b| {
        b.iter(|| verify_consistency(black_box(old), N, &old_root, &root, &cproof))
    });

    // The server's path: only tiles are kept. A fresh reader per proof reads and hashes the
    // tiles the proof touches ("cold"); a reused reader has them cached ("warm").
    let mut tiles = Tiles(HashMap::new());
    for t in new_tiles(0, N) {
        tiles
            .0
            .insert((t.level(), t.index()), read_tile_data(t, &stored).unwrap());
    }
    let tiles = &tiles;
    let mut i = 0u64;
    g.bench_function("tile_inclusion_build_cold", |b| {
        b.iter_batched(
            || {
                i = (i + 7919 * 256) % N;
                (TileHashReader::new(N, tiles), i)
            },
            |(reader, i)| inclusion_proof(N, i, &reader).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let warm = TileHashReader::new(N, tiles);
    inclusion_proof(N, index, &warm).unwrap();
    g.bench_function("tile_inclusion_build_warm", |b| {
        b.iter(|| inclusion_proof(N, black_box(index), &warm))
    });
    g.bench_function("tile_consistency_build_cold", |b| {
        b.iter_batched(
            || TileHashReader::new(N, tiles),
            |reader| consistency_proof(black_box(old), N, &reader).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = hashing, append, proofs
}
criterion_main!(benches);
