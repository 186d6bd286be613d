//! Exhaustive checks against a naive recursive RFC 6962 reference (STYLE §3 "Exhaustive small
//! trees", after sumdb's `TestTree`).
//!
//! The reference at the bottom of this file is RFC 6962 §2.1 transcribed: MTH, PATH (§2.1.1)
//! and PROOF/SUBPROOF (§2.1.2), plus verifiers that recompute the roots by walking the same
//! recursion (so they share nothing with the crate's RFC 9162 bit-twiddling verifiers). Every
//! tree size is a prefix of one fixed leaf sequence, so MTH is a pure function of a leaf range
//! and is memoised: the reference costs O(n) hashes in total instead of O(n^3).
//!
//! The crate's stored hashes are built once, by appending, and a tree of size `n` is read
//! through the prefix `stored[..stored_hash_count(n)]`: proofs at a past size must only need
//! what had been written by then, or the read fails with `MissingHash`.
//!
//! Every proof of every size 1..=256, of the 300 sampled triples and at the tile boundaries is
//! compared with the reference, verified, and mutated: a bit flip in each of its hashes, the
//! first or last hash dropped, a hash appended or prepended, the proof emptied, two hashes
//! swapped, a wrong or out-of-range index, size ± 1 (and old size ± 1), reversed sizes, the
//! roots of the neighbouring sizes or swapped roots, a wrong leaf or root. Each must give the
//! exact `ProofError` variant named (or, for size ± 1, the reference verifier's verdict).
//!
//! Cost: about 1.5 million verifications, 2 s of CPU with the workspace's dev profile, which
//! compiles sha2 and this crate at opt-level 2 (root Cargo.toml). Unoptimised SHA-256 is about
//! 40 times slower (8 µs per node hash); if that profile goes, set FULL_MUTATIONS_UP_TO to 32:
//! larger sizes then get every mutation that is rejected before hashing and one hashing
//! mutation in rotation on every third proof (`Budget::RoundRobin`).

// Helpers outside #[test] functions unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used)]

use cairn_merkle::{
    consistency_proof, consistency_proof_indexes, inclusion_proof, inclusion_proof_indexes,
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes_for_leaf,
    stored_hashes_for_leaf_indexes, tree_hash, tree_hash_indexes, verify_consistency,
    verify_inclusion, Hash, HashReader, MerkleError, ProofError,
};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;

/// Every proof of every tree size up to this one is checked against the reference.
const EXHAUSTIVE_MAX: u64 = 256;
/// Up to this size every proof gets every mutation (a bit flip in each of its hashes); see the
/// file doc for when to lower it.
const FULL_MUTATIONS_UP_TO: u64 = EXHAUSTIVE_MAX;
/// The sampled trees reach a little past a level-2 tile boundary (65536 leaves).
const LARGE_SIZE: u64 = 70_000;
/// How many random (old size, tree size, leaf index) triples the large trees are sampled at.
const SAMPLES: u64 = 300;

// ---------------------------------------------------------------------------------------------
// The crate under test, driven through a prefix of one append-only store.

/// Leaf entries `0..n` and the stored hashes the crate writes when appending them.
struct Store {
    stored: Vec<Hash>,
}

impl Store {
    fn build(reference: &Reference, n: u64) -> Store {
        let mut stored: Vec<Hash> = Vec::with_capacity(2 * n as usize);
        for i in 0..n {
            let new = stored_hashes_for_leaf(i, reference.mth(i, i + 1), &stored).unwrap();
            stored.extend(new);
        }
        assert_eq!(stored.len() as u64, stored_hash_count(n));
        Store { stored }
    }

    /// The hashes a log of `size` leaves has stored; reading any later one fails.
    fn at(&self, size: u64) -> &[Hash] {
        &self.stored[..stored_hash_count(size) as usize]
    }
}

