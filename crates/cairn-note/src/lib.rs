//! C2SP signed notes, verifier keys, checkpoints, witness cosignatures and tlog-proof files:
//! the text formats a transparency log signs and its clients, monitors and witnesses check.
//!
//! This crate parses and formats those formats strictly (every value has exactly one
//! encoding; input size and signature count are capped), signs with Ed25519, and verifies
//! Ed25519, ECDSA P-256 (Rekor v1) and Ed25519 cosignatures. It is pure: no files, no network,
//! no clock (cosignature timestamps are passed in), no OS randomness. It does not check Merkle
//! proofs (cairn-merkle does), decide witness policy, or store anything.
//!
//! | format | spec | types |
//! |---|---|---|
//! | signed note | <https://c2sp.org/signed-note> | [`Note`], [`NoteSignature`], [`VerifiedNote`] |
//! | key ID, vkey | signed-note | [`Vkey`], [`key_id`], [`Ed25519Verifier::from_vkey`] |
//! | checkpoint | <https://c2sp.org/tlog-checkpoint> | [`Checkpoint`], [`SignedCheckpoint`], [`open_checkpoint`] |
//! | cosignature | <https://c2sp.org/tlog-cosignature> | [`CosignatureSigner`], [`CosignatureVerifier`] |
//! | tlog-proof | <https://c2sp.org/tlog-proof> | [`TlogProof`] |
//!
//! # Grammar
//!
//! ```text
//! note           = text LF 1*signature-line            ; <= 1 MiB, <= 100 signatures
//! text           = 1*(*(char >= U+0020) LF)            ; split from signatures at the LAST empty line
//! signature-line = "— " key-name SP base64(key-id[4] || signature) LF   ; "—" is U+2014
//! key-name       = 1*(char, not whitespace, not "+", >= U+0020)
//! key-id         = SHA-256(key-name || LF || type || public-key)[:4]   ; big-endian u32
//! vkey           = key-name "+" 8(lowercase hex) "+" base64(type || public-key)
//! checkpoint     = origin LF tree-size LF base64(root) LF *(extension LF)
//! cosigned msg   = "cosignature/v1" LF "time " decimal LF checkpoint
//! tlog-proof     = "c2sp.org/tlog-proof@v1" LF ["extra " base64 LF] "index " decimal LF
//!                  *(base64(hash) LF) LF signed-checkpoint
//! ```
//!
//! Signature types: 0x01 Ed25519 ([`Ed25519Signer`], [`Ed25519Verifier`]), 0x02 ECDSA
//! P-256 with the key ID taken from the DER SPKI ([`EcdsaP256Verifier`]), 0x04 Ed25519
//! cosignature v1 ([`CosignatureSigner`], [`CosignatureVerifier`]).
//!
//! # Verification rules
//!
//! A signature is from a known key when a verifier has the same key name AND key ID. Unknown
//! signatures are ignored. A known signature that fails rejects the whole note
//! ([`NoteError::BadSignature`]); no verified known signature is
//! [`NoteError::UnverifiedNote`]. Malformed input is [`NoteError::Malformed`], never a
//! verification error.
//!
//! # Worked example
//!
//! A log signs a checkpoint with a fixed test key, a witness cosigns it at a given time, and a
//! client opens it. The bytes are exact (Ed25519 signatures are deterministic).
//!
//! ```
//! use cairn_merkle::Hash;
//! use cairn_note::*;
//! use ed25519_dalek::SigningKey;
//!
//! let origin: Origin = "example.com/cairn".parse()?;
//! let log = Ed25519Signer::new("example.com/cairn".parse()?, SigningKey::from_bytes(&[1; 32]));
//! let witness = CosignatureSigner::new("witness.example/w1".parse()?, SigningKey::from_bytes(&[2; 32]))
//!     .with_timestamp(1_700_000_000);
//!
//! const EXAMPLE_NOTE: &str = "example.com/cairn\n5\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n\n\
//!     \u{2014} example.com/cairn ZtlGjm1zYBtOOYB9b7Sad6RoGN/5tdN7tr7dmX4VZvjk3W2DTfNckBnARzHVI7HFLjm9roL+M9GkI9PfLoRX2G8o0wA=\n\
//!     \u{2014} witness.example/w1 3xwKNQAAAABlU/EAS47NFZUNmfl63dfEG47uJBoVkBr4bsWM3FSqpxoz1mL/WsxyXp7Io8o7N4cvPQeOI87tSuq5wm2LE9p+4QXKCA==\n";
//! const EXAMPLE_LOG_VKEY: &str = "example.com/cairn+66d9468e+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";
//! const EXAMPLE_WITNESS_VKEY: &str = "witness.example/w1+df1c0a35+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";
//!
//! let checkpoint = Checkpoint::new(origin.clone(), 5, Hash([0xab; 32]));
//! let mut note = sign_checkpoint(&checkpoint, &[&log])?;
//! note.add_signatures(&[&witness])?;
//! let bytes = note.to_bytes();
//! assert_eq!(String::from_utf8(bytes.clone()).unwrap(), EXAMPLE_NOTE);
//! assert_eq!(log.vkey(), EXAMPLE_LOG_VKEY);
//! assert_eq!(witness.vkey(), EXAMPLE_WITNESS_VKEY);
//!
//! // A client knows the log's vkey and origin.
//! let log_key = Ed25519Verifier::from_vkey(EXAMPLE_LOG_VKEY)?;
//! let (opened, verified) = open_checkpoint(&bytes, &[&log_key], Some(&origin))?;
//! assert_eq!(opened, checkpoint);
//! // Its witness policy checks the cosignature separately.
//! let w = CosignatureVerifier::from_vkey(EXAMPLE_WITNESS_VKEY)?;
//! let cosigned = verified.note().verify(&[&w])?;
//! let sig = cosigned.verified_signatures().next().unwrap();
//! assert_eq!(cosignature_timestamp(&sig.signature), Some(1_700_000_000));
//! # Ok::<(), cairn_note::NoteError>(())
//! ```
//!
//! where the signed, cosigned checkpoint and the two vkeys are (also in docs/formats-note.md):
//!
//! ```text
//! example.com/cairn
//! 5
//! q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=
//!
//! — example.com/cairn ZtlGjm1zYBtOOYB9b7Sad6RoGN/5tdN7tr7dmX4VZvjk3W2DTfNckBnARzHVI7HFLjm9roL+M9GkI9PfLoRX2G8o0wA=
//! — witness.example/w1 3xwKNQAAAABlU/EAS47NFZUNmfl63dfEG47uJBoVkBr4bsWM3FSqpxoz1mL/WsxyXp7Io8o7N4cvPQeOI87tSuq5wm2LE9p+4QXKCA==
//!
//! example.com/cairn+66d9468e+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c
//! witness.example/w1+df1c0a35+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU
//! ```
//!
//! These bytes were also reproduced independently (Python `cryptography`, from the specs).

