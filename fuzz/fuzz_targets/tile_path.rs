//! tlog-tiles paths: `TilePath::from_str` on arbitrary text, and `Tile::new` / `Tile::path` /
//! `Tile::entries_path` on arbitrary coordinates (the first 11 bytes of the input).
//! Properties: no panic; every accepted path formats back to the exact input (one name per
//! resource); every valid tile's paths parse back to the same tile; `Tile::at_size` agrees
//! with `Tile::new`.
#![no_main]

use cairn_merkle::tiles::{Tile, TilePath};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(path) = s.parse::<TilePath>() {
            assert_eq!(
                path.to_string(),
                s,
                "TilePath accepted a non-canonical path"
            );
        }
    }
    let Some((coords, rest)) = data.split_first_chunk::<11>() else {
        return;
    };
    let level = coords[0];
    let index = u64::from_le_bytes(coords[1..9].try_into().expect("8 bytes"));
    let width = u16::from_le_bytes([coords[9], coords[10]]);
    if let Ok(tile) = Tile::new(level, index, width) {
        assert_eq!(tile.path().parse::<TilePath>(), Ok(TilePath::Hash(tile)));
        if level == 0 {
            assert_eq!(
                tile.entries_path().parse::<TilePath>(),
                Ok(TilePath::Entries(tile))
            );
        }
        assert_eq!(tile.to_string(), tile.path());
    }
    let tree_size = rest
        .first_chunk::<8>()
        .map_or(u64::MAX, |b| u64::from_le_bytes(*b));
    if let Some(tile) = Tile::at_size(level, index, tree_size) {
        assert_eq!(Tile::new(level, index, tile.width()), Ok(tile));
    }
});
