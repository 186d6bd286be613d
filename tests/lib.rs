//! The end-to-end harness: a real Cairn server on `127.0.0.1:0` (in its own thread and
//! runtime, so tests stay plain synchronous code), a blocking HTTP client, and a
//! [`TileReader`] over the server's tile API.

// Test harness: a failure to start or reach the server is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cairn_log::LogStore;
use cairn_merkle::tiles::{Tile, TileReader};
use cairn_merkle::MerkleError;
use cairn_server::{Config, RawConfig, StartInfo};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A server running in this process.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its data directory.
    pub data: PathBuf,
    /// What it printed at start.
    pub info: StartInfo,
    /// The router over the server's state, for requests after the socket closed. It holds
    /// the store open: the server's data cannot be reopened while this lives.
    router: Option<axum::Router>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Opens the store a test server runs on, in place of `DATA/log.redb`.
pub type OpenStore = Box<dyn FnOnce(&Config) -> anyhow::Result<Arc<dyn LogStore>> + Send>;

/// The origin the harness gives every test log, so a restart on a new port is the same log.
pub const TEST_ORIGIN: &str = "cairn.test/log";

impl TestServer {
    /// Starts a server on `data` with the test origin and default settings.
    pub fn start(data: &Path) -> TestServer {
        TestServer::start_with(RawConfig {
            data: Some(data.to_path_buf()),
            public_url: Some(format!("http://{TEST_ORIGIN}")),
            ..RawConfig::default()
        })
    }

    /// Starts a server with `raw` (its `listen` is ignored: always `127.0.0.1:0`).
    pub fn start_with(raw: RawConfig) -> TestServer {
        TestServer::try_start_with(raw).unwrap()
    }

    /// Starts a server with `raw`, or returns why it refused to start.
    pub fn try_start_with(raw: RawConfig) -> anyhow::Result<TestServer> {
        TestServer::try_start_with_store(raw, None)
    }

    /// Starts a server with `raw` on the store `open_store` returns (a fault-injecting wrapper),
    /// or returns why it refused to start.
    pub fn try_start_with_store(
        raw: RawConfig,
        open_store: Option<OpenStore>,
    ) -> anyhow::Result<TestServer> {
        let data = raw
            .data
            .clone()
            .unwrap_or_else(|| PathBuf::from("cairn-data"));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                let prepared = match open_store {
                    Some(open) => cairn_server::prepare_with_store(&raw, addr, open),
                    None => cairn_server::prepare(&raw, addr),
                };
                let prepared = match prepared {
                    Ok(p) => p,
                    Err(e) => {
                        let msg = format!("{e:#}");
                        let _ = ready_tx.send(Err(msg.clone()));
                        return Err(anyhow::anyhow!(msg));
                    }
                };
                let router = prepared.router();
                let _ = ready_tx.send(Ok((addr, prepared.info.clone(), router)));
                cairn_server::serve(prepared, listener, async move {
                    let _ = stop_rx.await;
                })
                .await
            })
        });
        match ready_rx.recv()? {
            Ok((addr, info, router)) => Ok(TestServer {
                url: format!("http://{addr}"),
                data,
                info,
                router: Some(router),
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Err(msg) => {
                let _ = thread.join();
                Err(anyhow::anyhow!(msg))
            }
        }
    }

    /// Stops the server gracefully and returns how `serve` ended.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown()
    }

    /// Returns the status and body of GET `path` served in process, through the same state
    /// as the socket (which may have closed after a fatal error).
    pub fn in_process_get(&self, path: &str) -> (u16, Vec<u8>) {
        use tower::ServiceExt as _;
        let router = self.router.clone().unwrap();
        let req = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let resp = router.oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, body.to_vec())
        })
    }

    /// Waits for the server to stop by itself (after a fatal error) and returns how `serve`
    /// ended; `None` if it still runs after `timeout`.
    pub fn wait_stopped(&mut self, timeout: std::time::Duration) -> Option<anyhow::Result<()>> {
        let deadline = std::time::Instant::now() + timeout;
        while !self.thread.as_ref()?.is_finished() {
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.stop.take();
        let t = self.thread.take()?;
        Some(
            t.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("server thread panicked"))),
        )
    }

    fn shutdown(&mut self) -> anyhow::Result<()> {
        self.router = None;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| anyhow::anyhow!("server thread panicked"))?,
            None => Ok(()),
        }
    }

    /// Returns a blocking client for this server.
    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// A small blocking HTTP client for the log's API.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::blocking::Client,
}

/// A response: status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::blocking::Client::new(),
        }
    }

    fn reply(r: reqwest::blocking::Response) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Reply {
            status,
            headers,
            body: r.bytes().unwrap().to_vec(),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        Client::reply(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .unwrap(),
        )
    }

    pub fn post(&self, path: &str, body: Vec<u8>) -> Reply {
        Client::reply(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .unwrap(),
        )
    }

    /// POSTs a submission; `None` when the server cannot be reached (it was killed).
    pub fn try_submit(&self, body: Vec<u8>) -> Option<Reply> {
        self.http
            .post(format!("{}/api/v2/log/entries", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .ok()
            .and_then(|r| {
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                let body = r.bytes().ok()?.to_vec();
                Some(Reply {
                    status,
                    body,
                    headers,
                })
            })
    }

    /// Submits a Rekor v2 request body.
    pub fn submit(&self, body: Vec<u8>) -> Reply {
        self.post("/api/v2/log/entries", body)
    }

    /// Submits each `(what, body, status, needle)` case: each must get exactly `status`, say
    /// `needle` (case-insensitive), and leave the signed checkpoint as it was; the server must
    /// still be healthy after them all.
    pub fn assert_refused<W: std::fmt::Display>(&self, cases: Vec<(W, Vec<u8>, u16, &str)>) {
        let before = self.checkpoint();
        for (what, body, status, needle) in cases {
            let r = self.submit(body);
            assert_eq!(r.status, status, "{what}: {}", r.text());
            assert!(
                r.text().to_lowercase().contains(&needle.to_lowercase()),
                "{what}: {:?} does not say {needle:?}",
                r.text()
            );
            assert_eq!(self.checkpoint(), before, "{what} changed the log");
        }
        assert_eq!(self.get("/healthz").status, 200, "still serving");
    }

    /// Returns the current signed checkpoint's bytes.
    pub fn checkpoint(&self) -> Vec<u8> {
        let r = self.get("/api/v2/checkpoint");
        assert_eq!(r.status, 200);
        r.body
    }
}

/// Reads hash tiles over the tlog-tiles API, exactly as an outside client would.
impl TileReader for Client {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        tiles
            .iter()
            .map(|t| {
                let r = self.get(&format!("/api/v2/{}", t.path()));
                if r.status != 200 {
                    return Err(MerkleError::Storage(
                        format!("GET {}: {}", t.path(), r.status).into(),
                    ));
                }
                Ok(r.body)
            })
            .collect()
    }
}

/// Returns a fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
