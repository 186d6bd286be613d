//! A small blocking client for the C2SP tlog-tiles read API: the checkpoint, hash tiles and
//! entry bundles, fetched in parallel over keep-alive connections. It checks only shapes
//! (lengths, bundle framing); what the bytes mean is verified by the audit.

use cairn_merkle::tiles::{EntryBundle, Tile, TileReader};
use cairn_merkle::{consistency_proof, Hash, MerkleError, HASH_SIZE};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A failure to fetch (not evidence: the network, or a log that is down).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request failed or timed out.
    #[error("GET {url}: {source}")]
    Http {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("GET {url}: status {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A body of the wrong size or framing for what was asked.
    #[error("GET {url}: {reason}")]
    Shape {
        /// The URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
}

impl FetchError {
    /// Returns whether the server said the resource does not exist (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::Status { status: 404, .. })
    }
}

/// The largest body fetched: a full entry bundle of 256 entries of at most 64 KiB.
const MAX_BODY: u64 = 256 * (65_535 + 2);

/// Fetches from a log's tlog-tiles prefix (for Cairn, `<log URL>/api/v2`).
#[derive(Clone, Debug)]
pub struct TileClient {
    prefix: String,
    http: reqwest::blocking::Client,
    parallelism: usize,
}

impl TileClient {
    /// Returns a client for the tiles under `prefix`, fetching up to `parallelism` resources
    /// at once.
    ///
    /// # Errors
    /// The HTTP client cannot be built (TLS backend).
    pub fn new(prefix: &str, parallelism: usize) -> Result<TileClient, reqwest::Error> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(parallelism.max(1))
            .build()?;
        Ok(TileClient {
            prefix: prefix.trim_end_matches('/').to_string(),
            http,
            parallelism: parallelism.max(1),
        })
    }

    /// Returns the URL of `path` under the prefix.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.prefix)
    }

    fn get(&self, path: &str) -> Result<Vec<u8>, FetchError> {
        let url = self.url(path);
        let mut last = None;
        // Transient failures (a reset connection, a 5xx) are retried twice; a 4xx is an answer.
        for attempt in 0..3 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(100 << attempt));
            }
            match self.http.get(&url).send() {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if status == 200 {
                        if resp.content_length().is_some_and(|n| n > MAX_BODY) {
                            return Err(FetchError::Shape {
                                url,
                                reason: "body too large".into(),
                            });
                        }
                        match resp.bytes() {
                            Ok(b) => return Ok(b.to_vec()),
                            Err(source) => {
                                last = Some(FetchError::Http {
                                    url: url.clone(),
                                    source,
                                })
                            }
                        }
                    } else if status >= 500 {
                        last = Some(FetchError::Status {
                            url: url.clone(),
                            status,
                        });
                    } else {
                        return Err(FetchError::Status { url, status });
                    }
                }
                Err(source) => {
                    last = Some(FetchError::Http {
                        url: url.clone(),
                        source,
                    })
                }
            }
        }
        Err(last.unwrap_or(FetchError::Shape {
            url,
            reason: "no attempt made".into(),
        }))
    }

    /// Returns the log's current signed checkpoint (unverified).
    ///
    /// # Errors
    /// [`FetchError`].
    pub fn checkpoint(&self) -> Result<Vec<u8>, FetchError> {
        self.get("checkpoint")
    }

    /// Returns the bytes of hash tile `tile`, checked to be `width * 32` long.
    ///
    /// # Errors
    /// [`FetchError`].
    pub fn tile(&self, tile: Tile) -> Result<Vec<u8>, FetchError> {
        let data = self.get(&tile.path())?;
        if data.len() != usize::from(tile.width()) * HASH_SIZE {
            return Err(FetchError::Shape {
                url: self.url(&tile.path()),
                reason: format!(
                    "{} bytes, want {}",
                    data.len(),
                    usize::from(tile.width()) * 32
                ),
            });
        }
        Ok(data)
    }

    /// Returns the raw bytes of entry bundle `tile`.
    ///
    /// # Errors
    /// [`FetchError`].
    pub fn bundle_bytes(&self, tile: Tile) -> Result<Vec<u8>, FetchError> {
        self.get(&tile.entries_path())
    }

    /// Returns the entries of bundle `tile`, checked to be exactly `width` entries.
    ///
    /// # Errors
    /// [`FetchError`]; a malformed bundle is [`FetchError::Shape`].
    pub fn bundle(&self, tile: Tile) -> Result<EntryBundle, FetchError> {
        let data = self.bundle_bytes(tile)?;
        EntryBundle::parse(&data, Some(tile.width())).map_err(|e| FetchError::Shape {
            url: self.url(&tile.entries_path()),
            reason: e.to_string(),
        })
    }

    /// Runs `f` on every item with up to `parallelism` threads; results in input order.
    pub fn fetch_all<T: Sync, R: Send>(&self, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
        let next = AtomicUsize::new(0);
        let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
        let workers = self.parallelism.min(items.len()).max(1);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if let Ok(mut o) = out.lock() {
                        o[i] = Some(r);
                    }
                });
            }
        });
        out.into_inner()
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect()
    }

    /// Returns the consistency proof from `old` to `new` leaves, built from the tiles of the
    /// tree of size `new` (which the caller then verifies against signed roots).
    ///
    /// # Errors
    /// The fetch failure of a tile the proof needs, or bad sizes.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofFetchError> {
        let reader = cairn_merkle::tiles::TileHashReader::new(new, self);
        consistency_proof(old, new, &reader).map_err(|e| match e {
            MerkleError::Storage(inner) => match inner.downcast::<FetchError>() {
                Ok(f) => ProofFetchError::Fetch(*f),
                Err(other) => ProofFetchError::Tree(MerkleError::Storage(other)),
            },
            other => ProofFetchError::Tree(other),
        })
    }

    /// Returns the root of the tree of `size` computed from its served tiles (untrusted).
    ///
    /// # Errors
    /// As [`TileClient::consistency_proof`].
    pub fn tree_hash(&self, size: u64) -> Result<Hash, ProofFetchError> {
        let reader = cairn_merkle::tiles::TileHashReader::new(size, self);
        cairn_merkle::tree_hash(size, &reader).map_err(ProofFetchError::Tree)
    }
}

/// A failure to build a proof from served tiles.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofFetchError {
    /// A tile could not be fetched.
    #[error(transparent)]
    Fetch(FetchError),
    /// The tiles did not give a proof (malformed, or bad sizes).
    #[error("building the proof from tiles: {0}")]
    Tree(MerkleError),
}

impl TileReader for &TileClient {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        self.fetch_all(tiles, |t| self.tile(*t))
            .into_iter()
            .map(|r| r.map_err(|e| MerkleError::Storage(Box::new(e))))
            .collect()
    }
}