/// A reader that records every batch of indexes it is asked for.
struct Counting<'a> {
    inner: &'a [Hash],
    reads: RefCell<Vec<Vec<u64>>>,
}

impl<'a> Counting<'a> {
    fn new(inner: &'a [Hash]) -> Self {
        Counting {
            inner,
            reads: RefCell::new(Vec::new()),
        }
    }

    /// Returns the batches read since the last call; asserts they are exactly `planned`
    /// (one batch, or none when nothing was planned).
    fn assert_read_exactly(&self, planned: &[u64], what: &str) {
        let reads = self.reads.replace(Vec::new());
        let want: Vec<Vec<u64>> = if planned.is_empty() {
            Vec::new()
        } else {
            vec![planned.to_vec()]
        };
        assert_eq!(reads, want, "{what}: reads differ from the planned indexes");
    }
}

impl HashReader for Counting<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.reads.borrow_mut().push(indexes.to_vec());
        self.inner.read_hashes(indexes)
    }
}

/// A small deterministic PRNG (splitmix64), so the sampled sizes are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut b = h.0;
    b[(bit / 8) % 32] ^= 1 << (bit % 8);
    Hash(b)
}

// ---------------------------------------------------------------------------------------------
// Mutations. A mutation whose verdict is not obvious (a tree size changed by one) is checked
// against the reference verifier's verdict, because some of those are still true statements:
// the leaf of a left subtree is proved by the same hashes in trees of size n and n + 1 while
// the split point k stays put (see `Tally::size_changes_accepted`). All others must fail with
// the variant named.

/// Which mutations to run for one proof.
#[derive(Clone, Copy, PartialEq)]
enum Budget {
    /// Every mutation; a bit flip in every hash.
    Full,
    /// The mutations that fail without hashing, plus, for every third `k`, the hashing one
    /// numbered `k % 21` (at a position that rotates with `k`).
    RoundRobin(u64),
}

impl Budget {
    fn hashing(self, kind: u64) -> bool {
        match self {
            Budget::Full => true,
            Budget::RoundRobin(k) => k % 21 == kind,
        }
    }

    /// The proof positions to flip a bit in.
    fn flips(self, len: usize) -> Vec<usize> {
        match self {
            Budget::Full => (0..len).collect(),
            Budget::RoundRobin(k) if len > 0 && k % 21 == 0 => vec![(k / 21) as usize % len],
            Budget::RoundRobin(_) => Vec::new(),
        }
    }
}

/// Tally of what the mutation tests saw, printed by each test.
#[derive(Default, Debug)]
struct Tally {
    proofs: u64,
    mutations: u64,
    /// Size changes that still verified, as the reference verifier also says they must.
    size_changes_accepted: u64,
}

/// What a mutated verification must return.
enum Want {
    /// Exactly this.
    Is(Result<(), ProofError>),
    /// A `WrongLength`.
    WrongLength,
    /// Whatever the reference verifier says (it may hash).
    Reference,
}

