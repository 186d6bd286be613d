//! C2SP signed notes (<https://c2sp.org/signed-note>): [`Note`], its [`NoteSignature`] lines,
//! the [`NoteSigner`] and [`NoteVerifier`] traits, and [`VerifiedNote`].
//!
//! ```text
//! note           = text LF 1*signature-line        ; at most 1 MiB, at most 100 signatures
//! text           = 1*line                          ; may contain empty lines
//! line           = *(any char >= U+0020) LF
//! signature-line = U+2014 SP key-name SP base64(key-id[4, big-endian] || signature[1..]) LF
//! ```
//!
//! The text is split from the signatures at the LAST empty line, so the text itself may hold
//! empty lines. The signed message is the text, including its final newline.

use std::fmt;

use crate::codec::{b64_decode_canonical, b64_encode};
use crate::error::{Format, NoteError};
use crate::name::{is_forbidden_note_char, KeyName};

/// The largest signed note [`Note::parse`] accepts, in bytes (1 MiB). Go's `note` package
/// and torchwood cap notes at 1e6 bytes; ours is a little larger so anything they emit parses.
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// The most signature lines [`Note::parse`] accepts. The spec requires at least 16; 100 is
/// Go's `note.Open` limit, and leaves room for a log key, its rotation, and many witnesses.
pub const MAX_SIGNATURES: usize = 100;

/// The UTF-8 bytes that start every signature line: an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Something that signs note text: a log key, a witness key, or a remote key service.
///
/// Implementations must be deterministic about `name` and `key_id`: the pair identifies the key
/// and algorithm to every verifier.
pub trait NoteSigner: Send + Sync {
    /// Returns the key name written on the signature line.
    fn name(&self) -> &KeyName;
    /// Returns the 32-bit key ID written (big-endian) before the signature bytes.
    fn key_id(&self) -> u32;
    /// Returns the signature over `msg` (the note text, final newline included), without the
    /// key ID prefix.
    ///
    /// # Errors
    /// Whatever the implementation fails with; [`NoteError::Signer`] for a failing key service.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError>;
}

/// Something that checks note signatures for one key.
pub trait NoteVerifier: Send + Sync {
    /// Returns the key name this verifier answers for.
    fn name(&self) -> &KeyName;
    /// Returns the key ID this verifier answers for.
    fn key_id(&self) -> u32;
    /// Returns true when `sig` (the signature bytes after the key ID) is a valid signature over
    /// `msg` (the note text) by this key. Must not panic on any input.
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool;
}

/// One signature line of a note: `— <name> base64(key_id || signature)`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    /// The key name on the line.
    pub name: KeyName,
    /// The key ID: the first four decoded bytes, big-endian.
    pub key_id: u32,
    /// The signature bytes after the key ID. [`Note::parse`] requires at least one byte.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Returns the base64 field of the signature line: base64(key_id || signature).
    pub fn to_base64(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        b64_encode(&raw)
    }

    /// Returns the full signature line, with its final newline.
    pub fn to_line(&self) -> String {
        format!("{self}\n")
    }

    /// Parses one signature line without its final newline (`— <name> <base64>`).
    ///
    /// # Errors
    /// [`NoteError::Malformed`] ([`Format::SignatureLine`]) when the line lacks the em-dash
    /// prefix, the name is invalid, or the base64 is non-canonical or decodes to fewer than
    /// five bytes (a key ID and at least one signature byte).
    pub fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        let bad = |reason| NoteError::malformed(Format::SignatureLine, reason);
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad("does not start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("no space between key name and signature"))?;
        let name: KeyName = name.parse().map_err(|_| bad("invalid key name"))?;
        let raw =
            b64_decode_canonical(b64).ok_or_else(|| bad("signature is not canonical base64"))?;
        if raw.len() < 5 {
            return Err(bad("signature is shorter than a key ID and one byte"));
        }
        let (id, sig) = raw.split_at(4);
        let key_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        Ok(NoteSignature {
            name,
            key_id,
            signature: sig.to_vec(),
        })
    }

    /// Parses a block of signature lines, each ending in a newline, such as a tlog-witness
    /// `add-checkpoint` response body. An empty block is an empty list.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] when the block is not UTF-8, has more than [`MAX_SIGNATURES`]
    /// lines or more than [`MAX_NOTE_SIZE`] bytes, misses a final newline, or has a bad line.
    pub fn parse_lines(block: &[u8]) -> Result<Vec<NoteSignature>, NoteError> {
        let bad = |reason| NoteError::malformed(Format::SignatureLine, reason);
        if block.len() > MAX_NOTE_SIZE {
            return Err(bad("signature block is too large"));
        }
        let block = std::str::from_utf8(block).map_err(|_| bad("not UTF-8"))?;
        if block.is_empty() {
            return Ok(Vec::new());
        }
        let body = block
            .strip_suffix('\n')
            .ok_or_else(|| bad("does not end in a newline"))?;
        let mut sigs = Vec::new();
        for line in body.split('\n') {
            if sigs.len() == MAX_SIGNATURES {
                return Err(bad("too many signatures"));
            }
            sigs.push(NoteSignature::parse_line(line)?);
        }
        Ok(sigs)
    }

    fn same_key(&self, name: &KeyName, key_id: u32) -> bool {
        self.key_id == key_id && &self.name == name
    }
}

