//! The store itself: PostgreSQL schema and statements, the commit order, start-up recovery,
//! and the private runtime the sync trait drives them on (see the crate documentation).

use crate::objects::{Objects, CHECKPOINT};
use crate::objects_url::parse_objects_url;
use bytes::Bytes;
use cairn_log::{CommitBatch, LogMeta, LogStore, StoreError, StoredEntry, TreeState};
use cairn_merkle::tiles::{EntryBundle, Tile, TILE_WIDTH};
use cairn_merkle::Hash;
use cairn_note::SignedCheckpoint;
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::ObjectStore;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::runtime::{Handle, Runtime};
use tokio_postgres::{Client, Statement};

/// The schema version, kept in `cairn_log.format`; a start on another one is refused.
const FORMAT: &str = "cairn-pg-1";

/// Tables are created if missing, so the first start needs no migration step.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS cairn_log (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    format text NOT NULL,
    origin text NOT NULL,
    vkey text NOT NULL,
    created bigint NOT NULL,
    size bigint NOT NULL,
    root bytea NOT NULL,
    checkpoint bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS cairn_leaves (
    idx bigint PRIMARY KEY,
    leaf bytea NOT NULL UNIQUE,
    integrated_time bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS cairn_staged (
    path text PRIMARY KEY,
    data bytea NOT NULL
);";

/// Identifies the sequencer's advisory lock within the database ("cairnseq").
const LOCK_KEY: i64 = 0x6361_6972_6e73_6571;

/// An object to upload: its path under the prefix, and its bytes.
type Object = (String, Bytes);

/// Tries for the advisory lock, half a second apart.
const LOCK_ATTEMPTS: u32 = 6;

/// Object uploads in flight at once per batch.
const UPLOADS_IN_FLIGHT: usize = 16;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The object-storage URL is not one `object_store` understands.
    #[error("object storage URL {url:?}: {reason}")]
    ObjectsUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The PostgreSQL connection string is unusable (including its TLS settings).
    #[error("PostgreSQL connection string: {reason}")]
    PostgresUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// PostgreSQL refused or failed.
    #[error("PostgreSQL: {}", with_causes(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// The bucket failed.
    #[error("object storage: {0}")]
    Objects(#[from] object_store::Error),
    /// Another sequencer holds the database's advisory lock.
    #[error("another sequencer is running on this database (its advisory lock is held)")]
    Locked,
    /// The bucket's public checkpoint is ahead of the database: the database lost committed
    /// batches (e.g. a failover to an asynchronous replica). Sequencing on would fork the log.
    #[error(
        "the bucket's checkpoint is at size {bucket}, ahead of the database at size \
         {database}: the database lost committed batches; refusing to sequence (see \
         docs/operations.md)"
    )]
    BucketAhead {
        /// Tree size of the bucket's checkpoint.
        bucket: u64,
        /// Tree size in the database.
        database: u64,
    },
    /// The bucket's checkpoint has the database's size but other bytes: two histories.
    #[error(
        "the bucket's checkpoint at size {size} differs from the database's: refusing to sequence"
    )]
    BucketDiffers {
        /// The common tree size.
        size: u64,
    },
    /// The store's contents are unusable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The private runtime could not start.
    #[error("starting the store's runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Returns `e` and its causes: tokio-postgres leaves them out of its own message (e.g. why a
/// TLS handshake failed), and an operator needs them.
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("{v} does not fit PostgreSQL's bigint")))
}

fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative value {v} in the database")))
}

/// A log stored in PostgreSQL and object storage. See the crate documentation.
pub struct PgStore {
    /// `Some` until drop, which shuts it down without blocking (drop may run inside another
    /// runtime, where a blocking shutdown panics).
    runtime: Option<Runtime>,
    handle: Handle,
    inner: Arc<Inner>,
}

struct Statements {
    cas: Statement,
    clear_staged: Statement,
    insert_leaves: Statement,
    insert_staged: Statement,
}

struct Inner {
    /// The sequencer's connection: transactions need `&mut`, and it holds the advisory lock.
    writer: tokio::sync::Mutex<Client>,
    statements: Statements,
    /// Reads share one pipelined connection.
    reader: Client,
    lookup: Statement,
    lookup_many: Statement,
    times: Statement,
    objects: Objects,
    /// The size whose objects and checkpoint are all in the bucket: reads pick partial widths
    /// from it, so they never ask for an object that is only staged.
    published: AtomicU64,
    /// The bodies of the right-edge partial bundle at `published` (the next batch extends it).
    edge_bundle: Mutex<Option<(u64, Vec<Vec<u8>>)>>,
}

