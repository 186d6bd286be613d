//! Regression tests for bugs the test layers found, one function per bug, each naming what
//! broke (there is no issue tracker number for them yet).

use cairn_merkle::tiles::{Tile, TileHashReader, TileReader};
use cairn_merkle::{
    consistency_proof, consistency_proof_indexes, inclusion_proof, inclusion_proof_indexes,
    leaf_hash, split_stored_hash_index, stored_hash_count, stored_hash_index,
    stored_hashes_for_leaf, tree_hash, tree_hash_indexes, verify_consistency, verify_inclusion,
    Hash, MerkleError, ProofError, MAX_TREE_SIZE,
};
use sha2::{Digest, Sha256};

/// Bug: `verify_inclusion` and `verify_consistency` computed the expected proof length with
/// `x >> inner`, and `inner` is 64 when two paths of a tree of more than 2^63 leaves already
/// differ below the root. Debug builds panicked ("shift right with overflow") on such
/// untrusted sizes; release builds shifted by 0 and rejected valid proofs with WrongLength
/// whenever the shifted value had bits set. Fixed with a shift that yields 0 at 64.
#[test]
fn verifiers_handle_trees_of_more_than_2_63_leaves() {
    let sizes = [
        MAX_TREE_SIZE,
        MAX_TREE_SIZE + 1,
        MAX_TREE_SIZE + (1 << 62) + 7,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut checked = 0;
    for size in sizes {
        for index in [
            0,
            1,
            5,
            (1 << 62) + 3,
            MAX_TREE_SIZE - 1,
            MAX_TREE_SIZE,
            size - 2,
            size - 1,
        ] {
            if index >= size {
                continue;
            }
            let tree = Virtual { index, old: 0 };
            let root = tree.mth(0, size);
            let leaf = tree.mth(index, index + 1);
            let proof = tree.path(index, 0, size);
            assert_eq!(
                verify_inclusion(index, size, &leaf, &proof, &root),
                Ok(()),
                "{index}/{size}"
            );
            let mut bad = proof.clone();
            bad[proof.len() / 2].0[0] ^= 1;
            assert_eq!(
                verify_inclusion(index, size, &leaf, &bad, &root),
                Err(ProofError::RootMismatch)
            );
            assert!(matches!(
                verify_inclusion(index, size, &leaf, &proof[1..], &root),
                Err(ProofError::WrongLength { .. })
            ));
            checked += 1;
        }
        for old in [
            1,
            3,
            1 << 62,
            MAX_TREE_SIZE - 1,
            MAX_TREE_SIZE,
            MAX_TREE_SIZE + 1,
            size - 1,
        ] {
            if old >= size {
                continue;
            }
            let tree = Virtual { index: 0, old };
            let (old_root, new_root) = (tree.mth(0, old), tree.mth(0, size));
            let proof = tree.subproof(old, 0, size, true);
            assert_eq!(
                verify_consistency(old, size, &old_root, &new_root, &proof),
                Ok(()),
                "{old}->{size}"
            );
            let mut bad = proof.clone();
            bad[0].0[31] ^= 0x80;
            assert_eq!(
                verify_consistency(old, size, &old_root, &new_root, &bad),
                Err(ProofError::RootMismatch)
            );
            checked += 1;
        }
    }
    assert!(checked > 50);
}

/// Bug: the planning functions overflowed (debug: panic; release: garbage indexes) on tree
/// sizes above 2^63, which the stored-hash layout cannot number, and a checkpoint from an
/// untrusted log can claim any size. Fixed: `MAX_TREE_SIZE` and `MerkleError::TreeTooLarge`,
/// and `split_stored_hash_index` no longer overflows at `u64::MAX`.
#[test]
fn sizes_beyond_the_stored_hash_layout_are_errors() {
    let empty: Vec<Hash> = Vec::new();
    fn too_large<T>(r: Result<T, MerkleError>) -> bool {
        matches!(r, Err(MerkleError::TreeTooLarge { .. }))
    }
    for size in [MAX_TREE_SIZE + 1, u64::MAX] {
        assert!(too_large(tree_hash_indexes(size)));
        assert!(too_large(tree_hash(size, &empty)));
        assert!(too_large(inclusion_proof_indexes(size, 0)));
        assert!(too_large(inclusion_proof(size, size - 1, &empty)));
        assert!(too_large(consistency_proof_indexes(1, size)));
        assert!(too_large(consistency_proof(size - 1, size, &empty)));
        let tiles = TileHashReader::new(size, NoTiles);
        assert!(too_large(tree_hash(size, &tiles)));
    }
    assert!(too_large(stored_hashes_for_leaf(
        MAX_TREE_SIZE,
        leaf_hash(b""),
        &empty
    )));

    // The largest tree is still planned: its last stored hash is u64::MAX - 1, and the leaf
    // after it would be stored at u64::MAX.
    assert_eq!(stored_hash_count(MAX_TREE_SIZE), u64::MAX);
    assert_eq!(stored_hash_index(0, MAX_TREE_SIZE), u64::MAX);
    assert_eq!(split_stored_hash_index(u64::MAX), (0, MAX_TREE_SIZE));
    for index in u64::MAX - 300..=u64::MAX {
        let (level, n) = split_stored_hash_index(index);
        assert_eq!(stored_hash_index(level, n), index);
        let _ = Tile::for_stored_hash(index);
    }
    let last = MAX_TREE_SIZE - 1;
    let need = inclusion_proof_indexes(MAX_TREE_SIZE, last).unwrap();
    assert_eq!(need.len(), 63);
    assert!(need.iter().all(|&i| i < stored_hash_count(MAX_TREE_SIZE)));
    assert_eq!(
        tree_hash_indexes(MAX_TREE_SIZE).unwrap(),
        [stored_hash_index(63, 0)]
    );
    assert_eq!(
        consistency_proof_indexes(last, MAX_TREE_SIZE)
            .unwrap()
            .len(),
        64
    );
    // Through tiles (all zero here): planned, fetched and combined without overflow.
    let tiles = TileHashReader::new(MAX_TREE_SIZE, ZeroTiles);
    assert_eq!(
        inclusion_proof(MAX_TREE_SIZE, last, &tiles).unwrap().len(),
        63
    );
}

/// Serves no tile.
struct NoTiles;

impl TileReader for NoTiles {
    fn read_tiles(&self, _: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        Err(MerkleError::Storage("no tiles".into()))
    }
}

/// Serves every tile full of zero hashes.
struct ZeroTiles;

impl TileReader for ZeroTiles {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        Ok(tiles
            .iter()
            .map(|t| vec![0; usize::from(t.width()) * 32])
            .collect())
    }
}

