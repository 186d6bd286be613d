//! The server makes no outbound request on a user's behalf (docs/threat-model.md): nothing in
//! a submission is fetched, so its normal dependency tree holds no HTTP client, TLS client or
//! DNS resolver, and hyper is built without its client half.
//!
//! The one outbound path the design allows is operator-configured: sending checkpoints to the
//! witnesses named in the configuration. When that path adds a client crate, name it in
//! `OPERATOR_CONFIGURED` with the module that uses it, and keep it out of the request paths.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Client crates allowed for the witness path only, as `(crate, why)`.
const OPERATOR_CONFIGURED: &[(&str, &str)] = &[];

fn cargo_tree(extra: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "-p", "cairn-server", "-e", "normal", "--offline"])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cairn_server_has_no_http_tls_or_dns_client() {
    let tree = cargo_tree(&["--prefix", "none"]);
    assert!(tree.lines().any(|l| l.starts_with("axum ")), "{tree}");
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        if OPERATOR_CONFIGURED.iter().any(|(c, _)| *c == name) {
            continue;
        }
        for banned in [
            "reqwest",
            "ureq",
            "isahc",
            "curl",
            "surf",
            "attohttpc",
            "hyper-rustls",
            "hyper-tls",
            "native-tls",
            "openssl",
            "rustls",
            "tokio-rustls",
            "hickory-resolver",
            "trust-dns-resolver",
        ] {
            assert!(name != banned, "cairn-server depends on {line}");
        }
    }
}

#[test]
fn hyper_is_built_without_its_client() {
    let features = cargo_tree(&["-e", "features", "--prefix", "none"]);
    for client in [
        "hyper feature \"client\"",
        "hyper-util feature \"client\"",
        "hyper-util feature \"client-legacy\"",
    ] {
        assert!(
            OPERATOR_CONFIGURED
                .iter()
                .any(|(c, _)| client.starts_with(c))
                || !features.contains(client),
            "cairn-server enables {client}"
        );
    }
    assert!(features.contains("hyper feature \"server\""), "{features}");
}