impl fmt::Display for NoteSignature {
    /// Writes the signature line without its final newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SIG_PREFIX}{} {}", self.name, self.to_base64())
    }
}

impl fmt::Debug for NoteSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSignature")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("signature", &b64_encode(&self.signature))
            .finish()
    }
}

/// A signed note: text plus one or more signatures. The text is untrusted until
/// [`Note::verify`] returns a [`VerifiedNote`].
///
/// The fields are public so callers can read them and assemble notes; [`Note::parse`],
/// [`Note::sign`] and [`Note::verify`] check them, and [`Note::validate`] says whether a
/// hand-built note would survive [`Note::to_bytes`] then [`Note::parse`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Note {
    /// The note text, ending in a newline. This is exactly the signed message.
    pub text: String,
    /// The signatures, in the order of their lines.
    pub signatures: Vec<NoteSignature>,
}

/// Checks that `text` can be the text of a note: non-empty, ending in a newline, with no control
/// character other than newline, and no larger than [`MAX_NOTE_SIZE`].
pub(crate) fn validate_text(text: &str) -> Result<(), NoteError> {
    let bad = |reason| NoteError::malformed(Format::Note, reason);
    if text.len() > MAX_NOTE_SIZE {
        return Err(bad("note is too large"));
    }
    if !text.ends_with('\n') {
        return Err(bad("text does not end in a newline"));
    }
    if text.chars().any(is_forbidden_note_char) {
        return Err(bad("text contains a control character"));
    }
    Ok(())
}

/// Checks a note's parts: see [`Note::validate`].
fn validate_parts(text: &str, signatures: &[NoteSignature]) -> Result<(), NoteError> {
    let bad = |reason| NoteError::malformed(Format::Note, reason);
    validate_text(text)?;
    if signatures.is_empty() {
        return Err(bad("no signatures"));
    }
    if signatures.len() > MAX_SIGNATURES {
        return Err(bad("too many signatures"));
    }
    if signatures.iter().any(|s| s.signature.is_empty()) {
        return Err(bad("empty signature"));
    }
    if encoded_len(text, signatures) > MAX_NOTE_SIZE {
        return Err(bad("note is too large"));
    }
    Ok(())
}

/// Returns the length of the encoded note without building it.
fn encoded_len(text: &str, signatures: &[NoteSignature]) -> usize {
    let sigs: usize = signatures
        .iter()
        // "— " is 4 bytes, then name, space, base64 of 4+n bytes, newline.
        .map(|s| 4 + s.name.as_str().len() + 1 + (4 + s.signature.len()).div_ceil(3) * 4 + 1)
        .sum();
    text.len() + 1 + sigs
}

