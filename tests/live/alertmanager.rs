//! A real Prometheus Alertmanager for end-to-end tests: the installed
//! binary on a free loopback port, clustering off, state in a tempdir, and a
//! config that routes every alert, firing and resolved, to one webhook
//! after 1 s. It is killed when dropped.
//!
//! There is no fallback: without the binary the test fails and says what to
//! install.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The names the binary goes by: Debian's package, and upstream's tarball.
const BINARIES: [&str; 2] = ["prometheus-alertmanager", "alertmanager"];

/// A running Alertmanager.
pub struct Alertmanager {
    /// Where its API listens.
    pub addr: SocketAddr,
    child: Child,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts Alertmanager sending to `webhook_url`, and waits until it is
    /// ready (up to 20 s).
    pub async fn start(webhook_url: &str) -> Alertmanager {
        let binary = binary();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("alertmanager.yml"), config(webhook_url)).unwrap();
        let addr = free_addr();
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
        let child = Command::new(&binary)
            .arg(format!("--web.listen-address={addr}"))
            .arg("--cluster.listen-address=")
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!(
                "--config.file={}",
                dir.path().join("alertmanager.yml").display()
            ))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let mut am = Alertmanager { addr, child, dir };
        am.wait_ready().await;
        am
    }

    /// The base URL driftwatch's `alertmanager` notifier points at.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What Alertmanager logged so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while status(self.addr, "/-/ready") != Some(200) {
            if let Some(exit) = self.child.try_wait().unwrap() {
                panic!("alertmanager exited ({exit}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "alertmanager is not ready after 20 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The installed binary; fails the test when there is none.
fn binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .flat_map(|dir| BINARIES.map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "Prometheus Alertmanager is not installed (looked for {BINARIES:?} on PATH): \
                 install it with `apt-get install prometheus-alertmanager`"
            )
        })
}

/// Everything goes to one webhook, firing and resolved, 1 s after it
/// arrives or changes; nothing repeats within a test.
fn config(webhook_url: &str) -> String {
    format!(
        r#"route:
  receiver: hook
  group_by: [alertname, model]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: '{webhook_url}'
        send_resolved: true
"#
    )
}

/// A loopback address that was free a moment ago.
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The status of `GET path` over HTTP/1.0, or `None` when nothing answers.
fn status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split(' ').nth(1)?.parse().ok()
}
