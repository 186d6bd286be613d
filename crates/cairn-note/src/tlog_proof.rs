//! C2SP tlog-proof files (<https://c2sp.org/tlog-proof>): [`TlogProof`], an offline proof
//! that an entry is in a log, usually stored as `*.tlog-proof`.
//!
//! ```text
//! tlog-proof = "c2sp.org/tlog-proof@v1" LF
//!              [ "extra " base64(extra data) LF ]      ; opaque, NOT authenticated
//!              "index " decimal(leaf index) LF          ; no leading zeros
//!              *( base64(32-byte hash) LF )             ; inclusion proof, leaf's sibling first
//!              LF
//!              signed-checkpoint                        ; a signed note, verbatim
//! ```

use cairn_merkle::Hash;

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::codec::{b64_decode_canonical, b64_encode, parse_decimal_u64};
use crate::error::{Format, NoteError};
use crate::name::Origin;
use crate::note::{Note, NoteVerifier, VerifiedNote, MAX_NOTE_SIZE};

/// The first line of every tlog-proof file.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The largest tlog-proof file [`TlogProof::parse`] accepts: a maximal note plus the same
/// again for the header, extra data and proof.
pub const MAX_TLOG_PROOF_SIZE: usize = 2 * MAX_NOTE_SIZE;

/// The most inclusion-proof hashes accepted: a tree of at most 2^64 - 1 leaves has at most
/// 64 levels.
pub const MAX_PROOF_HASHES: usize = 64;

/// A parsed `c2sp.org/tlog-proof@v1` file.
///
/// Parsing checks the syntax and that the checkpoint note's text is a checkpoint. It does not
/// check the proof: that the index is below the tree size, that the proof has the right length
/// and hashes to the root are checked by the inclusion-proof verifier (cairn-merkle), and the
/// signatures by [`TlogProof::open`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TlogProof {
    /// Opaque application data from the `extra` line. Not authenticated by anything.
    pub extra_data: Option<Vec<u8>>,
    /// The zero-based index of the entry in the log.
    pub index: u64,
    /// The RFC 6962 inclusion proof, from the leaf's sibling up to the root's child.
    pub proof: Vec<Hash>,
    /// The signed checkpoint (with any cosignatures) the proof leads to.
    pub checkpoint: Note,
}

impl TlogProof {
    /// Parses a tlog-proof file, strictly.
    ///
    /// # Errors
    /// [`NoteError::Malformed`]: [`Format::TlogProof`] for a bad header, `extra` or `index`
    /// line, proof hash, missing empty line, more than [`MAX_PROOF_HASHES`] hashes, or more than
    /// [`MAX_TLOG_PROOF_SIZE`] bytes; the errors of [`Note::parse`] and
    /// [`Checkpoint::parse_body`] for the checkpoint.
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, NoteError> {
        let bad = |reason| NoteError::malformed(Format::TlogProof, reason);
        if bytes.len() > MAX_TLOG_PROOF_SIZE {
            return Err(bad("file is too large"));
        }
        // Take lines off the front until the empty line; the rest is the note, as bytes.
        let mut rest = bytes;
        let mut next_line = || take_line(&mut rest);

        if next_line()? != TLOG_PROOF_HEADER {
            return Err(bad("first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut line = next_line()?;
        let extra_data = match line.strip_prefix("extra ") {
            Some(b64) => {
                let data = b64_decode_canonical(b64)
                    .ok_or_else(|| bad("extra data is not canonical base64"))?;
                line = next_line()?;
                Some(data)
            }
            None => None,
        };
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal_u64)
            .ok_or_else(|| bad("no canonical index line"))?;
        let mut proof = Vec::new();
        loop {
            let line = next_line()?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(bad("too many proof hashes"));
            }
            let hash = b64_decode_canonical(line)
                .and_then(|b| Hash::from_slice(&b))
                .ok_or_else(|| bad("proof hash is not canonical base64 of 32 bytes"))?;
            proof.push(hash);
        }
        let checkpoint = SignedCheckpoint::parse(rest)?.note().clone();
        Ok(TlogProof {
            extra_data,
            index,
            proof,
            checkpoint,
        })
    }

    /// Returns the file's bytes.
    ///
    /// For a proof whose checkpoint passes [`Note::validate`] and parses as a checkpoint, with
    /// at most [`MAX_PROOF_HASHES`] hashes, `TlogProof::parse(&p.to_bytes())` returns an equal
    /// proof.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = &self.extra_data {
            out.push_str("extra ");
            out.push_str(&b64_encode(extra));
            out.push('\n');
        }
        out.push_str(&format!("index {}\n", self.index));
        for hash in &self.proof {
            out.push_str(&hash.to_base64());
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint.to_bytes());
        bytes
    }

    /// Returns the checkpoint body, parsed but not verified.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] when the checkpoint note's text is not a checkpoint (only
    /// possible for a hand-built value: [`TlogProof::parse`] checks it).
    pub fn unverified_checkpoint(&self) -> Result<Checkpoint, NoteError> {
        Checkpoint::parse_body(&self.checkpoint.text)
    }

    /// Verifies the checkpoint's signatures and origin, as [`crate::open_checkpoint`] does,
    /// and returns the checkpoint to check the inclusion proof against.
    ///
    /// # Errors
    /// As [`crate::open_checkpoint`].
    pub fn open(
        &self,
        verifiers: &[&dyn NoteVerifier],
        expected_origin: Option<&Origin>,
    ) -> Result<(Checkpoint, VerifiedNote), NoteError> {
        SignedCheckpoint::from_note(self.checkpoint.clone())?.verify(verifiers, expected_origin)
    }
}

