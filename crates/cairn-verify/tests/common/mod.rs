//! A log in memory, built from the pure crates exactly as the server builds its answers
//! (`transparency_log_entry`, `bundle_v03`, signed checkpoints, SETs), so the verifier can be
//! tested without a server, with full control over every field.

// Shared by several test binaries, each using a part: dead code and `pub` are expected.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use cairn_entry::{
    bundle_v03, set_payload, sign_set, to_json, transparency_log_entry, trusted_root_for_log,
    HashedRekordRequest, InclusionProofParts, LogEntryParts, SignerAlgorithm, SignerKeyPair,
    TransparencyLogEntry,
};
use cairn_merkle::{
    consistency_proof, inclusion_proof, leaf_hash, stored_hashes_for_leaf, tree_hash, Hash,
};
use cairn_note::{
    ed25519_log_id, sign_checkpoint, Checkpoint, CosignatureSigner, Ed25519Signer, KeyName,
    NoteSigner,
};
use ed25519_dalek::SigningKey;

pub const ORIGIN: &str = "log.example/cairn";
pub const BASE_URL: &str = "https://log.example/cairn";
pub const TIME: i64 = 1_760_000_000;

pub struct TestLog {
    pub key: SigningKey,
    pub signer: Ed25519Signer,
    pub stored: Vec<Hash>,
    pub size: u64,
    pub log_id: [u8; 32],
    pub witnesses: Vec<CosignatureSigner>,
}

impl TestLog {
    pub fn new(seed: u8) -> TestLog {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let name: KeyName = ORIGIN.parse().unwrap();
        let log_id = ed25519_log_id(&name, &key.verifying_key());
        TestLog {
            signer: Ed25519Signer::new(name, key.clone()),
            key,
            stored: Vec::new(),
            size: 0,
            log_id,
            witnesses: Vec::new(),
        }
    }

    pub fn trusted_root(&self) -> Vec<u8> {
        to_json(&trusted_root_for_log(BASE_URL, &self.key.verifying_key(), 0).unwrap()).unwrap()
    }

    pub fn append(&mut self, body: &[u8]) -> u64 {
        let new = stored_hashes_for_leaf(self.size, leaf_hash(body), &self.stored).unwrap();
        self.stored.extend(new);
        self.size += 1;
        self.size - 1
    }

    pub fn root(&self, size: u64) -> Hash {
        tree_hash(size, &self.stored).unwrap()
    }

    pub fn signed_checkpoint(&self, size: u64) -> String {
        let cp = Checkpoint::new(ORIGIN.parse().unwrap(), size, self.root(size));
        let mut signers: Vec<&dyn NoteSigner> = vec![&self.signer];
        for w in &self.witnesses {
            signers.push(w);
        }
        String::from_utf8(sign_checkpoint(&cp, &signers).unwrap().to_bytes()).unwrap()
    }

    pub fn consistency(&self, old: u64, new: u64) -> Vec<Hash> {
        consistency_proof(old, new, &self.stored).unwrap()
    }

    /// The TransparencyLogEntry for the entry at `index`, proved at tree `size`.
    pub fn entry(&self, body: &[u8], index: u64, size: u64) -> TransparencyLogEntry {
        let root = self.root(size);
        let set = sign_set(&self.key, &set_payload(body, TIME, &self.log_id, index));
        transparency_log_entry(LogEntryParts {
            log_index: index,
            log_id: self.log_id,
            integrated_time: TIME,
            signed_entry_timestamp: Some(set),
            inclusion_proof: InclusionProofParts {
                leaf_index: index,
                tree_size: size,
                root_hash: root.0,
                hashes: inclusion_proof(size, index, &self.stored)
                    .unwrap()
                    .iter()
                    .map(|h| h.0)
                    .collect(),
                checkpoint: self.signed_checkpoint(size),
            },
            canonicalized_body: body,
        })
        .unwrap()
    }

    /// Signs `artifact` with `signer`, logs it (after `before` filler entries), and returns the
    /// bundle JSON proved at the current size plus `after` more filler entries.
    pub fn sign(&mut self, signer: &SignerKeyPair, artifact: &[u8], after: u64) -> Vec<u8> {
        let digest = signer.algorithm().digest(artifact);
        let request = HashedRekordRequest::sign(signer, digest).unwrap();
        let body = request.to_body().to_canonical_bytes();
        let index = self.append(&body);
        for i in 0..after {
            self.filler(i);
        }
        let entry = self.entry(&body, index, self.size);
        to_json(&bundle_v03(&request, entry).unwrap()).unwrap()
    }

    /// Re-proves the bundle's entry at the log's current size.
    pub fn reprove(&self, bundle: &[u8]) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(bundle).unwrap();
        let tle = &v["verificationMaterial"]["tlogEntries"][0];
        let index: u64 = tle["logIndex"].as_str().unwrap().parse().unwrap();
        let body = b64d(tle["canonicalizedBody"].as_str().unwrap());
        let entry = self.entry(&body, index, self.size);
        v["verificationMaterial"]["tlogEntries"][0] = serde_json::to_value(&entry).unwrap();
        serde_json::to_vec(&v).unwrap()
    }

    pub fn filler(&mut self, i: u64) {
        let k = SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rand_core::OsRng);
        let digest = k.algorithm().digest(&i.to_be_bytes());
        let body = HashedRekordRequest::sign(&k, digest)
            .unwrap()
            .to_body()
            .to_canonical_bytes();
        self.append(&body);
    }
}

pub fn b64d(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

pub fn b64e(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn p256() -> SignerKeyPair {
    SignerKeyPair::generate(SignerAlgorithm::EcdsaP256Sha256, &mut rand_core::OsRng)
}

pub fn ed25519ph() -> SignerKeyPair {
    SignerKeyPair::generate(SignerAlgorithm::Ed25519Ph, &mut rand_core::OsRng)
}
