//! The log server end to end over real sockets: submissions with both key types (SET,
//! inclusion proof and checkpoint checked with the core crates), duplicates, bad input that
//! changes nothing, restarts, concurrent submitters, and the tlog-tiles read API.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cairn_e2e::{tempdir, TestServer, TEST_ORIGIN};
use cairn_entry::{
    set_payload, HashedRekordRequest, LogKey, SignerAlgorithm, SignerKeyPair, TransparencyLogEntry,
};
use cairn_merkle::tiles::{new_tiles, EntryBundle, TileHashReader, TilePath};
use cairn_merkle::{
    consistency_proof, leaf_hash, tree_hash, verify_consistency, verify_inclusion, Hash,
};
use cairn_note::{open_checkpoint, Checkpoint, Ed25519Verifier, NoteVerifier};
use cairn_server::RawConfig;

fn keypair(alg: SignerAlgorithm) -> SignerKeyPair {
    SignerKeyPair::generate(alg, &mut rand_core::OsRng)
}

/// A valid submission: a random artifact signed with `kp`.
fn request(kp: &SignerKeyPair, artifact: &[u8]) -> HashedRekordRequest {
    let digest = kp.algorithm().digest(artifact);
    HashedRekordRequest::sign(kp, digest).unwrap()
}

fn verifier(server: &TestServer) -> Ed25519Verifier {
    Ed25519Verifier::from_vkey(&server.info.vkey).unwrap()
}

fn open(server: &TestServer, note: &[u8]) -> Checkpoint {
    let v = verifier(server);
    let vs: [&dyn NoteVerifier; 1] = [&v];
    open_checkpoint(note, &vs, Some(&TEST_ORIGIN.parse().unwrap()))
        .unwrap()
        .0
}

/// Checks everything a client can check in a TransparencyLogEntry, with the core crates only.
/// Returns (index, checkpoint).
fn check_entry(server: &TestServer, req: &HashedRekordRequest, body: &[u8]) -> (u64, Checkpoint) {
    let tle: TransparencyLogEntry = serde_json::from_slice(body).unwrap();
    let canonical = req.to_body().to_canonical_bytes();
    assert_eq!(
        tle.canonicalized_body, canonical,
        "the log logged exactly this request"
    );
    let kv = tle.kind_version.as_ref().unwrap();
    assert_eq!(
        (kv.kind.as_str(), kv.version.as_str()),
        ("hashedrekord", "0.0.2")
    );
    let v = verifier(server);
    let log_id = v.log_id();
    assert_eq!(tle.log_id.as_ref().unwrap().key_id, log_id.to_vec());
    assert!(tle.integrated_time > 1_600_000_000, "integratedTime is set");
    let index = u64::try_from(tle.log_index).unwrap();
    // The SET, with the log's key.
    let set = &tle
        .inclusion_promise
        .as_ref()
        .unwrap()
        .signed_entry_timestamp;
    let payload = set_payload(&canonical, tle.integrated_time, &log_id, index);
    LogKey::ed25519(*v.verifying_key())
        .verify_set(&payload, set)
        .unwrap();
    // The checkpoint, then the proof against ITS size and root.
    let proof = tle.inclusion_proof.as_ref().unwrap();
    let cp = open(
        server,
        proof.checkpoint.as_ref().unwrap().envelope.as_bytes(),
    );
    assert_eq!(u64::try_from(proof.tree_size).unwrap(), cp.size);
    assert_eq!(
        proof.root_hash,
        cp.root.0.to_vec(),
        "rootHash equals the checkpoint's"
    );
    assert_eq!(u64::try_from(proof.log_index).unwrap(), index);
    let hashes: Vec<Hash> = proof
        .hashes
        .iter()
        .map(|h| Hash::from_slice(h).unwrap())
        .collect();
    verify_inclusion(index, cp.size, &leaf_hash(&canonical), &hashes, &cp.root).unwrap();
    (index, cp)
}

#[test]
fn both_key_types_get_verifiable_entries() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let client = server.client();
    for (i, alg) in [SignerAlgorithm::EcdsaP256Sha256, SignerAlgorithm::Ed25519Ph]
        .into_iter()
        .enumerate()
    {
        let kp = keypair(alg);
        let req = request(&kp, format!("artifact {i}").as_bytes());
        let r = client.submit(req.to_wire().to_json());
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.headers["content-type"], "application/json");
        let (index, cp) = check_entry(&server, &req, &r.body);
        assert_eq!(index, i as u64);
        assert_eq!(
            cp.size,
            i as u64 + 1,
            "answered with the checkpoint that includes it"
        );
    }
    // Index 0 is written out (protobuf JSON omits defaults unless told not to).
    assert_eq!(server.client().get("/healthz").status, 200);
}

