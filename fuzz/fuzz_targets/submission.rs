//! The submission JSON (`POST /api/v2/log/entries`): `CreateEntryRequest::from_json`, then
//! `validate`, `verify` and the body the log would record.
//! Properties: no panic; `from_json(to_json(r)) == r` and `to_json` is a fixed point; a
//! validated request turns back into the same wire request; its canonical body parses back to
//! itself.
#![no_main]

use cairn_entry::{CreateEntryRequest, EntryBody, HashedRekordV002Body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = CreateEntryRequest::from_json(data) else {
        return;
    };
    let json = request.to_json();
    let again = CreateEntryRequest::from_json(&json).expect("to_json output parses");
    assert_eq!(again, request);
    assert_eq!(again.to_json(), json);
    let Ok(validated) = request.validate() else {
        return;
    };
    assert_eq!(validated.to_wire(), request);
    let _ = validated.verify();
    let body = validated.to_body();
    let bytes = body.to_canonical_bytes();
    assert_eq!(
        HashedRekordV002Body::parse_canonical(&bytes).ok().as_ref(),
        Some(&body)
    );
    assert_eq!(
        EntryBody::parse(&bytes).ok(),
        Some(EntryBody::HashedRekordV002(body))
    );
});
