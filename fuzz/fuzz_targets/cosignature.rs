//! Cosignatures: tlog-cosignature v1 lines on a checkpoint, and the witness's
//! `add-checkpoint` response as a log reads it (`cosignature_from_response`).
//! Input: a signed checkpoint, then (after a NUL byte, optional) a witness response body.
//! Properties: no panic; `cosignature_timestamp` never exceeds 2^63-1; a verified cosignature's
//! timestamp is readable; a fresh cosignature on any parsed checkpoint verifies.
#![no_main]

use cairn_monitor::witness::cosignature_from_response;
use cairn_note::{
    cosignature_message, cosignature_timestamp, NoteSigner, NoteVerifier, SignedCheckpoint,
    MAX_COSIGNATURE_TIMESTAMP,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (note, response) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(signed) = SignedCheckpoint::parse(note) else {
        return;
    };
    let witness = cairn_fuzz::witness_signer();
    let verifier = witness.verifier();
    for sig in &signed.note().signatures {
        if let Some(ts) = cosignature_timestamp(&sig.signature) {
            assert!(ts <= MAX_COSIGNATURE_TIMESTAMP);
            assert!(cosignature_message(&signed.note().text, ts).is_ok());
        }
    }
    let verifiers: [&dyn NoteVerifier; 1] = [&verifier];
    if let Ok(verified) = signed.note().verify(&verifiers) {
        for sig in verified.verified_signatures() {
            assert!(cosignature_timestamp(&sig.signature).is_some());
        }
    }
    // Whatever checkpoint parsed, the witness's own cosignature on it verifies.
    let text = &signed.note().text;
    let fresh = witness
        .sign(text.as_bytes())
        .expect("cosign a parsed checkpoint");
    assert!(verifier.verify(text.as_bytes(), &fresh));
    assert_eq!(cosignature_timestamp(&fresh), Some(cairn_fuzz::COSIGNED_AT));
    if let Some(response) = response {
        if let Ok(sig) = cosignature_from_response(text, response, &verifier) {
            assert_eq!(sig.key_id, verifier.key_id());
            assert!(verifier.verify(text.as_bytes(), &sig.signature));
        }
    }
});
