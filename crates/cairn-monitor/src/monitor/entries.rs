//! Checking logged entries: parse every body, verify its signature over its digest, and pick
//! out the entries signed by a watched key. Pure (no I/O); the caller runs it on many threads.

use cairn_entry::{EntryBody, SignerAlgorithm, SignerKey, VerifierKey};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A public key whose signatures the monitor reports.
#[derive(Clone, Debug)]
pub struct WatchedKey {
    /// A label for people (such as the key file's name).
    pub label: String,
    /// The key's DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

impl WatchedKey {
    /// Reads a PEM `PUBLIC KEY` (the `key.pub` files of cosign, sigstore and `cairn keygen`)
    /// of any algorithm the log accepts.
    ///
    /// # Errors
    /// A message when the PEM holds no supported public key.
    pub fn from_pem(label: &str, pem: &str) -> Result<WatchedKey, String> {
        for alg in [SignerAlgorithm::EcdsaP256Sha256, SignerAlgorithm::Ed25519Ph] {
            if let Ok(k) = SignerKey::from_spki_pem(alg, pem) {
                return Ok(WatchedKey {
                    label: label.to_string(),
                    spki_der: k.spki_der().to_vec(),
                });
            }
        }
        Err(format!(
            "{label}: not a PEM PUBLIC KEY of a supported algorithm (ECDSA P-256, Ed25519)"
        ))
    }
}

/// Returns the fingerprint the monitor reports for a key: `sha256:` and the hex SHA-256 of
/// its DER SubjectPublicKeyInfo.
pub fn key_fingerprint(spki_der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(spki_der)))
}

/// One entry signed by a watched key: a line of the monitor's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// The log's origin.
    pub origin: String,
    /// The entry's index in the log.
    pub log_index: u64,
    /// The digest's algorithm, as the entry names it (`SHA2_256`...).
    pub digest_algorithm: String,
    /// The signed digest, hex.
    pub digest: String,
    /// The signer key's fingerprint ([`key_fingerprint`]).
    pub key_fingerprint: String,
    /// The watched key's label.
    pub key_label: String,
    /// When the log integrated the entry. Always `None` here: the tile API does not carry it
    /// (it is in the entry's TransparencyLogEntry, which the submitter holds).
    pub integrated_time: Option<u64>,
    /// The size of the audited checkpoint that includes the entry.
    pub checkpoint_size: u64,
}

/// An entry the log should never have accepted: evidence against it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("entry {index}: {reason}")]
pub struct BadEntry {
    /// The entry's index.
    pub index: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// What checking one entry found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// A valid entry whose key is not watched.
    Valid,
    /// A valid entry signed by a watched key.
    Watched {
        /// The fingerprint of the signer's key.
        fingerprint: String,
        /// The watched key's label.
        label: String,
        /// The digest's algorithm name.
        algorithm: String,
        /// The digest, hex.
        digest: String,
    },
    /// An entry of a kind or verifier this monitor cannot check (not an error: counted).
    Unchecked(&'static str),
}

/// Checks entries with a cache of parsed signer keys (parsing a key costs as much as a third
/// of a verification, and a log has few keys and many entries). One per thread.
pub struct EntryChecker<'a> {
    watched: &'a HashMap<Vec<u8>, String>,
    keys: HashMap<(Vec<u8>, SignerAlgorithm), SignerKey>,
}

/// Bounds the key cache so a log of one-off keys cannot grow it without limit.
const MAX_CACHED_KEYS: usize = 4096;