/// A tree too large to build. The hash of a perfect, aligned subtree that holds neither the
/// proved leaf `index` nor the old-size boundary `old` is an arbitrary value derived from its
/// range (any such values are the hashes of some tree); every other subtree is hashed from
/// its RFC 6962 children. So roots and proofs of any size up to 2^64 - 1 cost a few thousand
/// hashes, and they are the real ones of a tree with those subtrees.
struct Virtual {
    index: u64,
    old: u64,
}

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

/// "k is the largest power of two smaller than n", for any n >= 2 up to u64::MAX.
fn largest_power_of_two_below(n: u64) -> u64 {
    let mut k = 1u64;
    while let Some(k2) = k.checked_mul(2).filter(|&k2| k2 < n) {
        k = k2;
    }
    k
}

impl Virtual {
    fn mth(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        let perfect = n.is_power_of_two() && lo % n == 0;
        let holds_leaf = lo <= self.index && self.index < hi;
        let splits_old = lo < self.old && self.old < hi;
        if n == 1 || (perfect && !holds_leaf && !splits_old) {
            return sha256(&[b"virtual subtree", &lo.to_be_bytes(), &hi.to_be_bytes()]);
        }
        let k = largest_power_of_two_below(n);
        let (l, r) = (self.mth(lo, lo + k), self.mth(lo + k, hi));
        sha256(&[&[0x01], &l.0, &r.0])
    }

    /// RFC 6962 PATH(m, D[lo:hi]), m relative to lo.
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

    /// RFC 6962 SUBPROOF(m, D[lo:hi], b).
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
}
