//! RFC 6962 Merkle trees for an append-only log, in the stored-hash layout of Go's
//! `golang.org/x/mod/sumdb/tlog`, and the C2SP tlog-tiles coordinates and formats.
//!
//! Everything here is pure: no files, no sockets, no clock. Hashes come from storage through
//! the [`HashReader`] trait, so the tree can live in any append-only store.

#![forbid(unsafe_code)]

mod hash;

pub use hash::{empty_root, leaf_hash, node_hash, Hash, HASH_SIZE};
