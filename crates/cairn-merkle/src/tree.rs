//! The append-only tree in the stored-hash layout of Go's `golang.org/x/mod/sumdb/tlog`
//! (port of `tlog.go`: `StoredHashIndex`, `StoredHashesForRecordHash`, `TreeHash`,
//! `ProveRecord`, `ProveTree`).
//!
//! Every complete subtree of the tree (a leaf, or 2^k consecutive leaves starting at a multiple
//! of 2^k) has one *stored hash*. They are numbered in the order an append-only log writes
//! them: appending leaf `n` writes its leaf hash and then the hashes of the subtrees it
//! completes. So each append writes O(1) hashes amortised and never rewrites one, the root of
//! ANY past size is computable from stored hashes, and a proof is a pure function of which
//! stored hashes it needs ("planning", the `*_indexes` functions) plus a read of those hashes
//! through [`HashReader`] (async code fetches tiles in between).

use crate::{node_hash, Hash, MerkleError};

/// The largest tree the stored-hash layout can number: a tree of 2^63 leaves stores
/// 2^64 - 1 hashes, so its last stored-hash index is `u64::MAX - 1` and one more leaf would
/// overflow. The functions that take a tree size from outside return
/// [`MerkleError::TreeTooLarge`] above it.
pub const MAX_TREE_SIZE: u64 = 1 << 63;

fn check_size(size: u64) -> Result<(), MerkleError> {
    if size > MAX_TREE_SIZE {
        return Err(MerkleError::TreeTooLarge { size });
    }
    Ok(())
}

/// Reads stored hashes by their stored-hash index (see [`stored_hash_index`]).
pub trait HashReader {
    /// Returns the hashes at `indexes`, in the same order.
    ///
    /// # Errors
    /// Any storage failure, or [`MerkleError::MissingHash`] for an index not yet stored.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError>;
}

/// A flat vector of every stored hash, in stored-hash-index order, is a reader.
impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.get(i))
                    .copied()
                    .ok_or(MerkleError::MissingHash(i))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.as_slice().read_hashes(indexes)
    }
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        (**self).read_hashes(indexes)
    }
}

/// Returns the stored-hash index of the `n`th hash at `level` (level 0 holds leaf hashes,
/// level `l` the hashes of subtrees of 2^l leaves).
///
/// # Panics
/// If the subtree is not within the first [`MAX_TREE_SIZE`] leaves (plus the first leaf
/// after them), whose indexes do not fit in a `u64`.
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    // Level L's n'th hash is written right after level L+1's (2n+1)'th hash, so walk down
    // to the level-0 ordering, where leaf n is written at n + n/2 + n/4 + ...
    // That is the subtree's last leaf, (n + 1) * 2^level - 1.
    let last_leaf = 1u64
        .checked_shl(level)
        .and_then(|width| n.checked_add(1)?.checked_mul(width))
        .map(|end| end - 1)
        .filter(|&leaf| leaf <= MAX_TREE_SIZE);
    let Some(mut n) = last_leaf else {
        panic!("stored hash ({level}, {n}) is beyond the stored-hash layout's range");
    };
    // n <= 2^63 now, so the sum below is at most 2^64 - 1.
    let mut i = 0u64;
    while n > 0 {
        i += n;
        n >>= 1;
    }
    i + u64::from(level)
}

/// Returns the `(level, n)` of a stored-hash index; the inverse of [`stored_hash_index`].
pub fn split_stored_hash_index(index: u64) -> (u32, u64) {
    // stored_hash_index(0, n) < 2n, so the leaf written just before `index` is in
    // [index/2, index/2 + log2(index)].
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    debug_assert!(index_n <= index);
    // Leaf n+1 is written right after leaf n and the subtrees leaf n completed. (Checked:
    // for index u64::MAX, the leaf after the one found would be past u64::MAX.)
    while let Some(x) = index_n.checked_add(1 + u64::from((n + 1).trailing_zeros())) {
        if x > index {
            break;
        }
        n += 1;
        index_n = x;
    }
    // The hash was written with leaf n: it is one of (0, n), (1, n/2), (2, n/4), ...
    let level = (index - index_n) as u32;
    (level, n >> level)
}

