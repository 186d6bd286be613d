//! Interop against data kept outside the repository, in `../shared` beside the checkout
//! (`<crate>/../../../shared`): the C2SP signed-note examples (`vectors/`) and real Sigstore
//! checkpoints from Rekor v1 (ECDSA) and Rekor v2 (Ed25519, with witness cosignatures)
//! (`sigstore-public/`). Nothing is copied into the repo.
//!
//! Without that folder the tests print "SKIPPED: ../shared not found" to stderr and pass,
//! unless `CAIRN_REQUIRE_SHARED=1`, when they fail.

// Test helpers outside #[test] fns may unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cairn_note::*;
use serde_json::Value;

/// Returns the shared folder, or `None` (after saying so loudly) when it is absent.
fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CAIRN_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "CAIRN_REQUIRE_SHARED=1 but ../shared not found at {}",
            dir.display()
        );
    }
    // Straight to the stderr handle: libtest captures eprintln! of passing tests, and a skip
    // must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: ../shared not found (looked for {})",
        dir.display()
    );
    None
}

fn read_json(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer}"))
}

fn verifies(vkey: &str, note: &str) -> Result<VerifiedNote, NoteError> {
    let verifier = Ed25519Verifier::from_vkey(vkey)?;
    Note::parse(note.as_bytes())?.verify(&[&verifier])
}

#[test]
fn c2sp_signed_note_vectors() {
    let Some(shared) = shared_dir() else { return };
    let path = shared.join("vectors/out/signed_note.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let name = str_at(&v, "/name");
        let want_ok = v["want_ok"].as_bool().unwrap();
        let got = verifies(str_at(&v, "/vkey"), str_at(&v, "/note"));
        assert_eq!(got.is_ok(), want_ok, "{name}: {got:?}");
        n += 1;
    }
    assert!(n >= 7, "only {n} vectors");
}

#[test]
fn c2sp_spec_examples() {
    let Some(shared) = shared_dir() else { return };
    let v = read_json(&shared.join("vectors/upstream/c2sp/signed-note-examples.json"));

    let note = str_at(&v, "/signed_note_with_vkey/note");
    let verified = verifies(str_at(&v, "/signed_note_with_vkey/vkey"), note).unwrap();
    assert_eq!(verified.text(), "This is an example message.\n");

    let intro = str_at(&v, "/signed_note_intro_example_no_vkey/note");
    let parsed = Note::parse(intro.as_bytes()).unwrap();
    assert_eq!(
        parsed.text,
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    );
    assert_eq!(parsed.to_bytes(), intro.as_bytes());

    let cp_note = str_at(&v, "/checkpoint_example_no_vkey/note");
    let signed = SignedCheckpoint::parse(cp_note.as_bytes()).unwrap();
    assert_eq!(
        signed.checkpoint().origin.as_str(),
        "example.com/behind-the-sofa"
    );
    assert_eq!(signed.checkpoint().size, 20852163);
    assert_eq!(signed.to_bytes(), cp_note.as_bytes());
}

/// The host of a trusted root's `baseUrl`: the name Rekor signs checkpoints with.
fn host(base_url: &str) -> &str {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// Returns a verifier for the log with this `logId.keyId` in a trusted root, after checking
/// that the crate computes the same log ID from the key.
fn log_verifier(root: &Value, log_id: &str) -> Box<dyn NoteVerifier> {
    let tlog = root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| str_at(t, "/logId/keyId") == log_id)
        .unwrap_or_else(|| panic!("log {log_id} not in trusted root"));
    let name: KeyName = host(str_at(tlog, "/baseUrl")).parse().unwrap();
    let der = STANDARD
        .decode(str_at(tlog, "/publicKey/rawBytes"))
        .unwrap();
    let want_id = STANDARD.decode(log_id).unwrap();
    match str_at(tlog, "/publicKey/keyDetails") {
        "PKIX_ECDSA_P256_SHA_256" => {
            let v = EcdsaP256Verifier::new(name, &der).unwrap();
            assert_eq!(v.log_id().as_slice(), want_id, "Rekor v1 log ID");
            Box::new(v)
        }
        "PKIX_ED25519" => {
            let v = Ed25519Verifier::from_spki_der(name, &der).unwrap();
            assert_eq!(v.log_id().as_slice(), want_id, "Rekor v2 log ID");
            assert_eq!(
                ed25519_log_id(v.name(), v.verifying_key()).as_slice(),
                want_id
            );
            Box::new(v)
        }
        other => panic!("unexpected key type {other}"),
    }
}

