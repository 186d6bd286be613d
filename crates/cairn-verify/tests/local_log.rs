//! The verifier against bundles from a log built in memory (tests/common): the happy path for
//! both key types, every single-field tamper with the error it must give, streaming a large
//! artifact, witness and freshness options, rollback and fork state.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use cairn_entry::{SignerKey, SignerKeyPair};
use cairn_merkle::ProofError;
use cairn_note::{CosignatureSigner, NoteError};
use cairn_verify::*;
use common::*;
use ed25519_dalek::SigningKey;
use serde_json::Value;

const ARTIFACT: &[u8] = b"release 1.2.3\n";

fn verify(
    bundle: &[u8],
    artifact: &[u8],
    key: &SignerKey,
    trust: &[u8],
    opts: &VerifyOptions,
) -> Result<VerifiedEntry, VerifyError> {
    verify_bundle(
        bundle,
        ArtifactInput::Bytes(artifact),
        key,
        &TrustedLogs::from_json(trust)?,
        opts,
    )
}

fn strict() -> VerifyOptions {
    VerifyOptions::new().requiring_set(true)
}

#[test]
fn both_key_types_verify() {
    for signer in [p256(), ed25519ph()] {
        let mut log = TestLog::new(1);
        log.filler(0);
        let bundle = log.sign(&signer, ARTIFACT, 3);
        let key = signer.signer_key().unwrap();
        let v = verify(&bundle, ARTIFACT, &key, &log.trusted_root(), &strict()).unwrap();
        assert_eq!(v.log_index(), 1);
        assert_eq!(v.checkpoint().checkpoint().size, 5);
        assert_eq!(v.log().base_url(), BASE_URL);
        assert!(v.tlog().set_verified());
        assert_eq!(v.tlog().integrated_time(), Some(TIME));
        assert_eq!(v.digest(), signer.algorithm().digest(ARTIFACT));
        // Digest and reader inputs give the same answer.
        let d = signer.algorithm().digest(ARTIFACT);
        let trust = TrustedLogs::from_json(&log.trusted_root()).unwrap();
        verify_bundle(&bundle, ArtifactInput::Digest(&d), &key, &trust, &strict()).unwrap();
        let mut r: &[u8] = ARTIFACT;
        verify_bundle(
            &bundle,
            ArtifactInput::Reader(&mut r),
            &key,
            &trust,
            &strict(),
        )
        .unwrap();
        // The tlog part on its own.
        let entries = verify_bundle_tlog(&bundle, &trust, &strict()).unwrap();
        assert_eq!(entries.len(), 1);
    }
}

/// A reader of `len` pseudo-random bytes that never holds more than one buffer.
struct Pattern {
    left: u64,
    x: u64,
}

