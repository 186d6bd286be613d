//! The C2SP tlog-witness `add-checkpoint` request body (<https://c2sp.org/tlog-witness>):
//! [`AddCheckpointRequest`], strictly parsed and formatted.
//!
//! ```text
//! body        = old-line *proof-line LF signed-checkpoint
//! old-line    = "old" SP decimal LF          ; no leading zeros ("0" for zero)
//! proof-line  = base64(32-byte hash) LF      ; at most 63, none when old is 0
//! ```
//!
//! The first empty line ends the header: a header line is never empty, and the signed
//! checkpoint that follows may hold empty lines of its own (its note splits at its last one).

use crate::SignedCheckpoint;
use cairn_merkle::Hash;

/// The most consistency proof lines a request may carry (the spec's limit).
pub const MAX_PROOF_LINES: usize = 63;

/// The largest request body accepted: a note of at most 1 MiB plus the header.
pub const MAX_REQUEST_BYTES: usize = crate::MAX_NOTE_SIZE + 8 * 1024;

/// A parsed `add-checkpoint` request. Nothing in it is verified yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old_size: u64,
    /// The RFC 6962 consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint to cosign (signatures unchecked).
    pub checkpoint: SignedCheckpoint,
}

/// Why a request body is malformed (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed add-checkpoint request: {0}")]
pub struct MalformedRequest(pub String);

impl AddCheckpointRequest {
    /// Parses a request body strictly.
    ///
    /// # Errors
    /// [`MalformedRequest`] for a body over [`MAX_REQUEST_BYTES`], with no empty line, a bad
    /// `old` line, a proof line that is not canonical base64 of 32 bytes, more than
    /// [`MAX_PROOF_LINES`] proof lines, or a note that is not a signed checkpoint.
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, MalformedRequest> {
        let bad = |s: &str| MalformedRequest(s.to_string());
        if body.len() > MAX_REQUEST_BYTES {
            return Err(bad("body too large"));
        }
        let split = body
            .windows(2)
            .position(|w| w == b"\n\n")
            .ok_or_else(|| bad("no empty line after the header"))?;
        let header = std::str::from_utf8(&body[..split]).map_err(|_| bad("header is not UTF-8"))?;
        let note = &body[split + 2..];
        let mut lines = header.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or_else(|| bad("first line is not \"old <size>\""))?;
        let old_size =
            parse_decimal(old).ok_or_else(|| bad("old size is not a canonical decimal"))?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("more than 63 proof lines"));
            }
            let h = Hash::from_base64(line)
                .filter(|h| h.to_base64() == line)
                .ok_or_else(|| bad("proof line is not canonical base64 of 32 bytes"))?;
            proof.push(h);
        }
        let checkpoint = SignedCheckpoint::parse(note)
            .map_err(|e| MalformedRequest(format!("checkpoint: {e}")))?;
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            checkpoint,
        })
    }

    /// Returns the request body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size).into_bytes();
        for h in &self.proof {
            out.extend_from_slice(h.to_base64().as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.checkpoint.to_bytes());
        out
    }
}

/// Parses an ASCII decimal `u64` without sign or leading zeros.
fn parse_decimal(s: &str) -> Option<u64> {
    let first = *s.as_bytes().first()?;
    if !s.bytes().all(|b| b.is_ascii_digit()) || (first == b'0' && s.len() > 1) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example request of tlog-witness.md.
    const SPEC_REQUEST: &str = "old 20852014\n\
        PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
        jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\
        5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n\
        /6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\
        \n\
        example.com/behind-the-sofa\n\
        20852163\n\
        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
        \n\
        \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
        \u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";

    #[test]
    fn spec_example_round_trips() {
        let r = AddCheckpointRequest::parse(SPEC_REQUEST.as_bytes()).unwrap();
        assert_eq!(r.old_size, 20852014);
        assert_eq!(r.proof.len(), 4);
        assert_eq!(r.checkpoint.checkpoint().size, 20852163);
        assert_eq!(r.checkpoint.note().signatures.len(), 2);
        assert_eq!(r.to_bytes(), SPEC_REQUEST.as_bytes());
    }

    #[test]
    fn malformed_requests_are_rejected() {
        let note = SPEC_REQUEST.split_once("\n\n").unwrap().1;
        let h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
        let ok = format!("old 0\n\n{note}");
        assert!(AddCheckpointRequest::parse(ok.as_bytes()).is_ok());
        let too_many = format!("old 1\n{}\n{note}", format!("{h}\n").repeat(64));
        let max = format!("old 1\n{}\n{note}", format!("{h}\n").repeat(63));
        assert!(AddCheckpointRequest::parse(max.as_bytes()).is_ok());
        for bad in [
            String::new(),
            note.to_string(),
            format!("old 01\n\n{note}"),
            format!("old -1\n\n{note}"),
            format!("old +1\n\n{note}"),
            format!("old  1\n\n{note}"),
            format!("old 18446744073709551616\n\n{note}"),
            format!("Old 1\n\n{note}"),
            format!("old 1\nAAAA\n\n{note}"),
            format!("old 1\n{}\n\n{note}", &h[..43]),
            format!("old 1\n{h} \n\n{note}"),
            format!("old 1\n\n\n{note}"),
            "old 1\n\nnot a note\n".to_string(),
            format!("old 1\n\n{}", note.trim_end()),
            too_many,
        ] {
            assert!(
                AddCheckpointRequest::parse(bad.as_bytes()).is_err(),
                "{bad:?}"
            );
        }
    }
}
