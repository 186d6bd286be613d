//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): tile coordinates, the strict path
//! encoding, tile bytes, and a [`HashReader`] backed by tiles.
//!
//! A tile at level `L` and index `N` holds up to 256 consecutive hashes of stored level `8L`
//! (level 0: leaf hashes), those of the subtrees `N*256 .. N*256+255`. A tile of width
//! `W < 256` is partial and is served at `tile/<L>/<N>.p/<W>`. `N` is written in groups of
//! three digits, all but the last prefixed with `x`:
//!
//! ```
//! use cairn_merkle::tiles::{Tile, TilePath};
//! let t = Tile::new(0, 1234067, 5).unwrap();
//! assert_eq!(t.path(), "tile/0/x001/x234/067.p/5");
//! assert_eq!("tile/0/x001/x234/067.p/5".parse::<TilePath>().unwrap(), TilePath::Hash(t));
//! assert!("tile/0/x000/067".parse::<TilePath>().is_err()); // not canonical
//! ```

use crate::HASH_SIZE;
use crate::{node_hash, split_stored_hash_index, stored_hash_index, Hash, HashReader, MerkleError};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// How many tree levels one tile spans (C2SP tlog-tiles fixes it at 8).
pub const TILE_HEIGHT: u32 = 8;
/// How many hashes a full tile holds.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The highest tile level a path may name.
pub const MAX_TILE_LEVEL: u8 = 63;
/// The largest entry an entry bundle can hold (its length prefix is a `uint16`).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// Why a tile path, tile, or entry bundle was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// The path is not a canonical tlog-tiles path.
    #[error("invalid tile path: {0}")]
    InvalidPath(&'static str),
    /// A tile's level, index or width is out of range.
    #[error("invalid tile: {0}")]
    InvalidTile(&'static str),
    /// An entry too large for a bundle's uint16 length prefix.
    #[error("entry of {0} bytes does not fit an entry bundle (at most 65535)")]
    EntryTooLarge(usize),
    /// The bytes are not a well-formed entry bundle.
    #[error("malformed entry bundle: {0}")]
    MalformedBundle(&'static str),
}

/// The coordinates of a hash tile or an entry bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    level: u8,
    index: u64,
    width: u16,
}

impl Tile {
    /// Returns the tile at `level` and `index` holding `width` hashes (1..=256).
    ///
    /// # Errors
    /// [`TileError::InvalidTile`] for a level above 63, a width outside 1..=256, or an index
    /// whose first hash would not fit in a `u64`.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Tile, TileError> {
        if level > MAX_TILE_LEVEL {
            return Err(TileError::InvalidTile("level above 63"));
        }
        if width == 0 || u64::from(width) > TILE_WIDTH {
            return Err(TileError::InvalidTile("width outside 1..=256"));
        }
        if index > u64::MAX >> TILE_HEIGHT {
            return Err(TileError::InvalidTile("index too large"));
        }
        Ok(Tile {
            level,
            index,
            width,
        })
    }

    /// Returns the tile at `level` and `index` as it is published for a tree of `tree_size`
    /// leaves (full, or partial at the right edge), or `None` if it is empty at that size.
    pub fn at_size(level: u8, index: u64, tree_size: u64) -> Option<Tile> {
        let shift = TILE_HEIGHT.checked_mul(u32::from(level))?;
        let available = tree_size.checked_shr(shift).unwrap_or(0);
        let start = index.checked_mul(TILE_WIDTH)?;
        let width = available.checked_sub(start)?.min(TILE_WIDTH);
        Tile::new(level, index, u16::try_from(width).ok()?).ok()
    }

    /// Returns the tile's level.
    pub fn level(&self) -> u8 {
        self.level
    }

    /// Returns the tile's index within its level.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Returns how many hashes (or entries) the tile holds.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Returns whether the tile holds all 256 hashes (and so never changes).
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// Returns the hash tile's path, `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.index_and_width())
    }

    /// Returns the path of the entry bundle with this index and width,
    /// `tile/entries/<N>[.p/<W>]`.
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.index_and_width())
    }

    fn index_and_width(&self) -> String {
        let mut s = format_index(self.index);
        if !self.is_full() {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// Returns the smallest tile holding stored hash `index`, and the byte range within the
    /// tile's data of the hashes it is computed from (sumdb `tileForIndex`).
    pub fn for_stored_hash(index: u64) -> (Tile, usize, usize) {
        let (level, n) = split_stored_hash_index(index);
        let tile_level = level / TILE_HEIGHT;
        let k = level % TILE_HEIGHT; // level within the tile
        let tile_index = (n << k) >> TILE_HEIGHT;
        let pos = n - ((tile_index << TILE_HEIGHT) >> k); // position at level k
        let tile = Tile {
            level: tile_level as u8,
            index: tile_index,
            width: ((pos + 1) << k) as u16,
        };
        let start = ((pos << k) as usize) * HASH_SIZE;
        let end = (((pos + 1) << k) as usize) * HASH_SIZE;
        (tile, start, end)
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// Formats a tile index as tlog-tiles path elements: `1234067` -> `x001/x234/067`.
fn format_index(mut n: u64) -> String {
    let mut s = format!("{:03}", n % 1000);
    n /= 1000;
    while n > 0 {
        s = format!("x{:03}/{s}", n % 1000);
        n /= 1000;
    }
    s
}

/// Parses canonical tlog-tiles index path elements (the inverse of [`format_index`]).
fn parse_index(s: &str) -> Result<u64, TileError> {
    let groups: Vec<&str> = s.split('/').collect();
    let last = groups.len() - 1;
    let mut n: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i == last {
            *g
        } else {
            g.strip_prefix('x')
                .ok_or(TileError::InvalidPath("index element without x prefix"))?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TileError::InvalidPath("index element is not three digits"));
        }
        if i == 0 && i != last && digits == "000" {
            return Err(TileError::InvalidPath("index has a leading zero group"));
        }
        let v: u64 = digits
            .parse()
            .map_err(|_| TileError::InvalidPath("index element is not three digits"))?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(v))
            .ok_or(TileError::InvalidPath("index too large"))?;
    }
    Ok(n)
}

