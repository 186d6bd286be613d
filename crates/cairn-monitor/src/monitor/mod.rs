//! A monitor: it follows a log through the C2SP tlog-tiles read API only, and in each round
//!
//! 1. fetches the checkpoint and verifies the log's signature and origin;
//! 2. decides what it means against the stored head ([`state::MonitorState::plan`]);
//! 3. proves it consistent with the stored checkpoint, with a proof built from the tiles;
//! 4. audits the growth in full ([`audit`]): fetches every new entry bundle, recomputes every
//!    hash tile the new entries change (level 0 from the entries, each level from the one
//!    below), compares each with the served tile, and the root with the checkpoint's;
//! 5. parses every new entry and verifies its signature, and reports the entries signed by a
//!    watched key ([`Alert`], one JSON line each, optionally POSTed to a webhook);
//! 6. only then stores the new head and edge (temporary file, fsync, rename, directory fsync).
//!
//! Alerts are emitted before the state is stored, so a crash between the two repeats them on
//! the next round rather than losing them (at-least-once).
//!
//! Any inconsistency stops the monitor with evidence written to `<state>/evidence/<time>-<kind>/`
//! and a distinct [`MonitorError::exit_code`]:
//!
//! | code | meaning | evidence |
//! |---|---|---|
//! | 0 | the round verified | |
//! | 1 | operational failure: network, files, configuration, webhook (retry) | |
//! | 3 | inconsistent checkpoints: same size with another root, or a failed consistency proof | both signed checkpoints, the proof |
//! | 4 | served data that does not match the signed checkpoint: a tile or entry bundle that does not hash to it | the checkpoint, the served and the recomputed tile |
//! | 5 | a checkpoint not validly signed by the log's key (or of another origin) | the served checkpoint |
//! | 6 | an entry the log should have refused: unparseable, or a signature that does not verify | the checkpoint, the entry, its bundle |
//!
//! (2 is the command line's usage error.)

pub mod audit;
pub mod config;
pub mod entries;
pub mod state;
pub mod tiles;

pub use audit::{Audit, AuditFailure, AuditedTree, Edge};
pub use entries::{key_fingerprint, Alert, BadEntry, Checked, EntryChecker, WatchedKey};
pub use state::{MonitorState, Plan, StateError, VerifiedHead};
pub use tiles::{FetchError, ProofFetchError, TileClient};

use crate::fsutil::{sync_dir, write_atomic};
use cairn_merkle::tiles::{EntryBundle, Tile};
use cairn_merkle::{leaf_hash, verify_consistency, Hash};
use cairn_note::{open_checkpoint, Checkpoint, NoteVerifier, Origin};
use std::collections::HashMap;
use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How the monitor is set up.
pub struct MonitorConfig {
    /// The log's tlog-tiles prefix: for Cairn, `<log URL>/api/v2`.
    pub tiles_prefix: String,
    /// The log's origin.
    pub origin: Origin,
    /// The log's checkpoint verifiers.
    pub verifiers: Vec<Box<dyn NoteVerifier>>,
    /// Where the state file and evidence live.
    pub state_dir: PathBuf,
    /// The keys whose entries are reported.
    pub watched: Vec<WatchedKey>,
    /// Show a progress bar on a terminal while catching up.
    pub progress: bool,
    /// How many resources to fetch at once.
    pub fetch_parallelism: usize,
    /// How many threads hash and verify entries.
    pub threads: usize,
}

