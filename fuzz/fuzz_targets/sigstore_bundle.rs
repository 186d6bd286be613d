//! Sigstore bundles as an installer verifies them: `verify_bundle` (key-signed bundles, with
//! the fixture log's trusted root, the fixture signer key and artifact, and a 1-of-1 witness
//! policy) and `verify_bundle_tlog` (any bundle), on arbitrary bundle JSON.
//! Properties: no panic; the protobuf JSON of a `Bundle` round-trips (`parse(to_json(b)) == b`);
//! a bundle that verifies names the fixture log, the artifact's digest, and the entry's index.
#![no_main]

use std::sync::OnceLock;

use cairn_entry::{to_json, Bundle, SignerAlgorithm, SignerKey};
use cairn_verify::{
    verify_bundle, verify_bundle_tlog, ArtifactInput, TrustedLogs, VerifyOptions, WitnessPolicy,
};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    trust: TrustedLogs,
    key: SignerKey,
    plain: VerifyOptions,
    witnessed: VerifyOptions,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let trust = TrustedLogs::from_json(&cairn_fuzz::trusted_root_json()).expect("trust");
        let key = cairn_fuzz::signer(SignerAlgorithm::EcdsaP256Sha256, 1)
            .signer_key()
            .expect("fixture key");
        let policy =
            WitnessPolicy::new(vec![cairn_fuzz::witness_signer().verifier()], 1).expect("policy");
        Fixture {
            trust,
            key,
            plain: VerifyOptions::new().requiring_set(true),
            witnessed: VerifyOptions::new()
                .with_witnesses(policy)
                .fresh_within(3600, cairn_fuzz::COSIGNED_AT + 60),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    if let Ok(bundle) = serde_json::from_slice::<Bundle>(data) {
        let json = to_json(&bundle).expect("a parsed bundle serializes");
        let again: Bundle = serde_json::from_slice(&json).expect("own JSON parses");
        assert_eq!(again, bundle, "Bundle protobuf JSON does not round-trip");
    }
    for opts in [&f.plain, &f.witnessed] {
        let artifact = ArtifactInput::Bytes(cairn_fuzz::ARTIFACT);
        if let Ok(v) = verify_bundle(data, artifact, &f.key, &f.trust, opts) {
            assert_eq!(v.log().base_url(), cairn_fuzz::BASE_URL);
            assert_eq!(
                v.digest(),
                SignerAlgorithm::EcdsaP256Sha256.digest(cairn_fuzz::ARTIFACT)
            );
            assert!(v.log_index() < v.checkpoint().checkpoint().size);
        }
        if let Ok(entries) = verify_bundle_tlog(data, &f.trust, opts) {
            assert!(!entries.is_empty());
        }
    }
});
