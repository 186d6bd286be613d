//! The two protobuf enums of `sigstore_common.proto` that appear in entries and requests:
//! `HashAlgorithm` and `PublicKeyDetails`, by their JSON names.
//!
//! Only names are accepted on the wire, never numbers: the numbering has changed between
//! protobuf-specs releases (`SHA2_512` was 2 and is now 3), so a number is ambiguous.

use std::fmt;

use crate::error::{truncate_for_error, EntryError};

/// `dev.sigstore.common.v1.HashAlgorithm`, without `HASH_ALGORITHM_UNSPECIFIED` (which
/// protobuf JSON never writes; we treat it as absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// `SHA2_256`
    Sha2_256,
    /// `SHA2_384`
    Sha2_384,
    /// `SHA2_512`
    Sha2_512,
    /// `SHA3_256`
    Sha3_256,
    /// `SHA3_384`
    Sha3_384,
}

impl HashAlgorithm {
    /// Every value, in protobuf declaration order.
    pub const ALL: [HashAlgorithm; 5] = [
        Self::Sha2_256,
        Self::Sha2_384,
        Self::Sha2_512,
        Self::Sha3_256,
        Self::Sha3_384,
    ];

    /// Returns the protobuf JSON name, e.g. `"SHA2_256"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha2_256 => "SHA2_256",
            Self::Sha2_384 => "SHA2_384",
            Self::Sha2_512 => "SHA2_512",
            Self::Sha3_256 => "SHA3_256",
            Self::Sha3_384 => "SHA3_384",
        }
    }

    /// Returns the value with protobuf JSON name `name`, or `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Returns the output length of the hash in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha2_256 | Self::Sha3_256 => 32,
            Self::Sha2_384 | Self::Sha3_384 => 48,
            Self::Sha2_512 => 64,
        }
    }

    /// Returns the number of this value in the protobuf enum (as used by the generated
    /// `sigstore_protobuf_specs` types, never on our JSON wire).
    pub fn proto_number(self) -> i32 {
        match self {
            Self::Sha2_256 => 1,
            Self::Sha2_384 => 2,
            Self::Sha2_512 => 3,
            Self::Sha3_256 => 4,
            Self::Sha3_384 => 5,
        }
    }

    /// Parses a name received in `field`; the empty string and the UNSPECIFIED value count as
    /// missing, as protobuf JSON writes neither.
    pub(crate) fn parse_field(field: &'static str, name: &str) -> Result<Self, EntryError> {
        if name.is_empty() || name == "HASH_ALGORITHM_UNSPECIFIED" {
            return Err(EntryError::Missing { field });
        }
        Self::from_name(name).ok_or_else(|| EntryError::UnknownEnumValue {
            field,
            value: truncate_for_error(name),
        })
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! key_details {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, $number:literal;)*) => {
        /// `dev.sigstore.common.v1.PublicKeyDetails`: key encoding plus signature algorithm,
        /// without `PUBLIC_KEY_DETAILS_UNSPECIFIED`. Every upstream value can be parsed (so a
        /// logged body from another log can be read); this log signs and accepts only
        /// [`PublicKeyDetails::PkixEcdsaP256Sha256`] and [`PublicKeyDetails::PkixEd25519Ph`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum PublicKeyDetails {
            $($(#[$doc])* #[doc = concat!("`", $name, "`")] $variant,)*
        }

        impl PublicKeyDetails {
            /// Every value, in protobuf declaration order.
            pub const ALL: &'static [PublicKeyDetails] = &[$(Self::$variant,)*];

            /// Returns the protobuf JSON name, e.g. `"PKIX_ECDSA_P256_SHA_256"`.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }

            /// Returns the number of this value in the protobuf enum.
            pub fn proto_number(self) -> i32 {
                match self { $(Self::$variant => $number,)* }
            }
        }
    };
}

