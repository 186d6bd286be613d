//! Checkpoints: `Checkpoint::parse_body` (`FromStr`), `SignedCheckpoint::parse` and
//! `open_checkpoint` with the fixture log's key.
//! Properties: no panic; body and signed note format back to the exact input; a parsed body is
//! accepted by `cosignature_message`; a checkpoint that opens has the expected origin.
#![no_main]

use cairn_note::{
    cosignature_message, open_checkpoint, Checkpoint, NoteVerifier, Origin, SignedCheckpoint,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = text.parse::<Checkpoint>() {
            assert_eq!(
                cp.to_body(),
                text,
                "parse_body accepted a non-canonical body"
            );
            assert_eq!(cp.to_string(), text);
            assert!(cp.validate().is_ok());
            assert!(cosignature_message(text, 0).is_ok());
        }
    }
    if let Ok(signed) = SignedCheckpoint::parse(data) {
        assert_eq!(
            signed.to_bytes(),
            data,
            "SignedCheckpoint::parse accepted non-canonical bytes"
        );
        assert_eq!(signed.checkpoint().to_body(), signed.note().text);
        let log = cairn_fuzz::log_signer().verifier();
        let origin: Origin = cairn_fuzz::ORIGIN.parse().expect("fixture origin");
        let verifiers: [&dyn NoteVerifier; 1] = [&log];
        if let Ok((cp, verified)) = open_checkpoint(data, &verifiers, Some(&origin)) {
            assert_eq!(&cp, signed.checkpoint());
            assert_eq!(cp.origin, origin);
            assert_eq!(verified.text(), signed.note().text);
        }
    }
});
