//! Ed25519 witness cosignatures, C2SP tlog-cosignature v1 (<https://c2sp.org/tlog-cosignature>):
//! [`CosignatureSigner`] and [`CosignatureVerifier`] (signed-note type 0x04).
//!
//! ```text
//! key ID         = SHA-256(key name || 0x0A || 0x04 || 32-byte public key)[:4]
//! signature      = u64 timestamp (big-endian) || Ed25519(message)    ; 72 bytes
//! message        = "cosignature/v1" LF "time " decimal(timestamp) LF checkpoint-body
//! timestamp      <= 2^63 - 1, POSIX seconds
//! ```
//!
//! The message commits to the whole checkpoint body, extension lines included, but not to the
//! cosigner's name: one Ed25519 key must not serve two cosigners.

use std::fmt;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use crate::checkpoint::Checkpoint;
use crate::ed25519::{ed25519_key_from_vkey, ed25519_vkey};
use crate::error::{Format, NoteError};
use crate::name::KeyName;
use crate::note::{NoteSignature, NoteSigner, NoteVerifier};
use crate::vkey::{key_id, Vkey, SIG_TYPE_COSIGNATURE_V1};

/// The largest timestamp the spec allows (2^63 - 1).
pub const MAX_COSIGNATURE_TIMESTAMP: u64 = i64::MAX as u64;

/// The length of a v1 Ed25519 cosignature: an 8-byte timestamp and a 64-byte signature.
const COSIGNATURE_LEN: usize = 8 + 64;

/// Returns the cosignature (type 0x04) key ID of an Ed25519 public key under a name.
pub fn key_id_cosignature(name: &KeyName, public_key: &[u8; 32]) -> u32 {
    key_id(name, SIG_TYPE_COSIGNATURE_V1, public_key)
}

/// Returns the exact bytes an Ed25519 v1 cosignature signs:
/// `cosignature/v1\ntime <timestamp>\n<checkpoint body>`.
///
/// # Errors
/// [`NoteError::Malformed`] ([`Format::Checkpoint`]) when `checkpoint_body` is not a
/// canonical checkpoint body (one that parses and formats back to the same text), and
/// [`NoteError::InvalidArgument`] when `timestamp` exceeds [`MAX_COSIGNATURE_TIMESTAMP`].
pub fn cosignature_message(checkpoint_body: &str, timestamp: u64) -> Result<Vec<u8>, NoteError> {
    if timestamp > MAX_COSIGNATURE_TIMESTAMP {
        return Err(NoteError::InvalidArgument(
            "cosignature timestamp exceeds 2^63-1",
        ));
    }
    // A cosigner vouches for a checkpoint, so it signs nothing else (as torchwood does).
    // parse_body is strict, so the round trip always holds; it is checked so that a future
    // relaxation of the parser cannot make us sign text that differs from what we checked.
    let checkpoint = Checkpoint::parse_body(checkpoint_body)?;
    if checkpoint.to_body() != checkpoint_body {
        return Err(NoteError::malformed(
            Format::Checkpoint,
            "checkpoint body is not canonical",
        ));
    }
    Ok(format!("cosignature/v1\ntime {timestamp}\n{checkpoint_body}").into_bytes())
}

/// Returns the timestamp of a v1 Ed25519 cosignature (the signature bytes after the key ID, as
/// in [`NoteSignature::signature`]), or `None` when it is not 72 bytes or the timestamp
/// exceeds 2^63 - 1. The timestamp is not authenticated until the signature is verified.
pub fn cosignature_timestamp(sig: &[u8]) -> Option<u64> {
    if sig.len() != COSIGNATURE_LEN {
        return None;
    }
    let ts = u64::from_be_bytes(sig.get(..8)?.try_into().ok()?);
    (ts <= MAX_COSIGNATURE_TIMESTAMP).then_some(ts)
}

/// Makes Ed25519 v1 cosignatures (type 0x04) on checkpoints, as a witness does.
///
/// The crate reads no clock, so the time comes from the caller: either per signature with
/// [`CosignatureSigner::sign_at`], or, for use as a [`NoteSigner`] (with
/// [`crate::Note::add_signatures`]), from [`CosignatureSigner::with_timestamp`] /
/// [`CosignatureSigner::set_timestamp`]. A `NoteSigner::sign` with no timestamp set fails
/// with [`NoteError::InvalidArgument`] rather than inventing one.
#[derive(Clone)]
pub struct CosignatureSigner {
    name: KeyName,
    key: SigningKey,
    key_id: u32,
    timestamp: Option<u64>,
}

