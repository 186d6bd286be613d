//! Signed notes: `Note::parse` and `NoteSignature::parse_lines` (witness responses).
//! Properties: no panic; the parsers are strict, so whatever parses formats back to the exact
//! input bytes, validates, and parses again to the same value; verifying against the fixture
//! keys does not panic.
#![no_main]

use cairn_note::{Note, NoteSignature, NoteVerifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(
            note.to_bytes(),
            data,
            "Note::parse accepted a non-canonical note"
        );
        assert!(note.validate().is_ok(), "a parsed note does not validate");
        assert_eq!(Note::parse(&note.to_bytes()).ok().as_ref(), Some(&note));
        for sig in &note.signatures {
            let line = sig.to_string();
            assert_eq!(NoteSignature::parse_line(&line).ok().as_ref(), Some(sig));
        }
        let log = cairn_fuzz::log_signer().verifier();
        let witness = cairn_fuzz::witness_signer().verifier();
        let verifiers: [&dyn NoteVerifier; 2] = [&log, &witness];
        if let Ok(verified) = note.verify(&verifiers) {
            assert!(verified.verified_signatures().count() >= 1);
            assert_eq!(verified.note(), &note);
        }
    }
    if let Ok(sigs) = NoteSignature::parse_lines(data) {
        let out: String = sigs.iter().map(NoteSignature::to_line).collect();
        assert_eq!(
            out.as_bytes(),
            data,
            "parse_lines accepted a non-canonical block"
        );
    }
});
