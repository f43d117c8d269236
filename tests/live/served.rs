//! `driftwatch serve` as a separate process, as a user runs it: started on
//! a config file, its listeners' addresses read from its log, stopped with
//! SIGTERM or killed with SIGKILL.

/// `driftwatch serve` as a user runs it, with its listeners' addresses
/// read from its log.
pub struct Served {
    child: std::process::Child,
    pub grpc: std::net::SocketAddr,
    pub http: std::net::SocketAddr,
}

pub fn serve(config: &std::path::Path) -> Served {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(["serve", "--config"])
        .arg(config)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("driftwatch starts");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = |line: &str, key: &str| -> Option<std::net::SocketAddr> {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key)?.parse().ok())
    };
    for line in lines.by_ref() {
        let line = line.expect("a log line");
        if let (Some(grpc), Some(http)) = (addr(&line, "grpc_addr="), addr(&line, "http_addr=")) {
            // Keep draining the log so the daemon never blocks on it.
            std::thread::spawn(move || lines.for_each(drop));
            return Served { child, grpc, http };
        }
    }
    panic!("driftwatch exited before serving: {:?}", child.wait());
}

impl Served {
    /// SIGTERM, and the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(kill.success());
        self.child.wait().unwrap()
    }

    /// SIGKILL: the process dies at once, saving nothing.
    pub fn kill(mut self) {
        self.child.kill().expect("the daemon can be killed");
        self.child.wait().unwrap();
    }
}
