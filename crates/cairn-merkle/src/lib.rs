//! RFC 6962 Merkle trees for an append-only log, in the stored-hash layout of Go's
//! `golang.org/x/mod/sumdb/tlog`, and the C2SP tlog-tiles coordinates and formats.
//!
//! Everything here is pure: no files, no sockets, no clock. Hashes come from storage through
//! the [`HashReader`] trait, so the tree can live in any append-only store, and every proof
//! has two forms: the stored-hash indexes it needs (`*_indexes`, pure index math) and the
//! proof built from those hashes.
//!
//! ```
//! use cairn_merkle::*;
//! // Append three leaves to a flat vector of stored hashes.
//! let mut stored: Vec<Hash> = Vec::new();
//! for (n, entry) in [b"a", b"b", b"c"].iter().enumerate() {
//!     let new = stored_hashes_for_leaf(n as u64, leaf_hash(*entry), &stored).unwrap();
//!     stored.extend(new);
//! }
//! let root = tree_hash(3, &stored).unwrap();
//! let proof = inclusion_proof(3, 1, &stored).unwrap();
//! verify_inclusion(1, 3, &leaf_hash(b"b"), &proof, &root).unwrap();
//! let old = tree_hash(2, &stored).unwrap();
//! let proof = consistency_proof(2, 3, &stored).unwrap();
//! verify_consistency(2, 3, &old, &root, &proof).unwrap();
//! ```
//!
//! It does not hold a tree in memory or decide where hashes live: the log engine does.

#![forbid(unsafe_code)]

mod error;
mod hash;
pub mod tiles;
mod tree;
mod verify;

pub use error::{MerkleError, ProofError};
pub use hash::{empty_root, leaf_hash, node_hash, Hash, HASH_SIZE};
pub use tree::{
    consistency_proof, consistency_proof_indexes, inclusion_proof, inclusion_proof_indexes,
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes_for_leaf,
    stored_hashes_for_leaf_indexes, tree_hash, tree_hash_indexes, HashReader, MAX_TREE_SIZE,
};
pub use verify::{verify_consistency, verify_inclusion};
