//! Server configuration: one typed struct, read from a TOML file and command-line flags,
//! checked once before anything starts. The doc comment of each field is the reference.

use crate::witnessing::{WitnessEndpoint, WitnessMode, WitnessingConfig};
use cairn_note::{CosignatureVerifier, Origin};
use cairn_verify::WitnessPolicy;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration as written (TOML file, then flags on top). Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Directory for the database (`log.redb`), the log key (`log.key`) and
    /// `trusted_root.json`. Default `./cairn-data`.
    pub data: Option<PathBuf>,
    /// Address to listen on. Default `127.0.0.1:3000`.
    pub listen: Option<String>,
    /// Checkpoint origin, also the log key's name; it must be `public_url` without its
    /// scheme. Fixed at the first start. Default: `public_url` without its scheme.
    pub origin: Option<String>,
    /// The URL clients reach the log at, written to `trusted_root.json` as `baseUrl`.
    /// Default `http://<origin>` if an origin is given, else `http://<listen address>`.
    pub public_url: Option<String>,
    /// Most entries one sequencing round takes. Default 1024.
    pub max_batch: Option<usize>,
    /// Longest a sequencing round waits for more entries before it commits, in
    /// milliseconds. Default 0: commit whatever is waiting at once (group commit without a
    /// timer), which gives the lowest latency at every load.
    pub batch_delay_ms: Option<u64>,
    /// Submissions that may wait for the sequencer; beyond it, 503 with Retry-After.
    /// Default 8192.
    pub queue_capacity: Option<usize>,
    /// Largest request body accepted, in bytes. Default 65536.
    pub max_body_bytes: Option<usize>,
    /// Time limit for one request, in seconds. Default 30.
    pub request_timeout_secs: Option<u64>,
    /// Witnesses to send each new checkpoint to, as `URL=VKEY` (the witness's submission
    /// prefix, then its cosignature vkey `<name>+<id>+<key>`; the URL must not contain `=`).
    /// Without `witness_policy` all of them must cosign; with it, each must be a witness of
    /// the policy (matched by name and key), and gives or overrides its URL.
    pub witness: Option<Vec<String>>,
    /// A witness policy file (Sigsum format: `log`, `witness`, `group`, `quorum`): the
    /// quorum each checkpoint needs, and the witnesses, whose URLs the log contacts.
    pub witness_policy: Option<PathBuf>,
    /// `closed` (default): a checkpoint that misses the quorum is not published and its
    /// batch's submitters get 503; `open`: it is published anyway and counted in the metrics.
    pub witness_mode: Option<String>,
    /// Longest one witnessing round waits, in milliseconds. Default 3000.
    pub witness_timeout_ms: Option<u64>,
    /// Time limit for a client to send a request's headers, in seconds (slow-loris). Default 10.
    pub header_read_timeout_secs: Option<u64>,
    /// Open connections served at once; further ones wait in the listen backlog. Default 1024.
    pub max_connections: Option<usize>,
    /// Requests handled at once; beyond it, 503 with Retry-After. Default 4096.
    pub max_in_flight: Option<usize>,
    /// Submissions per second allowed to one client IP address; beyond it, 429 with
    /// Retry-After. Default 0: no limit (behind a proxy every client has the proxy's address).
    pub rate_limit_per_second: Option<u32>,
    /// Submissions one client IP address may send in a burst above its rate. Default: twice
    /// the rate.
    pub rate_limit_burst: Option<u32>,
    /// Scale-out storage (docs/operations.md): a `postgres://` URL of the database that is
    /// the log's commit point. Default: the embedded redb file in `data`. Needs `objects`.
    pub store: Option<String>,
    /// With `store`: where tiles, entry bundles and the public checkpoint go, as an
    /// object_store URL (`s3://bucket/prefix`, `gs://...`, `az://...`, `file:///dir`);
    /// credentials come from the standard environment variables.
    pub objects: Option<String>,
    /// The embedded store's page cache limit, in MiB. Default 16. The write path needs little
    /// of it (the OS page cache holds the rest of the file); a larger cache speeds up reads of
    /// old entries and proofs at the cost of resident memory.
    pub cache_mib: Option<usize>,
}

