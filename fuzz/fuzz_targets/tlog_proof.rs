//! tlog-proof files: `TlogProof::parse`, then `open` with the fixture log's key and the
//! inclusion check against its checkpoint.
//! Properties: no panic; an accepted file formats back to the exact input and parses again to
//! the same value; its checkpoint parses.
#![no_main]

use cairn_merkle::{verify_inclusion, Hash};
use cairn_note::{NoteVerifier, Origin, TlogProof};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = TlogProof::parse(data) else {
        return;
    };
    assert_eq!(
        proof.to_bytes(),
        data,
        "TlogProof::parse accepted a non-canonical file"
    );
    assert_eq!(
        TlogProof::parse(&proof.to_bytes()).ok().as_ref(),
        Some(&proof)
    );
    let cp = proof
        .unverified_checkpoint()
        .expect("a parsed proof's checkpoint parses");
    // Any leaf: the proof must be checked (and usually fail) without panicking.
    let _ = verify_inclusion(proof.index, cp.size, &Hash([0; 32]), &proof.proof, &cp.root);
    let log = cairn_fuzz::log_signer().verifier();
    let origin: Origin = cairn_fuzz::ORIGIN.parse().expect("fixture origin");
    let verifiers: [&dyn NoteVerifier; 1] = [&log];
    if let Ok((opened, _)) = proof.open(&verifiers, Some(&origin)) {
        assert_eq!(opened, cp);
    }
});
