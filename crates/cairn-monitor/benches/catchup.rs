//! Monitor catch-up benchmark: how many entries per second a fresh monitor audits (fetch every
//! bundle and tile over HTTP, hash every entry, recompute every tile, verify every entry's
//! signature) on a local log of `CAIRN_BENCH_ENTRIES` entries (default 1,000,000), next to the
//! raw SHA-256 rate of this machine over the same entries.
//!
//! The log is built directly with the sequencer over a redb store (signing a million entries
//! takes a while, so it is kept in `$CAIRN_BENCH_DIR`, default `/tmp/cairn-monitor-catchup-N`,
//! and reused) and served by `cairn_server` on 127.0.0.1:0 in this process: the server, the
//! monitor and the HTTP stack share the machine's cores.
//!
//! Run: `cargo bench -p cairn-monitor --bench catchup` (figures in docs/performance.md).

// A benchmark program: a failure is a crash with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use cairn_entry::{HashedRekordRequest, SignerAlgorithm, SignerKeyPair};
use cairn_log::{Clock, LogMeta, PendingEntry, RedbStore, Sequencer};
use cairn_merkle::leaf_hash;
use cairn_monitor::monitor::{Alert, Monitor, MonitorConfig, Outcome, WatchedKey};
use cairn_note::{verifier_from_vkey, Ed25519Signer};
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use std::path::Path;
use std::time::Instant;

const ORIGIN: &str = "cairn.test/log";

struct FixedClock;
impl Clock for FixedClock {
    fn unix_seconds(&self) -> u64 {
        1_700_000_000
    }
}

/// Signs `n` distinct entries with 64 ECDSA P-256 keys, on every core.
fn make_bodies(start: u64, n: u64, keys: &[SignerKeyPair]) -> Vec<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let lo = start + t * per;
                    let hi = (lo + per).min(start + n);
                    (lo..hi)
                        .map(|i| {
                            let k = &keys[(i % keys.len() as u64) as usize];
                            let digest = k.algorithm().digest(&i.to_be_bytes());
                            HashedRekordRequest::sign(k, digest)
                                .unwrap()
                                .to_body()
                                .to_canonical_bytes()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// Builds (or reuses) a log of `n` entries in `dir`; returns the watched key's PEM.
fn build_log(dir: &Path, n: u64) -> String {
    let done = dir.join("complete");
    let keys: Vec<SignerKeyPair> = (0..64u8)
        .map(|i| {
            let mut rng = Seeded(u64::from(i) + 1);
            SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng)
        })
        .collect();
    let watched_pem = keys[7].signer_key().unwrap().to_spki_pem();
    if done.exists() {
        eprintln!("reusing the log in {}", dir.display());
        return watched_pem;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let key = SigningKey::from_bytes(&[42; 32]);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.join("log.key"))
            .unwrap();
        f.write_all(pem.as_bytes()).unwrap();
    }
    let signer = Ed25519Signer::new(ORIGIN.parse().unwrap(), key);
    let meta = LogMeta {
        origin: ORIGIN.into(),
        vkey: signer.vkey(),
        created: 1_700_000_000,
    };
    let store = RedbStore::open(&dir.join("log.redb")).unwrap();
    let mut seq = Sequencer::open(
        store,
        &meta,
        ORIGIN.parse().unwrap(),
        Box::new(signer),
        Box::new(FixedClock),
    )
    .unwrap();
    let started = Instant::now();
    let step = 32_768;
    let mut i = 0;
    while i < n {
        let m = step.min(n - i);
        let bodies = make_bodies(i, m, &keys);
        for batch in bodies.chunks(4096) {
            let pending: Vec<PendingEntry> = batch
                .iter()
                .map(|b| PendingEntry {
                    leaf_hash: leaf_hash(b),
                    body: b.clone(),
                })
                .collect();
            seq.integrate(&pending).unwrap();
        }
        i += m;
        eprintln!(
            "built {i}/{n} entries ({:.0}s)",
            started.elapsed().as_secs_f64()
        );
    }
    std::fs::write(&done, b"").unwrap();
    watched_pem
}

