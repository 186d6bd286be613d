//! A full disk and a read-only data directory under the real `cairn serve` binary.
//!
//! Tests may run as root, for whom file modes mean nothing, so the data directory sits on a
//! small tmpfs mounted in a user and mount namespace of its own (`unshare -Urm`): a filler file
//! fills it, `mount -o remount,ro` makes it read-only, and servers run inside the namespace
//! through `nsenter`. Where namespaces are not available the tests say so loudly on stderr and
//! pass; `CAIRN_REQUIRE_NAMESPACES=1` (set in CI) turns that skip into a failure.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_e2e::Client;
use cairn_entry::{HashedRekordRequest, SignerAlgorithm, SignerKeyPair, TransparencyLogEntry};
use cairn_merkle::tiles::TileHashReader;
use cairn_merkle::{consistency_proof, tree_hash, verify_consistency};
use cairn_note::{open_checkpoint, Checkpoint, Ed25519Verifier, NoteVerifier};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A mount namespace, kept alive by a sleeping process, with a tmpfs on `mnt`.
struct Namespace {
    holder: Child,
    mnt: PathBuf,
    _dir: tempfile::TempDir,
}

impl Namespace {
    /// Returns a namespace with a tmpfs of `size` (as `mount -o size=`), or `None` after
    /// saying loudly why it cannot (or failing, if CAIRN_REQUIRE_NAMESPACES=1).
    fn new(test: &str, size: &str) -> Option<Namespace> {
        let dir = tempfile::tempdir().unwrap();
        let mnt = dir.path().to_path_buf();
        let script = format!(
            "mount -t tmpfs -o size={size},mode=0755 cairn-test {} && echo ready && exec sleep 600",
            mnt.display()
        );
        let spawned = Command::new("unshare")
            .args(["-Urm", "--propagation", "private", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let why = match spawned {
            Ok(mut holder) => {
                let mut line = String::new();
                let mut out = BufReader::new(holder.stdout.take().unwrap());
                let _ = out.read_line(&mut line);
                if line.trim() == "ready" {
                    return Some(Namespace {
                        holder,
                        mnt,
                        _dir: dir,
                    });
                }
                let _ = holder.kill();
                let mut err = String::new();
                let _ = holder.stderr.take().unwrap().read_to_string(&mut err);
                let _ = holder.wait();
                format!("unshare/mount failed: {}", err.trim())
            }
            Err(e) => format!("cannot run unshare: {e}"),
        };
        if std::env::var("CAIRN_REQUIRE_NAMESPACES").as_deref() == Ok("1") {
            panic!("{test}: CAIRN_REQUIRE_NAMESPACES=1 but {why}");
        }
        eprintln!("\n*** SKIPPED {test}: no user+mount namespace with a tmpfs here ({why}) ***\n");
        None
    }

    /// Returns a command that runs `program` inside the namespace.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.args([
            "-t",
            &self.holder.id().to_string(),
            "-U",
            "-m",
            "--preserve-credentials",
            "--",
        ])
        .arg(program);
        c
    }

    /// Runs a shell line inside the namespace; returns whether it succeeded.
    fn sh(&self, line: &str) -> bool {
        self.command("sh")
            .args(["-c", line])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    fn data(&self) -> PathBuf {
        self.mnt.join("data")
    }

    /// Fills the tmpfs to the last byte.
    fn fill(&self) {
        // head fails with ENOSPC once the file system is full: that is the point.
        self.sh(&format!(
            "head -c 1G /dev/zero > {}/filler",
            self.mnt.display()
        ));
        assert!(
            !self.sh(&format!("echo x > {}/probe", self.mnt.display())),
            "the tmpfs is not full"
        );
    }

    fn unfill(&self) {
        assert!(self.sh(&format!("rm {}/filler", self.mnt.display())));
    }

    fn remount(&self, mode: &str) {
        assert!(
            self.sh(&format!("mount -o remount,{mode} {}", self.mnt.display())),
            "remount {mode}"
        );
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

struct Server {
    child: Child,
    client: Client,
    vkey: String,
    stderr: std::thread::JoinHandle<String>,
}

/// How a server that did not start, or that stopped, ended.
struct Ended {
    status: ExitStatus,
    stderr: String,
}

/// Starts `cairn serve` on `data` inside `ns`, or returns how it ended before it was ready.
fn start(ns: &Namespace, data: &Path) -> Result<Server, Ended> {
    let mut child = ns
        .command(env!("CARGO_BIN_EXE_cairn"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://disk.test/log",
        ])
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut vkey) = (None, None);
    while url.is_none() || vkey.is_none() {
        let Some(Ok(line)) = lines.next() else {
            let status = child.wait().unwrap();
            return Err(Ended {
                status,
                stderr: stderr.join().unwrap(),
            });
        };
        if let Some(a) = line.strip_prefix("cairn: listening on ") {
            url = Some(format!("http://{a}"));
        }
        if let Some(v) = line.strip_prefix("cairn: log verifier key ") {
            vkey = Some(v.to_string());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Ok(Server {
        child,
        client: Client::new(&url.unwrap()),
        vkey: vkey.unwrap(),
        stderr,
    })
}

impl Server {
    /// Waits for the server to exit by itself.
    fn wait_exit(mut self) -> Ended {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Ended {
                    status,
                    stderr: self.stderr.join().unwrap(),
                };
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server with SIGTERM (a graceful shutdown).
    fn stop(self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let ended = self.wait_exit();
        assert!(ended.status.success(), "{}", ended.stderr);
    }
}

/// An acknowledged submission: the request, its index, the checkpoint it came with.
struct Ack {
    request: Vec<u8>,
    index: u64,
    checkpoint: Vec<u8>,
}

struct Submitter {
    kp: SignerKeyPair,
    next: u64,
}

impl Submitter {
    fn new() -> Submitter {
        Submitter {
            kp: SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rand_core::OsRng),
            next: 0,
        }
    }

    /// Submits one new entry; returns the status (0 if the server is gone) and the ack.
    fn submit(&mut self, client: &Client) -> (u16, Option<Ack>) {
        self.next += 1;
        let digest = self.kp.algorithm().digest(&self.next.to_be_bytes());
        let request = HashedRekordRequest::sign(&self.kp, digest)
            .unwrap()
            .to_wire()
            .to_json();
        let Some(r) = client.try_submit(request.clone()) else {
            return (0, None);
        };
        if r.status != 201 {
            return (r.status, None);
        }
        let tle: TransparencyLogEntry = serde_json::from_slice(&r.body).unwrap();
        let proof = tle.inclusion_proof.unwrap();
        let ack = Ack {
            request,
            index: u64::try_from(tle.log_index).unwrap(),
            checkpoint: proof.checkpoint.unwrap().envelope.into_bytes(),
        };
        (r.status, Some(ack))
    }
}

fn open(vkey: &str, note: &[u8]) -> Checkpoint {
    let v = Ed25519Verifier::from_vkey(vkey).unwrap();
    let vs: [&dyn NoteVerifier; 1] = [&v];
    open_checkpoint(note, &vs, None).unwrap().0
}

/// Every acknowledged entry is at its index (its resubmission is a duplicate there), the
/// tiles hash to the signed root, and every acknowledged checkpoint is consistent with it.
fn assert_kept(server: &Server, acks: &[Ack]) -> Checkpoint {
    let client = &server.client;
    let now = open(&server.vkey, &client.checkpoint());
    let reader = TileHashReader::new(now.size, client.clone());
    assert_eq!(tree_hash(now.size, &reader).unwrap(), now.root);
    for ack in acks {
        let r = client.submit(ack.request.clone());
        assert_eq!(
            r.status,
            200,
            "acknowledged entry {} lost: {}",
            ack.index,
            r.text()
        );
        let tle: TransparencyLogEntry = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(u64::try_from(tle.log_index).unwrap(), ack.index);
        let old = open(&server.vkey, &ack.checkpoint);
        let proof = consistency_proof(old.size, now.size, &reader).unwrap();
        verify_consistency(old.size, now.size, &old.root, &now.root, &proof).unwrap();
    }
    now
}

#[test]
fn a_full_disk_stops_the_log_without_losing_or_faking_anything() {
    let Some(ns) = Namespace::new("disk full", "16m") else {
        return;
    };
    let mut sub = Submitter::new();
    let mut acks = Vec::new();
    let server = start(&ns, &ns.data()).unwrap_or_else(|e| panic!("{}", e.stderr));
    for _ in 0..20 {
        let (status, ack) = sub.submit(&server.client);
        assert_eq!(status, 201);
        acks.extend(ack);
    }
    ns.fill();
    // The database file may still have free pages: go on until a commit needs new space.
    let mut refused = None;
    for _ in 0..5000 {
        match sub.submit(&server.client) {
            (201, ack) => acks.extend(ack),
            (status, _) => {
                refused = Some(status);
                break;
            }
        }
    }
    assert_eq!(refused, Some(503), "a full disk must end in 503s");
    let ended = server.wait_exit();
    eprintln!("server on a full disk stopped:\n{}", ended.stderr);
    assert!(!ended.status.success());
    assert!(
        ended.stderr.contains("No space left on device") && ended.stderr.contains("fatal"),
        "the error names the cause: {}",
        ended.stderr
    );

    // A start on the still full disk either refuses with the cause, or serves the last
    // durable state and refuses to append again.
    match start(&ns, &ns.data()) {
        Err(ended) => {
            eprintln!("start on a full disk refused:\n{}", ended.stderr);
            assert!(!ended.status.success());
            assert!(
                ended.stderr.contains("No space left on device"),
                "{}",
                ended.stderr
            );
        }
        Ok(server) => {
            eprintln!("start on a full disk serves the last durable state");
            assert_kept(&server, &[]);
            let (status, _) = sub.submit(&server.client);
            assert!(status == 503 || status == 0, "{status}");
            let _ = server.wait_exit();
        }
    }

    // Space returns: the log goes on with everything it acknowledged.
    ns.unfill();
    let server = start(&ns, &ns.data()).unwrap_or_else(|e| panic!("{}", e.stderr));
    let before = assert_kept(&server, &acks);
    assert!(before.size >= acks.len() as u64);
    let (status, ack) = sub.submit(&server.client);
    assert_eq!(status, 201);
    assert_eq!(ack.unwrap().index, before.size);
    server.stop();
    eprintln!(
        "disk full: {} entries acknowledged before the disk filled; none lost",
        acks.len()
    );
}

#[test]
fn a_read_only_data_directory_is_refused_at_start_and_changes_nothing() {
    let Some(ns) = Namespace::new("read-only data directory", "16m") else {
        return;
    };
    // A fresh data directory on a read-only file system.
    ns.remount("ro");
    let ended = start(&ns, &ns.data())
        .err()
        .expect("started on a read-only fs");
    assert!(!ended.status.success());
    assert!(
        ended.stderr.contains("Read-only file system"),
        "{}",
        ended.stderr
    );
    ns.remount("rw");

    let mut sub = Submitter::new();
    let server = start(&ns, &ns.data()).unwrap_or_else(|e| panic!("{}", e.stderr));
    let acks: Vec<Ack> = (0..10)
        .filter_map(|_| sub.submit(&server.client).1)
        .collect();
    assert_eq!(acks.len(), 10);
    server.stop();
    let snapshot = |ns: &Namespace| {
        let out = ns
            .command("sh")
            .args([
                "-c",
                &format!("cat {}/log.redb | sha256sum", ns.data().display()),
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let before = snapshot(&ns);

    // An existing log on a read-only file system.
    ns.remount("ro");
    let ended = start(&ns, &ns.data())
        .err()
        .expect("started on a read-only fs");
    eprintln!("start on a read-only log refused:\n{}", ended.stderr);
    assert!(!ended.status.success());
    assert!(
        ended.stderr.contains("Read-only file system") && ended.stderr.contains("log.redb"),
        "the error names the file and the cause: {}",
        ended.stderr
    );
    ns.remount("rw");
    assert_eq!(snapshot(&ns), before, "a refused start wrote nothing");

    let server = start(&ns, &ns.data()).unwrap_or_else(|e| panic!("{}", e.stderr));
    assert_eq!(assert_kept(&server, &acks).size, 10);
    server.stop();
}