/// Returns how many hashes a tree of `size` leaves stores.
///
/// # Panics
/// If `size` is above [`MAX_TREE_SIZE`].
pub fn stored_hash_count(size: u64) -> u64 {
    assert!(
        size <= MAX_TREE_SIZE,
        "tree size {size} is above MAX_TREE_SIZE"
    );
    if size == 0 {
        return 0;
    }
    // Everything up to the last leaf hash, plus the subtrees that leaf completes.
    stored_hash_index(0, size - 1) + 1 + u64::from((size - 1).trailing_ones())
}

/// Returns the stored-hash indexes whose hashes [`stored_hashes_for_leaf`] reads when leaf
/// `n` is appended: the left siblings of the subtrees that leaf `n` completes.
///
/// # Panics
/// If `n` is not below [`MAX_TREE_SIZE`] (the tree would outgrow the layout).
pub fn stored_hashes_for_leaf_indexes(n: u64) -> Vec<u64> {
    assert!(n < MAX_TREE_SIZE, "leaf {n} would outgrow MAX_TREE_SIZE");
    // Each trailing 1 bit of n completes a subtree, consuming the hash of its left half.
    let m = (n + 1).trailing_zeros();
    let mut indexes = vec![0u64; m as usize];
    for i in 0..m {
        // n >> i is odd here, so (n >> i) - 1 is its left sibling.
        indexes[(m - 1 - i) as usize] = stored_hash_index(i, (n >> i) - 1);
    }
    indexes
}

/// Returns the hashes to store when appending leaf `n` with leaf hash `leaf`: the leaf hash,
/// then the hash of each subtree it completes, in stored-hash-index order.
///
/// # Errors
/// [`MerkleError::TreeTooLarge`] if the tree would outgrow [`MAX_TREE_SIZE`], or whatever the
/// reader returns.
pub fn stored_hashes_for_leaf(
    n: u64,
    leaf: Hash,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, MerkleError> {
    check_size(n.saturating_add(1))?;
    let indexes = stored_hashes_for_leaf_indexes(n);
    let old = read_exact(reader, &indexes)?;
    let mut hashes = Vec::with_capacity(indexes.len() + 1);
    let mut h = leaf;
    hashes.push(h);
    for left in old.iter().rev() {
        h = node_hash(left, &h);
        hashes.push(h);
    }
    Ok(hashes)
}

/// Returns `(k, l)` with `k = 2^l` the largest power of two smaller than `n` (`n >= 2`).
fn maxpow2(n: u64) -> (u64, u32) {
    debug_assert!(n >= 2);
    let l = 63 - (n - 1).leading_zeros();
    (1u64 << l, l)
}

/// Appends the indexes of the maximal complete subtrees covering `[lo, hi)`, left to right.
fn sub_tree_index(mut lo: u64, hi: u64, need: &mut Vec<u64>) {
    while lo < hi {
        // The largest power of two not above hi - lo; lo is aligned to it by construction.
        let (k, level) = maxpow2(hi - lo + 1);
        debug_assert_eq!(lo & (k - 1), 0);
        need.push(stored_hash_index(level, lo >> level));
        lo += k;
    }
}

/// Computes the hash of `[lo, hi)` from the hashes [`sub_tree_index`] asked for, consuming them.
fn sub_tree_hash(mut lo: u64, hi: u64, hashes: &[Hash]) -> (Hash, &[Hash]) {
    let mut num_tree = 0;
    while lo < hi {
        let (k, _) = maxpow2(hi - lo + 1);
        num_tree += 1;
        lo += k;
    }
    // The planning functions asked for exactly these hashes, so the slice is long enough
    // unless this module has a bug.
    let mut h = hashes[num_tree - 1];
    for left in hashes[..num_tree - 1].iter().rev() {
        h = node_hash(left, &h);
    }
    (h, &hashes[num_tree..])
}

fn read_exact(reader: &impl HashReader, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::ReaderCount {
            got: hashes.len(),
            want: indexes.len(),
        });
    }
    Ok(hashes)
}

