//! Whole-bundle verification: [`verify_bundle`] for key-signed bundles (what `cairn sign`
//! writes), [`verify_bundle_tlog`] for the transparency-log part of any bundle (certificate
//! bundles from the public Sigstore instance included).

use std::io::Read;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cairn_entry::body::kind_and_version;
use cairn_entry::sigstore::specs::dev::sigstore::bundle::v1::{bundle, verification_material};
use cairn_entry::{Bundle, EntryBody, HashAlgorithm, SignerAlgorithm, SignerKey, VerifierKey};
use sha2::{Digest as _, Sha256, Sha512};

use crate::error::VerifyError;
use crate::options::VerifyOptions;
use crate::tlog::{verify_tlog_entry, VerifiedCheckpoint, VerifiedTlogEntry};
use crate::trust::{TrustedLog, TrustedLogs};

/// Bundle media types this verifier reads (v0.1 and v0.2 in their old spelling, v0.3 in
/// both).
pub const SUPPORTED_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// The artifact a bundle is checked against.
pub enum ArtifactInput<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// A reader over the artifact, hashed in 64 KiB chunks (never held in memory).
    Reader(&'a mut dyn Read),
    /// The artifact's digest, already computed with the key's hash (SHA-256 for ECDSA P-256,
    /// SHA-512 for Ed25519ph).
    Digest(&'a [u8]),
}

/// Returns the digest of everything `reader` yields, with `algorithm`'s hash (SHA-256 or
/// SHA-512), reading 64 KiB at a time.
///
/// # Errors
/// Read errors.
pub fn hash_reader(algorithm: SignerAlgorithm, reader: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 64 * 1024];
    match algorithm {
        SignerAlgorithm::EcdsaP256Sha256 => {
            let mut h = Sha256::new();
            loop {
                let n = read_some(reader, &mut buf)?;
                if n == 0 {
                    return Ok(h.finalize().to_vec());
                }
                h.update(buf.get(..n).unwrap_or_default());
            }
        }
        SignerAlgorithm::Ed25519Ph => {
            let mut h = Sha512::new();
            loop {
                let n = read_some(reader, &mut buf)?;
                if n == 0 {
                    return Ok(h.finalize().to_vec());
                }
                h.update(buf.get(..n).unwrap_or_default());
            }
        }
    }
}

fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// A key-signed bundle that verified in full. Only [`verify_bundle`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedEntry {
    tlog: VerifiedTlogEntry,
    digest: Vec<u8>,
    hash_algorithm: HashAlgorithm,
    key_hint: String,
}

impl VerifiedEntry {
    /// Returns the verified transparency log entry.
    pub fn tlog(&self) -> &VerifiedTlogEntry {
        &self.tlog
    }

    /// Returns the log the entry is in.
    pub fn log(&self) -> &TrustedLog {
        self.tlog.log()
    }

    /// Returns the entry's log index.
    pub fn log_index(&self) -> u64 {
        self.tlog.log_index()
    }

    /// Returns the verified checkpoint.
    pub fn checkpoint(&self) -> &VerifiedCheckpoint {
        self.tlog.checkpoint()
    }

    /// Returns the artifact digest that was signed and logged.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// Returns the hash of [`Self::digest`].
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash_algorithm
    }

    /// Returns the signer key's hint: base64 of SHA-256 of its DER SubjectPublicKeyInfo.
    pub fn key_hint(&self) -> &str {
        &self.key_hint
    }
}

/// Parses a bundle and checks its media type.
fn parse_bundle(bundle_json: &[u8]) -> Result<Bundle, VerifyError> {
    let bundle: Bundle = serde_json::from_slice(bundle_json)
        .map_err(|e| VerifyError::MalformedBundle(e.to_string()))?;
    if !SUPPORTED_MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
        return Err(VerifyError::UnsupportedMediaType(bundle.media_type));
    }
    Ok(bundle)
}

