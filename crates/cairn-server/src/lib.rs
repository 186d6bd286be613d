//! The Cairn log server as a library: [`app`] builds the axum router over an [`AppState`];
//! [`prepare`] opens the data directory (store, key, trusted root) and starts the sequencing
//! thread; [`serve`] runs the router until shutdown. The `cairn serve` binary is glue around
//! these, and the end-to-end tests call them on `127.0.0.1:0`.
//!
//! The server verifies each submitted signature before the sequencer sees the entry, answers
//! only after the entry's batch is durable, and serves the C2SP tlog-tiles read API.

#![forbid(unsafe_code)]

pub mod config;
mod error;
mod files;
mod keys;
mod limits;
mod metrics;
mod read;
pub mod replica;
mod sequencing;
mod state;
mod submit;
pub mod witnessing;

pub use config::{Config, RawConfig, StoreConfig};
pub use error::ApiError;
pub use metrics::Metrics;
pub use state::AppState;
use state::Parts;
pub use witnessing::{WitnessEndpoint, WitnessMode, WitnessingConfig};

use anyhow::Context as _;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use cairn_log::{Clock, LogMeta, LogStore, RedbStore, Sequencer};
use cairn_note::{ed25519_log_id, Ed25519Signer, KeyName};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Returns the router: every route, the body limit, the request timeout, the in-flight cap
/// and the rate limit.
pub fn app(state: AppState, config: &Config) -> Router {
    Router::new()
        .route("/api/v2/log/entries", post(submit::create_entry))
        .route("/api/v2/checkpoint", get(read::checkpoint))
        .route("/api/v2/tile/{*path}", get(read::tile))
        .route("/api/v2/trustedRoot", get(read::trusted_root))
        .route("/healthz", get(read::healthz))
        .route("/metrics", get(read::metrics))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        // Refuses a declared Content-Length over the limit at once, before waiting for a body
        // (DefaultBodyLimit only counts bytes as they arrive).
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(limits::RequestLimits::new(&config.limits)),
            limits::enforce,
        ))
        .with_state(state)
}

/// The wall clock, for integrated times.
struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// What a started server tells its operator.
#[derive(Debug, Clone)]
pub struct StartInfo {
    /// The URL clients use.
    pub url: String,
    /// The checkpoint origin.
    pub origin: String,
    /// The note verifier key of the log (for witnesses, monitors and `cairn verify`).
    pub vkey: String,
    /// Where the TrustedRoot was written.
    pub trusted_root_path: PathBuf,
    /// The tree size at start.
    pub tree_size: u64,
}

/// A server whose store is open and whose sequencer runs, ready to [`serve`].
pub struct Prepared {
    state: AppState,
    config: Config,
    sequencer: std::thread::JoinHandle<()>,
    stopped: watch::Receiver<bool>,
    /// What to tell the operator.
    pub info: StartInfo,
}

impl Prepared {
    /// Returns a router over the same state as [`serve`] uses, for in-process requests (it
    /// answers after the socket is closed, e.g. to read `/healthz` after a fatal stop). It
    /// holds the store open while it lives.
    pub fn router(&self) -> Router {
        app(self.state.clone(), &self.config)
    }
}

/// Opens the configured store: the embedded redb file, or PostgreSQL and a bucket.
fn open_store(config: &Config) -> anyhow::Result<Arc<dyn LogStore>> {
    Ok(match &config.store {
        StoreConfig::Embedded => {
            let path = config.data.join("log.redb");
            Arc::new(
                RedbStore::open_with_cache(&path, config.cache_bytes)
                    .with_context(|| format!("opening {}", path.display()))?,
            )
        }
        StoreConfig::Postgres { url, objects } => Arc::new(
            cairn_store_pg::PgStore::open(url, objects)
                .with_context(|| format!("opening the PostgreSQL store with objects {objects}"))?,
        ),
    })
}

/// Opens (or creates) the log in the configured data directory and starts the sequencer.
/// `bound` is the listening address (for the default origin and URL).
///
/// # Errors
/// A configuration error naming its field, an unusable data directory or key, or a store
/// that holds another log.
pub fn prepare(raw: &RawConfig, bound: SocketAddr) -> anyhow::Result<Prepared> {
    prepare_with_store(raw, bound, open_store)
}

