use super::*;
use crate::crypto::{SignerAlgorithm, SignerKeyPair};
use crate::set::{set_payload, sign_set, LogKey};
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use rand_chacha::rand_core::SeedableRng;
use serde_json::{json, Value};

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// The production Rekor v2 log as production.json lists it (public data).
const PROD_V2_URL: &str = "https://log2025-1.rekor.sigstore.dev";
const PROD_V2_SPKI: &str = "MCowBQYDK2VwAyEAt8rlp1knGwjfbcXAYPYAkn0XiLz1x8O4t0YkEhie244=";
const PROD_V2_LOG_ID: &str = "zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=";

fn prod_v2_key() -> VerifyingKey {
    let spki = b64d(PROD_V2_SPKI);
    VerifyingKey::from_bytes(spki[12..].try_into().unwrap()).unwrap()
}

#[test]
fn log_id_matches_the_production_rekor_v2_log() {
    let id = ed25519_log_id("log2025-1.rekor.sigstore.dev", &prod_v2_key()).unwrap();
    assert_eq!(id.to_vec(), b64d(PROD_V2_LOG_ID));
    assert_eq!(ed25519_spki_der(&prod_v2_key()), b64d(PROD_V2_SPKI));
}

#[test]
fn trusted_root_matches_the_production_entry_plus_checkpoint_key_id() {
    // validFor.start 2025-09-23T00:00:00Z
    let root = trusted_root_for_log(PROD_V2_URL, &prod_v2_key(), 1_758_585_600).unwrap();
    let v = serde_json::to_value(&root).unwrap();
    assert_eq!(v["mediaType"], TRUSTED_ROOT_MEDIA_TYPE);
    assert_eq!(
        v["tlogs"][0],
        json!({
            "baseUrl": PROD_V2_URL,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": PROD_V2_SPKI,
                "keyDetails": "PKIX_ED25519",
                "validFor": {"start": "2025-09-23T00:00:00Z"}
            },
            "logId": {"keyId": PROD_V2_LOG_ID},
            "checkpointKeyId": {"keyId": PROD_V2_LOG_ID}
        })
    );
    let back: TrustedRoot = serde_json::from_value(v).unwrap();
    assert_eq!(back, root);
}

#[test]
fn origins_and_base_urls() {
    assert_eq!(
        origin_of_base_url("https://a.example/log").unwrap(),
        "a.example/log"
    );
    for bad in [
        "a.example",
        "https://",
        "https://a.example/",
        "https://a b",
        "ftp://a",
        "https://a+b",
    ] {
        assert!(
            matches!(
                origin_of_base_url(bad),
                Err(EntryError::InvalidOrigin { .. })
            ),
            "{bad}"
        );
    }
    assert!(ed25519_log_id("", &prod_v2_key()).is_err());
}

struct Fixture {
    request: HashedRekordRequest,
    body: Vec<u8>,
    log: SigningKey,
    log_id: [u8; 32],
}

fn fixture() -> Fixture {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let signer = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng);
    let request =
        HashedRekordRequest::sign(&signer, SignerAlgorithm::EcdsaP256Sha256.digest(b"a")).unwrap();
    let body = request.to_body().to_canonical_bytes();
    let log = SigningKey::from_bytes(&[4; 32]);
    let log_id = ed25519_log_id("log.example", &log.verifying_key()).unwrap();
    Fixture {
        request,
        body,
        log,
        log_id,
    }
}

fn entry(f: &Fixture, log_index: u64, integrated_time: i64) -> TransparencyLogEntry {
    let payload = set_payload(&f.body, integrated_time, &f.log_id, log_index);
    transparency_log_entry(LogEntryParts {
        log_index,
        log_id: f.log_id,
        integrated_time,
        signed_entry_timestamp: Some(sign_set(&f.log, &payload)),
        inclusion_proof: InclusionProofParts {
            leaf_index: log_index,
            tree_size: log_index + 2,
            root_hash: [0x11; 32],
            hashes: vec![[0x22; 32], [0x33; 32]],
            checkpoint: "log.example\n9\nERERERERERERERERERERERERERERERERERERERERERE=\n\n— log.example AAAA\n"
                .into(),
        },
        canonicalized_body: &f.body,
    })
    .unwrap()
}

#[test]
fn transparency_log_entry_json_is_the_protobuf_mapping() {
    let f = fixture();
    let tle = entry(&f, 7, 1_700_000_000);
    let v = serde_json::to_value(&tle).unwrap();
    assert_eq!(v["logIndex"], "7");
    assert_eq!(v["integratedTime"], "1700000000");
    assert_eq!(
        v["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.2"})
    );
    assert_eq!(v["logId"]["keyId"], crate::b64::encode(&f.log_id));
    assert_eq!(v["inclusionProof"]["treeSize"], "9");
    assert_eq!(
        v["inclusionProof"]["rootHash"],
        crate::b64::encode(&[0x11; 32])
    );
    assert_eq!(
        v["inclusionProof"]["hashes"][1],
        crate::b64::encode(&[0x33; 32])
    );
    assert_eq!(v["canonicalizedBody"], crate::b64::encode(&f.body));
    let set = b64d(
        v["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .unwrap(),
    );
    LogKey::ed25519(f.log.verifying_key())
        .verify_set(&set_payload(&f.body, 1_700_000_000, &f.log_id, 7), &set)
        .unwrap();
    let back: TransparencyLogEntry = serde_json::from_value(v).unwrap();
    assert_eq!(back, tle);
}