/// Why a round failed. [`MonitorError::exit_code`] gives the documented exit code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// A fetch failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The state file or evidence could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The stored state is unusable.
    #[error(transparent)]
    State(#[from] StateError),
    /// An alert could not be delivered (the state was not advanced: the round repeats).
    #[error("delivering an alert: {0}")]
    Alert(String),
    /// Two checkpoints of the log are not consistent.
    #[error("INCONSISTENT LOG: {reason} (evidence in {})", display(.evidence))]
    Inconsistent {
        /// What was found.
        reason: String,
        /// Where the evidence was written.
        evidence: Option<PathBuf>,
    },
    /// Served tiles or bundles do not match the signed checkpoint.
    #[error("BAD LOG DATA: {reason} (evidence in {})", display(.evidence))]
    BadData {
        /// What was found.
        reason: String,
        /// Where the evidence was written.
        evidence: Option<PathBuf>,
    },
    /// The checkpoint's signature (or origin) is not the log's.
    #[error("BAD CHECKPOINT: {reason} (evidence in {})", display(.evidence))]
    BadCheckpoint {
        /// What was found.
        reason: String,
        /// Where the evidence was written.
        evidence: Option<PathBuf>,
    },
    /// The log holds an entry it should have refused.
    #[error("BAD ENTRY: {reason} (evidence in {})", display(.evidence))]
    BadEntry {
        /// What was found.
        reason: String,
        /// Where the evidence was written.
        evidence: Option<PathBuf>,
    },
}

fn display(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map_or_else(|| "<not written>".into(), |p| p.display().to_string())
}

impl MonitorError {
    /// Returns the process exit code for this error (see the module table).
    pub fn exit_code(&self) -> u8 {
        match self {
            MonitorError::Inconsistent { .. } => 3,
            MonitorError::BadData { .. } => 4,
            MonitorError::BadCheckpoint { .. } => 5,
            MonitorError::BadEntry { .. } => 6,
            _ => 1,
        }
    }

    /// Returns whether this is evidence of misbehaviour (as opposed to an operational error).
    pub fn is_evidence(&self) -> bool {
        self.exit_code() >= 3
    }

    /// Returns the evidence directory, if evidence was written.
    pub fn evidence(&self) -> Option<&Path> {
        match self {
            MonitorError::Inconsistent { evidence, .. }
            | MonitorError::BadData { evidence, .. }
            | MonitorError::BadCheckpoint { evidence, .. }
            | MonitorError::BadEntry { evidence, .. } => evidence.as_deref(),
            _ => None,
        }
    }
}

/// Receives the alerts of a verified round, before the state advances.
pub trait AlertSink {
    /// Delivers one alert.
    ///
    /// # Errors
    /// A delivery failure; the round then does not advance the state, and repeats.
    fn alert(&mut self, alert: &Alert) -> Result<(), String>;
}

/// Collects alerts in memory.
impl AlertSink for Vec<Alert> {
    fn alert(&mut self, alert: &Alert) -> Result<(), String> {
        self.push(alert.clone());
        Ok(())
    }
}

/// Writes each alert as one JSON line, and POSTs it (as `application/json`) to a webhook.
pub struct JsonLinesSink<W: Write> {
    out: W,
    webhook: Option<(String, reqwest::blocking::Client)>,
}

impl<W: Write> JsonLinesSink<W> {
    /// Returns a sink writing to `out` and, if given, POSTing to `webhook`.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(out: W, webhook: Option<&str>) -> Result<JsonLinesSink<W>, String> {
        let webhook = match webhook {
            Some(url) => Some((
                url.to_string(),
                reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .map_err(|e| e.to_string())?,
            )),
            None => None,
        };
        Ok(JsonLinesSink { out, webhook })
    }
}

impl<W: Write> AlertSink for JsonLinesSink<W> {
    fn alert(&mut self, alert: &Alert) -> Result<(), String> {
        let line = serde_json::to_string(alert).map_err(|e| e.to_string())?;
        writeln!(self.out, "{line}")
            .and_then(|_| self.out.flush())
            .map_err(|e| format!("writing the alert: {e}"))?;
        if let Some((url, http)) = &self.webhook {
            let resp = http
                .post(url)
                .header("content-type", "application/json")
                .body(line)
                .send()
                .map_err(|e| format!("webhook {url}: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!("webhook {url}: status {}", resp.status()));
            }
        }
        Ok(())
    }
}

/// What a round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The log served the checkpoint already audited.
    Unchanged {
        /// Its size.
        size: u64,
    },
    /// The log served an older checkpoint, proven to be a prefix of the stored one.
    Stale {
        /// The served size.
        served: u64,
        /// The stored size.
        stored: u64,
    },
    /// The tree grew and the growth was audited.
    Grew {
        /// The old size.
        from: u64,
        /// The new size.
        to: u64,
    },
}

