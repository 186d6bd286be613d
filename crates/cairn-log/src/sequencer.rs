//! The sequencer: the one owner of the tree. It turns a batch of pending entries into one
//! durable commit, and only then hands out indexes, the new checkpoint and inclusion proofs.
//!
//! Durability order of one round (`docs/durability.md` has the same list):
//! 1. Deduplicate against the batch and the store; assign indexes; extend the in-memory right
//!    edge of the tree (a copy: the live edge changes only after step 3).
//!    A crash here loses only unanswered entries; clients retry, and dedup makes that safe.
//! 2. Compute the new root from the right-edge tiles and sign the checkpoint.
//!    A crash here: the same. The signed checkpoint was never published.
//! 3. Commit entries, dedup rows, changed tiles and the new state (with the signed
//!    checkpoint) in ONE atomic, durable compare-and-swap on the old size.
//!    A crash before the commit returns leaves the old state whole (the store is atomic); a
//!    crash after leaves the new state whole, and a retry of any entry finds it by dedup.
//!    A failed commit is fatal: the outcome is unknown, so the sequencer stops, and a restart
//!    reloads whatever the store holds through the same `open` path as every start.
//! 4. Only now publish: swap in the new edge and state, build the inclusion proofs, answer.
//!
//! Start-up ([`Sequencer::open`]) reads the state and the right-edge tiles, O(log n) reads
//! whatever the log's size, recomputes the root from those tiles and refuses to run if it does
//! not match the signed state.

use crate::store::{CommitBatch, LogMeta, LogStore, NewEntry, StoreError, TreeState};
use cairn_merkle::tiles::{Tile, TileHashReader, TileNodes, TileReader, TILE_WIDTH};
use cairn_merkle::{inclusion_proof, node_hash, tree_hash, Hash, MerkleError};
use cairn_note::{sign_checkpoint, Checkpoint, NoteError, NoteSigner, Origin};
use std::collections::HashMap;

/// Gives the sequencer the time; the core never reads the clock itself.
pub trait Clock: Send + Sync {
    /// Returns the current time in seconds since the Unix epoch.
    fn unix_seconds(&self) -> u64;
}

/// Why the sequencer cannot go on. All of these are fatal for the sequencing task.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SequencerError {
    /// The store failed; the state of the last commit is unknown.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hash or proof computation failed (a missing or malformed stored tile).
    #[error("tree: {0}")]
    Merkle(#[from] MerkleError),
    /// Signing the checkpoint failed.
    #[error("signing the checkpoint: {0}")]
    Sign(#[from] NoteError),
    /// The store holds a different log than this sequencer was configured for.
    #[error("the store holds the log {found:?}, not {expected:?}")]
    WrongLog {
        /// What the configuration says.
        expected: String,
        /// What the store holds.
        found: String,
    },
    /// Stored tiles do not hash to the stored root.
    #[error(
        "stored tiles give root {computed} at size {size}, but the stored checkpoint says {stored}"
    )]
    RootMismatch {
        /// The tree size.
        size: u64,
        /// The root recomputed from the tiles.
        computed: Hash,
        /// The root in the stored state.
        stored: Hash,
    },
}

/// An entry waiting to be sequenced.
#[derive(Clone, Debug)]
pub struct PendingEntry {
    /// The bytes to log.
    pub body: Vec<u8>,
    /// Their RFC 6962 leaf hash (computed by the caller, off the sequencer's thread).
    pub leaf_hash: Hash,
}

/// What became of one pending entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequenced {
    /// The entry's index in the log.
    pub index: u64,
    /// When it was first integrated (Unix seconds); the original time for a duplicate.
    pub integrated_time: u64,
    /// Whether the entry was already in the log (or earlier in the same batch).
    pub duplicate: bool,
    /// Its inclusion proof in the tree of the published checkpoint.
    pub proof: Vec<Hash>,
}