/// Verifies a key-signed Sigstore bundle (as `cairn sign` writes it) for `artifact` and the
/// signer `key`, offline. The checks, in order, each with its own error:
///
/// 1. bundle shape and media type (a message signature, a public-key hint, one log entry);
/// 2. the artifact's digest equals the bundle's;
/// 3. the signature verifies over that digest with `key`;
/// 4. the logged body records exactly this digest, signature and key (hashedrekord 0.0.2 or
///    0.0.1);
/// 5. the checkpoint is signed by a log of `trust` (found by log ID, key name and origin,
///    inside the key's validity window) and meets the witness policy;
/// 6. the inclusion proof leads from the body's leaf hash to the checkpoint's root;
/// 7. the SET, when present (required with [`VerifyOptions::require_set`]), verifies;
///
/// then the checkpoint's freshness, when a bound is set. Rollback and fork protection is a
/// separate step: [`crate::CheckpointState::check`].
///
/// # Errors
/// The [`VerifyError`] of the first check that fails.
pub fn verify_bundle(
    bundle_json: &[u8],
    artifact: ArtifactInput<'_>,
    key: &SignerKey,
    trust: &TrustedLogs,
    opts: &VerifyOptions,
) -> Result<VerifiedEntry, VerifyError> {
    // --- 1. shape
    let bundle = parse_bundle(bundle_json)?;
    let material = bundle
        .verification_material
        .as_ref()
        .ok_or(VerifyError::BundleShape("no verificationMaterial"))?;
    match &material.content {
        Some(verification_material::Content::PublicKey(_)) => {}
        Some(_) => {
            return Err(VerifyError::BundleShape(
                "the bundle is certificate-based; verify its certificate separately and use \
                 verify_bundle_tlog for the log entry",
            ))
        }
        None => {
            return Err(VerifyError::BundleShape(
                "no publicKey in verificationMaterial",
            ))
        }
    }
    let [entry] = material.tlog_entries.as_slice() else {
        return Err(VerifyError::BundleShape(
            "expected exactly one transparency log entry",
        ));
    };
    let Some(bundle::Content::MessageSignature(ms)) = &bundle.content else {
        return Err(VerifyError::BundleShape(
            "no messageSignature (DSSE bundles are not key-signed artifacts)",
        ));
    };
    let md = ms.message_digest.as_ref().ok_or(VerifyError::BundleShape(
        "no messageSignature.messageDigest",
    ))?;
    if ms.signature.is_empty() {
        return Err(VerifyError::BundleShape("empty messageSignature.signature"));
    }

    // --- 2. digest
    let key_hash = key.hash_algorithm();
    if md.algorithm != key_hash.proto_number() {
        let bundle_alg = HashAlgorithm::ALL
            .iter()
            .find(|a| a.proto_number() == md.algorithm)
            .map_or_else(|| format!("#{}", md.algorithm), |a| a.to_string());
        return Err(VerifyError::DigestAlgorithm {
            bundle: bundle_alg,
            key: key_hash.to_string(),
        });
    }
    let actual = match artifact {
        ArtifactInput::Bytes(b) => key.algorithm().digest(b),
        ArtifactInput::Reader(r) => {
            hash_reader(key.algorithm(), r).map_err(VerifyError::Artifact)?
        }
        ArtifactInput::Digest(d) => d.to_vec(),
    };
    if actual != md.digest {
        return Err(VerifyError::DigestMismatch {
            algorithm: key_hash.to_string(),
            expected: hex::encode(&md.digest),
            actual: hex::encode(&actual),
        });
    }

    // --- 3. signature
    key.verify_digest(&md.digest, &ms.signature)
        .map_err(VerifyError::Signature)?;

    // --- 4. logged body
    check_kind_version(entry)?;
    match EntryBody::parse(&entry.canonicalized_body).map_err(VerifyError::Body)? {
        EntryBody::HashedRekordV002(body) => {
            if body.data().algorithm != key_hash || body.data().digest != md.digest {
                return Err(VerifyError::BodyMismatch { field: "digest" });
            }
            if body.signature().content != ms.signature {
                return Err(VerifyError::BodyMismatch { field: "signature" });
            }
            let v = &body.signature().verifier;
            match &v.key {
                VerifierKey::PublicKey { raw_bytes }
                    if raw_bytes == key.spki_der() && v.key_details == key.key_details() => {}
                _ => {
                    return Err(VerifyError::BodyMismatch {
                        field: "public key",
                    })
                }
            }
        }
        EntryBody::HashedRekordV001(body) => {
            if body.hash_algorithm() != key_hash || body.digest() != md.digest.as_slice() {
                return Err(VerifyError::BodyMismatch { field: "digest" });
            }
            if body.signature() != ms.signature.as_slice() {
                return Err(VerifyError::BodyMismatch { field: "signature" });
            }
            match pem_der(body.public_key_pem(), "PUBLIC KEY") {
                Some(der) if der == key.spki_der() => {}
                _ => {
                    return Err(VerifyError::BodyMismatch {
                        field: "public key",
                    })
                }
            }
        }
        _ => {
            return Err(VerifyError::BodyMismatch {
                field: "entry kind",
            })
        }
    }

    // --- 5, 6, 7
    let tlog = verify_tlog_entry(entry, trust, opts)?;
    Ok(VerifiedEntry {
        tlog,
        digest: md.digest.clone(),
        hash_algorithm: key_hash,
        key_hint: cairn_entry::public_key_hint(key.spki_der()),
    })
}