/// The report of a successful round.
#[derive(Debug, Clone)]
pub struct RoundReport {
    /// What happened.
    pub outcome: Outcome,
    /// Entries audited this round.
    pub entries: u64,
    /// Entries whose signature could not be checked (unsupported kind or certificate).
    pub unchecked: u64,
    /// Alerts delivered.
    pub alerts: usize,
    /// How long the round took.
    pub elapsed: Duration,
}

/// The file holding the state in the state directory.
pub const STATE_FILE: &str = "state.json";

/// Bundles fetched and processed per step of the pipeline.
const CHUNK_BUNDLES: usize = 32;

/// A monitor of one log.
pub struct Monitor {
    config: MonitorConfig,
    client: TileClient,
    state: MonitorState,
    watched: HashMap<Vec<u8>, String>,
}

/// The evidence of one finding: files to write and a summary.
struct Evidence {
    kind: &'static str,
    reason: String,
    files: Vec<(String, Vec<u8>)>,
}

/// What processing one entry bundle gave.
struct BundleResult {
    leaves: Result<Vec<Hash>, String>,
    watched: Vec<(u64, Checked)>,
    unchecked: u64,
    bad: Option<(BadEntry, Vec<u8>)>,
}

impl Monitor {
    /// Opens the monitor: creates the state directory and loads the state file if any.
    ///
    /// # Errors
    /// [`MonitorError::Io`], [`MonitorError::State`] for a damaged or foreign state.
    pub fn open(config: MonitorConfig) -> Result<Monitor, MonitorError> {
        std::fs::create_dir_all(&config.state_dir).map_err(|e| {
            MonitorError::Io(format!("creating {}: {e}", config.state_dir.display()))
        })?;
        let path = config.state_dir.join(STATE_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => MonitorState::from_json(&bytes, config.origin.as_str())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                MonitorState::new(config.origin.as_str())
            }
            Err(e) => return Err(MonitorError::Io(format!("reading {}: {e}", path.display()))),
        };
        let client = TileClient::new(&config.tiles_prefix, config.fetch_parallelism)
            .map_err(|e| MonitorError::Config(format!("HTTP client: {e}")))?;
        let watched = config
            .watched
            .iter()
            .map(|k| (k.spki_der.clone(), k.label.clone()))
            .collect();
        Ok(Monitor {
            config,
            client,
            state,
            watched,
        })
    }

    /// Returns the stored state.
    pub fn state(&self) -> &MonitorState {
        &self.state
    }

    /// Runs one round (see the module documentation) and delivers its alerts to `sink`.
    ///
    /// # Errors
    /// [`MonitorError`]: operational failures (the state is unchanged; retry), or evidence of
    /// misbehaviour, already written to the state directory.
    pub fn round(&mut self, sink: &mut dyn AlertSink) -> Result<RoundReport, MonitorError> {
        let started = Instant::now();
        let note = self.client.checkpoint()?;
        let refs: Vec<&dyn NoteVerifier> =
            self.config.verifiers.iter().map(|v| v.as_ref()).collect();
        let cp = match open_checkpoint(&note, &refs, Some(&self.config.origin)) {
            Ok((cp, _)) => cp,
            Err(e) => {
                return Err(self.evidence(Evidence {
                    kind: "bad-checkpoint",
                    reason: format!("the served checkpoint does not verify: {e}"),
                    files: vec![("served.checkpoint".into(), note)],
                }))
            }
        };
        let report = |outcome, entries, unchecked, alerts| RoundReport {
            outcome,
            entries,
            unchecked,
            alerts,
            elapsed: started.elapsed(),
        };
        match self.state.plan(&cp) {
            Plan::Unchanged => Ok(report(Outcome::Unchanged { size: cp.size }, 0, 0, 0)),
            Plan::Fork => Err(self.evidence(Evidence {
                kind: "fork",
                reason: format!(
                    "two signed checkpoints of size {} with different roots",
                    cp.size
                ),
                files: self.checkpoint_files(&note, None),
            })),
            Plan::Behind { stored } => {
                self.check_prefix(&cp, &note, stored)?;
                Ok(report(
                    Outcome::Stale {
                        served: cp.size,
                        stored,
                    },
                    0,
                    0,
                    0,
                ))
            }
            Plan::Grow { from, to } => {
                if from > 0 {
                    self.check_extends(&cp, &note, from)?;
                }
                let (audited, alerts, unchecked) = self.audit(&cp, &note)?;
                for a in &alerts {
                    sink.alert(a).map_err(MonitorError::Alert)?;
                }
                self.state.advance(audited, &note)?;
                self.persist()?;
                Ok(report(
                    Outcome::Grew { from, to },
                    to - from,
                    unchecked,
                    alerts.len(),
                ))
            }
        }
    }

    fn persist(&self) -> Result<(), MonitorError> {
        let path = self.config.state_dir.join(STATE_FILE);
        write_atomic(&path, &self.state.to_json())
            .map_err(|e| MonitorError::Io(format!("writing {}: {e}", path.display())))
    }

    fn stored_head(&self) -> Result<&VerifiedHead, MonitorError> {
        self.state
            .head
            .as_ref()
            .ok_or(MonitorError::Io("no stored head".into()))
    }

    fn checkpoint_files(
        &self,
        new: &[u8],
        proof: Option<(u64, u64, &[Hash])>,
    ) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![("new.checkpoint".to_string(), new.to_vec())];
        if let Some(h) = &self.state.head {
            files.push((
                "stored.checkpoint".into(),
                h.checkpoint.clone().into_bytes(),
            ));
        }
        if let Some((old, new, hashes)) = proof {
            let mut text =
                format!("consistency proof from {old} to {new}, as built from the served tiles:\n");
            for h in hashes {
                text.push_str(&h.to_base64());
                text.push('\n');
            }
            files.push(("proof.txt".into(), text.into_bytes()));
        }
        files
    }

    /// Proves that the verified checkpoint `cp` (larger than the stored head) extends it.
    fn check_extends(&self, cp: &Checkpoint, note: &[u8], from: u64) -> Result<(), MonitorError> {
        let head = self.stored_head()?;
        let proof = match self.client.consistency_proof(from, cp.size) {
            Ok(p) => p,
            Err(ProofFetchError::Fetch(e)) => return Err(MonitorError::Fetch(e)),
            Err(ProofFetchError::Tree(e)) => {
                return Err(self.evidence(Evidence {
                    kind: "no-consistency-proof",
                    reason: format!("the served tiles give no consistency proof: {e}"),
                    files: self.checkpoint_files(note, None),
                }))
            }
        };
        if let Err(e) = verify_consistency(from, cp.size, &head.root, &cp.root, &proof) {
            return Err(self.evidence(Evidence {
                kind: "inconsistent",
                reason: format!(
                    "the checkpoint of size {} does not extend the stored one of size {from}: {e}",
                    cp.size
                ),
                files: self.checkpoint_files(note, Some((from, cp.size, &proof))),
            }));
        }
        Ok(())
    }

    /// Proves that the verified checkpoint `cp` (smaller than the stored head) is its prefix.
    fn check_prefix(&self, cp: &Checkpoint, note: &[u8], stored: u64) -> Result<(), MonitorError> {
        let head = self.stored_head()?;
        let proof = match self.client.consistency_proof(cp.size, stored) {
            Ok(p) => p,
            // The log signed the stored checkpoint; a log that cannot serve its tiles any more
            // has lost or replaced the tree it signed.
            Err(ProofFetchError::Fetch(e)) if e.is_not_found() => {
                return Err(self.evidence(Evidence {
                    kind: "inconsistent",
                    reason: format!(
                        "the log serves size {} and no longer serves the tiles of its checkpoint \
                         of size {stored}: {e}",
                        cp.size
                    ),
                    files: self.checkpoint_files(note, None),
                }))
            }
            Err(ProofFetchError::Fetch(e)) => return Err(MonitorError::Fetch(e)),
            Err(ProofFetchError::Tree(e)) => {
                return Err(MonitorError::Io(format!("building a proof: {e}")))
            }
        };
        if let Err(e) = verify_consistency(cp.size, stored, &cp.root, &head.root, &proof) {
            return Err(self.evidence(Evidence {
                kind: "inconsistent",
                reason: format!(
                    "the served checkpoint of size {} is not a prefix of the stored one of size \
                     {stored}: {e}",
                    cp.size
                ),
                files: self.checkpoint_files(note, Some((cp.size, stored, &proof))),
            }));
        }
        Ok(())
    }

    /// Writes evidence and returns the error that reports it.
    fn evidence(&self, ev: Evidence) -> MonitorError {
        let written = self.write_evidence(&ev);
        if let Err(e) = &written {
            tracing::error!(target: "cairn.monitor", "writing evidence: {e}");
        }
        let evidence = written.ok();
        let reason = ev.reason;
        match ev.kind {
            "fork" | "inconsistent" | "no-consistency-proof" => {
                MonitorError::Inconsistent { reason, evidence }
            }
            "bad-checkpoint" => MonitorError::BadCheckpoint { reason, evidence },
            "bad-entry" => MonitorError::BadEntry { reason, evidence },
            _ => MonitorError::BadData { reason, evidence },
        }
    }

    fn write_evidence(&self, ev: &Evidence) -> std::io::Result<PathBuf> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let base = self.config.state_dir.join("evidence");
        std::fs::create_dir_all(&base)?;
        let mut dir = base.join(format!("{}-{}", now.as_secs(), ev.kind));
        let mut n = 1;
        while dir.exists() {
            n += 1;
            dir = base.join(format!("{}-{}-{n}", now.as_secs(), ev.kind));
        }
        std::fs::create_dir(&dir)?;
        let summary = serde_json::json!({
            "kind": ev.kind,
            "reason": ev.reason,
            "origin": self.config.origin.as_str(),
            "log": self.config.tiles_prefix,
            "found_at_unix": now.as_secs(),
            "stored_size": self.state.size(),
            "files": ev.files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        });
        let mut files = ev.files.clone();
        files.push((
            "summary.json".into(),
            serde_json::to_vec_pretty(&summary).unwrap_or_default(),
        ));
        for (name, data) in &files {
            let mut f = std::fs::File::create(dir.join(name))?;
            f.write_all(data)?;
            f.sync_all()?;
        }
        sync_dir(&dir.join("summary.json"))?;
        sync_dir(&dir)?;
        Ok(dir)
    }

    /// Audits the growth from the stored edge to `cp`; returns the audited tree, the alerts
    /// and the number of entries that could not be checked.
    fn audit(
        &self,
        cp: &Checkpoint,
        note: &[u8],
    ) -> Result<(AuditedTree, Vec<Alert>, u64), MonitorError> {
        let from = self.state.size();
        let mut audit = Audit::new(&self.state.edge, cp.size, cp.root)
            .map_err(|e| MonitorError::Io(format!("audit: {e}")))?;
        let bundles = audit.bundles();
        let progress = self.progress_bar(cp.size - from);
        let threads = self.config.threads.max(1);
        let mut checkers: Vec<EntryChecker<'_>> = (0..threads)
            .map(|_| EntryChecker::new(&self.watched))
            .collect();
        let mut alerts = Vec::new();
        let mut unchecked = 0u64;
        let mut partial_level0: Option<(Tile, Vec<u8>)> = None;
        let mut first_bad: Option<Evidence> = None;
        type Fetched = (Tile, Result<(Vec<u8>, Vec<u8>), FetchError>);
        std::thread::scope(|s| -> Result<(), MonitorError> {
            // The fetcher runs one chunk ahead of the hashing and verifying.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Fetched>>(1);
            let client = &self.client;
            let chunks: Vec<&[Tile]> = bundles.chunks(CHUNK_BUNDLES).collect();
            s.spawn(move || {
                for chunk in chunks {
                    let fetched = client.fetch_all(chunk, |t| {
                        let tile0 = Tile::new(0, t.index(), t.width());
                        let r = client.bundle_bytes(*t).and_then(|b| {
                            let tile0 = tile0.map_err(|e| FetchError::Shape {
                                url: client.url(&t.path()),
                                reason: e.to_string(),
                            })?;
                            Ok((b, client.tile(tile0)?))
                        });
                        (*t, r)
                    });
                    if tx.send(fetched).is_err() {
                        break;
                    }
                }
            });
            for fetched in rx {
                let mut items = Vec::with_capacity(fetched.len());
                for (tile, r) in fetched {
                    let (bundle, tile0) = r?;
                    items.push((tile, bundle, tile0));
                }
                let results = process_bundles(&items, from, &mut checkers);
                for ((tile, bundle, tile0), result) in items.iter().zip(results) {
                    let leaves = match result.leaves {
                        Ok(l) => l,
                        Err(reason) => {
                            return Err(self.evidence(Evidence {
                                kind: "bad-bundle",
                                reason: format!(
                                    "entry bundle {} is malformed: {reason}",
                                    tile.entries_path()
                                ),
                                files: vec![
                                    ("new.checkpoint".into(), note.to_vec()),
                                    (file_name(&tile.entries_path()), bundle.clone()),
                                ],
                            }))
                        }
                    };
                    // A bad entry is evidence against the log only once the audit shows it
                    // is in the signed tree (and not, say, corrupted on the way): keep the
                    // first one and report it after the audit passes.
                    if let (Some((bad, body)), None) = (result.bad, &first_bad) {
                        first_bad = Some(Evidence {
                            kind: "bad-entry",
                            reason: bad.to_string(),
                            files: vec![
                                ("new.checkpoint".into(), note.to_vec()),
                                (format!("entry-{}", bad.index), body),
                                (file_name(&tile.entries_path()), bundle.clone()),
                            ],
                        });
                    }
                    unchecked += result.unchecked;
                    for (index, c) in result.watched {
                        if let Checked::Watched {
                            fingerprint,
                            label,
                            algorithm,
                            digest,
                        } = c
                        {
                            alerts.push(Alert {
                                origin: self.config.origin.as_str().to_string(),
                                log_index: index,
                                digest_algorithm: algorithm,
                                digest,
                                key_fingerprint: fingerprint,
                                key_label: label,
                                integrated_time: None,
                                checkpoint_size: cp.size,
                            });
                        }
                    }
                    let ready = audit
                        .push_bundle(*tile, &leaves)
                        .map_err(|f| self.audit_evidence(f, note, Some((tile, bundle))))?;
                    for t in ready {
                        let served = if t.level() == 0 && t.index() == tile.index() {
                            tile0.clone()
                        } else {
                            self.client.tile(t)?
                        };
                        audit
                            .check_tile(t, &served)
                            .map_err(|f| self.audit_evidence(f, note, None))?;
                    }
                    if !tile.is_full() {
                        partial_level0 = Some((
                            Tile::new(0, tile.index(), tile.width())
                                .map_err(|e| MonitorError::Io(e.to_string()))?,
                            tile0.clone(),
                        ));
                    }
                    if let Some(p) = &progress {
                        let seen = from.saturating_sub(tile.index() * 256);
                        p.inc((leaves.len() as u64).saturating_sub(seen));
                    }
                }
            }
            Ok(())
        })?;
        let remaining = audit.remaining_tiles();
        let served = self
            .client
            .fetch_all(&remaining, |t| match &partial_level0 {
                Some((p, data)) if p == t => Ok(data.clone()),
                _ => self.client.tile(*t),
            });
        for (t, data) in remaining.iter().zip(served) {
            audit
                .check_tile(*t, &data?)
                .map_err(|f| self.audit_evidence(f, note, None))?;
        }
        let audited = audit
            .finish()
            .map_err(|f| self.audit_evidence(f, note, None))?;
        if let Some(p) = progress {
            p.finish_and_clear();
        }
        if let Some(ev) = first_bad {
            return Err(self.evidence(ev));
        }
        Ok((audited, alerts, unchecked))
    }

    fn audit_evidence(
        &self,
        failure: AuditFailure,
        note: &[u8],
        bundle: Option<(&Tile, &Vec<u8>)>,
    ) -> MonitorError {
        let mut files = vec![("new.checkpoint".to_string(), note.to_vec())];
        if let Some(h) = &self.state.head {
            files.push((
                "stored.checkpoint".into(),
                h.checkpoint.clone().into_bytes(),
            ));
        }
        if let Some((t, b)) = bundle {
            files.push((file_name(&t.entries_path()), b.clone()));
        }
        if let AuditFailure::TileMismatch {
            tile,
            expected,
            served,
        } = &failure
        {
            files.push((
                format!("{}.served", file_name(&tile.path())),
                served.clone(),
            ));
            files.push((
                format!("{}.recomputed", file_name(&tile.path())),
                expected.clone(),
            ));
        }
        if let AuditFailure::Misuse(m) = failure {
            return MonitorError::Io(format!("audit: {m}"));
        }
        self.evidence(Evidence {
            kind: "bad-data",
            reason: failure.to_string(),
            files,
        })
    }

    fn progress_bar(&self, entries: u64) -> Option<indicatif::ProgressBar> {
        if !self.config.progress || entries < 10_000 || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = indicatif::ProgressBar::new(entries);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "auditing {bar:40} {pos}/{len} entries, {per_sec}, eta {eta}",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    }
}

