//! Server configuration: one typed struct, read from a TOML file and command-line flags,
//! checked once before anything starts. The doc comment of each field is the reference.

use cairn_note::Origin;
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
    /// Scale-out storage (docs/operations.md): a `postgres://` URL of the database that is
    /// the log's commit point. Default: the embedded redb file in `data`. Needs `objects`.
    pub store: Option<String>,
    /// With `store`: where tiles, entry bundles and the public checkpoint go, as an
    /// object_store URL (`s3://bucket/prefix`, `gs://...`, `az://...`, `file:///dir`);
    /// credentials come from the standard environment variables.
    pub objects: Option<String>,
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
            store: over.store.or(self.store),
            objects: over.objects.or(self.objects),
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
            request_timeout: Duration::from_secs(match self.request_timeout_secs.unwrap_or(30) {
                0 => return Err("request_timeout_secs: must be at least 1".into()),
                v => v,
            }),
            store: self.store_config()?,
        })
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
    /// Where the log's state lives.
    pub store: StoreConfig,
}