fn mutate_inclusion(
    r: &Reference,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
    budget: Budget,
    tally: &mut Tally,
) {
    let leaf = r.mth(index, index + 1);
    let mut check = |what: &str, want: Want, i: u64, n: u64, l: &Hash, p: &[Hash], rt: &Hash| {
        let got = verify_inclusion(i, n, l, p, rt);
        let ok = match want {
            Want::Is(w) => got == w,
            Want::WrongLength => matches!(got, Err(ProofError::WrongLength { .. })),
            Want::Reference => got == r.verify_inclusion(i, n, l, p, rt),
        };
        assert!(ok, "inclusion {index}/{size} mutated ({what}): got {got:?}");
        tally.mutations += 1;
        got.is_ok()
    };
    let mismatch = || Want::Is(Err(ProofError::RootMismatch));
    // The verdict for a proof of the right hashes at the wrong index or size: out of range,
    // a length mismatch (no hashing), or only then the reference's verdict.
    let shape = |i: u64, n: u64| {
        if i >= n {
            Want::Is(Err(ProofError::IndexOutOfRange { index: i, size: n }))
        } else if r.path_len(i, n) != proof.len() {
            Want::Is(Err(ProofError::WrongLength {
                got: proof.len(),
                want: r.path_len(i, n),
            }))
        } else {
            Want::Reference
        }
    };

    // Length changes and out-of-range indexes fail before any hashing.
    let mut p = proof.to_vec();
    p.push(leaf);
    check("append", Want::WrongLength, index, size, &leaf, &p, root);
    let p: Vec<Hash> = std::iter::once(*root)
        .chain(proof.iter().copied())
        .collect();
    check("prepend", Want::WrongLength, index, size, &leaf, &p, root);
    if !proof.is_empty() {
        let (first, last) = (&proof[1..], &proof[..proof.len() - 1]);
        check(
            "drop first",
            Want::WrongLength,
            index,
            size,
            &leaf,
            first,
            root,
        );
        check(
            "drop last",
            Want::WrongLength,
            index,
            size,
            &leaf,
            last,
            root,
        );
        check("empty", Want::WrongLength, index, size, &leaf, &[], root);
    }
    for i in [size, u64::MAX] {
        check("index", shape(i, size), i, size, &leaf, proof, root);
    }

    // Hashing mutations.
    for j in budget.flips(proof.len()) {
        let mut p = proof.to_vec();
        p[j] = flip(&p[j], index as usize * 7 + j);
        check("bit flip", mismatch(), index, size, &leaf, &p, root);
    }
    let mut hashed = false;
    for i in [index ^ 1, index.wrapping_sub(1), index + 1] {
        if i >= size || i == index {
            continue;
        }
        // A wrong index takes another path to the root, so it never reaches the same root.
        let want = match shape(i, size) {
            Want::Reference if !budget.hashing(1) || (hashed && budget != Budget::Full) => continue,
            Want::Reference => {
                hashed = true;
                mismatch()
            }
            w => w,
        };
        check("wrong index", want, i, size, &leaf, proof, root);
    }
    for (kind, n) in [(2, size + 1), (3, size - 1)] {
        let want = shape(index, n);
        if matches!(want, Want::Reference) && !budget.hashing(kind) {
            continue;
        }
        if check("size ± 1", want, index, n, &leaf, proof, root) {
            tally.size_changes_accepted += 1;
        }
    }
    if budget.hashing(4) {
        // "Swapped roots": the roots of the neighbouring tree sizes.
        check(
            "root of size + 1",
            mismatch(),
            index,
            size,
            &leaf,
            proof,
            &r.mth(0, size + 1),
        );
        if budget == Budget::Full {
            check(
                "root of size - 1",
                mismatch(),
                index,
                size,
                &leaf,
                proof,
                &r.mth(0, size - 1),
            );
        }
    }
    if budget.hashing(5) {
        let other = (index + 1) % r.len();
        check(
            "wrong leaf",
            mismatch(),
            index,
            size,
            &r.mth(other, other + 1),
            proof,
            root,
        );
    }
    if budget.hashing(6) && !proof.is_empty() {
        // Two proof hashes swapped (or the only one replaced by the leaf).
        let mut p = proof.to_vec();
        let last = p.len() - 1;
        if last > 0 {
            p.swap(0, last);
        } else {
            p[0] = leaf;
        }
        check("swap hashes", mismatch(), index, size, &leaf, &p, root);
    }
    tally.proofs += 1;
}

