//! `cairn verify`: one bundle, one artifact, one signer key, a trusted root; exit 0 and one
//! line saying who signed what, where it is logged, or non-zero and the precise reason.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use cairn_entry::{SignerAlgorithm, SignerKey};
use cairn_verify::{
    verify_bundle, ArtifactInput, CheckpointState, ConsistencyProofSource, NoProofs, TrustedLogs,
    VerifyError, VerifyOptions, WitnessPolicy,
};
use clap::Args;

use crate::output;

/// Flags of `cairn verify`.
#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The trusted root naming the log(s) (the log's trusted_root.json, pinned).
    #[arg(long, value_name = "FILE")]
    trusted_root: PathBuf,
    /// The signer's public key (SPKI PEM: NAME.pub from `cairn keygen`, or cosign's key.pub).
    #[arg(long, value_name = "NAME.pub")]
    key: PathBuf,
    /// The bundle [default: ARTIFACT.sigstore.json].
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Fail when the log entry has no signed entry timestamp.
    #[arg(long)]
    require_set: bool,
    /// A witness verifier key (vkey); repeat for several. Needs --witness-threshold.
    #[arg(long = "witness", value_name = "VKEY")]
    witnesses: Vec<String>,
    /// How many of the --witness keys must have cosigned the checkpoint.
    #[arg(long, value_name = "K", requires = "witnesses")]
    witness_threshold: Option<usize>,
    /// A witness policy file (Sigsum format: log, witness, group, quorum) the checkpoint's
    /// cosignatures must meet; witness names are their cosignature key names.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["witnesses", "witness_threshold"])]
    witness_policy: Option<PathBuf>,
    /// Fail when the checkpoint is older than this many seconds (dated by witness
    /// cosignatures, else by the SET's integrated time).
    #[arg(long, value_name = "SECONDS")]
    max_age: Option<u64>,
    /// Remember the newest checkpoint per log here; refuse rollbacks and report forks.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Fetch consistency proofs from this log URL when the checkpoint differs from the
    /// remembered one (with --state-dir).
    #[arg(long, value_name = "URL", requires = "state_dir")]
    log: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The artifact.
    #[arg(value_name = "ARTIFACT")]
    artifact: PathBuf,
}

/// Reads a signer public key, P-256 or Ed25519 (used as Ed25519ph), from SPKI PEM.
pub(crate) fn read_public_key(path: &Path) -> anyhow::Result<SignerKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("reading the key {}", path.display()))?;
    SignerKey::from_spki_pem(SignerAlgorithm::EcdsaP256Sha256, &pem)
        .or_else(|_| SignerKey::from_spki_pem(SignerAlgorithm::Ed25519Ph, &pem))
        .with_context(|| {
            format!(
                "{}: not a P-256 or Ed25519 public key (SPKI PEM)",
                path.display()
            )
        })
}

