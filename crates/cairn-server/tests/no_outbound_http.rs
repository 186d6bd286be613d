//! The server makes no outbound request on a user's behalf (docs/threat-model.md): nothing in
//! a submission is fetched. The outbound paths the design allows are operator-configured:
//! checkpoints to the configured witnesses, a replica's submissions to its configured
//! upstream, the scale-out store's database and bucket. Every client crate in the server's
//! tree is named in `OPERATOR_CONFIGURED` with the reason, and only the modules in
//! `OUTBOUND_MODULES` may name a client.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Client crates allowed for operator-configured destinations only, as `(crate, why)`.
const OPERATOR_CONFIGURED: &[(&str, &str)] = &[
    ("reqwest", "witnessing.rs: checkpoints to the configured witnesses; replica.rs: submissions to the configured upstream; object_store: the configured bucket"),
    ("rustls", "reqwest's and object_store's TLS"),
    ("tokio-rustls", "reqwest's TLS"),
    ("hyper-rustls", "reqwest's TLS"),
    ("hyper", "reqwest's HTTP client half"),
    ("hyper-util", "reqwest's HTTP client half"),
];

/// The only modules that may make outbound requests, and the client paths they may use.
const OUTBOUND_MODULES: &[&str] = &["witnessing.rs", "replica.rs", "lib.rs"];

/// Client entry points that make requests.
const CLIENT_PATHS: &[&str] = &[
    "reqwest::",
    "cairn_client::",
    "cairn_store_pg::",
    "object_store::",
];

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

/// With client crates in the tree for the operator's destinations, the request paths must
/// still never reach them: only the modules in `OUTBOUND_MODULES` name a client, and they take
/// their destinations from the configuration (`lib.rs` only opens the configured store).
#[test]
fn only_operator_configured_modules_use_a_client() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".rs") || OUTBOUND_MODULES.contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for client in CLIENT_PATHS {
                assert!(!line.contains(client), "{name} uses {client}: {line}");
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 8,
        "read only {checked} modules of {}",
        src.display()
    );
}
