//! The `cairn` command: glue between the command line and the library crates.

#![forbid(unsafe_code)]

mod serve;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cairn: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