pub(crate) fn default_bundle_path(artifact: &Path) -> PathBuf {
    let mut s = artifact.as_os_str().to_owned();
    s.push(".sigstore.json");
    PathBuf::from(s)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(crate) fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    // Reading the inputs: failures here are I/O errors (exit 3), not verification failures.
    let inputs = (|| -> anyhow::Result<_> {
        let trust_bytes = std::fs::read(&args.trusted_root)
            .with_context(|| format!("reading {}", args.trusted_root.display()))?;
        let key = read_public_key(&args.key)?;
        let bundle_path = args
            .bundle
            .clone()
            .unwrap_or_else(|| default_bundle_path(&args.artifact));
        let bundle = std::fs::read(&bundle_path)
            .with_context(|| format!("reading the bundle {}", bundle_path.display()))?;
        let artifact = std::fs::File::open(&args.artifact)
            .with_context(|| format!("opening {}", args.artifact.display()))?;
        let mut opts = VerifyOptions::new()
            .requiring_set(args.require_set)
            .at(now());
        if let Some(path) = &args.witness_policy {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the witness policy {}", path.display()))?;
            let policy = WitnessPolicy::parse(&text)
                .with_context(|| format!("witness policy {}", path.display()))?;
            opts = opts.with_witnesses(policy);
        } else if let Some(k) = args.witness_threshold {
            let vkeys: Vec<&str> = args.witnesses.iter().map(String::as_str).collect();
            opts = opts.with_witnesses(WitnessPolicy::from_vkeys(&vkeys, k)?);
        } else if !args.witnesses.is_empty() {
            anyhow::bail!("--witness needs --witness-threshold");
        }
        opts.max_checkpoint_age = args.max_age;
        Ok((trust_bytes, key, bundle, artifact, opts))
    })();
    let (trust_bytes, key, bundle, mut artifact, opts) = match inputs {
        Ok(x) => x,
        Err(e) => return Ok(fail_io(&args, &format!("{e:#}"))),
    };
    let result = TrustedLogs::from_json(&trust_bytes).and_then(|trust| {
        let v = verify_bundle(
            &bundle,
            ArtifactInput::Reader(&mut artifact),
            &key,
            &trust,
            &opts,
        )?;
        let state = match &args.state_dir {
            Some(dir) => {
                let state = CheckpointState::open(dir)?;
                let client;
                let source: &dyn ConsistencyProofSource = match &args.log {
                    Some(url) => {
                        client = cairn_client::Client::new(url)
                            .map_err(|e| VerifyError::ProofSource(e.to_string()))?;
                        &client
                    }
                    None => &NoProofs,
                };
                Some(state.check(v.checkpoint(), source)?)
            }
            None => None,
        };
        Ok((v, state))
    });
    match result {
        Ok((v, state)) => {
            let cp = v.checkpoint().checkpoint();
            if args.json {
                output::json_line(&serde_json::json!({
                    "verified": true,
                    "artifact": args.artifact,
                    "digest": hex::encode(v.digest()),
                    "digest_algorithm": v.hash_algorithm().name(),
                    "key_hint": v.key_hint(),
                    "key_details": key.key_details().name(),
                    "log": v.log().base_url(),
                    "log_index": v.log_index(),
                    "integrated_time": v.tlog().integrated_time(),
                    "set_verified": v.tlog().set_verified(),
                    "checkpoint": {"origin": cp.origin.as_str(), "size": cp.size, "root": cp.root.to_base64()},
                    "cosigners": v.checkpoint().cosigners().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
                    "state": state.map(|s| format!("{s:?}")),
                }));
            } else {
                println!(
                    "OK: {} was signed by key {} ({}) and logged at index {} of {} (checkpoint {} size {})",
                    args.artifact.display(),
                    v.key_hint(),
                    key.key_details().name(),
                    v.log_index(),
                    v.log().base_url(),
                    cp.origin,
                    cp.size,
                );
            }
            Ok(output::code(output::OK))
        }
        Err(e) => {
            let code = match &e {
                VerifyError::Fork { .. } | VerifyError::InconsistentCheckpoints { .. } => {
                    output::FORK
                }
                e if !e.is_verification_failure() => output::IO_ERROR,
                _ => output::VERIFY_FAILED,
            };
            if args.json {
                let evidence = e.fork_evidence().map(|ev| {
                    serde_json::json!({
                        "origin": ev.origin,
                        "remembered": String::from_utf8_lossy(&ev.remembered),
                        "presented": String::from_utf8_lossy(&ev.presented),
                    })
                });
                output::json_line(&serde_json::json!({
                    "verified": false,
                    "artifact": args.artifact,
                    "check": e.check(),
                    "error": e.to_string(),
                    "fork_evidence": evidence,
                }));
            } else {
                eprintln!("FAILED: {}: {e}", args.artifact.display());
                if let Some(ev) = e.fork_evidence() {
                    eprintln!(
                        "evidence: two checkpoints signed by {}:\n--- remembered\n{}--- presented\n{}",
                        ev.origin,
                        String::from_utf8_lossy(&ev.remembered),
                        String::from_utf8_lossy(&ev.presented)
                    );
                }
            }
            Ok(output::code(code))
        }
    }
}

fn fail_io(args: &VerifyArgs, msg: &str) -> ExitCode {
    if args.json {
        output::json_line(&serde_json::json!({
            "verified": false, "artifact": args.artifact, "check": "input", "error": msg,
        }));
    } else {
        eprintln!("FAILED: {}: {msg}", args.artifact.display());
    }
    output::code(output::IO_ERROR)
}