/// Parses a decimal without sign or leading zeros.
fn parse_decimal(s: &str, what: &'static str) -> Result<u64, TileError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(TileError::InvalidPath(what));
    }
    s.parse().map_err(|_| TileError::InvalidPath(what))
}

/// A parsed tlog-tiles resource path (relative to the log prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`: a hash tile.
    Hash(Tile),
    /// `tile/entries/<N>[.p/<W>]`: an entry bundle (its level is always 0).
    Entries(Tile),
}

impl FromStr for TilePath {
    type Err = TileError;

    /// Parses a path strictly: any non-canonical spelling (leading zeros, a `.p/256`, a
    /// missing `x`, extra slashes) is an error, so every resource has exactly one name.
    fn from_str(s: &str) -> Result<TilePath, TileError> {
        if s.len() > 128 {
            return Err(TileError::InvalidPath("too long"));
        }
        let rest = s
            .strip_prefix("tile/")
            .ok_or(TileError::InvalidPath("does not start with tile/"))?;
        let (level, rest) = rest
            .split_once('/')
            .ok_or(TileError::InvalidPath("no tile index"))?;
        let entries = level == "entries";
        let level = if entries {
            0
        } else {
            let l = parse_decimal(level, "level is not a decimal")?;
            u8::try_from(l)
                .ok()
                .filter(|l| *l <= MAX_TILE_LEVEL)
                .ok_or(TileError::InvalidPath("level above 63"))?
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, w)) => {
                let w = parse_decimal(w, "width is not a decimal")?;
                if !(1..TILE_WIDTH).contains(&w) {
                    return Err(TileError::InvalidPath("partial width outside 1..=255"));
                }
                (index, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let tile = Tile::new(level, parse_index(index)?, width)
            .map_err(|_| TileError::InvalidPath("tile out of range"))?;
        Ok(if entries {
            TilePath::Entries(tile)
        } else {
            TilePath::Hash(tile)
        })
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TilePath::Hash(t) => f.write_str(&t.path()),
            TilePath::Entries(t) => f.write_str(&t.entries_path()),
        }
    }
}

