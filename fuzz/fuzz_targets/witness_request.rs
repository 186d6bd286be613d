//! The tlog-witness `add-checkpoint` body: `AddCheckpointRequest::parse`, and the whole
//! witness check (`process_add_checkpoint`) of a witness that follows the fixture log, with an
//! in-memory store that starts empty on every input.
//! Properties: no panic; an accepted body formats back to the exact input and parses again to
//! the same value; a cosignature the witness returns verifies under its key, and the store
//! then holds the checkpoint's size.
#![no_main]

use cairn_monitor::witness::{
    process_add_checkpoint, AddCheckpointRequest, Clock, LogKeys, MemWitnessStore, Witness,
};
use cairn_note::{NoteVerifier, Origin};
use libfuzzer_sys::fuzz_target;

struct FixedClock;

impl Clock for FixedClock {
    fn unix_seconds(&self) -> u64 {
        cairn_fuzz::COSIGNED_AT
    }
}

fuzz_target!(|data: &[u8]| {
    let parsed = AddCheckpointRequest::parse(data);
    if let Ok(req) = &parsed {
        assert_eq!(
            req.to_bytes(),
            data,
            "AddCheckpointRequest accepted a non-canonical body"
        );
        assert_eq!(
            AddCheckpointRequest::parse(&req.to_bytes()).as_ref(),
            Ok(req)
        );
    }
    let origin: Origin = cairn_fuzz::ORIGIN.parse().expect("fixture origin");
    let log =
        LogKeys::from_vkeys(origin.clone(), &[cairn_fuzz::log_signer().vkey()]).expect("vkey");
    let signer = cairn_fuzz::witness_signer();
    let verifier = signer.verifier();
    let witness = Witness::new(
        signer,
        vec![log],
        Box::new(MemWitnessStore::new()),
        Box::new(FixedClock),
    );
    if let Ok(sig) = process_add_checkpoint(&witness, data) {
        let req = parsed.expect("a cosigned request parsed");
        let text = &req.checkpoint.note().text;
        assert!(verifier.verify(text.as_bytes(), &sig.signature));
        let head = witness
            .head(&origin)
            .expect("store")
            .expect("head recorded");
        assert_eq!(head.size, req.checkpoint.checkpoint().size);
    }
});
