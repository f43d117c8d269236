//! A real third-party server for end-to-end tests (Alertmanager,
//! Prometheus): the installed binary on a free loopback port, its config
//! and state in a tempdir, its output in a log file that failure messages
//! show. It is killed when dropped.
//!
//! There is no fallback: without the binary the test fails and says which
//! Debian package to install.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to run.
pub struct Spec<'a> {
    /// For messages: "alertmanager".
    pub name: &'a str,
    /// The names the binary may go by.
    pub binaries: &'a [&'a str],
    /// The Debian package that installs it.
    pub package: &'a str,
    /// The config file's name in the tempdir, and its text.
    pub config: (&'a str, String),
    /// Where it is ready: a path answering 200.
    pub ready: &'a str,
}

/// A running server.
pub struct Tool {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its config, state and log.
    pub dir: tempfile::TempDir,
    name: String,
    child: Child,
}

impl Tool {
    /// Writes the config, runs the binary with the arguments `args` makes
    /// (from the tempdir and the listen address), and waits until it is
    /// ready (up to 20 s).
    pub async fn start(
        spec: Spec<'_>,
        args: impl FnOnce(&Path, SocketAddr) -> Vec<String>,
    ) -> Tool {
        let binary = binary(&spec);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(spec.config.0), &spec.config.1).unwrap();
        let addr = free_addr();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new(&binary)
            .args(args(dir.path(), addr))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let mut tool = Tool {
            addr,
            dir,
            name: spec.name.to_owned(),
            child,
        };
        tool.wait_ready(spec.ready).await;
        tool
    }

    /// What it logged so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while status(self.addr, path) != Some(200) {
            if let Some(exit) = self.child.try_wait().unwrap() {
                panic!("{} exited ({exit}):\n{}", self.name, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{} is not ready after 20 s:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The installed binary; fails the test when there is none.
fn binary(spec: &Spec<'_>) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .flat_map(|dir| spec.binaries.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{} is not installed (looked for {:?} on PATH): install it with `apt-get install {}`",
                spec.name, spec.binaries, spec.package
            )
        })
}

/// A loopback address that was free a moment ago.
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The status of `GET path` over HTTP/1.0, or `None` when nothing answers.
pub fn status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split(' ').nth(1)?.parse().ok()
}
