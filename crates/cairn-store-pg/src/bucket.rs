//! Read-only access to a log's bucket, for stateless read replicas: no database, no lock,
//! nothing to recover. The replica serves whatever the bucket holds; the sequencer uploads
//! every object before the checkpoint that refers to it, so a reader that starts from the
//! checkpoint never misses an object.

use crate::objects::{Objects, CHECKPOINT};
use crate::objects_url::parse_objects_url;
use crate::OpenError;
use bytes::Bytes;

/// A bucket holding a log's public objects (`checkpoint`, `tile/...`).
#[derive(Clone, Debug)]
pub struct Bucket {
    objects: Objects,
}

impl Bucket {
    /// Opens the bucket at `objects_url` (as [`crate::PgStore::open`]); no request is made.
    ///
    /// # Errors
    /// [`OpenError::ObjectsUrl`] for a URL object_store does not understand.
    pub fn open(objects_url: &str) -> Result<Bucket, OpenError> {
        let (store, prefix, attributes) = parse_objects_url(objects_url)?;
        Ok(Bucket {
            objects: Objects::new(store, prefix, attributes),
        })
    }

    /// Returns the public checkpoint, or `None` before the log's first start.
    ///
    /// # Errors
    /// Bucket failures.
    pub async fn checkpoint(&self) -> Result<Option<Bytes>, object_store::Error> {
        self.objects.get(CHECKPOINT).await
    }

    /// Returns the tile or entry bundle at `path` (a C2SP `tile/...` path, as
    /// `cairn_merkle::tiles::TilePath` formats it), or `None` if it is not there.
    ///
    /// # Errors
    /// Bucket failures.
    pub async fn tile(
        &self,
        path: &cairn_merkle::tiles::TilePath,
    ) -> Result<Option<Bytes>, object_store::Error> {
        self.objects.get(&path.to_string()).await
    }
}