/// A checkpoint as published after a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root: Hash,
    /// The signed checkpoint note.
    pub checkpoint: Vec<u8>,
}

/// The result of one sequencing round.
#[derive(Clone, Debug)]
pub struct BatchOutcome {
    /// One result per pending entry, in the order given.
    pub entries: Vec<Sequenced>,
    /// The checkpoint every proof in `entries` is against.
    pub published: Published,
}

/// The right edge of the tree: for each tile level, the hashes of the rightmost tile (at most
/// 255; a tile that fills moves up one level as one hash). Everything an append needs.
#[derive(Clone, Debug, Default)]
struct Edge {
    levels: Vec<Vec<Hash>>,
}

impl Edge {
    /// Appends a leaf hash at index `n`. Each tile that fills is moved into `changed` (full
    /// tiles never change again) and carried up a level as its root.
    fn push(&mut self, n: u64, leaf: Hash, changed: &mut Changed) {
        let mut h = leaf;
        let mut pos = n; // index of h at the current tile level
        for level in 0u8.. {
            if self.levels.len() <= usize::from(level) {
                self.levels.push(Vec::new());
            }
            let tile = &mut self.levels[usize::from(level)];
            tile.push(h);
            if tile.len() as u64 != TILE_WIDTH {
                changed.partial.insert(level);
                break;
            }
            let full = std::mem::take(tile);
            h = subtree_root(&full);
            changed.full.push(((level, pos / TILE_WIDTH), full));
            pos /= TILE_WIDTH;
        }
    }

    /// Returns every tile `changed` names, with its bytes, for a tree of `size` leaves.
    fn changed_tiles(
        &self,
        size: u64,
        changed: Changed,
    ) -> Result<Vec<(Tile, Vec<u8>)>, StoreError> {
        let mut tiles = Vec::new();
        let bytes = |hashes: &[Hash]| hashes.iter().flat_map(|h| h.0).collect::<Vec<u8>>();
        for ((level, index), hashes) in &changed.full {
            let tile = Tile::new(*level, *index, TILE_WIDTH as u16)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tiles.push((tile, bytes(hashes)));
        }
        for level in changed.partial {
            let index = size.checked_shr(8 * (u32::from(level) + 1)).unwrap_or(0);
            let hashes = &self.levels[usize::from(level)];
            if let Some(tile) = Tile::at_size(level, index, size) {
                if !hashes.is_empty() && usize::from(tile.width()) == hashes.len() {
                    tiles.push((tile, bytes(hashes)));
                }
            }
        }
        tiles.sort_by_key(|(t, _)| (t.level(), t.index()));
        Ok(tiles)
    }

    /// Returns the edge's tiles (with their inner nodes) for a tree of `size` leaves.
    fn tile_nodes(&self, size: u64) -> Vec<TileNodes> {
        let mut out = Vec::new();
        for (level, hashes) in self.levels.iter().enumerate() {
            let level = level as u8;
            let index = size.checked_shr(8 * (u32::from(level) + 1)).unwrap_or(0);
            if let Some(tile) = Tile::at_size(level, index, size) {
                if usize::from(tile.width()) == hashes.len() {
                    out.push(TileNodes::from_hashes(tile, hashes.clone()));
                }
            }
        }
        out
    }
}

/// The tiles one round changed: full tiles completed (with their hashes), and the levels
/// whose right-edge partial tile grew.
#[derive(Default)]
struct Changed {
    full: Vec<((u8, u64), Vec<Hash>)>,
    partial: std::collections::BTreeSet<u8>,
}

/// Root of a full tile's 256 hashes.
fn subtree_root(hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level[0]
}

/// Reads hash tiles from a store, as published at a tree size: a narrower width is a prefix
/// of the widest stored version.
pub struct StoreTiles<'a, S: ?Sized>(pub &'a S);

