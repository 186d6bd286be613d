//! Ed25519 note signatures (signed-note type 0x01): [`Ed25519Signer`] and [`Ed25519Verifier`].
//!
//! ```text
//! key ID    = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]
//! signature = Ed25519(note text)                       ; 64 bytes, RFC 8032
//! vkey      = key name "+" hex(key ID) "+" base64(0x01 || 32-byte public key)
//! ```

use std::fmt;

use ed25519_dalek::pkcs8::DecodePublicKey as _;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use crate::error::{Format, NoteError};
use crate::name::KeyName;
use crate::note::{NoteSigner, NoteVerifier};
use crate::vkey::{key_hash, key_id, Vkey, SIG_TYPE_ED25519};

/// Returns the Ed25519 (type 0x01) key ID of a public key under a name.
pub fn key_id_ed25519(name: &KeyName, public_key: &[u8; 32]) -> u32 {
    key_id(name, SIG_TYPE_ED25519, public_key)
}

/// Returns the full SHA-256(name || 0x0A || 0x01 || public key). Sigstore uses all 32 bytes
/// as the log ID (`logId.keyId`) and `checkpointKeyId` of an Ed25519 log whose checkpoint key
/// name is `name`; the signed-note key ID is its first four bytes.
pub fn ed25519_log_id(name: &KeyName, key: &VerifyingKey) -> [u8; 32] {
    key_hash(name, SIG_TYPE_ED25519, key.as_bytes())
}

/// Returns the vkey string for an Ed25519 key of the given signature type (0x01 or 0x04).
pub(crate) fn ed25519_vkey(name: &KeyName, sig_type: u8, key: &VerifyingKey) -> String {
    Vkey {
        name: name.clone(),
        key_id: key_id(name, sig_type, key.as_bytes()),
        sig_type,
        public_key: key.as_bytes().to_vec(),
    }
    .to_string()
}

/// Checks an algorithm-specific vkey: the type byte, a valid 32-byte Ed25519 key, and a key ID
/// that matches it.
pub(crate) fn ed25519_key_from_vkey(vkey: &Vkey, sig_type: u8) -> Result<VerifyingKey, NoteError> {
    let bad = |reason| NoteError::malformed(Format::Vkey, reason);
    if vkey.sig_type != sig_type {
        return Err(bad("wrong signature type"));
    }
    let bytes: [u8; 32] = vkey
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| bad("Ed25519 public key is not 32 bytes"))?;
    // The key ID check is a hash; point decompression costs far more, so it comes second.
    if key_id(&vkey.name, sig_type, &bytes) != vkey.key_id {
        return Err(bad("key ID does not match the key"));
    }
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad("invalid Ed25519 public key"))
}

/// Signs notes with an Ed25519 key (type 0x01). Ed25519 signing is deterministic, so this
/// needs no randomness.
#[derive(Clone)]
pub struct Ed25519Signer {
    name: KeyName,
    key: SigningKey,
    key_id: u32,
}

impl Ed25519Signer {
    /// Returns a signer for `key` under `name`.
    pub fn new(name: KeyName, key: SigningKey) -> Ed25519Signer {
        let key_id = key_id_ed25519(&name, key.verifying_key().as_bytes());
        Ed25519Signer { name, key, key_id }
    }

    /// Returns a signer with a new key from `rng` (the caller's RNG: this crate never reaches
    /// for the OS one).
    pub fn generate(name: KeyName, rng: &mut impl rand_core::CryptoRngCore) -> Ed25519Signer {
        Ed25519Signer::new(name, SigningKey::generate(rng))
    }

    /// Returns the private key, for the caller to store.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Returns the verifier for this signer's public key.
    pub fn verifier(&self) -> Ed25519Verifier {
        Ed25519Verifier::new(self.name.clone(), self.key.verifying_key())
    }

    /// Returns the public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Returns the vkey string of the public key.
    pub fn vkey(&self) -> String {
        ed25519_vkey(&self.name, SIG_TYPE_ED25519, &self.key.verifying_key())
    }
}

impl NoteSigner for Ed25519Signer {
    fn name(&self) -> &KeyName {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, NoteError> {
        Ok(ed25519_dalek::Signer::sign(&self.key, msg)
            .to_bytes()
            .to_vec())
    }
}

impl fmt::Debug for Ed25519Signer {
    /// Shows the name and key ID only: never the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

/// Verifies Ed25519 note signatures (type 0x01) from one key, with
/// [`VerifyingKey::verify_strict`] (which rejects non-canonical and small-order encodings).
#[derive(Clone, PartialEq, Eq)]
pub struct Ed25519Verifier {
    name: KeyName,
    key: VerifyingKey,
    key_id: u32,
}

impl Ed25519Verifier {
    /// Returns a verifier for `key` under `name`.
    pub fn new(name: KeyName, key: VerifyingKey) -> Ed25519Verifier {
        let key_id = key_id_ed25519(&name, key.as_bytes());
        Ed25519Verifier { name, key, key_id }
    }

    /// Parses a type-0x01 vkey such as
    /// `example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k`.
    ///
    /// # Errors
    /// [`NoteError::Malformed`] ([`Format::Vkey`]) when the vkey is malformed, is not type
    /// 0x01, does not hold a valid 32-byte Ed25519 key, or its key ID is not the one computed
    /// from its name and key.
    pub fn from_vkey(vkey: &str) -> Result<Ed25519Verifier, NoteError> {
        Ed25519Verifier::from_parsed_vkey(&vkey.parse()?)
    }

