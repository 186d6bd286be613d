//! Verifier keys and names: `Vkey` (`FromStr`), `verifier_from_vkey`,
//! `Ed25519Verifier::from_vkey`, `CosignatureVerifier::from_vkey`, `KeyName`, `Origin`, and
//! the DER keys of `EcdsaP256Verifier::new` / `Ed25519Verifier::from_spki_der`.
//! Properties: no panic; every accepted vkey and name formats back to the exact input; a vkey
//! that makes a verifier is the one the verifier writes.
#![no_main]

use cairn_note::{
    verifier_from_vkey, CosignatureVerifier, EcdsaP256Verifier, Ed25519Verifier, KeyName, Origin,
    Vkey,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(v) = s.parse::<Vkey>() {
            assert_eq!(v.to_string(), s, "Vkey accepted a non-canonical spelling");
        }
        if let Ok(v) = verifier_from_vkey(s) {
            assert!(s.starts_with(&format!("{}+{:08x}+", v.name(), v.key_id())));
        }
        if let Ok(v) = Ed25519Verifier::from_vkey(s) {
            assert_eq!(v.vkey(), s);
        }
        if let Ok(v) = CosignatureVerifier::from_vkey(s) {
            assert_eq!(v.vkey(), s);
        }
        if let Ok(name) = s.parse::<KeyName>() {
            assert_eq!(name.as_str(), s);
            let origin = Origin::from(name.clone());
            assert_eq!(s.parse::<Origin>().ok(), Some(origin.clone()));
            assert_eq!(origin.to_key_name(), Some(name));
        }
        if let Ok(origin) = s.parse::<Origin>() {
            assert_eq!(origin.to_string(), s);
        }
    }
    let name: KeyName = "fuzz.example/key".parse().expect("fixture key name");
    if let Ok(v) = EcdsaP256Verifier::new(name.clone(), data) {
        assert_eq!(v.spki_der(), data);
    }
    if let Ok(v) = Ed25519Verifier::from_spki_der(name, data) {
        assert_eq!(
            Ed25519Verifier::from_vkey(&v.vkey()).ok().map(|w| w.vkey()),
            Some(v.vkey())
        );
    }
});
