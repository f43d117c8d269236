//! A real Prometheus Alertmanager for end-to-end tests ([`super::tool`]):
//! clustering off, and a config that routes every alert, firing and
//! resolved, to one webhook after 1 s.

use super::tool::{Spec, Tool};

/// A running Alertmanager.
pub struct Alertmanager(Tool);

impl Alertmanager {
    /// Starts Alertmanager sending to `webhook_url`, and waits until it is
    /// ready.
    pub async fn start(webhook_url: &str) -> Alertmanager {
        let spec = Spec {
            name: "Prometheus Alertmanager",
            binaries: &["prometheus-alertmanager", "alertmanager"],
            package: "prometheus-alertmanager",
            config: ("alertmanager.yml", config(webhook_url)),
            ready: "/-/ready",
        };
        let tool = Tool::start(spec, |dir, addr| {
            vec![
                format!("--web.listen-address={addr}"),
                "--cluster.listen-address=".to_owned(),
                format!("--storage.path={}", dir.join("data").display()),
                format!("--config.file={}", dir.join("alertmanager.yml").display()),
            ]
        })
        .await;
        Alertmanager(tool)
    }

    /// The base URL driftwatch's `alertmanager` notifier (or Prometheus)
    /// points at.
    pub fn url(&self) -> String {
        format!("http://{}", self.0.addr)
    }

    /// What Alertmanager logged so far, for failure messages.
    pub fn log(&self) -> String {
        self.0.log()
    }
}

/// `tests/fixtures/stack/alertmanager.yml`: everything to one webhook.
fn config(webhook_url: &str) -> String {
    super::stack_config("alertmanager.yml").replace("{webhook_url}", webhook_url)
}
