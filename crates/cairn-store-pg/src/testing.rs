//! Throwaway servers for tests: [`database`] returns the URL of a fresh, empty PostgreSQL
//! database; [`s3_server`] starts an S3-compatible server (moto) whose buckets tests fill.
//!
//! With `CAIRN_TEST_PG_URL` set, databases are created on that server (the role needs
//! `CREATEDB`). Otherwise the first call starts one cluster for the whole test process:
//! `initdb` into a temporary directory and `postgres` on a free loopback port, run as the
//! `postgres` user when the tests run as root (initdb refuses root). A watchdog process stops
//! the cluster and removes its directory when the test process exits, however it exits.
//!
//! Binaries are looked up in `CAIRN_PG_BIN`, then `PATH`, then Debian's
//! `/usr/lib/postgresql/<version>/bin`. Without them, [`database`] prints a loud SKIPPED line
//! and returns `None`; with `CAIRN_REQUIRE_PG=1` (as in CI) it panics instead.

// A harness failure is a test failure: panicking with the reason is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod s3;

pub use s3::{s3_server, S3Bucket, S3Server};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Where tests find PostgreSQL: a connection string without a database name.
#[derive(Debug)]
struct Server {
    base: String,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static NEXT: AtomicU64 = AtomicU64::new(0);

/// Returns the connection string of a new, empty database, or `None` (after printing
/// `SKIPPED`) when no PostgreSQL is available and `CAIRN_REQUIRE_PG` is not `1`.
///
/// # Panics
/// When PostgreSQL is required but unavailable, or a database cannot be created.
pub fn database(test: &str) -> Option<String> {
    let server = match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(why) => {
            if std::env::var("CAIRN_REQUIRE_PG").as_deref() == Ok("1") {
                panic!("CAIRN_REQUIRE_PG=1 but PostgreSQL is unavailable: {why}");
            }
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED {test}: PostgreSQL is unavailable ({why}); install it (Debian \
                 package postgresql) or set CAIRN_TEST_PG_URL; CAIRN_REQUIRE_PG=1 makes this \
                 a failure ***\n"
            );
            return None;
        }
    };
    let name = format!(
        "cairn_t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let admin = with_dbname(&server.base, "postgres");
    let sql = format!("CREATE DATABASE {name}");
    // On its own thread: the caller may be inside a tokio runtime, where block_on panics.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL: {e}"));
            tokio::spawn(conn);
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        });
    })
    .join()
    .unwrap();
    Some(with_dbname(&server.base, &name))
}

/// Returns `base` naming database `db` (URL or key=value form).
fn with_dbname(base: &str, db: &str) -> String {
    if base.starts_with("postgres://") || base.starts_with("postgresql://") {
        let mut url = url::Url::parse(base).unwrap();
        url.set_path(&format!("/{db}"));
        url.to_string()
    } else {
        format!("{base} dbname={db}")
    }
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("CAIRN_TEST_PG_URL") {
        return Ok(Server { base: url });
    }
    let bin = find_bin().ok_or("no initdb in CAIRN_PG_BIN, PATH or /usr/lib/postgresql")?;
    let as_root = is_root();
    if as_root && !Path::new("/usr/sbin/runuser").exists() {
        return Err("running as root without runuser to drop to the postgres user".into());
    }
    let run = |args: &[&str]| -> Command {
        let mut c;
        if as_root {
            c = Command::new("/usr/sbin/runuser");
            c.args(["-u", "postgres", "--"]);
            c.args(args);
        } else {
            c = Command::new(args[0]);
            c.args(&args[1..]);
        }
        c.stdin(Stdio::null());
        c
    };
    let out = run(&["mktemp", "-d", "/tmp/cairn-pg-XXXXXX"])
        .output()
        .map_err(|e| format!("mktemp: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mktemp as the postgres user: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let initdb = bin.join("initdb");
    let pg_ctl = bin.join("pg_ctl");
    let (initdb, pg_ctl) = (initdb.to_str().unwrap(), pg_ctl.to_str().unwrap());
    let data = format!("{dir}/data");
    let out = run(&[
        initdb,
        "-D",
        &data,
        "-U",
        "cairn",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    ])
    .output()
    .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!("initdb: {}", String::from_utf8_lossy(&out.stderr)));
    }
    // Stop the cluster when this process is gone, whichever way it goes. /proc rather than
    // `kill -0`: the postgres user may not signal a root process.
    let watchdog = format!(
        "while [ -d /proc/{pid} ]; do sleep 1; done; {pg_ctl} -D {data} stop -m immediate; rm -rf {dir}",
        pid = std::process::id()
    );
    run(&["sh", "-c", &watchdog])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("watchdog: {e}"))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free port: {e}"))?
        .port();
    let opts = format!("-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c max_connections=200");
    let log = format!("{dir}/log");
    let out = run(&[pg_ctl, "-D", &data, "-l", &log, "-w", "-o", &opts, "start"])
        .output()
        .map_err(|e| format!("pg_ctl: {e}"))?;
    if !out.status.success() {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!(
            "pg_ctl start: {}{log}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(Server {
        base: format!("postgres://cairn@127.0.0.1:{port}"),
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn find_bin() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Ok(d) = std::env::var("CAIRN_PG_BIN") {
        return Some(PathBuf::from(d)).filter(|d| has(d));
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(d) = std::env::split_paths(&path).find(|d| has(d)) {
            return Some(d);
        }
    }
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| has(d))
        .collect();
    debian.sort();
    debian.pop()
}
