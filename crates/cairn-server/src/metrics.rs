//! Prometheus text metrics, kept with atomics (no registry dependency for a handful of series).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds (seconds) of the integration-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0];

/// The server's counters.
#[derive(Default, Debug)]
pub struct Metrics {
    /// Entries accepted and newly sequenced.
    pub entries_new: AtomicU64,
    /// Submissions answered with an existing entry.
    pub entries_duplicate: AtomicU64,
    /// Submissions rejected as malformed or with a bad signature.
    pub rejected_bad_request: AtomicU64,
    /// Submissions turned away because the queue was full.
    pub rejected_busy: AtomicU64,
    /// Entries logged but not answered: their checkpoint missed the witness quorum.
    pub entries_unwitnessed: AtomicU64,
    /// Internal errors.
    pub errors_internal: AtomicU64,
    /// Sequencing rounds that committed.
    pub batches: AtomicU64,
    /// Sum of batch sizes (entries handed to the sequencer per round).
    pub batch_entries: AtomicU64,
    /// The published tree size.
    pub tree_size: AtomicU64,
    /// Valid cosignatures received from witnesses.
    pub witness_cosignatures: AtomicU64,
    /// Witness requests that gave no cosignature (errors, refusals, timeouts).
    pub witness_errors: AtomicU64,
    /// Witnessing rounds whose cosignatures did not meet the quorum.
    pub witness_quorum_missed: AtomicU64,
    /// Checkpoints published without their quorum (fail-open mode).
    pub witness_published_unwitnessed: AtomicU64,
    integration: Histogram,
    witnessing: Histogram,
}

/// A latency histogram with the buckets of [`LATENCY_BUCKETS`].
#[derive(Default, Debug)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, seconds: f64) {
        for (b, bound) in self.buckets.iter().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                b.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
    }

    fn render(&self, s: &mut String, name: &str, help: &str) {
        let g = |a: &AtomicU64| a.load(Relaxed);
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} histogram");
        for (b, bound) in self.buckets.iter().zip(LATENCY_BUCKETS) {
            let _ = writeln!(s, "{name}_bucket{{le=\"{bound}\"}} {}", g(b));
        }
        let count = g(&self.count);
        let _ = writeln!(s, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(s, "{name}_sum {}", g(&self.sum_micros) as f64 / 1e6);
        let _ = writeln!(s, "{name}_count {count}");
    }
}

impl Metrics {
    /// Records one round's integration latency (from batch start to durable commit).
    pub fn observe_integration(&self, seconds: f64) {
        self.integration.observe(seconds);
    }

    /// Records one witnessing round: its latency and whether the quorum was met.
    pub fn observe_witnessing(&self, seconds: f64, met: bool) {
        self.witnessing.observe(seconds);
        if !met {
            self.witness_quorum_missed.fetch_add(1, Relaxed);
        }
    }

    /// Returns the metrics in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let g = |a: &AtomicU64| a.load(Relaxed);
        let _ = writeln!(
            s,
            "# HELP cairn_log_entries_total Submissions answered, by outcome."
        );
        let _ = writeln!(s, "# TYPE cairn_log_entries_total counter");
        for (label, v) in [
            ("new", &self.entries_new),
            ("duplicate", &self.entries_duplicate),
            ("bad_request", &self.rejected_bad_request),
            ("busy", &self.rejected_busy),
            ("unwitnessed", &self.entries_unwitnessed),
            ("internal_error", &self.errors_internal),
        ] {
            let _ = writeln!(s, "cairn_log_entries_total{{result=\"{label}\"}} {}", g(v));
        }
        let _ = writeln!(
            s,
            "# HELP cairn_log_batches_total Sequencing rounds committed."
        );
        let _ = writeln!(s, "# TYPE cairn_log_batches_total counter");
        let _ = writeln!(s, "cairn_log_batches_total {}", g(&self.batches));
        let _ = writeln!(
            s,
            "# HELP cairn_log_batch_entries_total Entries handed to the sequencer."
        );
        let _ = writeln!(s, "# TYPE cairn_log_batch_entries_total counter");
        let _ = writeln!(
            s,
            "cairn_log_batch_entries_total {}",
            g(&self.batch_entries)
        );
        let _ = writeln!(s, "# HELP cairn_log_tree_size Size of the published tree.");
        let _ = writeln!(s, "# TYPE cairn_log_tree_size gauge");
        let _ = writeln!(s, "cairn_log_tree_size {}", g(&self.tree_size));
        self.integration.render(
            &mut s,
            "cairn_log_integration_seconds",
            "Time from batch start to durable commit.",
        );
        self.witnessing.render(
            &mut s,
            "cairn_log_witnessing_seconds",
            "Time from a durable commit to the end of its witnessing round.",
        );
        for (name, help, v) in [
            (
                "cairn_log_witness_cosignatures_total",
                "Valid witness cosignatures received.",
                &self.witness_cosignatures,
            ),
            (
                "cairn_log_witness_errors_total",
                "Witness requests that gave no cosignature.",
                &self.witness_errors,
            ),
            (
                "cairn_log_witness_quorum_missed_total",
                "Witnessing rounds that did not meet the quorum.",
                &self.witness_quorum_missed,
            ),
            (
                "cairn_log_witness_published_unwitnessed_total",
                "Checkpoints published without their quorum (fail open).",
                &self.witness_published_unwitnessed,
            ),
        ] {
            let _ = writeln!(s, "# HELP {name} {help}");
            let _ = writeln!(s, "# TYPE {name} counter");
            let _ = writeln!(s, "{name} {}", g(v));
        }
        s
    }
}
