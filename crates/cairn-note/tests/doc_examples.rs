//! Keeps docs/formats-note.md honest: every worked example there is regenerated here from the
//! fixed test keys and must appear in the file verbatim.

// Test helpers outside #[test] fns may unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_merkle::Hash;
use cairn_note::*;
use ed25519_dalek::SigningKey;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/formats-note.md");
    std::fs::read_to_string(path).unwrap()
}

fn assert_in_doc(doc: &str, example: &str) {
    assert!(
        doc.contains(example),
        "docs/formats-note.md lacks this example:\n{example}"
    );
}

#[test]
fn examples_are_current() {
    let doc = doc();
    let log = Ed25519Signer::new(
        "example.com/cairn".parse().unwrap(),
        SigningKey::from_bytes(&[1; 32]),
    );
    let witness = CosignatureSigner::new(
        "witness.example/w1".parse().unwrap(),
        SigningKey::from_bytes(&[2; 32]),
    )
    .with_timestamp(1_700_000_000);

    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_in_doc(&doc, &hex(log.verifying_key().as_bytes()));
    assert_in_doc(&doc, &hex(witness.verifying_key().as_bytes()));
    assert_in_doc(
        &doc,
        &hex(&ed25519_log_id(log.name(), &log.verifying_key())),
    );
    assert_in_doc(&doc, &format!("vkey   = {}\n", log.vkey()));
    assert_in_doc(&doc, &format!("\n{}\n", witness.vkey()));

    let plain = Note::sign("Hello, Cairn!\n", &[&log]).unwrap();
    assert_in_doc(&doc, &String::from_utf8(plain.to_bytes()).unwrap());

    let checkpoint = Checkpoint::new("example.com/cairn".parse().unwrap(), 5, Hash([0xab; 32]));
    let signed = sign_checkpoint(&checkpoint, &[&log]).unwrap();
    assert_in_doc(
        &doc,
        &format!(
            "```text\n{}```",
            String::from_utf8(signed.to_bytes()).unwrap()
        ),
    );

    let msg = cosignature_message(&checkpoint.to_body(), 1_700_000_000).unwrap();
    assert_in_doc(
        &doc,
        &format!("```text\n{}```", String::from_utf8(msg).unwrap()),
    );

    let mut cosigned = signed.clone();
    cosigned.add_signatures(&[&witness]).unwrap();
    let cosigned_text = String::from_utf8(cosigned.to_bytes()).unwrap();
    assert_in_doc(&doc, &format!("```text\n{cosigned_text}```"));

    let proof = TlogProof {
        extra_data: None,
        index: 3,
        proof: vec![Hash([0x11; 32]), Hash([0x22; 32])],
        checkpoint: cosigned,
    };
    assert_in_doc(
        &doc,
        &format!(
            "```text\n{}```",
            String::from_utf8(proof.to_bytes()).unwrap()
        ),
    );
}
