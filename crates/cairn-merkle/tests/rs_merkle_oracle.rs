//! rs_merkle 1.5 as an independent oracle for roots and inclusion proofs at the current size.
//!
//! # Making rs_merkle compute RFC 6962 trees
//!
//! rs_merkle hashes nothing by itself: the caller passes leaf hashes, and interior nodes come
//! from `Hasher::concat_and_hash(left, Option<right>)`, whose default is `hash(left || right)`
//! and, for a node without a right sibling, the left node itself, unhashed. Its stock
//! `algorithms::Sha256` therefore has no RFC 6962 domain separation (see
//! `stock_sha256_is_not_rfc6962`). The `Rfc6962` hasher below feeds it leaf hashes that already
//! carry the 0x00 prefix (our `leaf_hash`) and overrides `concat_and_hash` to hash
//! `0x01 || left || right`, keeping the promotion of a lone node.
//!
//! # Why the shapes agree for every size
//!
//! rs_merkle builds bottom-up: each layer pairs nodes (0,1), (2,3), ... and promotes a last
//! node that has no right sibling to the next layer unchanged. RFC 6962 splits top-down at
//! the largest power of two k < n. These are the same tree for EVERY n, not only some: by
//! induction on the layer j, node i of layer j covers leaves [i*2^j, min((i+1)*2^j, n)). For a
//! full range it is the perfect subtree, hashed the same way by both. For the last, partial,
//! range of s leaves (s < 2^j): if s > 2^(j-1) the node is the hash of a full left child of
//! 2^(j-1) leaves and the partial right rest, and 2^(j-1) is exactly RFC 6962's k for s
//! (2^(j-1) < s <= 2^j); if s <= 2^(j-1) the node is the promoted left child, which covers the
//! same range, and promotion adds no hash, as RFC 6962 adds no level for it. Proofs agree the
//! same way: rs_merkle's proof is the sibling at each layer from the leaf up, skipping layers
//! where the node was promoted, which is RFC 6962's PATH from the leaf's sibling to the
//! root's child. So this file asserts equality for every size 1..=300; there is no size where
//! a difference is documented instead, because none exists (and none was observed).
//!
//! # What rs_merkle cannot be for the log (checked against its 1.5 API)
//!
//! - No consistency proofs: there is no API for them at all.
//! - Proofs and roots only for the current committed tree. An older size needs `rollback()`,
//!   which drops commits for good and replays every remaining commit from the start, or a new
//!   tree from the prefix of the leaves (`from_leaves`, O(m) hashes).
//! - `commit()` costs O(n) whatever the batch: `PartialTree::merge_unverified` clones, filters
//!   (with a linear `contains` per node) and re-sorts every layer of the whole tree, and the
//!   tree keeps every commit's diff in `history`. Appending leaf by leaf is O(n^2).
//! - Its verifier ignores hashes left over after the root is computed, so a proof with
//!   trailing garbage verifies (see `rs_merkle_accepts_trailing_hashes`). Ours rejects it.

// Helpers outside #[test] functions unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used)]

use cairn_merkle::{
    inclusion_proof, leaf_hash, stored_hash_count, stored_hashes_for_leaf, tree_hash,
    verify_inclusion, Hash, ProofError,
};
use rs_merkle::{Hasher, MerkleProof, MerkleTree};
use sha2::{Digest, Sha256};

/// The largest tree size compared.
const MAX: usize = 300;

/// RFC 6962 interior nodes for rs_merkle; leaves are passed in already hashed.
#[derive(Clone)]
struct Rfc6962;

impl Hasher for Rfc6962 {
    type Hash = [u8; 32];

    /// Plain SHA-256. rs_merkle calls this only through the default `concat_and_hash`,
    /// which is overridden below, so no tree hash goes through it.
    fn hash(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => {
                let mut h = Sha256::new();
                h.update([0x01]);
                h.update(left);
                h.update(right);
                h.finalize().into()
            }
            // A node without a sibling is promoted: RFC 6962 has no level for it.
            None => *left,
        }
    }
}

fn entry(i: usize) -> Vec<u8> {
    format!("rs_merkle oracle entry {i}").into_bytes()
}

/// Our stored hashes for `MAX` leaves, and the leaf hashes.
fn ours() -> (Vec<Hash>, Vec<Hash>) {
    let leaves: Vec<Hash> = (0..MAX).map(|i| leaf_hash(&entry(i))).collect();
    let mut stored = Vec::new();
    for (i, leaf) in leaves.iter().enumerate() {
        let new = stored_hashes_for_leaf(i as u64, *leaf, &stored).unwrap();
        stored.extend(new);
    }
    (leaves, stored)
}

fn raw(hashes: &[Hash]) -> Vec<[u8; 32]> {
    hashes.iter().map(|h| h.0).collect()
}

