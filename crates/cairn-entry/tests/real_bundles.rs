//! Interop: the real Sigstore bundles and trusted roots in `shared/sigstore-public` (read in
//! place, never copied into the repository).
//!
//! The data lives at `../../../shared` from this crate. When it is absent the tests print
//! "SKIPPED" and pass, unless `CAIRN_REQUIRE_SHARED=1`, when they fail.

// Helpers outside #[test] functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use cairn_entry::sigstore::origin_of_base_url;
use cairn_entry::sigstore::specs::dev::sigstore::bundle::v1::bundle::Content;
use cairn_entry::{
    ed25519_log_id, set_payload, spki_log_id, trusted_root_for_log, Bundle, CreateEntryRequest,
    EntryBody, EntryError, HashedRekordV001Body, HashedRekordV002Body, LogKey, PublicKeyDetails,
    SignerAlgorithm, SignerKey, TransparencyLogEntry, TrustedRoot, VerifierKey,
};
use serde_json::Value;

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sigstore-public");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CAIRN_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("CAIRN_REQUIRE_SHARED=1 but {} is missing", dir.display());
    }
    eprintln!(
        "SKIPPED: ../shared not found ({} is missing)",
        dir.display()
    );
    None
}

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `*/bundle.sigstore.json` (or `*.sigstore.json`) below `dir`, sorted.
fn bundle_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".sigstore.json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Removes members at their protobuf default value ("0", "", [], false, null), which the
/// protobuf JSON mapping allows a writer to emit or omit.
fn strip_defaults(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| {
                    !matches!(v, Value::Null | Value::Bool(false))
                        && *v != &Value::String("0".into())
                        && *v != &Value::String(String::new())
                        && *v != &Value::Array(vec![])
                })
                .map(|(k, v)| (k.clone(), strip_defaults(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_defaults).collect()),
        other => other.clone(),
    }
}

struct Loaded {
    id: String,
    bundle: Bundle,
}

fn load_bundles(dir: &Path) -> Vec<Loaded> {
    bundle_files(&dir.join("bundles"))
        .into_iter()
        .map(|p| {
            let bundle: Bundle = serde_json::from_slice(&read(&p))
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let id = p
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            Loaded { id, bundle }
        })
        .collect()
}

fn tlog_entry(b: &Bundle) -> &TransparencyLogEntry {
    &b.verification_material.as_ref().unwrap().tlog_entries[0]
}

