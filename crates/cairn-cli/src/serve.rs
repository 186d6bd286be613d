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
    /// Scale-out storage: PostgreSQL database as the commit point (needs --objects)
    /// [default: the embedded database in --data].
    #[arg(long, value_name = "postgres://...")]
    store: Option<String>,
    /// With --store: bucket for tiles, bundles and the checkpoint (s3://bucket/prefix,
    /// gs://..., az://..., file:///dir); credentials from the standard environment variables.
    #[arg(long, value_name = "URL")]
    objects: Option<String>,
    /// The embedded database's page cache limit, MiB [default: 16].
    #[arg(long, value_name = "MIB")]
    cache_mib: Option<usize>,
    /// Run a stateless read replica: serve the read API from --objects and forward
    /// submissions to --upstream. No data directory, database or key.
    #[arg(long, requires = "upstream", conflicts_with = "store")]
    read_only: bool,
    /// With --read-only: the sequencer's URL, e.g. http://10.0.0.5:3000.
    #[arg(long, value_name = "URL", requires = "read_only")]
    upstream: Option<String>,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::daemon::init_tracing();
    let file = match &args.config {
        Some(path) => RawConfig::from_file(path).map_err(anyhow::Error::msg)?,
        None => RawConfig::default(),
    };
    if args.read_only {
        return run_replica(args, &file);
    }
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
        store: args.store,
        objects: args.objects,
        cache_mib: args.cache_mib,
        ..RawConfig::default()
    });
    let addr = raw.listen_addr().map_err(anyhow::Error::msg)?;
    crate::daemon::serve_on(addr, |listener| async move {
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

/// `cairn serve --read-only`: the replica needs only the bucket and the sequencer's URL.
fn run_replica(args: ServeArgs, file: &RawConfig) -> anyhow::Result<ExitCode> {
    let raw = file.clone().merge(RawConfig {
        listen: args.listen,
        max_body_bytes: args.max_body_bytes,
        ..RawConfig::default()
    });
    let addr = raw.listen_addr().map_err(anyhow::Error::msg)?;
    let config = cairn_server::replica::ReplicaConfig {
        objects: args
            .objects
            .or_else(|| file.objects.clone())
            .context("--read-only needs --objects")?,
        upstream: args.upstream.context("--read-only needs --upstream")?,
        max_body_bytes: raw.max_body_bytes.unwrap_or(65536),
        request_timeout: std::time::Duration::from_secs(raw.request_timeout_secs.unwrap_or(30)),
    };
    crate::daemon::serve_on(addr, |listener| async move {
        println!(
            "cairn: read replica listening on {}",
            listener.local_addr()?
        );
        println!(
            "cairn: serving {} and forwarding submissions to {}",
            // The query may hold object-store credentials.
            config.objects.split('?').next().unwrap_or_default(),
            config.upstream
        );
        cairn_server::replica::serve_replica(&config, listener, crate::daemon::shutdown_signal())
            .await
    })?;
    Ok(ExitCode::SUCCESS)
}
