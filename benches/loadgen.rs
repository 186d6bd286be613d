//! The load generator: pre-signs real entries before the clock starts, then drives
//! `POST /api/v2/log/entries` with C concurrent keep-alive HTTP/1.1 clients, verifies a sample
//! of the answers (checkpoint signature, inclusion proof, SET), and prints accepted/errors,
//! throughput and latency percentiles.
//!
//! ```sh
//! cargo run --release -p cairn-bench --bin loadgen -- \
//!     --log http://127.0.0.1:3000 --entries 20000 --concurrency 64 --key-type p256 --bounds
//! ```
//!
//! `--rate R` switches to an open loop (R requests/s offered, latency from the due time);
//! `--bounds` adds this machine's bounds, measured in the same run (`bounds.rs`).

use anyhow::{bail, Context as _};
use cairn_entry::{
    set_payload, HashedRekordRequest, LogKey, SignerAlgorithm, SignerKeyPair, TransparencyLogEntry,
};
use cairn_merkle::{leaf_hash, verify_inclusion, Hash};
use cairn_note::{open_checkpoint, Ed25519Verifier, KeyName, NoteVerifier};
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod bounds;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum KeyType {
    P256,
    Ed25519,
}

/// Drive a Cairn log with pre-signed submissions and report throughput and latency.
#[derive(Parser, Debug)]
#[command(name = "loadgen")]
struct Args {
    /// The log's URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    log: String,
    /// How many submissions to send.
    #[arg(long, default_value_t = 10_000)]
    entries: usize,
    /// Concurrent clients (each one request at a time, on its own keep-alive connection).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Signer key type of the entries.
    #[arg(long, value_enum, default_value = "p256")]
    key_type: KeyType,
    /// Percentage of submissions that repeat an earlier one (dedup path).
    #[arg(long, default_value_t = 0)]
    duplicates: u8,
    /// How many answers to verify fully after the run.
    #[arg(long, default_value_t = 200)]
    verify_sample: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Open loop: offer this many requests per second (ignoring --concurrency) instead of
    /// keeping C requests in flight; latency counts from each request's due time.
    #[arg(long)]
    rate: Option<f64>,
    /// After the run, measure this machine's bounds in the same process: an empty axum
    /// handler over the same client stack (HTTP), single-core signature verification of
    /// these entries (submission) and raw SHA-256 (audit); print each with the run's ratio.
    #[arg(long)]
    bounds: bool,
    /// The server's process ID, to report its CPU time per entry (user + system, from
    /// /proc): a figure other processes on the machine disturb much less than wall time.
    #[arg(long)]
    server_pid: Option<u32>,
}

struct Outcome {
    latency: Histogram<u64>,
    created: usize,
    duplicate: usize,
    errors: std::collections::BTreeMap<String, usize>,
    sample: Vec<(usize, Vec<u8>)>,
}

impl Outcome {
    fn new() -> anyhow::Result<Outcome> {
        Ok(Outcome {
            latency: Histogram::new(3).map_err(|e| anyhow::anyhow!("{e}"))?,
            created: 0,
            duplicate: 0,
            errors: Default::default(),
            sample: Vec::new(),
        })
    }

    fn record(&mut self, i: usize, sample: bool, since: Instant, answer: (u16, Option<Vec<u8>>)) {
        let micros = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
        let _ = self.latency.record(micros.max(1));
        match answer {
            (status @ (200 | 201), Some(b)) => {
                if status == 201 {
                    self.created += 1;
                } else {
                    self.duplicate += 1;
                }
                if sample {
                    self.sample.push((i, b));
                }
            }
            (status, _) => *self.errors.entry(status.to_string()).or_default() += 1,
        }
    }

    fn merge(&mut self, o: Outcome) -> anyhow::Result<()> {
        self.latency
            .add(&o.latency)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        self.created += o.created;
        self.duplicate += o.duplicate;
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.sample.extend(o.sample);
        Ok(())
    }

    fn ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Sends one request; returns the status (0 for a transport error) and the body.
async fn post(client: &reqwest::Client, url: &str, body: &[u8]) -> (u16, Option<Vec<u8>>) {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await;
    match r {
        Ok(r) => {
            let status = r.status().as_u16();
            let bytes = r.bytes().await.map(|b| b.to_vec());
            (status, bytes.ok())
        }
        Err(e) => (0, Some(e.to_string().into_bytes())),
    }
}

/// Closed loop: `concurrency` clients, each sending its next request when the last answered.
async fn closed_loop(
    client: &reqwest::Client,
    url: &str,
    bodies: Arc<Vec<Vec<u8>>>,
    concurrency: usize,
    sample_every: usize,
) -> anyhow::Result<Outcome> {
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, next, bodies) = (
                client.clone(),
                url.to_string(),
                next.clone(),
                bodies.clone(),
            );
            tokio::spawn(async move {
                let mut out = Outcome::new()?;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let t = Instant::now();
                    let answer = post(&client, &url, body).await;
                    out.record(i, i % sample_every == 0, t, answer);
                }
                anyhow::Ok(out)
            })
        })
        .collect();
    let mut total = Outcome::new()?;
    for t in tasks {
        total.merge(t.await??)?;
    }
    Ok(total)
}