impl CosignatureSigner {
    /// Returns a cosigner for `key` under `name`, with no timestamp set.
    pub fn new(name: KeyName, key: SigningKey) -> CosignatureSigner {
        let key_id = key_id_cosignature(&name, key.verifying_key().as_bytes());
        CosignatureSigner {
            name,
            key,
            key_id,
            timestamp: None,
        }
    }

    /// Returns a cosigner with a new key from `rng` (the caller's RNG), with no timestamp set.
    pub fn generate(name: KeyName, rng: &mut impl rand_core::CryptoRngCore) -> CosignatureSigner {
        CosignatureSigner::new(name, SigningKey::generate(rng))
    }

    /// Returns the private key, for the caller to store.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Returns this cosigner with the timestamp that [`NoteSigner::sign`] will use.
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: u64) -> CosignatureSigner {
        self.timestamp = Some(timestamp);
        self
    }

    /// Sets the timestamp that [`NoteSigner::sign`] will use.
    pub fn set_timestamp(&mut self, timestamp: u64) {
        self.timestamp = Some(timestamp);
    }

    /// Returns the timestamp that [`NoteSigner::sign`] will use, if set.
    pub fn timestamp(&self) -> Option<u64> {
        self.timestamp
    }

    /// Returns a cosignature over `checkpoint_body` made at `timestamp` (POSIX seconds).
    ///
    /// # Errors
    /// As [`cosignature_message`].
    pub fn sign_at(
        &self,
        checkpoint_body: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, NoteError> {
        Ok(NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: self.sign_bytes(checkpoint_body, timestamp)?,
        })
    }

    fn sign_bytes(&self, checkpoint_body: &str, timestamp: u64) -> Result<Vec<u8>, NoteError> {
        let msg = cosignature_message(checkpoint_body, timestamp)?;
        let sig = ed25519_dalek::Signer::sign(&self.key, &msg);
        let mut out = Vec::with_capacity(COSIGNATURE_LEN);
        out.extend_from_slice(&timestamp.to_be_bytes());
        out.extend_from_slice(&sig.to_bytes());
        Ok(out)
    }

    /// Returns the verifier for this cosigner's public key.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier::new(self.name.clone(), self.key.verifying_key())
    }

    /// Returns the public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Returns the type-0x04 vkey string of the public key.
    pub fn vkey(&self) -> String {
        ed25519_vkey(
            &self.name,
            SIG_TYPE_COSIGNATURE_V1,
            &self.key.verifying_key(),
        )
    }
}

impl NoteSigner for CosignatureSigner {
    fn name(&self) -> &KeyName {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Cosigns `msg`, which must be a checkpoint body, at the configured timestamp.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError> {
        let timestamp = self.timestamp.ok_or(NoteError::InvalidArgument(
            "cosignature timestamp not set (CosignatureSigner::with_timestamp)",
        ))?;
        let body = std::str::from_utf8(msg)
            .map_err(|_| NoteError::malformed(Format::Checkpoint, "not UTF-8"))?;
        self.sign_bytes(body, timestamp)
    }
}

impl fmt::Debug for CosignatureSigner {
    /// Shows the name, key ID and timestamp only: never the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignatureSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// Verifies Ed25519 v1 cosignatures (type 0x04) from one witness key.
///
/// It accepts any timestamp up to 2^63 - 1; whether a timestamp is too old or in the future is
/// policy for the caller (read it with [`cosignature_timestamp`]).
#[derive(Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: KeyName,
    key: VerifyingKey,
    key_id: u32,
}

impl CosignatureVerifier {
    /// Returns a verifier for `key` under `name`.
    pub fn new(name: KeyName, key: VerifyingKey) -> CosignatureVerifier {
        let key_id = key_id_cosignature(&name, key.as_bytes());
        CosignatureVerifier { name, key, key_id }
    }

    /// Parses a type-0x04 vkey.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] ([`Format::Vkey`]) when the vkey is malformed, is not type
    /// 0x04, does not hold a valid 32-byte Ed25519 key, or its key ID does not match.
    pub fn from_vkey(vkey: &str) -> Result<CosignatureVerifier, NoteError> {
        CosignatureVerifier::from_parsed_vkey(&vkey.parse()?)
    }

    pub(crate) fn from_parsed_vkey(vkey: &Vkey) -> Result<CosignatureVerifier, NoteError> {
        let key = ed25519_key_from_vkey(vkey, SIG_TYPE_COSIGNATURE_V1)?;
        Ok(CosignatureVerifier::new(vkey.name.clone(), key))
    }

    /// Returns the type-0x04 vkey string.
    pub fn vkey(&self) -> String {
        ed25519_vkey(&self.name, SIG_TYPE_COSIGNATURE_V1, &self.key)
    }

