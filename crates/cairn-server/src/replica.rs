//! Stateless read replicas (`cairn serve --read-only`): the tlog-tiles read API served from
//! the log's bucket, submissions and the trusted root forwarded to the sequencer.
//!
//! A replica holds no state and no key: it can be started, stopped and multiplied at will.
//! It serves exactly what the bucket holds, and the sequencer uploads every tile and bundle
//! before the checkpoint that refers to them, so a client that starts from the replica's
//! checkpoint finds every object it needs. Tiles and bundles carry immutable cache headers
//! (each path always has the same bytes); the checkpoint is not cached.

use crate::error::ApiError;
use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use cairn_merkle::tiles::TilePath;
use cairn_store_pg::Bucket;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Same header as the sequencer's own read API.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// What a replica needs.
#[derive(Debug, Clone)]
pub struct ReplicaConfig {
    /// The log's bucket (object_store URL), as the sequencer's `objects`.
    pub objects: String,
    /// The sequencer's URL, e.g. `http://10.0.0.5:3000`; submissions go there.
    pub upstream: String,
    /// Largest submission body forwarded, bytes.
    pub max_body_bytes: usize,
    /// Time limit for one request, including the upstream's answer.
    pub request_timeout: Duration,
}

struct Replica {
    bucket: Bucket,
    upstream: String,
    http: reqwest::Client,
}

type Shared = Arc<Replica>;

/// Returns the replica's router.
///
/// # Errors
/// An objects URL object_store does not understand, or an HTTP client that cannot start.
pub fn replica_app(config: &ReplicaConfig) -> anyhow::Result<Router> {
    let bucket = Bucket::open(&config.objects)?;
    let http = reqwest::Client::builder()
        .timeout(config.request_timeout)
        .build()
        .context("building the HTTP client")?;
    let state = Arc::new(Replica {
        bucket,
        upstream: config.upstream.trim_end_matches('/').to_string(),
        http,
    });
    Ok(Router::new()
        .route("/api/v2/log/entries", post(forward_entry))
        .route("/api/v2/checkpoint", get(checkpoint))
        .route("/api/v2/tile/{*path}", get(tile))
        .route("/api/v2/trustedRoot", get(trusted_root))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .with_state(state))
}

/// Serves the replica on `listener` until `shutdown` completes.
///
/// # Errors
/// A bad configuration, or socket errors.
pub async fn serve_replica(
    config: &ReplicaConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let router = replica_app(config)?;
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving")
}

fn respond(body: Bytes, content_type: &'static str, cache: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

fn bucket_error(e: cairn_store_pg::ObjectsError) -> ApiError {
    ApiError::Internal(format!("bucket: {e}"))
}

async fn checkpoint(State(r): State<Shared>) -> Result<Response, ApiError> {
    let cp = r
        .bucket
        .checkpoint()
        .await
        .map_err(bucket_error)?
        .ok_or_else(|| ApiError::NotFound("the log has no checkpoint yet".into()))?;
    Ok(respond(cp, "text/plain; charset=utf-8", "no-cache"))
}

async fn tile(State(r): State<Shared>, Path(rest): Path<String>) -> Result<Response, ApiError> {
    // Strict parse first: only canonical tile paths reach the bucket.
    let path: TilePath = format!("tile/{rest}")
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("{e}")))?;
    let data = r
        .bucket
        .tile(&path)
        .await
        .map_err(bucket_error)?
        .ok_or_else(|| ApiError::NotFound(format!("{path} is not in the log")))?;
    Ok(respond(data, "application/octet-stream", IMMUTABLE))
}

/// Copies the upstream's status, the headers a client acts on, and the body.
async fn relay(resp: reqwest::Result<reqwest::Response>) -> Response {
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(target: "cairn.replica", error = %e, "upstream unreachable");
            return (
                StatusCode::BAD_GATEWAY,
                "the log's sequencer is unreachable\n",
            )
                .into_response();
        }
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = HeaderMap::new();
    for name in [
        header::CONTENT_TYPE,
        header::RETRY_AFTER,
        header::CACHE_CONTROL,
    ] {
        if let Some(v) = resp.headers().get(name.as_str()) {
            if let Ok(v) = HeaderValue::from_bytes(v.as_bytes()) {
                headers.insert(name, v);
            }
        }
    }
    match resp.bytes().await {
        Ok(body) => (status, headers, body).into_response(),
        Err(_) => (
            StatusCode::BAD_GATEWAY,
            "the sequencer's answer broke off\n",
        )
            .into_response(),
    }
}

async fn forward_entry(State(r): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut req = r
        .http
        .post(format!("{}/api/v2/log/entries", r.upstream))
        .body(body);
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        req = req.header(header::CONTENT_TYPE, ct.as_bytes());
    }
    relay(req.send().await).await
}

async fn trusted_root(State(r): State<Shared>) -> Response {
    relay(
        r.http
            .get(format!("{}/api/v2/trustedRoot", r.upstream))
            .send()
            .await,
    )
    .await
}
