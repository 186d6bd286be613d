//! An independent C2SP tile client: checks a log over its read API without Cairn's own
//! cairn-merkle or cairn-note, straight from the specs, so a shared misreading cannot hide.
//!
//! - signed-note: text, a blank line, then signature lines `— <name> <base64(key ID ||
//!   signature)>`; an Ed25519 key (type 0x01) has vkey `<name>+<hex key ID>+<base64(0x01 ||
//!   public key)>` and key ID `SHA-256(name || "\n" || 0x01 || public key)[:4]`; the signature
//!   covers the text up to and including its last newline.
//! - tlog-checkpoint: the text is the origin line, the decimal tree size, the base64 root hash,
//!   then optional extension lines.
//! - tlog-tiles: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, N in zero-padded
//!   three-digit elements all but the last prefixed with `x`; hash tiles are 32-byte hashes,
//!   entry bundles big-endian uint16 length-prefixed entries.
//!
//! The root is recomputed with rs_merkle (an RFC 6962 hasher as in
//! crates/cairn-merkle/tests/rs_merkle_oracle.rs, which shows why its tree shape is RFC
//! 6962's) from leaf hashes this client computes from the entry bundles.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use rs_merkle::{Hasher, MerkleTree};
use sha2::{Digest as _, Sha256};

/// What the client verified.
#[derive(Debug)]
pub struct VerifiedLog {
    /// The checkpoint's origin line.
    pub origin: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// Every entry, in index order.
    pub entries: Vec<Vec<u8>>,
}

const WIDTH: u64 = 256;

/// RFC 6962 interior nodes for rs_merkle, whose leaves are passed in already hashed.
#[derive(Clone)]
struct Rfc6962;

impl Hasher for Rfc6962 {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(r) => {
                let mut h = Sha256::new();
                h.update([1u8]);
                h.update(left);
                h.update(r);
                h.finalize().into()
            }
            None => *left,
        }
    }
}

/// Returns the tlog-tiles path element for tile index `n` (`1234067` -> `x001/x234/067`).
pub fn tile_index(n: u64) -> String {
    let mut digits = n.to_string();
    while digits.len() % 3 != 0 {
        digits.insert(0, '0');
    }
    let groups: Vec<&str> = (0..digits.len() / 3)
        .map(|i| &digits[i * 3..i * 3 + 3])
        .collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g}")
            } else {
                (*g).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Returns the path of tile `n` of `kind` (`0`, `1`, ... or `entries`) with `width` entries.
fn tile_path(kind: &str, n: u64, width: u64) -> String {
    let partial = if width < WIDTH {
        format!(".p/{width}")
    } else {
        String::new()
    };
    format!("tile/{kind}/{}{partial}", tile_index(n))
}

/// Parses an Ed25519 vkey: its name, key ID and public key.
fn parse_vkey(vkey: &str) -> (String, [u8; 4], VerifyingKey) {
    let mut parts = vkey.splitn(3, '+');
    let (name, id, key) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let key = B64.decode(key).unwrap();
    assert_eq!(key[0], 0x01, "an Ed25519 (type 0x01) vkey");
    let public: [u8; 32] = key[1..].try_into().unwrap();
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&key);
    let want: [u8; 4] = h.finalize()[..4].try_into().unwrap();
    assert_eq!(hex::encode(want), id, "the vkey's key ID");
    (
        name.to_string(),
        want,
        VerifyingKey::from_bytes(&public).unwrap(),
    )
}