impl PgStore {
    /// Connects to PostgreSQL at `pg_url` (a `postgres://` URL or key=value string) and to the
    /// bucket at `objects_url` (`s3://bucket/prefix`, `gs://...`, `az://...`, `file:///dir`),
    /// with credentials from the standard environment variables (`AWS_*`, `GOOGLE_*`,
    /// `AZURE_*`), then runs the start-up checks and recovery of the crate documentation.
    ///
    /// # Errors
    /// [`OpenError::Locked`] while another sequencer runs, [`OpenError::BucketAhead`] or
    /// [`OpenError::BucketDiffers`] when the bucket holds another history, and connection,
    /// schema or upload failures.
    pub fn open(pg_url: &str, objects_url: &str) -> Result<PgStore, OpenError> {
        let (store, prefix, attributes) = parse_objects_url(objects_url)?;
        PgStore::open_with(pg_url, store, prefix, attributes, true)
    }

    /// As [`PgStore::open`], with an object store built by the caller (e.g. `InMemory` in
    /// tests). `attributes` says whether the store keeps HTTP headers (local files do not).
    ///
    /// # Errors
    /// As [`PgStore::open`].
    pub fn open_with_objects(
        pg_url: &str,
        store: Arc<dyn ObjectStore>,
        prefix: Path,
        attributes: bool,
    ) -> Result<PgStore, OpenError> {
        PgStore::open_with(pg_url, store, prefix, attributes, true)
    }

    pub(crate) fn open_with(
        pg_url: &str,
        store: Arc<dyn ObjectStore>,
        prefix: Path,
        attributes: bool,
        take_lock: bool,
    ) -> Result<PgStore, OpenError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cairn-store-pg")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let objects = Objects::new(store, prefix, attributes);
        let url = pg_url.to_string();
        let inner = wait(
            &handle,
            async move { connect(&url, objects, take_lock).await },
        )?;
        Ok(PgStore {
            runtime: Some(runtime),
            handle,
            inner: Arc::new(inner),
        })
    }

    /// Runs `f` on the private runtime and waits for it (see the crate documentation).
    fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
        T: Send + 'static,
    {
        wait(&self.handle, f(self.inner.clone()))
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Spawns `fut` on `handle` and blocks this thread until it finishes.
fn wait<T, E, Fut>(handle: &Handle, fut: Fut) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static + From<StoreError>,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle.spawn(async move {
        // The receiver only goes away if the waiting thread did, and then nobody needs it.
        let _ = tx.send(fut.await);
    });
    rx.recv()
        .map_err(|_| E::from(StoreError::Corrupt("the store's runtime stopped".into())))?
}

