//! C2SP tlog-checkpoint (<https://c2sp.org/tlog-checkpoint>): [`Checkpoint`],
//! [`sign_checkpoint`], [`open_checkpoint`] and [`SignedCheckpoint`].
//!
//! ```text
//! checkpoint = origin LF tree-size LF root-hash LF *(extension LF)   ; the note text
//! origin     = 1*(char >= U+0020)
//! tree-size  = "0" / (%x31-39 *DIGIT)                                ; fits in a u64
//! root-hash  = base64(32 bytes)                                      ; canonical, padded
//! extension  = 1*(char >= U+0020)                                    ; opaque
//! ```

use std::fmt;
use std::str::FromStr;

use cairn_merkle::Hash;

use crate::codec::{b64_decode_canonical, parse_decimal_u64};
use crate::error::{Format, NoteError};
use crate::name::{is_forbidden_note_char, Origin};
use crate::note::{Note, NoteSigner, NoteVerifier, VerifiedNote};

/// A checkpoint body: a log's tree head. Untrusted until it comes out of
/// [`open_checkpoint`] or [`SignedCheckpoint::verify`].
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Checkpoint {
    /// The log's identity, the first line.
    pub origin: Origin,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 root hash of the tree at `size`.
    pub root: Hash,
    /// Extension lines, without their newlines. Each must be non-empty with no control
    /// characters; the spec does NOT RECOMMEND using them, as monitors cannot audit them.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Returns a checkpoint with no extension lines.
    pub fn new(origin: Origin, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin,
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Parses a checkpoint body (the note text, final newline included), strictly.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] ([`Format::Checkpoint`]) when there are fewer than three
    /// lines, the body does not end in a newline, the origin is invalid, the size is not a
    /// canonical decimal `u64`, the root is not canonical base64 of 32 bytes, or an extension
    /// line is empty or holds a control character.
    pub fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        let bad = |reason| NoteError::malformed(Format::Checkpoint, reason);
        let body = body
            .strip_suffix('\n')
            .ok_or_else(|| bad("does not end in a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad("fewer than three lines"));
        };
        let origin: Origin = origin.parse().map_err(|_| bad("invalid origin line"))?;
        let size =
            parse_decimal_u64(size).ok_or_else(|| bad("tree size is not a canonical decimal"))?;
        let root = b64_decode_canonical(root)
            .and_then(|b| Hash::from_slice(&b))
            .ok_or_else(|| bad("root hash is not canonical base64 of 32 bytes"))?;
        let mut extensions = Vec::new();
        for line in lines {
            check_extension(line)?;
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin,
            size,
            root,
            extensions,
        })
    }

    /// Returns the exact body text: origin, size, base64 root and extension lines, each
    /// ending in a newline. This is the note text a log signs.
    ///
    /// For a checkpoint that passes [`Checkpoint::validate`],
    /// `Checkpoint::parse_body(&c.to_body())` returns an equal checkpoint.
    pub fn to_body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }

    /// Checks the extension lines, the only fields that can be invalid.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] ([`Format::Checkpoint`]) when an extension line is empty or
    /// holds a newline or other control character.
    pub fn validate(&self) -> Result<(), NoteError> {
        self.extensions.iter().try_for_each(|e| check_extension(e))
    }
}

fn check_extension(line: &str) -> Result<(), NoteError> {
    if line.is_empty() {
        return Err(NoteError::malformed(
            Format::Checkpoint,
            "empty extension line",
        ));
    }
    if line.contains('\n') || line.chars().any(is_forbidden_note_char) {
        return Err(NoteError::malformed(
            Format::Checkpoint,
            "control character in an extension line",
        ));
    }
    Ok(())
}

impl FromStr for Checkpoint {
    type Err = NoteError;

    /// Parses a checkpoint body: see [`Checkpoint::parse_body`].
    fn from_str(s: &str) -> Result<Checkpoint, NoteError> {
        Checkpoint::parse_body(s)
    }
}

impl fmt::Display for Checkpoint {
    /// Writes [`Checkpoint::to_body`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_body())
    }
}

/// Signs a checkpoint with the log's key(s) and returns the signed note.
///
/// # Errors
/// [`NoteError::Malformed`] for invalid extension lines; otherwise as [`Note::sign`].
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    signers: &[&dyn NoteSigner],
) -> Result<Note, NoteError> {
    checkpoint.validate()?;
    Note::sign(&checkpoint.to_body(), signers)
}