fn check_kind_version(entry: &cairn_entry::TransparencyLogEntry) -> Result<(), VerifyError> {
    let (kind, version) = kind_and_version(&entry.canonicalized_body).map_err(VerifyError::Body)?;
    match &entry.kind_version {
        Some(kv) if kv.kind == kind && kv.version == version => Ok(()),
        _ => Err(VerifyError::BodyMismatch {
            field: "kindVersion",
        }),
    }
}

/// Returns the DER inside a PEM block with `label`, or `None`.
fn pem_der(pem: &[u8], label: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text.get(start..)?.find(&end)?;
    let b64: String = text
        .get(start..stop)?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

/// DSSE pre-authentication encoding (<https://github.com/secure-systems-lab/dsse>):
/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
fn dsse_pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Verifies the transparency-log part of any Sigstore bundle (key- or certificate-signed,
/// message signature or DSSE) offline: for every log entry, that its body records this
/// bundle's signature, digest and verifier where the kind allows (hashedrekord 0.0.1/0.0.2,
/// dsse 0.0.1/0.0.2), then [`verify_tlog_entry`].
///
/// It does NOT check the certificate chain, the signer identity, the artifact, or the
/// signature itself: that is the caller's (Fulcio) part.
///
/// # Errors
/// The [`VerifyError`] of the first check that fails.
pub fn verify_bundle_tlog(
    bundle_json: &[u8],
    trust: &TrustedLogs,
    opts: &VerifyOptions,
) -> Result<Vec<VerifiedTlogEntry>, VerifyError> {
    let bundle = parse_bundle(bundle_json)?;
    let material = bundle
        .verification_material
        .as_ref()
        .ok_or(VerifyError::BundleShape("no verificationMaterial"))?;
    if material.tlog_entries.is_empty() {
        return Err(VerifyError::BundleShape("no transparency log entry"));
    }
    let cert: Option<&[u8]> = match &material.content {
        Some(verification_material::Content::Certificate(c)) => Some(&c.raw_bytes),
        Some(verification_material::Content::X509CertificateChain(c)) => {
            c.certificates.first().map(|c| c.raw_bytes.as_slice())
        }
        _ => None,
    };
    let mut out = Vec::with_capacity(material.tlog_entries.len());
    for entry in &material.tlog_entries {
        check_kind_version(entry)?;
        check_body_agrees(&entry.canonicalized_body, &bundle, cert)?;
        out.push(verify_tlog_entry(entry, trust, opts)?);
    }
    Ok(out)
}

/// The (digest algorithm, digest, signature) a hashedrekord entry for this bundle must record.
fn signed_digest(bundle: &Bundle) -> Result<(i32, Vec<u8>, Vec<u8>), VerifyError> {
    match &bundle.content {
        Some(bundle::Content::MessageSignature(ms)) => {
            let md = ms.message_digest.as_ref().ok_or(VerifyError::BundleShape(
                "no messageSignature.messageDigest",
            ))?;
            Ok((md.algorithm, md.digest.clone(), ms.signature.clone()))
        }
        Some(bundle::Content::DsseEnvelope(env)) => {
            let [sig] = env.signatures.as_slice() else {
                return Err(VerifyError::BundleShape(
                    "a DSSE envelope must have exactly one signature",
                ));
            };
            let digest = Sha256::digest(dsse_pae(&env.payload_type, &env.payload)).to_vec();
            Ok((
                HashAlgorithm::Sha2_256.proto_number(),
                digest,
                sig.sig.clone(),
            ))
        }
        None => Err(VerifyError::BundleShape(
            "no messageSignature or dsseEnvelope",
        )),
    }
}

fn check_body_agrees(body: &[u8], bundle: &Bundle, cert: Option<&[u8]>) -> Result<(), VerifyError> {
    let mismatch = |field| Err(VerifyError::BodyMismatch { field });
    let (kind, version) = kind_and_version(body).map_err(VerifyError::Body)?;
    match (kind.as_str(), version.as_str()) {
        ("hashedrekord", _) => {
            let (alg, digest, sig) = signed_digest(bundle)?;
            match EntryBody::parse(body).map_err(VerifyError::Body)? {
                EntryBody::HashedRekordV002(b) => {
                    if b.data().algorithm.proto_number() != alg || b.data().digest != digest {
                        return mismatch("digest");
                    }
                    if b.signature().content != sig {
                        return mismatch("signature");
                    }
                    match (&b.signature().verifier.key, cert) {
                        (VerifierKey::X509Certificate { raw_bytes }, Some(c)) if raw_bytes == c => {
                        }
                        // The body names the key; the bundle's certificate must hold that
                        // exact SubjectPublicKeyInfo (DER, so it appears verbatim).
                        (VerifierKey::PublicKey { raw_bytes }, Some(c))
                            if contains(c, raw_bytes) => {}
                        (VerifierKey::PublicKey { .. }, None) => {}
                        _ => return mismatch("certificate or key"),
                    }
                }
                EntryBody::HashedRekordV001(b) => {
                    if b.hash_algorithm().proto_number() != alg || b.digest() != digest.as_slice() {
                        return mismatch("digest");
                    }
                    if b.signature() != sig.as_slice() {
                        return mismatch("signature");
                    }
                    if let Some(c) = cert {
                        if pem_der(b.public_key_pem(), "CERTIFICATE").as_deref() != Some(c) {
                            return mismatch("certificate");
                        }
                    }
                }
                _ => return mismatch("entry kind"),
            }
        }
        ("dsse", "0.0.1" | "0.0.2") => check_dsse_body(body, bundle, &version)?,
        // Other kinds: the log vouches for the body bytes, which the caller must interpret.
        _ => {}
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// dsse 0.0.1 (`spec.payloadHash.value` hex, `spec.signatures[].signature` base64) and dsse
/// 0.0.2 (`spec.dsseV002.payloadHash.digest` base64, `spec.dsseV002.signatures[].content`):
/// the payload hash is SHA-256 of the envelope's payload and the signatures are the
/// envelope's.
fn check_dsse_body(body: &[u8], bundle: &Bundle, version: &str) -> Result<(), VerifyError> {
    let mismatch = |field| VerifyError::BodyMismatch { field };
    let Some(bundle::Content::DsseEnvelope(env)) = &bundle.content else {
        return Err(mismatch("entry kind (dsse entry for a non-DSSE bundle)"));
    };
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| VerifyError::Body(cairn_entry::EntryError::Json(e.to_string())))?;
    let payload_hash = Sha256::digest(&env.payload).to_vec();
    let (logged_hash, sigs): (Option<Vec<u8>>, Vec<Option<Vec<u8>>>) = if version == "0.0.1" {
        let spec = &v["spec"];
        (
            spec["payloadHash"]["value"]
                .as_str()
                .and_then(|h| hex::decode(h).ok()),
            spec["signatures"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| {
                            s["signature"]
                                .as_str()
                                .and_then(|b| STANDARD.decode(b).ok())
                        })
                        .collect()
                })
                .unwrap_or_default(),
        )
    } else {
        let spec = &v["spec"]["dsseV002"];
        (
            spec["payloadHash"]["digest"]
                .as_str()
                .and_then(|b| STANDARD.decode(b).ok()),
            spec["signatures"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|s| s["content"].as_str().and_then(|b| STANDARD.decode(b).ok()))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    if logged_hash.as_deref() != Some(payload_hash.as_slice()) {
        return Err(mismatch("payload hash"));
    }
    let bundle_sigs: Vec<Option<Vec<u8>>> =
        env.signatures.iter().map(|s| Some(s.sig.clone())).collect();
    if sigs.is_empty() || sigs != bundle_sigs {
        return Err(mismatch("signature"));
    }
    Ok(())
}
