//! The watchers of a Cairn log (or any C2SP tlog-tiles log):
//!
//! - [`witness`]: a C2SP tlog-witness. It cosigns a log's checkpoints (tlog-cosignature v1)
//!   only when each is consistent with the last one it cosigned, and keeps that state durably,
//!   so no two of its cosignatures can be on a fork.
//! - [`monitor`]: follows a log through its tile API only, verifies every checkpoint, proves
//!   each consistent with the last, recomputes every hash tile from the entries (a full
//!   audit), checks every entry's signature, and reports the entries signed by watched keys.
//!   On any inconsistency it writes the evidence and stops with a distinct exit code.
//!
//! The pure parts (request parsing, the witness's checks, the monitor's state machine and
//! audit) are separate from the I/O (HTTP, files) so they are tested on their own. This crate
//! does not run a log or decide witness policy for clients.

#![forbid(unsafe_code)]

mod fsutil;
pub mod monitor;
pub mod witness;
