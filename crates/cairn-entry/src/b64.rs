//! Base64 as the two JSON formats here use it.
//!
//! * Requests follow the protobuf JSON mapping, whose parsers "accept either standard or
//!   URL-safe base64 encoding with/without paddings". We do the same, but one value must use
//!   one alphabet, padding is all or nothing, and non-zero trailing bits are rejected (so each byte string has one
//!   accepted spelling per alphabet and padding choice). What is logged is always re-encoded
//!   from the bytes, so this leniency never reaches a log entry.
//! * Canonical bodies, SET payloads and everything we write use standard base64 with padding
//!   (what Go's `encoding/json` and `protojson` write). Parsing a canonical body accepts only
//!   that, which the re-encode-and-compare check enforces anyway.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::error::EntryError;

const PADDED: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireCanonical);
const UNPADDED: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_encode_padding(false)
    .with_decode_padding_mode(DecodePaddingMode::RequireNone);
const STANDARD_PADDED: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, PADDED);
const STANDARD_UNPADDED: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, UNPADDED);
const URL_SAFE_PADDED: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, PADDED);
const URL_SAFE_UNPADDED: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, UNPADDED);

/// Encodes `bytes` as standard base64 with padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes a protobuf JSON `bytes` value: standard or URL-safe alphabet, padding optional
/// but, when present, complete (as Go's protojson: padded if it has '=', raw otherwise).
pub(crate) fn decode_protojson(field: &'static str, text: &str) -> Result<Vec<u8>, EntryError> {
    let has_std = text.contains(['+', '/']);
    let has_url = text.contains(['-', '_']);
    let padded = text.contains('=');
    let engine = match (has_std, has_url, padded) {
        (true, true, _) => {
            return Err(EntryError::Base64 {
                field,
                reason: "mixes the standard (+/) and URL-safe (-_) alphabets".into(),
            })
        }
        (false, true, true) => &URL_SAFE_PADDED,
        (false, true, false) => &URL_SAFE_UNPADDED,
        (_, false, true) => &STANDARD_PADDED,
        (_, false, false) => &STANDARD_UNPADDED,
    };
    engine.decode(text).map_err(|e| EntryError::Base64 {
        field,
        reason: e.to_string(),
    })
}

/// Decodes standard, padded base64 only (the canonical spelling).
pub(crate) fn decode_canonical(field: &'static str, text: &str) -> Result<Vec<u8>, EntryError> {
    STANDARD.decode(text).map_err(|e| EntryError::Base64 {
        field,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protojson_accepts_all_four_spellings() {
        let bytes = [0xfbu8, 0xff, 0x01, 0x02];
        for text in ["+/8BAg==", "+/8BAg", "-_8BAg==", "-_8BAg"] {
            assert_eq!(decode_protojson("f", text).unwrap(), bytes, "{text}");
        }
    }

    #[test]
    fn protojson_rejects_mixed_alphabets_whitespace_and_trailing_bits() {
        for text in ["+_8BAg==", "+/8B Ag==", "+/8BAh==", "+/8BAg=", "!!!!"] {
            assert!(
                matches!(
                    decode_protojson("f", text),
                    Err(EntryError::Base64 { field: "f", .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn canonical_requires_standard_padded() {
        assert!(decode_canonical("f", "+/8BAg==").is_ok());
        assert!(decode_canonical("f", "+/8BAg").is_err());
        assert!(decode_canonical("f", "-_8BAg==").is_err());
    }
}
