//! Resource limits against clients that take more than their share: the accept loop (a cap on
//! open connections, a time limit on request headers against slow-loris clients, graceful
//! shutdown), a cap on requests in flight, and a per-client-IP rate limit on submissions.
//!
//! Why our own accept loop rather than `axum::serve`: it configures hyper without a timer, so
//! hyper's header read timeout never fires and a client that sends headers one byte a minute
//! holds its connection forever; and it has no connection cap.
//!
//! Reads (tiles, bundles, checkpoints) are not rate limited: they are cheap, immutable and
//! meant to be cached by a CDN, and a monitor catching up fetches thousands of them. A
//! submission costs a signature check and a share of a durable commit.

use crate::config::Limits;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The per-request limits shared by every connection.
pub(crate) struct RequestLimits {
    in_flight: Arc<Semaphore>,
    rate: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl RequestLimits {
    pub(crate) fn new(limits: &Limits) -> RequestLimits {
        let rate = limits.rate_limit.and_then(|(per_second, burst)| {
            let quota = Quota::per_second(NonZeroU32::new(per_second)?)
                .allow_burst(NonZeroU32::new(burst)?);
            Some(DefaultKeyedRateLimiter::keyed(quota))
        });
        RequestLimits {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            rate,
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one submission from `ip`'s allowance, or says how long until the next.
    fn check_rate(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Some(rate) = &self.rate else {
            return Ok(());
        };
        // Forget clients whose allowance is full again, now and then, so the table stays
        // as small as the set of recent clients.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            rate.retain_recent();
        }
        rate.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::RateLimited(wait.as_secs().max(1))
        })
    }
}

/// Middleware: the in-flight cap on every request but `/healthz`, the rate limit on submissions, and
/// `Connection: close` on a 413.
/// Requests without a peer address (in-process ones, through [`crate::Prepared::router`]) are
/// not rate limited.
pub(crate) async fn enforce(
    State(limits): State<Arc<RequestLimits>>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // An orchestrator's health probe must not fail (and restart the log) for load alone.
    let _permit = match req.uri().path() {
        "/healthz" => None,
        _ => Some(
            limits
                .in_flight
                .clone()
                .try_acquire_owned()
                .map_err(|_| ApiError::Busy(1))?,
        ),
    };
    if req.method() == axum::http::Method::POST {
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            limits.check_rate(peer.ip())?;
        }
    }
    let mut resp = next.run(req).await;
    if resp.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body was never read: tell the client this connection cannot carry
        // another request, or it may send its next one into a socket about to close.
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    Ok(resp)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish
/// for up to `drain` before it returns.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: excess clients wait in the listen backlog.
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = async {
                let permit = connections.clone().acquire_owned().await;
                (permit, listener.accept().await)
            } => accepted,
        };
        let (permit, stream, peer) = match accepted {
            (Ok(permit), Ok((stream, peer))) => (permit, stream, peer),
            (_, Err(e)) => {
                // Out of file descriptors and the like: pause rather than spin.
                tracing::warn!(target: "cairn.server", error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            (Err(_), _) => break, // the semaphore is never closed
        };
        let service = router
            .clone()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            });
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(target: "cairn.server", error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "cairn.server", "requests still open after the drain time");
    }
}
