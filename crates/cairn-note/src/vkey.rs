//! Key IDs and verifier key strings ("vkeys"), as signed-note defines them.
//!
//! ```text
//! key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]   ; big-endian u32
//! vkey   = key-name "+" 8(lowercase hex digit) "+" base64(signature type || public key)
//! ```
//!
//! ECDSA (type 0x02) is the exception: its key ID is SHA-256(DER SPKI)[:4] (see
//! [`crate::key_id_ecdsa`]).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::codec::{b64_decode_canonical, b64_encode};
use crate::cosignature::CosignatureVerifier;
use crate::ed25519::Ed25519Verifier;
use crate::error::{Format, NoteError};
use crate::name::KeyName;
use crate::note::NoteVerifier;

/// Signature type 0x01: Ed25519 over the note text (signed-note).
pub const SIG_TYPE_ED25519: u8 = 0x01;
/// Signature type 0x02: ECDSA over SHA-256 of the note text, as Rekor v1 and
/// transparency-dev/witness use it.
pub const SIG_TYPE_ECDSA: u8 = 0x02;
/// Signature type 0x04: timestamped Ed25519 cosignature (tlog-cosignature v1).
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// Returns the full SHA-256(name || 0x0A || sig_type || public_key), the hash whose first four
/// bytes are the key ID.
pub fn key_hash(name: &KeyName, sig_type: u8, public_key: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(name.as_str().as_bytes());
    h.update([b'\n', sig_type]);
    h.update(public_key);
    h.finalize().into()
}

/// Returns the signed-note key ID: the first four bytes of [`key_hash`], big-endian.
pub fn key_id(name: &KeyName, sig_type: u8, public_key: &[u8]) -> u32 {
    let h = key_hash(name, sig_type, public_key);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// A parsed verifier key string, for any signature type. [`Vkey::from_str`] checks the syntax
/// only; the algorithm-specific constructors ([`Ed25519Verifier::from_vkey`],
/// [`CosignatureVerifier::from_vkey`]) also check the key and its key ID.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Vkey {
    /// The key name.
    pub name: KeyName,
    /// The key ID written in the vkey.
    pub key_id: u32,
    /// The signature type byte (the first decoded byte).
    pub sig_type: u8,
    /// The public key bytes after the type byte.
    pub public_key: Vec<u8>,
}

impl FromStr for Vkey {
    type Err = NoteError;

    /// Parses `<name>+<8 lowercase hex>+<canonical base64 of type || key>`.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] with [`Format::Vkey`] for anything else, including uppercase
    /// hex, non-canonical base64 and an empty key.
    fn from_str(s: &str) -> Result<Vkey, NoteError> {
        let bad = |reason| NoteError::malformed(Format::Vkey, reason);
        // A key name cannot contain '+', and neither can the hex field, so the first two '+'
        // end them; the base64 after them may itself contain '+'.
        let (name, rest) = s
            .split_once('+')
            .ok_or_else(|| bad("no '+' after the key name"))?;
        let (hex, b64) = rest
            .split_once('+')
            .ok_or_else(|| bad("no '+' after the key ID"))?;
        let name: KeyName = name.parse().map_err(|_| bad("invalid key name"))?;
        if hex.len() != 8 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad("key ID is not 8 lowercase hex digits"));
        }
        let key_id = u32::from_str_radix(hex, 16).map_err(|_| bad("bad key ID"))?;
        let raw = b64_decode_canonical(b64).ok_or_else(|| bad("key is not canonical base64"))?;
        let (&sig_type, public_key) = raw.split_first().ok_or_else(|| bad("empty key"))?;
        if public_key.is_empty() {
            return Err(bad("empty public key"));
        }
        Ok(Vkey {
            name,
            key_id,
            sig_type,
            public_key: public_key.to_vec(),
        })
    }
}

impl fmt::Display for Vkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(1 + self.public_key.len());
        raw.push(self.sig_type);
        raw.extend_from_slice(&self.public_key);
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, b64_encode(&raw))
    }
}

/// Returns a verifier for a vkey of any type this crate can verify from a vkey alone: Ed25519
/// (0x01) and Ed25519 cosignatures (0x04).
///
/// # Errors
/// [`NoteError::Malformed`] ([`Format::Vkey`]) for a malformed vkey, an unsupported type, a
/// bad public key, or a key ID that does not match the key.
pub fn verifier_from_vkey(vkey: &str) -> Result<Box<dyn NoteVerifier>, NoteError> {
    let parsed: Vkey = vkey.parse()?;
    match parsed.sig_type {
        SIG_TYPE_ED25519 => Ok(Box::new(Ed25519Verifier::from_parsed_vkey(&parsed)?)),
        SIG_TYPE_COSIGNATURE_V1 => Ok(Box::new(CosignatureVerifier::from_parsed_vkey(&parsed)?)),
        _ => Err(NoteError::malformed(
            Format::Vkey,
            "unsupported signature type",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

    #[test]
    fn vkey_round_trip_and_key_id() {
        let v: Vkey = SPEC_VKEY.parse().unwrap();
        assert_eq!(v.to_string(), SPEC_VKEY);
        assert_eq!(v.sig_type, SIG_TYPE_ED25519);
        assert_eq!(v.key_id, 0x530d903a);
        assert_eq!(key_id(&v.name, v.sig_type, &v.public_key), 0x530d903a);
    }

    #[test]
    fn vkey_base64_may_contain_plus() {
        // Regression (found by proptest): the key field is standard base64, whose alphabet
        // includes '+', so it must not be split on '+'.
        let v = Vkey {
            name: "k".parse().unwrap(),
            key_id: 1,
            sig_type: 0xfb,
            public_key: vec![0xef, 0xbf],
        };
        let s = v.to_string();
        assert_eq!(s, "k+00000001++++/");
        assert_eq!(s.parse::<Vkey>().unwrap(), v);
    }

    #[test]
    fn vkey_syntax_is_strict() {
        for bad in [
            "",
            "example.com/foo",
            "example.com/foo+530d903a",
            "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+0530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+",
            "example.com/foo+530d903a++AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo++530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
            "example.com/foo+530d903a+",
            "example.com/foo+530d903a+AQ==",
            "exa mple+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        ] {
            assert!(bad.parse::<Vkey>().is_err(), "{bad:?}");
        }
    }
}
