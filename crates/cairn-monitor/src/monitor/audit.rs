//! The full audit of a log's growth, as pure functions (no I/O): recompute every hash tile
//! the new entries change, level 0 from the entries and each level from the one below,
//! compare each with the tile the log serves, and the root with the signed checkpoint.
//!
//! The monitor keeps the right edge of the verified tree ([`Edge`]): for each tile level, the
//! hashes of the rightmost, not yet full tile. That is all an append needs (as in the log's
//! own sequencer), so an audit from size `old` to `new` costs O(new - old), whatever the size
//! of the log, and never trusts a hash the log serves: every hash it compares is one it
//! computed, from the entries up.

use cairn_merkle::tiles::{new_tiles, Tile, TILE_WIDTH};
use cairn_merkle::{empty_root, node_hash, Hash, HASH_SIZE};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The right edge of a tree: `levels[L]` holds the hashes of the rightmost tile at tile level
/// `L` (fewer than 256; a tile that fills is carried up one level as its root).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    #[serde(with = "hash_levels")]
    levels: Vec<Vec<Hash>>,
}

impl Edge {
    /// Returns the edge of the empty tree.
    pub fn new() -> Edge {
        Edge::default()
    }

    /// Returns the number of leaves of the tree this edge is the edge of.
    pub fn size(&self) -> u64 {
        self.levels
            .iter()
            .enumerate()
            .map(|(l, hashes)| (hashes.len() as u64) << (8 * l as u32))
            .sum()
    }

    /// Returns the leaf hashes of the rightmost, partial level-0 tile.
    pub fn partial_leaves(&self) -> &[Hash] {
        self.levels.first().map(Vec::as_slice).unwrap_or(&[])
    }

    /// Appends a leaf hash; returns the tiles it completed (level, index, hashes), lowest first.
    pub fn push(&mut self, leaf: Hash) -> Vec<(Tile, Vec<Hash>)> {
        let mut done = Vec::new();
        let mut h = leaf;
        // Index of `h` within its level, counting every hash of that level ever pushed.
        let mut pos = self.size();
        for level in 0u8.. {
            let l = usize::from(level);
            if self.levels.len() <= l {
                self.levels.push(Vec::new());
            }
            self.levels[l].push(h);
            if self.levels[l].len() as u64 != TILE_WIDTH {
                break;
            }
            let full = std::mem::take(&mut self.levels[l]);
            h = subtree_root(&full);
            // A full tile never fails Tile::new: width 256, index below 2^56.
            if let Ok(tile) = Tile::new(level, pos / TILE_WIDTH, TILE_WIDTH as u16) {
                done.push((tile, full));
            }
            pos /= TILE_WIDTH;
        }
        done
    }

    /// Returns the partial tiles of the edge (level, index, hashes), at the edge's size.
    pub fn partial_tiles(&self) -> Vec<(Tile, Vec<Hash>)> {
        let size = self.size();
        let mut out = Vec::new();
        for (l, hashes) in self.levels.iter().enumerate() {
            if hashes.is_empty() {
                continue;
            }
            let shift = 8 * (l as u32 + 1);
            let index = size.checked_shr(shift).unwrap_or(0);
            if let Ok(tile) = Tile::new(l as u8, index, hashes.len() as u16) {
                out.push((tile, hashes.clone()));
            }
        }
        out
    }

    /// Returns the RFC 6962 root of the tree.
    pub fn root(&self) -> Hash {
        // The tree is the sequence of complete subtrees the edge holds, highest level first;
        // within a level, the hashes split into power-of-two runs by the bits of their count.
        // RFC 6962's root folds those perfect subtrees from the right.
        let mut perfect: Vec<Hash> = Vec::new();
        for hashes in self.levels.iter().rev() {
            let mut rest: &[Hash] = hashes;
            while !rest.is_empty() {
                let run = 1usize << (usize::BITS - 1 - rest.len().leading_zeros());
                perfect.push(subtree_root(&rest[..run]));
                rest = &rest[run..];
            }
        }
        let Some((last, init)) = perfect.split_last() else {
            return empty_root();
        };
        init.iter().rev().fold(*last, |acc, h| node_hash(h, &acc))
    }
}

/// Root of a run of hashes whose length is a power of two.
fn subtree_root(hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level.first().copied().unwrap_or_else(empty_root)
}

