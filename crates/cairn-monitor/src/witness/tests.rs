//! Unit tests of the witness: every check through `process_add_checkpoint`, every status code
//! through the router (`oneshot`), and the swap under a forced race.

use super::*;
use axum::body::Body;
use axum::http::Request;
use cairn_merkle::{consistency_proof, leaf_hash, stored_hashes_for_leaf, tree_hash, Hash};
use cairn_note::{sign_checkpoint, Checkpoint, CosignatureVerifier, Ed25519Signer, Note};
use ed25519_dalek::SigningKey;
use tower::ServiceExt as _;

const ORIGIN: &str = "example.com/log";

/// A toy log: the stored hashes of `prefix` entries, then entries named after `fork`.
struct TestLog {
    signer: Ed25519Signer,
    stored: Vec<Hash>,
    size: u64,
}

impl TestLog {
    fn new(key: u8) -> TestLog {
        TestLog {
            signer: Ed25519Signer::new(ORIGIN.parse().unwrap(), SigningKey::from_bytes(&[key; 32])),
            stored: Vec::new(),
            size: 0,
        }
    }

    fn append(&mut self, n: u64, tag: &str) {
        for _ in 0..n {
            let leaf = leaf_hash(format!("{tag} {}", self.size).as_bytes());
            let new = stored_hashes_for_leaf(self.size, leaf, &self.stored).unwrap();
            self.stored.extend(new);
            self.size += 1;
        }
    }

    fn checkpoint(&self, size: u64) -> Vec<u8> {
        let cp = Checkpoint::new(
            ORIGIN.parse().unwrap(),
            size,
            tree_hash(size, &self.stored).unwrap(),
        );
        sign_checkpoint(&cp, &[&self.signer]).unwrap().to_bytes()
    }

    fn request(&self, old: u64, new: u64) -> Vec<u8> {
        let proof = if old == 0 {
            Vec::new()
        } else {
            consistency_proof(old, new, &self.stored).unwrap()
        };
        body(old, &proof, &self.checkpoint(new))
    }
}

fn body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    AddCheckpointRequest {
        old_size: old,
        proof: proof.to_vec(),
        checkpoint: cairn_note::SignedCheckpoint::parse(note).unwrap(),
    }
    .to_bytes()
}

struct FixedClock(u64);
impl Clock for FixedClock {
    fn unix_seconds(&self) -> u64 {
        self.0
    }
}

fn witness_with(store: Box<dyn WitnessStore>, log: &TestLog) -> Witness {
    let signer = CosignatureSigner::new(
        "witness.example/w1".parse().unwrap(),
        SigningKey::from_bytes(&[7; 32]),
    );
    Witness::new(
        signer,
        vec![LogKeys::from_vkeys(ORIGIN.parse().unwrap(), &[log.signer.vkey()]).unwrap()],
        store,
        Box::new(FixedClock(1_700_000_000)),
    )
}

fn witness(log: &TestLog) -> Witness {
    witness_with(Box::new(MemWitnessStore::new()), log)
}

fn verifier(w: &Witness) -> CosignatureVerifier {
    CosignatureVerifier::from_vkey(&w.vkey()).unwrap()
}

#[test]
fn cosigns_a_chain_of_consistent_checkpoints() {
    let mut log = TestLog::new(1);
    log.append(10, "a");
    let w = witness(&log);
    let sig = process_add_checkpoint(&w, &log.request(0, 10)).unwrap();
    // The cosignature verifies on the log's note, with the witness's vkey and clock.
    let mut note = Note::parse(&log.checkpoint(10)).unwrap();
    note.add_signature_lines(std::slice::from_ref(&sig))
        .unwrap();
    note.verify(&[&verifier(&w)]).unwrap();
    assert_eq!(
        cairn_note::cosignature_timestamp(&sig.signature),
        Some(1_700_000_000)
    );
    for (old, new) in [(10, 11), (11, 11), (11, 300), (300, 1000)] {
        if log.size < new {
            log.append(new - log.size, "a");
        }
        process_add_checkpoint(&w, &log.request(old, new)).unwrap();
        assert_eq!(w.head(&ORIGIN.parse().unwrap()).unwrap().unwrap().size, new);
    }
}

