//! Writes the seed corpora of the fuzz targets (`fuzz/corpus/<target>/`) from the fixture log
//! and the formats' own formatters, so every seed is a valid input of its parser (and reaches
//! the deepest checks). Run from the repository root:
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds
//! ```
//!
//! Existing files of the same name are overwritten; nothing else is removed.

use std::fs;
use std::path::{Path, PathBuf};

use cairn_entry::{SignerAlgorithm, SignerKeyPair};
use cairn_fuzz::{
    fixture_log, log_signer, signer, trusted_root_json, witness_signer, Log, SyntheticTree, ORIGIN,
};
use cairn_merkle::tiles::{read_tile_data, EntryBundle, Tile};
use cairn_note::{Note, NoteSigner, TlogProof};

struct Corpus {
    dir: PathBuf,
    count: usize,
}

impl Corpus {
    fn new(root: &Path, target: &str) -> Corpus {
        let dir = root.join(target);
        fs::create_dir_all(&dir).expect("create corpus dir");
        Corpus { dir, count: 0 }
    }

    fn add(&mut self, name: &str, bytes: impl AsRef<[u8]>) {
        fs::write(self.dir.join(name), bytes).expect("write seed");
        self.count += 1;
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let (log, request) = fixture_log();
    let size = log.size();
    let cp_plain = log.signed_checkpoint(size, false);
    let cp_cosigned = log.signed_checkpoint(size, true);
    let witness = witness_signer();
    let cosig_line = {
        let text = Note::parse(&cp_plain).expect("checkpoint note").text;
        let sig = witness.sign(text.as_bytes()).expect("cosign");
        format!(
            "\u{2014} {} {}\n",
            witness.name(),
            cosig_b64(witness.key_id(), &sig)
        )
    };
    // The C2SP tlog-checkpoint spec's example, as the note crate's own tests use it.
    let spec_checkpoint = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    let with_extension = {
        let mut cp =
            cairn_note::Checkpoint::new(ORIGIN.parse().expect("origin"), size, log.root(size));
        cp.extensions.push("ext line one".into());
        let s = log_signer();
        cairn_note::sign_checkpoint(&cp, &[&s as &dyn NoteSigner])
            .expect("sign")
            .to_bytes()
    };

    let mut c = Corpus::new(&root, "note");
    c.add("checkpoint", &cp_plain);
    c.add("cosigned", &cp_cosigned);
    c.add("spec-checkpoint", spec_checkpoint);
    let s = log_signer();
    c.add(
        "free-text",
        Note::sign("hello\n\nworld\n", &[&s as &dyn NoteSigner])
            .expect("sign")
            .to_bytes(),
    );
    c.add("signature-lines", &cosig_line);
    println!("note: {}", c.count);

    let mut c = Corpus::new(&root, "checkpoint");
    c.add("body", Note::parse(&cp_plain).expect("note").text);
    c.add(
        "body-extension",
        Note::parse(&with_extension).expect("note").text,
    );
    c.add("signed", &cp_plain);
    c.add("cosigned", &cp_cosigned);
    c.add("signed-extension", &with_extension);
    c.add("spec-checkpoint", spec_checkpoint);
    println!("checkpoint: {}", c.count);

    let mut c = Corpus::new(&root, "cosignature");
    c.add("cosigned", &cp_cosigned);
    let mut with_response = cp_plain.clone();
    with_response.push(0);
    with_response.extend_from_slice(cosig_line.as_bytes());
    c.add("checkpoint-and-response", with_response);
    println!("cosignature: {}", c.count);

    let p256 = signer(SignerAlgorithm::EcdsaP256Sha256, 1);
    let ed = signer(SignerAlgorithm::Ed25519Ph, 2);
    let mut c = Corpus::new(&root, "vkey");
    c.add("log-vkey", log_signer().vkey());
    c.add("witness-vkey", witness.vkey());
    c.add(
        "origin-rekor-v1",
        "rekor.sigstore.dev - 2605736670972794746",
    );
    c.add("key-name", ORIGIN);
    c.add("p256-spki", p256.public_spki_der());
    c.add("ed25519-spki", ed.public_spki_der());
    println!("vkey: {}", c.count);

    let mut c = Corpus::new(&root, "keys");
    for (name, k) in [("p256", &p256), ("ed25519", &ed)] {
        add_key_seeds(&mut c, name, k);
    }
    println!("keys: {}", c.count);

    let mut c = Corpus::new(&root, "tile_path");
    for (i, (level, index, width)) in [
        (0u8, 0u64, 256u16),
        (0, 1234067, 5),
        (1, 1000, 256),
        (63, u64::MAX >> 8, 255),
    ]
    .into_iter()
    .enumerate()
    {
        let t = Tile::new(level, index, width).expect("tile");
        c.add(&format!("hash-{i}"), t.path());
        if level == 0 {
            c.add(&format!("entries-{i}"), t.entries_path());
        }
        let mut coords = vec![level];
        coords.extend_from_slice(&index.to_le_bytes());
        coords.extend_from_slice(&width.to_le_bytes());
        coords.extend_from_slice(&70_000u64.to_le_bytes());
        c.add(&format!("coords-{i}"), coords);
    }
    println!("tile_path: {}", c.count);

    let mut c = Corpus::new(&root, "hash_tile");
    for (i, (level, index, width)) in [(0u8, 0u64, 5u16), (0, 3, 256), (1, 0, 2)]
        .into_iter()
        .enumerate()
    {
        let tile = Tile::new(level, index, width).expect("tile");
        let data = read_tile_data(tile, &SyntheticTree).expect("tile data");
        let mut seed = vec![level];
        seed.extend_from_slice(&index.to_le_bytes());
        seed.extend_from_slice(&width.to_le_bytes());
        seed.extend_from_slice(&(u64::from(width) + 3).to_le_bytes()); // a stored-hash index
        seed.extend_from_slice(&(255u64).to_le_bytes()); // old size
        seed.extend_from_slice(&300u16.to_le_bytes()); // growth
        seed.extend_from_slice(&data);
        c.add(&format!("tile-{i}"), seed);
    }
    println!("hash_tile: {}", c.count);

    let mut c = Corpus::new(&root, "entry_bundle");
    let mut bundle = EntryBundle::new();
    for body in &log.bodies {
        bundle.push(body.clone()).expect("push");
    }
    let width = u16::try_from(bundle.len()).expect("width");
    c.add(
        "fixture-log",
        [&width.to_be_bytes()[..], &bundle.to_bytes()].concat(),
    );
    c.add("no-width", [&[0, 0][..], &bundle.to_bytes()].concat());
    let mut small = EntryBundle::new();
    for e in [&b""[..], b"a", b"bc"] {
        small.push(e.to_vec()).expect("push");
    }
    c.add(
        "small",
        [&3u16.to_be_bytes()[..], &small.to_bytes()].concat(),
    );
    println!("entry_bundle: {}", c.count);

    let mut c = Corpus::new(&root, "tlog_proof");
    for (i, extra) in [None, Some(b"extra data".to_vec())].into_iter().enumerate() {
        let proof = TlogProof {
            extra_data: extra,
            index: 2,
            proof: log.inclusion(size, 2),
            checkpoint: Note::parse(if i == 0 { &cp_plain } else { &cp_cosigned }).expect("note"),
        };
        c.add(&format!("proof-{i}"), proof.to_bytes());
    }
    println!("tlog_proof: {}", c.count);

    let mut c = Corpus::new(&root, "submission");
    let json = request.to_wire().to_json();
    c.add("p256", &json);
    let mut ed_log = Log::default();
    let ed_request = ed_log.log_artifact(&ed, b"ed artifact");
    c.add("ed25519ph", ed_request.to_wire().to_json());
    // The proto field name spelling that rekor-tiles' own curl example sends.
    let snake = String::from_utf8(json.clone())
        .expect("utf8")
        .replace("keyDetails", "key_details");
    c.add("proto-names", snake);
    println!("submission: {}", c.count);

    let mut c = Corpus::new(&root, "entry_body");
    c.add("v002-p256", &log.bodies[2]);
    c.add("v002-ed25519ph", &ed_log.bodies[0]);
    c.add("v001", v001_body(&request));
    println!("entry_body: {}", c.count);

    let mut c = Corpus::new(&root, "sigstore_bundle");
    c.add("bundle", log.bundle(&request, 2, false));
    c.add("bundle-cosigned", log.bundle(&request, 2, true));
    println!("sigstore_bundle: {}", c.count);

    let mut c = Corpus::new(&root, "trusted_root");
    c.add("fixture", trusted_root_json());
    println!("trusted_root: {}", c.count);

    let mut c = Corpus::new(&root, "witness_request");
    c.add("old-0", [&b"old 0\n\n"[..], &cp_plain].concat());
    let mut header = String::from("old 2\n");
    for h in log.consistency(2, size) {
        header.push_str(&h.to_base64());
        header.push('\n');
    }
    header.push('\n');
    c.add("old-2", [header.as_bytes(), &cp_cosigned].concat());
    println!("witness_request: {}", c.count);
}

fn cosig_b64(key_id: u32, sig: &[u8]) -> String {
    use base64::Engine as _;
    let raw = [&key_id.to_be_bytes()[..], sig].concat();
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn add_key_seeds(c: &mut Corpus, name: &str, k: &SignerKeyPair) {
    let public = k.signer_key().expect("public key");
    c.add(&format!("{name}-spki-der"), k.public_spki_der());
    c.add(&format!("{name}-spki-pem"), public.to_spki_pem());
    c.add(
        &format!("{name}-pkcs8-der"),
        k.to_pkcs8_der().expect("pkcs8").as_slice(),
    );
    c.add(
        &format!("{name}-pkcs8-pem"),
        k.to_pkcs8_pem().expect("pkcs8 pem").as_bytes(),
    );
}

/// A hashedrekord 0.0.1 body (Rekor v1's format) for the fixture request, in RFC 8785
/// canonical form (members sorted, no spaces).
fn v001_body(request: &cairn_entry::HashedRekordRequest) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let pem = request.key().to_spki_pem();
    let body = format!(
        r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
        hex(request.digest()),
        b64(request.signature()),
        b64(pem.as_bytes()),
    );
    cairn_entry::HashedRekordV001Body::parse_canonical(body.as_bytes())
        .expect("v001 seed is canonical");
    body.into_bytes()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