/// Returns a tile's bytes: its hashes, concatenated.
pub fn tile_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// What an audit found wrong. Each is evidence against the log (or whoever serves it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditFailure {
    /// A served tile differs from the one recomputed from the entries.
    #[error("tile {} differs from the one recomputed from the entries", .tile.path())]
    TileMismatch {
        /// The tile.
        tile: Tile,
        /// Its bytes recomputed from the entries.
        expected: Vec<u8>,
        /// Its bytes as served.
        served: Vec<u8>,
    },
    /// The entries hash to another root than the signed checkpoint's.
    #[error("the entries give root {computed} at size {size}, the checkpoint says {signed}")]
    RootMismatch {
        /// The tree size.
        size: u64,
        /// The root recomputed from the entries.
        computed: Hash,
        /// The root in the signed checkpoint.
        signed: Hash,
    },
    /// An entry bundle re-serves entries already audited with other contents.
    #[error("entry bundle {} changes entry {index}, audited before", .tile.entries_path())]
    RewrittenEntry {
        /// The bundle.
        tile: Tile,
        /// The entry's index.
        index: u64,
    },
    /// An entry bundle is malformed or has the wrong number of entries.
    #[error("entry bundle {}: {reason}", .tile.entries_path())]
    BadBundle {
        /// The bundle.
        tile: Tile,
        /// What was wrong.
        reason: String,
    },
    /// The audit was fed out of order or finished early: a bug in the caller, not evidence.
    #[error("audit misuse: {0}")]
    Misuse(&'static str),
}

/// The audit of one growth of the tree, from the verified `old` size (with its edge) to a
/// signed checkpoint's size and root. Feed it every entry bundle in order
/// ([`Audit::push_bundle`]), give it the served version of every tile it asks for
/// ([`Audit::check_tile`]), then [`Audit::finish`]; only a finished audit advances the
/// monitor's state.
#[derive(Debug)]
pub struct Audit {
    old_size: u64,
    new_size: u64,
    new_root: Hash,
    edge: Edge,
    /// Tiles recomputed but not yet compared with the served ones.
    expected: BTreeMap<Tile, Vec<u8>>,
    /// Every tile the growth changes and that must be compared before finishing.
    unchecked: BTreeSet<Tile>,
}

/// A growth of the tree that passed the audit; the only way to advance a monitor's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedTree {
    pub(crate) old_size: u64,
    pub(crate) size: u64,
    pub(crate) root: Hash,
    pub(crate) edge: Edge,
}

impl AuditedTree {
    /// Returns the audited size.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Audit {
    /// Starts an audit from the verified `edge` (whose size is the old size) to the checkpoint
    /// of `new_size` leaves and root `new_root`.
    ///
    /// # Errors
    /// [`AuditFailure::Misuse`] if `new_size` is below the edge's size.
    pub fn new(edge: &Edge, new_size: u64, new_root: Hash) -> Result<Audit, AuditFailure> {
        let old_size = edge.size();
        if new_size < old_size {
            return Err(AuditFailure::Misuse(
                "the new size is below the audited size",
            ));
        }
        Ok(Audit {
            old_size,
            new_size,
            new_root,
            edge: edge.clone(),
            expected: BTreeMap::new(),
            unchecked: new_tiles(old_size, new_size).into_iter().collect(),
        })
    }

    /// Returns the entry bundles to feed, in order, at their width for the new size.
    pub fn bundles(&self) -> Vec<Tile> {
        let first = self.old_size / TILE_WIDTH;
        let end = self.new_size.div_ceil(TILE_WIDTH);
        (first..end)
            .filter_map(|n| Tile::at_size(0, n, self.new_size))
            .collect()
    }

    /// Returns the index of the next entry to feed.
    pub fn next_index(&self) -> u64 {
        self.edge.size()
    }

    /// Feeds the leaf hashes of entry bundle `tile` (all of them, including entries audited
    /// before in a partial bundle, which must be unchanged). Returns the tiles this completed,
    /// which the caller fetches and hands to [`Audit::check_tile`].
    ///
    /// # Errors
    /// [`AuditFailure::RewrittenEntry`] when an entry audited before changed;
    /// [`AuditFailure::BadBundle`] for a wrong count; [`AuditFailure::Misuse`] out of order.
    pub fn push_bundle(&mut self, tile: Tile, leaves: &[Hash]) -> Result<Vec<Tile>, AuditFailure> {
        let start = tile.index() * TILE_WIDTH;
        let next = self.edge.size();
        if tile.level() != 0 || start > next || start + TILE_WIDTH <= next {
            return Err(AuditFailure::Misuse("bundle fed out of order"));
        }
        if Tile::at_size(0, tile.index(), self.new_size) != Some(tile) {
            return Err(AuditFailure::Misuse("bundle of the wrong width"));
        }
        if leaves.len() != usize::from(tile.width()) {
            return Err(AuditFailure::BadBundle {
                tile,
                reason: format!("{} entries, want {}", leaves.len(), tile.width()),
            });
        }
        // Entries of this bundle audited in an earlier round must be the same ones.
        let seen = (next - start) as usize;
        for (i, (old, new)) in self.edge.partial_leaves().iter().zip(leaves).enumerate() {
            if old != new {
                return Err(AuditFailure::RewrittenEntry {
                    tile,
                    index: start + i as u64,
                });
            }
        }
        let mut ready = Vec::new();
        for leaf in &leaves[seen..] {
            for (t, hashes) in self.edge.push(*leaf) {
                self.expected.insert(t, tile_bytes(&hashes));
                ready.push(t);
            }
        }
        Ok(ready)
    }