    /// Returns the public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl NoteVerifier for CosignatureVerifier {
    fn name(&self) -> &KeyName {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Some(timestamp) = cosignature_timestamp(sig) else {
            return false;
        };
        let Ok(body) = std::str::from_utf8(msg) else {
            return false;
        };
        let Ok(message) = cosignature_message(body, timestamp) else {
            return false;
        };
        let Some(Ok(sig)) = sig.get(8..).map(Signature::from_slice) else {
            return false;
        };
        self.key.verify_strict(&message, &sig).is_ok()
    }
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CosignatureVerifier")
            .field(&self.vkey())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{open_checkpoint, sign_checkpoint};
    use crate::ed25519::Ed25519Signer;
    use crate::note::Note;
    use cairn_merkle::Hash;

    const BODY: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    fn witness() -> CosignatureSigner {
        CosignatureSigner::new(
            "witness.example/w1".parse().unwrap(),
            SigningKey::from_bytes(&[9; 32]),
        )
    }

    #[test]
    fn message_bytes_are_exactly_the_spec() {
        // The example in tlog-cosignature.md, "Ed25519 signed message".
        assert_eq!(
            cosignature_message(BODY, 1679315147).unwrap(),
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
        assert_eq!(
            cosignature_message(BODY, 0).unwrap(),
            [b"cosignature/v1\ntime 0\n".as_slice(), BODY.as_bytes()].concat()
        );
        assert!(cosignature_message(BODY, 1 << 63).is_err());
        assert!(cosignature_message("not a checkpoint\n", 1).is_err());
    }

    #[test]
    fn spec_example_timestamp() {
        // The witness line in tlog-cosignature.md: key ID 8d66cf3f, time 1679315147.
        let sig = NoteSignature::parse_line("\u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==").unwrap();
        assert_eq!(sig.key_id, 0x8d66cf3f);
        assert_eq!(cosignature_timestamp(&sig.signature), Some(1679315147));
        assert_eq!(cosignature_timestamp(&sig.signature[1..]), None);
    }

    #[test]
    fn round_trip_and_wrong_body() {
        let w = witness();
        let v = CosignatureVerifier::from_vkey(&w.vkey()).unwrap();
        assert_eq!(v, w.verifier());
        let sig = w.sign_at(BODY, 1_700_000_000).unwrap();
        assert_eq!(sig.signature.len(), 72);
        assert_eq!(cosignature_timestamp(&sig.signature), Some(1_700_000_000));
        assert!(v.verify(BODY.as_bytes(), &sig.signature));

        let other = BODY.replace("20852163", "20852164");
        assert!(!v.verify(other.as_bytes(), &sig.signature));
        // Changing the timestamp breaks the signature.
        let mut later = sig.signature.clone();
        later[7] ^= 1;
        assert!(!v.verify(BODY.as_bytes(), &later));
        // A cosignature is not a plain Ed25519 note signature over the body, nor vice versa.
        let plain = Ed25519Signer::new(w.name.clone(), w.key.clone());
        assert_ne!(plain.key_id(), w.key_id());
        let plain_sig = plain.sign(BODY.as_bytes()).unwrap();
        assert!(!v.verify(BODY.as_bytes(), &plain_sig));
        assert!(!plain
            .verifier()
            .verify(BODY.as_bytes(), &sig.signature[8..]));
    }

    #[test]
    fn as_note_signer() {
        let log = Ed25519Signer::new(
            "example.com/log".parse().unwrap(),
            SigningKey::from_bytes(&[1; 32]),
        );
        let cp = Checkpoint::new("example.com/log".parse().unwrap(), 5, Hash([3; 32]));
        let mut note = sign_checkpoint(&cp, &[&log]).unwrap();

        let unset = witness();
        assert!(matches!(
            note.clone().add_signatures(&[&unset]),
            Err(NoteError::InvalidArgument(_))
        ));
        let w = witness().with_timestamp(1234);
        note.add_signatures(&[&w]).unwrap();
        let bytes = note.to_bytes();

        let (got, verified) = open_checkpoint(&bytes, &[&log.verifier()], None).unwrap();
        assert_eq!(got, cp);
        let cosigned = Note::parse(&bytes)
            .unwrap()
            .verify(&[&w.verifier()])
            .unwrap();
        let sigs: Vec<_> = cosigned.verified_signatures().collect();
        assert_eq!(cosignature_timestamp(&sigs[0].signature), Some(1234));
        assert_eq!(verified.note().signatures.len(), 2);

        // A cosigner refuses to sign text that is not a checkpoint.
        assert!(Note::sign("hello\n", &[&w]).is_err());
    }
}
