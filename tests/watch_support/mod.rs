//! Helpers of the witness and monitor end-to-end tests (`witness.rs`, `monitor.rs`): real log
//! servers, a tampering proxy and a witness, each on 127.0.0.1:0 in its own runtime thread,
//! so the tests themselves stay plain synchronous code.

#![allow(dead_code)] // Each test file uses a different part of this module.

use cairn_entry::{HashedRekordRequest, SignerAlgorithm, SignerKeyPair};
use cairn_monitor::monitor::{MonitorConfig, WatchedKey};
use cairn_note::verifier_from_vkey;
use cairn_server::{RawConfig, StartInfo};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The origin of every test log, so two data directories can hold copies of one log.
pub const ORIGIN: &str = "cairn.test/log";

/// A thread running a future on its own runtime until told to stop.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs `make(listener, shutdown)` on a fresh runtime thread; returns once it listens.
pub fn run_server<F, Fut>(make: F) -> Running
where
    F: FnOnce(tokio::net::TcpListener, tokio::sync::oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    run_server_at("127.0.0.1:0", make)
}

/// As [`run_server`], on `addr` (to restart a server at the URL others were given).
fn run_server_at<F, Fut>(addr: &str, make: F) -> Running
where
    F: FnOnce(tokio::net::TcpListener, tokio::sync::oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let addr = addr.to_string();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
            ready_tx.send(listener.local_addr().unwrap()).unwrap();
            make(listener, stop_rx).await;
        });
    });
    let addr = ready_rx.recv().unwrap();
    Running {
        url: format!("http://{addr}"),
        stop: Some(stop_tx),
        thread: Some(thread),
    }
}

/// A Cairn log server on a data directory.
pub struct LogServer {
    /// What it said at start (its vkey).
    pub info: StartInfo,
    /// Its data directory.
    pub data: PathBuf,
    running: Running,
}

impl LogServer {
    /// Starts a log with the test origin on `data`.
    pub fn start(data: &Path) -> LogServer {
        LogServer::start_with(RawConfig {
            data: Some(data.to_path_buf()),
            public_url: Some(format!("http://{ORIGIN}")),
            ..RawConfig::default()
        })
    }

    /// Starts a log with `raw` (its data directory must be set).
    pub fn start_with(raw: RawConfig) -> LogServer {
        let data = raw.data.clone().unwrap();
        let (info_tx, info_rx) = std::sync::mpsc::channel();
        let running = run_server(move |listener, stop| async move {
            let prepared = cairn_server::prepare(&raw, listener.local_addr().unwrap()).unwrap();
            info_tx.send(prepared.info.clone()).unwrap();
            cairn_server::serve(prepared, listener, async move {
                let _ = stop.await;
            })
            .await
            .unwrap();
        });
        LogServer {
            info: info_rx.recv().unwrap(),
            data,
            running,
        }
    }

    /// Starts a second copy of the log in `data`: same key and origin, its own store.
    pub fn start_copy_of(&self, data: &Path) -> LogServer {
        std::fs::create_dir_all(data).unwrap();
        std::fs::copy(self.data.join("log.key"), data.join("log.key")).unwrap();
        LogServer::start(data)
    }

    /// Returns `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.running.url
    }

    /// Stops the server.
    pub fn stop(self) {
        self.running.stop();
    }
}

/// Returns a signed Rekor v2 request body for `data` under `key`.
pub fn request(key: &SignerKeyPair, data: &[u8]) -> Vec<u8> {
    let digest = key.algorithm().digest(data);
    HashedRekordRequest::sign(key, digest)
        .unwrap()
        .to_wire()
        .to_json()
}

/// Returns a fresh ECDSA P-256 or Ed25519ph signer key.
pub fn key(alg: SignerAlgorithm) -> SignerKeyPair {
    SignerKeyPair::generate(alg, &mut rand_core::OsRng)
}

/// Submits one request; returns its log index.
pub fn submit(http: &reqwest::blocking::Client, url: &str, body: &[u8]) -> u64 {
    let resp = http
        .post(format!("{url}/api/v2/log/entries"))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let v: serde_json::Value = resp.json().unwrap();
    match &v["logIndex"] {
        serde_json::Value::String(s) => s.parse().unwrap(),
        n => n.as_u64().unwrap(),
    }
}

/// Submits every request from `threads` threads; returns the log index of each, in order.
pub fn submit_all(url: &str, bodies: &[Vec<u8>], threads: usize) -> Vec<u64> {
    let http = reqwest::blocking::Client::new();
    let out = std::sync::Mutex::new(vec![0u64; bodies.len()]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(b) = bodies.get(i) else { break };
                let index = submit(&http, url, b);
                out.lock().unwrap()[i] = index;
            });
        }
    });
    out.into_inner().unwrap()
}

/// Returns the log's current signed checkpoint.
pub fn checkpoint(url: &str) -> Vec<u8> {
    reqwest::blocking::get(format!("{url}/api/v2/checkpoint"))
        .unwrap()
        .bytes()
        .unwrap()
        .to_vec()
}

/// A monitor configuration for the log at `url` with key `vkey`.
pub fn monitor_config(
    url: &str,
    vkey: &str,
    state: &Path,
    watched: Vec<WatchedKey>,
) -> MonitorConfig {
    MonitorConfig {
        tiles_prefix: format!("{url}/api/v2"),
        origin: ORIGIN.parse().unwrap(),
        verifiers: vec![verifier_from_vkey(vkey).unwrap()],
        state_dir: state.to_path_buf(),
        watched,
        progress: false,
        fetch_parallelism: 4,
        threads: 2,
    }
}

/// What the proxy does to a response: (path after the prefix, body) -> new body.
pub type Rewrite = Arc<dyn Fn(&str, Vec<u8>) -> Vec<u8> + Send + Sync>;

/// Starts a GET proxy to `upstream` that passes every response through `rewrite`.
pub fn start_proxy(upstream: &str, rewrite: Rewrite) -> Running {
    let upstream = upstream.to_string();
    run_server(move |listener, stop| async move {
        let http = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let http = http.clone();
            let upstream = upstream.clone();
            let rewrite = rewrite.clone();
            async move {
                let path = uri.path().to_string();
                let resp = http.get(format!("{upstream}{path}")).send().await.unwrap();
                let status = resp.status().as_u16();
                let body = resp.bytes().await.unwrap().to_vec();
                let rel = path.strip_prefix("/api/v2/").unwrap_or(&path).to_string();
                let body = if status == 200 {
                    rewrite(&rel, body)
                } else {
                    body
                };
                (axum::http::StatusCode::from_u16(status).unwrap(), body)
            }
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await
            .unwrap();
    })
}

/// Starts a witness server for `witness`.
pub fn start_witness(witness: Arc<cairn_monitor::witness::Witness>) -> Running {
    start_witness_at(witness, "127.0.0.1:0")
}

/// Starts a witness server for `witness` on `addr` (`host:port`).
pub fn start_witness_at(witness: Arc<cairn_monitor::witness::Witness>, addr: &str) -> Running {
    run_server_at(addr, move |listener, stop| async move {
        cairn_monitor::witness::config::serve(witness, listener, async move {
            let _ = stop.await;
        })
        .await
        .unwrap();
    })
}

/// Starts a webhook receiver; returns it and the bodies POSTed to it, in arrival order.
pub fn start_webhook() -> (Running, Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    let running = run_server(move |listener, stop| async move {
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body.to_vec());
                axum::http::StatusCode::NO_CONTENT
            }
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.await;
            })
            .await
            .unwrap();
    });
    (running, got)
}
