use super::*;
use crate::crypto::SignerKeyPair;
use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use serde_json::{json, Value};

fn pair(alg: SignerAlgorithm, seed: u64) -> SignerKeyPair {
    SignerKeyPair::generate(alg, &mut rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

/// A valid, verifying request as a JSON value, for each accepted algorithm.
fn valid(alg: SignerAlgorithm) -> Value {
    let req = HashedRekordRequest::sign(&pair(alg, 1), alg.digest(b"artifact")).unwrap();
    serde_json::from_slice(&req.to_wire().to_json()).unwrap()
}

/// Runs the whole server pipeline: parse, validate, verify.
fn pipeline(json: &[u8]) -> Result<HashedRekordRequest, EntryError> {
    let req = CreateEntryRequest::from_json(json)?.validate()?;
    req.verify()?;
    Ok(req)
}

fn run(v: &Value) -> Result<HashedRekordRequest, EntryError> {
    pipeline(&serde_json::to_vec(v).unwrap())
}

fn verifier(v: &mut Value) -> &mut Value {
    &mut v["hashedRekordRequestV002"]["signature"]["verifier"]
}

const ALGS: [SignerAlgorithm; 2] = [SignerAlgorithm::EcdsaP256Sha256, SignerAlgorithm::Ed25519Ph];

#[test]
fn valid_requests_pass_the_pipeline() {
    for alg in ALGS {
        let req = run(&valid(alg)).unwrap();
        assert_eq!(req.key().algorithm(), alg);
        assert_eq!(req.digest().len(), alg.digest_len());
    }
}

#[test]
fn wire_json_is_camel_case_protobuf_json() {
    let v = valid(SignerAlgorithm::EcdsaP256Sha256);
    let h = &v["hashedRekordRequestV002"];
    assert!(h["digest"].as_str().unwrap().ends_with('='));
    assert_eq!(
        h["signature"]["verifier"]["keyDetails"],
        "PKIX_ECDSA_P256_SHA_256"
    );
    assert!(h["signature"]["verifier"]["publicKey"]["rawBytes"].is_string());
}

#[test]
fn proto_field_names_and_url_safe_base64_are_accepted() {
    // rekor-tiles' CLIENTS.md curl example spells the verifier fields in snake_case.
    for alg in ALGS {
        let v = valid(alg);
        let text = serde_json::to_string(&v)
            .unwrap()
            .replace("hashedRekordRequestV002", "hashed_rekord_request_v002")
            .replace("keyDetails", "key_details")
            .replace("publicKey", "public_key")
            .replace("rawBytes", "raw_bytes");
        assert_eq!(pipeline(text.as_bytes()).unwrap(), run(&v).unwrap());

        let mut url = v.clone();
        let h = &mut url["hashedRekordRequestV002"];
        for ptr in [
            "/digest",
            "/signature/content",
            "/signature/verifier/publicKey/rawBytes",
        ] {
            let s = h.pointer(ptr).unwrap().as_str().unwrap().to_owned();
            let u = s
                .replace('+', "-")
                .replace('/', "_")
                .trim_end_matches('=')
                .to_owned();
            *h.pointer_mut(ptr).unwrap() = Value::String(u);
        }
        assert_eq!(run(&url).unwrap(), run(&v).unwrap());
    }
}

/// Each single-field mutation of a valid request, with the variant it must produce.
#[test]
fn single_field_mutations_are_rejected_with_the_right_variant() {
    type Mutation = (
        &'static str,
        fn(&mut Value, SignerAlgorithm),
        fn(&EntryError) -> bool,
    );
    let mutations: Vec<Mutation> = vec![
        (
            "keyDetails of the other accepted algorithm",
            |v, alg| {
                let other = match alg {
                    SignerAlgorithm::EcdsaP256Sha256 => "PKIX_ED25519_PH",
                    SignerAlgorithm::Ed25519Ph => "PKIX_ECDSA_P256_SHA_256",
                };
                verifier(v)["keyDetails"] = json!(other);
            },
            |e| matches!(e, EntryError::KeyAlgorithmMismatch { .. }),
        ),
        (
            "keyDetails valid in Sigstore but not accepted",
            |v, _| verifier(v)["keyDetails"] = json!("PKIX_RSA_PKCS1V15_2048_SHA256"),
            |e| {
                matches!(
                    e,
                    EntryError::UnsupportedKeyDetails(PublicKeyDetails::PkixRsaPkcs1v15_2048Sha256)
                )
            },
        ),
        (
            "keyDetails pure Ed25519 (cannot sign a prehash)",
            |v, _| verifier(v)["keyDetails"] = json!("PKIX_ED25519"),
            |e| {
                matches!(
                    e,
                    EntryError::UnsupportedKeyDetails(PublicKeyDetails::PkixEd25519)
                )
            },
        ),
        (
            "keyDetails unknown name",
            |v, _| verifier(v)["keyDetails"] = json!("PKIX_ECDSA_P256_SHA256"),
            |e| matches!(e, EntryError::UnknownEnumValue { .. }),
        ),
        (
            "keyDetails by number",
            |v, _| verifier(v)["keyDetails"] = json!(5),
            |e| matches!(e, EntryError::EnumByNumber { .. }),
        ),
        (
            "keyDetails UNSPECIFIED",
            |v, _| verifier(v)["keyDetails"] = json!("PUBLIC_KEY_DETAILS_UNSPECIFIED"),
            |e| matches!(e, EntryError::Missing { .. }),
        ),
        (
            "keyDetails absent",
            |v, _| {
                verifier(v).as_object_mut().unwrap().remove("keyDetails");
            },
            |e| matches!(e, EntryError::Missing { field } if field.ends_with("keyDetails")),
        ),
        (
            "digest one byte short",
            |v, alg| {
                v["hashedRekordRequestV002"]["digest"] =
                    json!(b64::encode(&vec![1u8; alg.digest_len() - 1]))
            },
            |e| matches!(e, EntryError::DigestLength { .. }),
        ),
        (
            "digest one byte long",
            |v, alg| {
                v["hashedRekordRequestV002"]["digest"] =
                    json!(b64::encode(&vec![1u8; alg.digest_len() + 1]))
            },
            |e| matches!(e, EntryError::DigestLength { .. }),
        ),
        (
            "digest of the other hash",
            |v, alg| {
                let n = if alg.digest_len() == 32 { 64 } else { 32 };
                v["hashedRekordRequestV002"]["digest"] = json!(b64::encode(&vec![1u8; n]))
            },
            |e| matches!(e, EntryError::DigestLength { .. }),
        ),
        (
            "digest bad base64",
            |v, _| v["hashedRekordRequestV002"]["digest"] = json!("not base64!"),
            |e| matches!(e, EntryError::Base64 { field, .. } if field.ends_with(".digest")),
        ),
        (
            "digest empty",
            |v, _| v["hashedRekordRequestV002"]["digest"] = json!(""),
            |e| matches!(e, EntryError::Missing { field } if field.ends_with(".digest")),
        ),
        (
            "digest null",
            |v, _| v["hashedRekordRequestV002"]["digest"] = Value::Null,
            |e| matches!(e, EntryError::Missing { .. }),
        ),
        (
            "digest of another artifact",
            |v, alg| {
                v["hashedRekordRequestV002"]["digest"] = json!(b64::encode(&alg.digest(b"other")))
            },
            |e| *e == EntryError::SignatureMismatch,
        ),
        (
            "signature bad base64",
            |v, _| v["hashedRekordRequestV002"]["signature"]["content"] = json!("%%%"),
            |e| matches!(e, EntryError::Base64 { field, .. } if field.ends_with(".content")),
        ),
        (
            "signature not a signature encoding",
            |v, _| {
                v["hashedRekordRequestV002"]["signature"]["content"] =
                    json!(b64::encode(&[0x30; 10]))
            },
            |e| matches!(e, EntryError::MalformedSignature { .. }),
        ),
        (
            "signature by another key",
            |v, alg| {
                let other = pair(alg, 99).sign_digest(&alg.digest(b"artifact")).unwrap();
                v["hashedRekordRequestV002"]["signature"]["content"] = json!(b64::encode(&other));
            },
            |e| *e == EntryError::SignatureMismatch,
        ),
        (
            "public key bad DER",
            |v, _| verifier(v)["publicKey"]["rawBytes"] = json!(b64::encode(b"\x30\x03\x02\x01")),
            |e| matches!(e, EntryError::InvalidPublicKey { .. }),
        ),
        (
            "public key bad base64",
            |v, _| verifier(v)["publicKey"]["rawBytes"] = json!("***"),
            |e| matches!(e, EntryError::Base64 { field, .. } if field.ends_with("publicKey.rawBytes")),
        ),
        (
            "public key of another signer",
            |v, alg| {
                verifier(v)["publicKey"]["rawBytes"] =
                    json!(b64::encode(&pair(alg, 99).public_spki_der()))
            },
            |e| *e == EntryError::SignatureMismatch,
        ),
        (
            "certificate instead of public key",
            |v, _| {
                let pk = verifier(v)
                    .as_object_mut()
                    .unwrap()
                    .remove("publicKey")
                    .unwrap();
                verifier(v)["x509Certificate"] = pk;
            },
            |e| *e == EntryError::UnsupportedVerifier,
        ),
        (
            "certificate and public key",
            |v, _| {
                let pk = verifier(v)["publicKey"].clone();
                verifier(v)["x509Certificate"] = pk;
            },
            |e| matches!(e, EntryError::OneofConflict { .. }),
        ),
        (
            "verifier without a key",
            |v, _| {
                verifier(v).as_object_mut().unwrap().remove("publicKey");
            },
            |e| matches!(e, EntryError::Missing { .. }),
        ),
        (
            "unknown field",
            |v, _| v["hashedRekordRequestV002"]["signature"]["extra"] = json!(1),
            |e| matches!(e, EntryError::Json(m) if m.contains("unknown field")),
        ),
        (
            "dsse request",
            |v, _| {
                let h = v
                    .as_object_mut()
                    .unwrap()
                    .remove("hashedRekordRequestV002")
                    .unwrap();
                v["dsseRequestV002"] = h;
            },
            |e| *e == EntryError::UnsupportedRequestType("dsseRequestV002"),
        ),
        (
            "both oneof members",
            |v, _| v["dsseRequestV002"] = json!({}),
            |e| matches!(e, EntryError::OneofConflict { .. }),
        ),
        (
            "empty object",
            |v, _| *v = json!({}),
            |e| matches!(e, EntryError::Missing { .. }),
        ),
        (
            "wrong JSON type",
            |v, _| v["hashedRekordRequestV002"]["digest"] = json!(12),
            |e| matches!(e, EntryError::Json(_)),
        ),
    ];
    for alg in ALGS {
        for (name, mutate, expected) in &mutations {
            let mut v = valid(alg);
            mutate(&mut v, alg);
            let err = run(&v).expect_err(name);
            assert!(expected(&err), "{alg} / {name}: got {err:?}");
            // Every message must be presentable to a client.
            assert!(!err.to_string().is_empty());
        }
    }
}

#[test]
fn duplicate_fields_are_rejected_even_across_spellings() {
    let v = valid(SignerAlgorithm::EcdsaP256Sha256);
    let text = serde_json::to_string(&v).unwrap();
    let dup = text.replacen(
        "\"keyDetails\"",
        "\"key_details\":\"PKIX_ED25519_PH\",\"keyDetails\"",
        1,
    );
    assert!(
        matches!(pipeline(dup.as_bytes()), Err(EntryError::Json(m)) if m.contains("duplicate"))
    );
}

#[test]
fn syntax_trailing_data_and_size() {
    let text = serde_json::to_vec(&valid(SignerAlgorithm::EcdsaP256Sha256)).unwrap();
    let mut trailing = text.clone();
    trailing.extend_from_slice(b"{}");
    assert!(matches!(pipeline(&trailing), Err(EntryError::Json(_))));
    assert!(matches!(
        pipeline(&text[..text.len() - 1]),
        Err(EntryError::Json(_))
    ));
    let big = vec![b' '; MAX_REQUEST_BYTES + 1];
    assert!(matches!(pipeline(&big), Err(EntryError::TooLarge { .. })));
    assert!(matches!(pipeline(b"\xff"), Err(EntryError::Json(_))));
}

/// Every single-byte change of a valid request is rejected, or yields the very same entry
/// (e.g. '+' -> '-' in a value with no other alphabet-specific character).
#[test]
fn every_single_byte_change_is_rejected_or_harmless() {
    for alg in ALGS {
        let text = serde_json::to_vec(&valid(alg)).unwrap();
        let original = pipeline(&text).unwrap().to_body();
        for i in 0..text.len() {
            for delta in [0x01u8, 0x20] {
                let mut m = text.clone();
                m[i] ^= delta;
                if let Ok(req) = pipeline(&m) {
                    assert_eq!(req.to_body(), original, "{alg}: byte {i} ^ {delta:#x}");
                }
            }
        }
    }
}

fn arb_key_details() -> impl Strategy<Value = PublicKeyDetails> {
    prop::sample::select(PublicKeyDetails::ALL.to_vec())
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..200)
}

prop_compose! {
    fn arb_request()(
        digest in arb_bytes(),
        content in arb_bytes(),
        raw_bytes in arb_bytes(),
        cert in any::<bool>(),
        key_details in arb_key_details(),
    ) -> CreateEntryRequest {
        let key = if cert {
            VerifierKey::X509Certificate { raw_bytes }
        } else {
            VerifierKey::PublicKey { raw_bytes }
        };
        CreateEntryRequest {
            hashed_rekord_request_v002: HashedRekordRequestV002 {
                digest,
                signature: Signature { content, verifier: Verifier { key, key_details } },
            },
        }
    }
}

proptest! {
    #[test]
    fn request_json_round_trips(req in arb_request()) {
        prop_assert_eq!(CreateEntryRequest::from_json(&req.to_json())?, req);
    }

    #[test]
    fn from_json_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = CreateEntryRequest::from_json(&bytes);
    }

    #[test]
    fn signed_requests_round_trip_and_verify(seed in any::<u64>(), msg in arb_bytes(), ed in any::<bool>()) {
        let alg = if ed { SignerAlgorithm::Ed25519Ph } else { SignerAlgorithm::EcdsaP256Sha256 };
        let req = HashedRekordRequest::sign(&pair(alg, seed), alg.digest(&msg))?;
        let back = pipeline(&req.to_wire().to_json())?;
        prop_assert_eq!(back, req);
    }
}

