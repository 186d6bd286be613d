//! Mangling (STYLE §3, after sumdb's note_test.go): every truncation and every single-byte
//! change of a valid signed note, vkey, checkpoint and tlog-proof is rejected, or, where the
//! format cannot tell (a proof hash, an unknown signer), decodes to a different value. Never
//! accepted as the original, never a panic.
//!
//! Cost: "every single-byte change" of a 200-byte note is about 12,000 signature checks. With
//! the workspace's `opt-level = 2` for dependencies (root Cargo.toml) that is a few seconds;
//! were it removed, ed25519-dalek would take ~18 ms a check (minutes per test).
//!
//! The signatures are checked by the crate's own verifiers and, as a cross-check, by ring's
//! independent Ed25519 behind the crate's key names and key IDs.

// Test helpers outside #[test] fns may unwrap too: a panic here is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cairn_merkle::Hash;
use cairn_note::*;
use ed25519_dalek::SigningKey;
use ring::signature::{UnparsedPublicKey, ED25519};

fn log_signer() -> Ed25519Signer {
    Ed25519Signer::new(
        "example.com/log".parse().unwrap(),
        SigningKey::from_bytes(&[0x11; 32]),
    )
}

fn witness_signer() -> CosignatureSigner {
    CosignatureSigner::new(
        "w.example/1".parse().unwrap(),
        SigningKey::from_bytes(&[0x22; 32]),
    )
    .with_timestamp(1_700_000_000)
}

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: "example.com/log".parse().unwrap(),
        size: 42,
        root: Hash([0x5a; 32]),
        extensions: vec!["ext".into()],
    }
}

/// Ed25519 note (0x01) or cosignature (0x04) verification done by ring.
struct RingVerifier {
    name: KeyName,
    key_id: u32,
    key: [u8; 32],
    cosignature: bool,
}

impl RingVerifier {
    fn note(s: &Ed25519Signer) -> RingVerifier {
        RingVerifier {
            name: s.name().clone(),
            key_id: s.key_id(),
            key: s.verifying_key().to_bytes(),
            cosignature: false,
        }
    }

    fn cosignature(s: &CosignatureSigner) -> RingVerifier {
        RingVerifier {
            name: s.name().clone(),
            key_id: s.key_id(),
            key: s.verifying_key().to_bytes(),
            cosignature: true,
        }
    }
}

impl NoteVerifier for RingVerifier {
    fn name(&self) -> &KeyName {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let key = UnparsedPublicKey::new(&ED25519, self.key);
        if !self.cosignature {
            return key.verify(msg, sig).is_ok();
        }
        let (Some(ts), Ok(body)) = (cosignature_timestamp(sig), std::str::from_utf8(msg)) else {
            return false;
        };
        match cosignature_message(body, ts) {
            Ok(m) => key.verify(&m, &sig[8..]).is_ok(),
            Err(_) => false,
        }
    }
}

/// Calls `f` with every strict prefix of `good` (position `None`), then every single-byte
/// change of it (all 255 other values at every position).
fn for_each_mangling(good: &[u8], mut f: impl FnMut(&[u8], Option<usize>)) {
    for n in 0..good.len() {
        f(&good[..n], None);
    }
    let mut buf = good.to_vec();
    for i in 0..good.len() {
        for b in 0..=255u8 {
            if b == good[i] {
                continue;
            }
            buf[i] = b;
            f(&buf, Some(i));
        }
        buf[i] = good[i];
    }
}

#[test]
fn ring_agrees_with_the_crate_on_the_originals() {
    let (log, witness) = (log_signer(), witness_signer());
    let mut note = sign_checkpoint(&checkpoint(), &[&log]).unwrap();
    note.add_signatures(&[&witness]).unwrap();
    let ring = [
        RingVerifier::note(&log),
        RingVerifier::cosignature(&witness),
    ];
    let by_ring = note.verify(&[&ring[0], &ring[1]]).unwrap();
    let by_crate = note
        .verify(&[&log.verifier(), &witness.verifier()])
        .unwrap();
    assert_eq!(by_ring.signers(), by_crate.signers());
    assert_eq!(by_ring.signers().len(), 2);
}

