//! Hash tiles: `TileNodes::new` and `hash_from_tile` on arbitrary tile bytes, coordinates and
//! stored-hash indexes; `read_tile_data` and `new_tiles` on arbitrary tree sizes.
//! Properties: no panic; `TileNodes::stored_hash` and `hash_from_tile` agree; tile bytes read
//! from a tree parse back to the same hashes; every tile `new_tiles` names is the tile
//! `Tile::at_size` publishes at the new size.
#![no_main]

use arbitrary::Arbitrary;
use cairn_merkle::tiles::{hash_from_tile, new_tiles, read_tile_data, Tile, TileNodes};
use cairn_merkle::{leaf_hash, stored_hash_index, MAX_TREE_SIZE};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    level: u8,
    index: u64,
    width: u16,
    stored_index: u64,
    old_size: u64,
    grow_by: u16,
    data: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let Ok(tile) = Tile::new(input.level, input.index, input.width) else {
        return;
    };
    let from_tile = hash_from_tile(tile, &input.data, input.stored_index);
    if let Ok(nodes) = TileNodes::new(tile, &input.data) {
        assert_eq!(nodes.hashes().len(), usize::from(tile.width()));
        let bytes: Vec<u8> = nodes.hashes().iter().flat_map(|h| h.0).collect();
        assert_eq!(bytes, input.data);
        assert_eq!(nodes.stored_hash(input.stored_index), from_tile.ok());
    }
    // read_tile_data panics (documented) for tiles beyond MAX_TREE_SIZE leaves.
    let last_leaf = (tile.index() << 8 | u64::from(tile.width() - 1))
        .checked_add(1)
        .and_then(|n| n.checked_mul(1u64.checked_shl(8 * u32::from(tile.level()))?))
        .map(|end| end - 1);
    if last_leaf.is_some_and(|l| l <= MAX_TREE_SIZE) && tile.index() <= u64::MAX >> 16 {
        let data = read_tile_data(tile, &cairn_fuzz::SyntheticTree)
            .expect("synthetic tree has every hash");
        let nodes = TileNodes::new(tile, &data).expect("read tile parses");
        for (i, h) in nodes.hashes().iter().enumerate() {
            let n = (tile.index() << 8) + i as u64;
            let index = stored_hash_index(8 * u32::from(tile.level()), n);
            assert_eq!(*h, leaf_hash(&index.to_be_bytes()));
            assert_eq!(hash_from_tile(tile, &data, index).ok(), Some(*h));
        }
    }
    let old = input.old_size.min(MAX_TREE_SIZE);
    let new = old
        .saturating_add(u64::from(input.grow_by))
        .min(MAX_TREE_SIZE);
    for t in new_tiles(old, new) {
        assert_eq!(Tile::at_size(t.level(), t.index(), new), Some(t));
    }
});