/// Returns the hash tiles that change when the tree grows from `old_size` to `new_size`
/// leaves: each is new, or a partial tile that grew (sumdb `NewTiles`).
pub fn new_tiles(old_size: u64, new_size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    let mut level = 0u8;
    while level <= MAX_TILE_LEVEL {
        let shift = TILE_HEIGHT * u32::from(level);
        let new_n = new_size.checked_shr(shift).unwrap_or(0);
        if new_n == 0 {
            break;
        }
        let old_n = old_size.checked_shr(shift).unwrap_or(0);
        if old_n != new_n {
            for n in (old_n >> TILE_HEIGHT)..(new_n >> TILE_HEIGHT) {
                tiles.push(Tile {
                    level,
                    index: n,
                    width: TILE_WIDTH as u16,
                });
            }
            let n = new_n >> TILE_HEIGHT;
            let w = new_n - (n << TILE_HEIGHT);
            if w > 0 {
                tiles.push(Tile {
                    level,
                    index: n,
                    width: w as u16,
                });
            }
        }
        level += 1;
    }
    tiles
}

/// Returns the bytes of `tile`, read from stored hashes (sumdb `ReadTileData`).
///
/// # Errors
/// Whatever the reader returns.
///
/// # Panics
/// If the tile lies beyond [`crate::MAX_TREE_SIZE`] leaves (see [`stored_hash_index`]).
pub fn read_tile_data(tile: Tile, reader: &impl HashReader) -> Result<Vec<u8>, MerkleError> {
    let start = tile.index << TILE_HEIGHT;
    let level = TILE_HEIGHT * u32::from(tile.level);
    let indexes: Vec<u64> = (0..u64::from(tile.width))
        .map(|i| stored_hash_index(level, start + i))
        .collect();
    let hashes = reader.read_hashes(&indexes)?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::ReaderCount {
            got: hashes.len(),
            want: indexes.len(),
        });
    }
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Returns the Merkle root of a non-empty run of hashes whose length is a power of two.
fn run_hash(data: &[Hash]) -> Hash {
    if data.len() == 1 {
        return data[0];
    }
    let half = data.len() / 2;
    node_hash(&run_hash(&data[..half]), &run_hash(&data[half..]))
}

/// The hashes of one tile and every complete subtree inside it: `levels[k][p]` is the hash of
/// tile hashes `p*2^k .. (p+1)*2^k`. Computed once per tile, so a batch of proofs that meet in
/// a tile costs one pass over it, not one per proof.
#[derive(Debug, Clone)]
pub struct TileNodes {
    tile: Tile,
    levels: Vec<Vec<Hash>>,
}

impl TileNodes {
    /// Parses a tile's bytes and computes its inner nodes.
    ///
    /// # Errors
    /// [`MerkleError::MalformedTile`] unless `data` is exactly `width` hashes.
    pub fn new(tile: Tile, data: &[u8]) -> Result<TileNodes, MerkleError> {
        if data.len() != usize::from(tile.width) * HASH_SIZE {
            return Err(MerkleError::MalformedTile {
                tile: tile.path(),
                reason: "length is not width * 32 bytes",
            });
        }
        let base: Vec<Hash> = data
            .chunks_exact(HASH_SIZE)
            .filter_map(Hash::from_slice)
            .collect();
        Ok(TileNodes::from_hashes(tile, base))
    }