/// Turns a resource path into a file name (`tile/0/x001/234` -> `tile_0_x001_234`).
fn file_name(path: &str) -> String {
    path.replace(['/', '.'], "_")
}

/// Parses, hashes and checks a chunk of bundles on `checkers.len()` threads.
fn process_bundles(
    items: &[(Tile, Vec<u8>, Vec<u8>)],
    from: u64,
    checkers: &mut [EntryChecker<'_>],
) -> Vec<BundleResult> {
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<BundleResult>> = (0..items.len()).map(|_| None).collect();
    let slots_ref = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|s| {
        for checker in checkers.iter_mut() {
            let next = &next;
            let slots_ref = &slots_ref;
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((tile, bundle, _)) = items.get(i) else {
                    break;
                };
                let r = process_bundle(*tile, bundle, from, checker);
                if let Ok(mut slots) = slots_ref.lock() {
                    slots[i] = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|r| {
            r.unwrap_or(BundleResult {
                leaves: Err("not processed".into()),
                watched: Vec::new(),
                unchecked: 0,
                bad: None,
            })
        })
        .collect()
}

fn process_bundle(
    tile: Tile,
    data: &[u8],
    from: u64,
    checker: &mut EntryChecker<'_>,
) -> BundleResult {
    let mut result = BundleResult {
        leaves: Ok(Vec::new()),
        watched: Vec::new(),
        unchecked: 0,
        bad: None,
    };
    let bundle = match EntryBundle::parse(data, Some(tile.width())) {
        Ok(b) => b,
        Err(e) => {
            result.leaves = Err(e.to_string());
            return result;
        }
    };
    let start = tile.index() * 256;
    let mut leaves = Vec::with_capacity(bundle.len());
    for (i, entry) in bundle.entries().iter().enumerate() {
        leaves.push(leaf_hash(entry));
        let index = start + i as u64;
        // Entries before `from` were checked in an earlier round.
        if index < from || result.bad.is_some() {
            continue;
        }
        match checker.check(index, entry) {
            Ok(Checked::Valid) => {}
            Ok(Checked::Unchecked(_)) => result.unchecked += 1,
            Ok(w @ Checked::Watched { .. }) => result.watched.push((index, w)),
            Err(bad) => result.bad = Some((bad, entry.clone())),
        }
    }
    result.leaves = Ok(leaves);
    result
}