#[test]
fn signed_checkpoint_every_mangling_is_rejected() {
    let log = log_signer();
    let verifier = log.verifier();
    let origin: Origin = "example.com/log".parse().unwrap();
    let good = sign_checkpoint(&checkpoint(), &[&log]).unwrap().to_bytes();
    assert!(open_checkpoint(&good, &[&verifier], Some(&origin)).is_ok());

    let mut counts = [0usize; 2];
    for_each_mangling(&good, |bytes, _| {
        match open_checkpoint(bytes, &[&verifier], Some(&origin)) {
            Ok((cp, _)) => panic!("accepted mangled checkpoint {cp:?}"),
            Err(e) if e.is_malformed() => counts[0] += 1,
            Err(e) => {
                assert!(e.is_verification_failure(), "{e}");
                counts[1] += 1;
            }
        }
    });
    // Both kinds of rejection occur: the test is not vacuous.
    assert!(counts[0] > 10_000 && counts[1] > 5_000, "{counts:?}");
}

#[test]
fn ring_also_rejects_every_mangling() {
    // The same exhaustive pass with another Ed25519 implementation, on a note whose text
    // has an empty line, and on the cosignature.
    let (log, witness) = (log_signer(), witness_signer());
    let note = Note::sign("a note\n\nwith an empty line\n", &[&log]).unwrap();
    let lv = RingVerifier::note(&log);
    for_each_mangling(&note.to_bytes(), |bytes, _| {
        assert!(Note::parse(bytes).and_then(|n| n.verify(&[&lv])).is_err());
    });

    assert_cosignature_manglings_rejected(&RingVerifier::cosignature(&witness));
}

#[test]
fn cosigned_checkpoint_every_mangling_loses_the_cosignature() {
    assert_cosignature_manglings_rejected(&witness_signer().verifier());
}

/// With only the witness's key known, every truncation of a cosigned checkpoint and every
/// change outside the log's signature line (which that key does not cover) is rejected.
fn assert_cosignature_manglings_rejected(wv: &dyn NoteVerifier) {
    let (log, witness) = (log_signer(), witness_signer());
    let mut note = sign_checkpoint(&checkpoint(), &[&log]).unwrap();
    note.add_signatures(&[&witness]).unwrap();
    let good = note.to_bytes();
    assert!(note.verify(&[wv]).is_ok());
    let log_line =
        (note.text.len() + 1)..(note.text.len() + 1 + note.signatures[0].to_line().len());
    for_each_mangling(&good, |bytes, changed| {
        if changed.is_some_and(|i| log_line.contains(&i)) {
            return;
        }
        if let Ok(v) = Note::parse(bytes).and_then(|n| n.verify(&[wv])) {
            panic!("accepted {:?}", v.note());
        }
    });
}

#[test]
fn vkeys_every_mangling_is_rejected() {
    for good in [log_signer().vkey(), witness_signer().vkey()] {
        for_each_mangling(good.as_bytes(), |bytes, _| {
            let Ok(s) = std::str::from_utf8(bytes) else {
                return;
            };
            assert!(Ed25519Verifier::from_vkey(s).is_err(), "{s:?}");
            assert!(CosignatureVerifier::from_vkey(s).is_err(), "{s:?}");
            assert!(verifier_from_vkey(s).is_err(), "{s:?}");
        });
    }
}

#[test]
fn checkpoint_bodies_are_canonical() {
    // A body alone carries no signature: a change can give another valid checkpoint (size
    // 43), but never a second spelling of the same one.
    let good = checkpoint().to_body();
    for_each_mangling(good.as_bytes(), |bytes, _| {
        let Ok(s) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Ok(cp) = Checkpoint::parse_body(s) {
            assert_ne!(cp, checkpoint(), "{s:?}");
            assert_eq!(cp.to_body(), s);
        }
    });
}

#[test]
fn tlog_proofs_are_canonical_and_their_checkpoint_is_covered() {
    let log = log_signer();
    let verifier = RingVerifier::note(&log);
    let proof = TlogProof {
        extra_data: Some(b"extra".to_vec()),
        index: 7,
        proof: vec![Hash([1; 32]), Hash([2; 32])],
        checkpoint: sign_checkpoint(&checkpoint(), &[&log]).unwrap(),
    };
    let good = proof.to_bytes();
    let note_start = good.len() - proof.checkpoint.to_bytes().len();
    assert!(proof.open(&[&verifier], None).is_ok());

    for_each_mangling(&good, |bytes, changed| {
        let Ok(p) = TlogProof::parse(bytes) else {
            return;
        };
        assert_ne!(p, proof);
        assert_eq!(p.to_bytes(), bytes);
        // Inside the checkpoint, a change breaks the log's signature. (Checked for the
        // low-bit flips only: signed_checkpoint_every_mangling_is_rejected checks them all.)
        if changed.is_some_and(|i| i >= note_start && bytes[i] ^ good[i] == 1) {
            assert!(p.open(&[&verifier], None).is_err());
        }
    });
}
