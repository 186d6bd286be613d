//! Verification options: a witness policy (k of n C2SP tlog-cosignature witnesses), a
//! freshness bound on the checkpoint, and whether a SET is required. Time comes in as a value
//! (`now`), never from the clock, so verification is reproducible.

use cairn_note::{CosignatureVerifier, NoteError, NoteVerifier};

/// At least `threshold` of `witnesses` must have cosigned the checkpoint
/// (<https://c2sp.org/tlog-cosignature>, Ed25519 cosignature/v1).
#[derive(Debug, Clone)]
pub struct WitnessPolicy {
    witnesses: Vec<CosignatureVerifier>,
    threshold: usize,
}

impl WitnessPolicy {
    /// Returns a k-of-n policy over `witnesses`.
    ///
    /// # Errors
    /// [`NoteError::InvalidArgument`] when `threshold` is 0 or more than the witnesses given.
    pub fn new(
        witnesses: Vec<CosignatureVerifier>,
        threshold: usize,
    ) -> Result<WitnessPolicy, NoteError> {
        if threshold == 0 || threshold > witnesses.len() {
            return Err(NoteError::InvalidArgument(
                "witness threshold must be between 1 and the number of witnesses",
            ));
        }
        Ok(WitnessPolicy {
            witnesses,
            threshold,
        })
    }

    /// Returns a k-of-n policy over witness vkeys (`<name>+<hex id>+<base64 0x04 || key>`).
    ///
    /// # Errors
    /// [`NoteError::Malformed`] for a bad vkey; as [`WitnessPolicy::new`].
    pub fn from_vkeys(vkeys: &[&str], threshold: usize) -> Result<WitnessPolicy, NoteError> {
        let witnesses = vkeys
            .iter()
            .map(|v| CosignatureVerifier::from_vkey(v))
            .collect::<Result<Vec<_>, _>>()?;
        WitnessPolicy::new(witnesses, threshold)
    }

    /// Returns how many cosignatures are needed.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    pub(crate) fn verifiers(&self) -> Vec<&dyn NoteVerifier> {
        self.witnesses
            .iter()
            .map(|w| w as &dyn NoteVerifier)
            .collect()
    }
}

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
