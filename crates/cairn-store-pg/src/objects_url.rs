//! What an `--objects` URL means: an object_store URL (`s3://bucket/prefix`, `gs://...`,
//! `az://...`, `file:///dir`) whose store settings come from the environment, as object_store's
//! `from_env` constructors read them (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, ...), overridden by the URL's query parameters, named as object_store
//! names its configuration keys:
//!
//! ```text
//! s3://cairn-log/v2?endpoint=http://127.0.0.1:9000&allow_http=true&region=us-east-1
//! ```
//!
//! The query form lets one process talk to several S3-compatible services (MinIO, R2, Garage,
//! Ceph) and lets a replica's URL say everything but the secrets; credentials belong in the
//! environment, where they stay out of process listings. A query key object_store does not
//! know is refused, so a typo does not silently fall back to AWS.
//!
//! `file://` buckets are wrapped in [`crate::synced::SyncedLocal`], which fsyncs every
//! written file and its directories.

use crate::synced::SyncedLocal;
use crate::OpenError;
use object_store::path::Path;
use object_store::ObjectStore;
use std::sync::Arc;

/// Returns the object store, prefix and whether it keeps HTTP attributes, for `url`.
pub(crate) fn parse_objects_url(
    url: &str,
) -> Result<(Arc<dyn ObjectStore>, Path, bool), OpenError> {
    let bad = |reason: String| OpenError::ObjectsUrl {
        url: redacted(url),
        reason,
    };
    let mut parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    let query: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect();
    parsed.set_query(None);
    if parsed.scheme() == "file" {
        if !query.is_empty() {
            return Err(bad("a file:// URL takes no query parameters".into()));
        }
        let dir = parsed
            .to_file_path()
            .map_err(|()| bad("not a local path".into()))?;
        let store = SyncedLocal::new(&dir).map_err(|e| bad(e.to_string()))?;
        return Ok((Arc::new(store), Path::default(), false));
    }
    for (key, _) in &query {
        if !known_key(parsed.scheme(), key) {
            return Err(bad(format!(
                "unknown setting {key:?} (object_store configuration keys, such as \
                 endpoint, allow_http, region)"
            )));
        }
    }
    // The builders pick their settings out of these by name and ignore the rest, as their
    // `from_env` constructors do; the query comes last, so it wins.
    let env = std::env::vars().map(|(k, v)| (k.to_ascii_lowercase(), v));
    let (store, prefix) =
        object_store::parse_url_opts(&parsed, env.chain(query)).map_err(|e| bad(e.to_string()))?;
    Ok((Arc::from(store), prefix, true))
}

/// Returns whether `key` names a setting of the store for `scheme`.
fn known_key(scheme: &str, key: &str) -> bool {
    use object_store::{aws, azure, gcp};
    match scheme {
        "s3" | "s3a" => key.parse::<aws::AmazonS3ConfigKey>().is_ok(),
        "gs" => key.parse::<gcp::GoogleConfigKey>().is_ok(),
        "az" | "adl" | "azure" | "abfs" | "abfss" => key.parse::<azure::AzureConfigKey>().is_ok(),
        _ => false,
    }
}

/// Returns `url` without its query, which may hold credentials, for error messages.
fn redacted(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?..."),
        None => url.to_string(),
    }
}
