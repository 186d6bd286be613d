//! A throwaway S3-compatible server for tests: [`s3_server`] starts moto's server
//! (`moto_server`, from PyPI: `pip install 'moto[server]'`) on a free loopback port and stops it
//! when the returned handle drops. Each [`S3Server::bucket`] is a new, empty bucket.
//!
//! Without moto, [`s3_server`] prints a loud SKIPPED line and returns `None`; with
//! `CAIRN_REQUIRE_S3=1` (as in CI) it panics instead.

use object_store::aws::AmazonS3Builder;
use object_store::ObjectStore;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// moto takes about two seconds to start; give a loaded machine ten times that.
const START_TIMEOUT: Duration = Duration::from_secs(20);

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A running S3-compatible server; dropping it stops the server this harness started.
#[derive(Debug)]
pub struct S3Server {
    child: Child,
    endpoint: String,
    key_id: String,
    secret: String,
}

/// An empty bucket on an [`S3Server`].
#[derive(Debug)]
pub struct S3Bucket {
    /// The bucket's name.
    pub name: String,
    endpoint: String,
    key_id: String,
    secret: String,
}

/// Returns a running S3-compatible server, or `None` (after printing `SKIPPED`) when moto is
/// not installed and `CAIRN_REQUIRE_S3` is not `1`.
///
/// # Panics
/// When S3 is required but unavailable, or the server does not start.
pub fn s3_server(test: &str) -> Option<S3Server> {
    match start() {
        Ok(s) => Some(s),
        Err(why) => {
            if std::env::var("CAIRN_REQUIRE_S3").as_deref() == Ok("1") {
                panic!("CAIRN_REQUIRE_S3=1 but no S3 server could be started: {why}");
            }
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED {test}: no S3-compatible server ({why}); install moto's \
                 server (pip install 'moto[server]'); \
                 CAIRN_REQUIRE_S3=1 makes this a failure ***\n"
            );
            None
        }
    }
}

fn start() -> Result<S3Server, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free port: {e}"))?
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting moto_server: {e}"))?;
    let mut server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        // moto accepts any credentials, but the client signs every request with them.
        key_id: "cairn-test".into(),
        secret: "cairn-test-secret".into(),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if http(&server.endpoint, "GET", "/").is_ok() {
            return Ok(server);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("moto_server exited with {status}"));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "moto_server did not answer within {START_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    /// Returns a new, empty bucket.
    ///
    /// # Panics
    /// When the server refuses to create it.
    pub fn bucket(&self) -> S3Bucket {
        let name = format!(
            "cairn-t{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        // moto creates a bucket on an unsigned PUT.
        match http(&self.endpoint, "PUT", &format!("/{name}")) {
            Ok(200) => {}
            Ok(status) => panic!("creating bucket {name}: HTTP {status}"),
            Err(e) => panic!("creating bucket {name}: {e}"),
        }
        S3Bucket {
            name,
            endpoint: self.endpoint.clone(),
            key_id: self.key_id.clone(),
            secret: self.secret.clone(),
        }
    }
}

impl S3Bucket {
    /// Returns the bucket as an object_store client: path-style requests to the endpoint.
    ///
    /// # Panics
    /// When object_store refuses the settings.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        let s3 = AmazonS3Builder::new()
            .with_bucket_name(&self.name)
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_region("us-east-1")
            .with_access_key_id(&self.key_id)
            .with_secret_access_key(&self.secret)
            .build()
            .unwrap_or_else(|e| panic!("an S3 client for {}: {e}", self.name));
        Arc::new(s3)
    }

    /// Returns the `--objects` URL of `prefix` in this bucket, with every setting in its query.
    pub fn url(&self, prefix: &str) -> String {
        format!(
            "s3://{}/{prefix}?endpoint={}&allow_http=true&region=us-east-1\
             &access_key_id={}&secret_access_key={}",
            self.name, self.endpoint, self.key_id, self.secret
        )
    }

    /// Returns the environment that makes `s3://<bucket>/<prefix>` reach this bucket.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", self.key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.clone()),
        ]
    }
}

/// Sends a body-less HTTP/1.1 request to `endpoint` (`http://host:port`); returns the status.
fn http(endpoint: &str, method: &str, path: &str) -> Result<u16, String> {
    let host = endpoint.trim_start_matches("http://");
    let mut conn = TcpStream::connect(host).map_err(|e| e.to_string())?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).map_err(|e| e.to_string())?;
    // "HTTP/1.1 200"
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {:?}", String::from_utf8_lossy(&head)))
}