/// Opens one bundle's checkpoint against its trusted root.
fn open_bundle_checkpoint(
    shared: &std::path::Path,
    entry: &Value,
) -> (Value, Result<(Checkpoint, VerifiedNote), NoteError>) {
    let base = shared.join("sigstore-public");
    let bundle = read_json(&base.join(str_at(entry, "/bundle")));
    let root = read_json(&base.join(str_at(entry, "/trusted_root")));
    let tlog = bundle
        .pointer("/verificationMaterial/tlogEntries/0")
        .unwrap()
        .clone();
    let verifier = log_verifier(&root, str_at(&tlog, "/logId/keyId"));
    let result = match tlog.pointer("/inclusionProof/checkpoint/envelope") {
        Some(Value::String(envelope)) => open_checkpoint(envelope.as_bytes(), &[&*verifier], None),
        _ => Err(NoteError::InvalidArgument("bundle has no checkpoint")),
    };
    (tlog, result)
}

#[test]
fn sigstore_checkpoints_verify() {
    let Some(shared) = shared_dir() else { return };
    let manifest = read_json(&shared.join("sigstore-public/manifest.json"));
    let mut cosignatures = 0;
    let bundles = manifest["bundles"].as_array().unwrap();
    for entry in bundles {
        let id = str_at(entry, "/id");
        let (tlog, result) = open_bundle_checkpoint(&shared, entry);
        let (cp, verified) = result.unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            cp.size.to_string(),
            str_at(&tlog, "/inclusionProof/treeSize"),
            "{id}"
        );
        assert_eq!(
            cp.root.to_base64(),
            str_at(&tlog, "/inclusionProof/rootHash"),
            "{id}"
        );
        // Byte-exact re-formatting of a real log's output.
        let envelope = str_at(&tlog, "/inclusionProof/checkpoint/envelope");
        assert_eq!(verified.note().to_bytes(), envelope.as_bytes(), "{id}");
        assert_eq!(cp.to_body(), verified.text(), "{id}");
        // Witness cosignatures on Rekor v2 checkpoints carry timestamps we can read.
        for sig in &verified.note().signatures[1..] {
            if sig.signature.len() == 72 {
                assert!(cosignature_timestamp(&sig.signature).is_some(), "{id}");
                cosignatures += 1;
            }
        }
    }
    assert_eq!(bundles.len(), 14);
    assert!(cosignatures >= 4, "{cosignatures}");
}

#[test]
fn sigstore_bad_checkpoints_are_rejected() {
    let Some(shared) = shared_dir() else { return };
    let manifest = read_json(&shared.join("sigstore-public/manifest.json"));
    for entry in manifest["negative"].as_array().unwrap() {
        let id = str_at(entry, "/id");
        let (_, result) = open_bundle_checkpoint(&shared, entry);
        // Which layer must catch each case: ours (the note and checkpoint) or a later one
        // (Merkle proof, SET, bundle structure) that is not this crate's job.
        match id {
            "checkpoint-bad-keyhint_fail" | "rekor2-checkpoint-no-matching-signature_fail" => {
                assert!(
                    matches!(result, Err(NoteError::UnverifiedNote)),
                    "{id}: {result:?}"
                )
            }
            "invalid-checkpoint-signature_fail" => {
                assert!(
                    matches!(result, Err(NoteError::BadSignature { .. })),
                    "{id}: {result:?}"
                )
            }
            "rekor2-checkpoint-missing-log-signature_fail"
            | "rekor2-checkpoint-missing-root-hash_fail" => {
                assert!(
                    matches!(result, Err(NoteError::Malformed { .. })),
                    "{id}: {result:?}"
                )
            }
            "rekor2-no-inclusion-proof_fail" => assert!(result.is_err(), "{id}"),
            _ => assert!(
                result.is_ok(),
                "{id} should pass the note layer: {result:?}"
            ),
        }
    }
}