impl Note {
    /// Parses a signed note, strictly.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] ([`Format::Note`] or [`Format::SignatureLine`]) when the input
    /// is larger than [`MAX_NOTE_SIZE`], is not UTF-8, contains a control character other than
    /// newline, has no empty line separating text from signatures, has no signature or more
    /// than [`MAX_SIGNATURES`], does not end in a newline, or has a malformed signature line.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        let bad = |reason| NoteError::malformed(Format::Note, reason);
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(bad("note is too large"));
        }
        let s = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        if s.chars().any(is_forbidden_note_char) {
            return Err(bad("contains a control character"));
        }
        // The last "\n\n" ends the text: signature lines start with an em dash, so the
        // signature block holds no empty line, and the text (which must be non-empty and end
        // in a newline) holds the first of the two newlines.
        let split = s
            .rfind("\n\n")
            .ok_or_else(|| bad("no empty line before the signatures"))?;
        let (text, sigs) = (&s[..split + 1], &s[split + 2..]);
        if sigs.is_empty() {
            return Err(bad("no signatures"));
        }
        let signatures = NoteSignature::parse_lines(sigs.as_bytes())?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Returns the note's bytes: text, an empty line, and one line per signature.
    ///
    /// For a note that passes [`Note::validate`], `Note::parse(&note.to_bytes())` returns an
    /// equal note.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.text.len() + 1 + 100 * self.signatures.len());
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
        }
        out.into_bytes()
    }

    /// Checks that the note is one [`Note::parse`] would return: valid text, between one and
    /// [`MAX_SIGNATURES`] signatures each with at least one signature byte, and encoded size
    /// within [`MAX_NOTE_SIZE`].
    ///
    /// # Errors
    /// [`NoteError::Malformed`] saying which rule is broken.
    pub fn validate(&self) -> Result<(), NoteError> {
        validate_parts(&self.text, &self.signatures)
    }

    /// Signs `text` with every signer, in order, and returns the note.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] when `text` is not valid note text (empty, no final newline, a
    /// control character) or the signed note would exceed a limit;
    /// [`NoteError::InvalidArgument`] when `signers` is empty or two signers share a name and
    /// key ID; any error a signer returns.
    pub fn sign(text: &str, signers: &[&dyn NoteSigner]) -> Result<Note, NoteError> {
        validate_text(text)?;
        if signers.is_empty() {
            return Err(NoteError::InvalidArgument(
                "a note needs at least one signer",
            ));
        }
        let mut note = Note {
            text: text.to_owned(),
            signatures: Vec::with_capacity(signers.len()),
        };
        note.add_signatures(signers)?;
        Ok(note)
    }

    /// Signs the note's text with more signers (a witness adding its cosignature, a log adding
    /// a second key during rotation) and appends their signatures.
    ///
    /// A signer whose name and key ID already have a signature on the note replaces that
    /// signature in place, so re-signing never produces the duplicate that
    /// [`Note::verify`] rejects. On error the note is unchanged.
    ///
    /// # Errors
    /// As for [`Note::sign`], except that an empty `signers` is allowed and does nothing.
    pub fn add_signatures(&mut self, signers: &[&dyn NoteSigner]) -> Result<(), NoteError> {
        validate_text(&self.text)?;
        let mut new = Vec::with_capacity(signers.len());
        for signer in signers {
            let (name, key_id) = (signer.name(), signer.key_id());
            if new.iter().any(|s: &NoteSignature| s.same_key(name, key_id)) {
                return Err(NoteError::InvalidArgument(
                    "two signers with the same key name and key ID",
                ));
            }
            let signature = signer.sign(self.text.as_bytes())?;
            if signature.is_empty() {
                return Err(NoteError::Signer(
                    "signer returned an empty signature".into(),
                ));
            }
            new.push(NoteSignature {
                name: name.clone(),
                key_id,
                signature,
            });
        }
        self.push_signatures(new)
    }

    /// Appends signatures made elsewhere (such as cosignature lines returned by a witness),
    /// replacing any existing signature with the same name and key ID. The signatures are not
    /// checked here; [`Note::verify`] checks them. On error the note is unchanged.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] when the result would break a limit of [`Note::validate`].
    pub fn add_signature_lines(&mut self, sigs: &[NoteSignature]) -> Result<(), NoteError> {
        self.push_signatures(sigs.to_vec())
    }

    fn push_signatures(&mut self, new: Vec<NoteSignature>) -> Result<(), NoteError> {
        let mut next = self.signatures.clone();
        for sig in new {
            match next.iter_mut().find(|s| s.same_key(&sig.name, sig.key_id)) {
                Some(old) => *old = sig,
                None => next.push(sig),
            }
        }
        validate_parts(&self.text, &next)?;
        self.signatures = next;
        Ok(())
    }

    /// Verifies the note against known keys and returns the verified note.
    ///
    /// A signature is from a known key when a verifier has the same key name AND key ID;
    /// signatures from other keys are ignored, as the spec requires. Every known signature must
    /// verify, and at least one must exist. When several verifiers share a name and key ID, a
    /// signature verifies if any of them accepts it.
    ///
    /// # Errors
    /// - [`NoteError::Malformed`] when the note fails [`Note::validate`];
    /// - [`NoteError::DuplicateSignature`] when a known key signed twice;
    /// - [`NoteError::BadSignature`] when a known key's signature does not verify;
    /// - [`NoteError::UnverifiedNote`] when no signature is from a known key.
    pub fn verify(&self, verifiers: &[&dyn NoteVerifier]) -> Result<VerifiedNote, NoteError> {
        self.validate()?;
        let msg = self.text.as_bytes();
        let mut verified: Vec<usize> = Vec::new();
        for (i, sig) in self.signatures.iter().enumerate() {
            let mut known = verifiers
                .iter()
                .filter(|v| sig.same_key(v.name(), v.key_id()))
                .peekable();
            if known.peek().is_none() {
                continue;
            }
            if verified
                .iter()
                .any(|&j| self.signatures[j].same_key(&sig.name, sig.key_id))
            {
                return Err(NoteError::DuplicateSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            if !known.any(|v| v.verify(msg, &sig.signature)) {
                return Err(NoteError::BadSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            verified.push(i);
        }
        if verified.is_empty() {
            return Err(NoteError::UnverifiedNote);
        }
        Ok(VerifiedNote {
            note: self.clone(),
            verified,
        })
    }
}

/// A note whose signatures were checked by [`Note::verify`]: its text is vouched for by at
/// least one known key. There is no other way to make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedNote {
    note: Note,
    /// Indexes into `note.signatures` of the signatures that verified, in line order.
    verified: Vec<usize>,
}

impl VerifiedNote {
    /// Returns the verified text.
    pub fn text(&self) -> &str {
        &self.note.text
    }

    /// Returns the whole note, including signatures from keys that were not checked (which a
    /// monitor may want to pass on, but must not count).
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// Returns the signatures that verified, in line order.
    pub fn verified_signatures(&self) -> impl Iterator<Item = &NoteSignature> + '_ {
        self.verified
            .iter()
            .filter_map(|&i| self.note.signatures.get(i))
    }

    /// Returns the (key name, key ID) of every key whose signature verified, in line order.
    pub fn signers(&self) -> Vec<(KeyName, u32)> {
        self.verified_signatures()
            .map(|s| (s.name.clone(), s.key_id))
            .collect()
    }

    /// Returns true when the key with this name and key ID signed and verified.
    pub fn is_signed_by(&self, name: &KeyName, key_id: u32) -> bool {
        self.verified_signatures().any(|s| s.same_key(name, key_id))
    }

    /// Returns the note, dropping the proof that it verified.
    pub fn into_note(self) -> Note {
        self.note
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy signer/verifier: the "signature" is the message length plus a secret byte.
    struct Toy {
        name: KeyName,
        id: u32,
        secret: u8,
    }

    impl Toy {
        fn new(name: &str, id: u32, secret: u8) -> Toy {
            Toy {
                name: name.parse().unwrap(),
                id,
                secret,
            }
        }
    }

    impl NoteSigner for Toy {
        fn name(&self) -> &KeyName {
            &self.name
        }
        fn key_id(&self) -> u32 {
            self.id
        }
        fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError> {
            Ok(vec![msg.len() as u8, self.secret])
        }
    }

    impl NoteVerifier for Toy {
        fn name(&self) -> &KeyName {
            &self.name
        }
        fn key_id(&self) -> u32 {
            self.id
        }
        fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
            sig == [msg.len() as u8, self.secret]
        }
    }

    #[test]
    fn split_at_last_empty_line() {
        let a = Toy::new("a", 1, 7);
        let note = Note::sign("x\n\ny\n\n", &[&a]).unwrap();
        let bytes = note.to_bytes();
        assert!(bytes.starts_with(b"x\n\ny\n\n\n\xe2\x80\x94 a "));
        let back = Note::parse(&bytes).unwrap();
        assert_eq!(back, note);
        assert_eq!(back.text, "x\n\ny\n\n");
        let v = back.verify(&[&a]).unwrap();
        assert_eq!(v.text(), "x\n\ny\n\n");
        assert_eq!(v.signers(), vec![(a.name.clone(), 1)]);
    }

    #[test]
    fn sign_rejects_bad_text() {
        let a = Toy::new("a", 1, 7);
        for bad in ["", "no newline", "tab\there\n", "cr\r\n"] {
            assert!(matches!(
                Note::sign(bad, &[&a]),
                Err(NoteError::Malformed { .. })
            ));
        }
        assert!(matches!(
            Note::sign("ok\n", &[]),
            Err(NoteError::InvalidArgument(_))
        ));
        assert!(matches!(
            Note::sign("ok\n", &[&a, &Toy::new("a", 1, 8)]),
            Err(NoteError::InvalidArgument(_))
        ));
    }

    #[test]
    fn parse_rejects() {
        let cases: &[&[u8]] = &[
            b"",
            b"text\n",
            b"text\n\n",
            b"\n\xe2\x80\x94 a AAAAAAA=\n",
            b"text\n\n\xe2\x80\x94 a AAAAAAA=",
            b"text\n\n- a AAAAAAA=\n",
            b"text\n\n\xe2\x80\x94 a AAAAAA==\n", // only 4 bytes: no signature
            b"text\n\n\xe2\x80\x94 a AAAAAAB=\n", // non-canonical trailing bits
            b"text\n\n\xe2\x80\x94 a AAAAAAA\n",  // missing padding
            b"text\n\n\xe2\x80\x94 a+b AAAAAAA=\n", // bad name
            b"text\n\n\xe2\x80\x94  AAAAAAA=\n",  // empty name
            b"text\n\n\xe2\x80\x94 a AAAAAAA= \n", // trailing space
            b"text\n\n\xe2\x80\x94 a AAAAAAA=\n\n", // empty line at end
            b"te\rxt\n\n\xe2\x80\x94 a AAAAAAA=\n", // control character
            b"t\xffext\n\n\xe2\x80\x94 a AAAAAAA=\n", // not UTF-8
        ];
        for case in cases {
            assert!(
                matches!(Note::parse(case), Err(NoteError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(case)
            );
        }
        assert!(Note::parse(b"text\n\n\xe2\x80\x94 a AAAAAAA=\n").is_ok());
        // An empty line followed by a line is a valid one-line text "\n".
        assert_eq!(
            Note::parse(b"\n\n\xe2\x80\x94 a AAAAAAA=\n").unwrap().text,
            "\n"
        );
    }

    #[test]
    fn limits() {
        let line = "\u{2014} a AAAAAAA=\n";
        let ok = format!("t\n\n{}", line.repeat(MAX_SIGNATURES));
        assert_eq!(Note::parse(ok.as_bytes()).unwrap().signatures.len(), 100);
        let too_many = format!("t\n\n{}", line.repeat(MAX_SIGNATURES + 1));
        assert!(Note::parse(too_many.as_bytes()).is_err());

        let big_text = "a".repeat(MAX_NOTE_SIZE - 2 - line.len()) + "\n";
        let at_limit = format!("{big_text}\n{line}");
        assert_eq!(at_limit.len(), MAX_NOTE_SIZE);
        let note = Note::parse(at_limit.as_bytes()).unwrap();
        assert_eq!(encoded_len(&note.text, &note.signatures), MAX_NOTE_SIZE);
        let over = format!("a{at_limit}");
        assert!(Note::parse(over.as_bytes()).is_err());
    }

    #[test]
    fn verify_rules() {
        let a = Toy::new("a", 1, 7);
        let b = Toy::new("b", 2, 8);
        let note = Note::sign("hello\n", &[&a, &b]).unwrap();

        // Unknown signers are ignored; no known signer is UnverifiedNote.
        assert!(note.verify(&[&a]).unwrap().is_signed_by(&a.name, 1));
        let stranger = Toy::new("c", 3, 9);
        assert!(matches!(
            note.verify(&[&stranger]),
            Err(NoteError::UnverifiedNote)
        ));
        // Same name, other ID (or other name, same ID) is a different, unknown key.
        for other in [Toy::new("a", 9, 7), Toy::new("z", 1, 7)] {
            assert!(matches!(
                note.verify(&[&other]),
                Err(NoteError::UnverifiedNote)
            ));
        }
        // A known key with a bad signature rejects the note even if another key verifies.
        let wrong_b = Toy::new("b", 2, 99);
        match note.verify(&[&a, &wrong_b]) {
            Err(NoteError::BadSignature { name, key_id }) => {
                assert_eq!((name.as_str(), key_id), ("b", 2));
            }
            other => panic!("{other:?}"),
        }
        // Duplicated known signatures are refused; duplicated unknown ones are ignored.
        let mut dup = note.clone();
        dup.signatures.push(note.signatures[0].clone());
        assert!(matches!(
            dup.verify(&[&a]),
            Err(NoteError::DuplicateSignature { .. })
        ));
        assert!(dup.verify(&[&b]).is_ok());
    }

    #[test]
    fn add_signatures_replaces_same_key() {
        let a = Toy::new("a", 1, 7);
        let b = Toy::new("b", 2, 8);
        let mut note = Note::sign("hello\n", &[&a]).unwrap();
        note.add_signatures(&[&b]).unwrap();
        let b2 = Toy::new("b", 2, 9);
        note.add_signatures(&[&b2]).unwrap();
        assert_eq!(note.signatures.len(), 2);
        assert_eq!(note.signatures[1].signature, vec![6, 9]);
        assert!(note.verify(&[&a, &b2]).is_ok());

        // A failed append leaves the note as it was.
        let mut full = note.clone();
        let many: Vec<NoteSignature> = (0..MAX_SIGNATURES as u32)
            .map(|i| NoteSignature {
                name: "w".parse().unwrap(),
                key_id: 100 + i,
                signature: vec![1],
            })
            .collect();
        assert!(full.add_signature_lines(&many).is_err());
        assert_eq!(full, note);
    }

    #[test]
    fn signature_lines() {
        let sig = NoteSignature {
            name: "w.example".parse().unwrap(),
            key_id: 0x01020304,
            signature: vec![5],
        };
        assert_eq!(sig.to_line(), "\u{2014} w.example AQIDBAU=\n");
        let block = format!("{}{}", sig.to_line(), sig.to_line());
        assert_eq!(
            NoteSignature::parse_lines(block.as_bytes()).unwrap(),
            vec![sig.clone(), sig]
        );
        assert_eq!(NoteSignature::parse_lines(b"").unwrap(), vec![]);
        assert!(NoteSignature::parse_lines(b"\n").is_err());
    }
}
