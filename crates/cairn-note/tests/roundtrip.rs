//! Property tests: parse(format(x)) == x for every format, sign-then-verify works, and every
//! parser either rejects arbitrary input or accepts exactly its canonical encoding (so a value
//! has one spelling and no input panics).

// Test helpers outside #[test] fns may unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_merkle::Hash;
use cairn_note::*;
use ed25519_dalek::SigningKey;
use proptest::collection::vec;
use proptest::prelude::*;

/// A key name: printable, no whitespace, no '+', sometimes non-ASCII.
fn key_name() -> impl Strategy<Value = KeyName> {
    "[a-zA-Z0-9./_:é—-]{1,24}".prop_map(|s| s.parse().unwrap())
}

/// One line of note text: any chars >= U+0020 (including non-ASCII and "— "), maybe empty.
fn text_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        "[^\\x00-\\x1f]{0,20}",
        Just("\u{2014} looks like a signature AAAA".to_string()),
        Just(String::new()),
    ]
}

fn note_text() -> impl Strategy<Value = String> {
    vec(text_line(), 1..6).prop_map(|lines| lines.iter().map(|l| format!("{l}\n")).collect())
}

fn signature() -> impl Strategy<Value = NoteSignature> {
    (key_name(), any::<u32>(), vec(any::<u8>(), 1..100)).prop_map(|(name, key_id, signature)| {
        NoteSignature {
            name,
            key_id,
            signature,
        }
    })
}

fn note() -> impl Strategy<Value = Note> {
    (note_text(), vec(signature(), 1..20)).prop_map(|(text, signatures)| Note { text, signatures })
}

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn origin() -> impl Strategy<Value = Origin> {
    prop_oneof!["[ -~]{1,40}", "[^\\x00-\\x1f]{1,20}"].prop_map(|s| s.parse().unwrap())
}

fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    (
        origin(),
        prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
        hash(),
        vec("[^\\x00-\\x1f]{1,20}", 0..3),
    )
        .prop_map(|(origin, size, root, extensions)| Checkpoint {
            origin,
            size,
            root,
            extensions,
        })
}

fn signed_checkpoint() -> impl Strategy<Value = Note> {
    (checkpoint(), vec(signature(), 1..5)).prop_map(|(cp, signatures)| Note {
        text: cp.to_body(),
        signatures,
    })
}

fn tlog_proof() -> impl Strategy<Value = TlogProof> {
    (
        proptest::option::of(vec(any::<u8>(), 0..50)),
        any::<u64>(),
        vec(hash(), 0..=MAX_PROOF_HASHES),
        signed_checkpoint(),
    )
        .prop_map(|(extra_data, index, proof, checkpoint)| TlogProof {
            extra_data,
            index,
            proof,
            checkpoint,
        })
}

proptest! {
    #[test]
    fn note_round_trip(note in note()) {
        prop_assert!(note.validate().is_ok());
        let bytes = note.to_bytes();
        prop_assert_eq!(Note::parse(&bytes)?, note);
    }

    #[test]
    fn checkpoint_round_trip(cp in checkpoint()) {
        let body = cp.to_body();
        prop_assert_eq!(Checkpoint::parse_body(&body)?, cp.clone());
        prop_assert_eq!(body.parse::<Checkpoint>()?, cp.clone());
        prop_assert_eq!(cp.to_string(), body);
    }

    #[test]
    fn tlog_proof_round_trip(proof in tlog_proof()) {
        let bytes = proof.to_bytes();
        prop_assert_eq!(TlogProof::parse(&bytes)?, proof);
    }

    #[test]
    fn vkey_round_trip(name in key_name(), key_id in any::<u32>(), sig_type in any::<u8>(),
                       public_key in vec(any::<u8>(), 1..100)) {
        let vkey = Vkey { name, key_id, sig_type, public_key };
        prop_assert_eq!(vkey.to_string().parse::<Vkey>()?, vkey);
    }

    #[test]
    fn parsers_accept_only_canonical_input(bytes in vec(any::<u8>(), 0..300)) {
        if let Ok(n) = Note::parse(&bytes) {
            prop_assert_eq!(n.to_bytes(), bytes.clone());
        }
        if let Ok(p) = TlogProof::parse(&bytes) {
            prop_assert_eq!(p.to_bytes(), bytes.clone());
        }
        if let Ok(s) = std::str::from_utf8(&bytes) {
            if let Ok(cp) = Checkpoint::parse_body(s) {
                prop_assert_eq!(cp.to_body(), s);
            }
            if let Ok(v) = s.parse::<Vkey>() {
                prop_assert_eq!(v.to_string(), s);
            }
            let _ = verifier_from_vkey(s);
            if let Ok(sig) = NoteSignature::parse_line(s) {
                prop_assert_eq!(sig.to_string(), s);
            }
        }
    }

    #[test]
    fn mangled_valid_notes_parse_canonically(note in note(), pos in any::<prop::sample::Index>(),
                                             byte in any::<u8>()) {
        // Random single-byte changes of valid notes reach far more parser paths than random
        // bytes do.
        let mut bytes = note.to_bytes();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        if let Ok(n) = Note::parse(&bytes) {
            prop_assert_eq!(n.to_bytes(), bytes);
        }
    }
}

proptest! {
    // Each case signs and verifies five times; without the workspace's opt-level for
    // dependencies ed25519-dalek takes ~18 ms a verification, so keep the case count modest.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_then_verify(text in note_text(), seed in any::<[u8; 32]>(), name in key_name(),
                        ts in 0..=MAX_COSIGNATURE_TIMESTAMP) {
        let signer = Ed25519Signer::new(name.clone(), SigningKey::from_bytes(&seed));
        let verifier = Ed25519Verifier::from_vkey(&signer.vkey())?;
        let note = Note::sign(&text, &[&signer])?;
        let parsed = Note::parse(&note.to_bytes())?;
        let verified = parsed.verify(&[&verifier])?;
        prop_assert_eq!(verified.text(), text.as_str());
        prop_assert_eq!(verified.signers(), vec![(name.clone(), signer.key_id())]);

        // The same key as a cosigner, on a checkpoint.
        let cp = Checkpoint::new(Origin::from(name.clone()), ts, Hash(seed));
        let cosigner = CosignatureSigner::new(name, SigningKey::from_bytes(&seed));
        let sig = cosigner.sign_at(&cp.to_body(), ts)?;
        let mut cp_note = sign_checkpoint(&cp, &[&signer])?;
        cp_note.add_signature_lines(&[sig])?;
        let cv = CosignatureVerifier::from_vkey(&cosigner.vkey())?;
        let (got, v) = open_checkpoint(&cp_note.to_bytes(), &[&verifier, &cv], Some(&cp.origin))?;
        prop_assert_eq!(got, cp);
        prop_assert_eq!(v.signers().len(), 2);
    }
}