#![forbid(unsafe_code)]

mod checkpoint;
mod codec;
mod cosignature;
mod ecdsa;
mod ed25519;
mod error;
mod name;
mod note;
mod tlog_proof;
mod vkey;
mod witness_request;

pub use checkpoint::{open_checkpoint, sign_checkpoint, Checkpoint, SignedCheckpoint};
pub use cosignature::{
    cosignature_message, cosignature_timestamp, key_id_cosignature, CosignatureSigner,
    CosignatureVerifier, MAX_COSIGNATURE_TIMESTAMP,
};
pub use ecdsa::{
    key_id_ecdsa, p256_spki_from_point, spki_log_id, EcdsaP256Verifier, P256_SPKI_PREFIX,
};
pub use ed25519::{ed25519_log_id, key_id_ed25519, Ed25519Signer, Ed25519Verifier};
pub use error::{Format, NoteError};
pub use name::{KeyName, Origin};
pub use note::{
    Note, NoteSignature, NoteSigner, NoteVerifier, VerifiedNote, MAX_NOTE_SIZE, MAX_SIGNATURES,
};
pub use tlog_proof::{TlogProof, MAX_PROOF_HASHES, MAX_TLOG_PROOF_SIZE, TLOG_PROOF_HEADER};
pub use vkey::{
    key_hash, key_id, verifier_from_vkey, Vkey, SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ECDSA,
    SIG_TYPE_ED25519,
};
pub use witness_request::{
    AddCheckpointRequest, MalformedRequest, MAX_PROOF_LINES, MAX_REQUEST_BYTES,
};
