//! `cairn monitor`: follow a log through its tile API, audit it, report watched keys.
//! Exit codes are those of `cairn_monitor::monitor::MonitorError::exit_code` (documented in
//! docs/witness-monitor.md): 0 ok, 1 operational error, 2 usage, 3 inconsistent log,
//! 4 bad tile or bundle, 5 bad checkpoint signature, 6 bad entry.

use cairn_monitor::monitor::config::{log_from_trusted_root, log_from_vkey};
use cairn_monitor::monitor::{
    JsonLinesSink, Monitor, MonitorConfig, MonitorError, Outcome, WatchedKey,
};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Flags of `cairn monitor`.
#[derive(Args, Debug)]
pub(crate) struct MonitorArgs {
    /// The log's URL (its tiles are under <URL>/api/v2).
    #[arg(long, value_name = "URL")]
    log: String,
    /// The log's TrustedRoot (trusted_root.json): its origin and checkpoint key.
    #[arg(long, value_name = "FILE", conflicts_with = "vkey")]
    trusted_root: Option<PathBuf>,
    /// The log's checkpoint verifier key (instead of --trusted-root).
    #[arg(long, value_name = "VKEY", required_unless_present = "trusted_root")]
    vkey: Option<String>,
    /// The log's origin, with --vkey [default: the vkey's name].
    #[arg(long, value_name = "ORIGIN", requires = "vkey")]
    origin: Option<String>,
    /// The tlog-tiles prefix, for logs that are not Cairn [default: <URL>/api/v2].
    #[arg(long, value_name = "URL")]
    tiles_prefix: Option<String>,
    /// Directory for the monitor's state and evidence.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// A public key (PEM) whose entries to report; repeat for more.
    #[arg(long = "watch-key", value_name = "K.pub")]
    watch_keys: Vec<PathBuf>,
    /// Also POST each alert (one JSON object) to this URL.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    /// Run one round and exit.
    #[arg(long, conflicts_with = "interval")]
    once: bool,
    /// Time between rounds, such as 30s, 5m, 1h [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    interval: Option<Duration>,
    /// Never show a progress bar.
    #[arg(long)]
    no_progress: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30s, 5m, 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?}: unit must be s, m or h")),
    };
    if secs == 0 {
        return Err("the interval must be at least 1s".into());
    }
    Ok(Duration::from_secs(secs))
}

pub(crate) fn run(args: MonitorArgs) -> anyhow::Result<ExitCode> {
    crate::daemon::init_tracing();
    let log_url = args.log.trim_end_matches('/').to_string();
    let id = match (&args.trusted_root, &args.vkey) {
        (Some(path), _) => {
            let json = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            log_from_trusted_root(&json, Some(&log_url)).map_err(anyhow::Error::msg)?
        }
        (None, Some(vkey)) => {
            log_from_vkey(vkey, args.origin.as_deref()).map_err(anyhow::Error::msg)?
        }
        (None, None) => anyhow::bail!("give --trusted-root FILE or --vkey VKEY"),
    };
    let mut watched = Vec::new();
    for path in &args.watch_keys {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let label = path.display().to_string();
        watched.push(WatchedKey::from_pem(&label, &pem).map_err(anyhow::Error::msg)?);
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = MonitorConfig {
        tiles_prefix: args
            .tiles_prefix
            .clone()
            .unwrap_or_else(|| format!("{log_url}/api/v2")),
        origin: id.origin,
        verifiers: vec![id.verifier],
        state_dir: args.state.clone(),
        watched,
        progress: !args.no_progress,
        fetch_parallelism: 8,
        threads,
    };
    let mut monitor = match Monitor::open(config) {
        Ok(m) => m,
        Err(e) => return Ok(fail(&e)),
    };
    let mut sink = JsonLinesSink::new(std::io::stdout(), args.webhook.as_deref())
        .map_err(anyhow::Error::msg)?;
    let interval = args.interval.unwrap_or(Duration::from_secs(30));
    loop {
        match monitor.round(&mut sink) {
            Ok(r) => {
                let what = match r.outcome {
                    Outcome::Unchanged { size } => format!("unchanged at size {size}"),
                    Outcome::Stale { served, stored } => format!(
                        "the log served an older checkpoint ({served}), a prefix of {stored}"
                    ),
                    Outcome::Grew { from, to } => format!(
                        "audited {from} -> {to}: {} entries in {:.1}s, {} alerts, {} unchecked",
                        r.entries,
                        r.elapsed.as_secs_f64(),
                        r.alerts,
                        r.unchecked
                    ),
                };
                eprintln!("cairn monitor: {what}");
            }
            Err(e) if !e.is_evidence() && !args.once => {
                eprintln!("cairn monitor: round failed, retrying: {e}");
            }
            Err(e) => return Ok(fail(&e)),
        }
        if args.once {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(interval);
    }
}

fn fail(e: &MonitorError) -> ExitCode {
    eprintln!("cairn monitor: {e}");
    ExitCode::from(e.exit_code())
}
