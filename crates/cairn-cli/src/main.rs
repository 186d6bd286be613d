//! The `cairn` command: glue between the command line and the library crates.

#![forbid(unsafe_code)]

mod daemon;
mod keygen;
mod monitor;
mod output;
mod serve;
mod sign;
mod verify;
mod witness;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Cairn: a signing transparency log.
#[derive(Parser)]
#[command(name = "cairn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the log server (data in ./cairn-data, listening on 127.0.0.1:3000 by default).
    Serve(serve::ServeArgs),
    /// Generate a signer key pair: NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM).
    Keygen(keygen::KeygenArgs),
    /// Sign artifacts, log them, verify the log's answer, write ARTIFACT.sigstore.json.
    Sign(sign::SignArgs),
    /// Verify an artifact's bundle offline (exit 0 verified, 1 failed, 3 unreadable input, 4 fork).
    Verify(verify::VerifyArgs),
    /// Run a C2SP tlog-witness that cosigns logs' checkpoints (POST /add-checkpoint).
    Witness(witness::WitnessArgs),
    /// Follow and audit a log, report watched keys (exit 0 ok, 1 error, 3 fork, 4 bad tile,
    /// 5 bad checkpoint signature, 6 bad entry).
    Monitor(monitor::MonitorArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Witness(args) => witness::run(args),
        Command::Monitor(args) => monitor::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cairn: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
