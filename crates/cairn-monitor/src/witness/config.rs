//! The witness's configuration: one typed struct read from a TOML file and flags, checked once
//! ([`WitnessConfig::resolve`]) before anything starts. The doc comment of each field is the
//! reference.
//!
//! ```toml
//! name = "witness.example/w1"        # the witness key's name
//! key = "witness.key"                # Ed25519 PKCS#8 PEM (`cairn keygen --type ed25519`)
//! listen = "127.0.0.1:3030"
//! state = "witness-data"
//!
//! [[log]]
//! origin = "log.example/cairn"
//! vkeys = ["log.example/cairn+66d9468e+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"]
//! ```

use super::{Clock, LogKeys, RedbWitnessStore, SystemClock, Witness};
use cairn_note::{CosignatureSigner, KeyName, Origin};
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use ed25519_dalek::SigningKey;
use serde::Deserialize;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One log the witness follows, as configured.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LogEntryConfig {
    /// The log's checkpoint origin.
    pub origin: String,
    /// The log's note verifier keys (Ed25519 vkeys, `name+id+base64`).
    pub vkeys: Vec<String>,
}

/// The witness configuration as written (TOML file, then flags on top).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// The witness key's name, written on its cosignature lines (such as
    /// `witness.example/w1`). Required.
    pub name: Option<String>,
    /// The witness's private key: an Ed25519 PKCS#8 PEM file. Required.
    pub key: Option<PathBuf>,
    /// Address to listen on. Default `127.0.0.1:3030`.
    pub listen: Option<String>,
    /// Directory for the durable state (`witness.redb`). Default `./witness-data`.
    pub state: Option<PathBuf>,
    /// The logs to witness. At least one.
    #[serde(default)]
    pub log: Vec<LogEntryConfig>,
}

/// A checked configuration: key loaded, logs parsed, addresses resolved.
pub struct ResolvedWitnessConfig {
    /// The cosigner.
    pub signer: CosignatureSigner,
    /// The logs and their keys.
    pub logs: Vec<LogKeys>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The state directory.
    pub state: PathBuf,
}

impl WitnessConfig {
    /// Reads a TOML file.
    ///
    /// # Errors
    /// The file cannot be read or is not this struct (the message names the field).
    pub fn from_file(path: &Path) -> Result<WitnessConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Returns `self` with the fields `over` sets replaced, and `over`'s logs added.
    pub fn merge(self, over: WitnessConfig) -> WitnessConfig {
        let mut log = self.log;
        log.extend(over.log);
        WitnessConfig {
            name: over.name.or(self.name),
            key: over.key.or(self.key),
            listen: over.listen.or(self.listen),
            state: over.state.or(self.state),
            log,
        }
    }

    /// Parses a `--log ORIGIN=VKEY` flag.
    ///
    /// # Errors
    /// No `=`.
    pub fn parse_log_flag(flag: &str) -> Result<LogEntryConfig, String> {
        let (origin, vkey) = flag
            .split_once('=')
            .ok_or_else(|| format!("--log {flag:?}: expected ORIGIN=VKEY"))?;
        Ok(LogEntryConfig {
            origin: origin.to_string(),
            vkeys: vec![vkey.to_string()],
        })
    }

    /// Checks every field and loads the key.
    ///
    /// # Errors
    /// A message naming the offending field.
    pub fn resolve(&self) -> Result<ResolvedWitnessConfig, String> {
        let name: KeyName = self
            .name
            .as_deref()
            .ok_or("name: the witness key name is required (--name)")?
            .parse()
            .map_err(|e| format!("name: {e}"))?;
        let key_path = self
            .key
            .as_deref()
            .ok_or("key: the witness key file is required (--key)")?;
        let key = load_key(key_path).map_err(|e| format!("key: {e}"))?;
        let listen = self.listen.as_deref().unwrap_or("127.0.0.1:3030");
        let listen: SocketAddr = listen.parse().map_err(|e| {
            format!("listen: {listen:?} is not an address like 127.0.0.1:3030 ({e})")
        })?;
        if self.log.is_empty() {
            return Err("log: configure at least one log (--log ORIGIN=VKEY)".into());
        }
        let mut logs = Vec::new();
        for l in &self.log {
            let origin: Origin = l
                .origin
                .parse()
                .map_err(|e| format!("log: origin {:?}: {e}", l.origin))?;
            if l.vkeys.is_empty() {
                return Err(format!("log: {:?} has no vkeys", l.origin));
            }
            logs.push(
                LogKeys::from_vkeys(origin, &l.vkeys)
                    .map_err(|e| format!("log: {:?}: vkey: {e}", l.origin))?,
            );
        }
        Ok(ResolvedWitnessConfig {
            signer: CosignatureSigner::new(name, key),
            logs,
            listen,
            state: self
                .state
                .clone()
                .unwrap_or_else(|| PathBuf::from("witness-data")),
        })
    }
}