#[test]
fn duplicates_return_the_existing_entry() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let client = server.client();
    let kp = keypair(SignerAlgorithm::EcdsaP256Sha256);
    let req = request(&kp, b"dup");
    let first = client.submit(req.to_wire().to_json());
    assert_eq!(first.status, 201);
    let other = request(&kp, b"other");
    assert_eq!(client.submit(other.to_wire().to_json()).status, 201);
    let again = client.submit(req.to_wire().to_json());
    assert_eq!(again.status, 200, "{}", again.text());
    let (i1, _) = check_entry(&server, &req, &first.body);
    let (i2, cp) = check_entry(&server, &req, &again.body);
    assert_eq!(i1, i2);
    assert_eq!(cp.size, 2, "the proof is against the current checkpoint");
    let t1: TransparencyLogEntry = serde_json::from_slice(&first.body).unwrap();
    let t2: TransparencyLogEntry = serde_json::from_slice(&again.body).unwrap();
    assert_eq!(t1.integrated_time, t2.integrated_time);
    assert_eq!(t1.inclusion_promise, t2.inclusion_promise, "the same SET");
}

#[test]
fn bad_input_is_a_clear_4xx_and_changes_nothing() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let client = server.client();
    let kp = keypair(SignerAlgorithm::EcdsaP256Sha256);
    assert_eq!(
        client.submit(request(&kp, b"x").to_wire().to_json()).status,
        201
    );
    let before = client.checkpoint();

    let good: serde_json::Value =
        serde_json::from_slice(&request(&kp, b"y").to_wire().to_json()).unwrap();
    let mutate = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let sig = "/hashedRekordRequestV002/signature";
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty body", vec![], 400, ""),
        (
            "not JSON",
            b"{\"hashedRekordRequestV002\":".to_vec(),
            400,
            "JSON",
        ),
        (
            "wrong type",
            mutate(&|v| v["hashedRekordRequestV002"]["digest"] = 5.into()),
            400,
            "",
        ),
        (
            "invalid base64",
            mutate(&|v| v["hashedRekordRequestV002"]["digest"] = "!!!".into()),
            400,
            "base64",
        ),
        (
            "short digest",
            mutate(&|v| v["hashedRekordRequestV002"]["digest"] = "AAAA".into()),
            400,
            "digest",
        ),
        (
            "signature over something else",
            mutate(&|v| {
                let other = request(&kp, b"z").to_wire().to_json();
                let o: serde_json::Value = serde_json::from_slice(&other).unwrap();
                *v.pointer_mut(sig).unwrap() = o.pointer(sig).unwrap().clone();
            }),
            400,
            "signature",
        ),
        (
            "key type not accepted",
            mutate(&|v| {
                *v.pointer_mut(&format!("{sig}/verifier/keyDetails"))
                    .unwrap() = "PKIX_RSA_PKCS1V15_2048_SHA256".into()
            }),
            400,
            "",
        ),
        (
            "key details do not match the key",
            mutate(&|v| {
                *v.pointer_mut(&format!("{sig}/verifier/keyDetails"))
                    .unwrap() = "PKIX_ED25519_PH".into()
            }),
            400,
            "",
        ),
        (
            "key is not DER",
            mutate(&|v| {
                *v.pointer_mut(&format!("{sig}/verifier/publicKey/rawBytes"))
                    .unwrap() = "AAAA".into()
            }),
            400,
            "",
        ),
        ("unknown field", mutate(&|v| v["extra"] = 1.into()), 400, ""),
        (
            "huge number",
            b"{\"hashedRekordRequestV002\":1e999999}".to_vec(),
            400,
            "",
        ),
        ("oversize body", vec![b' '; 70_000], 413, ""),
    ];
    assert_eq!(client.checkpoint(), before);
    client.assert_refused(cases);
}

