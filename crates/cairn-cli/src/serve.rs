//! `cairn serve`: flags and an optional TOML file become a `RawConfig`; the server library
//! does the rest.

use anyhow::Context as _;
use cairn_server::RawConfig;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `cairn serve`; each overrides the same field of `--config`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// TOML configuration file (fields as in docs/operations.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory: database, log key and trusted_root.json [default: ./cairn-data].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Checkpoint origin and log key name, fixed at the first start [default: the public URL
    /// without its scheme].
    #[arg(long, value_name = "NAME")]
    origin: Option<String>,
    /// URL clients reach the log at, for trusted_root.json [default: http://<listen>].
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Most entries per sequencing round [default: 1024].
    #[arg(long, value_name = "N")]
    max_batch: Option<usize>,
    /// Longest a sequencing round waits for more entries, in ms [default: 0].
    #[arg(long, value_name = "MS")]
    batch_delay_ms: Option<u64>,
    /// Submissions that may wait for the sequencer before 503s [default: 8192].
    #[arg(long, value_name = "N")]
    queue_capacity: Option<usize>,
    /// Largest request body in bytes [default: 65536].
    #[arg(long, value_name = "BYTES")]
    max_body_bytes: Option<usize>,
    /// A witness to send each new checkpoint to: its URL (submission prefix), `=`, its
    /// cosignature vkey. Repeat for several. Without --witness-policy all must cosign.
    #[arg(long = "witness", value_name = "URL=VKEY")]
    witnesses: Vec<String>,
    /// Witness policy file (Sigsum format): the quorum every checkpoint needs, and the
    /// witnesses (with URLs here or in --witness).
    #[arg(long, value_name = "FILE")]
    witness_policy: Option<PathBuf>,
    /// `closed`: a checkpoint that misses the quorum is not published (its submitters get
    /// 503); `open`: it is published anyway and counted [default: closed].
    #[arg(long, value_name = "MODE", value_parser = ["closed", "open"])]
    witness_mode: Option<String>,
    /// Longest one witnessing round waits, in ms [default: 3000].
    #[arg(long, value_name = "MS")]
    witness_timeout_ms: Option<u64>,
    /// Connections served at once [default: 1024].
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Submissions per second per client IP address, 0 for no limit [default: 0].
    #[arg(long, value_name = "N")]
    rate_limit_per_second: Option<u32>,
    /// Submissions per client IP address in a burst above the rate [default: twice the rate].
    #[arg(long, value_name = "N")]
    rate_limit_burst: Option<u32>,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::daemon::init_tracing();
    let file = match &args.config {
        Some(path) => RawConfig::from_file(path).map_err(anyhow::Error::msg)?,
        None => RawConfig::default(),
    };
    let raw = file.merge(RawConfig {
        data: args.data,
        listen: args.listen,
        origin: args.origin,
        public_url: args.public_url,
        max_batch: args.max_batch,
        batch_delay_ms: args.batch_delay_ms,
        queue_capacity: args.queue_capacity,
        max_body_bytes: args.max_body_bytes,
        witness: (!args.witnesses.is_empty()).then_some(args.witnesses),
        witness_policy: args.witness_policy,
        witness_mode: args.witness_mode,
        witness_timeout_ms: args.witness_timeout_ms,
        max_connections: args.max_connections,
        rate_limit_per_second: args.rate_limit_per_second,
        rate_limit_burst: args.rate_limit_burst,
        ..RawConfig::default()
    });
    let addr = raw.listen_addr().map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let prepared = cairn_server::prepare(&raw, listener.local_addr()?)?;
        let info = &prepared.info;
        println!("cairn: listening on {}", listener.local_addr()?);
        println!("cairn: log {} serving at {}", info.origin, info.url);
        println!("cairn: tree size {}", info.tree_size);
        println!("cairn: log verifier key {}", info.vkey);
        println!(
            "cairn: trusted root written to {}",
            info.trusted_root_path.display()
        );
        cairn_server::serve(prepared, listener, crate::daemon::shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}
