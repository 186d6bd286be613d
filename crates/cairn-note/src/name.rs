//! Validated names: [`KeyName`] (a signed-note key name) and [`Origin`] (a checkpoint's first
//! line). Both are checked when made, so an invalid one cannot exist (STYLE P3).

use std::fmt;
use std::str::FromStr;

use crate::error::{Format, NoteError};

/// Returns true for the characters a signed note may not contain anywhere: every ASCII control
/// character below U+0020 except newline (signed-note "Format"). DEL and C1 controls are
/// allowed, as in the spec and Go's `note` package.
pub(crate) fn is_forbidden_note_char(c: char) -> bool {
    c < '\u{20}' && c != '\n'
}

/// A signed-note key name: non-empty UTF-8 with no Unicode whitespace, no `+`, and no ASCII
/// control character (below U+0020).
///
/// "Whitespace" is Unicode's White_Space property ([`char::is_whitespace`]), which is the set
/// Go's `unicode.IsSpace` uses, so we accept exactly the names `golang.org/x/mod/sumdb/note`
/// accepts. Control characters are already excluded from whole notes, so refusing them here
/// keeps every `KeyName` printable in a signature line.
///
/// ```
/// use cairn_note::KeyName;
/// let name: KeyName = "example.com/log".parse()?;
/// assert_eq!(name.as_str(), "example.com/log");
/// assert!("has space".parse::<KeyName>().is_err());
/// assert!("a+b".parse::<KeyName>().is_err());
/// # Ok::<(), cairn_note::NoteError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// Returns the name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the name as a `String`.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for KeyName {
    type Err = NoteError;

    /// Parses a key name.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] with [`Format::KeyName`] when the name is empty or contains
    /// whitespace, `+`, or a control character.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(NoteError::malformed(Format::KeyName, "empty"));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c == '+' || c < '\u{20}')
        {
            return Err(NoteError::malformed(
                Format::KeyName,
                "contains whitespace, '+' or a control character",
            ));
        }
        Ok(KeyName(s.to_owned()))
    }
}

impl TryFrom<String> for KeyName {
    type Error = NoteError;

    /// Validates a key name, as [`KeyName::from_str`] does.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for KeyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A checkpoint origin: the first line of a checkpoint body, without its newline. Non-empty,
/// with no control character below U+0020 (so no newline).
///
/// The tlog-checkpoint spec says an origin SHOULD be a scheme-less URL without spaces or `+`
/// but that clients MUST NOT assume it, so spaces and `+` are accepted here: Rekor v1 origins
/// look like `rekor.sigstore.dev - 2605736670972794746`. The character rule is the one for
/// whole signed notes, so every valid checkpoint note has a valid origin.
///
/// ```
/// use cairn_note::Origin;
/// let origin: Origin = "rekor.sigstore.dev - 2605736670972794746".parse()?;
/// assert_eq!(origin.to_string(), "rekor.sigstore.dev - 2605736670972794746");
/// assert!("".parse::<Origin>().is_err());
/// assert!("two\nlines".parse::<Origin>().is_err());
/// # Ok::<(), cairn_note::NoteError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    /// Returns the origin as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the origin as a `String`.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Returns the origin as a key name, when it is also a valid one (no spaces or `+`). The
    /// tlog-checkpoint spec says a log's key name SHOULD equal its origin.
    pub fn to_key_name(&self) -> Option<KeyName> {
        self.0.parse().ok()
    }
}

impl FromStr for Origin {
    type Err = NoteError;

    /// Parses an origin line (without its newline).
    ///
    /// # Errors
    /// [`NoteError::Malformed`] with [`Format::Origin`] when it is empty or contains a
    /// character below U+0020 (newline included).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(NoteError::malformed(Format::Origin, "empty"));
        }
        if s.chars().any(|c| c < '\u{20}') {
            return Err(NoteError::malformed(
                Format::Origin,
                "contains a control character or newline",
            ));
        }
        Ok(Origin(s.to_owned()))
    }
}

impl TryFrom<String> for Origin {
    type Error = NoteError;

    /// Validates an origin, as [`Origin::from_str`] does.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<KeyName> for Origin {
    /// Every key name is a valid origin (the reverse does not hold).
    fn from(name: KeyName) -> Origin {
        Origin(name.0)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for Origin {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        for ok in ["a", "example.com/foo", "oid/1.3.6.1.4.1", "ünï", "a\u{7f}"] {
            assert!(ok.parse::<KeyName>().is_ok(), "{ok:?}");
        }
        // U+0085, U+00A0, U+2003 and U+3000 are Unicode spaces that Go's unicode.IsSpace
        // also reports.
        for bad in [
            "",
            " ",
            "a b",
            "a\tb",
            "a\nb",
            "a+b",
            "+",
            "a\u{85}",
            "a\u{a0}",
            "a\u{2003}",
            "a\u{3000}",
            "a\u{1}",
            "a\u{1f}",
        ] {
            assert!(bad.parse::<KeyName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins() {
        for ok in [
            "a",
            "example.com/log",
            "rekor.sigstore.dev - 1",
            "a+b",
            "\u{7f}",
        ] {
            assert_eq!(ok.parse::<Origin>().unwrap().as_str(), ok);
        }
        for bad in ["", "a\n", "\n", "a\rb", "a\u{0}"] {
            assert!(bad.parse::<Origin>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "a b".parse::<Origin>().unwrap().to_key_name(),
            None,
            "an origin with a space is not a key name"
        );
    }
}
