//! A C2SP tlog-witness (<https://c2sp.org/tlog-witness>): it cosigns a log's checkpoints
//! (C2SP tlog-cosignature v1, Ed25519, type 0x04) only if each extends the last one it
//! cosigned for that log, so no two of its cosignatures are on inconsistent checkpoints.
//!
//! `POST <prefix>/add-checkpoint`, as the spec defines it:
//!
//! | check, in order | failure |
//! |---|---|
//! | the body parses (`old N`, proof lines, empty line, signed checkpoint) | 400 |
//! | the checkpoint's origin is a configured log | 404 |
//! | a configured key of that log signed it (unknown signers ignored) | 403 |
//! | `old` <= the checkpoint's size | 400 |
//! | `old` is the size of the latest cosigned checkpoint (0 if none) | 409, body `<size>\n`, `text/x.tlog.size` |
//! | if `old` is the checkpoint's size, the roots are equal | 409, likewise |
//! | the consistency proof from the stored root verifies | 422 |
//! | the compare-and-swap from the stored head to the new one succeeds | 409 (another request won) |
//!
//! Then it answers 200 with one cosignature line. The new head is durable before the answer
//! ([`WitnessStore`]), and the swap is conditional on the head the checks were made against,
//! so concurrent requests and restarts can never roll it back.
//!
//! Structure (STYLE P6): [`process_add_checkpoint`] does the work on typed input and returns
//! a [`WitnessError`]; `impl IntoResponse for WitnessError` is the one place that picks status
//! codes; [`app`] is a thin axum router. The log's side is `cairn_client::witness`.

pub mod config;
mod store;