    /// Builds the inner nodes over `hashes`, which must number `tile.width()`.
    pub fn from_hashes(tile: Tile, hashes: Vec<Hash>) -> TileNodes {
        let mut levels = vec![hashes];
        while let Some(prev) = levels.last() {
            if prev.len() < 2 {
                break;
            }
            let next: Vec<Hash> = prev
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        TileNodes { tile, levels }
    }

    /// Appends `hash` to a partial tile, widening it by one, and computes only the inner nodes
    /// the new hash completes (at most 8 node hashes; one on average). The result equals
    /// [`TileNodes::from_hashes`] over the widened list: the sequencer keeps its right edge
    /// this way instead of rehashing up to 255 nodes per tile in every round.
    ///
    /// # Errors
    /// [`MerkleError::MalformedTile`] if the tile is already full.
    pub fn push(&mut self, hash: Hash) -> Result<(), MerkleError> {
        if self.tile.is_full() {
            return Err(MerkleError::MalformedTile {
                tile: self.tile.path(),
                reason: "cannot append to a full tile",
            });
        }
        self.tile.width += 1;
        self.levels[0].push(hash);
        let mut k = 0;
        // A level whose length became even has completed a pair: its parent is new.
        while self.levels[k].len() % 2 == 0 {
            let n = self.levels[k].len();
            let parent = node_hash(&self.levels[k][n - 2], &self.levels[k][n - 1]);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[k + 1].push(parent);
            k += 1;
        }
        Ok(())
    }

    /// Returns the root of a full tile's subtree, or `None` for a partial tile.
    pub fn full_root(&self) -> Option<Hash> {
        if !self.tile.is_full() {
            return None;
        }
        self.levels.last().and_then(|l| l.first()).copied()
    }

    /// Returns the tile.
    pub fn tile(&self) -> Tile {
        self.tile
    }

    /// Returns the tile's hashes.
    pub fn hashes(&self) -> &[Hash] {
        &self.levels[0]
    }

    /// Returns the stored hash `index` if this tile holds what it is computed from.
    pub fn stored_hash(&self, index: u64) -> Option<Hash> {
        let (t, start, _) = Tile::for_stored_hash(index);
        if t.level != self.tile.level || t.index != self.tile.index || t.width > self.tile.width {
            return None;
        }
        let (level, _) = split_stored_hash_index(index);
        let k = (level % TILE_HEIGHT) as usize;
        let pos = (start / HASH_SIZE) >> k;
        self.levels.get(k)?.get(pos).copied()
    }
}

/// Returns the stored hash `index` from the bytes of a tile that holds it (sumdb `HashFromTile`).
///
/// # Errors
/// [`MerkleError::MalformedTile`] if the data is short or the tile does not hold the hash.
pub fn hash_from_tile(tile: Tile, data: &[u8], index: u64) -> Result<Hash, MerkleError> {
    let (t, start, end) = Tile::for_stored_hash(index);
    if t.level != tile.level || t.index != tile.index || t.width > tile.width {
        return Err(MerkleError::MalformedTile {
            tile: tile.path(),
            reason: "tile does not hold the requested hash",
        });
    }
    let bytes = data.get(start..end).ok_or(MerkleError::MalformedTile {
        tile: tile.path(),
        reason: "tile is too short",
    })?;
    let hashes: Vec<Hash> = bytes
        .chunks_exact(HASH_SIZE)
        .filter_map(Hash::from_slice)
        .collect();
    Ok(run_hash(&hashes))
}

/// Reads tiles. A server reads them from its store; a client fetches them over HTTP first.
pub trait TileReader {
    /// Returns the bytes of each tile, in order. Each must be exactly `width * 32` bytes.
    ///
    /// # Errors
    /// Any storage or fetch failure.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError>;
}

/// A [`HashReader`] for the tree of a given size, backed by its published tiles. It keeps the
/// tiles it read (with their inner nodes), so many proofs over one tree share the work.
///
/// It trusts the tiles: code that reads tiles from an untrusted server must verify what it
/// computes (a proof against a signed root, or a full audit) before relying on it.
pub struct TileHashReader<R> {
    tree_size: u64,
    tiles: R,
    cache: Mutex<HashMap<(u8, u64), TileNodes>>,
}

impl<R: TileReader> TileHashReader<R> {
    /// Returns a reader for the tree of `tree_size` leaves over `tiles`.
    pub fn new(tree_size: u64, tiles: R) -> Self {
        TileHashReader {
            tree_size,
            tiles,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Adds a tile the caller already has (for example the right edge held in memory).
    pub fn insert(&self, nodes: TileNodes) {
        if let Ok(mut c) = self.cache.lock() {
            c.insert((nodes.tile.level, nodes.tile.index), nodes);
        }
    }
}

impl<R: TileReader> HashReader for TileHashReader<R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| MerkleError::Storage("tile cache lock poisoned".into()))?;
        // Which tiles, at their width for this tree size, are not yet cached?
        let mut want: Vec<Tile> = Vec::new();
        for &index in indexes {
            let (t, _, _) = Tile::for_stored_hash(index);
            let published = Tile::at_size(t.level, t.index, self.tree_size)
                .filter(|p| p.width >= t.width)
                .ok_or(MerkleError::MissingHash(index))?;
            let cached = cache.get(&(t.level, t.index)).map(|n| n.tile.width);
            if cached.is_none_or(|w| w < t.width) && !want.contains(&published) {
                want.push(published);
            }
        }
        if !want.is_empty() {
            let datas = self.tiles.read_tiles(&want)?;
            if datas.len() != want.len() {
                return Err(MerkleError::ReaderCount {
                    got: datas.len(),
                    want: want.len(),
                });
            }
            for (tile, data) in want.into_iter().zip(datas) {
                cache.insert((tile.level, tile.index), TileNodes::new(tile, &data)?);
            }
        }
        indexes
            .iter()
            .map(|&index| {
                let (t, _, _) = Tile::for_stored_hash(index);
                cache
                    .get(&(t.level, t.index))
                    .and_then(|n| n.stored_hash(index))
                    .ok_or(MerkleError::MissingHash(index))
            })
            .collect()
    }
}

