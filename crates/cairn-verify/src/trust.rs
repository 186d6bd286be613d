//! Trust material: the transparency logs of a Sigstore `TrustedRoot`, each ready to check
//! checkpoints (C2SP signed-note verifier under the right key name) and SETs.
//!
//! Two kinds of log are understood, as Sigstore's public instance has them:
//!
//! | kind | log key | log ID / checkpoint key ID | checkpoint key name | origin |
//! |---|---|---|---|---|
//! | Rekor v1 | ECDSA P-256 | SHA-256(DER SPKI) | host of `baseUrl` | `<host> - <tree ID>` |
//! | tile log (Rekor v2, Cairn) | Ed25519 | SHA-256(origin ‖ 0x0A ‖ 0x01 ‖ key) | `baseUrl` without scheme | the same |
//!
//! Rekor v1's checkpoint key hint is the first four bytes of SHA-256 of the DER SPKI (signed-
//! note type 0x02); a tile log's is the C2SP key ID. Logs with other key types are skipped.

use cairn_entry::{LogKey, PublicKeyDetails, TrustedRoot};
use cairn_note::{EcdsaP256Verifier, Ed25519Verifier, KeyName, NoteVerifier};

use crate::error::VerifyError;

/// How a log signs its checkpoints and numbers its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogKind {
    /// Rekor v1: ECDSA P-256 key, one origin per shard (`<host> - <tree ID>`), global log
    /// indexes that differ from the shard's proof index.
    RekorV1,
    /// A C2SP tile log with an Ed25519 key (Rekor v2, Cairn): origin = key name = base URL
    /// without scheme; the entry's log index is its leaf index.
    TileLog,
}

#[derive(Clone)]
enum NoteKey {
    Ecdsa(EcdsaP256Verifier),
    Ed25519(Ed25519Verifier),
}

/// One transparency log from a trusted root.
#[derive(Clone)]
pub struct TrustedLog {
    base_url: String,
    kind: LogKind,
    name: KeyName,
    log_id: Vec<u8>,
    checkpoint_key_id: Vec<u8>,
    note_key: NoteKey,
    set_key: LogKey,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
}

impl TrustedLog {
    /// Returns the log's base URL as the trusted root gives it.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Returns the log's kind.
    pub fn kind(&self) -> LogKind {
        self.kind
    }

    /// Returns the key name its checkpoints are signed under.
    pub fn key_name(&self) -> &KeyName {
        &self.name
    }

    /// Returns the log ID (`logId.keyId`).
    pub fn log_id(&self) -> &[u8] {
        &self.log_id
    }

    /// Returns the validity window of the log key, Unix seconds (either end may be open).
    pub fn valid_for(&self) -> (Option<i64>, Option<i64>) {
        (self.valid_from, self.valid_until)
    }

    pub(crate) fn note_verifier(&self) -> &dyn NoteVerifier {
        match &self.note_key {
            NoteKey::Ecdsa(v) => v,
            NoteKey::Ed25519(v) => v,
        }
    }

    /// Returns the checkpoint key when it is Ed25519 (policy files list logs by such keys).
    pub(crate) fn ed25519_note_key(&self) -> Option<&ed25519_dalek::VerifyingKey> {
        match &self.note_key {
            NoteKey::Ed25519(v) => Some(v.verifying_key()),
            NoteKey::Ecdsa(_) => None,
        }
    }

    pub(crate) fn set_key(&self) -> &LogKey {
        &self.set_key
    }

    /// Returns true when `origin` is an origin this log may sign: the key name itself for a
    /// tile log; `<host> - <tree ID>` for a Rekor v1 shard.
    pub(crate) fn origin_matches(&self, origin: &str) -> bool {
        match self.kind {
            LogKind::TileLog => origin == self.name.as_str(),
            LogKind::RekorV1 => origin
                .strip_prefix(self.name.as_str())
                .and_then(|rest| rest.strip_prefix(" - "))
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())),
        }
    }

    pub(crate) fn expected_origin(&self) -> String {
        match self.kind {
            LogKind::TileLog => self.name.to_string(),
            LogKind::RekorV1 => format!("{} - <tree ID>", self.name),
        }
    }

    pub(crate) fn window_text(&self) -> String {
        let f = |t: Option<i64>| t.map_or_else(|| "open".to_string(), |t| t.to_string());
        format!("from {} until {}", f(self.valid_from), f(self.valid_until))
    }

    /// Returns true when the key was valid at `time` (Unix seconds).
    pub(crate) fn valid_at(&self, time: i64) -> bool {
        self.valid_from.is_none_or(|s| time >= s) && self.valid_until.is_none_or(|e| time <= e)
    }
}