/// Open loop: request i is due at `i / rate` seconds, whether or not earlier ones answered,
/// and its latency counts from when it was due (no coordinated omission).
async fn open_loop(
    client: &reqwest::Client,
    url: &str,
    bodies: Arc<Vec<Vec<u8>>>,
    rate: f64,
    sample_every: usize,
) -> anyhow::Result<Outcome> {
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(bodies.len());
    for i in 0..bodies.len() {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        let (client, url, bodies) = (client.clone(), url.to_string(), bodies.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::new()?;
            let answer = post(&client, &url, &bodies[i]).await;
            out.record(i, i % sample_every == 0, due.into_std(), answer);
            anyhow::Ok(out)
        }));
    }
    let mut total = Outcome::new()?;
    for t in tasks {
        total.merge(t.await??)?;
    }
    Ok(total)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.entries == 0 || args.concurrency == 0 || args.duplicates > 100 {
        bail!("--entries and --concurrency must be at least 1, --duplicates at most 100");
    }
    if args.rate.is_some_and(|r| r.is_nan() || r <= 0.0) {
        bail!("--rate must be positive");
    }
    let base = args.log.trim_end_matches('/').to_string();
    let alg = match args.key_type {
        KeyType::P256 => SignerAlgorithm::EcdsaP256Sha256,
        KeyType::Ed25519 => SignerAlgorithm::Ed25519Ph,
    };

    // Pre-sign everything before the clock starts: the run measures the log, not the client.
    let key = SignerKeyPair::generate(alg, &mut rand_core::OsRng);
    let nonce: u64 = {
        use rand_core::RngCore as _;
        rand_core::OsRng.next_u64()
    };
    let unique = args.entries - args.entries * usize::from(args.duplicates) / 100;
    let mut requests: Vec<HashedRekordRequest> = Vec::with_capacity(args.entries);
    for i in 0..args.entries {
        let n = if i < unique { i } else { i % unique.max(1) };
        if n < requests.len() && i >= unique {
            requests.push(requests[n].clone());
            continue;
        }
        let artifact = format!("cairn loadgen {nonce} {n}");
        requests.push(HashedRekordRequest::sign(
            &key,
            alg.digest(artifact.as_bytes()),
        )?);
    }
    let bodies: Arc<Vec<Vec<u8>>> =
        Arc::new(requests.iter().map(|r| r.to_wire().to_json()).collect());
    eprintln!(
        "loadgen: {} requests signed; sending {}",
        bodies.len(),
        match args.rate {
            Some(r) => format!("at {r} requests/s (open loop)"),
            None => format!("with {} clients", args.concurrency),
        }
    );

    let client = client(args.concurrency)?;
    let url = format!("{base}/api/v2/log/entries");
    let sample_every = (args.entries / args.verify_sample.max(1)).max(1);
    let cpu_before = (cpu_seconds("self")?, server_cpu(args.server_pid)?);
    let started = Instant::now();
    let total = match args.rate {
        Some(rate) => open_loop(&client, &url, bodies.clone(), rate, sample_every).await?,
        None => {
            closed_loop(
                &client,
                &url,
                bodies.clone(),
                args.concurrency,
                sample_every,
            )
            .await?
        }
    };
    let elapsed = started.elapsed();
    let n = args.entries as f64;
    let loadgen_cpu_us = (cpu_seconds("self")? - cpu_before.0) / n * 1e6;
    let server_cpu_us = match (server_cpu(args.server_pid)?, cpu_before.1) {
        (Some(after), Some(before)) => Some((after - before) / n * 1e6),
        _ => None,
    };
    let server_memory = match args.server_pid {
        Some(pid) => Some(cairn_bench::resident_memory(&pid.to_string())?),
        None => None,
    };

    let verified = verify_sample(&client, &base, &requests, &total.sample).await?;
    let accepted = total.created + total.duplicate;
    let rate = accepted as f64 / elapsed.as_secs_f64();
    let bounds = if args.bounds {
        Some(bounds::measure(&requests, &bodies, args.concurrency).await?)
    } else {
        None
    };
    if args.json {
        let mut v = serde_json::json!({
            "entries": args.entries, "concurrency": args.concurrency,
            "open_loop_rate": args.rate,
            "key_type": format!("{:?}", args.key_type).to_lowercase(),
            "created": total.created, "duplicate": total.duplicate, "errors": total.errors,
            "seconds": elapsed.as_secs_f64(), "entries_per_second": rate,
            "latency_ms": {"p50": total.ms(0.5), "p90": total.ms(0.9), "p99": total.ms(0.99),
                           "max": total.latency.max() as f64 / 1000.0},
            "verified_sample": verified,
            "cpu_us_per_entry": {"loadgen": loadgen_cpu_us, "server": server_cpu_us},
            "server_memory_kib": server_memory.map(|(rss, hwm)| serde_json::json!({"rss": rss, "peak": hwm})),
        });
        if let Some(b) = &bounds {
            v["bounds"] = b.to_json(rate);
        }
        println!("{v}");
    } else {
        println!(
            "sent {} in {:.2} s: {} created, {} duplicate, errors {:?}",
            args.entries,
            elapsed.as_secs_f64(),
            total.created,
            total.duplicate,
            total.errors
        );
        match args.rate {
            Some(r) => println!("throughput {rate:.0} entries/s, offered {r:.0}/s (open loop)"),
            None => println!(
                "throughput {rate:.0} entries/s with {} clients",
                args.concurrency
            ),
        }
        println!(
            "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            total.ms(0.5),
            total.ms(0.9),
            total.ms(0.99),
            total.latency.max() as f64 / 1000.0
        );
        println!(
            "verified {verified} sampled answers (checkpoint signature, inclusion proof, SET)"
        );
        match server_cpu_us {
            Some(s) => println!(
                "CPU per entry: server {s:.1} us, loadgen {loadgen_cpu_us:.1} us (user + system)"
            ),
            None => println!("CPU per entry: loadgen {loadgen_cpu_us:.1} us (user + system)"),
        }
        if let Some((rss, hwm)) = server_memory {
            println!(
                "server resident memory {} MiB (peak {} MiB)",
                rss / 1024,
                hwm / 1024
            );
        }
        if let Some(b) = &bounds {
            b.print(rate);
        }
    }
    if !total.errors.is_empty() {
        std::process::exit(2);
    }
    Ok(())
}

