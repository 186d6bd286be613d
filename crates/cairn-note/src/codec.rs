//! Small strict codecs shared by the formats: canonical base64 and canonical decimals.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Returns the standard, padded base64 encoding (RFC 4648 §4) that every C2SP format uses.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard padded base64, accepting only the canonical encoding: the one
/// [`b64_encode`] would produce. Re-encoding and comparing is what makes this strict even
/// where a decoder tolerates non-zero trailing bits or missing padding, so one value has exactly
/// one spelling (a signature line cannot be re-spelled into a "different" line).
pub(crate) fn b64_decode_canonical(s: &str) -> Option<Vec<u8>> {
    let bytes = STANDARD.decode(s).ok()?;
    if STANDARD.encode(&bytes) != s {
        return None;
    }
    Some(bytes)
}

/// Parses an ASCII decimal `u64` with no sign and no leading zeros (except `"0"` itself), as
/// tlog-checkpoint and tlog-proof require. `str::parse` alone would accept `+5` and `007`.
pub(crate) fn parse_decimal_u64(s: &str) -> Option<u64> {
    let bytes = s.as_bytes();
    let first = *bytes.first()?;
    if !bytes.iter().all(u8::is_ascii_digit) || (first == b'0' && bytes.len() > 1) {
        return None;
    }
    // All digits, so the only possible failure left is overflow.
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_is_canonical() {
        assert_eq!(parse_decimal_u64("0"), Some(0));
        assert_eq!(parse_decimal_u64("10"), Some(10));
        assert_eq!(parse_decimal_u64("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-1",
            " 1",
            "1 ",
            "18446744073709551616",
            "1e3",
            "١",
        ] {
            assert_eq!(parse_decimal_u64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn base64_is_canonical() {
        assert_eq!(b64_decode_canonical("AA=="), Some(vec![0]));
        assert_eq!(b64_decode_canonical(""), Some(vec![]));
        // Non-zero trailing bits, missing padding, URL alphabet, whitespace.
        for bad in [
            "AB==", "AA", "AA=", "_w==", "AA== ", " AA==", "A A=", "AA==AA==",
        ] {
            assert_eq!(b64_decode_canonical(bad), None, "{bad:?}");
        }
    }
}