#[test]
fn every_refusal_has_its_error() {
    let mut log = TestLog::new(1);
    log.append(20, "a");
    let w = witness(&log);
    process_add_checkpoint(&w, &log.request(0, 8)).unwrap();

    // 400: malformed, and old above the checkpoint size.
    assert!(matches!(
        process_add_checkpoint(&w, b"old 8\n"),
        Err(WitnessError::BadRequest(_))
    ));
    assert!(matches!(
        process_add_checkpoint(&w, &body(9, &[], &log.checkpoint(8))),
        Err(WitnessError::BadRequest(_))
    ));
    // 404: unknown origin.
    let other = Ed25519Signer::new(
        "example.com/other".parse().unwrap(),
        SigningKey::from_bytes(&[1; 32]),
    );
    let cp = Checkpoint::new("example.com/other".parse().unwrap(), 1, Hash([0; 32]));
    let note = sign_checkpoint(&cp, &[&other]).unwrap().to_bytes();
    assert!(matches!(
        process_add_checkpoint(&w, &body(0, &[], &note)),
        Err(WitnessError::UnknownLog(_))
    ));
    // 403: signed by another key under the log's name, and a corrupted signature.
    let impostor = TestLog::new(2);
    let mut imp = impostor;
    imp.append(20, "a");
    assert!(matches!(
        process_add_checkpoint(&w, &imp.request(8, 20)),
        Err(WitnessError::Signature(_))
    ));
    let mut bad = Note::parse(&log.checkpoint(20)).unwrap();
    bad.signatures[0].signature[3] ^= 1;
    assert!(matches!(
        process_add_checkpoint(
            &w,
            &body(
                8,
                &consistency_proof(8, 20, &log.stored).unwrap(),
                &bad.to_bytes()
            )
        ),
        Err(WitnessError::Signature(_))
    ));
    // 409: old is not the cosigned size (above and below), with the known size.
    for old in [0, 5, 9] {
        let r = if old == 0 {
            body(0, &[], &log.checkpoint(20))
        } else {
            log.request(old, 20)
        };
        assert!(matches!(
            process_add_checkpoint(&w, &r),
            Err(WitnessError::Conflict { known_size: 8 })
        ));
    }
    // 409: same size, another root (a fork at the cosigned size).
    let mut fork = TestLog::new(1);
    fork.append(7, "a");
    fork.append(13, "b");
    assert!(matches!(
        process_add_checkpoint(&w, &body(8, &[], &fork.checkpoint(8))),
        Err(WitnessError::Conflict { known_size: 8 })
    ));
    // 422: a proof from the fork, a truncated proof, a proof for a size of zero.
    assert!(matches!(
        process_add_checkpoint(&w, &fork.request(8, 20)),
        Err(WitnessError::Proof(_))
    ));
    let mut proof = consistency_proof(8, 20, &log.stored).unwrap();
    proof.pop();
    assert!(matches!(
        process_add_checkpoint(&w, &body(8, &proof, &log.checkpoint(20))),
        Err(WitnessError::Proof(_))
    ));
    // Nothing above moved the head.
    assert_eq!(w.head(&ORIGIN.parse().unwrap()).unwrap().unwrap().size, 8);
    let fresh = witness(&log);
    assert!(matches!(
        process_add_checkpoint(&fresh, &body(0, &[Hash([1; 32])], &log.checkpoint(20))),
        Err(WitnessError::Proof(_))
    ));
}

#[test]
fn a_fork_is_never_cosigned_after_the_original() {
    let mut log = TestLog::new(1);
    log.append(100, "a");
    let mut fork = TestLog::new(1);
    fork.append(50, "a");
    fork.append(60, "b");
    let w = witness(&log);
    process_add_checkpoint(&w, &log.request(0, 60)).unwrap();
    // Every way of presenting the fork fails.
    for old in [0, 50, 60] {
        for new in [60, 70, 110] {
            if old > new {
                continue;
            }
            let r = if old == 0 || old == 60 && new == 60 {
                body(old, &[], &fork.checkpoint(new))
            } else {
                fork.request(old, new)
            };
            assert!(process_add_checkpoint(&w, &r).is_err(), "{old} -> {new}");
        }
    }
    process_add_checkpoint(&w, &log.request(60, 100)).unwrap();
}

/// A store that makes every swap wait at a barrier after its caller's checks passed: two
/// requests both check against the same head before either writes, the race of the spec.
struct RacingStore {
    inner: MemWitnessStore,
    barrier: std::sync::Barrier,
}

impl WitnessStore for RacingStore {
    fn load(&self, origin: &Origin) -> Result<Option<TreeHead>, StoreError> {
        self.inner.load(origin)
    }
    fn compare_and_swap(
        &self,
        origin: &Origin,
        expected: Option<&TreeHead>,
        new: &TreeHead,
        checkpoint: &[u8],
    ) -> Result<Cas, StoreError> {
        self.barrier.wait();
        self.inner
            .compare_and_swap(origin, expected, new, checkpoint)
    }
}

