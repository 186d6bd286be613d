//! The log's Ed25519 key: created once at the first start (file mode 0600, PKCS#8 PEM), never
//! logged, and required at every later start.

use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use std::io::Write;
use std::path::Path;

/// Loads the key at `path`; creates it when absent and `may_create` (a new log).
///
/// # Errors
/// A message saying what is wrong: an unreadable or malformed key file, a file readable by
/// others, or a missing key for an existing log (a new key would be a different log).
pub(crate) fn load_or_create(path: &Path, may_create: bool) -> Result<SigningKey, String> {
    match std::fs::read_to_string(path) {
        Ok(pem) => {
            check_mode(path)?;
            SigningKey::from_pkcs8_pem(&pem)
                .map_err(|e| format!("{}: not an Ed25519 PKCS#8 PEM key: {e}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !may_create {
                return Err(format!(
                    "the log key {} is missing, but the data directory already holds a log: \
                     restore the key (a new key would make a different log)",
                    path.display()
                ));
            }
            let key = SigningKey::generate(&mut rand_core::OsRng);
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| format!("encoding the new log key: {e}"))?;
            write_private(path, pem.as_bytes())?;
            Ok(key)
        }
        Err(e) => Err(format!("reading {}: {e}", path.display())),
    }
}

/// Writes a private file: mode 0600 from creation, fsynced, never overwriting.
fn write_private(path: &Path, data: &[u8]) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("creating {}: {e}", path.display()))?;
    f.write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    crate::files::sync_dir(path)
}

#[cfg(unix)]
fn check_mode(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} is readable by other users (mode {:o}): chmod 600 it",
            path.display(),
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path) -> Result<(), String> {
    Ok(())
}