impl<S: LogStore + ?Sized> TileReader for StoreTiles<'_, S> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        tiles
            .iter()
            .map(|t| {
                let data = self
                    .0
                    .read_tile(t.level(), t.index())
                    .map_err(|e| MerkleError::Storage(Box::new(e)))?
                    .unwrap_or_default();
                let want = usize::from(t.width()) * 32;
                if data.len() < want {
                    return Err(MerkleError::MalformedTile {
                        tile: t.path(),
                        reason: "stored tile is narrower than the tree needs",
                    });
                }
                Ok(data[..want].to_vec())
            })
            .collect()
    }
}

/// The one owner of a log's tree. See the module documentation for the round's order.
pub struct Sequencer<S: LogStore> {
    store: S,
    signer: Box<dyn NoteSigner>,
    origin: Origin,
    clock: Box<dyn Clock>,
    state: TreeState,
    edge: Edge,
}

impl<S: LogStore> Sequencer<S> {
    /// Opens the log in `store`, creating it (with a signed empty checkpoint) if the store is
    /// empty. `meta` must match what the store holds.
    ///
    /// # Errors
    /// [`SequencerError::WrongLog`] for another origin or key; store and integrity failures.
    pub fn open(
        store: S,
        meta: &LogMeta,
        origin: Origin,
        signer: Box<dyn NoteSigner>,
        clock: Box<dyn Clock>,
    ) -> Result<Sequencer<S>, SequencerError> {
        match store.meta()? {
            None => {
                let root = cairn_merkle::empty_root();
                let checkpoint = sign(&origin, 0, root, signer.as_ref())?;
                store.init(
                    meta,
                    &TreeState {
                        size: 0,
                        root,
                        checkpoint,
                    },
                )?;
            }
            Some(found) if !found.same_log(meta) => {
                return Err(SequencerError::WrongLog {
                    expected: format!("{} ({})", meta.origin, meta.vkey),
                    found: format!("{} ({})", found.origin, found.vkey),
                })
            }
            Some(_) => {}
        }
        let state = store.state()?;
        let edge = load_edge(&store, state.size)?;
        let seq = Sequencer {
            store,
            signer,
            origin,
            clock,
            state,
            edge,
        };
        let computed = seq.root_at(seq.state.size)?;
        if computed != seq.state.root {
            return Err(SequencerError::RootMismatch {
                size: seq.state.size,
                computed,
                stored: seq.state.root,
            });
        }
        Ok(seq)
    }

    /// Returns the latest published checkpoint.
    pub fn published(&self) -> Published {
        Published {
            size: self.state.size,
            root: self.state.root,
            checkpoint: self.state.checkpoint.clone(),
        }
    }

