//! Where the monitor learns which log to follow: a Sigstore `TrustedRoot` (as `cairn serve`
//! writes to `trusted_root.json`), or a vkey and an origin.

use cairn_note::{verifier_from_vkey, Ed25519Verifier, KeyName, NoteVerifier, Origin, Vkey};

/// The log to follow: its origin, its checkpoint key and, from a trusted root, its URL.
pub struct LogIdentity {
    /// The checkpoint origin.
    pub origin: Origin,
    /// The checkpoint verifier.
    pub verifier: Box<dyn NoteVerifier>,
    /// The log's base URL, when known.
    pub base_url: Option<String>,
}

/// Reads the log from a TrustedRoot: the entry of `tlogs` whose `baseUrl` is `log_url` (or the
/// only one), its origin (the base URL without its scheme) and its Ed25519 key.
///
/// # Errors
/// A message when the JSON is not a trusted root, names no such log, or holds a key that is
/// not Ed25519.
pub fn log_from_trusted_root(json: &[u8], log_url: Option<&str>) -> Result<LogIdentity, String> {
    use base64::Engine as _;
    let root: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("trusted root: {e}"))?;
    let tlogs = root
        .get("tlogs")
        .and_then(|t| t.as_array())
        .ok_or("trusted root: no tlogs")?;
    let base = |t: &serde_json::Value| {
        t.get("baseUrl")
            .and_then(|b| b.as_str())
            .map(|s| s.trim_end_matches('/').to_string())
    };
    let tlog = match log_url {
        Some(url) if tlogs.len() > 1 => tlogs
            .iter()
            .find(|t| base(t).as_deref() == Some(url.trim_end_matches('/')))
            .ok_or_else(|| format!("trusted root: no tlog with baseUrl {url}"))?,
        _ => match tlogs.as_slice() {
            [one] => one,
            _ => return Err("trusted root: give --log to choose one of several tlogs".into()),
        },
    };
    let base_url = base(tlog).ok_or("trusted root: tlog without baseUrl")?;
    let origin = cairn_entry::sigstore::origin_of_base_url(&base_url)
        .map_err(|e| format!("trusted root: {e}"))?;
    let key = tlog
        .get("publicKey")
        .ok_or("trusted root: tlog without publicKey")?;
    let details = key.get("keyDetails").and_then(|d| d.as_str()).unwrap_or("");
    if details != "PKIX_ED25519" {
        return Err(format!(
            "trusted root: the log key is {details:?}; this monitor verifies Ed25519 checkpoint keys"
        ));
    }
    let der = key
        .get("rawBytes")
        .and_then(|r| r.as_str())
        .and_then(|r| base64::engine::general_purpose::STANDARD.decode(r).ok())
        .ok_or("trusted root: publicKey.rawBytes is not base64")?;
    let name: KeyName = origin.parse().map_err(|e| format!("trusted root: {e}"))?;
    let verifier = Ed25519Verifier::from_spki_der(name, &der)
        .map_err(|e| format!("trusted root: publicKey: {e}"))?;
    Ok(LogIdentity {
        origin: origin.parse().map_err(|e| format!("trusted root: {e}"))?,
        verifier: Box::new(verifier),
        base_url: Some(base_url),
    })
}

/// Returns the log of a vkey; its origin is `origin`, or the vkey's key name.
///
/// # Errors
/// A message for a bad vkey or origin.
pub fn log_from_vkey(vkey: &str, origin: Option<&str>) -> Result<LogIdentity, String> {
    let parsed: Vkey = vkey.parse().map_err(|e| format!("vkey: {e}"))?;
    let verifier = verifier_from_vkey(vkey).map_err(|e| format!("vkey: {e}"))?;
    let origin = origin.unwrap_or(parsed.name.as_str());
    Ok(LogIdentity {
        origin: origin
            .parse()
            .map_err(|e| format!("origin {origin:?}: {e}"))?,
        verifier,
        base_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn trusted_root_gives_origin_and_key() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let tr =
            cairn_entry::trusted_root_for_log("http://log.example/cairn", &key.verifying_key(), 0)
                .unwrap();
        let json = serde_json::to_vec(&tr).unwrap();
        let id = log_from_trusted_root(&json, None).unwrap();
        assert_eq!(id.origin.as_str(), "log.example/cairn");
        let signer =
            cairn_note::Ed25519Signer::new("log.example/cairn".parse().unwrap(), key.clone());
        assert_eq!(id.verifier.key_id(), signer.verifier().key_id());
        assert_eq!(id.base_url.as_deref(), Some("http://log.example/cairn"));
        assert!(log_from_trusted_root(b"{}", None).is_err());

        let v = log_from_vkey(&signer.vkey(), None).unwrap();
        assert_eq!(v.origin.as_str(), "log.example/cairn");
        assert!(log_from_vkey("junk", None).is_err());
    }
}
