//! A local-directory bucket that is durable when a write returns.
//!
//! object_store's `LocalFileSystem` writes each object to a temporary file and renames it into
//! place, but never fsyncs. The store deletes a batch's staged rows from PostgreSQL once the
//! batch's objects are "in the bucket" (at the next commit), so after a power loss a
//! `file://` bucket could miss tiles that no database row holds any more: a log that cannot
//! serve a checkpoint it published. [`SyncedLocal`] closes that by fsyncing, after each write,
//! the file, the directory holding it (which makes the rename durable) and every directory
//! created on the way down from the bucket's root (once each: a directory whose entry has been
//! synced stays).
//!
//! The alternative, keeping staged rows until a periodic sync, would make the durability of
//! the bucket depend on the database's retention and complicate recovery; an fsync per object
//! costs a few milliseconds per batch on a disk, and `file://` buckets are for one machine.

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A local directory as a bucket, fsyncing each written object (see the module doc).
#[derive(Debug)]
pub(crate) struct SyncedLocal {
    inner: LocalFileSystem,
    root: PathBuf,
    /// Directories whose own entry in their parent is known to be on disk.
    synced: Arc<Mutex<HashSet<PathBuf>>>,
}

impl SyncedLocal {
    /// Returns a bucket rooted at `dir`, creating the directory if needed.
    ///
    /// # Errors
    /// When `dir` cannot be created or resolved.
    pub(crate) fn new(dir: &std::path::Path) -> std::io::Result<SyncedLocal> {
        std::fs::create_dir_all(dir)?;
        let root = dir.canonicalize()?;
        let inner = LocalFileSystem::new_with_prefix(&root).map_err(std::io::Error::other)?;
        Ok(SyncedLocal {
            inner,
            root,
            synced: Arc::new(Mutex::new(HashSet::new())),
        })
    }

    /// Makes the object at `location` durable: the file, its directory, new ancestors.
    async fn sync(&self, location: &Path) -> Result<()> {
        let file = self.inner.path_to_filesystem(location)?;
        let (root, synced) = (self.root.clone(), self.synced.clone());
        let io = move || -> std::io::Result<()> {
            std::fs::File::open(&file)?.sync_all()?;
            let Some(mut dir) = file.parent().map(PathBuf::from) else {
                return Ok(());
            };
            fsync_dir(&dir)?;
            // Walk up while the directory's own entry is not known to be durable.
            while dir != root && dir.starts_with(&root) {
                if synced.lock().map(|s| s.contains(&dir)).unwrap_or(false) {
                    break;
                }
                let Some(up) = dir.parent().map(PathBuf::from) else {
                    break;
                };
                fsync_dir(&up)?;
                if let Ok(mut s) = synced.lock() {
                    s.insert(dir);
                }
                dir = up;
            }
            Ok(())
        };
        tokio::task::spawn_blocking(io)
            .await
            .map_err(|e| generic(std::io::Error::other(e)))?
            .map_err(generic)
    }
}

fn fsync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn generic(e: std::io::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: "SyncedLocal",
        source: Box::new(e),
    }
}

impl std::fmt::Display for SyncedLocal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SyncedLocal({})", self.root.display())
    }
}

#[async_trait]
impl ObjectStore for SyncedLocal {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let r = self.inner.put_opts(location, payload, opts).await?;
        self.sync(location).await?;
        Ok(r)
    }

    /// Refused: nothing here fsyncs a multipart upload, and the log's objects are small.
    async fn put_multipart_opts(
        &self,
        _location: &Path,
        _opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        Err(object_store::Error::NotImplemented)
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn delete(&self, location: &Path) -> Result<()> {
        self.inner.delete(location).await
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy(&self, from: &Path, to: &Path) -> Result<()> {
        self.inner.copy(from, to).await?;
        self.sync(to).await
    }

    async fn copy_if_not_exists(&self, from: &Path, to: &Path) -> Result<()> {
        self.inner.copy_if_not_exists(from, to).await?;
        self.sync(to).await
    }
}
