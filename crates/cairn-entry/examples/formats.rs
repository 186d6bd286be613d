//! Prints a worked example of every format in docs/formats-entry.md, from fixed keys, so the
//! document can be regenerated and checked:
//! `CARGO_TARGET_DIR=/work/target-entry cargo run -p cairn-entry --example formats`.

// An example is not library code: a panic here is a bug in the example.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use cairn_entry::{
    bundle_v03, ed25519_log_id, set_payload, sign_set, transparency_log_entry,
    trusted_root_for_log, CreateEntryRequest, HashedRekordRequest, InclusionProofParts,
    LogEntryParts, LogKey, SignerAlgorithm, SignerKeyPair,
};
use ed25519_dalek::Signer as _;
use rand_chacha::rand_core::SeedableRng;
use sha2::{Digest as _, Sha256};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

fn main() {
    let artifact = b"hello, cairn\n";
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2026);

    println!("## signer (ECDSA P-256, seeded) and artifact {artifact:?}");
    let signer = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rng);
    let digest = SignerAlgorithm::EcdsaP256Sha256.digest(artifact);
    println!(
        "public key SPKI (base64): {}",
        b64(&signer.public_spki_der())
    );
    println!("SHA-256 digest (hex): {}", hex::encode(&digest));
    let request = HashedRekordRequest::sign(&signer, digest).unwrap();

    println!("\n## CreateEntryRequest (POST /api/v2/log/entries)");
    let json = request.to_wire().to_json();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    println!("{}", pretty(&value));
    let parsed = CreateEntryRequest::from_json(&json)
        .unwrap()
        .validate()
        .unwrap();
    parsed.verify().unwrap();

    println!("\n## canonical body (hashedrekord 0.0.2)");
    let body = parsed.to_body().to_canonical_bytes();
    println!("{}", String::from_utf8(body.clone()).unwrap());
    let leaf: [u8; 32] = Sha256::new()
        .chain_update([0])
        .chain_update(&body)
        .finalize()
        .into();
    println!(
        "leaf hash SHA-256(0x00 || body) (hex): {}",
        hex::encode(leaf)
    );

    println!("\n## log key, origin and log ID");
    let origin = "log.cairn.example";
    let log = ed25519_dalek::SigningKey::from_bytes(&[0x11; 32]);
    let log_id = ed25519_log_id(origin, &log.verifying_key()).unwrap();
    println!("origin: {origin}");
    println!(
        "log public key (raw, base64): {}",
        b64(log.verifying_key().as_bytes())
    );
    println!(
        "log ID = SHA-256(origin || 0x0A || 0x01 || key) (base64): {}",
        b64(&log_id)
    );
    println!(
        "checkpoint key hint (first 4 bytes, hex): {}",
        hex::encode(&log_id[..4])
    );

    println!("\n## SET payload and SET (entry 0, integrated at 1767225600 = 2026-01-01T00:00:00Z)");
    let integrated_time = 1_767_225_600;
    let payload = set_payload(&body, integrated_time, &log_id, 0);
    println!("{}", String::from_utf8(payload.clone()).unwrap());
    let set = sign_set(&log, &payload);
    println!("SET (base64): {}", b64(&set));
    LogKey::ed25519(log.verifying_key())
        .verify_set(&payload, &set)
        .unwrap();

    // A one-entry tree: the root is the leaf hash and the proof is empty. The checkpoint is
    // signed here by hand (cairn-note does this in the log).
    let checkpoint_body = format!("{origin}\n1\n{}\n", b64(&leaf));
    let mut note_sig = log_id[..4].to_vec();
    note_sig.extend(log.sign(checkpoint_body.as_bytes()).to_bytes());
    let checkpoint = format!("{checkpoint_body}\n\u{2014} {origin} {}\n", b64(&note_sig));

    println!("\n## TransparencyLogEntry (the 201 response)");
    let tle = transparency_log_entry(LogEntryParts {
        log_index: 0,
        log_id,
        integrated_time,
        signed_entry_timestamp: Some(set),
        inclusion_proof: InclusionProofParts {
            leaf_index: 0,
            tree_size: 1,
            root_hash: leaf,
            hashes: vec![],
            checkpoint,
        },
        canonicalized_body: &body,
    })
    .unwrap();
    println!(
        "{}",
        String::from_utf8(cairn_entry::sigstore::to_json_pretty(&tle).unwrap()).unwrap()
    );

    println!("\n## Bundle v0.3");
    let bundle = bundle_v03(&parsed, tle).unwrap();
    println!(
        "{}",
        String::from_utf8(cairn_entry::sigstore::to_json_pretty(&bundle).unwrap()).unwrap()
    );

    println!("\n## TrustedRoot");
    let root = trusted_root_for_log(
        &format!("https://{origin}"),
        &log.verifying_key(),
        1_767_225_600,
    )
    .unwrap();
    println!(
        "{}",
        String::from_utf8(cairn_entry::sigstore::to_json_pretty(&root).unwrap()).unwrap()
    );

    println!("\n## Ed25519ph signer: canonical body");
    let ed = SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rng);
    let ed_req =
        HashedRekordRequest::sign(&ed, SignerAlgorithm::Ed25519Ph.digest(artifact)).unwrap();
    ed_req.verify().unwrap();
    println!(
        "{}",
        String::from_utf8(ed_req.to_body().to_canonical_bytes()).unwrap()
    );
}
