//! The monitor's durable knowledge of a log, and the pure state machine that decides what a
//! newly fetched (signature-verified) checkpoint means (STYLE P12; tessera
//! `LogStateTracker`).
//!
//! ```text
//!   stored head      new checkpoint          plan
//!   none             size n                  Grow { from: 0, to: n }     full audit from 0
//!   (s, r)           (s, r)                  Unchanged
//!   (s, r)           (s, r'), r' != r        Fork                        evidence, no proof needed
//!   (s, r)           (n, _), n > s           Grow { from: s, to: n }     consistency proof, audit
//!   (s, r)           (n, _), n < s           Behind { stored: s }        prove n is a prefix of s
//! ```
//!
//! The state only moves forward, and only through [`MonitorState::advance`], which takes an
//! [`AuditedTree`]: the proof that the growth from the stored size was audited.

use super::audit::{AuditedTree, Edge};
use cairn_merkle::Hash;
use cairn_note::Checkpoint;
use serde::{Deserialize, Serialize};

/// The format version of the state file.
const STATE_VERSION: u32 = 1;

/// The latest checkpoint the monitor verified and audited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedHead {
    /// The tree size.
    pub size: u64,
    /// The root hash (base64 in the file).
    #[serde(with = "hash_b64")]
    pub root: Hash,
    /// The signed checkpoint note, as the log served it: evidence if the log later forks.
    pub checkpoint: String,
}

/// What the monitor keeps about one log between rounds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorState {
    version: u32,
    /// The log's origin.
    pub origin: String,
    /// The latest verified head; `None` before the first round.
    pub head: Option<VerifiedHead>,
    /// The right edge of the audited tree.
    pub edge: Edge,
}

/// What to do with a new checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The same checkpoint as stored: nothing to do.
    Unchanged,
    /// The tree grew: prove consistency from `from` (when non-zero), then audit `from..to`.
    Grow {
        /// The stored size.
        from: u64,
        /// The new size.
        to: u64,
    },
    /// The same size as stored with another root: two signed checkpoints of a fork.
    Fork,
    /// A smaller tree than stored: prove that it is a prefix of the stored one (a stale
    /// view), or it is a fork.
    Behind {
        /// The stored size.
        stored: u64,
    },
}

/// A state that cannot be loaded or advanced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The file is not a state file of this version.
    #[error("state file: {0}")]
    Malformed(String),
    /// The stored edge does not give the stored head (a damaged file).
    #[error("state file: the stored edge does not match the stored head")]
    Inconsistent,
    /// The state is of another log.
    #[error("state file is for the log {found:?}, not {expected:?}")]
    WrongLog {
        /// The configured origin.
        expected: String,
        /// The stored one.
        found: String,
    },
    /// An audit that did not start at the stored size (a bug in the caller).
    #[error("audit from size {audited} cannot advance a state at size {stored}")]
    NotFromHere {
        /// Where the audit started.
        audited: u64,
        /// The stored size.
        stored: u64,
    },
}

impl MonitorState {
    /// Returns the state of a log never seen.
    pub fn new(origin: &str) -> MonitorState {
        MonitorState {
            version: STATE_VERSION,
            origin: origin.to_string(),
            head: None,
            edge: Edge::new(),
        }
    }

    /// Returns the stored size (0 before the first round).
    pub fn size(&self) -> u64 {
        self.head.as_ref().map_or(0, |h| h.size)
    }

    /// Decides what the verified checkpoint `cp` means against the stored head.
    pub fn plan(&self, cp: &Checkpoint) -> Plan {
        let Some(head) = &self.head else {
            return Plan::Grow {
                from: 0,
                to: cp.size,
            };
        };
        match cp.size.cmp(&head.size) {
            std::cmp::Ordering::Equal if cp.root == head.root => Plan::Unchanged,
            std::cmp::Ordering::Equal => Plan::Fork,
            std::cmp::Ordering::Greater => Plan::Grow {
                from: head.size,
                to: cp.size,
            },
            std::cmp::Ordering::Less => Plan::Behind { stored: head.size },
        }
    }

    /// Moves the state to an audited tree and its signed checkpoint.
    ///
    /// # Errors
    /// [`StateError::NotFromHere`] if the audit did not start at the stored size.
    pub fn advance(&mut self, audited: AuditedTree, checkpoint: &[u8]) -> Result<(), StateError> {
        if audited.old_size != self.size() || audited.old_size != self.edge.size() {
            return Err(StateError::NotFromHere {
                audited: audited.old_size,
                stored: self.size(),
            });
        }
        self.head = Some(VerifiedHead {
            size: audited.size,
            root: audited.root,
            checkpoint: String::from_utf8_lossy(checkpoint).into_owned(),
        });
        self.edge = audited.edge;
        Ok(())
    }