/// Returns the stored-hash indexes needed for the root of the tree of `size` leaves.
///
/// # Errors
/// [`MerkleError::TreeTooLarge`] above [`MAX_TREE_SIZE`].
pub fn tree_hash_indexes(size: u64) -> Result<Vec<u64>, MerkleError> {
    check_size(size)?;
    let mut need = Vec::new();
    sub_tree_index(0, size, &mut need);
    Ok(need)
}

/// Returns the root hash of the tree of `size` leaves (any size the reader has hashes for).
///
/// # Errors
/// [`MerkleError::TreeTooLarge`] above [`MAX_TREE_SIZE`], or whatever the reader returns.
pub fn tree_hash(size: u64, reader: &impl HashReader) -> Result<Hash, MerkleError> {
    let indexes = tree_hash_indexes(size)?;
    if size == 0 {
        return Ok(crate::empty_root());
    }
    let hashes = read_exact(reader, &indexes)?;
    Ok(sub_tree_hash(0, size, &hashes).0)
}

fn leaf_proof_index(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    // We must have lo <= n < hi or the code here has a bug.
    if lo + 1 == hi {
        return;
    }
    let (k, _) = maxpow2(hi - lo);
    if n < lo + k {
        leaf_proof_index(lo, lo + k, n, need);
        sub_tree_index(lo + k, hi, need);
    } else {
        sub_tree_index(lo, lo + k, need);
        leaf_proof_index(lo + k, hi, n, need);
    }
}

fn leaf_proof<'a>(lo: u64, hi: u64, n: u64, hashes: &'a [Hash], out: &mut Vec<Hash>) -> &'a [Hash] {
    if lo + 1 == hi {
        // The verifier knows the leaf hash; it is not part of the proof.
        return hashes;
    }
    let (k, _) = maxpow2(hi - lo);
    if n < lo + k {
        let rest = leaf_proof(lo, lo + k, n, hashes, out);
        let (th, rest) = sub_tree_hash(lo + k, hi, rest);
        out.push(th);
        rest
    } else {
        let (th, rest) = sub_tree_hash(lo, lo + k, hashes);
        let rest = leaf_proof(lo + k, hi, n, rest, out);
        out.push(th);
        rest
    }
}

/// Returns the stored-hash indexes an inclusion proof of leaf `index` in the tree of `size`
/// leaves needs.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] unless `index < size`, [`MerkleError::TreeTooLarge`]
/// above [`MAX_TREE_SIZE`].
pub fn inclusion_proof_indexes(size: u64, index: u64) -> Result<Vec<u64>, MerkleError> {
    check_size(size)?;
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut need = Vec::new();
    leaf_proof_index(0, size, index, &mut need);
    Ok(need)
}

/// Returns the RFC 6962 inclusion proof (audit path) of leaf `index` in the tree of `size`
/// leaves: sibling hashes from the leaf up to the root's child.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] unless `index < size`, [`MerkleError::TreeTooLarge`]
/// above [`MAX_TREE_SIZE`], or whatever the reader returns.
pub fn inclusion_proof(
    size: u64,
    index: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, MerkleError> {
    let hashes = read_exact(reader, &inclusion_proof_indexes(size, index)?)?;
    let mut proof = Vec::new();
    leaf_proof(0, size, index, &hashes, &mut proof);
    Ok(proof)
}

fn tree_proof_index(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    // We must have lo < n <= hi or the code here has a bug.
    if n == hi {
        if lo != 0 {
            sub_tree_index(lo, hi, need);
        }
        return;
    }
    let (k, _) = maxpow2(hi - lo);
    if n <= lo + k {
        tree_proof_index(lo, lo + k, n, need);
        sub_tree_index(lo + k, hi, need);
    } else {
        sub_tree_index(lo, lo + k, need);
        tree_proof_index(lo + k, hi, n, need);
    }
}

fn tree_proof<'a>(lo: u64, hi: u64, n: u64, hashes: &'a [Hash], out: &mut Vec<Hash>) -> &'a [Hash] {
    if n == hi {
        if lo == 0 {
            // Reached the old tree: the verifier has its root.
            return hashes;
        }
        let (th, rest) = sub_tree_hash(lo, hi, hashes);
        out.push(th);
        return rest;
    }
    let (k, _) = maxpow2(hi - lo);
    if n <= lo + k {
        let rest = tree_proof(lo, lo + k, n, hashes, out);
        let (th, rest) = sub_tree_hash(lo + k, hi, rest);
        out.push(th);
        rest
    } else {
        let (th, rest) = sub_tree_hash(lo, lo + k, hashes);
        let rest = tree_proof(lo + k, hi, n, rest, out);
        out.push(th);
        rest
    }
}