impl std::io::Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = usize::try_from(self.left.min(buf.len() as u64)).unwrap();
        for b in &mut buf[..n] {
            self.x = self.x.wrapping_mul(6364136223846793005).wrapping_add(1);
            *b = (self.x >> 56) as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn large_artifact_is_streamed() {
    const LEN: u64 = 64 << 20;
    for signer in [p256(), ed25519ph()] {
        let digest = hash_reader(signer.algorithm(), &mut Pattern { left: LEN, x: 7 }).unwrap();
        let request = cairn_entry::HashedRekordRequest::sign(&signer, digest.clone()).unwrap();
        let mut log = TestLog::new(2);
        let body = request.to_body().to_canonical_bytes();
        let i = log.append(&body);
        let entry = log.entry(&body, i, log.size);
        let bundle =
            cairn_entry::to_json(&cairn_entry::bundle_v03(&request, entry).unwrap()).unwrap();
        let trust = TrustedLogs::from_json(&log.trusted_root()).unwrap();
        let key = signer.signer_key().unwrap();
        let mut r = Pattern { left: LEN, x: 7 };
        verify_bundle(
            &bundle,
            ArtifactInput::Reader(&mut r),
            &key,
            &trust,
            &strict(),
        )
        .unwrap();
        let mut other = Pattern { left: LEN, x: 8 };
        let e = verify_bundle(
            &bundle,
            ArtifactInput::Reader(&mut other),
            &key,
            &trust,
            &strict(),
        )
        .unwrap_err();
        assert!(matches!(e, VerifyError::DigestMismatch { .. }), "{e}");
    }
}

fn edit(bundle: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(bundle).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn tle(v: &mut Value) -> &mut Value {
    &mut v["verificationMaterial"]["tlogEntries"][0]
}

fn flip_b64(v: &mut Value, byte: usize) {
    let mut b = b64d(v.as_str().unwrap());
    let i = byte.min(b.len() - 1);
    b[i] ^= 1;
    *v = Value::String(b64e(&b));
}

fn bump_int(v: &mut Value, by: i64) {
    let n: i64 = v.as_str().unwrap().parse().unwrap();
    *v = Value::String((n + by).to_string());
}

/// Replaces the first occurrence of `from` in the checkpoint note's text.
fn edit_checkpoint(v: &mut Value, f: impl FnOnce(&str) -> String) {
    let cp = &mut tle(v)["inclusionProof"]["checkpoint"]["envelope"];
    *cp = Value::String(f(cp.as_str().unwrap()));
}

#[test]
fn every_single_field_tamper_is_rejected_with_the_right_error() {
    for signer in [p256(), ed25519ph()] {
        let mut log = TestLog::new(3);
        log.filler(0);
        log.filler(1);
        let bundle = log.sign(&signer, ARTIFACT, 4);
        let key = signer.signer_key().unwrap();
        let trust = log.trusted_root();
        verify(&bundle, ARTIFACT, &key, &trust, &strict()).unwrap();

        type Check = fn(&VerifyError) -> bool;
        let cases: Vec<(&str, Vec<u8>, Check)> = vec![
            (
                "mediaType",
                edit(&bundle, |v| v["mediaType"] = "application/json".into()),
                |e| matches!(e, VerifyError::UnsupportedMediaType(_)),
            ),
            ("not JSON", bundle[..bundle.len() - 1].to_vec(), |e| {
                matches!(e, VerifyError::MalformedBundle(_))
            }),
            (
                "digest",
                edit(&bundle, |v| {
                    flip_b64(&mut v["messageSignature"]["messageDigest"]["digest"], 0)
                }),
                |e| matches!(e, VerifyError::DigestMismatch { .. }),
            ),
            (
                "digest algorithm",
                edit(&bundle, |v| {
                    v["messageSignature"]["messageDigest"]["algorithm"] = "SHA2_384".into()
                }),
                |e| matches!(e, VerifyError::DigestAlgorithm { .. }),
            ),
            (
                "signature",
                edit(&bundle, |v| {
                    flip_b64(&mut v["messageSignature"]["signature"], 12)
                }),
                |e| matches!(e, VerifyError::Signature(_)),
            ),
            (
                "body",
                edit(&bundle, |v| {
                    // Another signer's body: well formed, canonical, not this bundle's.
                    let other = p256();
                    let d = other.algorithm().digest(b"x");
                    let body = cairn_entry::HashedRekordRequest::sign(&other, d)
                        .unwrap()
                        .to_body()
                        .to_canonical_bytes();
                    tle(v)["canonicalizedBody"] = b64e(&body).into();
                }),
                |e| matches!(e, VerifyError::BodyMismatch { .. }),
            ),
            (
                "body byte",
                edit(&bundle, |v| flip_b64(&mut tle(v)["canonicalizedBody"], 3)),
                |e| matches!(e, VerifyError::Body(_)),
            ),
            (
                "kindVersion",
                edit(&bundle, |v| {
                    tle(v)["kindVersion"]["version"] = "0.0.1".into()
                }),
                |e| {
                    matches!(
                        e,
                        VerifyError::BodyMismatch {
                            field: "kindVersion"
                        }
                    )
                },
            ),
            (
                "logId",
                edit(&bundle, |v| flip_b64(&mut tle(v)["logId"]["keyId"], 0)),
                |e| matches!(e, VerifyError::UnknownLog { .. }),
            ),
            (
                "checkpoint text",
                edit(&bundle, |v| {
                    edit_checkpoint(v, |n| n.replacen("\n7\n", "\n8\n", 1))
                }),
                |e| matches!(e, VerifyError::Checkpoint(NoteError::BadSignature { .. })),
            ),
            (
                "checkpoint origin",
                edit(&bundle, |v| {
                    edit_checkpoint(v, |n| {
                        n.replacen("log.example/cairn\n", "log.example/other\n", 1)
                    })
                }),
                |e| matches!(e, VerifyError::Checkpoint(_)),
            ),
            (
                "checkpoint signature",
                edit(&bundle, |v| {
                    edit_checkpoint(v, |n| {
                        let (text, sig) = n.rsplit_once(' ').unwrap();
                        let mut b = b64d(sig.trim_end());
                        b[10] ^= 1;
                        format!("{text} {}\n", b64e(&b))
                    })
                }),
                |e| matches!(e, VerifyError::Checkpoint(NoteError::BadSignature { .. })),
            ),
            (
                "checkpoint missing",
                edit(&bundle, |v| {
                    tle(v)["inclusionProof"]
                        .as_object_mut()
                        .unwrap()
                        .remove("checkpoint");
                }),
                |e| matches!(e, VerifyError::MissingProof("checkpoint")),
            ),
            (
                "proof hash",
                edit(&bundle, |v| {
                    flip_b64(&mut tle(v)["inclusionProof"]["hashes"][1], 5)
                }),
                |e| matches!(e, VerifyError::Inclusion(ProofError::RootMismatch)),
            ),
            (
                "proof hash dropped",
                edit(&bundle, |v| {
                    tle(v)["inclusionProof"]["hashes"]
                        .as_array_mut()
                        .unwrap()
                        .pop();
                }),
                |e| matches!(e, VerifyError::Inclusion(ProofError::WrongLength { .. })),
            ),
            (
                "log index",
                edit(&bundle, |v| bump_int(&mut tle(v)["logIndex"], 1)),
                |e| matches!(e, VerifyError::ProofMismatch(_)),
            ),
            (
                "proof index",
                edit(&bundle, |v| {
                    bump_int(&mut tle(v)["inclusionProof"]["logIndex"], 1)
                }),
                |e| matches!(e, VerifyError::ProofMismatch(_)),
            ),
            (
                "proof and log index",
                edit(&bundle, |v| {
                    bump_int(&mut tle(v)["inclusionProof"]["logIndex"], 1);
                    bump_int(&mut tle(v)["logIndex"], 1);
                }),
                |e| matches!(e, VerifyError::Inclusion(_)),
            ),
            (
                "tree size",
                edit(&bundle, |v| {
                    bump_int(&mut tle(v)["inclusionProof"]["treeSize"], -1)
                }),
                |e| matches!(e, VerifyError::ProofMismatch(_)),
            ),
            (
                "root hash",
                edit(&bundle, |v| {
                    flip_b64(&mut tle(v)["inclusionProof"]["rootHash"], 0)
                }),
                |e| matches!(e, VerifyError::ProofMismatch(_)),
            ),
            (
                "SET",
                edit(&bundle, |v| {
                    flip_b64(&mut tle(v)["inclusionPromise"]["signedEntryTimestamp"], 7)
                }),
                |e| matches!(e, VerifyError::Set(_)),
            ),
            (
                "integrated time",
                edit(&bundle, |v| bump_int(&mut tle(v)["integratedTime"], 1)),
                |e| matches!(e, VerifyError::Set(cairn_entry::EntryError::SetMismatch)),
            ),
            (
                "SET removed",
                edit(&bundle, |v| {
                    tle(v).as_object_mut().unwrap().remove("inclusionPromise");
                }),
                |e| matches!(e, VerifyError::MissingSet),
            ),
            (
                "certificate material",
                edit(&bundle, |v| {
                    v["verificationMaterial"]
                        .as_object_mut()
                        .unwrap()
                        .remove("publicKey");
                    v["verificationMaterial"]["certificate"] =
                        serde_json::json!({"rawBytes": "AAAA"});
                }),
                |e| matches!(e, VerifyError::BundleShape(_)),
            ),
        ];
        for (name, tampered, ok) in cases {
            let e = verify(&tampered, ARTIFACT, &key, &trust, &strict()).expect_err(name);
            assert!(ok(&e), "{name}: wrong error {e:?}");
        }

        // The artifact, the key and the trusted root are inputs too.
        let e = verify(&bundle, b"release 1.2.4\n", &key, &trust, &strict()).unwrap_err();
        assert!(matches!(e, VerifyError::DigestMismatch { .. }), "{e}");
        let other = SignerKeyPair::generate(signer.algorithm(), &mut rand_core::OsRng);
        let e = verify(
            &bundle,
            ARTIFACT,
            &other.signer_key().unwrap(),
            &trust,
            &strict(),
        )
        .unwrap_err();
        assert!(matches!(e, VerifyError::Signature(_)), "{e}");
        let other_log = TestLog::new(99).trusted_root();
        let e = verify(&bundle, ARTIFACT, &key, &other_log, &strict()).unwrap_err();
        assert!(matches!(e, VerifyError::UnknownLog { .. }), "{e}");
        // Same log ID, another key: the checkpoint no longer verifies.
        let swapped = edit(&trust, |v| {
            let spki = b64d(v["tlogs"][0]["publicKey"]["rawBytes"].as_str().unwrap());
            let mut spki2 = spki[..12].to_vec();
            spki2.extend_from_slice(SigningKey::from_bytes(&[98; 32]).verifying_key().as_bytes());
            v["tlogs"][0]["publicKey"]["rawBytes"] = b64e(&spki2).into();
        });
        let e = verify(&bundle, ARTIFACT, &key, &swapped, &strict()).unwrap_err();
        assert!(
            matches!(e, VerifyError::Checkpoint(NoteError::UnverifiedNote)),
            "{e}"
        );
        // A key window that ends before the entry was integrated.
        let expired = edit(&trust, |v| {
            v["tlogs"][0]["publicKey"]["validFor"]["end"] = "2020-01-01T00:00:00Z".into();
        });
        let e = verify(&bundle, ARTIFACT, &key, &expired, &strict()).unwrap_err();
        assert!(matches!(e, VerifyError::LogKeyNotValid { .. }), "{e}");
        let e = verify(&bundle, ARTIFACT, &key, b"{}", &strict()).unwrap_err();
        assert!(matches!(e, VerifyError::TrustedRoot(_)), "{e}");
    }
}

#[test]
fn witness_policy_and_freshness() {
    let signer = p256();
    let mut log = TestLog::new(4);
    let w1 = CosignatureSigner::new(
        "w1.example/w".parse().unwrap(),
        SigningKey::from_bytes(&[11; 32]),
    )
    .with_timestamp(TIME as u64 + 5);
    let w2 = CosignatureSigner::new(
        "w2.example/w".parse().unwrap(),
        SigningKey::from_bytes(&[12; 32]),
    )
    .with_timestamp(TIME as u64 + 9);
    let w3 = CosignatureSigner::new(
        "w3.example/w".parse().unwrap(),
        SigningKey::from_bytes(&[13; 32]),
    );
    let (v1, v2, v3) = (w1.vkey(), w2.vkey(), w3.vkey());
    log.witnesses = vec![w1, w2];
    let bundle = log.sign(&signer, ARTIFACT, 1);
    let key = signer.signer_key().unwrap();
    let trust = log.trusted_root();

    let two = WitnessPolicy::from_vkeys(&[&v1, &v2, &v3], 2).unwrap();
    let v = verify(
        &bundle,
        ARTIFACT,
        &key,
        &trust,
        &strict().with_witnesses(two.clone()),
    )
    .unwrap();
    assert_eq!(v.checkpoint().cosigners().len(), 2);
    let three = WitnessPolicy::from_vkeys(&[&v1, &v2, &v3], 3).unwrap();
    let e = verify(
        &bundle,
        ARTIFACT,
        &key,
        &trust,
        &strict().with_witnesses(three),
    )
    .unwrap_err();
    assert!(
        matches!(e, VerifyError::WitnessQuorum { have: 2, .. }),
        "{e}"
    );
    let only3 = WitnessPolicy::from_vkeys(&[&v3], 1).unwrap();
    let e = verify(
        &bundle,
        ARTIFACT,
        &key,
        &trust,
        &strict().with_witnesses(only3),
    )
    .unwrap_err();
    assert!(
        matches!(e, VerifyError::WitnessQuorum { have: 0, .. }),
        "{e}"
    );
    assert!(WitnessPolicy::from_vkeys(&[&v1], 2).is_err());
    // A bad cosignature from a policy witness.
    let bad = edit(&bundle, |v| {
        edit_checkpoint(v, |n| {
            let mut lines: Vec<String> = n.lines().map(String::from).collect();
            let last = lines.len() - 1;
            let (head, sig) = lines[last].rsplit_once(' ').unwrap();
            let mut b = b64d(sig);
            b[20] ^= 1;
            lines[last] = format!("{head} {}", b64e(&b));
            lines.join("\n") + "\n"
        })
    });
    let e = verify(
        &bad,
        ARTIFACT,
        &key,
        &trust,
        &strict().with_witnesses(two.clone()),
    )
    .unwrap_err();
    assert!(matches!(e, VerifyError::Cosignature(_)), "{e}");
    // Without a policy the cosignatures are ignored, good or bad.
    verify(&bad, ARTIFACT, &key, &trust, &strict()).unwrap();

    // Freshness: from the newest cosignature (TIME + 9) ...
    let now = TIME as u64 + 20;
    let fresh = strict().with_witnesses(two.clone()).fresh_within(11, now);
    verify(&bundle, ARTIFACT, &key, &trust, &fresh).unwrap();
    let stale = strict().with_witnesses(two).fresh_within(10, now);
    let e = verify(&bundle, ARTIFACT, &key, &trust, &stale).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::StaleCheckpoint {
                age: 11,
                max_age: 10
            }
        ),
        "{e}"
    );
    // ... else from the SET-backed integrated time.
    verify(
        &bundle,
        ARTIFACT,
        &key,
        &trust,
        &strict().fresh_within(20, now),
    )
    .unwrap();
    let e = verify(
        &bundle,
        ARTIFACT,
        &key,
        &trust,
        &strict().fresh_within(19, now),
    )
    .unwrap_err();
    assert!(matches!(e, VerifyError::StaleCheckpoint { .. }), "{e}");
    let mut no_now = strict();
    no_now.max_checkpoint_age = Some(100);
    let e = verify(&bundle, ARTIFACT, &key, &trust, &no_now).unwrap_err();
    assert!(matches!(e, VerifyError::CheckpointUndated), "{e}");
}

