//! Verification options: a witness policy ([`WitnessPolicy`], Sigsum policy files), a
//! freshness bound on the checkpoint, and whether a SET is required. Time comes in as a value
//! (`now`), never from the clock, so verification is reproducible.

use crate::policy::WitnessPolicy;

/// What to require beyond the always-made checks. `VerifyOptions::default()` requires no SET,
/// no witnesses and no freshness.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// The current time, Unix seconds: needed for `max_checkpoint_age`.
    pub now: Option<u64>,
    /// Reject entries without a signed entry timestamp (a Cairn log always issues one; Rekor v2
    /// does not).
    pub require_set: bool,
    /// Require cosignatures from witnesses.
    pub witness_policy: Option<WitnessPolicy>,
    /// Reject a checkpoint older than this many seconds. Its age is measured from the newest
    /// verified witness cosignature timestamp, else from the SET-backed integrated time (a
    /// lower bound on when the checkpoint was signed). Needs `now`.
    pub max_checkpoint_age: Option<u64>,
}

impl VerifyOptions {
    /// Returns the default options (see the type's doc).
    pub fn new() -> VerifyOptions {
        VerifyOptions::default()
    }

    /// Sets `now`.
    pub fn at(mut self, now: u64) -> VerifyOptions {
        self.now = Some(now);
        self
    }

    /// Sets `require_set`.
    pub fn requiring_set(mut self, yes: bool) -> VerifyOptions {
        self.require_set = yes;
        self
    }

    /// Sets the witness policy.
    pub fn with_witnesses(mut self, policy: WitnessPolicy) -> VerifyOptions {
        self.witness_policy = Some(policy);
        self
    }

    /// Sets the freshness bound (seconds) and the current time.
    pub fn fresh_within(mut self, max_age: u64, now: u64) -> VerifyOptions {
        self.max_checkpoint_age = Some(max_age);
        self.now = Some(now);
        self
    }
}