#[allow(clippy::too_many_arguments)] // the mutation context is exactly these values
fn mutate_consistency(
    r: &Reference,
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
    budget: Budget,
    tally: &mut Tally,
) {
    let mut check = |what: &str, want: Want, m: u64, n: u64, o: &Hash, nr: &Hash, p: &[Hash]| {
        let got = verify_consistency(m, n, o, nr, p);
        let ok = match want {
            Want::Is(w) => got == w,
            Want::WrongLength => matches!(got, Err(ProofError::WrongLength { .. })),
            Want::Reference => got == r.verify_consistency(m, n, o, nr, p),
        };
        assert!(ok, "consistency {old}->{new} mutated ({what}): got {got:?}");
        tally.mutations += 1;
        got.is_ok()
    };
    let mismatch = || Want::Is(Err(ProofError::RootMismatch));
    // The verdict for these hashes between other sizes, without hashing where it can be.
    let shape = |m: u64, n: u64| {
        if m > n {
            Want::Is(Err(ProofError::InvalidSizes { old: m, new: n }))
        } else if (m == 0 || m == n) && !proof.is_empty() {
            Want::Is(Err(ProofError::WrongLength {
                got: proof.len(),
                want: 0,
            }))
        } else if 0 < m && m < n && r.consistency_len(m, n) != proof.len() {
            Want::Is(Err(ProofError::WrongLength {
                got: proof.len(),
                want: r.consistency_len(m, n),
            }))
        } else {
            Want::Reference
        }
    };

    let mut p = proof.to_vec();
    p.push(*new_root);
    check(
        "append",
        Want::WrongLength,
        old,
        new,
        old_root,
        new_root,
        &p,
    );
    let p: Vec<Hash> = std::iter::once(*old_root)
        .chain(proof.iter().copied())
        .collect();
    check(
        "prepend",
        Want::WrongLength,
        old,
        new,
        old_root,
        new_root,
        &p,
    );
    if !proof.is_empty() {
        let (first, last) = (&proof[1..], &proof[..proof.len() - 1]);
        check(
            "drop first",
            Want::WrongLength,
            old,
            new,
            old_root,
            new_root,
            first,
        );
        check(
            "drop last",
            Want::WrongLength,
            old,
            new,
            old_root,
            new_root,
            last,
        );
        check(
            "empty",
            Want::WrongLength,
            old,
            new,
            old_root,
            new_root,
            &[],
        );
    }
    if old < new {
        let want = Want::Is(Err(ProofError::InvalidSizes { old: new, new: old }));
        check("sizes reversed", want, new, old, new_root, old_root, proof);
    }

    for j in budget.flips(proof.len()) {
        let mut p = proof.to_vec();
        p[j] = flip(&p[j], old as usize * 5 + j);
        check("bit flip", mismatch(), old, new, old_root, new_root, &p);
    }
    for (kind, m, n) in [
        (1, old + 1, new),
        (2, old.wrapping_sub(1), new),
        (3, old, new + 1),
        (3, old, new.wrapping_sub(1)),
    ] {
        if m == u64::MAX || n == u64::MAX {
            continue;
        }
        let want = shape(m, n);
        if matches!(want, Want::Reference) && !budget.hashing(kind) {
            continue;
        }
        if check("size ± 1", want, m, n, old_root, new_root, proof) {
            tally.size_changes_accepted += 1;
        }
    }
    if budget.hashing(4) && 0 < old && old < new {
        check(
            "swapped roots",
            mismatch(),
            old,
            new,
            new_root,
            old_root,
            proof,
        );
    }
    if budget.hashing(5) && old > 0 {
        let wrong = flip(old_root, old as usize);
        check(
            "wrong old root",
            mismatch(),
            old,
            new,
            &wrong,
            new_root,
            proof,
        );
    }
    if budget.hashing(6) && old > 0 {
        let wrong = flip(new_root, new as usize);
        check(
            "wrong new root",
            mismatch(),
            old,
            new,
            old_root,
            &wrong,
            proof,
        );
    }
    tally.proofs += 1;
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn stored_hashes_are_the_reference_subtree_hashes() {
    let r = Reference::new(EXHAUSTIVE_MAX + 1);
    let store = Store::build(&r, EXHAUSTIVE_MAX + 1);
    for (index, h) in store.stored.iter().enumerate() {
        let (level, k) = split_stored_hash_index(index as u64);
        assert_eq!(stored_hash_index(level, k), index as u64);
        assert_eq!(
            *h,
            r.mth(k << level, (k + 1) << level),
            "stored hash {index} = ({level}, {k})"
        );
    }
    // Appending leaf n writes 1 hash plus one per subtree it completes, and reads exactly the
    // left siblings it planned.
    let counting = Counting::new(&store.stored);
    for n in 0..EXHAUSTIVE_MAX {
        let planned = stored_hashes_for_leaf_indexes(n);
        assert!(planned.iter().all(|&i| i < stored_hash_count(n)));
        let hashes = stored_hashes_for_leaf(n, r.mth(n, n + 1), &counting).unwrap();
        counting.assert_read_exactly(&planned, &format!("append {n}"));
        assert_eq!(
            hashes.len() as u64,
            stored_hash_count(n + 1) - stored_hash_count(n)
        );
    }
}

#[test]
fn roots_of_every_size_match_the_reference() {
    let r = Reference::new(EXHAUSTIVE_MAX);
    let store = Store::build(&r, EXHAUSTIVE_MAX);
    for n in 0..=EXHAUSTIVE_MAX {
        let at_n = store.at(n);
        assert_eq!(
            tree_hash(n, &at_n).unwrap(),
            r.mth(0, n),
            "root of size {n}"
        );
        let counting = Counting::new(at_n);
        tree_hash(n, &counting).unwrap();
        counting.assert_read_exactly(&tree_hash_indexes(n).unwrap(), &format!("tree_hash {n}"));
    }
    // One hash short of size n's hashes: the root of size n is not computable.
    for n in 1..=EXHAUSTIVE_MAX {
        let short = &store.stored[..stored_hash_count(n) as usize - 1];
        assert!(matches!(
            tree_hash(n, &short),
            Err(MerkleError::MissingHash(_))
        ));
    }
}

#[test]
fn every_inclusion_proof_matches_the_reference() {
    let r = Reference::new(EXHAUSTIVE_MAX + 1);
    let store = Store::build(&r, EXHAUSTIVE_MAX + 1);
    let mut tally = Tally::default();
    let mut k = 0;
    for n in 1..=EXHAUSTIVE_MAX {
        let at_n = store.at(n);
        let root = r.mth(0, n);
        let counting = Counting::new(at_n);
        for i in 0..n {
            let proof = inclusion_proof(n, i, &counting).unwrap();
            counting.assert_read_exactly(
                &inclusion_proof_indexes(n, i).unwrap(),
                &format!("inclusion {i}/{n}"),
            );
            assert_eq!(proof, r.path(i, 0, n), "inclusion proof {i}/{n}");
            verify_inclusion(i, n, &r.mth(i, i + 1), &proof, &root).unwrap();
            let budget = if n <= FULL_MUTATIONS_UP_TO {
                Budget::Full
            } else {
                k += 1;
                Budget::RoundRobin(k)
            };
            mutate_inclusion(&r, i, n, &proof, &root, budget, &mut tally);
        }
        assert!(matches!(
            inclusion_proof(n, n, &at_n),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
    }
    eprintln!("inclusion: {tally:?}");
    assert_eq!(tally.proofs, EXHAUSTIVE_MAX * (EXHAUSTIVE_MAX + 1) / 2);
}

#[test]
fn every_consistency_proof_matches_the_reference() {
    let r = Reference::new(EXHAUSTIVE_MAX + 1);
    let store = Store::build(&r, EXHAUSTIVE_MAX + 1);
    let mut tally = Tally::default();
    let mut k = 0;
    for n in 1..=EXHAUSTIVE_MAX {
        let at_n = store.at(n);
        let new_root = r.mth(0, n);
        let counting = Counting::new(at_n);
        for m in 0..=n {
            let proof = consistency_proof(m, n, &counting).unwrap();
            counting.assert_read_exactly(
                &consistency_proof_indexes(m, n).unwrap(),
                &format!("consistency {m}->{n}"),
            );
            let want = if m == 0 || m == n {
                Vec::new()
            } else {
                r.proof(m, n)
            };
            assert_eq!(proof, want, "consistency proof {m}->{n}");
            let old_root = r.mth(0, m);
            verify_consistency(m, n, &old_root, &new_root, &proof).unwrap();
            let budget = if n <= FULL_MUTATIONS_UP_TO {
                Budget::Full
            } else {
                k += 1;
                Budget::RoundRobin(k)
            };
            mutate_consistency(&r, m, n, &proof, &old_root, &new_root, budget, &mut tally);
        }
        assert!(matches!(
            consistency_proof(n + 1, n, &at_n),
            Err(MerkleError::InvalidSizes { .. })
        ));
    }
    eprintln!("consistency: {tally:?}");
    assert_eq!(
        tally.proofs,
        (EXHAUSTIVE_MAX + 1) * (EXHAUSTIVE_MAX + 2) / 2 - 1
    );
}

#[test]
fn sampled_large_trees_and_tile_boundaries() {
    let r = Reference::new(LARGE_SIZE + 1);
    let store = Store::build(&r, LARGE_SIZE + 1);
    let mut rng = Rng(0x00ca_1e4e);
    // (old size, tree size, leaf index, budget): random triples first, then the tile
    // boundaries (levels 1 and 2) as tree sizes, old sizes and indexes.
    let mut cases: Vec<(u64, u64, u64, Budget)> = (0..SAMPLES)
        .map(|k| {
            let n = rng.range(1, LARGE_SIZE);
            // All of them in full, unless the exhaustive part is rationed too.
            let budget = if FULL_MUTATIONS_UP_TO == EXHAUSTIVE_MAX || k < SAMPLES / 10 {
                Budget::Full
            } else {
                Budget::RoundRobin(k)
            };
            (rng.range(0, n), n, rng.range(0, n - 1), budget)
        })
        .collect();
    let boundaries = [255, 256, 257, 65535, 65536, 65537];
    for n in boundaries.into_iter().chain([LARGE_SIZE]) {
        for x in boundaries.into_iter().chain([1, n / 2, n - 1]) {
            if x < n {
                cases.push((x, n, x, Budget::Full));
            }
        }
    }
    let mut inclusion = Tally::default();
    let mut consistency = Tally::default();
    for (m, n, i, budget) in cases {
        let at_n = store.at(n);
        let root = r.mth(0, n);
        assert_eq!(tree_hash(n, &at_n).unwrap(), root, "root of size {n}");
        let counting = Counting::new(at_n);

        let proof = inclusion_proof(n, i, &counting).unwrap();
        counting.assert_read_exactly(&inclusion_proof_indexes(n, i).unwrap(), "inclusion");
        assert_eq!(proof, r.path(i, 0, n), "inclusion proof {i}/{n}");
        verify_inclusion(i, n, &r.mth(i, i + 1), &proof, &root).unwrap();
        mutate_inclusion(&r, i, n, &proof, &root, budget, &mut inclusion);

        let proof = consistency_proof(m, n, &counting).unwrap();
        counting.assert_read_exactly(&consistency_proof_indexes(m, n).unwrap(), "consistency");
        let want = if m == 0 || m == n {
            Vec::new()
        } else {
            r.proof(m, n)
        };
        assert_eq!(proof, want, "consistency proof {m}->{n}");
        let old_root = r.mth(0, m);
        verify_consistency(m, n, &old_root, &root, &proof).unwrap();
        mutate_consistency(&r, m, n, &proof, &old_root, &root, budget, &mut consistency);
    }
    eprintln!("sampled inclusion: {inclusion:?}\nsampled consistency: {consistency:?}");
}

// ---------------------------------------------------------------------------------------------
// RFC 6962 §2.1, transcribed. D[lo:hi] is a range of the fixed leaf sequence `entries`.

/// The naive reference. `entries[i]` is leaf i's input; every tree is a prefix.
struct Reference {
    entries: Vec<Vec<u8>>,
    memo: RefCell<HashMap<(u64, u64), Hash>>,
}

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

/// "k is the largest power of two smaller than n (i.e., k < n <= 2k)".
fn largest_power_of_two_below(n: u64) -> u64 {
    assert!(n > 1);
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

impl Reference {
    fn new(n: u64) -> Reference {
        // Distinct entries of varied lengths, including the empty one.
        let entries = (0..n)
            .map(|i| {
                format!("{}", i * 7919)
                    .into_bytes()
                    .repeat((i % 3) as usize)
            })
            .enumerate()
            .map(|(i, mut e)| {
                if i > 0 {
                    e.extend_from_slice(&(i as u64).to_le_bytes());
                }
                e
            })
            .collect();
        Reference {
            entries,
            memo: RefCell::new(HashMap::new()),
        }
    }

    fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    /// MTH(D[lo:hi]):
    ///   MTH({}) = SHA-256()
    ///   MTH({d(0)}) = SHA-256(0x00 || d(0))
    ///   MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
    fn mth(&self, lo: u64, hi: u64) -> Hash {
        if lo == hi {
            return sha256(&[]);
        }
        if let Some(h) = self.memo.borrow().get(&(lo, hi)) {
            return *h;
        }
        let h = if hi - lo == 1 {
            sha256(&[&[0x00], &self.entries[lo as usize]])
        } else {
            let k = largest_power_of_two_below(hi - lo);
            sha256(&[&[0x01], &self.mth(lo, lo + k).0, &self.mth(lo + k, hi).0])
        };
        self.memo.borrow_mut().insert((lo, hi), h);
        h
    }

    /// PATH(m, D[lo:hi]), m relative to lo (§2.1.1):
    ///   PATH(0, {d(0)}) = {}
    ///   PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])      for m < k
    ///   PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])  for m >= k
    fn path(&self, m: u64, lo: u64, hi: u64) -> Vec<Hash> {
        if hi - lo == 1 {
            return Vec::new();
        }
        let k = largest_power_of_two_below(hi - lo);
        let (mut p, sibling) = if m < k {
            (self.path(m, lo, lo + k), self.mth(lo + k, hi))
        } else {
            (self.path(m - k, lo + k, hi), self.mth(lo, lo + k))
        };
        p.push(sibling);
        p
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m < n (§2.1.2).
    fn proof(&self, m: u64, n: u64) -> Vec<Hash> {
        assert!(0 < m && m < n);
        self.subproof(m, 0, n, true)
    }

    ///   SUBPROOF(m, D[m], true) = {}
    ///   SUBPROOF(m, D[m], false) = {MTH(D[m])}
    ///   SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])        for m <= k
    ///   SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) for m > k
    fn subproof(&self, m: u64, lo: u64, hi: u64, b: bool) -> Vec<Hash> {
        if m == hi - lo {
            return if b {
                Vec::new()
            } else {
                vec![self.mth(lo, hi)]
            };
        }
        let k = largest_power_of_two_below(hi - lo);
        let (mut p, sibling) = if m <= k {
            (self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi))
        } else {
            (
                self.subproof(m - k, lo + k, hi, false),
                self.mth(lo, lo + k),
            )
        };
        p.push(sibling);
        p
    }

    /// The length of PATH(m, D[n]).
    fn path_len(&self, m: u64, n: u64) -> usize {
        if n == 1 {
            return 0;
        }
        let k = largest_power_of_two_below(n);
        1 + if m < k {
            self.path_len(m, k)
        } else {
            self.path_len(m - k, n - k)
        }
    }

    /// The length of PROOF(m, D[n]), 0 < m < n.
    fn consistency_len(&self, m: u64, n: u64) -> usize {
        fn sub(m: u64, n: u64, b: bool) -> usize {
            if m == n {
                return usize::from(!b);
            }
            let k = largest_power_of_two_below(n);
            1 + if m <= k {
                sub(m, k, b)
            } else {
                sub(m - k, n - k, false)
            }
        }
        sub(m, n, true)
    }

    /// The verdict a verifier must give: the root recomputed along PATH's recursion.
    fn verify_inclusion(
        &self,
        index: u64,
        size: u64,
        leaf: &Hash,
        proof: &[Hash],
        root: &Hash,
    ) -> Result<(), ProofError> {
        fn root_from(m: u64, n: u64, leaf: &Hash, proof: &[Hash]) -> Hash {
            if n == 1 {
                return *leaf;
            }
            let k = largest_power_of_two_below(n);
            let (sibling, rest) = proof.split_last().unwrap();
            if m < k {
                node(&root_from(m, k, leaf, rest), sibling)
            } else {
                node(sibling, &root_from(m - k, n - k, leaf, rest))
            }
        }
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let want = self.path_len(index, size);
        if proof.len() != want {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                want,
            });
        }
        if root_from(index, size, leaf, proof) == *root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        }
    }

    /// The verdict a verifier must give: both roots recomputed along SUBPROOF's recursion.
    /// Size 0 is consistent with everything (empty proof); equal sizes need equal roots.
    fn verify_consistency(
        &self,
        m: u64,
        n: u64,
        old_root: &Hash,
        new_root: &Hash,
        proof: &[Hash],
    ) -> Result<(), ProofError> {
        /// Returns (old root, new root) of D[0:n] as the proof's hashes rebuild them.
        fn roots_from(m: u64, n: u64, b: bool, old_root: &Hash, proof: &[Hash]) -> (Hash, Hash) {
            if m == n {
                return if b {
                    (*old_root, *old_root)
                } else {
                    (proof[0], proof[0])
                };
            }
            let k = largest_power_of_two_below(n);
            let (sibling, rest) = proof.split_last().unwrap();
            if m <= k {
                let (o, new) = roots_from(m, k, b, old_root, rest);
                (o, node(&new, sibling))
            } else {
                let (o, new) = roots_from(m - k, n - k, false, old_root, rest);
                (node(sibling, &o), node(sibling, &new))
            }
        }
        if m > n {
            return Err(ProofError::InvalidSizes { old: m, new: n });
        }
        if m == 0 || m == n {
            if !proof.is_empty() {
                return Err(ProofError::WrongLength {
                    got: proof.len(),
                    want: 0,
                });
            }
            return if m == n && old_root != new_root {
                Err(ProofError::RootMismatch)
            } else {
                Ok(())
            };
        }
        let want = self.consistency_len(m, n);
        if proof.len() != want {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                want,
            });
        }
        let (o, new) = roots_from(m, n, true, old_root, proof);
        if o == *old_root && new == *new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        }
    }
}

fn node(l: &Hash, r: &Hash) -> Hash {
    sha256(&[&[0x01], &l.0, &r.0])
}

#[test]
fn reference_agrees_with_rfc6962_test_vectors() {
    // The RFC 6962 (and certificate-transparency-go) test tree: 8 leaves.
    let leaves: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let r = Reference {
        entries: leaves.iter().map(|l| l.to_vec()).collect(),
        memo: RefCell::new(HashMap::new()),
    };
    let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    for (n, want) in roots.iter().enumerate() {
        assert_eq!(
            r.mth(0, n as u64 + 1).to_string(),
            *want,
            "MTH of {} leaves",
            n + 1
        );
    }
    assert_eq!(
        r.mth(0, 0).to_string(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}