/// An entry bundle: up to 256 consecutive entries, each with a big-endian uint16 length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryBundle {
    entries: Vec<Vec<u8>>,
}

impl EntryBundle {
    /// Returns an empty bundle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry.
    ///
    /// # Errors
    /// [`TileError::EntryTooLarge`] above 65535 bytes, [`TileError::MalformedBundle`] when the
    /// bundle already holds 256 entries.
    pub fn push(&mut self, entry: Vec<u8>) -> Result<(), TileError> {
        if entry.len() > MAX_ENTRY_SIZE {
            return Err(TileError::EntryTooLarge(entry.len()));
        }
        if self.entries.len() as u64 >= TILE_WIDTH {
            return Err(TileError::MalformedBundle("more than 256 entries"));
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Returns the entries.
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// Returns the number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether the bundle has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the serialized bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.entries.iter().map(|e| e.len() + 2).sum());
        for e in &self.entries {
            // push() keeps every entry within u16.
            out.extend_from_slice(&(e.len() as u16).to_be_bytes());
            out.extend_from_slice(e);
        }
        out
    }

    /// Parses a serialized bundle strictly: no trailing bytes, 1 to 256 entries, and exactly
    /// `width` entries when given.
    ///
    /// # Errors
    /// [`TileError::MalformedBundle`] for anything else.
    pub fn parse(mut data: &[u8], width: Option<u16>) -> Result<EntryBundle, TileError> {
        let mut entries = Vec::new();
        while !data.is_empty() {
            if entries.len() as u64 >= TILE_WIDTH {
                return Err(TileError::MalformedBundle("more than 256 entries"));
            }
            let (len, rest) = data
                .split_first_chunk::<2>()
                .ok_or(TileError::MalformedBundle("truncated length prefix"))?;
            let len = usize::from(u16::from_be_bytes(*len));
            let entry = rest
                .get(..len)
                .ok_or(TileError::MalformedBundle("truncated entry"))?;
            entries.push(entry.to_vec());
            data = &rest[len..];
        }
        if entries.is_empty() {
            return Err(TileError::MalformedBundle("no entries"));
        }
        if let Some(w) = width {
            if entries.len() != usize::from(w) {
                return Err(TileError::MalformedBundle(
                    "entry count differs from the width",
                ));
            }
        }
        Ok(EntryBundle { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_equals_from_hashes_at_every_width() {
        let hashes: Vec<Hash> = (0..256u32)
            .map(|i| crate::leaf_hash(&i.to_be_bytes()))
            .collect();
        let mut grown = TileNodes::from_hashes(Tile::new(2, 7, 1).unwrap(), vec![hashes[0]]);
        for w in 2..=256usize {
            assert!(grown.full_root().is_none());
            grown.push(hashes[w - 1]).unwrap();
            let whole =
                TileNodes::from_hashes(Tile::new(2, 7, w as u16).unwrap(), hashes[..w].to_vec());
            assert_eq!(grown.tile(), whole.tile());
            assert_eq!(grown.levels, whole.levels, "width {w}");
        }
        let mut level = hashes.clone();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        assert_eq!(grown.full_root(), Some(level[0]));
        assert!(grown.push(hashes[0]).is_err(), "a full tile takes no more");
    }

    #[test]
    fn index_encoding() {
        for (n, s) in [
            (0, "000"),
            (1, "001"),
            (999, "999"),
            (1000, "x001/000"),
            (1234067, "x001/x234/067"),
            (u64::MAX >> 8, "x072/x057/x594/x037/x927/935"),
        ] {
            assert_eq!(format_index(n), s);
            assert_eq!(parse_index(s).unwrap(), n);
        }
    }

    #[test]
    fn spec_example_tile_counts_for_70000() {
        // tlog-tiles: 273 full level-0 tiles, a partial of 112, one full level-1 tile, a
        // partial level-1 tile of 17 and a partial level-2 tile of 1.
        let tiles = new_tiles(0, 70_000);
        let count = |l: u8, full: bool| {
            tiles
                .iter()
                .filter(|t| t.level == l && t.is_full() == full)
                .count()
        };
        assert_eq!(count(0, true), 273);
        assert_eq!(count(1, true), 1);
        let partial: Vec<(u8, u16)> = tiles
            .iter()
            .filter(|t| !t.is_full())
            .map(|t| (t.level, t.width))
            .collect();
        assert_eq!(partial, vec![(0, 112), (1, 17), (2, 1)]);
        assert_eq!(
            Tile::at_size(0, 273, 70_000),
            Some(Tile::new(0, 273, 112).unwrap())
        );
        assert_eq!(Tile::at_size(0, 274, 70_000), None);
        assert_eq!(Tile::at_size(3, 0, 70_000), None);
    }

    #[test]
    fn rejects_non_canonical_paths() {
        for bad in [
            "tile/00/000",
            "tile/64/000",
            "tile/0/0",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x001",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/07",
            "tile/0/000.p/",
            "tile/0/000/",
            "tile//000",
            "tile/entries/000.p/256",
            "tile/0/../000",
            "/tile/0/000",
            "tile/0/+01",
            "tile/0/x99999999999/000",
            "tile/0/x018/x446/x744/x073/x709/x551/615",
        ] {
            assert!(bad.parse::<TilePath>().is_err(), "{bad} parsed");
        }
        assert_eq!(
            "tile/entries/x001/000.p/255".parse::<TilePath>().unwrap(),
            TilePath::Entries(Tile::new(0, 1000, 255).unwrap())
        );
    }

    #[test]
    fn bundle_round_trip_and_strictness() {
        let mut b = EntryBundle::new();
        b.push(b"hello".to_vec()).unwrap();
        b.push(Vec::new()).unwrap();
        let bytes = b.to_bytes();
        assert_eq!(bytes, b"\x00\x05hello\x00\x00");
        assert_eq!(EntryBundle::parse(&bytes, Some(2)).unwrap(), b);
        assert!(EntryBundle::parse(&bytes, Some(3)).is_err());
        for cut in 1..bytes.len() {
            // Every truncation either drops whole entries (and the width check fails) or
            // leaves a partial length prefix or entry.
            assert!(
                EntryBundle::parse(&bytes[..cut], Some(2)).is_err(),
                "cut {cut}"
            );
        }
        assert!(EntryBundle::parse(b"", None).is_err());
        assert_eq!(
            b.push(vec![0; MAX_ENTRY_SIZE + 1]),
            Err(TileError::EntryTooLarge(MAX_ENTRY_SIZE + 1))
        );
    }
}
