//! Hostile input against a running server, beyond `server.rs`'s first cases: truncated and
//! trailing JSON, deep nesting, wrong types, huge numbers, bad base64 and UTF-8, unknown key
//! types, a key that did not make the signature, small-order Ed25519 keys with the signature
//! that fools a non-strict verifier, a non-canonical Ed25519 S, oversize and slow bodies at
//! the socket, and non-canonical, traversing or out-of-tree tile paths. Each gets a precise
//! 4xx, the server keeps serving, and the signed checkpoint does not move.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use cairn_e2e::{tempdir, TestServer, TEST_ORIGIN};
use cairn_entry::{HashedRekordRequest, SignerAlgorithm, SignerKeyPair};
use cairn_merkle::tiles::TilePath;
use cairn_server::RawConfig;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn request(kp: &SignerKeyPair, artifact: &[u8]) -> Value {
    let digest = kp.algorithm().digest(artifact);
    let json = HashedRekordRequest::sign(kp, digest)
        .unwrap()
        .to_wire()
        .to_json();
    serde_json::from_slice(&json).unwrap()
}

fn keypair(alg: SignerAlgorithm) -> SignerKeyPair {
    SignerKeyPair::generate(alg, &mut rand_core::OsRng)
}

const SIG: &str = "/hashedRekordRequestV002/signature";
const KEY: &str = "/hashedRekordRequestV002/signature/verifier/publicKey/rawBytes";
const DETAILS: &str = "/hashedRekordRequestV002/signature/verifier/keyDetails";

fn with(v: &Value, pointer: &str, new: Value) -> Vec<u8> {
    let mut v = v.clone();
    *v.pointer_mut(pointer).unwrap() = new;
    serde_json::to_vec(&v).unwrap()
}

/// An Ed25519ph request over `digest` with the raw public key `point` and signature bytes
/// `sig`, built by hand (the signing API refuses such keys).
fn ed25519ph_raw(point: [u8; 32], sig: &[u8], digest: &[u8]) -> Vec<u8> {
    let mut spki = hex::decode("302a300506032b6570032100").unwrap();
    spki.extend_from_slice(&point);
    serde_json::to_vec(&json!({"hashedRekordRequestV002": {
        "digest": B64.encode(digest),
        "signature": {"content": B64.encode(sig), "verifier": {
            "publicKey": {"rawBytes": B64.encode(spki)},
            "keyDetails": "PKIX_ED25519_PH"}}}}))
    .unwrap()
}

/// Returns `s + l` for 32-byte little-endian scalars (no overflow for canonical `s`).
fn add_le(s: &[u8], l: &[u8; 32]) -> Vec<u8> {
    let mut carry = 0u16;
    s.iter()
        .zip(l)
        .map(|(a, b)| {
            let t = u16::from(*a) + u16::from(*b) + carry;
            carry = t >> 8;
            t as u8
        })
        .collect()
}

