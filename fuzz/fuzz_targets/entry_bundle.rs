//! Entry bundles: `EntryBundle::parse`, with an expected width from the first two bytes
//! (0 = none) and the bundle bytes after them.
//! Properties: no panic; an accepted bundle holds 1..=256 entries (exactly the width when one
//! is given), formats back to the exact input, and is rebuilt equal by `push`.
#![no_main]

use cairn_merkle::tiles::EntryBundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((w, bytes)) = data.split_first_chunk::<2>() else {
        return;
    };
    let width = Some(u16::from_be_bytes(*w)).filter(|w| *w != 0);
    let Ok(bundle) = EntryBundle::parse(bytes, width) else {
        return;
    };
    assert!((1..=256).contains(&bundle.len()));
    if let Some(w) = width {
        assert_eq!(bundle.len(), usize::from(w));
    }
    assert_eq!(
        bundle.to_bytes(),
        bytes,
        "EntryBundle::parse accepted non-canonical bytes"
    );
    let mut rebuilt = EntryBundle::new();
    for e in bundle.entries() {
        rebuilt
            .push(e.clone())
            .expect("an entry of a parsed bundle fits");
    }
    assert_eq!(rebuilt, bundle);
    assert_eq!(
        EntryBundle::parse(&bundle.to_bytes(), None).ok(),
        Some(bundle)
    );
});
