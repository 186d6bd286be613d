//! The README's quickstart, run exactly as written: the test reads the `sh` block under
//! "## Quickstart" in README.md and runs each line with `sh`, with two substitutions only:
//! `cargo run --release --` becomes the `cairn` binary built for this test run (see
//! cli_support), and port 3000 becomes a free port (so the test never collides with a log a
//! developer is running). A line ending in `&` runs in the background (the server) and is
//! stopped at the end. The last command must print the verifier's "OK:" line.

// Tests may unwrap: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli_support;

use cli_support::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Background(Vec<Child>);

impl Drop for Background {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn quickstart_commands() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("\n## Quickstart")
        .nth(1)
        .expect("README has a ## Quickstart section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn readme_quickstart_signs_logs_and_verifies() {
    let commands = quickstart_commands();
    assert!(commands.len() <= 8, "a handful of commands: {commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bin = cairn_bin().to_string_lossy().into_owned();
    let port = free_port().to_string();
    let mut background = Background(Vec::new());
    let mut last = None;
    for line in &commands {
        // Cloning is what the reader does; the test runs in a fresh directory instead.
        if line.starts_with("git clone") || line.starts_with("cd ") {
            continue;
        }
        let cmd = line
            .replace("cargo run --release --", &bin)
            .replace("3000", &port)
            .replace(" serve", &format!(" serve --listen 127.0.0.1:{port}"));
        if let Some(bg) = cmd.strip_suffix('&') {
            let child = Command::new("sh")
                .args(["-c", &format!("exec {bg}")])
                .current_dir(d)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            background.0.push(child);
            // Wait for the server: its trusted root is written, and the port answers.
            let t = Instant::now();
            while !(d.join("cairn-data/trusted_root.json").exists()
                && std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_ok())
            {
                assert!(
                    t.elapsed() < Duration::from_secs(30),
                    "server did not start: {line}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            continue;
        }
        let o = Command::new("sh")
            .args(["-c", &cmd])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(o.status.success(), "{line}\n{}", text(&o));
        last = Some(o);
    }
    let o = last.unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("OK: "),
        "the last quickstart command must verify: {out}"
    );
}
