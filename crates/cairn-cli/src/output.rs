//! Output helpers shared by keygen, sign and verify: JSON lines on stdout for `--json`, and
//! the exit codes of `cairn verify` and `cairn sign`.

use std::io::Write as _;
use std::process::ExitCode;

/// Everything verified / signed.
pub(crate) const OK: u8 = 0;
/// A bundle, artifact or log answer did not verify.
pub(crate) const VERIFY_FAILED: u8 = 1;
// 2 is clap's usage error.
/// A file could not be read or written, or the log could not be reached.
pub(crate) const IO_ERROR: u8 = 3;
/// A fork of the log was detected (the evidence was printed).
pub(crate) const FORK: u8 = 4;

/// Prints one JSON value on its own line to stdout.
pub(crate) fn json_line(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, v);
    let _ = writeln!(out);
}

pub(crate) fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}
