//! Just enough DER (X.690) to read a SubjectPublicKeyInfo (RFC 5280 §4.1) and to check the
//! shape of an ECDSA signature (RFC 3279 §2.2.3), strictly: definite minimal lengths, no
//! trailing bytes. Anything else is an error, never a panic.

/// One DER element: its tag byte and its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
}

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;

/// A cursor over a sequence of DER elements.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads the next element. Only single-byte tags and lengths up to 0xFFFF are supported,
    /// which covers every key and signature this crate handles.
    pub(crate) fn read(&mut self) -> Result<Tlv<'a>, &'static str> {
        let (&tag, rest) = self.rest.split_first().ok_or("truncated (no tag)")?;
        if tag & 0x1f == 0x1f {
            return Err("multi-byte tags are not supported");
        }
        let (&first, rest) = rest.split_first().ok_or("truncated (no length)")?;
        let (len, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x81 => {
                let (&b, rest) = rest.split_first().ok_or("truncated length")?;
                if b < 0x80 {
                    return Err("length not minimally encoded");
                }
                (usize::from(b), rest)
            }
            0x82 => {
                let [hi, lo] = rest.get(..2).ok_or("truncated length")? else {
                    return Err("truncated length");
                };
                let len = usize::from(*hi) << 8 | usize::from(*lo);
                if len < 0x100 {
                    return Err("length not minimally encoded");
                }
                (len, rest.get(2..).ok_or("truncated length")?)
            }
            0x80 => return Err("indefinite length is not DER"),
            _ => return Err("length too large"),
        };
        let content = rest
            .get(..len)
            .ok_or("truncated (content shorter than length)")?;
        self.rest = rest.get(len..).ok_or("truncated")?;
        Ok(Tlv { tag, content })
    }

    /// Reads the next element and requires tag `tag`.
    pub(crate) fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], &'static str> {
        let tlv = self.read()?;
        if tlv.tag != tag {
            return Err(what);
        }
        Ok(tlv.content)
    }
}

/// Parses `input` as exactly one element with tag `tag` and nothing after it.
pub(crate) fn single<'a>(
    input: &'a [u8],
    tag: u8,
    what: &'static str,
) -> Result<&'a [u8], &'static str> {
    let mut r = Reader::new(input);
    let content = r.expect(tag, what)?;
    if !r.is_empty() {
        return Err("trailing bytes after the DER structure");
    }
    Ok(content)
}

/// The parts of a SubjectPublicKeyInfo this crate looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spki<'a> {
    /// Content octets of the algorithm OID.
    pub(crate) algorithm: &'a [u8],
    /// Content octets of the parameters when they are an OID (named curves).
    pub(crate) parameters_oid: Option<&'a [u8]>,
    /// Whether parameters are present at all (an OID, NULL, or anything else).
    pub(crate) has_parameters: bool,
    /// The subjectPublicKey bits (unused-bits count checked to be zero).
    pub(crate) key: &'a [u8],
}

/// Parses a DER SubjectPublicKeyInfo.
pub(crate) fn parse_spki(der: &[u8]) -> Result<Spki<'_>, &'static str> {
    let spki = single(der, TAG_SEQUENCE, "not a SEQUENCE")?;
    let mut r = Reader::new(spki);
    let alg = r.expect(TAG_SEQUENCE, "algorithm is not a SEQUENCE")?;
    let bits = r.expect(TAG_BIT_STRING, "subjectPublicKey is not a BIT STRING")?;
    if !r.is_empty() {
        return Err("extra fields after subjectPublicKey");
    }
    let mut ar = Reader::new(alg);
    let algorithm = ar.expect(TAG_OID, "algorithm identifier is not an OID")?;
    let (parameters_oid, has_parameters) = if ar.is_empty() {
        (None, false)
    } else {
        let p = ar.read()?;
        if p.tag == TAG_NULL && !p.content.is_empty() {
            return Err("NULL parameters with content");
        }
        ((p.tag == TAG_OID).then_some(p.content), true)
    };
    if !ar.is_empty() {
        return Err("extra fields in the algorithm identifier");
    }
    let (&unused, key) = bits.split_first().ok_or("empty BIT STRING")?;
    if unused != 0 {
        return Err("BIT STRING has unused bits");
    }
    Ok(Spki {
        algorithm,
        parameters_oid,
        has_parameters,
        key,
    })
}