    /// Returns the partial tiles of the new tree still to be compared; ask once every bundle
    /// is fed.
    pub fn remaining_tiles(&mut self) -> Vec<Tile> {
        let mut out = Vec::new();
        if self.edge.size() != self.new_size {
            return out;
        }
        for (tile, hashes) in self.edge.partial_tiles() {
            if self.unchecked.contains(&tile) {
                self.expected.insert(tile, tile_bytes(&hashes));
                out.push(tile);
            }
        }
        out
    }

    /// Compares a served tile with the recomputed one.
    ///
    /// # Errors
    /// [`AuditFailure::TileMismatch`], or [`AuditFailure::Misuse`] for a tile not asked for.
    pub fn check_tile(&mut self, tile: Tile, served: &[u8]) -> Result<(), AuditFailure> {
        let expected = self
            .expected
            .remove(&tile)
            .ok_or(AuditFailure::Misuse("a tile that was not asked for"))?;
        if expected != served {
            return Err(AuditFailure::TileMismatch {
                tile,
                expected,
                served: served.to_vec(),
            });
        }
        self.unchecked.remove(&tile);
        Ok(())
    }

    /// Finishes: every bundle fed, every changed tile compared, and the root recomputed from
    /// the entries equal to the checkpoint's.
    ///
    /// # Errors
    /// [`AuditFailure::RootMismatch`], or [`AuditFailure::Misuse`] if anything was left out.
    pub fn finish(self) -> Result<AuditedTree, AuditFailure> {
        if self.edge.size() != self.new_size {
            return Err(AuditFailure::Misuse("finished before every entry was fed"));
        }
        if !self.unchecked.is_empty() || !self.expected.is_empty() {
            return Err(AuditFailure::Misuse(
                "finished before every tile was compared",
            ));
        }
        let computed = self.edge.root();
        if computed != self.new_root {
            return Err(AuditFailure::RootMismatch {
                size: self.new_size,
                computed,
                signed: self.new_root,
            });
        }
        Ok(AuditedTree {
            old_size: self.old_size,
            size: self.new_size,
            root: computed,
            edge: self.edge,
        })
    }
}