    /// Returns the state file's bytes (pretty JSON).
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Parses a state file of the log `origin` and checks that its edge gives its head.
    ///
    /// # Errors
    /// [`StateError`] for a malformed, damaged or foreign state.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<MonitorState, StateError> {
        let s: MonitorState =
            serde_json::from_slice(bytes).map_err(|e| StateError::Malformed(e.to_string()))?;
        if s.version != STATE_VERSION {
            return Err(StateError::Malformed(format!("version {}", s.version)));
        }
        if s.origin != origin {
            return Err(StateError::WrongLog {
                expected: origin.to_string(),
                found: s.origin,
            });
        }
        let (size, root) = s
            .head
            .as_ref()
            .map_or((0, cairn_merkle::empty_root()), |h| (h.size, h.root));
        if s.edge.size() != size || s.edge.root() != root {
            return Err(StateError::Inconsistent);
        }
        Ok(s)
    }
}

mod hash_b64 {
    use cairn_merkle::Hash;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&h.to_base64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_base64(&s).ok_or_else(|| D::Error::custom("bad hash"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::audit::Audit;
    use cairn_merkle::tiles::read_tile_data;
    use cairn_merkle::{leaf_hash, stored_hashes_for_leaf, tree_hash};

    struct Log {
        leaves: Vec<Hash>,
        stored: Vec<Hash>,
    }

    impl Log {
        fn new(n: u64, tag: &str) -> Log {
            let mut log = Log {
                leaves: Vec::new(),
                stored: Vec::new(),
            };
            log.grow(n, tag);
            log
        }
        fn grow(&mut self, n: u64, tag: &str) {
            for _ in 0..n {
                let i = self.leaves.len() as u64;
                let l = leaf_hash(format!("{tag}{i}").as_bytes());
                let new = stored_hashes_for_leaf(i, l, &self.stored).unwrap();
                self.stored.extend(new);
                self.leaves.push(l);
            }
        }
        fn cp(&self, size: u64) -> Checkpoint {
            Checkpoint::new(
                "example.com/log".parse().unwrap(),
                size,
                tree_hash(size, &self.stored).unwrap(),
            )
        }
        fn audit(&self, state: &MonitorState, size: u64) -> AuditedTree {
            let mut a = Audit::new(&state.edge, size, self.cp(size).root).unwrap();
            for b in a.bundles() {
                let s = (b.index() * 256) as usize;
                for t in a
                    .push_bundle(b, &self.leaves[s..s + usize::from(b.width())])
                    .unwrap()
                {
                    a.check_tile(t, &read_tile_data(t, &self.stored).unwrap())
                        .unwrap();
                }
            }
            for t in a.remaining_tiles() {
                a.check_tile(t, &read_tile_data(t, &self.stored).unwrap())
                    .unwrap();
            }
            a.finish().unwrap()
        }
    }

    #[test]
    fn plans_follow_the_table() {
        let mut log = Log::new(300, "a");
        let mut st = MonitorState::new("example.com/log");
        assert_eq!(st.plan(&log.cp(300)), Plan::Grow { from: 0, to: 300 });
        assert_eq!(st.plan(&log.cp(0)), Plan::Grow { from: 0, to: 0 });
        let done = log.audit(&st, 300);
        st.advance(done, b"cp300").unwrap();
        assert_eq!(st.size(), 300);
        assert_eq!(st.plan(&log.cp(300)), Plan::Unchanged);
        assert_eq!(st.plan(&log.cp(299)), Plan::Behind { stored: 300 });
        log.grow(10, "a");
        assert_eq!(st.plan(&log.cp(310)), Plan::Grow { from: 300, to: 310 });
        let fork = Log::new(300, "b");
        assert_eq!(st.plan(&fork.cp(300)), Plan::Fork);
        // Never backwards: an audit from elsewhere does not apply.
        let stale = log.audit(&MonitorState::new("example.com/log"), 310);
        assert!(matches!(
            st.advance(stale, b"x"),
            Err(StateError::NotFromHere { .. })
        ));
        let done = log.audit(&st, 310);
        st.advance(done, b"cp310").unwrap();
        assert_eq!(st.plan(&log.cp(300)), Plan::Behind { stored: 310 });
    }

    #[test]
    fn state_file_round_trips_and_refuses_damage() {
        let log = Log::new(1000, "a");
        let mut st = MonitorState::new("example.com/log");
        let done = log.audit(&st, 1000);
        st.advance(done, b"cp").unwrap();
        let json = st.to_json();
        assert_eq!(
            MonitorState::from_json(&json, "example.com/log").unwrap(),
            st
        );
        assert!(matches!(
            MonitorState::from_json(&json, "example.com/other"),
            Err(StateError::WrongLog { .. })
        ));
        let mut damaged = st.clone();
        damaged.head.as_mut().unwrap().size = 999;
        assert!(matches!(
            MonitorState::from_json(&damaged.to_json(), "example.com/log"),
            Err(StateError::Inconsistent)
        ));
        let mut damaged = st.clone();
        damaged.head.as_mut().unwrap().root = Hash([0; 32]);
        assert!(MonitorState::from_json(&damaged.to_json(), "example.com/log").is_err());
        assert!(MonitorState::from_json(b"{}", "example.com/log").is_err());
        let fresh = MonitorState::new("example.com/log");
        assert_eq!(
            MonitorState::from_json(&fresh.to_json(), "example.com/log").unwrap(),
            fresh
        );
    }
}
