//! This machine's bounds, measured by the load generator in the same process right after its
//! run, so every figure it prints can be a ratio taken under the same load:
//! - HTTP: an empty axum handler (it takes the body, as every POST handler must, and answers
//!   201 with nothing), served by a multi-threaded tokio runtime in this process and driven by
//!   the same client stack, bodies and concurrency as the run;
//! - submission: single-core signature verification of the run's own entries;
//! - audit: raw SHA-256 of 64-byte inputs (one node hash) on one core.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use cairn_entry::HashedRekordRequest;
use sha2::Digest as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long each single-core rate is measured.
const SPIN: Duration = Duration::from_millis(1500);

pub(crate) struct Bounds {
    http_per_second: f64,
    http_p50_ms: f64,
    verify_per_second: f64,
    sha256_per_second: f64,
}

pub(crate) async fn measure(
    requests: &[HashedRekordRequest],
    bodies: &Arc<Vec<Vec<u8>>>,
    concurrency: usize,
) -> anyhow::Result<Bounds> {
    let (http_per_second, http_p50_ms) = http(bodies, concurrency).await?;
    let sample: Vec<HashedRekordRequest> = requests.iter().take(1000).cloned().collect();
    let verify_per_second = tokio::task::spawn_blocking(move || {
        spin(|i| {
            // Every entry was signed by us: a failure would be a broken bench, not a figure.
            let ok = sample[i % sample.len()].verify().is_ok();
            assert!(ok, "a pre-signed entry did not verify");
        })
    })
    .await?;
    let sha256_per_second = tokio::task::spawn_blocking(|| {
        let mut block = [0u8; 64];
        spin(|i| {
            block[..8].copy_from_slice(&(i as u64).to_le_bytes());
            std::hint::black_box(sha2::Sha256::digest(block));
        })
    })
    .await?;
    Ok(Bounds {
        http_per_second,
        http_p50_ms,
        verify_per_second,
        sha256_per_second,
    })
}

/// Runs `f` on this thread for [`SPIN`]; returns calls per second.
fn spin(mut f: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed() < SPIN {
        for _ in 0..64 {
            f(n);
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Serves an empty handler on 127.0.0.1 from a runtime of its own (as `cairn serve` has), and
/// drives it like the log; returns its rate and median latency.
async fn http(bodies: &Arc<Vec<Vec<u8>>>, concurrency: usize) -> anyhow::Result<(f64, f64)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || -> anyhow::Result<()> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/api/v2/log/entries",
                post(|_: Bytes| async { StatusCode::CREATED }),
            );
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await?;
            anyhow::Ok(())
        })
    });
    let client = crate::client(concurrency)?;
    let url = format!("http://{addr}/api/v2/log/entries");
    let started = Instant::now();
    let out = crate::closed_loop(&client, &url, bodies.clone(), concurrency, usize::MAX).await?;
    let elapsed = started.elapsed();
    drop(client);
    let _ = stop.send(());
    server
        .join()
        .map_err(|_| anyhow::anyhow!("the bound server panicked"))??;
    anyhow::ensure!(
        out.errors.is_empty(),
        "the empty handler answered errors: {:?}",
        out.errors
    );
    Ok((out.created as f64 / elapsed.as_secs_f64(), out.ms(0.5)))
}

impl Bounds {
    pub(crate) fn to_json(&self, rate: f64) -> serde_json::Value {
        serde_json::json!({
            "http_empty_handler_per_second": self.http_per_second,
            "http_empty_handler_p50_ms": self.http_p50_ms,
            "verify_one_core_per_second": self.verify_per_second,
            "sha256_64b_one_core_per_second": self.sha256_per_second,
            "ratio_to_http": rate / self.http_per_second,
            "ratio_to_verify_one_core": rate / self.verify_per_second,
            "ratio_to_sha256": rate / self.sha256_per_second,
        })
    }

    pub(crate) fn print(&self, rate: f64) {
        println!("bounds, measured in this run:");
        println!(
            "  HTTP: empty axum handler {:.0} requests/s (p50 {:.2} ms); the log reached {:.2} of it",
            self.http_per_second,
            self.http_p50_ms,
            rate / self.http_per_second
        );
        println!(
            "  submission: one core verifies {:.0} of these signatures/s; the log reached {:.2}x that",
            self.verify_per_second,
            rate / self.verify_per_second
        );
        println!(
            "  audit: one core does {:.0} raw SHA-256/s of 64 bytes; the log reached 1/{:.0} of it",
            self.sha256_per_second,
            self.sha256_per_second / rate.max(f64::MIN_POSITIVE)
        );
    }
}
