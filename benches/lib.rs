//! Shared helpers for the benchmarks and the load generator (none yet: see loadgen.rs).