#[test]
fn malformed_requests_get_400_and_change_nothing() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let client = server.client();
    let kp = keypair(SignerAlgorithm::Ed25519Ph);
    let good = request(&kp, b"good");
    let good_bytes = serde_json::to_vec(&good).unwrap();
    let mut cases: Vec<(String, Vec<u8>, u16, &str)> = Vec::new();
    // Every tenth prefix of a valid request.
    for cut in (1..good_bytes.len()).step_by(good_bytes.len() / 10) {
        cases.push((
            format!("truncated at {cut}"),
            good_bytes[..cut].to_vec(),
            400,
            "",
        ));
    }
    let mut trailing = good_bytes.clone();
    trailing.extend_from_slice(b" {}");
    cases.push(("trailing JSON".into(), trailing, 400, ""));
    let deep = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    cases.push(("nested 30000 deep".into(), deep.into_bytes(), 400, ""));
    let mut bad_utf8 = good_bytes.clone();
    bad_utf8.splice(1..1, [0xff, 0xfe]);
    cases.push(("invalid UTF-8".into(), bad_utf8, 400, ""));
    let h = "/hashedRekordRequestV002";
    for (what, pointer, value) in [
        ("top level is an array", "", json!([good.clone()])),
        (
            "top level is a string",
            "",
            json!("hashedRekordRequestV002"),
        ),
        ("request is an array", h, json!([])),
        (
            "digest is an array",
            "/hashedRekordRequestV002/digest",
            json!([1, 2]),
        ),
        ("signature is a string", SIG, json!("sig")),
        (
            "content is null",
            "/hashedRekordRequestV002/signature/content",
            Value::Null,
        ),
        ("keyDetails is a number", DETAILS, json!(5)),
        ("keyDetails is a huge number", DETAILS, json!(1e300)),
        (
            "digest is a huge number",
            "/hashedRekordRequestV002/digest",
            json!(u64::MAX),
        ),
        ("base64 with a bad char", KEY, json!("MCowBQYDK2VwAyEA@@@@")),
        (
            "base64 with bad padding",
            "/hashedRekordRequestV002/digest",
            json!("QQ="),
        ),
        (
            "base64 with spaces",
            "/hashedRekordRequestV002/digest",
            json!("QUFB QUFB"),
        ),
        (
            "unknown key type",
            DETAILS,
            json!("PKIX_ECDSA_P384_SHA_384"),
        ),
        ("made-up key type", DETAILS, json!("PKIX_X25519")),
        ("ed25519 (not ph)", DETAILS, json!("PKIX_ED25519")),
        (
            "x25519 key under Ed25519ph",
            KEY,
            json!(B64.encode(
                hex::decode(format!("302a300506032b656e032100{}", "09".repeat(32))).unwrap()
            )),
        ),
        (
            "a certificate, not a key",
            "/hashedRekordRequestV002/signature/verifier",
            json!({"x509Certificate": {"rawBytes": "MAA="}, "keyDetails": "PKIX_ED25519_PH"}),
        ),
        (
            "both a key and a certificate",
            "/hashedRekordRequestV002/signature/verifier",
            json!({"publicKey": {"rawBytes": good.pointer(KEY).unwrap().clone()},
                   "x509Certificate": {"rawBytes": "MAA="}, "keyDetails": "PKIX_ED25519_PH"}),
        ),
    ] {
        let body = if pointer.is_empty() {
            serde_json::to_vec(&value).unwrap()
        } else {
            with(&good, pointer, value)
        };
        cases.push((what.into(), body, 400, ""));
    }
    cases.push((
        "a DSSE request".into(),
        serde_json::to_vec(&json!({"dsseRequestV002": {}})).unwrap(),
        400,
        "",
    ));
    let dup = format!(
        "{{\"hashedRekordRequestV002\":{0},\"hashedRekordRequestV002\":{0}}}",
        serde_json::to_string(&good["hashedRekordRequestV002"]).unwrap()
    );
    cases.push(("a field given twice".into(), dup.into_bytes(), 400, ""));
    client.assert_refused(cases);
    assert_eq!(client.submit(good_bytes).status, 201, "the good one passes");
}

#[test]
fn keys_that_did_not_sign_and_weak_keys_get_400() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let client = server.client();
    let mut cases: Vec<(String, Vec<u8>, u16, &str)> = Vec::new();
    for alg in [SignerAlgorithm::Ed25519Ph, SignerAlgorithm::EcdsaP256Sha256] {
        let (a, b) = (keypair(alg), keypair(alg));
        let signed_by_a = request(&a, b"artifact");
        let b_key = request(&b, b"artifact").pointer(KEY).unwrap().clone();
        cases.push((
            format!("{alg:?}: another key than the signer's"),
            with(&signed_by_a, KEY, b_key),
            400,
            "signature",
        ));
    }
    // Small-order points (orders 1, 2, 4, 8). With R = the point itself and S = 0 the
    // Ed25519 equation [S]B = R + [k]A holds for some messages under a cofactored,
    // non-strict verifier; verify_strict and the key check refuse them whatever the message.
    let digest = [7u8; 64];
    for point in [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ] {
        let point: [u8; 32] = hex::decode(point).unwrap().try_into().unwrap();
        let mut sig = point.to_vec();
        sig.extend_from_slice(&[0u8; 32]);
        cases.push((
            format!("small-order key {}", hex::encode(point)),
            ed25519ph_raw(point, &sig, &digest),
            400,
            "small order",
        ));
    }
    // A valid signature with S + L (the group order) in place of S: the same point
    // equation, but not canonical, so a strict verifier refuses it.
    let kp = keypair(SignerAlgorithm::Ed25519Ph);
    let good = request(&kp, b"malleable");
    let sig = B64
        .decode(
            good.pointer(&format!("{SIG}/content"))
                .unwrap()
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let l: [u8; 32] =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap()
            .try_into()
            .unwrap();
    let mut malleated = sig[..32].to_vec();
    malleated.extend(add_le(&sig[32..], &l));
    cases.push((
        "Ed25519 signature with S + L".into(),
        with(
            &good,
            &format!("{SIG}/content"),
            json!(B64.encode(malleated)),
        ),
        400,
        "signature",
    ));
    client.assert_refused(cases);
    assert_eq!(
        client.submit(serde_json::to_vec(&good).unwrap()).status,
        201
    );
}

