//! A blocking HTTP client for a Cairn log (or any Rekor v2 / C2SP tlog-tiles log): submit a
//! hashedrekord entry, fetch the checkpoint, tiles and trusted root, and build consistency
//! proofs from tiles for the verifier's rollback protection
//! ([`cairn_verify::ConsistencyProofSource`]).
//!
//! Network failures are retried with exponential backoff: connection errors, timeouts, 5xx
//! answers, honouring `Retry-After` on 503. A 4xx answer is never retried: the request itself
//! is wrong and sending it again cannot help. Submissions are safe to retry because the log
//! deduplicates entries (a repeat is answered 200 with the existing entry).
//!
//! It does not verify what the log returns: pass the entry to `cairn-verify`.
//!
//! [`witness`] is the log's side of C2SP tlog-witness (async: a log asks its witnesses in
//! parallel).

#![forbid(unsafe_code)]

pub mod witness;

use std::time::Duration;

use cairn_entry::TransparencyLogEntry;
use cairn_merkle::tiles::{Tile, TileHashReader, TileReader};
use cairn_merkle::{consistency_proof, Hash, MerkleError};
use reqwest::blocking::{Client as Http, Response};
use reqwest::StatusCode;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The delay before the second attempt; doubled after each retry.
    pub initial_delay: Duration,
    /// The longest delay between attempts (also caps `Retry-After`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, 250 ms doubling up to 8 s (about 16 s of waiting in all).
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The log answered with a status that retrying cannot fix (4xx), or with a 5xx/503 on
    /// the last attempt. `body` is the log's message, truncated.
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status.
        status: u16,
        /// The start of the answer's body.
        body: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The log could not be reached (connection refused, DNS, TLS, timeout) on any attempt.
    #[error("{url}: could not reach the log after {attempts} attempt(s): {source}")]
    Network {
        /// The URL requested.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        #[source]
        source: reqwest::Error,
    },
    /// The answer is not what the API promises.
    #[error("{url}: invalid answer: {reason}")]
    InvalidResponse {
        /// The URL requested.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The base URL or client setup is unusable.
    #[error("client setup: {0}")]
    Setup(String),
}

/// The log's answer to a submission.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The entry, with inclusion proof, checkpoint and SET (not yet verified).
    pub entry: TransparencyLogEntry,
    /// The raw JSON of the entry.
    pub json: Vec<u8>,
    /// True for 201 (a new entry), false for 200 (already logged).
    pub created: bool,
    /// Attempts it took.
    pub attempts: u32,
}

/// A retry about to happen: for progress output.
#[derive(Debug, Clone)]
pub struct RetryEvent<'a> {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// How long until the next one.
    pub delay: Duration,
    /// Why it failed.
    pub reason: &'a str,
}

type Notify = Box<dyn Fn(&RetryEvent<'_>) + Send + Sync>;

/// A client for one log.
pub struct Client {
    base: String,
    http: Http,
    retry: RetryPolicy,
    notify: Option<Notify>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// The largest answer read (tiles are 8 KiB, entries a few KiB).
const MAX_BODY: u64 = 1 << 20;

impl Client {
    /// Returns a client for the log at `base_url` (such as `http://127.0.0.1:3000`), with the
    /// default retry policy, a 10 s connect and 60 s request timeout.
    ///
    /// # Errors
    /// [`ClientError::Setup`] for a URL that is not http(s) or a TLS setup failure.
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Setup(format!(
                "log URL {base_url:?} must start with http:// or https://"
            )));
        }
        let http = Http::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("cairn-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Client {
            base,
            http,
            retry: RetryPolicy::default(),
            notify: None,
        })
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// Calls `f` before each retry (to tell a user what is happening).
    pub fn on_retry(mut self, f: impl Fn(&RetryEvent<'_>) + Send + Sync + 'static) -> Client {
        self.notify = Some(Box::new(f));
        self
    }

    /// Returns the base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Submits a Rekor v2 `CreateEntryRequest` (JSON) and returns the log's entry.
    ///
    /// # Errors
    /// [`ClientError::Status`] for a refusal (400: the message says why), [`ClientError::Network`]
    /// when the log cannot be reached, [`ClientError::InvalidResponse`] for an answer that is
    /// not a TransparencyLogEntry.
    pub fn submit(&self, request_json: &[u8]) -> Result<Submitted, ClientError> {
        let url = format!("{}/api/v2/log/entries", self.base);
        let body = request_json.to_vec();
        let (resp, attempts) = self.send(&url, || {
            self.http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })?;
        let created = resp.status() == StatusCode::CREATED;
        let json = read_body(resp, &url)?;
        let entry: TransparencyLogEntry =
            serde_json::from_slice(&json).map_err(|e| ClientError::InvalidResponse {
                url: url.clone(),
                reason: format!("not a TransparencyLogEntry: {e}"),
            })?;
        Ok(Submitted {
            entry,
            json,
            created,
            attempts,
        })
    }

    /// Returns the log's current signed checkpoint (unverified).
    ///
    /// # Errors
    /// As [`Client::submit`].
    pub fn checkpoint(&self) -> Result<Vec<u8>, ClientError> {
        self.get("api/v2/checkpoint")
    }

    /// Returns the log's `trusted_root.json` as served (fetch it once, over a trusted channel,
    /// and pin it: a verifier must not take trust from the log it checks).
    ///
    /// # Errors
    /// As [`Client::submit`].
    pub fn trusted_root(&self) -> Result<Vec<u8>, ClientError> {
        self.get("api/v2/trustedRoot")
    }

    /// Returns a hash tile's bytes.
    ///
    /// # Errors
    /// As [`Client::submit`].
    pub fn tile(&self, tile: Tile) -> Result<Vec<u8>, ClientError> {
        self.get(&format!("api/v2/{}", tile.path()))
    }

    /// Returns the consistency proof from size `old` to `new`, built from the log's tiles.
    /// The proof is not trusted: verify it against two signed checkpoints.
    ///
    /// # Errors
    /// Fetch failures and malformed tiles, as [`MerkleError`].
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, MerkleError> {
        let reader = TileHashReader::new(new, Tiles(self));
        consistency_proof(old, new, &reader)
    }

    fn get(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}/{path}", self.base);
        let (resp, _) = self.send(&url, || self.http.get(&url))?;
        read_body(resp, &url)
    }

    /// Sends with retries; returns a 2xx answer and the attempts it took.
    fn send(
        &self,
        url: &str,
        build: impl Fn() -> reqwest::blocking::RequestBuilder,
    ) -> Result<(Response, u32), ClientError> {
        let max = self.retry.max_attempts.max(1);
        let mut delay = self.retry.initial_delay;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= max;
            let (reason, wait) = match build().send() {
                Ok(resp) if resp.status().is_success() => return Ok((resp, attempt)),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = retry_after(&resp);
                    let body = truncate(&String::from_utf8_lossy(
                        &read_body(resp, url).unwrap_or_default(),
                    ));
                    if status.is_client_error() || last {
                        return Err(ClientError::Status {
                            url: url.to_string(),
                            status: status.as_u16(),
                            body,
                            attempts: attempt,
                        });
                    }
                    let wait =
                        retry_after.map_or(delay, |d| d.min(self.retry.max_delay.max(delay)));
                    (format!("HTTP {status}: {body}"), wait)
                }
                Err(e) => {
                    if last || !(e.is_connect() || e.is_timeout() || e.is_request()) {
                        return Err(ClientError::Network {
                            url: url.to_string(),
                            attempts: attempt,
                            source: e,
                        });
                    }
                    (format!("{e}"), delay)
                }
            };
            if let Some(n) = &self.notify {
                n(&RetryEvent {
                    attempt,
                    delay: wait,
                    reason: &reason,
                });
            }
            std::thread::sleep(wait);
            delay = (delay * 2).min(self.retry.max_delay);
        }
    }
}

fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn truncate(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn read_body(resp: Response, url: &str) -> Result<Vec<u8>, ClientError> {
    use std::io::Read as _;
    let mut out = Vec::new();
    resp.take(MAX_BODY + 1)
        .read_to_end(&mut out)
        .map_err(|e| ClientError::InvalidResponse {
            url: url.to_string(),
            reason: format!("reading the answer: {e}"),
        })?;
    if out.len() as u64 > MAX_BODY {
        return Err(ClientError::InvalidResponse {
            url: url.to_string(),
            reason: format!("answer larger than {MAX_BODY} bytes"),
        });
    }
    Ok(out)
}

/// The log's hash tiles over HTTP, for [`TileHashReader`].
struct Tiles<'a>(&'a Client);

impl TileReader for Tiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .tile(*t)
                    .map_err(|e| MerkleError::Storage(Box::new(e)))
            })
            .collect()
    }
}

impl cairn_verify::ConsistencyProofSource for Client {
    fn consistency_proof(
        &self,
        _origin: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<Option<Vec<Hash>>, String> {
        Client::consistency_proof(self, old_size, new_size)
            .map(Some)
            .map_err(|e| format!("{}: {e}", self.base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;

    /// A one-thread HTTP server that answers each connection with the next canned response.
    fn serve(responses: Vec<&'static str>) -> (String, std::thread::JoinHandle<usize>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let mut n = 0;
            for r in responses {
                let (mut s, _) = l.accept().unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                s.write_all(r.as_bytes()).unwrap();
                n += 1;
            }
            n
        });
        (url, h)
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
        }
    }

    #[test]
    fn retries_5xx_and_503_then_succeeds() {
        let (url, h) = serve(vec![
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops",
            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        ]);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let c = Client::new(&url)
            .unwrap()
            .with_retry(fast())
            .on_retry(move |e| s2.lock().unwrap().push(e.reason.to_string()));
        assert_eq!(c.checkpoint().unwrap(), b"ok");
        assert_eq!(h.join().unwrap(), 3);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen[1].contains("503"), "{seen:?}");
    }

    #[test]
    fn never_retries_4xx() {
        let (url, h) = serve(vec![
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbad digest!",
        ]);
        let c = Client::new(&url).unwrap().with_retry(fast());
        let e = c.submit(b"{}").unwrap_err();
        assert!(
            matches!(&e, ClientError::Status { status: 400, attempts: 1, body, .. } if body == "bad digest!"),
            "{e}"
        );
        assert_eq!(h.join().unwrap(), 1);
    }

    #[test]
    fn connection_refused_is_retried_then_reported() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        let c = Client::new(&url).unwrap().with_retry(fast());
        let e = c.checkpoint().unwrap_err();
        assert!(matches!(e, ClientError::Network { attempts: 4, .. }), "{e}");
        assert!(
            e.to_string().contains("could not reach the log after 4"),
            "{e}"
        );
    }

    #[test]
    fn rejects_non_http_urls() {
        assert!(matches!(Client::new("ftp://x"), Err(ClientError::Setup(_))));
    }
}