impl RawConfig {
    /// Reads a TOML configuration file.
    ///
    /// # Errors
    /// The file cannot be read, or is not valid TOML for this struct (the message names the
    /// offending field).
    pub fn from_file(path: &Path) -> Result<RawConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Returns `self` with every field that `over` sets replaced.
    pub fn merge(self, over: RawConfig) -> RawConfig {
        RawConfig {
            data: over.data.or(self.data),
            listen: over.listen.or(self.listen),
            origin: over.origin.or(self.origin),
            public_url: over.public_url.or(self.public_url),
            max_batch: over.max_batch.or(self.max_batch),
            batch_delay_ms: over.batch_delay_ms.or(self.batch_delay_ms),
            queue_capacity: over.queue_capacity.or(self.queue_capacity),
            max_body_bytes: over.max_body_bytes.or(self.max_body_bytes),
            request_timeout_secs: over.request_timeout_secs.or(self.request_timeout_secs),
            witness: match (self.witness, over.witness) {
                (Some(mut a), Some(b)) => {
                    a.extend(b);
                    Some(a)
                }
                (a, b) => b.or(a),
            },
            witness_policy: over.witness_policy.or(self.witness_policy),
            witness_mode: over.witness_mode.or(self.witness_mode),
            witness_timeout_ms: over.witness_timeout_ms.or(self.witness_timeout_ms),
            header_read_timeout_secs: over
                .header_read_timeout_secs
                .or(self.header_read_timeout_secs),
            max_connections: over.max_connections.or(self.max_connections),
            max_in_flight: over.max_in_flight.or(self.max_in_flight),
            rate_limit_per_second: over.rate_limit_per_second.or(self.rate_limit_per_second),
            rate_limit_burst: over.rate_limit_burst.or(self.rate_limit_burst),
            store: over.store.or(self.store),
            objects: over.objects.or(self.objects),
            cache_mib: over.cache_mib.or(self.cache_mib),
        }
    }

    /// Returns the listen address (default `127.0.0.1:3000`).
    ///
    /// # Errors
    /// Not a `host:port` socket address.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        let s = self.listen.as_deref().unwrap_or("127.0.0.1:3000");
        s.parse()
            .map_err(|e| format!("listen: {s:?} is not an address like 127.0.0.1:3000 ({e})"))
    }

    /// Checks every field and fills the defaults. `bound` is the address actually bound (it
    /// differs from `listen` when the port was 0).
    ///
    /// # Errors
    /// A message naming the offending field.
    pub fn resolve(&self, bound: SocketAddr) -> Result<Config, String> {
        // The origin SHOULD be the log's URL without its scheme (C2SP tlog-tiles), and
        // Sigstore clients find the checkpoint key by matching its name against `baseUrl`:
        // so each defaults to the other, and when both are given they must agree.
        let (public_url, origin_text) = match (&self.public_url, &self.origin) {
            (Some(url), Some(origin)) => (url.clone(), origin.clone()),
            (Some(url), None) => (url.clone(), scheme_less(url)?.to_string()),
            (None, Some(origin)) => (format!("http://{origin}"), origin.clone()),
            (None, None) => (format!("http://{bound}"), bound.to_string()),
        };
        let public_url = public_url.trim_end_matches('/').to_string();
        if scheme_less(&public_url)? != origin_text {
            return Err(format!(
                "origin: {origin_text:?} must be public_url without its scheme ({:?})",
                scheme_less(&public_url)?
            ));
        }
        let origin: Origin = origin_text
            .parse()
            .map_err(|e| format!("origin: {origin_text:?}: {e}"))?;
        let positive = |v: Option<usize>, d: usize, name: &str| match v.unwrap_or(d) {
            0 => Err(format!("{name}: must be at least 1")),
            v => Ok(v),
        };
        Ok(Config {
            data: self
                .data
                .clone()
                .unwrap_or_else(|| PathBuf::from("cairn-data")),
            origin,
            public_url,
            max_batch: positive(self.max_batch, 1024, "max_batch")?,
            batch_delay: match self.batch_delay_ms.unwrap_or(0) {
                d if d > 10_000 => return Err("batch_delay_ms: at most 10000".into()),
                d => Duration::from_millis(d),
            },
            queue_capacity: positive(self.queue_capacity, 8192, "queue_capacity")?,
            max_body_bytes: positive(self.max_body_bytes, 65536, "max_body_bytes")?,
            request_timeout: seconds(self.request_timeout_secs, 30, "request_timeout_secs")?,
            witnessing: self.witnessing()?,
            limits: Limits {
                header_read_timeout: seconds(
                    self.header_read_timeout_secs,
                    10,
                    "header_read_timeout_secs",
                )?,
                max_connections: positive(self.max_connections, 1024, "max_connections")?,
                max_in_flight: positive(self.max_in_flight, 4096, "max_in_flight")?,
                rate_limit: match (
                    self.rate_limit_per_second.unwrap_or(0),
                    self.rate_limit_burst,
                ) {
                    (0, Some(_)) => {
                        return Err("rate_limit_burst: set rate_limit_per_second too".into())
                    }
                    (0, None) => None,
                    (_, Some(0)) => return Err("rate_limit_burst: must be at least 1".into()),
                    (rate, burst) => Some((rate, burst.unwrap_or(rate.saturating_mul(2)))),
                },
            },
            store: self.store_config()?,
            cache_bytes: match self.cache_mib {
                None => cairn_log::DEFAULT_CACHE_BYTES,
                Some(m) if m > 1 << 20 => return Err("cache_mib: at most 1048576".into()),
                Some(m) => m << 20,
            },
        })
    }

    /// Resolves the witness settings: `None` when no witness is configured.
    fn witnessing(&self) -> Result<Option<WitnessingConfig>, String> {
        let flags = self.witness.as_deref().unwrap_or_default();
        let mut given = Vec::with_capacity(flags.len());
        for w in flags {
            let (url, vkey) = w
                .split_once('=')
                .ok_or_else(|| format!("witness: {w:?} is not URL=VKEY"))?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "witness: {url:?} must start with http:// or https://"
                ));
            }
            let verifier = CosignatureVerifier::from_vkey(vkey)
                .map_err(|e| format!("witness: {vkey:?} is not a witness vkey: {e}"))?;
            given.push((url.trim_end_matches('/').to_string(), verifier));
        }
        let policy = match &self.witness_policy {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("witness_policy: reading {}: {e}", path.display()))?;
                WitnessPolicy::parse(&text)
                    .map_err(|e| format!("witness_policy: {}: {e}", path.display()))?
            }
            None if given.is_empty() => {
                if self.witness_mode.is_some() || self.witness_timeout_ms.is_some() {
                    return Err("witness_mode and witness_timeout_ms need a witness".into());
                }
                return Ok(None);
            }
            None => {
                let n = given.len();
                WitnessPolicy::new(given.iter().map(|(_, v)| v.clone()).collect(), n)
                    .map_err(|e| format!("witness: {e}"))?
            }
        };
        let mut urls: Vec<Option<String>> =
            policy.witnesses().iter().map(|w| w.url.clone()).collect();
        for (url, v) in given {
            let i = policy
                .witnesses()
                .iter()
                .position(|w| w.verifier == v)
                .ok_or_else(|| format!("witness: {} is not a witness of the policy", v.vkey()))?;
            urls[i] = Some(url);
        }
        let reachable: Vec<bool> = urls.iter().map(Option::is_some).collect();
        if !policy.is_met(&reachable) {
            return Err(format!(
                "witness_policy: the witnesses with a URL cannot meet the {policy}; give the \
                 others a URL in the policy or with --witness URL=VKEY"
            ));
        }
        let endpoints = urls
            .into_iter()
            .enumerate()
            .filter_map(|(policy_index, url)| url.map(|url| WitnessEndpoint { policy_index, url }))
            .collect();
        let mode = match self.witness_mode.as_deref().unwrap_or("closed") {
            "closed" => WitnessMode::Closed,
            "open" => WitnessMode::Open,
            m => return Err(format!("witness_mode: {m:?} is not closed or open")),
        };
        let timeout = match self.witness_timeout_ms.unwrap_or(3000) {
            0 => return Err("witness_timeout_ms: must be at least 1".into()),
            t if t > 600_000 => return Err("witness_timeout_ms: at most 600000".into()),
            t => Duration::from_millis(t),
        };
        Ok(Some(WitnessingConfig {
            policy,
            endpoints,
            mode,
            timeout,
        }))
    }
}