    /// Returns the store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn reader(&self, size: u64) -> TileHashReader<StoreTiles<'_, S>> {
        let reader = TileHashReader::new(size, StoreTiles(&self.store));
        if size == self.state.size {
            for nodes in self.edge.tile_nodes(size) {
                reader.insert(nodes);
            }
        }
        reader
    }

    fn root_at(&self, size: u64) -> Result<Hash, SequencerError> {
        Ok(tree_hash(size, &self.reader(size))?)
    }

    /// Sequences one batch: see the module documentation for the steps and what a crash at
    /// each one leaves behind.
    ///
    /// # Errors
    /// Every error is fatal: the caller must stop sequencing and fail the waiting entries.
    pub fn integrate(&mut self, batch: &[PendingEntry]) -> Result<BatchOutcome, SequencerError> {
        // Step 1: dedup, assign indexes, extend a copy of the edge.
        let now = self.clock.unix_seconds();
        let old_size = self.state.size;
        let mut size = old_size;
        let mut edge = self.edge.clone();
        let mut changed = Changed::default();
        let mut in_batch: HashMap<Hash, usize> = HashMap::new();
        let mut new_entries = Vec::new();
        let mut results: Vec<(u64, u64, bool)> = Vec::with_capacity(batch.len());
        // One store round trip for the whole batch's dedup lookups.
        let leaves: Vec<Hash> = batch.iter().map(|p| p.leaf_hash).collect();
        let known = self.store.lookup_batch(&leaves)?;
        if known.len() != leaves.len() {
            return Err(StoreError::Corrupt(format!(
                "{} answers to {} dedup lookups",
                known.len(),
                leaves.len()
            ))
            .into());
        }
        for (p, known) in batch.iter().zip(known) {
            if let Some(&i) = in_batch.get(&p.leaf_hash) {
                let (index, time, _) = results[i];
                results.push((index, time, true));
                continue;
            }
            if let Some(index) = known {
                let stored = self.store.read_entries(index, index + 1)?;
                let time = stored.first().map(|e| e.integrated_time).ok_or_else(|| {
                    StoreError::Corrupt(format!("dedup row for missing entry {index}"))
                })?;
                in_batch.insert(p.leaf_hash, results.len());
                results.push((index, time, true));
                continue;
            }
            edge.push(size, p.leaf_hash, &mut changed);
            new_entries.push(NewEntry {
                index: size,
                leaf_hash: p.leaf_hash,
                integrated_time: now,
                body: p.body.clone(),
            });
            in_batch.insert(p.leaf_hash, results.len());
            results.push((size, now, false));
            size += 1;
        }

        if !new_entries.is_empty() {
            // Step 2: new root from the new edge, then the signed checkpoint.
            let reader = TileHashReader::new(size, StoreTiles(&self.store));
            for nodes in edge.tile_nodes(size) {
                reader.insert(nodes);
            }
            let root = tree_hash(size, &reader)?;
            let checkpoint = sign(&self.origin, size, root, self.signer.as_ref())?;
            let new_state = TreeState {
                size,
                root,
                checkpoint,
            };
            let tiles = edge.changed_tiles(size, changed)?;
            // Step 3: one atomic, durable compare-and-swap commit. Any error is fatal.
            self.store.commit(&CommitBatch {
                old_size,
                new_state: new_state.clone(),
                entries: new_entries,
                tiles,
            })?;
            // Step 4: publish.
            self.state = new_state;
            self.edge = edge;
        }

        let reader = self.reader(self.state.size);
        let mut entries = Vec::with_capacity(results.len());
        for (index, integrated_time, duplicate) in results {
            entries.push(Sequenced {
                index,
                integrated_time,
                duplicate,
                proof: inclusion_proof(self.state.size, index, &reader)?,
            });
        }
        Ok(BatchOutcome {
            entries,
            published: self.published(),
        })
    }

    /// Returns the inclusion proof of `index` in the tree of `size` leaves (any published size).
    ///
    /// # Errors
    /// Out-of-range arguments, or store failures.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, SequencerError> {
        Ok(inclusion_proof(size, index, &self.reader(size))?)
    }
}

/// Rebuilds the right edge from the store's tiles: O(log n) tile reads.
fn load_edge<S: LogStore>(store: &S, size: u64) -> Result<Edge, SequencerError> {
    let mut levels = Vec::new();
    let mut level = 0u8;
    while size.checked_shr(8 * u32::from(level)).unwrap_or(0) > 0 {
        let index = size.checked_shr(8 * (u32::from(level) + 1)).unwrap_or(0);
        let hashes = match Tile::at_size(level, index, size) {
            Some(tile) if !tile.is_full() => {
                let data = StoreTiles(store).read_tiles(&[tile])?;
                data.first()
                    .map(|d| d.chunks_exact(32).filter_map(Hash::from_slice).collect())
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        levels.push(hashes);
        level += 1;
    }
    Ok(Edge { levels })
}

fn sign(
    origin: &Origin,
    size: u64,
    root: Hash,
    signer: &dyn NoteSigner,
) -> Result<Vec<u8>, NoteError> {
    let checkpoint = Checkpoint {
        origin: origin.clone(),
        size,
        root,
        extensions: Vec::new(),
    };
    Ok(sign_checkpoint(&checkpoint, &[signer])?.to_bytes())
}
