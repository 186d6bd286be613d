//! `cairn sign`: hash each artifact (streaming), sign the digest, submit it to the log,
//! verify the log's answer against the trusted root, and write ARTIFACT.sigstore.json
//! (Sigstore Bundle v0.3 with publicKey.hint, the TransparencyLogEntry and messageSignature).

use std::io::{IsTerminal as _, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use cairn_entry::sigstore::to_json_pretty;
use cairn_entry::{bundle_v03, HashedRekordRequest, SignerKeyPair};
use cairn_verify::{hash_reader, verify_bundle, ArtifactInput, TrustedLogs, VerifyOptions};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output;
use crate::verify::default_bundle_path;

/// Flags of `cairn sign`.
#[derive(Args, Debug)]
pub(crate) struct SignArgs {
    /// The signer's private key (NAME.key from `cairn keygen`; if encrypted, the passphrase
    /// is read from CAIRN_KEY_PASSPHRASE).
    #[arg(long, value_name = "NAME.key")]
    key: PathBuf,
    /// The log's URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:3000")]
    log: String,
    /// The trusted root the log's answer must verify against (pin it; do not fetch it from
    /// the log at signing time).
    #[arg(long, value_name = "FILE")]
    trusted_root: PathBuf,
    /// Never show progress bars (they are shown only on a terminal, and not under CI).
    #[arg(long)]
    quiet: bool,
    /// Print one JSON object per artifact instead of text.
    #[arg(long)]
    json: bool,
    /// The artifacts; each gets ARTIFACT.sigstore.json beside it.
    #[arg(value_name = "ARTIFACT", required = true)]
    artifacts: Vec<PathBuf>,
}

/// Progress bars only when someone watches: stderr is a terminal, not CI, not --quiet, and
/// the work is big enough to notice (over 64 MiB or more than 3 artifacts).
fn progress(args: &SignArgs, total: u64) -> Option<MultiProgress> {
    let show = !args.quiet
        && !args.json
        && std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && (total > 64 << 20 || args.artifacts.len() > 3);
    show.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// A reader that advances a progress bar.
struct Counting<'a, R> {
    inner: R,
    bar: Option<&'a ProgressBar>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

pub(crate) fn run(args: SignArgs) -> anyhow::Result<ExitCode> {
    let setup = (|| -> anyhow::Result<_> {
        let pair = crate::keygen::read_private_key(&args.key)?;
        let trust_bytes = std::fs::read(&args.trusted_root)
            .with_context(|| format!("reading {}", args.trusted_root.display()))?;
        let trust = TrustedLogs::from_json(&trust_bytes)?;
        let mut total = 0u64;
        for a in &args.artifacts {
            total += std::fs::metadata(a)
                .with_context(|| format!("reading {}", a.display()))?
                .len();
        }
        Ok((pair, trust, total))
    })();
    let (pair, trust, total) = match setup {
        Ok(x) => x,
        Err(e) => {
            eprintln!("cairn sign: {e:#}");
            return Ok(output::code(output::IO_ERROR));
        }
    };
    let bars = progress(&args, total);
    let overall = bars.as_ref().map(|m| {
        let b = m.add(ProgressBar::new(args.artifacts.len() as u64));
        b.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} artifacts")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_prefix("signed");
        b
    });
    let bars2 = bars.clone();
    let client = cairn_client::Client::new(&args.log)?.on_retry(move |e| {
        let msg = format!(
            "cairn sign: log attempt {} failed ({}); retrying in {:.1} s",
            e.attempt,
            e.reason,
            e.delay.as_secs_f64()
        );
        match &bars2 {
            Some(m) => {
                let _ = m.println(msg);
            }
            None => eprintln!("{msg}"),
        }
    });
    let mut worst = output::OK;
    for artifact in &args.artifacts {
        match sign_one(artifact, &pair, &trust, &client, bars.as_ref()) {
            Ok(done) => {
                if args.json {
                    output::json_line(&serde_json::json!({
                        "signed": true,
                        "artifact": artifact,
                        "bundle": done.bundle_path,
                        "log": done.log,
                        "log_index": done.log_index,
                        "digest": hex::encode(&done.digest),
                        "new_entry": done.created,
                    }));
                } else {
                    let line = format!(
                        "signed {}: logged at index {} of {}{}; bundle {}",
                        artifact.display(),
                        done.log_index,
                        done.log,
                        if done.created {
                            ""
                        } else {
                            " (already logged)"
                        },
                        done.bundle_path.display()
                    );
                    match &bars {
                        Some(m) => {
                            let _ = m.println(&line);
                        }
                        None => println!("{line}"),
                    }
                }
            }
            Err((code, e)) => {
                worst = worst.max(code);
                if args.json {
                    output::json_line(&serde_json::json!({
                        "signed": false, "artifact": artifact, "error": format!("{e:#}"),
                    }));
                } else {
                    eprintln!("cairn sign: {}: {e:#}", artifact.display());
                }
            }
        }
        if let Some(b) = &overall {
            b.inc(1);
        }
    }
    if let Some(b) = overall {
        b.finish_and_clear();
    }
    Ok(output::code(worst))
}

struct Done {
    bundle_path: PathBuf,
    log: String,
    log_index: u64,
    digest: Vec<u8>,
    created: bool,
}

fn sign_one(
    artifact: &Path,
    pair: &SignerKeyPair,
    trust: &TrustedLogs,
    client: &cairn_client::Client,
    bars: Option<&MultiProgress>,
) -> Result<Done, (u8, anyhow::Error)> {
    let io = |e: anyhow::Error| (output::IO_ERROR, e);
    // 1. Hash, streaming: the artifact is never held in memory.
    let file = std::fs::File::open(artifact)
        .with_context(|| format!("opening {}", artifact.display()))
        .map_err(io)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = bars.map(|m| {
        let b = m.add(ProgressBar::new(len));
        b.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {bytes}/{total_bytes} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_prefix("hashing");
        b.set_message(artifact.display().to_string());
        b
    });
    let mut reader = Counting {
        inner: std::io::BufReader::with_capacity(1 << 20, file),
        bar: bar.as_ref(),
    };
    let digest = hash_reader(pair.algorithm(), &mut reader)
        .with_context(|| format!("reading {}", artifact.display()))
        .map_err(io)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // 2. Sign and submit.
    let request = HashedRekordRequest::sign(pair, digest.clone())
        .map_err(|e| (output::VERIFY_FAILED, e.into()))?;
    let submitted = client.submit(&request.to_wire().to_json()).map_err(|e| {
        (
            output::IO_ERROR,
            anyhow::Error::new(e).context("submitting to the log"),
        )
    })?;
    // 3. Build the bundle and verify it as an installer will, before writing it.
    let bundle = bundle_v03(&request, submitted.entry).map_err(|e| {
        (
            output::VERIFY_FAILED,
            anyhow::anyhow!("the log's answer: {e}"),
        )
    })?;
    let mut json = to_json_pretty(&bundle).map_err(|e| (output::VERIFY_FAILED, e.into()))?;
    json.push(b'\n');
    let key = pair
        .signer_key()
        .map_err(|e| (output::VERIFY_FAILED, e.into()))?;
    let opts = VerifyOptions::new().requiring_set(true);
    let verified = verify_bundle(&json, ArtifactInput::Digest(&digest), &key, trust, &opts)
        .map_err(|e| {
            (
                output::VERIFY_FAILED,
                anyhow::anyhow!("the log's answer does not verify against the trusted root: {e}"),
            )
        })?;
    // 4. Write ARTIFACT.sigstore.json atomically.
    let bundle_path = default_bundle_path(artifact);
    write_atomic(&bundle_path, &json)
        .with_context(|| format!("writing {}", bundle_path.display()))
        .map_err(io)?;
    Ok(Done {
        bundle_path,
        log: verified.log().base_url().to_string(),
        log_index: verified.log_index(),
        digest,
        created: submitted.created,
    })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}