#[test]
fn zero_values_are_omitted_as_protojson_does() {
    let f = fixture();
    let v = serde_json::to_value(entry(&f, 0, 0)).unwrap();
    assert!(v.get("logIndex").is_none());
    assert!(v.get("integratedTime").is_none());
    let back: TransparencyLogEntry = serde_json::from_value(v).unwrap();
    assert_eq!(back.log_index, 0);
}

#[test]
fn entry_checks_ranges_and_body() {
    let f = fixture();
    let parts =
        |log_index: u64, leaf_index: u64, tree_size: u64, body: &'static [u8]| LogEntryParts {
            log_index,
            log_id: f.log_id,
            integrated_time: 0,
            signed_entry_timestamp: None,
            inclusion_proof: InclusionProofParts {
                leaf_index,
                tree_size,
                root_hash: [0; 32],
                hashes: vec![],
                checkpoint: String::new(),
            },
            canonicalized_body: body,
        };
    let body: &'static [u8] = f.body.clone().leak();
    assert!(matches!(
        transparency_log_entry(parts(u64::MAX, 0, 1, body)),
        Err(EntryError::OutOfRange {
            field: "logIndex",
            ..
        })
    ));
    assert!(matches!(
        transparency_log_entry(parts(1, 1, 1, body)),
        Err(EntryError::Inconsistent(_))
    ));
    assert!(matches!(
        transparency_log_entry(parts(0, 0, 1, b"{}")),
        Err(EntryError::Json(_))
    ));
}

#[test]
fn bundle_v03_shape() {
    let f = fixture();
    let bundle = bundle_v03(&f.request, entry(&f, 3, 1)).unwrap();
    let v = serde_json::to_value(&bundle).unwrap();
    assert_eq!(v["mediaType"], BUNDLE_V03_MEDIA_TYPE);
    assert_eq!(
        v["verificationMaterial"]["publicKey"]["hint"],
        public_key_hint(f.request.key().spki_der())
    );
    assert_eq!(v["verificationMaterial"]["tlogEntries"][0]["logIndex"], "3");
    assert_eq!(
        v["messageSignature"],
        json!({
            "messageDigest": {"algorithm": "SHA2_256", "digest": crate::b64::encode(f.request.digest())},
            "signature": crate::b64::encode(f.request.signature()),
        })
    );
    let back: Bundle = serde_json::from_value(v).unwrap();
    assert_eq!(back, bundle);
}

#[test]
fn bundle_refuses_an_entry_for_another_request() {
    let f = fixture();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
    let other = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng);
    let other =
        HashedRekordRequest::sign(&other, SignerAlgorithm::EcdsaP256Sha256.digest(b"a")).unwrap();
    assert!(matches!(
        bundle_v03(&other, entry(&f, 3, 1)),
        Err(EntryError::Inconsistent(_))
    ));
}

#[test]
fn ed25519ph_bundle_records_sha2_512() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    let signer = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rng);
    let request =
        HashedRekordRequest::sign(&signer, SignerAlgorithm::Ed25519Ph.digest(b"a")).unwrap();
    let body = request.to_body().to_canonical_bytes();
    assert!(String::from_utf8(body.clone())
        .unwrap()
        .contains(r#""algorithm":"SHA2_512""#));
    let mut f = fixture();
    f.body = body;
    f.request = request;
    let bundle = bundle_v03(&f.request, entry(&f, 0, 0)).unwrap();
    let v: Value = serde_json::to_value(bundle).unwrap();
    assert_eq!(
        v["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_512"
    );
}

#[test]
fn to_json_writes_defaults_but_not_unset_messages() {
    let f = fixture();
    let mut tle = entry(&f, 0, 0);
    tle.inclusion_promise = None;
    if let Some(p) = tle.inclusion_proof.as_mut() {
        p.hashes.clear();
    }
    let v: Value = serde_json::from_slice(&to_json(&tle).unwrap()).unwrap();
    assert_eq!(v["logIndex"], "0");
    assert_eq!(v["integratedTime"], "0");
    assert_eq!(v["inclusionProof"]["logIndex"], "0");
    assert_eq!(v["inclusionProof"]["hashes"], json!([]));
    assert!(v.get("inclusionPromise").is_none());
    let back: TransparencyLogEntry = serde_json::from_value(v).unwrap();
    assert_eq!(back, tle);

    let root = trusted_root_for_log(PROD_V2_URL, &prod_v2_key(), 1).unwrap();
    let pretty = to_json_pretty(&root).unwrap();
    let back: TrustedRoot = serde_json::from_slice(&pretty).unwrap();
    assert_eq!(back, root);
    let v: Value = serde_json::from_slice(&pretty).unwrap();
    // Optional fields stay absent when unset.
    assert!(v["tlogs"][0]["publicKey"]["validFor"].get("end").is_none());
}
