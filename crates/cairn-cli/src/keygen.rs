//! `cairn keygen`: a signer key pair as NAME.key (PKCS#8 PEM, mode 0600, optionally encrypted
//! with a passphrase from an environment variable) and NAME.pub (SPKI PEM).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use cairn_entry::{SignerAlgorithm, SignerKeyPair};
use clap::{Args, ValueEnum};

use crate::output;

/// The environment variable holding the passphrase that encrypts (keygen) and decrypts (sign)
/// private key files. Unset or empty: the key file is not encrypted.
pub(crate) const PASSPHRASE_ENV: &str = "CAIRN_KEY_PASSPHRASE";

/// Signer key types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyType {
    /// ECDSA P-256 over SHA-256: verifiable by today's Sigstore clients (sigstore-js, cosign).
    P256,
    /// Ed25519ph over SHA-512: Cairn and Rekor v2 accept it; sigstore-js rejects Ed25519
    /// signer keys.
    Ed25519,
}

/// Flags of `cairn keygen`.
#[derive(Args, Debug)]
pub(crate) struct KeygenArgs {
    /// Key type.
    #[arg(long = "type", value_enum, default_value = "p256")]
    key_type: KeyType,
    /// Output name: writes NAME.key (private, mode 0600) and NAME.pub (public).
    #[arg(long, value_name = "NAME")]
    out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

pub(crate) fn run(args: KeygenArgs) -> anyhow::Result<ExitCode> {
    let algorithm = match args.key_type {
        KeyType::P256 => SignerAlgorithm::EcdsaP256Sha256,
        KeyType::Ed25519 => SignerAlgorithm::Ed25519Ph,
    };
    let pair = SignerKeyPair::generate(algorithm, &mut rand_core::OsRng);
    let passphrase = std::env::var(PASSPHRASE_ENV).unwrap_or_default();
    let private_pem = if passphrase.is_empty() {
        pair.to_pkcs8_pem()?.to_string()
    } else {
        let der = pair.to_pkcs8_der()?;
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_slice())
            .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?;
        // PBES2 with scrypt and AES-256-CBC (the pkcs8 crate's default), as OpenSSL reads it.
        let encrypted = info
            .encrypt(rand_core::OsRng, passphrase.as_bytes())
            .map_err(|e| anyhow::anyhow!("encrypting the key: {e}"))?;
        encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?
            .to_string()
    };
    let public_pem = pair.signer_key()?.to_spki_pem();
    let key_path = with_ext(&args.out, "key");
    let pub_path = with_ext(&args.out, "pub");
    write_new(&key_path, private_pem.as_bytes(), 0o600, args.force)?;
    write_new(&pub_path, public_pem.as_bytes(), 0o644, args.force)?;
    let hint = cairn_entry::public_key_hint(&pair.public_spki_der());
    if args.json {
        output::json_line(&serde_json::json!({
            "private_key": key_path,
            "public_key": pub_path,
            "key_details": algorithm.key_details().name(),
            "hint": hint,
            "encrypted": !passphrase.is_empty(),
        }));
    } else {
        println!(
            "wrote {} ({}{}) and {}; key hint {hint}",
            key_path.display(),
            algorithm.key_details().name(),
            if passphrase.is_empty() {
                ""
            } else {
                ", encrypted"
            },
            pub_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a new file with `mode` (set at creation, so a private key is never readable by
/// others, not even briefly), refusing to overwrite unless `force`.
fn write_new(path: &Path, bytes: &[u8], mode: u32, force: bool) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        opts.mode(mode);
        let mut f = opts
            .open(path)
            .with_context(|| format!("creating {} (use --force to overwrite)", path.display()))?;
        // An existing file keeps its old mode under --force: set it explicitly.
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        let mut f = opts
            .open(path)
            .with_context(|| format!("creating {} (use --force to overwrite)", path.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    Ok(())
}

/// Reads a private key file: PKCS#8 `PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` decrypted with
/// the passphrase in [`PASSPHRASE_ENV`].
pub(crate) fn read_private_key(path: &Path) -> anyhow::Result<SignerKeyPair> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("reading the key {}", path.display()))?;
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let passphrase = std::env::var(PASSPHRASE_ENV).unwrap_or_default();
        anyhow::ensure!(
            !passphrase.is_empty(),
            "{} is encrypted: set {PASSPHRASE_ENV} to its passphrase",
            path.display()
        );
        let (label, doc) = pkcs8::SecretDocument::from_pem(&pem)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        anyhow::ensure!(
            label == "ENCRYPTED PRIVATE KEY",
            "{}: unexpected PEM label {label}",
            path.display()
        );
        let enc = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let der = enc.decrypt(passphrase.as_bytes()).map_err(|_| {
            anyhow::anyhow!("{}: wrong passphrase in {PASSPHRASE_ENV}", path.display())
        })?;
        Ok(SignerKeyPair::from_pkcs8_der(der.as_bytes())?)
    } else {
        SignerKeyPair::from_pkcs8_pem(&pem)
            .with_context(|| format!("reading the key {}", path.display()))
    }
}
