//! driftwatch in the Prometheus stack, end to end: a real Prometheus
//! scrapes the daemon and evaluates the rules of `alerts/`, a real
//! Alertmanager routes their alerts, and one webhook receiver hears both
//! driftwatch's own notification and Alertmanager's.

mod live;

use driftwatch::proto::v1::Record;
use live::alertmanager::Alertmanager;
use live::prometheus::Prometheus;
use live::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_evaluates_the_shipped_rules_and_alertmanager_routes_them() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let am = Alertmanager::start(&receiver.url()).await;
    let toml = config_toml(dir.path(), "{ records = 1000 }", 1, Some(&receiver.url()));
    let daemon = start(&toml).await;
    let prometheus =
        Prometheus::start(daemon.http_addr, am.url().trim_start_matches("http://")).await;
    prometheus.wait_for("up{job=\"driftwatch\"}==1").await;

    let drifted: Vec<Record> = reference_records()[..1000].iter().map(drifted).collect();
    let mut client = client(&daemon).await;
    send_stream(&mut client, &drifted, 500).await;
    let own = receiver.wait_for(1).await;
    assert_eq!(
        own[0].body["rule"], "loans-drift",
        "driftwatch's own notification"
    );

    let share = prometheus
        .wait_for("driftwatch_drift_share{model=\"loans\"}>=0.5")
        .await;
    assert_eq!(share[0]["metric"]["job"], "driftwatch");
    let from_alertmanager = wait_for_alertmanager(&receiver, "DriftwatchDatasetDrift").await;
    assert_eq!(
        from_alertmanager["status"], "firing",
        "{from_alertmanager:#}"
    );
    let alert = &from_alertmanager["alerts"][0];
    assert_eq!(alert["labels"]["model"], "loans");
    assert_eq!(alert["labels"]["severity"], "warning");
    let held = prometheus.alerts();
    assert!(
        held.iter().any(|a| a["labels"]["alertname"] == "DriftwatchDatasetDrift" && a["state"] == "firing"),
        "{held:?}"
    );
    daemon.stop();
    daemon.wait().await.unwrap();
}

/// The first Alertmanager webhook (version 4) about `alertname`, within
/// 30 s.
async fn wait_for_alertmanager(receiver: &Receiver, alertname: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = receiver
            .deliveries()
            .into_iter()
            .find(|d| d.body["version"] == "4" && d.body["groupLabels"]["alertname"] == alertname);
        if let Some(delivery) = found {
            return delivery.body;
        }
        assert!(
            Instant::now() < deadline,
            "no Alertmanager notification of {alertname}: {:?}",
            receiver.deliveries()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
