//! The verifier must stay small and synchronous (STYLE.md P13, anti-pattern 9): its normal
//! dependency tree holds no async runtime, HTTP stack or web framework.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn cairn_verify_pulls_no_tokio_hyper_reqwest_or_axum() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "tree",
            "-p",
            "cairn-verify",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    assert!(tree.lines().any(|l| l.starts_with("cairn-note ")), "{tree}");
    for line in tree.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        for banned in [
            "tokio",
            "hyper",
            "reqwest",
            "axum",
            "async-std",
            "mio",
            "tower",
        ] {
            assert!(
                name != banned && !name.starts_with(&format!("{banned}-")),
                "cairn-verify depends on {line}"
            );
        }
    }
}
