//! Property tests (STYLE §3 "Property"): canonical formats round-trip, proofs verify iff they
//! come from the same tree, append-consistency between any sizes, and the tile-backed reader
//! (the server's path: it keeps only tiles) agrees with the flat stored-hash reader.
//!
//! Case counts assume the workspace's dev profile (sha2 and this crate at opt-level 2); the
//! whole file then takes a few seconds. Unoptimised, divide the hashing ones by ten.

// Helpers outside #[test] functions unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used)]

use cairn_merkle::tiles::{
    new_tiles, read_tile_data, EntryBundle, Tile, TileHashReader, TilePath, TileReader,
};
use cairn_merkle::{
    consistency_proof, inclusion_proof, leaf_hash, stored_hash_count, stored_hashes_for_leaf,
    tree_hash, verify_consistency, verify_inclusion, Hash, HashReader, MerkleError, ProofError,
};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The stored hashes of a tree of `entries`.
fn build(entries: &[Vec<u8>]) -> Vec<Hash> {
    let mut stored = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let new = stored_hashes_for_leaf(i as u64, leaf_hash(e), &stored).unwrap();
        stored.extend(new);
    }
    stored
}

/// A tree of 70,000 leaves (past the first level-2 tile boundary at 65,536), built once.
const BIG: u64 = 70_000;

fn big() -> &'static [Hash] {
    static STORE: OnceLock<Vec<Hash>> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut stored = Vec::new();
        for i in 0..BIG {
            let new = stored_hashes_for_leaf(i, leaf_hash(&i.to_be_bytes()), &stored).unwrap();
            stored.extend(new);
        }
        stored
    })
}

// ---------------------------------------------------------------------------------------------
// Formats.

fn tile_index() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..2_000,
        0u64..=u64::MAX >> 8,
        Just(u64::MAX >> 8),
        (0u32..=16).prop_map(|e| 10u64.pow(e)),
        (1u32..=16).prop_map(|e| 10u64.pow(e) - 1),
    ]
}

fn tile() -> impl Strategy<Value = Tile> {
    (0u8..=63, tile_index(), 1u16..=256).prop_map(|(l, n, w)| Tile::new(l, n, w).unwrap())
}

fn tile_path() -> impl Strategy<Value = TilePath> {
    prop_oneof![
        tile().prop_map(TilePath::Hash),
        // An entry bundle's path has no level; its Tile is always level 0 (as parsed).
        (tile_index(), 1u16..=256)
            .prop_map(|(n, w)| TilePath::Entries(Tile::new(0, n, w).unwrap())),
    ]
}