#[test]
fn restart_keeps_the_tree_and_dedup() {
    let dir = tempdir();
    let kp = keypair(SignerAlgorithm::Ed25519Ph);
    let reqs: Vec<HashedRekordRequest> = (0..20)
        .map(|i| request(&kp, format!("r{i}").as_bytes()))
        .collect();
    let before = {
        let server = TestServer::start(dir.path());
        for r in &reqs {
            assert_eq!(server.client().submit(r.to_wire().to_json()).status, 201);
        }
        let cp = server.client().checkpoint();
        server.stop().unwrap();
        cp
    };
    let server = TestServer::start(dir.path());
    let client = server.client();
    assert_eq!(
        client.checkpoint(),
        before,
        "the same signed checkpoint after restart"
    );
    let again = client.submit(reqs[7].to_wire().to_json());
    assert_eq!(again.status, 200);
    assert_eq!(check_entry(&server, &reqs[7], &again.body).0, 7);
    let new = request(&kp, b"after restart");
    let r = client.submit(new.to_wire().to_json());
    assert_eq!(r.status, 201);
    let (index, cp) = check_entry(&server, &new, &r.body);
    assert_eq!((index, cp.size), (20, 21));
    let old = open(&server, &before);
    let reader = TileHashReader::new(cp.size, client.clone());
    let proof = consistency_proof(old.size, cp.size, &reader).unwrap();
    verify_consistency(old.size, cp.size, &old.root, &cp.root, &proof).unwrap();
}

#[test]
fn another_origin_or_a_missing_key_is_refused() {
    let dir = tempdir();
    TestServer::start(dir.path()).stop().unwrap();
    let other = TestServer::try_start_with(RawConfig {
        data: Some(dir.path().to_path_buf()),
        public_url: Some("http://other.test/log".into()),
        ..RawConfig::default()
    });
    let msg = format!("{:#}", other.err().unwrap());
    assert!(msg.contains("holds the log"), "{msg}");
    std::fs::remove_file(dir.path().join("log.key")).unwrap();
    let msg = format!(
        "{:#}",
        TestServer::try_start_with(RawConfig {
            data: Some(dir.path().to_path_buf()),
            public_url: Some(format!("http://{TEST_ORIGIN}")),
            ..RawConfig::default()
        })
        .err()
        .unwrap()
    );
    assert!(msg.contains("log key") && msg.contains("missing"), "{msg}");
}

