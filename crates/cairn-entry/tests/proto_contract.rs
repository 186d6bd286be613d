//! Ties `proto/` (the wire contract) to upstream and to this crate's hand-written types.
//!
//! 1. `proto/rekor/v2/*.proto` is compiled with protox (a pure-Rust protobuf compiler: the
//!    machines have no `protoc`), resolving `sigstore_common.proto` & co. from the
//!    descriptors embedded in `sigstore_protobuf_specs`.
//! 2. Every message we declare must match the upstream Rekor v2 message of the same name in
//!    `sigstore_protobuf_specs` field by field (number, name, JSON name, type, label, oneof);
//!    upstream fields we leave out must be `reserved` by number and name.
//! 3. Our serde types must agree with the compiled descriptors: JSON we write is read by
//!    prost-reflect's protobuf JSON parser (unknown fields denied) and written back
//!    unchanged, and canonical bodies equal RFC 8785 of prost-reflect's protobuf JSON of the
//!    same `Entry` (the same pipeline as rekor-tiles: protojson.Marshal + canonicalize).

// Helpers outside #[test] functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use cairn_entry::sigstore::specs::dev::sigstore::bundle::v1::Bundle;
use cairn_entry::{
    CreateEntryRequest, HashAlgorithm, HashOutput, HashedRekordRequestV002, HashedRekordV002Body,
    PublicKeyDetails, Signature, Verifier, VerifierKey,
};
use proptest::prelude::*;
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, Kind, ReflectMessage};
use protox::file::{ChainFileResolver, DescriptorSetFileResolver, IncludeFileResolver};

const OUR_FILES: [&str; 4] = [
    "rekor/v2/verifier.proto",
    "rekor/v2/hashedrekord.proto",
    "rekor/v2/entry.proto",
    "rekor/v2/rekor_service.proto",
];

/// Upstream messages we deliberately do not declare (DSSE entries are not accepted).
const NOT_DECLARED: [&str; 2] = [
    "dev.sigstore.rekor.v2.DSSERequestV002",
    "dev.sigstore.rekor.v2.DSSELogEntryV002",
];

fn upstream_pool() -> DescriptorPool {
    Bundle::default().descriptor().parent_pool().clone()
}

fn our_pool() -> DescriptorPool {
    let proto_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    // Upstream's own rekor/v2 files are left out so that ours are the ones compiled.
    let deps = prost_types::FileDescriptorSet {
        file: upstream_pool()
            .file_descriptor_protos()
            .filter(|f| !f.name().starts_with("rekor/v2/"))
            .cloned()
            .collect(),
    };
    let mut resolver = ChainFileResolver::new();
    resolver.add(IncludeFileResolver::new(proto_dir));
    resolver.add(DescriptorSetFileResolver::new(deps));
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true);
    compiler
        .open_files(OUR_FILES)
        .unwrap_or_else(|e| panic!("proto/ does not compile: {e:?}"));
    compiler.descriptor_pool()
}

fn kind_name(f: &FieldDescriptor) -> String {
    match f.kind() {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => format!("{other:?}"),
    }
}

fn describe(f: &FieldDescriptor) -> (u32, String, String, String, String, Option<String>) {
    (
        f.number(),
        f.name().to_owned(),
        f.json_name().to_owned(),
        kind_name(f),
        format!("{:?}", f.cardinality()),
        f.containing_oneof().map(|o| o.name().to_owned()),
    )
}