#[test]
fn racing_requests_from_one_head_cosign_exactly_one() {
    let mut log = TestLog::new(1);
    log.append(40, "a");
    let seeded = MemWitnessStore::new();
    let w0 = witness_with(Box::new(seeded), &log);
    process_add_checkpoint(&w0, &log.request(0, 10)).unwrap();
    let head = w0.head(&ORIGIN.parse().unwrap()).unwrap();
    let store = RacingStore {
        inner: MemWitnessStore::new(),
        barrier: std::sync::Barrier::new(2),
    };
    store
        .inner
        .compare_and_swap(&ORIGIN.parse().unwrap(), None, &head.unwrap(), b"")
        .unwrap();
    let w = witness_with(Box::new(store), &log);
    // The torchwood scenario: A (10 -> 20) and B (10 -> 40) both pass the checks.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| process_add_checkpoint(&w, &log.request(10, 20)));
        let b = s.spawn(|| process_add_checkpoint(&w, &log.request(10, 40)));
        (a.join().unwrap(), b.join().unwrap())
    });
    let ok = [a.is_ok(), b.is_ok()];
    assert_eq!(ok.iter().filter(|x| **x).count(), 1, "{a:?} {b:?}");
    let winner = if a.is_ok() { 20 } else { 40 };
    let loser = if a.is_ok() { b } else { a };
    assert!(
        matches!(loser, Err(WitnessError::Conflict { known_size }) if known_size == winner),
        "{loser:?}"
    );
    assert_eq!(
        w.head(&ORIGIN.parse().unwrap()).unwrap().unwrap().size,
        winner
    );
}

async fn status_of(app: Router, body: Vec<u8>) -> (u16, Option<String>, String) {
    let resp = app
        .oneshot(
            Request::post("/add-checkpoint")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, ct, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn every_status_code_over_http() {
    let mut log = TestLog::new(1);
    log.append(20, "a");
    let w = Arc::new(witness(&log));
    let app = app(w.clone());

    let (s, _, b) = status_of(app.clone(), log.request(0, 8)).await;
    assert_eq!(s, 200);
    let sigs = NoteSignature::parse_lines(b.as_bytes()).unwrap();
    assert_eq!(sigs.len(), 1);
    let mut note = Note::parse(&log.checkpoint(8)).unwrap();
    note.add_signature_lines(&sigs).unwrap();
    note.verify(&[&verifier(&w)]).unwrap();

    assert_eq!(status_of(app.clone(), b"garbage".to_vec()).await.0, 400);
    assert_eq!(
        status_of(app.clone(), body(9, &[], &log.checkpoint(8)))
            .await
            .0,
        400
    );
    let other = Ed25519Signer::new(
        "example.com/other".parse().unwrap(),
        SigningKey::from_bytes(&[1; 32]),
    );
    let cp = Checkpoint::new("example.com/other".parse().unwrap(), 1, Hash([0; 32]));
    let note = sign_checkpoint(&cp, &[&other]).unwrap().to_bytes();
    assert_eq!(status_of(app.clone(), body(0, &[], &note)).await.0, 404);
    let mut imp = TestLog::new(2);
    imp.append(20, "a");
    assert_eq!(status_of(app.clone(), imp.request(8, 20)).await.0, 403);
    let (s, ct, b) = status_of(app.clone(), log.request(5, 20)).await;
    assert_eq!(
        (s, ct.as_deref(), b.as_str()),
        (409, Some("text/x.tlog.size"), "8\n")
    );
    let mut fork = TestLog::new(1);
    fork.append(7, "a");
    fork.append(13, "b");
    assert_eq!(status_of(app.clone(), fork.request(8, 20)).await.0, 422);
    let (s, ct, b) = status_of(app.clone(), body(8, &[], &fork.checkpoint(8))).await;
    assert_eq!(
        (s, ct.as_deref(), b.as_str()),
        (409, Some("text/x.tlog.size"), "8\n")
    );
    // Too large a body never reaches the handler.
    let huge = vec![b'a'; MAX_REQUEST_BYTES + 1];
    assert_eq!(status_of(app.clone(), huge).await.0, 413);
    // GET is not the protocol.
    let resp = app
        .clone()
        .oneshot(Request::get("/add-checkpoint").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(status_of(app, log.request(8, 20)).await.0, 200);
}
