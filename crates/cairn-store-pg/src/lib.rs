//! A [`LogStore`] for scale-out deployments: PostgreSQL is the commit point, and object
//! storage (S3, GCS, Azure Blob or local files, through the `object_store` crate) holds the
//! public tiles, entry bundles and checkpoint, laid out as the C2SP tlog-tiles read API so a
//! bucket behind a CDN serves reads.
//!
//! It does not serve HTTP or sequence: the `cairn-log` sequencer drives it through the same
//! trait and conformance suite ([`cairn_log::testing::check_store`]) as the embedded redb store.
//!
//! # What lives where
//! - PostgreSQL, table `cairn_log` (one row): identity, tree size, root and the signed
//!   checkpoint. Every commit is `UPDATE ... WHERE size = $old`: zero rows means another
//!   sequencer moved the log, and the commit fails with [`StoreError::Conflict`].
//! - `cairn_leaves`: leaf hash -> index and integrated time (the dedup index).
//! - `cairn_staged`: the tiles and bundles of the latest batch, until they are in the bucket.
//! - The bucket: `checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`. Entry bodies
//!   live only in bundles.
//!
//! # One commit, in this order (a crash at each step leaves...)
//! 1. Build the batch's tiles and bundles (the right-edge partial bundle's earlier entries
//!    come from memory, or from the bucket after a restart). A crash: nothing was written.
//! 2. ONE PostgreSQL transaction: the compare-and-swap on the size with the new checkpoint,
//!    the dedup rows, the staged objects (replacing the previous batch's, which were uploaded
//!    before that batch's commit returned). A crash before `COMMIT` returns: the old state,
//!    whole. After: the new state is the log's; the bucket still shows the old checkpoint, and
//!    the next start uploads the staged objects.
//! 3. Upload the tiles and bundles (each path always gets the same bytes, so a repeat is safe),
//!    then the public checkpoint. A crash: readers keep the old checkpoint, whose objects are
//!    all there; the next start re-uploads the staged rows and then the checkpoint.
//! 4. Return: the sequencer answers submitters only now.
//!
//! Any error after step 2 began is returned as a backend error, which is fatal for the
//! sequencer: a commit whose outcome is unknown must not be followed by another.
//!
//! # Start-up ([`PgStore::open`])
//! Takes a PostgreSQL advisory lock so that a second sequencer on the same database refuses to
//! start (the compare-and-swap still guards the log if the lock is ever lost), then refuses to
//! run if the bucket's checkpoint is ahead of the database's (a failover that lost a committed
//! batch: sequencing on would sign a different tree at a published size), then re-uploads the
//! staged rows and the checkpoint, and deletes the staged rows.
//!
//! # Driving async I/O from a sync trait
//! [`LogStore`] is sync: the sequencer calls it from a plain thread and the server's read
//! handlers from `spawn_blocking`. The store owns a private two-thread tokio runtime on which
//! the PostgreSQL connections and every object-store request run; a trait method spawns its
//! work there and waits on a channel. Waiting on a channel (unlike `Runtime::block_on`) is
//! allowed from any thread, including one inside the caller's own runtime, and the store's
//! connections never depend on the caller's runtime being alive.
//!
//! # Buckets
//! `--objects` URLs take object_store settings from the environment and the URL's query
//! (`s3://bucket/prefix?endpoint=...`, for MinIO, R2, Garage and other S3-compatible
//! services); `file://` buckets fsync every object they write. See `objects_url` and `synced`.
//!
//! Transport: PostgreSQL connections use TLS as the URL's libpq-style `sslmode` and
//! `sslrootcert` say (see `tls`); object-store requests use HTTPS as the URL says.

#![forbid(unsafe_code)]

mod bucket;
mod objects;
mod objects_url;
mod pg;
mod synced;
pub mod testing;
mod tls;

#[cfg(test)]
mod tests;

pub use bucket::Bucket;
/// A bucket failure, as object_store reports it.
pub use object_store::Error as ObjectsError;
pub use pg::{OpenError, PgStore};