    pub(crate) fn from_parsed_vkey(vkey: &Vkey) -> Result<Ed25519Verifier, NoteError> {
        let key = ed25519_key_from_vkey(vkey, SIG_TYPE_ED25519)?;
        Ok(Ed25519Verifier::new(vkey.name.clone(), key))
    }

    /// Returns a verifier for the Ed25519 key in a DER SubjectPublicKeyInfo (as Sigstore
    /// trusted roots hold log keys, `keyDetails: PKIX_ED25519`).
    ///
    /// # Errors
    /// [`NoteError::Malformed`] ([`Format::PublicKey`]) when `spki_der` is not an Ed25519
    /// SubjectPublicKeyInfo with a valid key.
    pub fn from_spki_der(name: KeyName, spki_der: &[u8]) -> Result<Ed25519Verifier, NoteError> {
        let key = VerifyingKey::from_public_key_der(spki_der).map_err(|_| {
            NoteError::malformed(Format::PublicKey, "not an Ed25519 SubjectPublicKeyInfo")
        })?;
        Ok(Ed25519Verifier::new(name, key))
    }

    /// Returns the vkey string.
    pub fn vkey(&self) -> String {
        ed25519_vkey(&self.name, SIG_TYPE_ED25519, &self.key)
    }

    /// Returns the public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Returns the full 32-byte key hash, the Sigstore log ID: see [`ed25519_log_id`].
    pub fn log_id(&self) -> [u8; 32] {
        ed25519_log_id(&self.name, &self.key)
    }
}

impl NoteVerifier for Ed25519Verifier {
    fn name(&self) -> &KeyName {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match Signature::from_slice(sig) {
            Ok(sig) => self.key.verify_strict(msg, &sig).is_ok(),
            Err(_) => false,
        }
    }
}

impl fmt::Debug for Ed25519Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ed25519Verifier")
            .field(&self.vkey())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Note;

    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn spec_example_verifies() {
        let v = Ed25519Verifier::from_vkey(SPEC_VKEY).unwrap();
        assert_eq!(v.vkey(), SPEC_VKEY);
        let note = Note::parse(SPEC_NOTE.as_bytes()).unwrap();
        let verified = note.verify(&[&v]).unwrap();
        assert_eq!(verified.text(), "This is an example message.\n");
        assert_eq!(
            verified.signers(),
            vec![("example.com/foo".parse().unwrap(), 0x530d903a)]
        );
        assert_eq!(note.to_bytes(), SPEC_NOTE.as_bytes());
    }

    #[test]
    fn vkey_key_id_must_match() {
        // The shared vectors' "derived-wrong-key": syntactically fine, key ID is wrong.
        let wrong = "example.com/foo+00000000+ARERERERERERERERERERERERERERERERERERERERERER";
        assert!(Ed25519Verifier::from_vkey(wrong).is_err());
        // Right key, other name: the key ID no longer matches.
        let renamed = SPEC_VKEY.replace("example.com/foo", "example.com/bar");
        assert!(Ed25519Verifier::from_vkey(&renamed).is_err());
        // A cosignature vkey is not an Ed25519 note vkey.
        let signer = Ed25519Signer::new("k".parse().unwrap(), SigningKey::from_bytes(&[1; 32]));
        let v = signer.vkey();
        assert!(Ed25519Verifier::from_vkey(&v).is_ok());
        let as_cosig = Vkey {
            sig_type: crate::vkey::SIG_TYPE_COSIGNATURE_V1,
            ..v.parse().unwrap()
        };
        assert!(Ed25519Verifier::from_vkey(&as_cosig.to_string()).is_err());
    }

    #[test]
    fn sign_verify_and_log_id() {
        let name: KeyName = "log.example/a".parse().unwrap();
        let signer = Ed25519Signer::new(name.clone(), SigningKey::from_bytes(&[7; 32]));
        let verifier = Ed25519Verifier::from_vkey(&signer.vkey()).unwrap();
        assert_eq!(verifier, signer.verifier());
        let note = Note::sign("hello\n", &[&signer]).unwrap();
        assert!(note.verify(&[&verifier]).is_ok());
        let log_id = verifier.log_id();
        assert_eq!(
            u32::from_be_bytes([log_id[0], log_id[1], log_id[2], log_id[3]]),
            signer.key_id()
        );
        assert!(!format!("{signer:?}").contains("signing"));
        // Wrong lengths are a failed verification, never a panic.
        assert!(!verifier.verify(b"hello\n", &[]));
        assert!(!verifier.verify(b"hello\n", &[0; 65]));
    }

    #[test]
    fn generate_uses_the_given_rng() {
        let name: KeyName = "k".parse().unwrap();
        let a = Ed25519Signer::generate(name.clone(), &mut rand_core::OsRng);
        let b = Ed25519Signer::generate(name, &mut rand_core::OsRng);
        assert_ne!(a.verifying_key(), b.verifying_key());
        let note = Note::sign("x\n", &[&a]).unwrap();
        assert!(note.verify(&[&a.verifier()]).is_ok());
        let again = Ed25519Signer::new(a.name().clone(), a.signing_key().clone());
        assert_eq!(again.vkey(), a.vkey());
    }

    #[test]
    fn spki_der() {
        let signer = Ed25519Signer::new("k".parse().unwrap(), SigningKey::from_bytes(&[3; 32]));
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(signer.verifying_key().as_bytes());
        let v = Ed25519Verifier::from_spki_der("k".parse().unwrap(), &der).unwrap();
        assert_eq!(v, signer.verifier());
        assert!(Ed25519Verifier::from_spki_der("k".parse().unwrap(), &der[1..]).is_err());
    }
}