/// Checks the root and every inclusion proof of `tree` (of `n` leaves) against ours, and
/// that each side verifies the other's proofs for the leaves in `cross`.
fn compare(
    tree: &MerkleTree<Rfc6962>,
    n: usize,
    stored: &[Hash],
    leaves: &[Hash],
    cross: &[usize],
) {
    let at_n = &stored[..stored_hash_count(n as u64) as usize];
    let root = tree_hash(n as u64, &at_n).unwrap();
    assert_eq!(tree.leaves_len(), n);
    assert_eq!(tree.root(), Some(root.0), "root of size {n}");
    for (i, leaf) in leaves.iter().enumerate().take(n) {
        let theirs = tree.proof(&[i]);
        let mine = inclusion_proof(n as u64, i as u64, &at_n).unwrap();
        assert_eq!(theirs.proof_hashes(), raw(&mine), "inclusion proof {i}/{n}");
        if cross.contains(&i) {
            let theirs: Vec<Hash> = theirs.proof_hashes().iter().map(|h| Hash(*h)).collect();
            verify_inclusion(i as u64, n as u64, leaf, &theirs, &root).unwrap();
            let mine = MerkleProof::<Rfc6962>::new(raw(&mine));
            assert!(
                mine.verify(root.0, &[i], &[leaf.0], n),
                "rs_merkle rejects {i}/{n}"
            );
        }
    }
}

#[test]
fn appended_one_commit_at_a_time_every_size_matches() {
    let (leaves, stored) = ours();
    let mut tree = MerkleTree::<Rfc6962>::new();
    for n in 1..=MAX {
        tree.insert(leaves[n - 1].0).commit();
        // Every leaf is cross-verified: each side accepts the other's proof.
        compare(&tree, n, &stored, &leaves, &(0..n).collect::<Vec<_>>());
    }
}

#[test]
fn built_from_leaves_every_size_matches() {
    let (leaves, stored) = ours();
    for n in 1..=MAX {
        let tree = MerkleTree::<Rfc6962>::from_leaves(&raw(&leaves[..n]));
        compare(&tree, n, &stored, &leaves, &[0, n - 1]);
    }
}

#[test]
fn appended_in_uneven_batches_matches() {
    // Commits of 1, 2, 3, ... leaves: the diff merge path with several new leaves at once.
    let (leaves, stored) = ours();
    let mut tree = MerkleTree::<Rfc6962>::new();
    let (mut n, mut batch) = (0, 1);
    while n + batch <= MAX {
        let mut new = raw(&leaves[n..n + batch]);
        tree.append(&mut new).commit();
        n += batch;
        batch += 1;
        compare(&tree, n, &stored, &leaves, &[0, n - 1]);
    }
}

#[test]
fn rs_merkle_accepts_trailing_hashes() {
    // A documented difference in the verifiers, not in the trees: rs_merkle stops once it
    // has a root and ignores what is left of the proof; RFC 9162 (and we) require the exact
    // length.
    let (leaves, stored) = ours();
    let n = 13;
    let at_n = &stored[..stored_hash_count(n as u64) as usize];
    let root = tree_hash(n as u64, &at_n).unwrap();
    let mut proof = inclusion_proof(n as u64, 5, &at_n).unwrap();
    proof.push(leaves[0]);
    assert!(MerkleProof::<Rfc6962>::new(raw(&proof)).verify(root.0, &[5], &[leaves[5].0], n));
    assert_eq!(
        verify_inclusion(5, n as u64, &leaves[5], &proof, &root),
        Err(ProofError::WrongLength { got: 5, want: 4 })
    );
}

#[test]
fn stock_sha256_is_not_rfc6962() {
    // rs_merkle's own Sha256 hashes `left || right` without the 0x01 prefix: every tree of
    // two or more leaves gets another root. (One leaf is its own root in both.)
    let (leaves, stored) = ours();
    for n in 1..=16usize {
        let stock = MerkleTree::<rs_merkle::algorithms::Sha256>::from_leaves(&raw(&leaves[..n]));
        let at_n = &stored[..stored_hash_count(n as u64) as usize];
        let ours = tree_hash(n as u64, &at_n).unwrap();
        assert_eq!(stock.root() == Some(ours.0), n == 1, "size {n}");
    }
}

#[test]
fn no_root_at_a_past_size_without_losing_commits() {
    // The only way back to an older root is rollback(), which discards the newer commits.
    let (leaves, stored) = ours();
    let mut tree = MerkleTree::<Rfc6962>::new();
    for leaf in &leaves[..10] {
        tree.insert(leaf.0).commit();
    }
    tree.rollback();
    tree.rollback();
    let at_8 = &stored[..stored_hash_count(8) as usize];
    assert_eq!(tree.root(), Some(tree_hash(8, &at_8).unwrap().0));
    assert_eq!(tree.leaves_len(), 8, "the two newest leaves are gone");
}