/// Splits the first line (without its newline) off `rest`.
fn take_line<'a>(rest: &mut &'a [u8]) -> Result<&'a str, NoteError> {
    let bad = |reason| NoteError::malformed(Format::TlogProof, reason);
    let cur: &'a [u8] = rest;
    let end = cur
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| bad("missing newline"))?;
    let (line, tail) = cur.split_at(end);
    // tail starts with the newline found above.
    *rest = tail.get(1..).unwrap_or_default();
    std::str::from_utf8(line).map_err(|_| bad("not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::ed25519::Ed25519Signer;
    use ed25519_dalek::SigningKey;

    fn sample(extra: Option<Vec<u8>>, hashes: usize) -> TlogProof {
        let log = Ed25519Signer::new(
            "example.com/fancylog".parse().unwrap(),
            SigningKey::from_bytes(&[5; 32]),
        );
        let cp = Checkpoint::new(
            "example.com/fancylog".parse().unwrap(),
            109482,
            Hash([1; 32]),
        );
        TlogProof {
            extra_data: extra,
            index: 73894,
            proof: (0..hashes).map(|i| Hash([i as u8; 32])).collect(),
            checkpoint: sign_checkpoint(&cp, &[&log]).unwrap(),
        }
    }

    #[test]
    fn round_trip() {
        for p in [
            sample(None, 0),
            sample(Some(vec![]), 1),
            sample(Some(b"age-v1.2.1-darwin-arm64.tar.gz".to_vec()), 5),
        ] {
            let bytes = p.to_bytes();
            assert_eq!(TlogProof::parse(&bytes).unwrap(), p);
        }
        let text = String::from_utf8(sample(Some(vec![1, 2, 3]), 1).to_bytes()).unwrap();
        assert!(text.starts_with(
            "c2sp.org/tlog-proof@v1\nextra AQID\nindex 73894\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nexample.com/fancylog\n109482\n"
        ));
    }

    #[test]
    fn rejects() {
        let good = String::from_utf8(sample(Some(vec![1, 2, 3]), 1).to_bytes()).unwrap();
        let h = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        for (from, to) in [
            ("c2sp.org/tlog-proof@v1\n", "c2sp.org/tlog-proof@v2\n"),
            ("c2sp.org/tlog-proof@v1\n", ""),
            ("extra AQID\n", "extra AQI\n"),
            ("extra AQID\n", "extra  AQID\n"),
            ("extra AQID\n", "extra\n"),
            ("index 73894\n", "index 073894\n"),
            ("index 73894\n", "index  73894\n"),
            ("index 73894\n", "index -1\n"),
            ("index 73894\n", ""),
            ("extra AQID\nindex 73894\n", "index 73894\nextra AQID\n"),
            (&format!("{h}\n\n"), &format!("{h}\n")),
            (&format!("{h}\n"), "AAAA\n"),
            (&format!("{h}\n"), &format!("{h} \n")),
            ("\n\nexample.com/fancylog\n", "\n\n\nexample.com/fancylog\n"),
            ("\n109482\n", "\n109482x\n"),
        ] {
            let mangled = good.replacen(from, to, 1);
            assert_ne!(mangled, good);
            assert!(TlogProof::parse(mangled.as_bytes()).is_err(), "{mangled:?}");
        }
        let many = sample(None, MAX_PROOF_HASHES + 1);
        assert!(TlogProof::parse(&many.to_bytes()).is_err());
        let max = sample(None, MAX_PROOF_HASHES);
        assert!(TlogProof::parse(&max.to_bytes()).is_ok());
    }
}