/// [`prepare`] with the store that `open_store` returns for the resolved configuration, in
/// place of `DATA/log.redb`: the seam for another driver or a fault-injecting wrapper.
///
/// # Errors
/// As [`prepare`], and whatever `open_store` returns.
pub fn prepare_with_store(
    raw: &RawConfig,
    bound: SocketAddr,
    open_store: impl FnOnce(&Config) -> anyhow::Result<Arc<dyn LogStore>>,
) -> anyhow::Result<Prepared> {
    let config = raw.resolve(bound).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&config.data)
        .with_context(|| format!("creating the data directory {}", config.data.display()))?;
    let store = open_store(&config)?;
    let existing = store.meta()?;
    let key = keys::load_or_create(&config.data.join("log.key"), existing.is_none())
        .map_err(anyhow::Error::msg)?;
    let name: KeyName = config.origin.as_str().parse().map_err(|e| {
        anyhow::anyhow!(
            "origin {:?} is not a valid key name: {e}",
            config.origin.as_str()
        )
    })?;
    let signer = Ed25519Signer::new(name.clone(), key.clone());
    let vkey = signer.vkey();
    let created = existing
        .as_ref()
        .map(|m| m.created)
        .unwrap_or_else(|| SystemClock.unix_seconds());
    let meta = LogMeta {
        origin: config.origin.as_str().to_string(),
        vkey: vkey.clone(),
        created,
    };
    if let Some(found) = &existing {
        if found.origin != meta.origin {
            anyhow::bail!(
                "the data directory {} holds the log {:?}, not {:?}: start with --origin {:?} \
                 or use another --data directory",
                config.data.display(),
                found.origin,
                meta.origin,
                found.origin
            );
        }
        if found.vkey != meta.vkey {
            anyhow::bail!(
                "the log key {} is not the key of the log in {} (expected {}, found {})",
                config.data.join("log.key").display(),
                config.data.display(),
                found.vkey,
                meta.vkey
            );
        }
    }
    let seq = Sequencer::open(
        store.clone(),
        &meta,
        config.origin.clone(),
        Box::new(signer),
        Box::new(SystemClock),
    )?;
    let log_id = ed25519_log_id(&name, &key.verifying_key());
    let valid_from = i64::try_from(created).context("log creation time out of range")?;
    let trusted_root =
        cairn_entry::trusted_root_for_log(&config.public_url, &key.verifying_key(), valid_from)
            .context("building the trusted root")?;
    anyhow::ensure!(
        trusted_root
            .tlogs
            .first()
            .and_then(|t| t.log_id.as_ref())
            .is_some_and(|id| id.key_id == log_id),
        "the trusted root's log ID does not match the log key"
    );
    let mut trusted_root = cairn_entry::sigstore::to_json_pretty(&trusted_root)?;
    trusted_root.push(b'\n');
    let trusted_root_path = config.data.join("trusted_root.json");
    files::write_atomic(&trusted_root_path, &trusted_root).map_err(anyhow::Error::msg)?;

    let published0 = Arc::new(seq.published());
    let tree_size = published0.size;
    let (pub_tx, pub_rx) = watch::channel(published0);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (queue_tx, queue_rx) = mpsc::channel(config.queue_capacity);
    let metrics = Arc::new(Metrics::default());
    metrics
        .tree_size
        .store(tree_size, std::sync::atomic::Ordering::Relaxed);
    let witnessing = match &config.witnessing {
        Some(w) => {
            anyhow::ensure!(
                w.policy.accepts_log(&key.verifying_key()),
                "witness_policy: the policy lists logs, but not this log's key {}",
                hex::encode(key.verifying_key().as_bytes())
            );
            Some(witnessing::Witnessing::new(
                w.clone(),
                store.clone(),
                metrics.clone(),
            )?)
        }
        None => None,
    };
    let settings = sequencing::Settings {
        max_batch: config.max_batch,
        batch_delay: config.batch_delay,
        witnessing,
    };
    let m = metrics.clone();
    let sequencer = std::thread::Builder::new()
        .name("cairn-sequencer".into())
        .spawn(move || sequencing::run(seq, queue_rx, pub_tx, stop_tx, settings, m))
        .context("starting the sequencer thread")?;
    let state = AppState::new(Parts {
        store,
        queue: queue_tx,
        published: pub_rx,
        stopped: stop_rx.clone(),
        set_signer: cairn_entry::SetSigner::new(&key).context("the log key")?,
        log_id,
        trusted_root,
        metrics,
    });
    let info = StartInfo {
        url: config.public_url.clone(),
        origin: config.origin.as_str().to_string(),
        vkey,
        trusted_root_path,
        tree_size,
    };
    Ok(Prepared {
        state,
        config,
        sequencer,
        stopped: stop_rx,
        info,
    })
}

/// Serves `prepared` on `listener` until `shutdown` completes or the sequencer stops on a
/// fatal error; drains in-flight requests, then stops the sequencer after its current round.
///
/// # Errors
/// Socket errors, or the sequencer's fatal stop.
pub async fn serve(
    prepared: Prepared,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let Prepared {
        state,
        config,
        sequencer,
        mut stopped,
        ..
    } = prepared;
    let router = app(state, &config);
    let mut stopped2 = stopped.clone();
    let stop = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = stopped2.wait_for(|s| *s) => {}
        }
    };
    limits::serve_connections(
        listener,
        router,
        &config.limits,
        config.request_timeout,
        stop,
    )
    .await;
    // The router (and every queue sender) is gone: the sequencer finishes its round and exits.
    tokio::task::spawn_blocking(move || sequencer.join())
        .await
        .context("joining the sequencer")?
        .map_err(|_| anyhow::anyhow!("the sequencer thread panicked"))?;
    if *stopped.borrow_and_update() {
        anyhow::bail!("the sequencer stopped on a fatal storage error; see the log above");
    }
    Ok(())
}

/// [`prepare`] then [`serve`]: the whole server on `listener`.
///
/// # Errors
/// As [`prepare`] and [`serve`].
pub async fn run(
    raw: &RawConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let prepared = prepare(raw, listener.local_addr()?)?;
    serve(prepared, listener, shutdown).await
}