/// Returns `v` (default `d`) seconds, refusing zero.
fn seconds(v: Option<u64>, d: u64, name: &str) -> Result<Duration, String> {
    match v.unwrap_or(d) {
        0 => Err(format!("{name}: must be at least 1")),
        v => Ok(Duration::from_secs(v)),
    }
}

impl RawConfig {
    fn store_config(&self) -> Result<StoreConfig, String> {
        match (&self.store, &self.objects) {
            (None, None) => Ok(StoreConfig::Embedded),
            (Some(url), Some(objects)) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(format!("store: {url:?} must be a postgres:// URL"));
                }
                Ok(StoreConfig::Postgres {
                    url: url.clone(),
                    objects: objects.clone(),
                })
            }
            (Some(_), None) => Err("store: a postgres store needs objects (a bucket URL)".into()),
            (None, Some(_)) => Err("objects: only used with store = \"postgres://...\"".into()),
        }
    }
}

/// Where the log's state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// The embedded redb database `log.redb` in the data directory.
    Embedded,
    /// PostgreSQL as the commit point and a bucket for the public objects.
    Postgres {
        /// The database URL.
        url: String,
        /// The object_store URL of the bucket and prefix.
        objects: String,
    },
}

/// Returns `url` without `http://` or `https://`.
fn scheme_less(url: &str) -> Result<&str, String> {
    url.strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("public_url: {url:?} must start with http:// or https://"))
}

/// The checked configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory.
    pub data: PathBuf,
    /// Checkpoint origin and log key name.
    pub origin: Origin,
    /// The URL clients reach the log at, without a trailing slash.
    pub public_url: String,
    /// Most entries per sequencing round.
    pub max_batch: usize,
    /// Longest a round waits for more entries.
    pub batch_delay: Duration,
    /// Submissions that may wait for the sequencer.
    pub queue_capacity: usize,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Time limit for one request.
    pub request_timeout: Duration,
    /// Witnesses, their quorum and the fail mode; `None` without witnesses.
    pub witnessing: Option<WitnessingConfig>,
    /// Connection, concurrency and rate limits.
    pub limits: Limits,
    /// Where the log's state lives.
    pub store: StoreConfig,
    /// The embedded store's page cache limit, bytes.
    pub cache_bytes: usize,
}

/// Resource limits against clients that take more than their share.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time limit for a request's headers.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Requests handled at once.
    pub max_in_flight: usize,
    /// Submissions per second and burst per client IP address, if limited.
    pub rate_limit: Option<(u32, u32)>,
}
