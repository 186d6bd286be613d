//! TLS to PostgreSQL, as libpq's `sslmode` and `sslrootcert` say, over rustls.
//!
//! tokio-postgres knows `sslmode=disable|prefer|require` but not `verify-ca`, `verify-full`
//! or `sslrootcert`, and refuses a connection string that names them; so [`connect_config`]
//! takes both out of the string (URL query or key=value form) and builds the TLS side itself:
//!
//! | sslmode | TLS | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (default, as libpq) | if the server offers it | no |
//! | `require` | always | no; with `sslrootcert`, as `verify-ca` (as libpq) |
//! | `verify-ca` | always | chains to the roots |
//! | `verify-full` | always | chains to the roots and names the host |
//!
//! The roots are the PEM file `sslrootcert` names, else the Mozilla roots (webpki-roots;
//! `sslrootcert=system` says so explicitly). `allow` (plain first, TLS on refusal) is refused:
//! tokio-postgres cannot try plain first.

use crate::OpenError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use std::sync::Arc;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's sslmode values that this driver supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// Returns the tokio-postgres configuration of `url` and the TLS connector its `sslmode` and
/// `sslrootcert` ask for.
///
/// # Errors
/// [`OpenError::PostgresUrl`] for an unknown `sslmode`, an unreadable `sslrootcert`, or a
/// string tokio-postgres refuses.
pub(crate) fn connect_config(
    url: &str,
) -> Result<(tokio_postgres::Config, MakeRustlsConnect), OpenError> {
    let bad = |reason: String| OpenError::PostgresUrl { reason };
    let (rest, mode, rootcert) = take_tls_params(url).map_err(bad)?;
    let mode = match mode.as_deref() {
        None | Some("prefer") => Mode::Prefer,
        Some("disable") => Mode::Disable,
        Some("require") if rootcert.is_some() => Mode::VerifyCa,
        Some("require") => Mode::Require,
        Some("verify-ca") => Mode::VerifyCa,
        Some("verify-full") => Mode::VerifyFull,
        Some(other) => {
            return Err(bad(format!(
                "sslmode={other} is not supported (disable, prefer, require, verify-ca, \
                 verify-full)"
            )))
        }
    };
    let mut config: tokio_postgres::Config = rest
        .parse()
        .map_err(|e: tokio_postgres::Error| bad(e.to_string()))?;
    config.ssl_mode(match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = match rootcert.as_deref() {
        None | Some("system") => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
        Some(file) => {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(file)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| bad(format!("sslrootcert {file}: {e}")))?;
            if certs.is_empty() {
                return Err(bad(format!("sslrootcert {file}: no certificates")));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("sslrootcert {file}: {e}")))?;
            }
            roots
        }
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?;
    let tls = if mode == Mode::VerifyFull {
        builder.with_root_certificates(roots)
    } else {
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| bad(e.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Relaxed {
                webpki,
                check_chain: mode == Mode::VerifyCa,
            }))
    };
    Ok((config, MakeRustlsConnect::new(tls.with_no_client_auth())))
}

/// Splits `sslmode` and `sslrootcert` off a connection string, URL or key=value form.
fn take_tls_params(url: &str) -> Result<(String, Option<String>, Option<String>), String> {
    let (mut mode, mut rootcert) = (None, None);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        let mut kept = Vec::new();
        for (k, v) in parsed.query_pairs() {
            match k.as_ref() {
                "sslmode" => mode = Some(v.into_owned()),
                "sslrootcert" => rootcert = Some(v.into_owned()),
                _ => kept.push((k.into_owned(), v.into_owned())),
            }
        }
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(kept);
        }
        return Ok((parsed.to_string(), mode, rootcert));
    }
    // key=value form: these two values never need quoting in practice; a quoted one is
    // refused rather than misread.
    let mut kept = Vec::new();
    for word in url.split_ascii_whitespace() {
        let value = |v: &str| -> Result<String, String> {
            if v.starts_with('\'') {
                Err(format!("write {word} without quotes"))
            } else {
                Ok(v.to_string())
            }
        };
        if let Some(v) = word.strip_prefix("sslmode=") {
            mode = Some(value(v)?);
        } else if let Some(v) = word.strip_prefix("sslrootcert=") {
            rootcert = Some(value(v)?);
        } else {
            kept.push(word);
        }
    }
    Ok((kept.join(" "), mode, rootcert))
}

