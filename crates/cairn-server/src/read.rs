//! The read API: C2SP tlog-tiles (checkpoint, hash tiles, entry bundles), the trusted root,
//! health and metrics. Handlers only parse the path, read, and format.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use cairn_merkle::tiles::{EntryBundle, Tile, TilePath};

/// Tiles and bundles never change once served at a width: cache them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn respond(body: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

/// `GET /api/v2/checkpoint`: the latest signed checkpoint; cached for no more than a moment.
pub(crate) async fn checkpoint(State(app): State<AppState>) -> Response {
    respond(
        app.published().checkpoint.clone(),
        "text/plain; charset=utf-8",
        "no-cache",
    )
}

/// `GET /api/v2/tile/...`: hash tiles and entry bundles, for any width the published tree
/// has reached (a narrower width is a prefix of the stored one).
pub(crate) async fn tile(
    State(app): State<AppState>,
    Path(rest): Path<String>,
) -> Result<Response, ApiError> {
    let path: TilePath = format!("tile/{rest}")
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("{e}")))?;
    let size = app.published().size;
    let (level, t) = match path {
        TilePath::Hash(t) => (t.level(), t),
        TilePath::Entries(t) => (0, t),
    };
    let beyond = || ApiError::NotFound(format!("{path} is beyond the tree of size {size}"));
    Tile::at_size(level, t.index(), size)
        .filter(|published| published.width() >= t.width())
        .ok_or_else(beyond)?;
    let width = usize::from(t.width());
    let store = app.store().clone();
    let index = t.index();
    let is_entries = matches!(path, TilePath::Entries(_));
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let internal = |e: cairn_log::StoreError| ApiError::Internal(e.to_string());
        if is_entries {
            let start = index * 256;
            let entries = store
                .read_entries(start, start + width as u64)
                .map_err(internal)?;
            if entries.len() != width {
                return Err(ApiError::Internal(format!(
                    "entries {start}+{width} missing"
                )));
            }
            let mut bundle = EntryBundle::new();
            for e in entries {
                bundle
                    .push(e.body)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            Ok(bundle.to_bytes())
        } else {
            let data = store
                .read_tile(level, index)
                .map_err(internal)?
                .unwrap_or_default();
            data.get(..width * 32)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| ApiError::Internal(format!("stored tile {level}/{index} is short")))
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(respond(body, "application/octet-stream", IMMUTABLE))
}

/// `GET /api/v2/trustedRoot`: the Sigstore TrustedRoot for this log.
pub(crate) async fn trusted_root(State(app): State<AppState>) -> Response {
    respond(
        app.trusted_root_json().to_vec(),
        "application/json",
        "no-cache",
    )
}

/// `GET /healthz`: 200 while the sequencer runs, 503 once it stopped.
pub(crate) async fn healthz(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    if app.is_stopped() {
        Err(ApiError::Unavailable)
    } else {
        Ok("ok\n")
    }
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn metrics(State(app): State<AppState>) -> Response {
    respond(
        app.metrics().render().into_bytes(),
        "text/plain; version=0.0.4; charset=utf-8",
        "no-cache",
    )
}
