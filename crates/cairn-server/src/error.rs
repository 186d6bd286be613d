//! The one place where errors become HTTP statuses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Everything a request can fail with, as the client will see it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed or asks for something invalid: 400 with the reason.
    #[error("{0}")]
    BadRequest(String),
    /// The body is over the size limit: 413.
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The resource does not exist (yet): 404.
    #[error("{0}")]
    NotFound(String),
    /// The queue is full: 503 with Retry-After; the client should retry.
    #[error("the log is busy; retry after {0} seconds")]
    Busy(u64),
    /// The entry is logged, but (failing closed) its checkpoint missed the witness quorum:
    /// 503 with Retry-After; a resubmission returns the entry with a witnessed checkpoint.
    #[error(
        "the entry is logged at index {0}, but its checkpoint did not reach the witness \
         quorum; submit it again later to get it with a witnessed checkpoint"
    )]
    Unwitnessed(u64),
    /// The client sent more submissions than its rate allows: 429 with Retry-After.
    #[error("too many submissions from this address; retry after {0} seconds")]
    RateLimited(u64),
    /// The sequencer stopped (a fatal storage error): 503; the server is shutting down.
    #[error("the log is not accepting entries")]
    Unavailable,
    /// Anything else: 500 with a generic message; the details go to the log only.
    #[error("internal error")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy(_) | ApiError::Unwitnessed(_) | ApiError::Unavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(detail) => {
                tracing::error!(target: "cairn.server", %detail, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut resp = (status, format!("{self}\n")).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let retry_after = match self {
            ApiError::Busy(secs) | ApiError::RateLimited(secs) => Some(secs),
            ApiError::Unwitnessed(_) => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}
