//! Errors of this crate: bad arguments and storage failures ([`MerkleError`]) are kept apart
//! from proofs that do not verify ([`ProofError`]).

/// A failure to compute a hash or a proof: bad arguments, or a [`crate::HashReader`] that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size it was asked for.
        size: u64,
    },
    /// A consistency proof was asked between sizes that are not `old <= new`.
    #[error("invalid tree sizes for a consistency proof: {old} > {new}")]
    InvalidSizes {
        /// The older tree size.
        old: u64,
        /// The newer tree size.
        new: u64,
    },
    /// A tree size above [`crate::MAX_TREE_SIZE`], which the stored-hash layout cannot number.
    #[error("tree size {size} is above the largest supported size 2^63")]
    TreeTooLarge {
        /// The requested tree size.
        size: u64,
    },
    /// The hash reader answered with the wrong number of hashes.
    #[error("hash reader returned {got} hashes, want {want}")]
    ReaderCount {
        /// How many hashes were returned.
        got: usize,
        /// How many were asked for.
        want: usize,
    },
    /// A stored hash index that the store does not (yet) hold.
    #[error("stored hash {0} is not available")]
    MissingHash(u64),
    /// A tile's bytes are not a whole number of hashes, or too few for its width.
    #[error("malformed tile {tile}: {reason}")]
    MalformedTile {
        /// The tile's path.
        tile: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// The storage behind a reader failed.
    #[error("storage: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why a proof did not verify. Malformed proofs and proofs that fail are distinct variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The leaf index is not inside the tree the proof claims.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The sizes of a consistency proof are not `old <= new`.
    #[error("invalid tree sizes for a consistency proof: {old} > {new}")]
    InvalidSizes {
        /// The older tree size.
        old: u64,
        /// The newer tree size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for its sizes.
    #[error("proof has {got} hashes, want {want}")]
    WrongLength {
        /// How many hashes the proof has.
        got: usize,
        /// How many the sizes call for.
        want: usize,
    },
    /// The proof is well formed but does not lead to the expected root.
    #[error("proof does not match the root hash")]
    RootMismatch,
}
