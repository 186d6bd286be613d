//! Resource limits over real sockets: the per-client rate limit on submissions (429 with
//! Retry-After, reads untouched), the cap on requests in flight (503), the cap on connections,
//! and the header read timeout that cuts slow-loris clients loose.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_e2e::{tempdir, TestServer, TEST_ORIGIN};
use cairn_entry::{HashedRekordRequest, SignerAlgorithm, SignerKeyPair};
use cairn_log::testing::{Fault, FaultStore};
use cairn_log::{LogStore, RedbStore};
use cairn_server::RawConfig;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn raw(data: &Path) -> RawConfig {
    RawConfig {
        data: Some(data.to_path_buf()),
        public_url: Some(format!("http://{TEST_ORIGIN}")),
        ..RawConfig::default()
    }
}

fn submission(kp: &SignerKeyPair, i: u32) -> Vec<u8> {
    let digest = kp.algorithm().digest(&i.to_be_bytes());
    HashedRekordRequest::sign(kp, digest)
        .unwrap()
        .to_wire()
        .to_json()
}

#[test]
fn submissions_over_the_rate_get_429_and_reads_do_not_count() {
    let dir = tempdir();
    let server = TestServer::start_with(RawConfig {
        rate_limit_per_second: Some(1),
        rate_limit_burst: Some(3),
        ..raw(dir.path())
    });
    let client = server.client();
    let kp = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rand_core::OsRng);
    let statuses: Vec<u16> = (0..5)
        .map(|i| client.submit(submission(&kp, i)).status)
        .collect();
    // A burst of 3, then at most one more if a second went by.
    assert_eq!(&statuses[..3], &[201, 201, 201], "{statuses:?}");
    assert_eq!(statuses[4], 429, "{statuses:?}");
    let r = client.submit(submission(&kp, 99));
    assert_eq!(r.status, 429);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert!(r.text().contains("too many submissions"), "{}", r.text());
    for _ in 0..50 {
        assert_eq!(client.get("/api/v2/checkpoint").status, 200);
    }
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        client.submit(submission(&kp, 99)).status,
        201,
        "the rate refills"
    );
}

#[test]
fn requests_over_the_in_flight_cap_get_503() {
    let dir = tempdir();
    let store = Arc::new(FaultStore::new(
        RedbStore::open(&dir.path().join("log.redb")).unwrap(),
    ));
    let s = store.clone();
    let server = TestServer::try_start_with_store(
        RawConfig {
            max_in_flight: Some(1),
            ..raw(dir.path())
        },
        Some(Box::new(move |_| Ok(s as Arc<dyn LogStore>))),
    )
    .unwrap();
    let client = server.client();
    let kp = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rand_core::OsRng);
    // A stalled commit keeps one submission in flight.
    store.arm(1, Fault::Stall);
    let c = client.clone();
    let body = submission(&kp, 1);
    let held = std::thread::spawn(move || c.submit(body).status);
    assert!(store.wait_stalled(Duration::from_secs(10)));
    let r = client.get("/api/v2/checkpoint");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(client.get("/healthz").status, 200, "health is not load");
    store.release();
    assert_eq!(held.join().unwrap(), 201);
    assert_eq!(client.get("/api/v2/checkpoint").status, 200);
}

/// Opens a connection that sends a request line and then one header byte every 200 ms,
/// never finishing its headers (or, if not `trickle`, sends nothing at all); returns when the
/// server closes it, with what it answered.
fn slow_loris(addr: &str, trickle: bool) -> (Duration, String) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    if trickle {
        let _ = s.write_all(b"GET /api/v2/checkpoint HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    }
    let mut answer = Vec::new();
    while started.elapsed() < Duration::from_secs(30) {
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        if trickle && s.write_all(b"a").is_err() {
            break;
        }
    }
    (
        started.elapsed(),
        String::from_utf8_lossy(&answer).into_owned(),
    )
}

#[test]
fn slow_loris_clients_are_cut_off_and_cannot_hold_every_connection() {
    let dir = tempdir();
    let server = TestServer::start_with(RawConfig {
        header_read_timeout_secs: Some(1),
        max_connections: Some(2),
        ..raw(dir.path())
    });
    let addr = server.url.trim_start_matches("http://").to_string();
    let started = Instant::now();
    // One client trickles its headers, the other connects and sends nothing.
    let loris: Vec<_> = [true, false]
        .into_iter()
        .map(|trickle| {
            let addr = addr.clone();
            std::thread::spawn(move || slow_loris(&addr, trickle))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Both connections are taken: this request waits until a slow client is cut off.
    let r = server.client().get("/api/v2/checkpoint");
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "served while both connections were held: the connection cap did not apply"
    );
    for l in loris {
        let (held, answer) = l.join().unwrap();
        assert!(
            held < Duration::from_secs(10),
            "a slow-loris client held its connection for {held:?}"
        );
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }
    assert_eq!(server.client().get("/healthz").status, 200);
}

#[test]
fn limit_settings_are_checked_at_start() {
    let dir = tempdir();
    for (raw, field) in [
        (
            RawConfig {
                rate_limit_burst: Some(5),
                ..raw(dir.path())
            },
            "rate_limit_burst",
        ),
        (
            RawConfig {
                rate_limit_per_second: Some(5),
                rate_limit_burst: Some(0),
                ..raw(dir.path())
            },
            "rate_limit_burst",
        ),
        (
            RawConfig {
                max_connections: Some(0),
                ..raw(dir.path())
            },
            "max_connections",
        ),
        (
            RawConfig {
                header_read_timeout_secs: Some(0),
                ..raw(dir.path())
            },
            "header_read_timeout_secs",
        ),
        (
            RawConfig {
                cache_mib: Some(2 << 20),
                ..raw(dir.path())
            },
            "cache_mib",
        ),
    ] {
        let msg = format!("{:#}", TestServer::try_start_with(raw).err().unwrap());
        assert!(msg.contains(field), "{msg}");
    }
}
