//! The log's side of tlog-witness: [`WitnessClient`] sends `add-checkpoint` and returns the
//! witness's verified cosignature.

use cairn_note::{
    AddCheckpointRequest, CosignatureVerifier, Note, NoteError, NoteSignature, NoteVerifier,
};
use std::time::Duration;

/// Why a witness gave no cosignature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddCheckpointError {
    /// 409: the witness's latest cosigned size is `known_size`; resend with a proof from it.
    #[error("witness conflict: its latest cosigned size is {known_size}")]
    Conflict {
        /// The size the witness holds.
        known_size: u64,
    },
    /// Any other non-200 answer.
    #[error("witness answered {status}: {body}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The start of the body, for people.
        body: String,
    },
    /// The request could not be made or the answer not read.
    #[error("witness request: {0}")]
    Http(#[from] reqwest::Error),
    /// A 200 without a valid cosignature from the configured witness key.
    #[error("witness response: {0}")]
    BadResponse(String),
}

/// Sends checkpoints to one witness and checks its cosignatures (async; one per witness).
#[derive(Clone, Debug)]
pub struct WitnessClient {
    url: String,
    http: reqwest::Client,
    verifier: CosignatureVerifier,
}

impl WitnessClient {
    /// Returns a client for the witness whose submission prefix is `prefix` (the request goes
    /// to `<prefix>/add-checkpoint`) and whose cosignature vkey (type 0x04) is `vkey`.
    ///
    /// # Errors
    /// A vkey that is not an Ed25519 cosignature vkey.
    pub fn new(prefix: &str, vkey: &str, timeout: Duration) -> Result<WitnessClient, NoteError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|_| NoteError::InvalidArgument("cannot build an HTTP client"))?;
        Ok(WitnessClient {
            url: format!("{}/add-checkpoint", prefix.trim_end_matches('/')),
            http,
            verifier: CosignatureVerifier::from_vkey(vkey)?,
        })
    }

    /// Returns the witness key's verifier.
    pub fn verifier(&self) -> &CosignatureVerifier {
        &self.verifier
    }

    /// Sends `request` and returns the witness's cosignature on its checkpoint, verified.
    ///
    /// # Errors
    /// [`AddCheckpointError::Conflict`] with the witness's size on a 409 (send again with
    /// `old_size` set to it and a proof from there), other statuses, transport failures, or
    /// a 200 without a valid cosignature from this witness's key.
    pub async fn add_checkpoint(
        &self,
        request: &AddCheckpointRequest,
    ) -> Result<NoteSignature, AddCheckpointError> {
        let resp = self
            .http
            .post(&self.url)
            .body(request.to_bytes())
            .send()
            .await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        if status == 409 {
            let known_size = std::str::from_utf8(&body)
                .ok()
                .and_then(|s| s.strip_suffix('\n'))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    AddCheckpointError::BadResponse("409 without a tree size body".into())
                })?;
            return Err(AddCheckpointError::Conflict { known_size });
        }
        if status != 200 {
            let text = String::from_utf8_lossy(&body);
            return Err(AddCheckpointError::Status {
                status,
                body: text.chars().take(200).collect(),
            });
        }
        cosignature_from_response(&request.checkpoint.note().text, &body, &self.verifier)
    }
}

/// Returns the cosignature by `verifier` among the signature lines of an `add-checkpoint`
/// response, checked against the checkpoint body `text`. Lines from other keys are ignored.
///
/// # Errors
/// [`AddCheckpointError::BadResponse`] for malformed lines, or no valid line from the key.
pub fn cosignature_from_response(
    text: &str,
    body: &[u8],
    verifier: &CosignatureVerifier,
) -> Result<NoteSignature, AddCheckpointError> {
    let sigs = NoteSignature::parse_lines(body)
        .map_err(|e| AddCheckpointError::BadResponse(e.to_string()))?;
    let note = Note {
        text: text.to_string(),
        signatures: sigs,
    };
    let verified = note
        .verify(&[verifier as &dyn NoteVerifier])
        .map_err(|e| AddCheckpointError::BadResponse(e.to_string()))?;
    let sig = verified.verified_signatures().next().cloned();
    sig.ok_or_else(|| AddCheckpointError::BadResponse("no cosignature from the witness".into()))
}
