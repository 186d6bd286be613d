//! Trusted roots: `TrustedLogs::from_json`, and the `TrustedRoot` protobuf JSON itself.
//! Properties: no panic; `parse(to_json(r)) == r`; every log taken has a key name and a log ID.
#![no_main]

use cairn_entry::{to_json, TrustedRoot};
use cairn_verify::TrustedLogs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = serde_json::from_slice::<TrustedRoot>(data) {
        let json = to_json(&root).expect("a parsed trusted root serializes");
        let again: TrustedRoot = serde_json::from_slice(&json).expect("own JSON parses");
        assert_eq!(again, root, "TrustedRoot protobuf JSON does not round-trip");
    }
    if let Ok(trust) = TrustedLogs::from_json(data) {
        assert!(!trust.logs().is_empty());
        for log in trust.logs() {
            assert!(!log.log_id().is_empty());
            assert!(!log.key_name().as_str().is_empty());
        }
    }
});
