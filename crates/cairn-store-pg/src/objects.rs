//! The bucket side: where each object lives and how it is written.
//!
//! Objects are laid out as the C2SP tlog-tiles read API under the bucket prefix, so a CDN or
//! the bucket's own HTTP endpoint can serve `<prefix>/checkpoint`,
//! `<prefix>/tile/<L>/<N>[.p/<W>]` and `<prefix>/tile/entries/<N>[.p/<W>]` directly.
//! Every tile and bundle path always gets the same bytes (a partial tile has its width in its
//! path), so a re-upload after a crash is safe and they carry immutable cache headers; only
//! `checkpoint` changes.

use bytes::Bytes;
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};
use std::sync::Arc;

/// The path of the public checkpoint, relative to the prefix.
pub(crate) const CHECKPOINT: &str = "checkpoint";

/// Tiles and bundles never change once written at a width: a CDN may keep them for a year
/// (the same header the server sends for them).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A bucket and prefix holding one log's public objects.
#[derive(Clone, Debug)]
pub(crate) struct Objects {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// Whether the backend stores HTTP attributes (S3, GCS, Azure and memory do; the local
    /// file system refuses any).
    attributes: bool,
}

impl Objects {
    pub(crate) fn new(store: Arc<dyn ObjectStore>, prefix: Path, attributes: bool) -> Objects {
        Objects {
            store,
            prefix,
            attributes,
        }
    }

    fn path(&self, rel: &str) -> Path {
        rel.split('/')
            .fold(self.prefix.clone(), |p, part| p.child(part))
    }

    /// Writes `rel`; tiles and bundles immutable, the checkpoint uncached.
    pub(crate) async fn put(&self, rel: &str, data: Bytes) -> Result<(), object_store::Error> {
        let mut attributes = Attributes::new();
        if self.attributes {
            let (cache, content_type) = if rel == CHECKPOINT {
                ("no-cache", "text/plain; charset=utf-8")
            } else {
                (IMMUTABLE, "application/octet-stream")
            };
            attributes.insert(Attribute::CacheControl, cache.into());
            attributes.insert(Attribute::ContentType, content_type.into());
        }
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(rel), PutPayload::from(data), opts)
            .await?;
        Ok(())
    }

    /// Returns the bytes of `rel`, or `None` if there is no such object.
    pub(crate) async fn get(&self, rel: &str) -> Result<Option<Bytes>, object_store::Error> {
        match self.store.get(&self.path(rel)).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