fn checkpoint_of(bundle: &[u8], log: &TestLog, key: &SignerKey) -> VerifiedCheckpoint {
    verify(bundle, ARTIFACT, key, &log.trusted_root(), &strict())
        .unwrap()
        .checkpoint()
        .clone()
}

#[test]
fn rollback_needs_a_consistency_proof_and_forks_are_reported() {
    let signer = p256();
    let key = signer.signer_key().unwrap();
    let mut log = TestLog::new(5);
    let old_bundle = log.sign(&signer, ARTIFACT, 2); // size 3
    let mut forked = TestLog::new(5); // same key and origin, other history
    for _ in 0..4 {
        log.filler(7);
    }
    let new_bundle = log.reprove(&old_bundle); // size 7
    let old_cp = checkpoint_of(&old_bundle, &log, &key);
    let new_cp = checkpoint_of(&new_bundle, &log, &key);
    assert_eq!((old_cp.checkpoint().size, new_cp.checkpoint().size), (3, 7));

    let dir = tempfile::tempdir().unwrap();
    let state = CheckpointState::open(dir.path()).unwrap();
    assert_eq!(
        state.check(&new_cp, &NoProofs).unwrap(),
        StateOutcome::First
    );
    assert_eq!(state.check(&new_cp, &NoProofs).unwrap(), StateOutcome::Same);
    // An older checkpoint without a proof: refused.
    let e = state.check(&old_cp, &NoProofs).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::ConsistencyProofUnavailable {
                presented: 3,
                remembered: 7
            }
        ),
        "{e}"
    );
    // With the right proof: accepted, state unchanged.
    let proofs = StaticProofs(vec![(ORIGIN.into(), 3, 7, log.consistency(3, 7))]);
    assert_eq!(
        state.check(&old_cp, &proofs).unwrap(),
        StateOutcome::Older { newest: 7 }
    );
    assert_eq!(
        state.remembered(ORIGIN).unwrap().unwrap().checkpoint().size,
        7
    );
    // A wrong proof: possible fork, with both checkpoints.
    let mut wrong = log.consistency(3, 7);
    wrong[0].0[0] ^= 1;
    let e = state
        .check(&old_cp, &StaticProofs(vec![(ORIGIN.into(), 3, 7, wrong)]))
        .unwrap_err();
    let ev = e.fork_evidence().unwrap();
    assert_eq!(ev.remembered, new_cp.note_bytes());
    assert_eq!(ev.presented, old_cp.note_bytes());

    // Advancing: from 3 to 7 in a fresh state.
    let dir2 = tempfile::tempdir().unwrap();
    let state2 = CheckpointState::open(dir2.path()).unwrap();
    state2.check(&old_cp, &NoProofs).unwrap();
    let e = state2.check(&new_cp, &NoProofs).unwrap_err();
    assert!(
        matches!(e, VerifyError::ConsistencyProofUnavailable { .. }),
        "{e}"
    );
    assert_eq!(
        state2.check(&new_cp, &proofs).unwrap(),
        StateOutcome::Advanced { from: 3 }
    );
    assert_eq!(
        state2.remembered(ORIGIN).unwrap().unwrap().to_bytes(),
        new_cp.note_bytes()
    );

    // A fork: the same log key signs another tree of size 7.
    for i in 0..6 {
        forked.filler(100 + i);
    }
    let fork_bundle = forked.sign(&signer, ARTIFACT, 0);
    let fork_cp = checkpoint_of(&fork_bundle, &forked, &key);
    assert_eq!(fork_cp.checkpoint().size, 7);
    let e = state.check(&fork_cp, &NoProofs).unwrap_err();
    assert!(matches!(e, VerifyError::Fork { .. }), "{e}");
    assert_eq!(e.check(), "fork");
    let ev = e.fork_evidence().unwrap();
    assert_eq!(ev.origin, ORIGIN);
    assert_ne!(ev.remembered, ev.presented);
    // The state is unchanged by a refused checkpoint.
    assert_eq!(
        state.remembered(ORIGIN).unwrap().unwrap().to_bytes(),
        new_cp.note_bytes()
    );
    // No lock files or temporaries are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".checkpoint"));
}
