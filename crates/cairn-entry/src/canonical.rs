//! A writer for the RFC 8785 (JSON Canonicalization Scheme) subset our formats use: objects,
//! strings and integers.
//!
//! Writing is infallible and does not go through serde, so the bytes depend only on this
//! file: object members sorted by the UTF-16 code units of their names (§3.2.3), no
//! whitespace, strings escaped as ECMAScript `JSON.stringify` does (§3.2.2.2: `\"`, `\\`,
//! `\b \t \n \f \r`, other controls as `\u00xx` lower-case, everything else literal UTF-8).
//!
//! Integers are written in plain decimal. RFC 8785 formats numbers as IEEE-754 doubles, which
//! agrees for every integer of magnitude at most 2^53; callers only write Unix times in
//! seconds and log indexes, which stay far below that.

use std::borrow::Cow;

/// A JSON value of the canonical subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Str(Cow<'a, str>),
    Int(i128),
    Obj(Vec<(&'static str, Value<'a>)>),
}

impl<'a> Value<'a> {
    pub(crate) fn str(s: impl Into<Cow<'a, str>>) -> Self {
        Self::Str(s.into())
    }

    pub(crate) fn obj(members: impl IntoIterator<Item = (&'static str, Value<'a>)>) -> Self {
        Self::Obj(members.into_iter().collect())
    }

    /// Returns the canonical serialization.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Str(s) => write_string(s, out),
            Self::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Self::Obj(members) => {
                let mut sorted: Vec<&(&'static str, Value<'a>)> = members.iter().collect();
                sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                out.push(b'{');
                for (i, (name, value)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_string(name, out);
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
        }
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if u32::from(c) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_members_and_escapes_like_json_stringify() {
        let v = Value::obj([
            ("b", Value::str("x\"\\\u{1}\n/é€")),
            ("a", Value::Int(-12)),
            ("logIndex", Value::Int(1)),
            ("logID", Value::str("")),
        ]);
        assert_eq!(
            String::from_utf8(v.to_bytes()).unwrap(),
            r#"{"a":-12,"b":"x\"\\\u0001\n/é€","logID":"","logIndex":1}"#
        );
    }

    #[test]
    fn utf16_order_differs_from_utf8_order_above_the_bmp() {
        // U+FF61 sorts after U+1F600 in UTF-8 but before it in UTF-16 (surrogates D83D..).
        let v = Value::obj([("\u{1F600}", Value::Int(1)), ("\u{FF61}", Value::Int(2))]);
        assert_eq!(
            String::from_utf8(v.to_bytes()).unwrap(),
            "{\"\u{1F600}\":1,\"\u{FF61}\":2}"
        );
    }

    #[test]
    fn agrees_with_serde_json_on_strings() {
        // serde_json's compact string escaping is the same as RFC 8785's.
        let s: String = (0u32..0x250).filter_map(char::from_u32).collect();
        let ours = Value::str(s.as_str()).to_bytes();
        assert_eq!(ours, serde_json::to_vec(&s).unwrap());
    }
}