/// Strings shaped like tile paths, most of them not canonical.
const PATH_LIKE: &str =
    "tile/(entries|[0-9]{1,3})/(x[0-9]{3}/){0,7}x?[0-9]{1,4}(\\.p/[0-9]{1,4})?/?";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn tile_path_parse_format_round_trip(p in tile_path()) {
        let s = p.to_string();
        prop_assert_eq!(s.parse::<TilePath>(), Ok(p));
        if let TilePath::Hash(t) = p {
            prop_assert_eq!(&s, &t.path());
            prop_assert_eq!(t.is_full(), !s.contains(".p/"));
        }
    }

    #[test]
    fn accepted_path_like_strings_are_canonical(s in PATH_LIKE) {
        if let Ok(p) = s.parse::<TilePath>() {
            prop_assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn single_byte_changes_of_a_path_are_rejected_or_canonical(
        p in tile_path(),
        pos in any::<prop::sample::Index>(),
        byte in prop_oneof![Just(b'/'), Just(b'x'), Just(b'.'), Just(b'p'), b'0'..=b'9', any::<u8>()],
        insert in any::<bool>(),
    ) {
        let mut b = p.to_string().into_bytes();
        let i = pos.index(b.len() + usize::from(insert));
        if insert {
            b.insert(i, byte);
        } else {
            b[i] = byte;
        }
        if let Ok(s) = String::from_utf8(b) {
            if let Ok(q) = s.parse::<TilePath>() {
                prop_assert_eq!(q.to_string(), s);
            }
        }
    }

    #[test]
    fn accepted_bundle_bytes_are_canonical(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        // A strict parser: whatever it accepts re-encodes to the same bytes.
        if let Ok(b) = EntryBundle::parse(&bytes, None) {
            prop_assert_eq!(b.to_bytes(), bytes);
        }
    }
}

proptest! {
    // Bundles of up to 256 entries are slow to generate.
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn entry_bundle_round_trip(
        entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..=256)
    ) {
        let mut bundle = EntryBundle::new();
        for e in &entries {
            bundle.push(e.clone()).unwrap();
        }
        let bytes = bundle.to_bytes();
        let width = u16::try_from(entries.len()).unwrap();
        prop_assert_eq!(EntryBundle::parse(&bytes, Some(width)), Ok(bundle.clone()));
        prop_assert_eq!(EntryBundle::parse(&bytes, None), Ok(bundle.clone()));
        prop_assert_eq!(bundle.entries(), &entries[..]);
        prop_assert!(EntryBundle::parse(&bytes, Some(width - 1)).is_err() || width == 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Proofs on random trees.

/// A random tree's entries (1..=160 of them, short, often repeated bytes so that perturbed
/// trees can collide on single entries only when they are equal).
fn entries() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 1..=160)
}

/// A second tree: equal, one entry changed, one entry appended, or unrelated.
fn perturbed(a: Vec<Vec<u8>>) -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    let n = a.len();
    let a2 = a.clone();
    let a3 = a.clone();
    let a4 = a.clone();
    prop_oneof![
        Just((a.clone(), a.clone())),
        (0..n, prop::collection::vec(any::<u8>(), 0..6)).prop_map(move |(j, e)| {
            let mut b = a2.clone();
            b[j] = e;
            (a2.clone(), b)
        }),
        prop::collection::vec(any::<u8>(), 0..6).prop_map(move |e| {
            let mut b = a3.clone();
            b.push(e);
            (a3.clone(), b)
        }),
        entries().prop_map(move |b| (a4.clone(), b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inclusion_verifies_iff_same_tree(
        (a, b) in entries().prop_flat_map(perturbed),
        i in any::<prop::sample::Index>(),
    ) {
        let n = a.len().min(b.len()) as u64;
        let i = i.index(n as usize) as u64;
        let (sa, sb) = (build(&a), build(&b));
        let proof = inclusion_proof(n, i, &sa).unwrap();
        let leaf = leaf_hash(&a[i as usize]);
        let root_a = tree_hash(n, &sa).unwrap();
        let root_b = tree_hash(n, &sb).unwrap();
        prop_assert_eq!(verify_inclusion(i, n, &leaf, &proof, &root_a), Ok(()));
        let same = a[..n as usize] == b[..n as usize];
        let got = verify_inclusion(i, n, &leaf, &proof, &root_b);
        prop_assert_eq!(got.is_ok(), same);
        if !same {
            prop_assert_eq!(got, Err(ProofError::RootMismatch));
        }
        // B's own proof for the same leaf position verifies against A only if the trees agree.
        let proof_b = inclusion_proof(n, i, &sb).unwrap();
        let leaf_b = leaf_hash(&b[i as usize]);
        prop_assert_eq!(verify_inclusion(i, n, &leaf_b, &proof_b, &root_a).is_ok(), same);
    }

    #[test]
    fn consistency_verifies_iff_same_tree(
        (a, b) in entries().prop_flat_map(perturbed),
        m in any::<prop::sample::Index>(),
    ) {
        // A's proof from m to n, checked with old and new roots taken from A or B.
        let n = a.len().min(b.len()) as u64;
        let m = m.index(n as usize + 1) as u64;
        let (sa, sb) = (build(&a), build(&b));
        let proof = consistency_proof(m, n, &sa).unwrap();
        let roots = |s: &[Hash]| (tree_hash(m, &s).unwrap(), tree_hash(n, &s).unwrap());
        let (old_a, new_a) = roots(&sa);
        let (old_b, new_b) = roots(&sb);
        let proof_b = consistency_proof(m, n, &sb).unwrap();
        let trees = [(&a, old_a, new_a, &proof), (&b, old_b, new_b, &proof_b)];
        for (x, old_root, _, _) in trees {
            for (y, _, new_root, proof_y) in trees {
                // Size 0 is consistent with anything (no root is looked at). Otherwise the old
                // tree must be a prefix of the new one and A's proof must be the new tree's
                // proof. (Not "A's roots": when m is a power of two the proof holds nothing of
                // the old tree, so trees that differ only below m share it.)
                let want = m == 0 || (x[..m as usize] == y[..m as usize] && proof == *proof_y);
                let got = verify_consistency(m, n, &old_root, &new_root, &proof);
                prop_assert_eq!(got.is_ok(), want, "m={} n={} {:?}", m, n, got);
                if !want {
                    prop_assert_eq!(got, Err(ProofError::RootMismatch));
                }
            }
        }
    }

    #[test]
    fn perturbed_proofs_fail(
        a in entries(),
        i in any::<prop::sample::Index>(),
        m in any::<prop::sample::Index>(),
        which in any::<prop::sample::Index>(),
        bit in 0usize..256,
    ) {
        let n = a.len() as u64;
        let (i, m) = (i.index(n as usize) as u64, m.index(n as usize) as u64 + 1);
        let s = build(&a);
        let root = tree_hash(n, &s).unwrap();
        let leaf = leaf_hash(&a[i as usize]);
        let flip = |p: &mut Vec<Hash>| {
            let j = which.index(p.len());
            p[j].0[bit / 8] ^= 1 << (bit % 8);
        };
        let mut proof = inclusion_proof(n, i, &s).unwrap();
        if !proof.is_empty() {
            flip(&mut proof);
            prop_assert_eq!(
                verify_inclusion(i, n, &leaf, &proof, &root),
                Err(ProofError::RootMismatch)
            );
        }
        let mut proof = consistency_proof(m, n, &s).unwrap();
        if !proof.is_empty() {
            flip(&mut proof);
            let old = tree_hash(m, &s).unwrap();
            prop_assert_eq!(
                verify_consistency(m, n, &old, &root, &proof),
                Err(ProofError::RootMismatch)
            );
        }
    }

    #[test]
    fn append_consistency_between_any_two_sizes(
        a in entries(),
        sizes in prop::collection::vec(any::<prop::sample::Index>(), 3),
    ) {
        // Three sizes m <= k <= n of one growing log: every pair is consistent, and leaves
        // of the old tree are included in the new one.
        let s = build(&a);
        let mut sizes: Vec<u64> =
            sizes.iter().map(|x| x.index(a.len() + 1) as u64).collect();
        sizes.sort_unstable();
        for (x, y) in [(0, 1), (1, 2), (0, 2)] {
            let (m, n) = (sizes[x], sizes[y]);
            let proof = consistency_proof(m, n, &s).unwrap();
            let old = tree_hash(m, &s).unwrap();
            let new = tree_hash(n, &s).unwrap();
            prop_assert_eq!(verify_consistency(m, n, &old, &new, &proof), Ok(()));
            if m > 0 {
                let i = m - 1;
                let leaf = leaf_hash(&a[i as usize]);
                let p = inclusion_proof(n, i, &s).unwrap();
                prop_assert_eq!(verify_inclusion(i, n, &leaf, &p, &new), Ok(()));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tiles: the server keeps only tiles, written as the log grows.

/// A tile store keyed by path, as an object store or a file system would hold it.
#[derive(Default)]
struct TileStore {
    files: HashMap<String, Vec<u8>>,
}

impl TileStore {
    /// Grows the log from `old` to `new` leaves: writes the tiles that changed.
    fn grow(&mut self, stored: &[Hash], old: u64, new: u64) {
        let at_new = &stored[..stored_hash_count(new) as usize];
        for t in new_tiles(old, new) {
            let data = read_tile_data(t, &at_new).unwrap();
            assert_eq!(data.len(), usize::from(t.width()) * 32);
            let prev = self.files.insert(t.path(), data.clone());
            // Tiles are immutable: a path is only ever written with the same bytes.
            assert!(prev.is_none_or(|p| p == data), "{} rewritten", t.path());
        }
    }
}

impl TileReader for &TileStore {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        tiles
            .iter()
            .map(|t| {
                self.files
                    .get(&t.path())
                    .cloned()
                    .ok_or_else(|| MerkleError::Storage(format!("no {}", t.path()).into()))
            })
            .collect()
    }
}

/// A tree size, biased to the tile boundaries of levels 1 and 2.
fn tree_size() -> impl Strategy<Value = u64> {
    prop_oneof![
        1..=BIG,
        1u64..=600,
        (0u64..3, 0u64..3).prop_map(|(k, d)| [256, 65_536, 512][k as usize] + d - 1),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tile_reader_agrees_with_flat_reader(
        n in tree_size(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 4),
    ) {
        let stored = big();
        // Grow the log to n in random steps, writing tiles at each step.
        let mut steps: Vec<u64> = cuts.iter().map(|c| c.index(n as usize) as u64).collect();
        steps.push(n);
        steps.sort_unstable();
        steps.dedup();
        let mut tiles = TileStore::default();
        let mut old = 0;
        for &s in &steps {
            tiles.grow(stored, old, s);
            old = s;
        }
        // The store holds every tile of size n, with the bytes a fresh write would have.
        let at_n = &stored[..stored_hash_count(n) as usize];
        for t in new_tiles(0, n) {
            prop_assert_eq!(tiles.files.get(&t.path()), Some(&read_tile_data(t, &at_n).unwrap()));
        }

        let reader = TileHashReader::new(n, &tiles);
        prop_assert_eq!(tree_hash(n, &reader).unwrap(), tree_hash(n, &at_n).unwrap());
        let i = picks[0].index(n as usize) as u64;
        prop_assert_eq!(
            inclusion_proof(n, i, &reader).unwrap(),
            inclusion_proof(n, i, &at_n).unwrap()
        );
        // Proofs to and from a past size, from the tiles of size n.
        let m = picks[1].index(n as usize + 1) as u64;
        prop_assert_eq!(tree_hash(m, &reader).unwrap(), tree_hash(m, &at_n).unwrap());
        prop_assert_eq!(
            consistency_proof(m, n, &reader).unwrap(),
            consistency_proof(m, n, &at_n).unwrap()
        );
        if m > 0 {
            let j = picks[2].index(m as usize) as u64;
            prop_assert_eq!(
                inclusion_proof(m, j, &reader).unwrap(),
                inclusion_proof(m, j, &at_n).unwrap()
            );
        }
        // Any stored hash of size n, read in one batch with a hash past the end.
        let k = picks[3].index(at_n.len()) as u64;
        let batch = [k, 0, at_n.len() as u64 - 1, k];
        prop_assert_eq!(reader.read_hashes(&batch).unwrap(), at_n.read_hashes(&batch).unwrap());
        prop_assert!(matches!(
            reader.read_hashes(&[at_n.len() as u64]),
            Err(MerkleError::MissingHash(_))
        ));
    }
}