/// `verify-ca` (`check_chain`: the chain must lead to a root, whatever name the certificate
/// has) and `prefer`/`require` without a root file (nothing checked: encryption against
/// passive listeners only, as libpq does). Either way the handshake signature is checked
/// against the certificate.
#[derive(Debug)]
struct Relaxed {
    webpki: Arc<WebPkiServerVerifier>,
    check_chain: bool,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.check_chain {
            return Ok(ServerCertVerified::assertion());
        }
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::take_tls_params;

    #[test]
    fn tls_params_are_taken_out_of_both_forms() {
        let (rest, mode, root) = take_tls_params(
            "postgres://u:p@db:5432/cairn?sslmode=verify-full&application_name=x&sslrootcert=/ca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@db:5432/cairn?application_name=x");
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/ca.pem"));
        let (rest, mode, root) =
            take_tls_params("host=db user=u sslmode=require dbname=cairn").unwrap();
        assert_eq!(rest, "host=db user=u dbname=cairn");
        assert_eq!(mode.as_deref(), Some("require"));
        assert_eq!(root, None);
        assert!(take_tls_params("host=db sslrootcert='/a b'").is_err());
    }

    #[test]
    fn unknown_modes_and_missing_root_files_are_refused() {
        let err = |url: &str| super::connect_config(url).err().unwrap().to_string();
        assert!(err("postgres://db/x?sslmode=allow").contains("sslmode=allow is not supported"));
        assert!(
            err("postgres://db/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
                .contains("sslrootcert /nonexistent/ca.pem")
        );
        super::connect_config("postgres://db/x?sslmode=verify-full").unwrap();
    }

    /// Returns whether a connection to `url` (as the store makes it) uses TLS.
    async fn uses_tls(url: &str) -> Result<bool, String> {
        let (config, tls) = super::connect_config(url).map_err(|e| e.to_string())?;
        let (client, conn) = config
            .connect(tls)
            .await
            .map_err(|e| crate::pg::with_causes(&e))?;
        tokio::spawn(conn);
        let row = client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(row.get(0))
    }

    /// Runs `openssl ARGS` in `dir`.
    fn openssl(dir: &std::path::Path, args: &str) {
        let out = std::process::Command::new("openssl")
            .args(args.split(' '))
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args}: {out:?}");
    }

    /// Writes CA `ca` and, signed by it, a certificate for `cairn-db.test` only.
    fn make_certs(dir: &std::path::Path) {
        let key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
        for ca in ["ca", "wrong-ca"] {
            openssl(
                dir,
                &format!("req -x509 {key} -keyout {ca}.key -out {ca}.crt -days 2 -subj /CN={ca}"),
            );
        }
        openssl(
            dir,
            &format!("req {key} -keyout server.key -out server.csr -subj /CN=cairn-db.test"),
        );
        std::fs::write(dir.join("ext"), "subjectAltName=DNS:cairn-db.test\n").unwrap();
        openssl(
            dir,
            "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt \
             -days 2 -extfile ext",
        );
    }