/// Writes `head` to a fresh connection, then `body` in pieces `gap` apart, and returns the
/// status line of the answer ("" if the connection closed without one).
fn raw_exchange(url: &str, head: &str, body: &[&[u8]], gap: Duration) -> String {
    let mut s = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = s.write_all(head.as_bytes());
    for piece in body {
        std::thread::sleep(gap);
        if s.write_all(piece).is_err() {
            break; // the server answered and closed: read what it said
        }
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn oversize_and_slow_bodies_at_the_socket() {
    let dir = tempdir();
    let server = TestServer::start_with(RawConfig {
        data: Some(dir.path().to_path_buf()),
        public_url: Some(format!("http://{TEST_ORIGIN}")),
        request_timeout_secs: Some(1),
        ..RawConfig::default()
    });
    let client = server.client();
    let before = client.checkpoint();
    let post = |extra: &str| {
        format!("POST /api/v2/log/entries HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{extra}\r\n")
    };
    // A declared length over the limit is refused before the body is read.
    let r = raw_exchange(
        &server.url,
        &post("Content-Length: 1000000000000\r\n"),
        &[],
        Duration::ZERO,
    );
    assert!(r.contains(" 413 "), "{r}");
    // A length that is no number at all.
    let r = raw_exchange(
        &server.url,
        &post("Content-Length: 99999999999999999999999\r\n"),
        &[],
        Duration::ZERO,
    );
    assert!(r.contains(" 400 "), "{r}");
    // A chunked body with no declared length that grows over the limit.
    let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
    let chunks: Vec<&[u8]> = std::iter::repeat_n(chunk.as_bytes(), 10).collect();
    let r = raw_exchange(
        &server.url,
        &post("Transfer-Encoding: chunked\r\n"),
        &chunks,
        Duration::ZERO,
    );
    assert!(r.contains(" 413 "), "{r}");
    // A slow-loris body: one byte a second of a declared 1000. The request times out with
    // 408, and meanwhile the server serves everyone else.
    let started = Instant::now();
    let url = server.url.clone();
    let slow = std::thread::spawn(move || {
        let bytes = [b'{'; 5];
        let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
        raw_exchange(
            &url,
            &post("Content-Length: 1000\r\n"),
            &pieces,
            Duration::from_millis(500),
        )
    });
    let kp = keypair(SignerAlgorithm::EcdsaP256Sha256);
    let ok = client.submit(serde_json::to_vec(&request(&kp, b"during")).unwrap());
    assert_eq!(ok.status, 201, "served while a slow client waits");
    let r = slow.join().unwrap();
    assert!(r.contains(" 408 "), "{r}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let after = client.checkpoint();
    assert_ne!(after, before);
    assert_eq!(client.get("/healthz").status, 200);
}

#[test]
fn tile_paths_that_name_no_tile_of_this_tree() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let client = server.client();
    let kp = keypair(SignerAlgorithm::EcdsaP256Sha256);
    for i in 0..3u8 {
        assert_eq!(
            client
                .submit(serde_json::to_vec(&request(&kp, &[i])).unwrap())
                .status,
            201
        );
    }
    let before = client.checkpoint();
    for (path, status) in [
        // Valid paths beyond the tree of size 3.
        ("tile/0/x001/000", 404),
        ("tile/0/x001/x234/067", 404),
        ("tile/entries/x001/234.p/5", 404),
        ("tile/3/000", 404),
        ("tile/0/000.p/4", 404),
        ("tile/entries/000.p/4", 404),
        ("tile/entries/000.p/3", 200),
        // Not canonical, or not a tile path at all.
        ("tile/0/1000", 400),
        ("tile/0/x000/005", 400),
        ("tile/0/-01", 400),
        ("tile/0/+01", 400),
        ("tile/0/000.p/03", 400),
        ("tile/0/000.p/+3", 400),
        ("tile/0/000.p/1.p/1", 400),
        ("tile/0/000.p/", 400),
        ("tile/entries/000.p/0", 400),
        ("tile/entries/000.p/256", 400),
        ("tile/entries/000.p/999999999999999999999", 400),
        ("tile/0/x99999999999999999999/000", 400),
        ("tile/0/x999/x999/x999/x999/x999/999", 400),
        ("tile/-1/000", 400),
        ("tile/0/000%00", 400),
        ("tile/0/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 400),
        ("tile/0/..%2f..%2fetc%2fpasswd", 400),
        ("tile/0/000/", 400),
        ("tile/0//000", 400),
        // Percent-encoding an unreserved character names the same path (RFC 3986 6.2.2.2).
        ("tile/0/00%30", 404),
        ("tile/0/%D9%A0%D9%A0%D9%A0", 400),
        ("tile/0/000%5C..%5C..", 400),
    ] {
        let r = client.get(&format!("/api/v2/{path}"));
        assert_eq!(r.status, status, "{path}: {}", r.text());
        if status == 400 {
            assert!(path.parse::<TilePath>().is_err(), "{path} is a valid path");
        }
    }
    assert_eq!(client.checkpoint(), before);
    // Wrong methods and unknown routes.
    let http = reqwest::blocking::Client::new();
    for (method, path, status) in [
        ("POST", "/api/v2/checkpoint", 405),
        ("GET", "/api/v2/log/entries", 405),
        ("DELETE", "/api/v2/tile/0/000.p/3", 405),
        ("GET", "/api/v1/log/entries", 404),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = http
            .request(m, format!("{}{path}", server.url))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{method} {path}");
    }
    assert_eq!(client.get("/healthz").status, 200);
}