impl<'a> EntryChecker<'a> {
    /// Returns a checker; `watched` maps watched keys' DER SPKI to their labels.
    pub fn new(watched: &'a HashMap<Vec<u8>, String>) -> EntryChecker<'a> {
        EntryChecker {
            watched,
            keys: HashMap::new(),
        }
    }

    /// Parses entry `index` and verifies its signature.
    ///
    /// # Errors
    /// [`BadEntry`] when the body of a kind this monitor knows is malformed or its signature
    /// does not verify.
    pub fn check(&mut self, index: u64, body: &[u8]) -> Result<Checked, BadEntry> {
        let bad = |reason: String| BadEntry { index, reason };
        let body = match EntryBody::parse(body) {
            Ok(b) => b,
            Err(cairn_entry::EntryError::UnsupportedEntryKind { .. }) => {
                return Ok(Checked::Unchecked("unsupported entry kind or version"))
            }
            Err(e) => return Err(bad(format!("unparseable body: {e}"))),
        };
        let EntryBody::HashedRekordV002(rekord) = body else {
            return Ok(Checked::Unchecked("hashedrekord 0.0.1 entry"));
        };
        let sig = rekord.signature();
        let VerifierKey::PublicKey { raw_bytes: spki } = &sig.verifier.key else {
            return Ok(Checked::Unchecked("certificate verifier"));
        };
        let algorithm = SignerAlgorithm::from_key_details(sig.verifier.key_details)
            .map_err(|e| bad(format!("key details: {e}")))?;
        let cache_key = (spki.clone(), algorithm);
        if !self.keys.contains_key(&cache_key) {
            let key = SignerKey::from_spki_der(algorithm, spki)
                .map_err(|e| bad(format!("signer key: {e}")))?;
            if self.keys.len() >= MAX_CACHED_KEYS {
                self.keys.clear();
            }
            self.keys.insert(cache_key.clone(), key);
        }
        let key = self
            .keys
            .get(&cache_key)
            .ok_or_else(|| bad("key cache".into()))?;
        key.verify_digest(&rekord.data().digest, &sig.content)
            .map_err(|e| bad(format!("signature: {e}")))?;
        Ok(match self.watched.get(spki) {
            Some(label) => Checked::Watched {
                fingerprint: key_fingerprint(spki),
                label: label.clone(),
                algorithm: rekord.data().algorithm.name().to_string(),
                digest: hex::encode(&rekord.data().digest),
            },
            None => Checked::Valid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_entry::{HashedRekordRequest, SignerKeyPair};
    use rand_core::OsRng;

    fn entry(key: &SignerKeyPair, data: &[u8]) -> Vec<u8> {
        let digest = key.algorithm().digest(data);
        HashedRekordRequest::sign(key, digest)
            .unwrap()
            .to_body()
            .to_canonical_bytes()
    }

    #[test]
    fn checks_signatures_and_matches_watched_keys() {
        let watched_key = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut OsRng);
        let ed = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut OsRng);
        let other = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut OsRng);
        let pem = watched_key.signer_key().unwrap().to_spki_pem();
        let w = WatchedKey::from_pem("mine.pub", &pem).unwrap();
        let ed_w = WatchedKey::from_pem("ed.pub", &ed.signer_key().unwrap().to_spki_pem()).unwrap();
        let map: HashMap<Vec<u8>, String> = [w, ed_w]
            .into_iter()
            .map(|k| (k.spki_der, k.label))
            .collect();
        let mut c = EntryChecker::new(&map);
        match c.check(0, &entry(&watched_key, b"hello")).unwrap() {
            Checked::Watched {
                fingerprint,
                label,
                algorithm,
                digest,
            } => {
                assert_eq!(label, "mine.pub");
                assert_eq!(algorithm, "SHA2_256");
                assert_eq!(digest, hex::encode(Sha256::digest(b"hello")));
                assert_eq!(fingerprint, key_fingerprint(&watched_key.public_spki_der()));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            c.check(1, &entry(&ed, b"x")).unwrap(),
            Checked::Watched { .. }
        ));
        assert_eq!(c.check(2, &entry(&other, b"x")).unwrap(), Checked::Valid);
        // A valid body with a signature over another digest.
        let good = entry(&other, b"x");
        let forged = String::from_utf8(good)
            .unwrap()
            .replace(&base64_digest(b"x"), &base64_digest(b"y"));
        assert!(c.check(3, forged.as_bytes()).is_err());
        assert!(c.check(4, b"{not json").is_err());
        assert!(matches!(
            c.check(5, br#"{"apiVersion":"0.0.1","kind":"dsse","spec":{}}"#)
                .unwrap(),
            Checked::Unchecked(_)
        ));
        assert!(WatchedKey::from_pem("x", "not pem").is_err());
    }

    fn base64_digest(data: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(data))
    }
}
