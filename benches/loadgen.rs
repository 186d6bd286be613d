//! The load generator: pre-signs real entries before the clock starts, then drives
//! `POST /api/v2/log/entries` with C concurrent keep-alive HTTP/1.1 clients, verifies a sample
//! of the answers (checkpoint signature, inclusion proof, SET), and prints accepted/errors,
//! throughput and latency percentiles.
//!
//! ```sh
//! cargo run --release -p cairn-bench --bin loadgen -- \
//!     --log http://127.0.0.1:3000 --entries 20000 --concurrency 64 --key-type p256
//! ```

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
}

struct Outcome {
    latency: Histogram<u64>,
    created: usize,
    duplicate: usize,
    errors: std::collections::BTreeMap<String, usize>,
    sample: Vec<(usize, Vec<u8>)>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.entries == 0 || args.concurrency == 0 || args.duplicates > 100 {
        bail!("--entries and --concurrency must be at least 1, --duplicates at most 100");
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
        "loadgen: {} requests signed; sending with {} clients",
        bodies.len(),
        args.concurrency
    );

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(60))
        .build()?;
    let url = format!("{base}/api/v2/log/entries");
    let next = Arc::new(AtomicUsize::new(0));
    let sample_every = (args.entries / args.verify_sample.max(1)).max(1);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, url, next, bodies) =
                (client.clone(), url.clone(), next.clone(), bodies.clone());
            tokio::spawn(async move {
                let mut out = Outcome {
                    latency: Histogram::new(3).map_err(|e| anyhow::anyhow!("{e}"))?,
                    created: 0,
                    duplicate: 0,
                    errors: Default::default(),
                    sample: Vec::new(),
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let t = Instant::now();
                    let r = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    let outcome = match r {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let bytes = r.bytes().await.map(|b| b.to_vec());
                            (status, bytes.ok())
                        }
                        Err(e) => (0, Some(e.to_string().into_bytes())),
                    };
                    let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                    let _ = out.latency.record(micros.max(1));
                    match outcome {
                        (201, Some(b)) | (200, Some(b)) => {
                            if outcome.0 == 201 {
                                out.created += 1;
                            } else {
                                out.duplicate += 1;
                            }
                            if i % sample_every == 0 {
                                out.sample.push((i, b));
                            }
                        }
                        (status, _) => *out.errors.entry(status.to_string()).or_default() += 1,
                    }
                }
                anyhow::Ok(out)
            })
        })
        .collect();
    let mut total = Outcome {
        latency: Histogram::new(3).map_err(|e| anyhow::anyhow!("{e}"))?,
        created: 0,
        duplicate: 0,
        errors: Default::default(),
        sample: Vec::new(),
    };
    for t in tasks {
        let o = t.await??;
        total
            .latency
            .add(&o.latency)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        total.created += o.created;
        total.duplicate += o.duplicate;
        for (k, v) in o.errors {
            *total.errors.entry(k).or_default() += v;
        }
        total.sample.extend(o.sample);
    }
    let elapsed = started.elapsed();

    let verified = verify_sample(&client, &base, &requests, &total.sample).await?;
    let accepted = total.created + total.duplicate;
    let rate = accepted as f64 / elapsed.as_secs_f64();
    let ms = |q: f64| total.latency.value_at_quantile(q) as f64 / 1000.0;
    if args.json {
        let v = serde_json::json!({
            "entries": args.entries, "concurrency": args.concurrency,
            "key_type": format!("{:?}", args.key_type).to_lowercase(),
            "created": total.created, "duplicate": total.duplicate, "errors": total.errors,
            "seconds": elapsed.as_secs_f64(), "entries_per_second": rate,
            "latency_ms": {"p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99),
                           "max": total.latency.max() as f64 / 1000.0},
            "verified_sample": verified,
        });
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
        println!(
            "throughput {rate:.0} entries/s with {} clients",
            args.concurrency
        );
        println!(
            "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            ms(0.5),
            ms(0.9),
            ms(0.99),
            total.latency.max() as f64 / 1000.0
        );
        println!(
            "verified {verified} sampled answers (checkpoint signature, inclusion proof, SET)"
        );
    }
    if !total.errors.is_empty() {
        std::process::exit(2);
    }
    Ok(())
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
