//! Not yet written: see docs/architecture.md for what this crate will hold.
