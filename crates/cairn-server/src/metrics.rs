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
    /// Internal errors.
    pub errors_internal: AtomicU64,
    /// Sequencing rounds that committed.
    pub batches: AtomicU64,
    /// Sum of batch sizes (entries handed to the sequencer per round).
    pub batch_entries: AtomicU64,
    /// The published tree size.
    pub tree_size: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl Metrics {
    /// Records one round's integration latency (from batch start to durable commit).
    pub fn observe_integration(&self, seconds: f64) {
        for (b, bound) in self.latency_buckets.iter().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                b.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add((seconds * 1e6) as u64, Relaxed);
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
        let _ = writeln!(
            s,
            "# HELP cairn_log_integration_seconds Time from batch start to durable commit."
        );
        let _ = writeln!(s, "# TYPE cairn_log_integration_seconds histogram");
        for (b, bound) in self.latency_buckets.iter().zip(LATENCY_BUCKETS) {
            let _ = writeln!(
                s,
                "cairn_log_integration_seconds_bucket{{le=\"{bound}\"}} {}",
                g(b)
            );
        }
        let count = g(&self.latency_count);
        let _ = writeln!(
            s,
            "cairn_log_integration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            s,
            "cairn_log_integration_seconds_sum {}",
            g(&self.latency_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(s, "cairn_log_integration_seconds_count {count}");
        s
    }
}