// The request format is pure and shared with logs (cairn-client's witness client), so it
// lives in cairn-note; re-exported here for the witness's users.
pub use cairn_note::{AddCheckpointRequest, MalformedRequest, MAX_PROOF_LINES, MAX_REQUEST_BYTES};
pub use store::{Cas, MemWitnessStore, RedbWitnessStore, StoreError, TreeHead, WitnessStore};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use cairn_merkle::{empty_root, verify_consistency, ProofError};
use cairn_note::{
    verifier_from_vkey, CosignatureSigner, NoteError, NoteSignature, NoteVerifier, Origin,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Gives the witness the time for its cosignature timestamps.
pub trait Clock: Send + Sync {
    /// Returns the current time in seconds since the Unix epoch.
    fn unix_seconds(&self) -> u64;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// One log the witness follows: its origin and the keys that may sign its checkpoints.
pub struct LogKeys {
    /// The checkpoint origin.
    pub origin: Origin,
    /// The log's note verifiers (several during a key rotation).
    pub verifiers: Vec<Box<dyn NoteVerifier>>,
}

impl LogKeys {
    /// Returns the log `origin` with the keys given as vkeys.
    ///
    /// # Errors
    /// A vkey that does not parse or is of an unsupported type.
    pub fn from_vkeys(origin: Origin, vkeys: &[String]) -> Result<LogKeys, NoteError> {
        let verifiers = vkeys
            .iter()
            .map(|v| verifier_from_vkey(v))
            .collect::<Result<_, _>>()?;
        Ok(LogKeys { origin, verifiers })
    }
}

/// A witness: its cosigning key, the logs it follows, its durable state and its clock.
pub struct Witness {
    signer: CosignatureSigner,
    logs: HashMap<String, Vec<Box<dyn NoteVerifier>>>,
    store: Box<dyn WitnessStore>,
    clock: Box<dyn Clock>,
}

impl Witness {
    /// Returns a witness. Keys of one origin given in several [`LogKeys`] are merged.
    pub fn new(
        signer: CosignatureSigner,
        logs: Vec<LogKeys>,
        store: Box<dyn WitnessStore>,
        clock: Box<dyn Clock>,
    ) -> Witness {
        let mut map: HashMap<String, Vec<Box<dyn NoteVerifier>>> = HashMap::new();
        for log in logs {
            map.entry(log.origin.as_str().to_string())
                .or_default()
                .extend(log.verifiers);
        }
        Witness {
            signer,
            logs: map,
            store,
            clock,
        }
    }

    /// Returns the witness's cosignature verifier key (type 0x04), for logs and clients.
    pub fn vkey(&self) -> String {
        self.signer.vkey()
    }

    /// Returns the latest cosigned head of `origin`.
    ///
    /// # Errors
    /// Storage failures.
    pub fn head(&self, origin: &Origin) -> Result<Option<TreeHead>, StoreError> {
        self.store.load(origin)
    }
}

/// Why the witness refused to cosign. [`IntoResponse`] maps each to its status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The body is malformed, or `old` is above the checkpoint's size (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The checkpoint's origin is not a log this witness follows (404).
    #[error("unknown log origin {0:?}")]
    UnknownLog(String),
    /// No configured key of the log verified the checkpoint, or one failed (403).
    #[error("checkpoint signature: {0}")]
    Signature(#[source] NoteError),
    /// `old` is not the latest cosigned size, or it is the checkpoint's size with another
    /// root (409, with the latest cosigned size).
    #[error("conflict: the latest cosigned size is {known_size}")]
    Conflict {
        /// The size of the latest checkpoint cosigned for the origin (0 if none).
        known_size: u64,
    },
    /// The consistency proof does not verify (422).
    #[error("consistency proof: {0}")]
    Proof(#[source] ProofError),
    /// Storage or signing failed (500); the details go to the log, not the client.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Checks an `add-checkpoint` request body and, if every check of the spec passes, records the
/// new head durably and returns the witness's cosignature on the checkpoint.
///
/// # Errors
/// [`WitnessError`], one variant per status code the spec defines; see the module table.
pub fn process_add_checkpoint(
    witness: &Witness,
    body: &[u8],
) -> Result<NoteSignature, WitnessError> {
    let req = AddCheckpointRequest::parse(body).map_err(|e| WitnessError::BadRequest(e.0))?;
    let cp = req.checkpoint.checkpoint();
    let verifiers = witness
        .logs
        .get(cp.origin.as_str())
        .ok_or_else(|| WitnessError::UnknownLog(cp.origin.as_str().to_string()))?;
    let refs: Vec<&dyn NoteVerifier> = verifiers.iter().map(|v| v.as_ref()).collect();
    req.checkpoint.verify(&refs, None).map_err(|e| {
        if e.is_malformed() {
            WitnessError::BadRequest(e.to_string())
        } else {
            WitnessError::Signature(e)
        }
    })?;
    if req.old_size > cp.size {
        return Err(WitnessError::BadRequest(format!(
            "old size {} is above the checkpoint size {}",
            req.old_size, cp.size
        )));
    }
    let stored = witness
        .store
        .load(&cp.origin)
        .map_err(|e| WitnessError::Internal(e.to_string()))?;
    // A log never cosigned has the empty tree as its head.
    let known = stored.unwrap_or(TreeHead {
        size: 0,
        root: empty_root(),
    });
    if req.old_size != known.size {
        return Err(WitnessError::Conflict {
            known_size: known.size,
        });
    }
    if req.old_size == cp.size && cp.root != known.root {
        return Err(WitnessError::Conflict {
            known_size: known.size,
        });
    }
    if let Err(e) = verify_consistency(known.size, cp.size, &known.root, &cp.root, &req.proof) {
        // A validly signed checkpoint that does not extend what we cosigned may be evidence
        // of a fork: keep it in the operator's log (the spec allows this).
        tracing::warn!(
            target: "cairn.witness",
            origin = cp.origin.as_str(),
            old_size = known.size,
            size = cp.size,
            request = %String::from_utf8_lossy(body),
            "consistency proof failed: {e}"
        );
        return Err(WitnessError::Proof(e));
    }
    let new = TreeHead {
        size: cp.size,
        root: cp.root,
    };
    // The conditional write on the head the checks above were made against: if another
    // request moved it meanwhile, nothing is written and this one is a conflict.
    match witness
        .store
        .compare_and_swap(
            &cp.origin,
            stored.as_ref(),
            &new,
            &req.checkpoint.to_bytes(),
        )
        .map_err(|e| WitnessError::Internal(e.to_string()))?
    {
        Cas::Swapped => {}
        Cas::Conflict(now) => {
            return Err(WitnessError::Conflict {
                known_size: now.map(|h| h.size).unwrap_or(0),
            })
        }
    }
    witness
        .signer
        .sign_at(&req.checkpoint.note().text, witness.clock.unix_seconds())
        .map_err(|e| WitnessError::Internal(format!("cosigning: {e}")))
}

impl IntoResponse for WitnessError {
    fn into_response(self) -> Response {
        let text = |status: StatusCode, msg: String| (status, format!("{msg}\n")).into_response();
        match self {
            WitnessError::BadRequest(m) => text(StatusCode::BAD_REQUEST, m),
            WitnessError::UnknownLog(o) => {
                text(StatusCode::NOT_FOUND, format!("unknown log origin {o:?}"))
            }
            WitnessError::Signature(e) => text(StatusCode::FORBIDDEN, e.to_string()),
            WitnessError::Conflict { known_size } => {
                let mut r = (StatusCode::CONFLICT, format!("{known_size}\n")).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/x.tlog.size"),
                );
                r
            }
            WitnessError::Proof(e) => text(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("consistency proof: {e}"),
            ),
            WitnessError::Internal(m) => {
                tracing::error!(target: "cairn.witness", "internal error: {m}");
                text(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
            }
        }
    }
}

/// Returns the witness's router: `POST /add-checkpoint` (mount it under the submission prefix
/// with `Router::nest` if there is one).
pub fn app(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(witness)
}

async fn add_checkpoint(
    State(witness): State<Arc<Witness>>,
    body: Bytes,
) -> Result<Response, WitnessError> {
    // Signature checks and the fsync of the swap block: keep them off the reactor.
    let sig = tokio::task::spawn_blocking(move || process_add_checkpoint(&witness, &body))
        .await
        .map_err(|e| WitnessError::Internal(e.to_string()))??;
    let mut r = sig.to_line().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests;
