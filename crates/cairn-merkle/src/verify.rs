//! Proof verification: the iterative algorithms of RFC 9162 §2.1.3.2 (inclusion) and
//! §2.1.4.2 (consistency). They need no storage, only the proof and the roots.

use crate::{node_hash, Hash, ProofError};

/// Returns the number of hashes an inclusion proof of `index` in a tree of `size` has.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    // The path has one hash per level where the leaf's and the last leaf's paths still
    // differ, plus one per level above where they merge that has a left sibling.
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    (inner + above(index, inner).count_ones()) as usize
}

/// Returns `x >> bits`, which is 0 when `bits` is 64: the paths of two leaves of a tree of
/// more than 2^63 leaves can differ from the top level, and a plain `>>` by 64 panics in
/// debug builds and is a shift by 0 in release builds.
fn above(x: u64, bits: u32) -> u64 {
    x.checked_shr(bits).unwrap_or(0)
}

/// Checks that `proof` proves the leaf with hash `leaf` at `index` in the tree of `size`
/// leaves whose root is `root`.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] or [`ProofError::WrongLength`] for a malformed proof,
/// [`ProofError::RootMismatch`] for one that does not lead to `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let want = inclusion_proof_len(index, size);
    if proof.len() != want {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            want,
        });
    }
    if &root_from_inclusion(index, size, leaf, proof) == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// Returns the root that an inclusion proof leads to (RFC 9162 §2.1.3.2); the caller has
/// checked `index < size` and the proof length.
fn root_from_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash]) -> Hash {
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    r
}

/// Checks that `proof` proves the tree of `old_size` leaves with root `old_root` is a prefix
/// of the tree of `new_size` leaves with root `new_root`.
///
/// The empty tree is a prefix of every tree (with an empty proof), and a tree of a prefix of
/// itself only with an equal root and an empty proof.
///
/// # Errors
/// [`ProofError::InvalidSizes`] or [`ProofError::WrongLength`] for a malformed proof,
/// [`ProofError::RootMismatch`] for one that does not match the roots.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::InvalidSizes {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                got: proof.len(),
                want: 0,
            });
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    // Proof length: the old tree's right edge is walked from its lowest set bit.
    let shift = old_size.trailing_zeros();
    let (first, last) = ((old_size - 1) >> shift, (new_size - 1) >> shift);
    let inner = 64 - (first ^ last).leading_zeros();
    let border = above(first, inner).count_ones();
    let starts_with_old = first == 0; // old_size is a power of two times the shifted unit
    let want = (inner + border) as usize + usize::from(!starts_with_old);
    if proof.len() != want {
        return Err(ProofError::WrongLength {
            got: proof.len(),
            want,
        });
    }
    // RFC 9162: if the old size is an exact power of two, the old root starts the path.
    let mut path = proof;
    let seed = if old_size.is_power_of_two() {
        *old_root
    } else {
        let (s, rest) = path
            .split_first()
            .ok_or(ProofError::WrongLength { got: 0, want })?;
        path = rest;
        *s
    };
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (seed, seed);
    for c in path {
        if s_n == 0 {
            return Err(ProofError::RootMismatch);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n == 0 && &f_r == old_root && &s_r == new_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}