#[test]
fn concurrent_submitters_get_proofs_consistent_with_later_checkpoints() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let results: Vec<(HashedRekordRequest, Vec<u8>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let client = server.client();
                s.spawn(move || {
                    let alg = if t % 2 == 0 {
                        SignerAlgorithm::EcdsaP256Sha256
                    } else {
                        SignerAlgorithm::Ed25519Ph
                    };
                    let kp = keypair(alg);
                    (0..40)
                        .map(|i| {
                            let req = request(&kp, format!("t{t} i{i}").as_bytes());
                            let r = client.submit(req.to_wire().to_json());
                            assert_eq!(r.status, 201, "{}", r.text());
                            (req, r.body)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let client = server.client();
    let last = open(&server, &client.checkpoint());
    assert_eq!(last.size, 320);
    let reader = TileHashReader::new(last.size, client.clone());
    let mut indexes = std::collections::BTreeSet::new();
    for (req, body) in &results {
        let (index, cp) = check_entry(&server, req, body);
        assert!(indexes.insert(index), "index {index} handed out twice");
        let proof = consistency_proof(cp.size, last.size, &reader).unwrap();
        verify_consistency(cp.size, last.size, &cp.root, &last.root, &proof).unwrap();
    }
    assert_eq!(indexes.len(), 320);
}

#[test]
fn the_tile_api_serves_the_whole_log() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let client = server.client();
    let kp = keypair(SignerAlgorithm::EcdsaP256Sha256);
    let mut bodies = Vec::new();
    let mut checkpoints = Vec::new();
    for i in 0..300u32 {
        let req = request(&kp, &i.to_be_bytes());
        assert_eq!(client.submit(req.to_wire().to_json()).status, 201);
        bodies.push(req.to_body().to_canonical_bytes());
        if i % 97 == 0 {
            checkpoints.push(open(&server, &client.checkpoint()));
        }
    }
    let cp = open(&server, &client.checkpoint());
    assert_eq!(cp.size, 300);
    // Every tile and bundle of the tree, as published: hashes match the entries, and the
    // root computed from tiles alone matches the signed one.
    let reader = TileHashReader::new(cp.size, client.clone());
    assert_eq!(tree_hash(cp.size, &reader).unwrap(), cp.root);
    for tile in new_tiles(0, cp.size) {
        let r = client.get(&format!("/api/v2/{}", tile.path()));
        assert_eq!(r.status, 200, "{}", tile.path());
        assert_eq!(r.headers["content-type"], "application/octet-stream");
        assert!(r.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"));
        assert_eq!(r.body.len(), usize::from(tile.width()) * 32);
        if tile.level() == 0 {
            let b = client.get(&format!("/api/v2/{}", tile.entries_path()));
            assert_eq!(b.status, 200);
            let bundle = EntryBundle::parse(&b.body, Some(tile.width())).unwrap();
            for (k, e) in bundle.entries().iter().enumerate() {
                let i = tile.index() as usize * 256 + k;
                assert_eq!(e, &bodies[i]);
                assert_eq!(&r.body[k * 32..k * 32 + 32], &leaf_hash(e).0);
            }
        }
    }
    // Older checkpoints' partial tiles stay available (as prefixes).
    for old in &checkpoints {
        let reader = TileHashReader::new(old.size, client.clone());
        assert_eq!(tree_hash(old.size, &reader).unwrap(), old.root);
    }
    // The checkpoint endpoint.
    let r = client.get("/api/v2/checkpoint");
    assert_eq!(r.headers["content-type"], "text/plain; charset=utf-8");
    // Paths that do not name a tile of this tree.
    for (path, status) in [
        ("tile/0/001.p/44", 200),
        ("tile/0/001.p/43", 200),
        ("tile/0/001.p/45", 404),
        ("tile/0/001", 404),
        ("tile/0/002.p/1", 404),
        ("tile/1/000.p/1", 200),
        ("tile/1/000.p/2", 404),
        ("tile/2/000.p/1", 404),
        ("tile/entries/001.p/44", 200),
        ("tile/entries/001", 404),
        ("tile/0/000.p/0", 400),
        ("tile/0/000.p/256", 400),
        ("tile/0/0", 400),
        ("tile/0/x000/001", 400),
        ("tile/00/000", 400),
        ("tile/64/000", 400),
        ("tile/0/../000", 400),
        ("tile/0/%2e%2e/000", 400),
        // The client resolves dot segments before sending: the router sees /api/etc/passwd.
        ("tile/entries/../../etc/passwd", 404),
        ("tile/", 404), // no path after tile/: no route
    ] {
        let r = client.get(&format!("/api/v2/{path}"));
        assert_eq!(r.status, status, "{path}: {}", r.text());
        if status == 400 {
            assert!(path.parse::<TilePath>().is_err(), "{path} is a valid path");
        }
    }
}

#[test]
fn trusted_root_metrics_and_health() {
    let dir = tempdir();
    let server = TestServer::start(dir.path());
    let client = server.client();
    let served = client.get("/api/v2/trustedRoot");
    assert_eq!(served.status, 200);
    let file = std::fs::read(dir.path().join("trusted_root.json")).unwrap();
    assert_eq!(served.body, file);
    let tr: serde_json::Value = serde_json::from_slice(&file).unwrap();
    let tlog = &tr["tlogs"][0];
    assert_eq!(tlog["baseUrl"], format!("http://{TEST_ORIGIN}"));
    use base64::Engine as _;
    let id = base64::engine::general_purpose::STANDARD.encode(verifier(&server).log_id());
    assert_eq!(tlog["logId"]["keyId"], id);
    assert_eq!(tlog["checkpointKeyId"]["keyId"], id);
    assert_eq!(tlog["publicKey"]["keyDetails"], "PKIX_ED25519");
    let kp = keypair(SignerAlgorithm::EcdsaP256Sha256);
    assert_eq!(
        client.submit(request(&kp, b"m").to_wire().to_json()).status,
        201
    );
    assert_eq!(client.submit(b"{}".to_vec()).status, 400);
    let m = client.get("/metrics").text();
    assert!(
        m.contains("cairn_log_entries_total{result=\"new\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("cairn_log_entries_total{result=\"bad_request\"} 1"),
        "{m}"
    );
    assert!(m.contains("cairn_log_tree_size 1"), "{m}");
    assert!(m.contains("cairn_log_integration_seconds_count 1"), "{m}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("log.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