/// Serialises hash levels as lists of base64 strings.
mod hash_levels {
    use cairn_merkle::Hash;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[Vec<Hash>], s: S) -> Result<S::Ok, S::Error> {
        let text: Vec<Vec<String>> = v
            .iter()
            .map(|l| l.iter().map(Hash::to_base64).collect())
            .collect();
        text.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Hash>>, D::Error> {
        let text: Vec<Vec<String>> = Vec::deserialize(d)?;
        let levels: Vec<Vec<Hash>> = text
            .iter()
            .map(|l| {
                l.iter()
                    .map(|h| Hash::from_base64(h).ok_or_else(|| D::Error::custom("bad hash")))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        if levels.iter().any(|l| l.len() as u64 >= super::TILE_WIDTH) {
            return Err(D::Error::custom("an edge level holds a full tile"));
        }
        Ok(levels)
    }
}

/// The size of one hash in a tile, for callers checking served lengths.
pub const TILE_HASH_BYTES: usize = HASH_SIZE;

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_merkle::tiles::read_tile_data;
    use cairn_merkle::{leaf_hash, stored_hashes_for_leaf, tree_hash};

    fn leaves(n: u64, tag: &str) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("{tag}{i}").as_bytes()))
            .collect()
    }

    fn stored(leaves: &[Hash]) -> Vec<Hash> {
        let mut s = Vec::new();
        for (i, l) in leaves.iter().enumerate() {
            let new = stored_hashes_for_leaf(i as u64, *l, &s).unwrap();
            s.extend(new);
        }
        s
    }

    #[test]
    fn edge_root_matches_the_reference_for_many_sizes() {
        let all = leaves(70_000, "x");
        let s = stored(&all);
        let mut edge = Edge::new();
        assert_eq!(edge.root(), empty_root());
        for (i, l) in all.iter().enumerate() {
            edge.push(*l);
            let n = i as u64 + 1;
            if n < 600 || n % 997 == 0 || n == 65_536 || n == 65_537 {
                assert_eq!(edge.size(), n);
                assert_eq!(edge.root(), tree_hash(n, &s).unwrap(), "size {n}");
            }
        }
    }

    /// Runs an audit from `old` to `new` with tiles served by `served`.
    fn audit(
        all: &[Hash],
        edge: &Edge,
        new: u64,
        root: Hash,
        served: impl Fn(Tile) -> Vec<u8>,
    ) -> Result<AuditedTree, AuditFailure> {
        let mut a = Audit::new(edge, new, root)?;
        for b in a.bundles() {
            let start = (b.index() * 256) as usize;
            let ready = a.push_bundle(b, &all[start..start + usize::from(b.width())])?;
            for t in ready {
                a.check_tile(t, &served(t))?;
            }
        }
        for t in a.remaining_tiles() {
            a.check_tile(t, &served(t))?;
        }
        a.finish()
    }

    #[test]
    fn audits_growth_in_steps_and_detects_every_kind_of_lie() {
        let all = leaves(70_000, "x");
        let s = stored(&all);
        let serve = |t: Tile| read_tile_data(t, &s).unwrap();
        let mut edge = Edge::new();
        for new in [0u64, 1, 255, 256, 257, 1000, 65_535, 65_536, 65_537, 70_000] {
            let root = tree_hash(new, &s).unwrap();
            let done = audit(&all, &edge, new, root, serve).unwrap();
            assert_eq!(done.size(), new);
            edge = done.edge;
        }
        // A root that the entries do not give.
        let mut e = Edge::new();
        for l in &all[..1000] {
            e.push(*l);
        }
        assert!(matches!(
            audit(&all, &e, 2000, Hash([9; 32]), serve),
            Err(AuditFailure::RootMismatch { .. })
        ));
        // A tampered full tile, and a tampered partial tile.
        for bad in [Tile::new(0, 5, 256).unwrap(), Tile::new(0, 7, 208).unwrap()] {
            let r = audit(&all, &e, 2000, tree_hash(2000, &s).unwrap(), |t| {
                let mut d = read_tile_data(t, &s).unwrap();
                if t == bad {
                    d[40] ^= 1;
                }
                d
            });
            assert!(
                matches!(&r, Err(AuditFailure::TileMismatch { tile, .. }) if *tile == bad),
                "{r:?}"
            );
        }
        // A bundle that rewrites an entry audited before.
        let mut rewritten = all.clone();
        rewritten[999] = Hash([1; 32]);
        assert!(matches!(
            audit(&rewritten, &e, 2000, tree_hash(2000, &s).unwrap(), serve),
            Err(AuditFailure::RewrittenEntry { index: 999, .. })
        ));
    }

    #[test]
    fn misuse_is_refused() {
        let all = leaves(600, "x");
        let s = stored(&all);
        let root = tree_hash(600, &s).unwrap();
        let mut a = Audit::new(&Edge::new(), 600, root).unwrap();
        let b = a.bundles();
        assert_eq!(b.len(), 3);
        assert!(a.push_bundle(b[1], &all[256..512]).is_err());
        assert!(a.push_bundle(b[0], &all[..255]).is_err());
        let ready = a.push_bundle(b[0], &all[..256]).unwrap();
        assert_eq!(ready, vec![Tile::new(0, 0, 256).unwrap()]);
        assert!(a.check_tile(Tile::new(0, 1, 256).unwrap(), &[]).is_err());
        let mut edge = Edge::new();
        edge.push(all[0]);
        edge.push(all[1]);
        assert!(Audit::new(&edge, 1, root).is_err());
    }

    #[test]
    fn edge_serialises_and_rejects_full_levels() {
        let mut e = Edge::new();
        for l in leaves(300, "y") {
            e.push(l);
        }
        let json = serde_json::to_string(&e).unwrap();
        let back: Edge = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        let full = format!(
            "{{\"levels\":[[{}]]}}",
            vec!["\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""; 256].join(",")
        );
        assert!(serde_json::from_str::<Edge>(&full).is_err());
    }
}
