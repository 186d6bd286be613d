//! Logged entry bodies: `EntryBody::parse` (hashedrekord 0.0.1 and 0.0.2),
//! `kind_and_version`, and each version's `parse_canonical`.
//! Properties: no panic; the formats are canonical, so an accepted body re-encodes to the exact
//! input bytes, and `EntryBody::parse` agrees with the version-specific parsers.
#![no_main]

use cairn_entry::body::kind_and_version;
use cairn_entry::{EntryBody, HashedRekordV001Body, HashedRekordV002Body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header = kind_and_version(data);
    let v1 = HashedRekordV001Body::parse_canonical(data);
    let v2 = HashedRekordV002Body::parse_canonical(data);
    if let Ok(b) = &v1 {
        assert_eq!(
            b.to_canonical_bytes(),
            data,
            "0.0.1 accepted a non-canonical body"
        );
    }
    if let Ok(b) = &v2 {
        assert_eq!(
            b.to_canonical_bytes(),
            data,
            "0.0.2 accepted a non-canonical body"
        );
    }
    match EntryBody::parse(data) {
        Ok(body) => {
            assert!(header.is_ok());
            assert_eq!(body.to_canonical_bytes(), data);
            match &body {
                EntryBody::HashedRekordV002(b) => assert_eq!(v2.ok().as_ref(), Some(b)),
                EntryBody::HashedRekordV001(b) => assert_eq!(v1.ok().as_ref(), Some(b)),
                _ => {}
            }
        }
        Err(_) => assert!(v1.is_err() && v2.is_err()),
    }
});