impl std::fmt::Debug for TrustedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedLog")
            .field("base_url", &self.base_url)
            .field("kind", &self.kind)
            .field("key_name", &self.name)
            .field("log_id", &hex::encode(&self.log_id))
            .finish_non_exhaustive()
    }
}

/// The transparency logs a verifier trusts, read from a Sigstore `TrustedRoot`.
#[derive(Debug, Clone)]
pub struct TrustedLogs {
    logs: Vec<TrustedLog>,
}

/// Returns the base URL without its scheme (`https://a.b/c` -> `a.b/c`).
fn scheme_less(base_url: &str) -> &str {
    base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .trim_end_matches('/')
}

impl TrustedLogs {
    /// Parses `trusted_root.json` (protobuf JSON of `dev.sigstore.trustroot.v1.TrustedRoot`).
    ///
    /// # Errors
    /// [`VerifyError::TrustedRoot`] when the JSON is not a trusted root or no log in it is usable.
    pub fn from_json(json: &[u8]) -> Result<TrustedLogs, VerifyError> {
        let root: TrustedRoot = serde_json::from_slice(json)
            .map_err(|e| VerifyError::TrustedRoot(format!("not a TrustedRoot: {e}")))?;
        TrustedLogs::from_trusted_root(&root)
    }

    /// Takes the transparency logs of a parsed trusted root. Logs whose key type is neither
    /// ECDSA P-256 nor Ed25519 are skipped.
    ///
    /// # Errors
    /// [`VerifyError::TrustedRoot`] when a log with a supported key type is malformed (bad
    /// key, base URL that is no key name), or when no log is usable.
    pub fn from_trusted_root(root: &TrustedRoot) -> Result<TrustedLogs, VerifyError> {
        let mut logs = Vec::new();
        for t in &root.tlogs {
            let bad =
                |what: String| VerifyError::TrustedRoot(format!("log {}: {what}", t.base_url));
            let Some(pk) = &t.public_key else { continue };
            let Some(raw) = pk.raw_bytes.as_deref() else {
                continue;
            };
            let Some(details) = PublicKeyDetails::ALL
                .iter()
                .copied()
                .find(|d| d.proto_number() == pk.key_details)
            else {
                continue;
            };
            let log_id = t
                .log_id
                .as_ref()
                .map(|l| l.key_id.clone())
                .unwrap_or_default();
            if log_id.is_empty() {
                return Err(bad("no logId".into()));
            }
            let checkpoint_key_id = t
                .checkpoint_key_id
                .as_ref()
                .map(|l| l.key_id.clone())
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| log_id.clone());
            let (kind, name_text) = match details {
                PublicKeyDetails::PkixEcdsaP256Sha256 => {
                    let host = scheme_less(&t.base_url);
                    (LogKind::RekorV1, host.split('/').next().unwrap_or(host))
                }
                PublicKeyDetails::PkixEd25519 => (LogKind::TileLog, scheme_less(&t.base_url)),
                _ => continue,
            };
            let name: KeyName = name_text
                .parse()
                .map_err(|e| bad(format!("base URL is not a key name: {e}")))?;
            let note_key = match kind {
                LogKind::RekorV1 => NoteKey::Ecdsa(
                    EcdsaP256Verifier::new(name.clone(), raw).map_err(|e| bad(e.to_string()))?,
                ),
                LogKind::TileLog => NoteKey::Ed25519(
                    Ed25519Verifier::from_spki_der(name.clone(), raw)
                        .map_err(|e| bad(e.to_string()))?,
                ),
            };
            let set_key = LogKey::from_spki_der(details, raw).map_err(|e| bad(e.to_string()))?;
            let window = pk.valid_for.as_ref();
            logs.push(TrustedLog {
                base_url: t.base_url.clone(),
                kind,
                name,
                log_id,
                checkpoint_key_id,
                note_key,
                set_key,
                valid_from: window.and_then(|w| w.start.as_ref()).map(|s| s.seconds),
                valid_until: window.and_then(|w| w.end.as_ref()).map(|s| s.seconds),
            });
        }
        if logs.is_empty() {
            return Err(VerifyError::TrustedRoot(
                "no transparency log with an ECDSA P-256 or Ed25519 key".into(),
            ));
        }
        Ok(TrustedLogs { logs })
    }

    /// Returns the logs.
    pub fn logs(&self) -> &[TrustedLog] {
        &self.logs
    }

    /// Returns the logs whose log ID or checkpoint key ID is `log_id` (sigstore-js matches the
    /// entry's log ID against `checkpointKeyId`, falling back to `logId`).
    pub(crate) fn find(&self, log_id: &[u8]) -> impl Iterator<Item = &TrustedLog> + '_ {
        let log_id = log_id.to_vec();
        self.logs
            .iter()
            .filter(move |l| l.log_id == log_id || l.checkpoint_key_id == log_id)
    }
}