/// The messages quoted in docs/formats-entry.md §11, exactly.
#[test]
fn documented_error_messages() {
    let alg = SignerAlgorithm::EcdsaP256Sha256;
    let mut v = valid(alg);
    v["hashedRekordRequestV002"]["digest"] = json!("not base64!");
    assert_eq!(
        run(&v).unwrap_err().to_string(),
        "hashedRekordRequestV002.digest: invalid base64 (Invalid symbol 32, offset 3.)"
    );
    let mut v = valid(alg);
    v["hashedRekordRequestV002"]["digest"] = json!(b64::encode(&[1u8; 31]));
    assert_eq!(
        run(&v).unwrap_err().to_string(),
        "digest is 31 bytes; PKIX_ECDSA_P256_SHA_256 signs a 32-byte SHA2_256 digest"
    );
    let mut v = valid(alg);
    verifier(&mut v)["keyDetails"] = json!("PKIX_RSA_PKCS1V15_2048_SHA256");
    assert_eq!(
        run(&v).unwrap_err().to_string(),
        "hashedRekordRequestV002.signature.verifier.keyDetails: PKIX_RSA_PKCS1V15_2048_SHA256 \
         is not accepted by this log; accepted: PKIX_ECDSA_P256_SHA_256, PKIX_ED25519_PH"
    );
    let mut v = valid(alg);
    verifier(&mut v)["keyDetails"] = json!("PKIX_ED25519_PH");
    assert_eq!(
        run(&v).unwrap_err().to_string(),
        "public key is an ECDSA P-256 key but keyDetails is PKIX_ED25519_PH"
    );
    assert_eq!(
        EntryError::SignatureMismatch.to_string(),
        "signature does not verify over the digest with the given public key"
    );
}
