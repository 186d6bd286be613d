//! Shared helpers for the benchmarks: a sequencer over any store with a fixed clock, and
//! pre-made entries of a real entry's size, so the criterion benches (`criterion/`) and the
//! scale run (`scale.rs`) build logs the same way. The load generator (`loadgen.rs`) signs
//! real entries instead, because it goes through the server's checks.

// Bench helpers: a panic is a broken benchmark, and these run only in benchmark binaries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_log::{Clock, LogMeta, LogStore, PendingEntry, Sequencer};
use cairn_merkle::leaf_hash;
use cairn_note::{Ed25519Signer, KeyName, Origin};
use ed25519_dalek::SigningKey;

/// The origin of every benchmark log.
pub const ORIGIN: &str = "bench.example/cairn";

/// Size of a canonical hashedrekord v0.0.2 body with a P-256 key (what the monitor catch-up
/// bench measured: about 490 bytes).
pub const ENTRY_SIZE: usize = 490;

/// A clock that always says the same second.
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn unix_seconds(&self) -> u64 {
        self.0
    }
}

/// Returns the log's signer (a fixed Ed25519 key, so a reopened store matches).
pub fn log_signer() -> Ed25519Signer {
    Ed25519Signer::new(
        ORIGIN.parse::<KeyName>().unwrap(),
        SigningKey::from_bytes(&[42; 32]),
    )
}

/// Opens (or creates) the benchmark log in `store`.
///
/// # Panics
/// If the store holds another log or fails its start-up checks.
pub fn open_sequencer<S: LogStore>(store: S) -> Sequencer<S> {
    let meta = LogMeta {
        origin: ORIGIN.into(),
        vkey: log_signer().vkey(),
        created: 1_760_000_000,
    };
    Sequencer::open(
        store,
        &meta,
        ORIGIN.parse::<Origin>().unwrap(),
        Box::new(log_signer()),
        Box::new(FixedClock(1_760_000_000)),
    )
    .unwrap()
}

/// Returns entry `i` of a benchmark log: [`ENTRY_SIZE`] bytes, unique per `i`, with its leaf
/// hash. The sequencer does not look inside bodies, so the bytes need not be a real entry.
pub fn pending(i: u64) -> PendingEntry {
    let mut body = format!("{{\"bench\":{i},\"pad\":\"").into_bytes();
    body.resize(ENTRY_SIZE - 2, b'x');
    body.extend_from_slice(b"\"}");
    PendingEntry {
        leaf_hash: leaf_hash(&body),
        body,
    }
}

/// Returns entries `start..start + n`.
pub fn pending_range(start: u64, n: u64) -> Vec<PendingEntry> {
    (start..start + n).map(pending).collect()
}

/// Returns the resident memory of `process` (`"self"` or a pid) in KiB, now and at its peak
/// (VmRSS, VmHWM from /proc), for the load generator's and the scale run's memory figures.
///
/// # Errors
/// The process is gone, or /proc has no such fields.
pub fn resident_memory(process: &str) -> anyhow::Result<(u64, u64)> {
    use anyhow::Context as _;
    let status = std::fs::read_to_string(format!("/proc/{process}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .with_context(|| format!("no {name} in /proc/{process}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}
