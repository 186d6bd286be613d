//! Signer keys and signatures over digests.
//!
//! [`verify`] is what the log and the offline verifier run: [`SignerKey`] parses a DER
//! SubjectPublicKeyInfo for an accepted algorithm and verifies a signature over a digest.
//! [`sign`] is the signing client's half: [`SignerKeyPair`]. The two share only the
//! algorithm enum and the DER helpers.

pub(crate) mod der;
pub(crate) mod prehash;
pub mod sign;
pub mod verify;

pub use sign::SignerKeyPair;
pub use verify::{SignerAlgorithm, SignerKey};