#[test]
fn proto_dir_matches_upstream_rekor_v2_messages() {
    let ours = our_pool();
    let upstream = upstream_pool();
    let our_msgs: Vec<_> = ours
        .all_messages()
        .filter(|m| m.package_name() == "dev.sigstore.rekor.v2")
        .collect();
    assert_eq!(
        our_msgs.len(),
        8,
        "{:?}",
        our_msgs.iter().map(|m| m.full_name()).collect::<Vec<_>>()
    );
    for m in &our_msgs {
        let up = upstream
            .get_message_by_name(m.full_name())
            .unwrap_or_else(|| panic!("{} is not an upstream message", m.full_name()));
        for f in m.fields() {
            let uf = up
                .get_field(f.number())
                .unwrap_or_else(|| panic!("{}.{} has no upstream field", m.full_name(), f.name()));
            assert_eq!(describe(&f), describe(&uf), "{}", m.full_name());
        }
        let proto = m.descriptor_proto();
        for uf in up.fields() {
            if m.get_field(uf.number()).is_some() {
                continue;
            }
            let n = i32::try_from(uf.number()).unwrap();
            let reserved_number = proto
                .reserved_range
                .iter()
                .any(|r| r.start() <= n && n < r.end());
            let reserved_name = proto.reserved_name.iter().any(|s| s == uf.name());
            assert!(
                reserved_number && reserved_name,
                "{}.{} (= {}) is upstream but neither declared nor reserved",
                m.full_name(),
                uf.name(),
                uf.number()
            );
        }
    }
    for up in upstream
        .all_messages()
        .filter(|m| m.package_name() == "dev.sigstore.rekor.v2")
    {
        assert!(
            ours.get_message_by_name(up.full_name()).is_some()
                || NOT_DECLARED.contains(&up.full_name()),
            "upstream {} is missing from proto/",
            up.full_name()
        );
    }
    let service = ours
        .get_service_by_name("dev.sigstore.rekor.v2.Rekor")
        .unwrap();
    let create = service
        .methods()
        .find(|m| m.name() == "CreateEntry")
        .unwrap();
    assert_eq!(
        create.input().full_name(),
        "dev.sigstore.rekor.v2.CreateEntryRequest"
    );
    assert_eq!(
        create.output().full_name(),
        "dev.sigstore.rekor.v1.TransparencyLogEntry"
    );
}

/// Parses `json` as the proto/ message `name` with prost-reflect (protobuf JSON mapping,
/// unknown fields denied) and writes it back as JSON.
fn through_descriptor(pool: &DescriptorPool, name: &str, json: &[u8]) -> serde_json::Value {
    let desc = pool.get_message_by_name(name).unwrap();
    let mut de = serde_json::Deserializer::from_slice(json);
    let msg = DynamicMessage::deserialize(desc, &mut de)
        .unwrap_or_else(|e| panic!("{name} rejects {}: {e}", String::from_utf8_lossy(json)));
    de.end().unwrap();
    serde_json::to_value(&msg).unwrap()
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..100)
}

fn arb_verifier() -> impl Strategy<Value = Verifier> {
    (
        arb_bytes(),
        any::<bool>(),
        prop::sample::select(PublicKeyDetails::ALL.to_vec()),
    )
        .prop_map(|(raw_bytes, cert, key_details)| Verifier {
            key: if cert {
                VerifierKey::X509Certificate { raw_bytes }
            } else {
                VerifierKey::PublicKey { raw_bytes }
            },
            key_details,
        })
}

fn arb_request() -> impl Strategy<Value = CreateEntryRequest> {
    (arb_bytes(), arb_bytes(), arb_verifier()).prop_map(|(digest, content, verifier)| {
        CreateEntryRequest {
            hashed_rekord_request_v002: HashedRekordRequestV002 {
                digest,
                signature: Signature { content, verifier },
            },
        }
    })
}

fn arb_body() -> impl Strategy<Value = HashedRekordV002Body> {
    (
        prop::sample::select(HashAlgorithm::ALL.to_vec()),
        any::<[u8; 64]>(),
        arb_bytes(),
        arb_verifier(),
    )
        .prop_map(|(algorithm, digest, content, verifier)| {
            HashedRekordV002Body::new(
                HashOutput {
                    algorithm,
                    digest: digest[..algorithm.output_len()].to_vec(),
                },
                Signature { content, verifier },
            )
            .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn request_json_is_what_the_proto_describes(req in arb_request()) {
        let pool = our_pool();
        let ours = req.to_json();
        let theirs = through_descriptor(&pool, "dev.sigstore.rekor.v2.CreateEntryRequest", &ours);
        prop_assert_eq!(serde_json::from_slice::<serde_json::Value>(&ours).unwrap(), theirs.clone());
        // And what prost-reflect writes, we read back to the same value.
        let back = CreateEntryRequest::from_json(&serde_json::to_vec(&theirs).unwrap())?;
        prop_assert_eq!(back, req);
    }

    #[test]
    fn canonical_body_is_rfc8785_of_the_protobuf_json(body in arb_body()) {
        let pool = our_pool();
        let ours = body.to_canonical_bytes();
        let theirs = through_descriptor(&pool, "dev.sigstore.rekor.v2.Entry", &ours);
        // serde_json's Map is a BTreeMap: compact output with sorted ASCII keys is RFC 8785.
        prop_assert_eq!(serde_json::to_vec(&theirs).unwrap(), ours.clone());
        prop_assert_eq!(HashedRekordV002Body::parse_canonical(&ours)?, body);
    }
}