    /// Makes the server's key and certificate readable by the server only (PostgreSQL
    /// refuses a key others can read), owned by the postgres user when tests run as root.
    fn hand_to_server(dir: &std::path::Path) {
        use std::os::unix::fs::PermissionsExt as _;
        let set = |p: &str, mode| {
            std::fs::set_permissions(dir.join(p), std::fs::Permissions::from_mode(mode)).unwrap()
        };
        set(".", 0o755);
        set("server.crt", 0o644);
        set("server.key", 0o600);
        let out = std::process::Command::new("id").arg("-u").output().unwrap();
        if out.stdout.trim_ascii() == b"0" {
            let id = |flag| {
                let o = std::process::Command::new("id")
                    .args([flag, "postgres"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<u32>()
                    .unwrap()
            };
            let key = dir.join("server.key");
            std::os::unix::fs::chown(key, Some(id("-u")), Some(id("-g"))).unwrap();
        }
    }

    #[test]
    fn sslmode_and_sslrootcert_are_honoured() {
        if std::env::var("CAIRN_TEST_PG_URL").is_ok() {
            // It turns TLS on in the server: only on the harness's own throwaway cluster.
            eprintln!("*** SKIPPED sslmode_and_sslrootcert_are_honoured: CAIRN_TEST_PG_URL ***");
            return;
        }
        let Some(url) = crate::testing::database("sslmode_and_sslrootcert_are_honoured") else {
            return;
        };
        let has_openssl = std::process::Command::new("openssl")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_openssl {
            // The certificates are made with it; where PostgreSQL is required, so is this.
            assert!(
                std::env::var("CAIRN_REQUIRE_PG").as_deref() != Ok("1"),
                "CAIRN_REQUIRE_PG=1 but the openssl command is missing"
            );
            eprintln!("*** SKIPPED sslmode_and_sslrootcert_are_honoured: no openssl command ***");
            return;
        }
        let dir = tempfile::Builder::new()
            .prefix("cairn-tls-")
            .tempdir()
            .unwrap();
        make_certs(dir.path());
        hand_to_server(dir.path());
        let file = |f: &str| dir.path().join(f).display().to_string();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            // The harness's cluster starts without TLS: require must fail, prefer and
            // disable connect in the clear.
            let err = uses_tls(&format!("{url}?sslmode=require"))
                .await
                .unwrap_err();
            assert!(err.contains("TLS"), "{err}");
            assert_eq!(uses_tls(&url).await, Ok(false));

            let admin = uses_tls_admin(&url).await;
            for sql in [
                format!("ALTER SYSTEM SET ssl_cert_file = '{}'", file("server.crt")),
                format!("ALTER SYSTEM SET ssl_key_file = '{}'", file("server.key")),
                "ALTER SYSTEM SET ssl = on".to_string(),
                "SELECT pg_reload_conf()".to_string(),
            ] {
                admin.batch_execute(&sql).await.unwrap();
            }
            let mut on = false;
            for _ in 0..100 {
                if uses_tls(&format!("{url}?sslmode=require")).await == Ok(true) {
                    on = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            assert!(on, "the server did not turn TLS on");

            // The certificate names cairn-db.test; connect to it at 127.0.0.1.
            let mut named = url::Url::parse(&url).unwrap();
            named.set_host(Some("cairn-db.test")).unwrap();
            let named = format!("{named}?hostaddr=127.0.0.1");
            let full = format!("{named}&sslmode=verify-full&sslrootcert={}", file("ca.crt"));
            assert_eq!(uses_tls(&full).await, Ok(true));
            let wrong = format!(
                "{named}&sslmode=verify-full&sslrootcert={}",
                file("wrong-ca.crt")
            );
            let err = uses_tls(&wrong).await.unwrap_err();
            assert!(err.contains("UnknownIssuer"), "{err}");
            // By IP the name does not match: verify-full refuses, verify-ca accepts.
            let by_ip = format!("{url}?sslmode=verify-full&sslrootcert={}", file("ca.crt"));
            let err = uses_tls(&by_ip).await.unwrap_err();
            assert!(err.contains("certificate not valid for name"), "{err}");
            let ca = format!("{url}?sslmode=verify-ca&sslrootcert={}", file("ca.crt"));
            assert_eq!(uses_tls(&ca).await, Ok(true));
            // require with a root file checks the chain (libpq), without one it does not.
            let err = uses_tls(&format!(
                "{url}?sslmode=require&sslrootcert={}",
                file("wrong-ca.crt")
            ))
            .await
            .unwrap_err();
            assert!(err.contains("UnknownIssuer"), "{err}");
            assert_eq!(uses_tls(&format!("{url}?sslmode=require")).await, Ok(true));
            assert_eq!(
                uses_tls(&url).await,
                Ok(true),
                "prefer takes TLS when offered"
            );
            assert_eq!(uses_tls(&format!("{url}?sslmode=disable")).await, Ok(false));
        });
        // The store itself, through the same settings.
        let dir2 = tempfile::tempdir().unwrap();
        let objects = format!("file://{}", dir2.path().display());
        let full = format!(
            "{}?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}",
            url.replace("127.0.0.1", "cairn-db.test"),
            file("ca.crt")
        );
        crate::PgStore::open(&full, &objects).unwrap();
    }

    /// A plain connection for reconfiguring the server.
    async fn uses_tls_admin(url: &str) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    }
}
