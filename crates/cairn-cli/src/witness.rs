//! `cairn witness`: flags and an optional TOML file become a `WitnessConfig`; the witness
//! library (`cairn_monitor::witness`) does the rest.

use anyhow::Context as _;
use cairn_monitor::witness::config::{serve, WitnessConfig};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Flags of `cairn witness`; each overrides the same field of `--config`.
#[derive(Args, Debug)]
pub(crate) struct WitnessArgs {
    /// TOML configuration file (fields as in docs/witness-monitor.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The witness's Ed25519 private key, PKCS#8 PEM (`cairn keygen --type ed25519`).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The witness key's name, on its cosignature lines (such as witness.example/w1).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Address to listen on [default: 127.0.0.1:3030].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Directory for the witness's durable state [default: ./witness-data].
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// A log to witness, as ORIGIN=VKEY; repeat for more logs or more keys of one log.
    #[arg(long = "log", value_name = "ORIGIN=VKEY")]
    logs: Vec<String>,
}

pub(crate) fn run(args: WitnessArgs) -> anyhow::Result<ExitCode> {
    crate::daemon::init_tracing();
    let file = match &args.config {
        Some(path) => WitnessConfig::from_file(path).map_err(anyhow::Error::msg)?,
        None => WitnessConfig::default(),
    };
    let log = args
        .logs
        .iter()
        .map(|l| WitnessConfig::parse_log_flag(l))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let config = file.merge(WitnessConfig {
        name: args.name,
        key: args.key,
        listen: args.listen,
        state: args.state,
        log,
    });
    let resolved = config.resolve().map_err(anyhow::Error::msg)?;
    let origins: Vec<String> = resolved
        .logs
        .iter()
        .map(|l| l.origin.as_str().to_string())
        .collect();
    let (witness, addr) = resolved.open().map_err(anyhow::Error::msg)?;
    crate::daemon::serve_on(addr, |listener| async move {
        println!(
            "cairn: witness serving POST http://{}/add-checkpoint",
            listener.local_addr()?
        );
        println!("cairn: witness verifier key {}", witness.vkey());
        for o in &origins {
            println!("cairn: witnessing {o}");
        }
        serve(
            Arc::new(witness),
            listener,
            crate::daemon::shutdown_signal(),
        )
        .await
        .context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