/// A deterministic RNG so the keys (and the watched key) are the same on every run.
struct Seeded(u64);
impl rand_core::RngCore for Seeded {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rand_core::CryptoRng for Seeded {}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run small.
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|a| a == "--bench");
    let n: u64 = std::env::var("CAIRN_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 1_000_000 } else { 2_000 });
    let dir = std::env::var("CAIRN_BENCH_DIR").map_or_else(
        |_| std::env::temp_dir().join(format!("cairn-monitor-catchup-{n}")),
        std::path::PathBuf::from,
    );
    let watched_pem = build_log(&dir, n);
    // Raw SHA-256 over the same entries, one core, before the server holds the store; and
    // the rate of parsing and verifying entries alone, one core.
    let (hash_rate, mib_rate) = sha256_rate(&dir, n);
    let check_rate = check_rate(&dir, n.min(20_000));

    // Serve it.
    let raw = cairn_server::RawConfig {
        data: Some(dir.clone()),
        public_url: Some(format!("http://{ORIGIN}")),
        ..cairn_server::RawConfig::default()
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let prepared = cairn_server::prepare(&raw, addr).unwrap();
            tx.send((addr, prepared.info.vkey.clone())).unwrap();
            cairn_server::serve(prepared, listener, async move {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
        });
    });
    let (addr, vkey) = rx.recv().unwrap();

    let state = tempfile::tempdir().unwrap();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = MonitorConfig {
        tiles_prefix: format!("http://{addr}/api/v2"),
        origin: ORIGIN.parse().unwrap(),
        verifiers: vec![verifier_from_vkey(&vkey).unwrap()],
        state_dir: state.path().to_path_buf(),
        watched: vec![WatchedKey::from_pem("bench.pub", &watched_pem).unwrap()],
        progress: true,
        fetch_parallelism: 8,
        threads,
    };
    let mut monitor = Monitor::open(config).unwrap();
    let mut alerts: Vec<Alert> = Vec::new();
    let started = Instant::now();
    let report = monitor.round(&mut alerts).unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.outcome, Outcome::Grew { from: 0, to: n });
    assert_eq!(alerts.len() as u64, n / 64 + u64::from(n % 64 > 7));
    let rate = n as f64 / secs;
    println!("## Monitor catch-up ({n} entries, {threads} cores)");
    println!("| measure | figure |");
    println!("|---|---|");
    println!("| full audit, fresh monitor (fetch + hash + tiles + every signature) | {rate:.0} entries/s ({secs:.1} s) |");
    println!("| raw SHA-256, one core, leaf + one node hash per entry | {hash_rate:.0} entries/s ({mib_rate:.0} MiB/s) |");
    println!(
        "| parse + verify every entry alone, one core (no I/O, no hashing) | {check_rate:.0} entries/s |"
    );
    println!(
        "| ratio | {:.1}x slower than raw hashing |",
        hash_rate / rate
    );
    println!("| alerts (one watched key of 64) | {} |", alerts.len());
    let _ = stop_tx.send(());
    server.join().unwrap();
}

/// Returns entries/s and MiB/s of hashing every entry as the audit must (a leaf hash, and
/// one interior node hash per entry: a tree of n leaves has n - 1 of them), on one core.
fn sha256_rate(dir: &Path, n: u64) -> (f64, f64) {
    use cairn_log::LogStore as _;
    let store = RedbStore::open(&dir.join("log.redb")).unwrap();
    let mut hashing = std::time::Duration::ZERO;
    let mut acc = cairn_merkle::empty_root();
    let mut bytes = 0usize;
    let mut i = 0;
    while i < n {
        let entries = store.read_entries(i, (i + 65_536).min(n)).unwrap();
        let started = Instant::now();
        for e in &entries {
            let l = leaf_hash(&e.body);
            acc = cairn_merkle::node_hash(&acc, &l);
            bytes += e.body.len() + 1 + 65;
        }
        hashing += started.elapsed();
        i += entries.len() as u64;
    }
    std::hint::black_box(acc);
    let secs = hashing.as_secs_f64();
    (n as f64 / secs, bytes as f64 / secs / f64::from(1 << 20))
}

/// Returns entries/s of parsing and verifying entries (`EntryChecker::check`) on one core.
fn check_rate(dir: &Path, n: u64) -> f64 {
    use cairn_log::LogStore as _;
    let store = RedbStore::open(&dir.join("log.redb")).unwrap();
    let entries = store.read_entries(0, n).unwrap();
    let watched = std::collections::HashMap::new();
    let mut checker = cairn_monitor::monitor::EntryChecker::new(&watched);
    let started = Instant::now();
    for (i, e) in entries.iter().enumerate() {
        checker.check(i as u64, &e.body).unwrap();
    }
    entries.len() as f64 / started.elapsed().as_secs_f64()
}