/// Checks that `sig` is a DER `SEQUENCE { r INTEGER, s INTEGER }` with positive, minimally
/// encoded integers of at most `scalar_len` bytes (plus a sign byte).
pub(crate) fn check_ecdsa_signature(sig: &[u8], scalar_len: usize) -> Result<(), &'static str> {
    let seq = single(sig, TAG_SEQUENCE, "not a DER SEQUENCE")?;
    let mut r = Reader::new(seq);
    for _ in 0..2 {
        let int = r.expect(TAG_INTEGER, "r or s is not an INTEGER")?;
        match int {
            [] => return Err("empty INTEGER"),
            [b, ..] if b & 0x80 != 0 => return Err("negative INTEGER"),
            [0, b, ..] if b & 0x80 == 0 => return Err("INTEGER not minimally encoded"),
            [0] => return Err("r or s is zero"),
            _ => {}
        }
        let magnitude = if int[0] == 0 { &int[1..] } else { int };
        if magnitude.len() > scalar_len {
            return Err("r or s is longer than the curve order");
        }
    }
    if !r.is_empty() {
        return Err("extra fields after s");
    }
    Ok(())
}

/// Object identifiers (content octets) this crate recognises.
pub(crate) mod oid {
    /// 1.2.840.10045.2.1 id-ecPublicKey
    pub(crate) const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// 1.2.840.10045.3.1.7 prime256v1 / secp256r1
    pub(crate) const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// 1.3.132.0.34 secp384r1
    pub(crate) const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// 1.3.132.0.35 secp521r1
    pub(crate) const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    /// 1.3.101.112 id-Ed25519
    pub(crate) const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    /// 1.3.101.113 id-Ed448
    pub(crate) const ED448: &[u8] = &[0x2b, 0x65, 0x71];
    /// 1.2.840.113549.1.1.1 rsaEncryption
    pub(crate) const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// 1.2.840.113549.1.1.10 id-RSASSA-PSS
    pub(crate) const RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
}

/// Names the algorithm of a parsed SubjectPublicKeyInfo for error messages.
pub(crate) fn describe(spki: &Spki<'_>) -> String {
    match spki.algorithm {
        oid::EC_PUBLIC_KEY => match spki.parameters_oid {
            Some(oid::P256) => "an ECDSA P-256 key".into(),
            Some(oid::P384) => "an ECDSA P-384 key".into(),
            Some(oid::P521) => "an ECDSA P-521 key".into(),
            _ => "an EC key on an unsupported curve".into(),
        },
        oid::ED25519 => "an Ed25519 key".into(),
        oid::ED448 => "an Ed448 key".into(),
        oid::RSA | oid::RSA_PSS => "an RSA key".into(),
        other => format!("a key of algorithm OID {}", hex::encode(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256_SPKI_PREFIX: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
    const ED25519_SPKI_PREFIX: &str = "302a300506032b6570032100";

    #[test]
    fn parses_p256_and_ed25519_spki() {
        let mut der = hex::decode(P256_SPKI_PREFIX).unwrap();
        der.push(4);
        der.extend([7u8; 64]);
        let spki = parse_spki(&der).unwrap();
        assert_eq!(spki.algorithm, oid::EC_PUBLIC_KEY);
        assert_eq!(spki.parameters_oid, Some(oid::P256));
        assert_eq!(spki.key.len(), 65);
        assert_eq!(describe(&spki), "an ECDSA P-256 key");

        let mut der = hex::decode(ED25519_SPKI_PREFIX).unwrap();
        der.extend([9u8; 32]);
        let spki = parse_spki(&der).unwrap();
        assert_eq!(spki.algorithm, oid::ED25519);
        assert!(!spki.has_parameters);
        assert_eq!(spki.key, &[9u8; 32]);
    }

    #[test]
    fn every_truncation_and_extension_is_rejected() {
        let mut der = hex::decode(ED25519_SPKI_PREFIX).unwrap();
        der.extend([9u8; 32]);
        for n in 0..der.len() {
            assert!(parse_spki(&der[..n]).is_err(), "prefix {n}");
        }
        let mut longer = der.clone();
        longer.push(0);
        assert!(parse_spki(&longer).is_err());
    }

    #[test]
    fn non_minimal_lengths_are_rejected() {
        // SEQUENCE with a long-form length for a short content.
        assert!(Reader::new(&[0x30, 0x81, 0x01, 0x00]).read().is_err());
        assert!(Reader::new(&[0x30, 0x82, 0x00, 0x01, 0x00]).read().is_err());
        assert!(Reader::new(&[0x30, 0x80, 0x00, 0x00]).read().is_err());
    }

    #[test]
    fn ecdsa_signature_shape() {
        let ok = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02];
        assert!(check_ecdsa_signature(&ok, 32).is_ok());
        let negative = [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02];
        assert!(check_ecdsa_signature(&negative, 32).is_err());
        let padded = [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02];
        assert!(check_ecdsa_signature(&padded, 32).is_err());
        let zero = [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x02];
        assert!(check_ecdsa_signature(&zero, 32).is_err());
        let trailing = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00];
        assert!(check_ecdsa_signature(&trailing, 32).is_err());
    }
}
