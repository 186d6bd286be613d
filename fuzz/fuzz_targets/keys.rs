//! Signer keys, as a submission, a `verify --key` file or a client key file hands them in:
//! `SignerKey::from_spki_der` / `from_spki_pem` for both algorithms,
//! `SignerKeyPair::from_pkcs8_der` / `from_pkcs8_pem`, and `LogKey::from_spki_der` (trusted
//! root log keys). Crates' own DER parser (cairn-entry `crypto/der.rs`) is behind these.
//! Properties: no panic; an accepted key keeps its DER verbatim and survives a PEM round trip;
//! a parsed key pair's signature verifies under its public key.
#![no_main]

use cairn_entry::{LogKey, PublicKeyDetails, SignerAlgorithm, SignerKey, SignerKeyPair};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for alg in [SignerAlgorithm::EcdsaP256Sha256, SignerAlgorithm::Ed25519Ph] {
        if let Ok(key) = SignerKey::from_spki_der(alg, data) {
            assert_eq!(key.spki_der(), data);
            assert_eq!(key.algorithm(), alg);
            let pem = key.to_spki_pem();
            let again = SignerKey::from_spki_pem(alg, &pem).expect("own PEM parses");
            assert_eq!(again.spki_der(), data);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for alg in [SignerAlgorithm::EcdsaP256Sha256, SignerAlgorithm::Ed25519Ph] {
            let _ = SignerKey::from_spki_pem(alg, text);
        }
        if let Ok(pair) = SignerKeyPair::from_pkcs8_pem(text) {
            check_pair(&pair);
        }
    }
    if let Ok(pair) = SignerKeyPair::from_pkcs8_der(data) {
        check_pair(&pair);
    }
    for details in [
        PublicKeyDetails::PkixEcdsaP256Sha256,
        PublicKeyDetails::PkixEd25519,
    ] {
        if let Ok(key) = LogKey::from_spki_der(details, data) {
            assert_eq!(key.spki_der(), data);
        }
    }
});

fn check_pair(pair: &SignerKeyPair) {
    let digest = pair.algorithm().digest(b"fuzz");
    let sig = pair
        .sign_digest(&digest)
        .expect("sign a digest of the right length");
    let key = pair
        .signer_key()
        .expect("a parsed pair's public key parses");
    assert!(key.verify_digest(&digest, &sig).is_ok());
}