fn trusted_roots(dir: &Path) -> Vec<(String, TrustedRoot)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir.join("trusted_roots")).unwrap() {
        let p = e.unwrap().path();
        let root: TrustedRoot =
            serde_json::from_slice(&read(&p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push((p.file_name().unwrap().to_string_lossy().into_owned(), root));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_bundle_parses_and_re_serializes_to_the_same_json() {
    let Some(dir) = shared() else { return };
    let files = bundle_files(&dir);
    assert!(files.len() >= 14 + 9, "found only {} bundles", files.len());
    for p in files {
        let text = read(&p);
        let bundle: Bundle =
            serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let out = serde_json::to_value(&bundle).unwrap();
        let input: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(out, strip_defaults(&input), "{}", p.display());
        let again: Bundle = serde_json::from_value(out).unwrap();
        assert_eq!(again, bundle, "{}", p.display());
        // The defaults-written spelling (cairn_entry::to_json) reads back the same.
        let with_defaults = cairn_entry::to_json(&bundle).unwrap();
        let again: Bundle = serde_json::from_slice(&with_defaults).unwrap();
        assert_eq!(again, bundle, "{}", p.display());
    }
}

#[test]
fn every_trusted_root_parses_and_re_serializes_to_the_same_json() {
    let Some(dir) = shared() else { return };
    let roots = trusted_roots(&dir);
    assert_eq!(roots.len(), 3);
    for (name, root) in roots {
        let input: Value =
            serde_json::from_slice(&read(&dir.join("trusted_roots").join(&name))).unwrap();
        assert_eq!(
            serde_json::to_value(&root).unwrap(),
            strip_defaults(&input),
            "{name}"
        );
    }
}

#[test]
fn v2_bodies_parse_and_re_encode_byte_for_byte() {
    let Some(dir) = shared() else { return };
    let mut n = 0;
    for Loaded { id, bundle } in load_bundles(&dir) {
        let tle = tlog_entry(&bundle);
        let kv = tle.kind_version.as_ref().unwrap();
        if (kv.kind.as_str(), kv.version.as_str()) != ("hashedrekord", "0.0.2") {
            continue;
        }
        let raw = &tle.canonicalized_body;
        let body =
            HashedRekordV002Body::parse_canonical(raw).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(&body.to_canonical_bytes(), raw, "{id}");
        assert_eq!(
            EntryBody::parse(raw).unwrap(),
            EntryBody::HashedRekordV002(body.clone())
        );
        // The body records the bundle's signature and digest.
        if let Some(Content::MessageSignature(ms)) = &bundle.content {
            assert_eq!(body.signature().content, ms.signature, "{id}");
            assert_eq!(
                body.data().digest,
                ms.message_digest.as_ref().unwrap().digest,
                "{id}"
            );
        }
        n += 1;
    }
    assert_eq!(n, 5, "hashedrekord 0.0.2 bundles");
}

#[test]
fn v1_bodies_parse_and_re_encode_byte_for_byte() {
    let Some(dir) = shared() else { return };
    let (mut hashed, mut other) = (0, 0);
    for Loaded { id, bundle } in load_bundles(&dir) {
        let tle = tlog_entry(&bundle);
        let kv = tle.kind_version.as_ref().unwrap();
        let raw = &tle.canonicalized_body;
        match (kv.kind.as_str(), kv.version.as_str()) {
            ("hashedrekord", "0.0.1") => {
                let body = HashedRekordV001Body::parse_canonical(raw)
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(&body.to_canonical_bytes(), raw, "{id}");
                if let Some(Content::MessageSignature(ms)) = &bundle.content {
                    assert_eq!(body.signature(), ms.signature, "{id}");
                    assert_eq!(
                        body.digest(),
                        ms.message_digest.as_ref().unwrap().digest,
                        "{id}"
                    );
                }
                assert!(body.public_key_pem().starts_with(b"-----BEGIN "), "{id}");
                hashed += 1;
            }
            ("hashedrekord", "0.0.2") => {}
            (kind, version) => {
                assert_eq!(
                    EntryBody::parse(raw),
                    Err(EntryError::UnsupportedEntryKind {
                        kind: kind.into(),
                        api_version: version.into()
                    }),
                    "{id}"
                );
                other += 1;
            }
        }
    }
    assert_eq!(
        (hashed, other),
        (7, 2),
        "hashedrekord 0.0.1 and dsse bundles"
    );
}

/// Finds the trusted-root log whose logId matches the entry's.
fn find_log(roots: &[(String, TrustedRoot)], log_id: &[u8]) -> Option<LogKey> {
    roots.iter().flat_map(|(_, r)| &r.tlogs).find_map(|t| {
        (t.log_id.as_ref()?.key_id == log_id).then(|| {
            let pk = t.public_key.as_ref().unwrap();
            let details = PublicKeyDetails::ALL
                .iter()
                .copied()
                .find(|d| d.proto_number() == pk.key_details)
                .unwrap();
            LogKey::from_spki_der(details, pk.raw_bytes.as_deref().unwrap()).unwrap()
        })
    })
}

fn set_of(
    tle: &TransparencyLogEntry,
    log_id_override: Option<&[u8]>,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let set = tle
        .inclusion_promise
        .as_ref()?
        .signed_entry_timestamp
        .clone();
    let log_id: [u8; 32] = log_id_override
        .unwrap_or(&tle.log_id.as_ref().unwrap().key_id)
        .try_into()
        .unwrap();
    let payload = set_payload(
        &tle.canonicalized_body,
        tle.integrated_time,
        &log_id,
        u64::try_from(tle.log_index).unwrap(),
    );
    Some((payload, set))
}

#[test]
fn rekor_v1_sets_verify_against_the_trusted_roots() {
    let Some(dir) = shared() else { return };
    let roots = trusted_roots(&dir);
    let mut verified = 0;
    for Loaded { id, bundle } in load_bundles(&dir) {
        let tle = tlog_entry(&bundle);
        let Some((payload, set)) = set_of(tle, None) else {
            continue;
        };
        let key = find_log(&roots, &tle.log_id.as_ref().unwrap().key_id)
            .unwrap_or_else(|| panic!("{id}: log not in any trusted root"));
        assert_eq!(key.key_details(), PublicKeyDetails::PkixEcdsaP256Sha256);
        key.verify_set(&payload, &set)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        // The payload binds every field: change each and the SET fails.
        let tle_index = u64::try_from(tle.log_index).unwrap();
        let log_id: [u8; 32] = tle
            .log_id
            .as_ref()
            .unwrap()
            .key_id
            .clone()
            .try_into()
            .unwrap();
        let mut body = tle.canonicalized_body.clone();
        body[10] ^= 1;
        for (what, p) in [
            (
                "index",
                set_payload(
                    &tle.canonicalized_body,
                    tle.integrated_time,
                    &log_id,
                    tle_index + 1,
                ),
            ),
            (
                "time",
                set_payload(
                    &tle.canonicalized_body,
                    tle.integrated_time - 1,
                    &log_id,
                    tle_index,
                ),
            ),
            (
                "log id",
                set_payload(
                    &tle.canonicalized_body,
                    tle.integrated_time,
                    &[0; 32],
                    tle_index,
                ),
            ),
            (
                "body",
                set_payload(&body, tle.integrated_time, &log_id, tle_index),
            ),
        ] {
            assert_eq!(
                key.verify_set(&p, &set),
                Err(EntryError::SetMismatch),
                "{id}: {what}"
            );
        }
        verified += 1;
    }
    assert_eq!(verified, 7, "bundles with a SET");

    let neg = dir.join("negative/set-invalid-signature_fail/bundle.sigstore.json");
    let bundle: Bundle = serde_json::from_slice(&read(&neg)).unwrap();
    let tle = tlog_entry(&bundle);
    let (payload, set) = set_of(tle, None).unwrap();
    let key = find_log(&roots, &tle.log_id.as_ref().unwrap().key_id).unwrap();
    assert!(key.verify_set(&payload, &set).is_err());
}

#[test]
fn ed25519_log_ids_in_the_trusted_roots_are_c2sp_key_ids() {
    let Some(dir) = shared() else { return };
    let mut n = 0;
    for (name, root) in trusted_roots(&dir) {
        for t in &root.tlogs {
            let pk = t.public_key.as_ref().unwrap();
            let raw = pk.raw_bytes.as_deref().unwrap();
            let log_id = &t.log_id.as_ref().unwrap().key_id;
            if pk.key_details == PublicKeyDetails::PkixEd25519.proto_number() {
                let key =
                    ed25519_dalek::VerifyingKey::from_bytes(raw[12..].try_into().unwrap()).unwrap();
                let origin = origin_of_base_url(&t.base_url).unwrap();
                assert_eq!(
                    &ed25519_log_id(origin, &key).unwrap().to_vec(),
                    log_id,
                    "{name} {origin}"
                );
                LogKey::from_spki_der(PublicKeyDetails::PkixEd25519, raw).unwrap();
                n += 1;
            } else {
                assert_eq!(&spki_log_id(raw).to_vec(), log_id, "{name} {}", t.base_url);
            }
        }
    }
    assert!(n >= 5);
}

#[test]
fn our_trusted_root_matches_production_for_the_production_v2_log() {
    let Some(dir) = shared() else { return };
    let production: Value =
        serde_json::from_slice(&read(&dir.join("trusted_roots/production.json"))).unwrap();
    let prod_tlog = production["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["publicKey"]["keyDetails"] == "PKIX_ED25519")
        .unwrap()
        .clone();
    let raw = b64d(prod_tlog["publicKey"]["rawBytes"].as_str().unwrap());
    let key = ed25519_dalek::VerifyingKey::from_bytes(raw[12..].try_into().unwrap()).unwrap();
    let start = prod_tlog["publicKey"]["validFor"]["start"]
        .as_str()
        .unwrap();
    assert_eq!(start, "2025-09-23T00:00:00Z");
    let ours =
        trusted_root_for_log(prod_tlog["baseUrl"].as_str().unwrap(), &key, 1_758_585_600).unwrap();
    let mut ours = serde_json::to_value(&ours).unwrap()["tlogs"][0].clone();
    // Production leaves checkpointKeyId to default to logId; we write it (equal) explicitly.
    assert_eq!(ours["checkpointKeyId"], prod_tlog["logId"]);
    ours.as_object_mut().unwrap().remove("checkpointKeyId");
    assert_eq!(ours, prod_tlog);
}

#[test]
fn real_public_key_signatures_verify_with_signer_key() {
    let Some(dir) = shared() else { return };
    // Rekor v2: the body names the signer by SPKI; verify the logged signature over the
    // logged digest, then replay it as a request through the whole server pipeline.
    let mut v2 = 0;
    for Loaded { id, bundle } in load_bundles(&dir) {
        let tle = tlog_entry(&bundle);
        let Ok(EntryBody::HashedRekordV002(body)) = EntryBody::parse(&tle.canonicalized_body)
        else {
            continue;
        };
        let VerifierKey::PublicKey { raw_bytes } = &body.signature().verifier.key else {
            continue;
        };
        let key = SignerKey::from_spki_der(SignerAlgorithm::EcdsaP256Sha256, raw_bytes).unwrap();
        key.verify_digest(&body.data().digest, &body.signature().content)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let json = format!(
            r#"{{"hashedRekordRequestV002":{{"digest":"{}","signature":{{"content":"{}","verifier":{{"publicKey":{{"rawBytes":"{}"}},"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}}}}}"#,
            base64::engine::general_purpose::STANDARD.encode(&body.data().digest),
            base64::engine::general_purpose::STANDARD.encode(&body.signature().content),
            base64::engine::general_purpose::STANDARD.encode(raw_bytes),
        );
        let request = CreateEntryRequest::from_json(json.as_bytes())
            .unwrap()
            .validate()
            .unwrap();
        request.verify().unwrap();
        assert_eq!(
            request.to_body().to_canonical_bytes(),
            tle.canonicalized_body,
            "{id}"
        );
        v2 += 1;
    }
    assert_eq!(v2, 1, "v2 bodies with a public-key verifier");

    // Rekor v1, key-signed bundle: key.pub (PEM) verifies the bundle's signature over the digest.
    let b = dir.join("bundles/v1-prod-publickey");
    let pem = String::from_utf8(read(&b.join("key.pub"))).unwrap();
    let der = b64d(
        &pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    );
    let bundle: Bundle = serde_json::from_slice(&read(&b.join("bundle.sigstore.json"))).unwrap();
    let Some(Content::MessageSignature(ms)) = &bundle.content else {
        panic!("no message signature")
    };
    let key = SignerKey::from_spki_der(SignerAlgorithm::EcdsaP256Sha256, &der).unwrap();
    let digest = &ms.message_digest.as_ref().unwrap().digest;
    key.verify_digest(digest, &ms.signature).unwrap();
    let artifact = read(&b.join("a.txt"));
    assert_eq!(&SignerAlgorithm::EcdsaP256Sha256.digest(&artifact), digest);
    let mut wrong = digest.clone();
    wrong[0] ^= 1;
    assert_eq!(
        key.verify_digest(&wrong, &ms.signature),
        Err(EntryError::SignatureMismatch)
    );
}