/// Returns the stored-hash indexes a consistency proof from `old_size` to `new_size` needs.
///
/// # Errors
/// [`MerkleError::InvalidSizes`] unless `old_size <= new_size`, [`MerkleError::TreeTooLarge`]
/// above [`MAX_TREE_SIZE`].
pub fn consistency_proof_indexes(old_size: u64, new_size: u64) -> Result<Vec<u64>, MerkleError> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(MerkleError::InvalidSizes {
            old: old_size,
            new: new_size,
        });
    }
    let mut need = Vec::new();
    // The empty tree is consistent with every tree, and a tree with itself: empty proofs.
    if old_size > 0 && old_size < new_size {
        tree_proof_index(0, new_size, old_size, &mut need);
    }
    Ok(need)
}

/// Returns the RFC 6962 consistency proof between the trees of `old_size` and `new_size`
/// leaves (empty when `old_size` is 0 or equal to `new_size`).
///
/// # Errors
/// [`MerkleError::InvalidSizes`] unless `old_size <= new_size`, [`MerkleError::TreeTooLarge`]
/// above [`MAX_TREE_SIZE`], or whatever the reader returns.
pub fn consistency_proof(
    old_size: u64,
    new_size: u64,
    reader: &impl HashReader,
) -> Result<Vec<Hash>, MerkleError> {
    let hashes = read_exact(reader, &consistency_proof_indexes(old_size, new_size)?)?;
    let mut proof = Vec::new();
    if old_size > 0 && old_size < new_size {
        tree_proof(0, new_size, old_size, &hashes, &mut proof);
    }
    Ok(proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf_hash;

    #[test]
    fn stored_hash_index_round_trips() {
        for index in 0..10_000u64 {
            let (level, n) = split_stored_hash_index(index);
            assert_eq!(stored_hash_index(level, n), index, "index {index}");
        }
    }

    #[test]
    fn stored_hash_count_matches_appends() {
        let mut stored: Vec<Hash> = Vec::new();
        for n in 0..600u64 {
            assert_eq!(stored_hash_count(n), stored.len() as u64);
            let hs = stored_hashes_for_leaf(n, leaf_hash(&n.to_be_bytes()), &stored).unwrap();
            stored.extend(hs);
        }
    }

    #[test]
    fn maxpow2_is_strictly_smaller() {
        for n in 2..5000u64 {
            let (k, l) = maxpow2(n);
            assert_eq!(k, 1 << l);
            assert!(k < n && 2 * k >= n, "n={n} k={k}");
        }
        assert_eq!(maxpow2(u64::MAX).0, 1 << 63);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let stored: Vec<Hash> = Vec::new();
        assert!(matches!(
            inclusion_proof(3, 3, &stored),
            Err(MerkleError::IndexOutOfRange { index: 3, size: 3 })
        ));
        assert!(matches!(
            consistency_proof(4, 3, &stored),
            Err(MerkleError::InvalidSizes { old: 4, new: 3 })
        ));
        assert!(matches!(
            tree_hash(1, &stored),
            Err(MerkleError::MissingHash(0))
        ));
    }
}
