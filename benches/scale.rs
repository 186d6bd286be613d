//! Scale figures: builds a log directly through the sequencer into a redb store (no HTTP,
//! entries made in memory: the sequencer does not look inside bodies), and at each requested
//! size reports
//! - restart: a fresh child process opens the store and the sequencer (format check, state,
//!   right-edge tiles, root recomputed and compared: every start-up check `cairn serve` runs);
//!   its wall time and its peak resident memory (VmHWM); then the child appends `--append`
//!   entries in rounds of 64 and reports its resident memory (VmRSS): a sequencer's steady
//!   state at that size, without HTTP;
//! - the building process's resident memory (VmRSS, VmHWM);
//! - bytes on disk per entry against (entry + 64): the blocks the file holds (redb grows its
//!   file ahead of use with `set_len`, so the file's length overstates it), with the length
//!   and each table's share beside them.
//!
//! `cargo run --release -p cairn-bench --bin scale -- --sizes 100000,1000000,10000000`

use cairn_bench::{open_sequencer, pending_range, resident_memory, ENTRY_SIZE};
use cairn_log::RedbStore;
use clap::Parser;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Build a log to each size and report restart time, memory and bytes on disk.
#[derive(Parser, Debug)]
#[command(name = "scale")]
struct Args {
    /// Tree sizes to report at, ascending.
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    sizes: Vec<u64>,
    /// Entries per sequencing round.
    #[arg(long, default_value_t = 1024)]
    batch: u64,
    /// Directory for the database (default: a new temporary directory, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The database's page cache limit, MiB (as `cairn serve --cache-mib`).
    #[arg(long, default_value_t = cairn_log::DEFAULT_CACHE_BYTES >> 20)]
    cache_mib: usize,
    /// Print JSON lines instead of text.
    #[arg(long)]
    json: bool,
    /// After each restart, the child appends this many entries in rounds of 64 (a server's
    /// steady state at moderate load) and reports its resident memory after them.
    #[arg(long, default_value_t = 20_000)]
    append: u64,
    /// Internal: open the log in this database, print the restart figures, exit.
    #[arg(long, hide = true)]
    restart_only: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(db) = &args.restart_only {
        let t = Instant::now();
        let mut seq = open_sequencer(RedbStore::open_with_cache(db, args.cache_mib << 20)?);
        let seconds = t.elapsed().as_secs_f64();
        let (_, hwm) = resident_memory("self")?;
        let size = seq.published().size;
        let mut at = size;
        while at < size + args.append {
            let n = 64.min(size + args.append - at);
            seq.integrate(&pending_range(at, n))?;
            at += n;
        }
        let (rss, _) = resident_memory("self")?;
        println!("{size} {seconds} {hwm} {rss}");
        return Ok(());
    }
    anyhow::ensure!(
        args.batch > 0 && args.sizes.windows(2).all(|w| w[0] < w[1]),
        "--batch must be positive and --sizes ascending"
    );
    let tmp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let db = dir.join("log.redb");
    let mut seq = open_sequencer(RedbStore::open_with_cache(&db, args.cache_mib << 20)?);
    let started = Instant::now();
    for &target in &args.sizes {
        let mut size = seq.published().size;
        while size < target {
            let n = args.batch.min(target - size);
            seq.integrate(&pending_range(size, n))?;
            size += n;
        }
        let build_seconds = started.elapsed().as_secs_f64();
        let (rss, hwm) = resident_memory("self")?;
        let file = std::fs::metadata(&db)?;
        let disk = std::os::unix::fs::MetadataExt::blocks(&file) * 512;
        let per_entry = disk as f64 / size as f64;
        let length_per_entry = file.len() as f64 / size as f64;
        let space = seq.store().space()?;
        // redb allows one process per file: close it for the child, then reopen.
        drop(seq);
        let (restart_seconds, restart_hwm, append_rss) =
            restart(&db, size, args.cache_mib, args.append)?;
        // The child appended: the next size counts from the store's size.
        seq = open_sequencer(RedbStore::open_with_cache(&db, args.cache_mib << 20)?);
        let target_bytes = (ENTRY_SIZE + 64) as f64;
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "size": size, "entry_bytes": ENTRY_SIZE, "build_seconds": build_seconds,
                    "restart_seconds": restart_seconds, "restart_vmhwm_kib": restart_hwm,
                    "append": args.append, "vmrss_after_append_kib": append_rss,
                    "builder_vmrss_kib": rss, "builder_vmhwm_kib": hwm,
                    "disk_bytes": disk, "disk_bytes_per_entry": per_entry,
                    "file_length_bytes": file.len(),
                    "disk_ratio_to_entry_plus_64": per_entry / target_bytes,
                    "tables": space.iter().map(|t| serde_json::json!({
                        "name": t.name, "rows": t.rows, "stored_bytes": t.stored_bytes,
                        "metadata_bytes": t.metadata_bytes,
                        "fragmented_bytes": t.fragmented_bytes,
                    })).collect::<Vec<_>>(),
                })
            );
        } else {
            println!(
                "size {size}: built in {build_seconds:.1} s; restart {:.3} s (child peak RSS {} MiB, RSS {} MiB after {} more entries); \
                 builder RSS {} MiB (peak {} MiB); disk {:.1} bytes/entry = {:.2} x (entry {ENTRY_SIZE} + 64); \
                 file length {:.1} bytes/entry",
                restart_seconds,
                restart_hwm / 1024,
                append_rss / 1024,
                args.append,
                rss / 1024,
                hwm / 1024,
                per_entry,
                per_entry / target_bytes,
                length_per_entry
            );
            for t in &space {
                println!(
                    "  table {:8} rows {:>10}: stored {:>7.1} B/entry, metadata {:>6.1}, fragmented {:>6.1}",
                    t.name,
                    t.rows,
                    t.stored_bytes as f64 / size as f64,
                    t.metadata_bytes as f64 / size as f64,
                    t.fragmented_bytes as f64 / size as f64
                );
            }
        }
    }
    Ok(())
}

/// Opens the log in a fresh process (this binary with `--restart-only`), so the figures are
/// a start's own; returns its open time and peak resident memory (KiB).
fn restart(db: &Path, size: u64, cache_mib: usize, append: u64) -> anyhow::Result<(f64, u64, u64)> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg(format!("--cache-mib={cache_mib}"))
        .arg(format!("--append={append}"))
        .arg("--restart-only")
        .arg(db)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "restart failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    let f: Vec<&str> = text.split_whitespace().collect();
    anyhow::ensure!(f.len() == 4, "unexpected restart output {text:?}");
    anyhow::ensure!(
        f[0] == size.to_string(),
        "restarted at size {} not {size}",
        f[0]
    );
    Ok((f[1].parse()?, f[2].parse()?, f[3].parse()?))
}