async fn connect(url: &str, objects: Objects, take_lock: bool) -> Result<Inner, OpenError> {
    let writer = connect_one(url).await?;
    let reader = connect_one(url).await?;
    if take_lock {
        // A sequencer that was just killed holds the lock until its backend notices the
        // closed socket: give that a moment before refusing.
        let mut attempts = 0;
        loop {
            let locked: bool = writer
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .await?
                .get(0);
            if locked {
                break;
            }
            attempts += 1;
            if attempts == LOCK_ATTEMPTS {
                return Err(OpenError::Locked);
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    writer.batch_execute(SCHEMA).await?;
    let statements = Statements {
        cas: writer
            .prepare("UPDATE cairn_log SET size = $1, root = $2, checkpoint = $3 WHERE size = $4")
            .await?,
        clear_staged: writer.prepare("DELETE FROM cairn_staged").await?,
        insert_leaves: writer
            .prepare(
                "INSERT INTO cairn_leaves (idx, leaf, integrated_time) \
                 SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bigint[])",
            )
            .await?,
        insert_staged: writer
            .prepare(
                "INSERT INTO cairn_staged (path, data) \
                 SELECT * FROM unnest($1::text[], $2::bytea[])",
            )
            .await?,
    };
    let lookup = reader
        .prepare("SELECT idx FROM cairn_leaves WHERE leaf = $1")
        .await?;
    let lookup_many = reader
        .prepare("SELECT leaf, idx FROM cairn_leaves WHERE leaf = ANY($1)")
        .await?;
    let times = reader
        .prepare(
            "SELECT integrated_time FROM cairn_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .await?;
    let inner = Inner {
        writer: tokio::sync::Mutex::new(writer),
        statements,
        reader,
        lookup,
        lookup_many,
        times,
        objects,
        published: AtomicU64::new(0),
        edge_bundle: Mutex::new(None),
    };
    recover(&inner).await?;
    Ok(inner)
}

async fn connect_one(url: &str) -> Result<Client, OpenError> {
    let (config, tls) = crate::tls::connect_config(url)?;
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            // Every later call on the client fails too, and that error reaches the caller.
            tracing::error!(error = %e, "cairn.store.pg connection closed");
        }
    });
    Ok(client)
}

/// The start-up check and recovery: see the crate documentation.
async fn recover(inner: &Inner) -> Result<(), OpenError> {
    let state = inner.state().await?;
    let bucket = inner.objects.get(CHECKPOINT).await?;
    let Some(state) = state else {
        if let Some(b) = bucket {
            // An empty database under a bucket that already holds a log.
            return Err(OpenError::BucketAhead {
                bucket: checkpoint_size(&b)?,
                database: 0,
            });
        }
        return Ok(());
    };
    if let Some(b) = &bucket {
        if b.as_ref() != state.checkpoint.as_slice() {
            let size = checkpoint_size(b)?;
            if size > state.size {
                return Err(OpenError::BucketAhead {
                    bucket: size,
                    database: state.size,
                });
            }
            if size == state.size {
                return Err(OpenError::BucketDiffers { size });
            }
        }
    }
    let staged: Vec<(String, Vec<u8>)> = {
        let w = inner.writer.lock().await;
        w.query("SELECT path, data FROM cairn_staged ORDER BY path", &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    let count = staged.len();
    let objects: Vec<Object> = staged
        .into_iter()
        .map(|(p, d)| (p, Bytes::from(d)))
        .collect();
    inner.publish(objects, &state.checkpoint).await?;
    if count > 0 || bucket.as_deref() != Some(state.checkpoint.as_slice()) {
        tracing::info!(
            size = state.size,
            staged = count,
            "cairn.store.pg published the staged batch at start-up"
        );
    }
    inner
        .writer
        .lock()
        .await
        .execute(&inner.statements.clear_staged, &[])
        .await?;
    inner.published.store(state.size, Ordering::SeqCst);
    Ok(())
}

/// Returns the entry bundles a batch writes, and the bodies of the new right-edge bundle.
/// `edge` holds the bodies of the bundle that tree size `old` ends in (empty at a bundle
/// boundary); `bodies` are the batch's entries in index order.
pub(crate) fn cut_bundles(
    old: u64,
    mut edge: Vec<Vec<u8>>,
    bodies: impl IntoIterator<Item = Vec<u8>>,
) -> Result<(Vec<Object>, Vec<Vec<u8>>), StoreError> {
    let corrupt = |e: cairn_merkle::tiles::TileError| StoreError::Corrupt(e.to_string());
    if edge.len() as u64 != old % TILE_WIDTH {
        return Err(StoreError::Corrupt(format!(
            "{} edge entries at size {old}",
            edge.len()
        )));
    }
    let mut bundles = Vec::new();
    let mut index = old / TILE_WIDTH;
    let mut bodies = bodies.into_iter().peekable();
    while bodies.peek().is_some() {
        for body in bodies.by_ref() {
            edge.push(body);
            if edge.len() as u64 == TILE_WIDTH {
                break;
            }
        }
        let width = u16::try_from(edge.len())
            .map_err(|_| StoreError::Corrupt("bundle wider than a tile".into()))?;
        let tile = Tile::new(0, index, width).map_err(corrupt)?;
        let mut bundle = EntryBundle::new();
        for body in &edge {
            bundle.push(body.clone()).map_err(corrupt)?;
        }
        bundles.push((tile.entries_path(), Bytes::from(bundle.to_bytes())));
        if tile.is_full() {
            edge.clear();
            index += 1;
        }
    }
    Ok((bundles, edge))
}

fn checkpoint_size(bytes: &[u8]) -> Result<u64, StoreError> {
    SignedCheckpoint::parse(bytes)
        .map(|c| c.checkpoint().size)
        .map_err(|e| StoreError::Corrupt(format!("the bucket's checkpoint does not parse: {e}")))
}

impl Inner {
    async fn state(&self) -> Result<Option<TreeState>, StoreError> {
        let row = self
            .reader
            .query_opt("SELECT size, root, checkpoint, format FROM cairn_log", &[])
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let format: String = row.get(3);
        if format != FORMAT {
            return Err(StoreError::Corrupt(format!(
                "unknown format version {format:?}"
            )));
        }
        let root: Vec<u8> = row.get(1);
        Ok(Some(TreeState {
            size: to_u64(row.get(0))?,
            root: Hash::from_slice(&root)
                .ok_or_else(|| StoreError::Corrupt("root is not 32 bytes".into()))?,
            checkpoint: row.get(2),
        }))
    }

    /// Uploads `objects`, then the checkpoint: the checkpoint never names an object that is
    /// not there yet.
    async fn publish(&self, objects: Vec<Object>, checkpoint: &[u8]) -> Result<(), StoreError> {
        futures_util::stream::iter(objects)
            .map(|(path, data)| async move { self.objects.put(&path, data).await })
            .buffer_unordered(UPLOADS_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await
            .map_err(backend)?;
        self.objects
            .put(CHECKPOINT, Bytes::copy_from_slice(checkpoint))
            .await
            .map_err(backend)
    }

    /// Returns the bodies of the right-edge bundle's entries below `size`.
    async fn edge_bodies(&self, size: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let start = size - size % TILE_WIDTH;
        if start == size {
            return Ok(Vec::new());
        }
        if let Ok(cache) = self.edge_bundle.lock() {
            if let Some((at, bodies)) = cache.as_ref() {
                if *at == size {
                    return Ok(bodies.clone());
                }
            }
        }
        self.bundle(size, start / TILE_WIDTH)
            .await
            .map(|b| b.entries().to_vec())
    }

    /// Returns bundle `index` as published at tree size `size`.
    async fn bundle(&self, size: u64, index: u64) -> Result<EntryBundle, StoreError> {
        let tile = Tile::at_size(0, index, size)
            .ok_or_else(|| StoreError::Corrupt(format!("bundle {index} is beyond size {size}")))?;
        let path = tile.entries_path();
        let data = self
            .objects
            .get(&path)
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::Corrupt(format!("{path} is missing from the bucket")))?;
        EntryBundle::parse(&data, Some(tile.width()))
            .map_err(|e| StoreError::Corrupt(format!("{path}: {e}")))
    }

    async fn commit(&self, batch: CommitBatch) -> Result<(), StoreError> {
        let old = batch.old_size;
        let new = batch.new_state.size;
        // Step 1: the batch's objects. Bundles are cut from the edge bundle's earlier bodies
        // followed by the new entries.
        let edge = self.edge_bodies(old).await?;
        let mut objects: Vec<Object> = batch
            .tiles
            .iter()
            .map(|(t, d)| (t.path(), Bytes::copy_from_slice(d)))
            .collect();
        let bodies = batch.entries.iter().map(|e| e.body.clone());
        let (bundles, bodies) = cut_bundles(old, edge, bodies)?;
        objects.extend(bundles);
        let (mut idx, mut leaves, mut times) = (Vec::new(), Vec::new(), Vec::new());
        for e in &batch.entries {
            idx.push(to_i64(e.index)?);
            leaves.push(e.leaf_hash.0.as_slice());
            times.push(to_i64(e.integrated_time)?);
        }
        let paths: Vec<&str> = objects.iter().map(|(p, _)| p.as_str()).collect();
        let datas: Vec<&[u8]> = objects.iter().map(|(_, d)| d.as_ref()).collect();

        // Step 2: ONE transaction, the compare-and-swap first.
        {
            let mut w = self.writer.lock().await;
            let s = &self.statements;
            let tx = w.transaction().await.map_err(backend)?;
            let updated = tx
                .execute(
                    &s.cas,
                    &[
                        &to_i64(new)?,
                        &batch.new_state.root.0.as_slice(),
                        &batch.new_state.checkpoint,
                        &to_i64(old)?,
                    ],
                )
                .await
                .map_err(backend)?;
            if updated == 0 {
                let found = tx
                    .query_opt("SELECT size FROM cairn_log", &[])
                    .await
                    .map_err(backend)?
                    .ok_or(StoreError::NotInitialized)?;
                // Dropping the transaction rolls it back: nothing is written.
                return Err(StoreError::Conflict {
                    expected: old,
                    found: to_u64(found.get(0))?,
                });
            }
            // The previous batch's staged objects were uploaded before its commit returned.
            tx.execute(&s.clear_staged, &[]).await.map_err(backend)?;
            tx.execute(&s.insert_leaves, &[&idx, &leaves, &times])
                .await
                .map_err(backend)?;
            tx.execute(&s.insert_staged, &[&paths, &datas])
                .await
                .map_err(backend)?;
            // An error here leaves the outcome unknown: fatal for the caller.
            tx.commit().await.map_err(backend)?;
        }

        // Step 3: the bucket, then the public checkpoint.
        self.publish(objects, &batch.new_state.checkpoint).await?;
        self.published.store(new, Ordering::SeqCst);
        if let Ok(mut cache) = self.edge_bundle.lock() {
            *cache = Some((new, bodies));
        }
        Ok(())
    }
}

impl LogStore for PgStore {
    fn meta(&self) -> Result<Option<LogMeta>, StoreError> {
        self.run(|inner| async move {
            let row = inner
                .reader
                .query_opt("SELECT origin, vkey, created FROM cairn_log", &[])
                .await
                .map_err(backend)?;
            row.map(|r| {
                Ok(LogMeta {
                    origin: r.get(0),
                    vkey: r.get(1),
                    created: to_u64(r.get(2))?,
                })
            })
            .transpose()
        })
    }

    fn init(&self, meta: &LogMeta, state: &TreeState) -> Result<(), StoreError> {
        let (meta, state) = (meta.clone(), state.clone());
        self.run(|inner| async move {
            let inserted = inner
                .writer
                .lock()
                .await
                .execute(
                    "INSERT INTO cairn_log (format, origin, vkey, created, size, root, checkpoint) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                    &[
                        &FORMAT,
                        &meta.origin,
                        &meta.vkey,
                        &to_i64(meta.created)?,
                        &to_i64(state.size)?,
                        &state.root.0.as_slice(),
                        &state.checkpoint,
                    ],
                )
                .await
                .map_err(backend)?;
            if inserted == 0 {
                return Err(StoreError::AlreadyInitialized);
            }
            inner.publish(Vec::new(), &state.checkpoint).await?;
            inner.published.store(state.size, Ordering::SeqCst);
            Ok(())
        })
    }

    fn state(&self) -> Result<TreeState, StoreError> {
        self.run(|inner| async move { inner.state().await?.ok_or(StoreError::NotInitialized) })
    }

    fn commit(&self, batch: &CommitBatch) -> Result<(), StoreError> {
        let batch = batch.clone();
        self.run(|inner| async move { inner.commit(batch).await })
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(move |inner| async move {
            let size = inner.published.load(Ordering::SeqCst);
            let Some(tile) = Tile::at_size(level, index, size) else {
                return Ok(None);
            };
            let data = inner.objects.get(&tile.path()).await.map_err(backend)?;
            Ok(data.map(|d| d.to_vec()))
        })
    }

    fn read_entries(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, StoreError> {
        self.run(move |inner| async move {
            let size = inner.published.load(Ordering::SeqCst);
            let end = end.min(size);
            if start >= end {
                return Ok(Vec::new());
            }
            let times: Vec<u64> = inner
                .reader
                .query(&inner.times, &[&to_i64(start)?, &to_i64(end)?])
                .await
                .map_err(backend)?
                .iter()
                .map(|r| to_u64(r.get(0)))
                .collect::<Result<_, _>>()?;
            if times.len() as u64 != end - start {
                return Err(StoreError::Corrupt(format!(
                    "dedup rows for entries {start}..{end} are missing"
                )));
            }
            let mut out = Vec::with_capacity(times.len());
            let mut times = times.into_iter();
            for b in start / TILE_WIDTH..=(end - 1) / TILE_WIDTH {
                let bundle = inner.bundle(size, b).await?;
                let first = b * TILE_WIDTH;
                for (i, body) in bundle.entries().iter().enumerate() {
                    let n = first + i as u64;
                    if n < start || n >= end {
                        continue;
                    }
                    let integrated_time = times.next().ok_or_else(|| {
                        StoreError::Corrupt(format!("no integrated time for entry {n}"))
                    })?;
                    out.push(StoredEntry {
                        integrated_time,
                        body: body.clone(),
                    });
                }
            }
            Ok(out)
        })
    }

    fn lookup_many(&self, leaves: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        let leaves = leaves.to_vec();
        self.run(move |inner| async move {
            let keys: Vec<&[u8]> = leaves.iter().map(|l| l.0.as_slice()).collect();
            let rows = inner
                .reader
                .query(&inner.lookup_many, &[&keys])
                .await
                .map_err(backend)?;
            let mut found = std::collections::HashMap::with_capacity(rows.len());
            for r in rows {
                let leaf: Vec<u8> = r.get(0);
                found.insert(leaf, to_u64(r.get(1))?);
            }
            Ok(leaves
                .iter()
                .map(|l| found.get(l.0.as_slice()).copied())
                .collect())
        })
    }

    fn lookup(&self, leaf: &Hash) -> Result<Option<u64>, StoreError> {
        let leaf = *leaf;
        self.run(move |inner| async move {
            inner
                .reader
                .query_opt(&inner.lookup, &[&leaf.0.as_slice()])
                .await
                .map_err(backend)?
                .map(|r| to_u64(r.get(0)))
                .transpose()
        })
    }
}