/// Returns the user + system CPU seconds of process `pid` ("self" or a number), all threads.
fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("unexpected /proc stat format")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).context("no utime")?.parse::<f64>()?
        + f.get(12).context("no stime")?.parse::<f64>()?;
    // USER_HZ is 100 on every Linux ABI we run on.
    Ok(ticks / 100.0)
}

fn server_cpu(pid: Option<u32>) -> anyhow::Result<Option<f64>> {
    pid.map(|p| cpu_seconds(&p.to_string())).transpose()
}

/// The HTTP client every run uses (the log's and the bound's).
fn client(concurrency: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Verifies the sampled answers fully, with the log key from its trusted root.
async fn verify_sample(
    client: &reqwest::Client,
    base: &str,
    requests: &[HashedRekordRequest],
    sample: &[(usize, Vec<u8>)],
) -> anyhow::Result<usize> {
    let root: serde_json::Value = client
        .get(format!("{base}/api/v2/trustedRoot"))
        .send()
        .await?
        .json()
        .await?;
    let tlog = &root["tlogs"][0];
    let origin = tlog["baseUrl"]
        .as_str()
        .and_then(|u| u.split_once("://").map(|(_, o)| o.to_string()))
        .context("trusted root without baseUrl")?;
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD.decode(
        tlog["publicKey"]["rawBytes"]
            .as_str()
            .context("no log key")?,
    )?;
    let name: KeyName = origin.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let verifier = Ed25519Verifier::from_spki_der(name, &der)?;
    let log_id = verifier.log_id();
    let verifiers: [&dyn NoteVerifier; 1] = [&verifier];
    for (i, body) in sample {
        let tle: TransparencyLogEntry = serde_json::from_slice(body)?;
        let canonical = requests[*i].to_body().to_canonical_bytes();
        anyhow::ensure!(
            tle.canonicalized_body == canonical,
            "answer {i}: another body"
        );
        let proof = tle.inclusion_proof.as_ref().context("no inclusion proof")?;
        let envelope = proof
            .checkpoint
            .as_ref()
            .context("no checkpoint")?
            .envelope
            .as_bytes();
        let (cp, _) = open_checkpoint(envelope, &verifiers, None)?;
        let hashes: Vec<Hash> = proof
            .hashes
            .iter()
            .filter_map(|h| Hash::from_slice(h))
            .collect();
        let index = u64::try_from(tle.log_index)?;
        verify_inclusion(index, cp.size, &leaf_hash(&canonical), &hashes, &cp.root)?;
        let set = &tle
            .inclusion_promise
            .as_ref()
            .context("no SET")?
            .signed_entry_timestamp;
        LogKey::ed25519(*verifier.verifying_key()).verify_set(
            &set_payload(&canonical, tle.integrated_time, &log_id, index),
            set,
        )?;
    }
    Ok(sample.len())
}