/// Reads an Ed25519 private key from a PKCS#8 PEM file (what `cairn keygen --type ed25519`
/// and `openssl genpkey -algorithm ed25519` write).
///
/// # Errors
/// A message for an unreadable file or another kind of key.
pub fn load_key(path: &Path) -> Result<SigningKey, String> {
    let pem =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        format!(
            "{}: not an Ed25519 PKCS#8 PEM private key: {e}",
            path.display()
        )
    })
}

impl ResolvedWitnessConfig {
    /// Opens the state directory and returns the witness, on the wall clock.
    ///
    /// # Errors
    /// The state directory or database cannot be opened (or another witness holds it).
    pub fn open(self) -> Result<(Witness, SocketAddr), String> {
        self.open_with_clock(Box::new(SystemClock))
    }

    /// As [`ResolvedWitnessConfig::open`], with the given clock.
    ///
    /// # Errors
    /// As [`ResolvedWitnessConfig::open`].
    pub fn open_with_clock(self, clock: Box<dyn Clock>) -> Result<(Witness, SocketAddr), String> {
        std::fs::create_dir_all(&self.state)
            .map_err(|e| format!("creating {}: {e}", self.state.display()))?;
        let store = RedbWitnessStore::open(&self.state.join("witness.redb")).map_err(|e| e.0)?;
        Ok((
            Witness::new(self.signer, self.logs, Box::new(store), clock),
            self.listen,
        ))
    }
}

/// Serves the witness on `listener` until `shutdown` completes.
///
/// # Errors
/// Socket errors.
pub async fn serve(
    witness: Arc<Witness>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, super::app(witness))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_flags_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[5; 32]);
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let pem = key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap();
        std::fs::write(dir.path().join("w.key"), pem.as_bytes()).unwrap();
        let log = cairn_note::Ed25519Signer::new(
            "log.example/a".parse().unwrap(),
            SigningKey::from_bytes(&[6; 32]),
        );
        let toml = format!(
            "name = \"witness.example/w1\"\nkey = \"{}\"\nstate = \"{}\"\n\n[[log]]\norigin = \"log.example/a\"\nvkeys = [\"{}\"]\n",
            dir.path().join("w.key").display(),
            dir.path().join("st").display(),
            log.vkey()
        );
        std::fs::write(dir.path().join("w.toml"), toml).unwrap();
        let cfg = WitnessConfig::from_file(&dir.path().join("w.toml")).unwrap();
        let resolved = cfg
            .clone()
            .merge(WitnessConfig {
                listen: Some("127.0.0.1:0".into()),
                ..WitnessConfig::default()
            })
            .resolve()
            .unwrap();
        assert_eq!(resolved.listen.port(), 0);
        assert_eq!(resolved.logs.len(), 1);
        let (w, _) = resolved.open().unwrap();
        assert!(w.vkey().starts_with("witness.example/w1+"));

        // Each missing or bad field is named.
        for (bad, field) in [
            (
                WitnessConfig {
                    name: None,
                    ..cfg.clone()
                },
                "name",
            ),
            (
                WitnessConfig {
                    key: None,
                    ..cfg.clone()
                },
                "key",
            ),
            (
                WitnessConfig {
                    log: vec![],
                    ..cfg.clone()
                },
                "log",
            ),
            (
                WitnessConfig {
                    listen: Some("nope".into()),
                    ..cfg.clone()
                },
                "listen",
            ),
            (
                WitnessConfig {
                    log: vec![WitnessConfig::parse_log_flag("log.example/a=bad").unwrap()],
                    ..cfg.clone()
                },
                "log",
            ),
        ] {
            let e = bad.resolve().err().unwrap();
            assert!(e.starts_with(field), "{e}");
        }
        assert!(WitnessConfig::parse_log_flag("novkey").is_err());
        std::fs::write(dir.path().join("bad.toml"), "nmae = \"x\"\n").unwrap();
        assert!(WitnessConfig::from_file(&dir.path().join("bad.toml"))
            .unwrap_err()
            .contains("nmae"));
    }
}
