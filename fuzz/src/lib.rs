//! Fixtures shared by the fuzz targets and the seed-corpus generator (`examples/seeds.rs`): a
//! small log in memory with fixed keys, so that the targets which verify signatures (bundles,
//! witness requests) have a trusted root and keys to verify against, and so that the seeds
//! they start from are valid inputs that reach the deepest checks.
//!
//! Everything is deterministic: Ed25519 keys come from fixed bytes, the P-256 signer from a
//! seeded ChaCha RNG, and ECDSA signing is RFC 6979. The same seeds come out on every run.

use cairn_entry::{
    bundle_v03, set_payload, sign_set, to_json, transparency_log_entry, trusted_root_for_log,
    HashedRekordRequest, InclusionProofParts, LogEntryParts, SignerAlgorithm, SignerKeyPair,
};
use cairn_merkle::{
    consistency_proof, inclusion_proof, leaf_hash, stored_hashes_for_leaf, tree_hash, Hash,
    HashReader, MerkleError,
};
use cairn_note::{
    ed25519_log_id, sign_checkpoint, Checkpoint, CosignatureSigner, Ed25519Signer, KeyName,
    NoteSigner,
};
use ed25519_dalek::SigningKey;
use rand_chacha::rand_core::SeedableRng;

/// The fixture log's origin (= its checkpoint key name).
pub const ORIGIN: &str = "log.example/fuzz";
/// The fixture log's base URL in its trusted root.
pub const BASE_URL: &str = "https://log.example/fuzz";
/// The name of the fixture witness.
pub const WITNESS: &str = "witness.example/fuzz";
/// The integrated time of every fixture entry.
pub const TIME: i64 = 1_760_000_000;
/// The timestamp of every fixture cosignature.
pub const COSIGNED_AT: u64 = 1_760_000_100;
/// The artifact the fixture bundles sign.
pub const ARTIFACT: &[u8] = b"fuzz artifact\n";

fn name(s: &str) -> KeyName {
    s.parse()
        .unwrap_or_else(|e| panic!("fixture key name {s:?}: {e}"))
}

/// Returns the log's Ed25519 key.
pub fn log_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// Returns the log's checkpoint signer.
pub fn log_signer() -> Ed25519Signer {
    Ed25519Signer::new(name(ORIGIN), log_key())
}

/// Returns the witness's cosigner, with its timestamp set.
pub fn witness_signer() -> CosignatureSigner {
    CosignatureSigner::new(name(WITNESS), SigningKey::from_bytes(&[8; 32]))
        .with_timestamp(COSIGNED_AT)
}

/// Returns a signer key of `algorithm`, the same on every call for the same `seed`.
pub fn signer(algorithm: SignerAlgorithm, seed: u64) -> SignerKeyPair {
    SignerKeyPair::generate(
        algorithm,
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(seed),
    )
}

/// Returns the fixture's trusted root JSON: the log, valid from time 0.
pub fn trusted_root_json() -> Vec<u8> {
    let root = trusted_root_for_log(BASE_URL, &log_key().verifying_key(), 0)
        .unwrap_or_else(|e| panic!("fixture trusted root: {e}"));
    to_json(&root).unwrap_or_else(|e| panic!("fixture trusted root JSON: {e}"))
}

/// A log in memory: the stored hashes of its tree and the bodies it holds.
#[derive(Default)]
pub struct Log {
    stored: Vec<Hash>,
    /// The logged bodies, in order.
    pub bodies: Vec<Vec<u8>>,
}

impl Log {
    /// Returns the tree size.
    pub fn size(&self) -> u64 {
        self.bodies.len() as u64
    }

    /// Appends `body` and returns its index.
    pub fn append(&mut self, body: Vec<u8>) -> u64 {
        let n = self.size();
        let new = stored_hashes_for_leaf(n, leaf_hash(&body), &self.stored)
            .unwrap_or_else(|e| panic!("fixture append: {e}"));
        self.stored.extend(new);
        self.bodies.push(body);
        n
    }

    /// Signs `artifact` with `key`, logs the request's body, and returns the request.
    pub fn log_artifact(&mut self, key: &SignerKeyPair, artifact: &[u8]) -> HashedRekordRequest {
        let digest = key.algorithm().digest(artifact);
        let request =
            HashedRekordRequest::sign(key, digest).unwrap_or_else(|e| panic!("fixture sign: {e}"));
        self.append(request.to_body().to_canonical_bytes());
        request
    }