/// Parses a signed checkpoint, checks its origin, and verifies it; returns the checkpoint and
/// the verified note.
///
/// Pass the log's verifier(s) here. Any one known key verifying is enough, so passing witness
/// verifiers too would accept a checkpoint that only a witness signed; check cosignatures on
/// the returned note (or with a second [`Note::verify`]) instead.
///
/// # Errors
/// [`NoteError::Malformed`] when the note or its checkpoint body is malformed;
/// [`NoteError::OriginMismatch`] when `expected_origin` is given and differs; the errors of
/// [`Note::verify`] otherwise.
pub fn open_checkpoint(
    note_bytes: &[u8],
    verifiers: &[&dyn NoteVerifier],
    expected_origin: Option<&Origin>,
) -> Result<(Checkpoint, VerifiedNote), NoteError> {
    SignedCheckpoint::parse(note_bytes)?.verify(verifiers, expected_origin)
}

/// A signed note whose text parses as a checkpoint, before its signatures are checked (a
/// witness parses first, to find the log by origin, then verifies).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
}

impl SignedCheckpoint {
    /// Parses a signed note and its checkpoint body. Nothing is verified.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] as [`Note::parse`] and [`Checkpoint::parse_body`].
    pub fn parse(note_bytes: &[u8]) -> Result<SignedCheckpoint, NoteError> {
        SignedCheckpoint::from_note(Note::parse(note_bytes)?)
    }

    /// Checks that a note's text is a checkpoint.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] as [`Note::validate`] and [`Checkpoint::parse_body`].
    pub fn from_note(note: Note) -> Result<SignedCheckpoint, NoteError> {
        note.validate()?;
        let checkpoint = Checkpoint::parse_body(&note.text)?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Returns the (unverified) checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Returns the (unverified) note.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Returns the note's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.note.to_bytes()
    }

    /// Checks the origin, when one is expected, then verifies the signatures.
    ///
    /// # Errors
    /// As [`open_checkpoint`].
    pub fn verify(
        &self,
        verifiers: &[&dyn NoteVerifier],
        expected_origin: Option<&Origin>,
    ) -> Result<(Checkpoint, VerifiedNote), NoteError> {
        if let Some(expected) = expected_origin {
            if expected != &self.checkpoint.origin {
                return Err(NoteError::OriginMismatch {
                    expected: expected.clone(),
                    found: self.checkpoint.origin.clone(),
                });
            }
        }
        let verified = self.note.verify(verifiers)?;
        Ok((self.checkpoint.clone(), verified))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_CHECKPOINT: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

    #[test]
    fn spec_example_round_trips() {
        let signed = SignedCheckpoint::parse(SPEC_CHECKPOINT.as_bytes()).unwrap();
        let cp = signed.checkpoint();
        assert_eq!(cp.origin.as_str(), "example.com/behind-the-sofa");
        assert_eq!(cp.size, 20852163);
        assert_eq!(
            cp.root.to_base64(),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        );
        assert!(cp.extensions.is_empty());
        assert_eq!(cp.to_body(), signed.note().text);
        assert_eq!(signed.to_bytes(), SPEC_CHECKPOINT.as_bytes());
    }

    #[test]
    fn body_is_strict() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        let ok = format!("o\n0\n{root}\n");
        assert_eq!(Checkpoint::parse_body(&ok).unwrap().size, 0);
        let ext = format!("o\n18446744073709551615\n{root}\next one\n+x\n");
        let cp = Checkpoint::parse_body(&ext).unwrap();
        assert_eq!(cp.size, u64::MAX);
        assert_eq!(cp.extensions, vec!["ext one", "+x"]);
        assert_eq!(cp.to_body(), ext);
        for bad in [
            String::new(),
            format!("o\n0\n{root}"),
            "o\n0\n".to_string(),
            format!("\n0\n{root}\n"),
            format!("o\n00\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".to_string(),
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".to_string(),
            "o\n1\nAAAA\n".to_string(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\na\n\nb\n"),
            format!("o\n1\n{root}\na\tb\n"),
            format!("o\r\n1\n{root}\n"),
        ] {
            assert!(Checkpoint::parse_body(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn validate_extensions() {
        let mut cp = Checkpoint::new("o".parse().unwrap(), 1, Hash([0; 32]));
        assert!(cp.validate().is_ok());
        cp.extensions.push("a\nb".into());
        assert!(cp.validate().is_err());
        cp.extensions = vec![String::new()];
        assert!(cp.validate().is_err());
    }
}