key_details! {
    PkcsRsaPkcs1v5 = "PKCS1_RSA_PKCS1V5", 1;
    PkcsRsaPss = "PKCS1_RSA_PSS", 2;
    PkixRsaPkcs1v5 = "PKIX_RSA_PKCS1V5", 3;
    PkixRsaPss = "PKIX_RSA_PSS", 4;
    PkixRsaPkcs1v15_2048Sha256 = "PKIX_RSA_PKCS1V15_2048_SHA256", 9;
    PkixRsaPkcs1v15_3072Sha256 = "PKIX_RSA_PKCS1V15_3072_SHA256", 10;
    PkixRsaPkcs1v15_4096Sha256 = "PKIX_RSA_PKCS1V15_4096_SHA256", 11;
    PkixRsaPss2048Sha256 = "PKIX_RSA_PSS_2048_SHA256", 16;
    PkixRsaPss3072Sha256 = "PKIX_RSA_PSS_3072_SHA256", 17;
    PkixRsaPss4096Sha256 = "PKIX_RSA_PSS_4096_SHA256", 18;
    PkixEcdsaP256HmacSha256 = "PKIX_ECDSA_P256_HMAC_SHA_256", 6;
    PkixEcdsaP256Sha256 = "PKIX_ECDSA_P256_SHA_256", 5;
    PkixEcdsaP384Sha384 = "PKIX_ECDSA_P384_SHA_384", 12;
    PkixEcdsaP521Sha512 = "PKIX_ECDSA_P521_SHA_512", 13;
    PkixEd25519 = "PKIX_ED25519", 7;
    PkixEd25519Ph = "PKIX_ED25519_PH", 8;
    PkixEcdsaP384Sha256 = "PKIX_ECDSA_P384_SHA_256", 19;
    PkixEcdsaP521Sha256 = "PKIX_ECDSA_P521_SHA_256", 20;
    LmsSha256 = "LMS_SHA256", 14;
    LmotsSha256 = "LMOTS_SHA256", 15;
    MlDsa65 = "ML_DSA_65", 21;
    MlDsa87 = "ML_DSA_87", 22;
    MlDsa44 = "ML_DSA_44", 23;
}

impl PublicKeyDetails {
    /// Returns the value with protobuf JSON name `name`, or `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|d| d.name() == name)
    }

    /// Returns the hash a hashedrekord v0.0.2 entry records for a signature by this key type
    /// (Rekor's algorithm registry: the hash the signature algorithm applies to the message),
    /// or `None` where Sigstore defines no single hash (LMS, ML-DSA, legacy RSA names).
    pub fn hash_algorithm(self) -> Option<HashAlgorithm> {
        match self {
            Self::PkixRsaPkcs1v15_2048Sha256
            | Self::PkixRsaPkcs1v15_3072Sha256
            | Self::PkixRsaPkcs1v15_4096Sha256
            | Self::PkixRsaPss2048Sha256
            | Self::PkixRsaPss3072Sha256
            | Self::PkixRsaPss4096Sha256
            | Self::PkixEcdsaP256HmacSha256
            | Self::PkixEcdsaP256Sha256
            | Self::PkixEcdsaP384Sha256
            | Self::PkixEcdsaP521Sha256 => Some(HashAlgorithm::Sha2_256),
            Self::PkixEcdsaP384Sha384 => Some(HashAlgorithm::Sha2_384),
            Self::PkixEcdsaP521Sha512 | Self::PkixEd25519 | Self::PkixEd25519Ph => {
                Some(HashAlgorithm::Sha2_512)
            }
            _ => None,
        }
    }

    /// Parses a name received in `field`; the empty string and the UNSPECIFIED value count as
    /// missing, as protobuf JSON writes neither.
    pub(crate) fn parse_field(field: &'static str, name: &str) -> Result<Self, EntryError> {
        if name.is_empty() || name == "PUBLIC_KEY_DETAILS_UNSPECIFIED" {
            return Err(EntryError::Missing { field });
        }
        Self::from_name(name).ok_or_else(|| EntryError::UnknownEnumValue {
            field,
            value: truncate_for_error(name),
        })
    }
}

impl fmt::Display for PublicKeyDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in PublicKeyDetails::ALL {
            assert_eq!(PublicKeyDetails::from_name(d.name()), Some(*d));
        }
        for a in HashAlgorithm::ALL {
            assert_eq!(HashAlgorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(PublicKeyDetails::from_name("5"), None);
        assert_eq!(HashAlgorithm::from_name("sha256"), None);
    }

    #[test]
    fn numbers_match_the_generated_crate() {
        use sigstore_protobuf_specs::dev::sigstore::common::v1 as pb;
        for d in PublicKeyDetails::ALL {
            let pbd = pb::PublicKeyDetails::try_from(d.proto_number()).unwrap();
            assert_eq!(pbd.as_str_name(), d.name());
        }
        for a in HashAlgorithm::ALL {
            let pba = pb::HashAlgorithm::try_from(a.proto_number()).unwrap();
            assert_eq!(pba.as_str_name(), a.name());
        }
    }

    #[test]
    fn unspecified_is_missing() {
        assert_eq!(
            PublicKeyDetails::parse_field("f", "PUBLIC_KEY_DETAILS_UNSPECIFIED"),
            Err(EntryError::Missing { field: "f" })
        );
        assert!(matches!(
            PublicKeyDetails::parse_field("f", "PKIX_NOPE"),
            Err(EntryError::UnknownEnumValue { .. })
        ));
    }
}
