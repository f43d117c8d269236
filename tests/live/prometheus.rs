//! A real Prometheus for end-to-end tests ([`super::tool`]): it scrapes
//! one driftwatch every second, evaluates the rules of `alerts/` every
//! second, and sends their alerts to one Alertmanager.
//!
//! The shipped rules wait minutes (`for: 10m`) before firing, as they
//! should in production; here every `for` is cut to one second, so that a
//! test sees them fire. Their expressions are used as shipped.

use super::get;
use super::tool::{Spec, Tool};
use serde_json::Value as Json;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// A running Prometheus.
pub struct Prometheus(Tool);

impl Prometheus {
    /// Starts Prometheus scraping `driftwatch` (its HTTP address) and
    /// alerting to `alertmanager` (`host:port`).
    pub async fn start(driftwatch: SocketAddr, alertmanager: &str) -> Prometheus {
        let spec = Spec {
            name: "Prometheus",
            binaries: &["prometheus"],
            package: "prometheus",
            config: ("prometheus.yml", config(driftwatch, alertmanager)),
            ready: "/-/ready",
        };
        let tool = Tool::start(spec, |dir, addr| {
            std::fs::write(dir.join("rules.yml"), fast_rules()).unwrap();
            vec![
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address={addr}"),
            ]
        })
        .await;
        Prometheus(tool)
    }

    /// The `data.result` of an instant query (a PromQL expression without
    /// characters that need URL encoding).
    pub fn query(&self, promql: &str) -> Vec<Json> {
        let (status, body) = get(self.0.addr, &format!("/api/v1/query?query={promql}"));
        assert_eq!(status, 200, "{body}");
        let answer: Json = serde_json::from_str(&body).unwrap();
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Polls `promql` until it has a result, for up to 30 s.
    pub async fn wait_for(&self, promql: &str) -> Vec<Json> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let result = self.query(promql);
            if !result.is_empty() {
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "no result for {promql} in 30 s:\n{}",
                self.0.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The alerts Prometheus holds (`/api/v1/alerts`).
    pub fn alerts(&self) -> Vec<Json> {
        let (_, body) = get(self.0.addr, "/api/v1/alerts");
        let answer: Json = serde_json::from_str(&body).unwrap();
        answer["data"]["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn config(driftwatch: SocketAddr, alertmanager: &str) -> String {
    super::stack_config("prometheus.yml")
        .replace("{driftwatch}", &driftwatch.to_string())
        .replace("{alertmanager}", alertmanager)
}

/// `alerts/driftwatch.rules.yml` with every `for:` cut to one second.
fn fast_rules() -> String {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("alerts/driftwatch.rules.yml");
    let rules = std::fs::read_to_string(shipped).expect("alerts/driftwatch.rules.yml");
    rules
        .lines()
        .map(|line| match line.trim_start().strip_prefix("for:") {
            Some(_) => format!("{}for: 1s", &line[..line.len() - line.trim_start().len()]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