/// Returns the note's text after checking that `vkey` signed it.
fn open_note(note: &[u8], vkey: &str) -> String {
    let (name, id, key) = parse_vkey(vkey);
    let note = std::str::from_utf8(note).unwrap();
    let split = note
        .rfind("\n\n")
        .expect("a blank line before the signatures");
    let (text, sigs) = (&note[..=split], &note[split + 2..]);
    let mut verified = false;
    for line in sigs.lines() {
        let rest = line.strip_prefix("\u{2014} ").expect("a signature line");
        let (signer, sig) = rest.rsplit_once(' ').unwrap();
        let sig = B64.decode(sig).unwrap();
        if signer != name || sig[..4] != id {
            continue;
        }
        let sig = Signature::from_slice(&sig[4..]).unwrap();
        key.verify(text.as_bytes(), &sig)
            .expect("the checkpoint's signature verifies");
        verified = true;
    }
    assert!(verified, "no signature by {name} on the checkpoint");
    text.to_string()
}

/// Returns the leaf hash of an entry: SHA-256(0x00 || entry).
fn leaf(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// Splits a hash tile into its `width` hashes.
fn hashes(tile: &[u8], width: u64) -> Vec<[u8; 32]> {
    assert_eq!(tile.len() as u64, width * 32, "a tile of {width} hashes");
    tile.chunks(32).map(|c| c.try_into().unwrap()).collect()
}

/// Splits an entry bundle into exactly `width` entries.
fn bundle(data: &[u8], width: u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        out.push(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    assert_eq!(out.len() as u64, width, "a bundle of {width} entries");
    out
}

/// Verifies the log at `base` (the read API root, e.g. `http://host/api/v2`) whose checkpoint
/// `vkey` signs: the signature, every level-0 tile against the entry bundles, the level-1
/// tiles against the level-0 tiles, and the root against rs_merkle's.
///
/// # Panics
/// On any mismatch: this is a test oracle.
pub fn verify_log(base: &str, vkey: &str) -> VerifiedLog {
    let http = reqwest::blocking::Client::new();
    let get = |path: &str| {
        let r = http.get(format!("{base}/{path}")).send().unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.bytes().unwrap().to_vec()
    };
    let text = open_note(&get("checkpoint"), vkey);
    let mut lines = text.lines();
    let origin = lines.next().unwrap().to_string();
    let size: u64 = lines.next().unwrap().parse().unwrap();
    let root: [u8; 32] = B64
        .decode(lines.next().unwrap())
        .unwrap()
        .try_into()
        .unwrap();

    let (mut leaves, mut entries) = (Vec::new(), Vec::new());
    for n in 0..size.div_ceil(WIDTH) {
        let width = (size - n * WIDTH).min(WIDTH);
        let tile = hashes(&get(&tile_path("0", n, width)), width);
        let bodies = bundle(&get(&tile_path("entries", n, width)), width);
        for (hash, body) in tile.iter().zip(&bodies) {
            assert_eq!(
                *hash,
                leaf(body),
                "a level-0 tile hash is its entry's leaf hash"
            );
        }
        leaves.extend(tile);
        entries.extend(bodies);
    }
    let full = size / WIDTH;
    for n in 0..full.div_ceil(WIDTH) {
        let width = (full - n * WIDTH).min(WIDTH);
        let tile = hashes(&get(&tile_path("1", n, width)), width);
        for (i, hash) in tile.iter().enumerate() {
            let first = ((n * WIDTH + i as u64) * WIDTH) as usize;
            let subtree = MerkleTree::<Rfc6962>::from_leaves(&leaves[first..first + 256]);
            assert_eq!(Some(*hash), subtree.root(), "level-1 hash {i} of tile {n}");
        }
    }
    let tree = MerkleTree::<Rfc6962>::from_leaves(&leaves);
    assert_eq!(
        tree.root(),
        Some(root),
        "rs_merkle's root is the checkpoint's"
    );
    VerifiedLog {
        origin,
        size,
        entries,
    }
}

#[test]
fn tile_indexes_follow_the_spec_example() {
    assert_eq!(tile_index(1_234_067), "x001/x234/067");
    assert_eq!(tile_index(0), "000");
    assert_eq!(tile_path("entries", 5, 3), "tile/entries/005.p/3");
    assert_eq!(tile_path("1", 1000, 256), "tile/1/x001/000");
}