    /// Returns the root at `size`.
    pub fn root(&self, size: u64) -> Hash {
        tree_hash(size, &self.stored).unwrap_or_else(|e| panic!("fixture root: {e}"))
    }

    /// Returns the inclusion proof of `index` in the tree of `size`.
    pub fn inclusion(&self, size: u64, index: u64) -> Vec<Hash> {
        inclusion_proof(size, index, &self.stored).unwrap_or_else(|e| panic!("fixture proof: {e}"))
    }

    /// Returns the consistency proof from `old` to `new`.
    pub fn consistency(&self, old: u64, new: u64) -> Vec<Hash> {
        consistency_proof(old, new, &self.stored).unwrap_or_else(|e| panic!("fixture proof: {e}"))
    }

    /// Returns the checkpoint at `size`, signed by the log and, with `cosigned`, the witness.
    pub fn signed_checkpoint(&self, size: u64, cosigned: bool) -> Vec<u8> {
        let cp = Checkpoint::new(
            ORIGIN
                .parse()
                .unwrap_or_else(|e| panic!("fixture origin: {e}")),
            size,
            self.root(size),
        );
        let log = log_signer();
        let witness = witness_signer();
        let mut signers: Vec<&dyn NoteSigner> = vec![&log];
        if cosigned {
            signers.push(&witness);
        }
        sign_checkpoint(&cp, &signers)
            .unwrap_or_else(|e| panic!("fixture checkpoint: {e}"))
            .to_bytes()
    }

    /// Returns the v0.3 bundle JSON for `request`, logged at `index`, proved at the current size.
    pub fn bundle(&self, request: &HashedRekordRequest, index: u64, cosigned: bool) -> Vec<u8> {
        let size = self.size();
        let body = &self.bodies[index as usize];
        let key = log_key();
        let log_id = ed25519_log_id(&name(ORIGIN), &key.verifying_key());
        let set = sign_set(&key, &set_payload(body, TIME, &log_id, index));
        let checkpoint = String::from_utf8(self.signed_checkpoint(size, cosigned))
            .unwrap_or_else(|e| panic!("fixture checkpoint text: {e}"));
        let entry = transparency_log_entry(LogEntryParts {
            log_index: index,
            log_id,
            integrated_time: TIME,
            signed_entry_timestamp: Some(set),
            inclusion_proof: InclusionProofParts {
                leaf_index: index,
                tree_size: size,
                root_hash: self.root(size).0,
                hashes: self.inclusion(size, index).iter().map(|h| h.0).collect(),
                checkpoint,
            },
            canonicalized_body: body,
        })
        .unwrap_or_else(|e| panic!("fixture entry: {e}"));
        let bundle = bundle_v03(request, entry).unwrap_or_else(|e| panic!("fixture bundle: {e}"));
        to_json(&bundle).unwrap_or_else(|e| panic!("fixture bundle JSON: {e}"))
    }
}

/// The fixture log: five entries, the third of which signs [`ARTIFACT`] with
/// [`signer`]`(EcdsaP256Sha256, 1)`; the others sign filler with other keys. Returns the log
/// and the request of the third entry.
pub fn fixture_log() -> (Log, HashedRekordRequest) {
    let mut log = Log::default();
    let mut request = None;
    for i in 0..5u64 {
        if i == 2 {
            let key = signer(SignerAlgorithm::EcdsaP256Sha256, 1);
            request = Some(log.log_artifact(&key, ARTIFACT));
        } else {
            let alg = if i % 2 == 0 {
                SignerAlgorithm::Ed25519Ph
            } else {
                SignerAlgorithm::EcdsaP256Sha256
            };
            log.log_artifact(&signer(alg, 100 + i), &i.to_be_bytes());
        }
    }
    let request = request.unwrap_or_else(|| panic!("fixture request missing"));
    (log, request)
}

/// A tree whose stored hash `i` is the leaf hash of `i` (big-endian): every index has a hash,
/// so tiles of any size can be read from it.
pub struct SyntheticTree;

impl HashReader for SyntheticTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        Ok(indexes
            .iter()
            .map(|i| leaf_hash(&i.to_be_bytes()))
            .collect())
    }
}
