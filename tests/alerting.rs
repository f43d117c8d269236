//! Alerting end to end, against a real HTTP receiver that can be told to
//! fail: deliveries survive receiver outages and daemon crashes (the
//! durable outbox), honour `Retry-After`, do not storm on flapping
//! traffic, group feature alerts, fire retraining webhooks once, and leave
//! a history the HTTP API serves.

mod live;

use driftwatch::proto::v1::Record;
use driftwatch::proto::v1::ingest_client::IngestClient;
use live::receiver::Delivery;
use live::served::serve;
use live::*;
use serde_json::Value as Json;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tonic::transport::Channel;

const EVALUATED: &str = "driftwatch_windows_evaluated_total{model=\"loans\"}";
const FIRING: &str =
    "driftwatch_alert_firing{model=\"loans\",rule=\"drift\",severity=\"critical\"}";
const DEPTH: &str = "driftwatch_outbox_depth{notifier=\"hook\"}";

/// A config for the loans model (windows of 1000 records) with `rest`
/// (rules and notifiers) appended.
fn config(data_dir: &Path, rest: &str) -> String {
    model_toml(data_dir, "{ records = 1000 }", rest)
}

/// The dataset rule `drift` (drift_share ≥ 0.5) notifying `hook`, a
/// webhook to `url` that retries within a fraction of a second.
fn drift_to_hook(url: &str, rule_extra: &str) -> String {
    format!(
        r#"
[[rule]]
name = "drift"
model = "loans"
when = "drift_share >= 0.5"
severity = "critical"
notify = ["hook"]
{rule_extra}

[[notifier]]
name = "hook"
kind = "webhook"
url = "{url}"
retry = {{ initial = "100ms", max = "400ms" }}
"#
    )
}

/// Sends windows of 1000 records, `D` drifted and `C` clean, waiting for
/// each to be evaluated; `done` windows were evaluated before.
async fn windows(
    client: &mut IngestClient<Channel>,
    http: SocketAddr,
    pattern: &str,
    done: &mut u64,
) {
    let records = reference_records();
    let clean = &records[..1000];
    let drifted: Vec<Record> = clean.iter().map(drifted).collect();
    for kind in pattern.chars() {
        let batch = if kind == 'D' { &drifted[..] } else { clean };
        send_stream(client, batch, 500).await;
        *done += 1;
        wait_for_metric(http, EVALUATED, *done as f64).await;
    }
}

fn statuses(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| d.body["status"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn get_json(http: SocketAddr, path: &str) -> (u16, Json) {
    let (status, body) = get(http, path);
    (status, serde_json::from_str(&body).expect("a JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_outage_loses_no_transition() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    receiver.go_down().await;
    let daemon = start(&config(dir.path(), &drift_to_hook(&receiver.url(), ""))).await;
    let http = daemon.http_addr;
    let mut client = client(&daemon).await;
    let mut done = 0;
    windows(&mut client, http, "DC", &mut done).await;
    // Down for several retry periods (at most 0.4 s each).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let retried = "driftwatch_notifications_total{notifier=\"hook\",outcome=\"retried\"}";
    assert!(
        metric(http, retried).unwrap() >= 4.0,
        "{:?}",
        metric(http, retried)
    );
    assert_eq!(metric(http, DEPTH), Some(2.0));
    assert!(
        metric(
            http,
            "driftwatch_outbox_oldest_age_seconds{notifier=\"hook\"}"
        )
        .unwrap()
            >= 2.0
    );

    receiver.come_up().await;
    let got = receiver.wait_for(2).await;
    assert_eq!(statuses(&got), ["firing", "resolved"], "in order");
    assert_ne!(
        got[0].body["idempotency_key"],
        got[1].body["idempotency_key"]
    );
    wait_for_metric(http, DEPTH, 0.0).await;
    assert_eq!(receiver.deliveries().len(), 2, "each delivered once");

    // The history keeps both windows and both transitions.
    let (status, history) = get_json(http, "/api/v1/models/loans/history?since=1h");
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["reports"].as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history["reports"][0]["window"]["records"], 1000);
    let transitions = history["transitions"].as_array().unwrap();
    let told: Vec<&str> = transitions
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(told, ["firing", "resolved"]);
    let (_, alerts) = get_json(http, "/api/v1/alerts?since=1h");
    assert_eq!(alerts["alerts"], serde_json::json!([]), "{alerts}");
    assert_eq!(
        alerts["transitions"].as_array().unwrap().len(),
        2,
        "{alerts}"
    );
    assert_eq!(get(http, "/api/v1/alerts?limit=0").0, 400);
    let (status, error) = get_json(http, "/api/v1/models/loans/history?since=yesterday");
    assert_eq!(status, 400);
    assert!(
        error["error"].as_str().unwrap().contains("since"),
        "{error}"
    );
    assert_eq!(get(http, "/api/v1/models/nope/history").0, 404);
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    receiver.set_retry_after(429, 2);
    let daemon = start(&config(dir.path(), &drift_to_hook(&receiver.url(), ""))).await;
    let mut client = client(&daemon).await;
    windows(&mut client, daemon.http_addr, "D", &mut 0).await;
    receiver.wait_for_attempts(1).await;
    receiver.set_ok();
    let got = receiver.wait_for(1).await;
    let attempts = receiver.attempts();
    assert_eq!(attempts.len(), 2, "one refusal, one delivery");
    let gap = got[0].at - attempts[0].at;
    assert!(
        gap >= Duration::from_millis(1950),
        "waited {gap:?}, Retry-After said 2 s"
    );
    assert!(gap < Duration::from_secs(4), "waited {gap:?}");
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_traffic_with_keep_firing_makes_no_storm() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let keep = drift_to_hook(&receiver.url(), "keep_firing_for_windows = 2");
    let daemon = start(&config(dir.path(), &keep)).await;
    let http = daemon.http_addr;
    let mut client = client(&daemon).await;
    let mut done = 0;
    windows(&mut client, http, "DCDCDC", &mut done).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        statuses(&receiver.deliveries()),
        ["firing"],
        "six flapping windows, one notification"
    );
    assert_eq!(metric(http, FIRING), Some(1.0));
    let (_, alerts) = get_json(http, "/api/v1/alerts");
    assert_eq!(alerts["alerts"][0]["rule"], "drift", "{alerts}");
    assert_eq!(alerts["alerts"][0]["state"], "firing", "{alerts}");

    // The last window was the first clean one after a breach; a second
    // rides it out too, the third in a row resolves it.
    windows(&mut client, http, "C", &mut done).await;
    assert_eq!(metric(http, FIRING), Some(1.0));
    windows(&mut client, http, "C", &mut done).await;
    let got = receiver.wait_for(2).await;
    assert_eq!(statuses(&got), ["firing", "resolved"]);
    assert_eq!(
        get_json(http, "/api/v1/alerts").1["alerts"],
        serde_json::json!([])
    );
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_alerts_are_grouped_and_retraining_fires_once() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let retrain_url = format!("{}?retrain", receiver.url());
    let rest = format!(
        r#"
[[rule]]
name = "each"
model = "loans"
feature = "*"
group_wait = "300ms"
group_interval = "1s"
notify = ["hook", "retrain"]

[[notifier]]
name = "hook"
kind = "webhook"
url = "{hook}"

[[notifier]]
name = "retrain"
kind = "retrain"
url = "{retrain_url}"
min_interval = "1h"
body_template = '{{"event_type": "retrain", "client_payload": {{"model": "{{{{model}}}}", "drift_share": {{{{summary.drift_share}}}}, "features": {{{{features}}}}}}}}'
"#,
        hook = receiver.url(),
    );
    let daemon = start(&config(dir.path(), &rest)).await;
    let http = daemon.http_addr;
    let mut client = client(&daemon).await;
    let mut done = 0;
    windows(&mut client, http, "D", &mut done).await;
    let got = receiver.wait_for(2).await;
    let path = |d: &Delivery| d.body.get("event_type").map_or("hook", |_| "retrain");
    let hook: Vec<&Delivery> = got.iter().filter(|d| path(d) == "hook").collect();
    assert_eq!(hook.len(), 1, "one notification for the group: {got:?}");
    let alerts = hook[0].body["alerts"].as_array().unwrap();
    assert!(alerts.len() >= 3, "{alerts:?}");
    let features: Vec<&str> = alerts
        .iter()
        .map(|a| a["feature"].as_str().unwrap())
        .collect();
    assert!(features.contains(&"income"), "{features:?}");
    let retrain = got
        .iter()
        .find(|d| path(d) == "retrain")
        .expect("the retraining webhook fired");
    assert_eq!(retrain.body["client_payload"]["model"], "loans");
    assert!(
        retrain.body["client_payload"]["drift_share"]
            .as_f64()
            .unwrap()
            >= 0.5
    );

    // Resolved, then drifted again: the group is told of both, the
    // retraining webhook (min_interval 1h) of neither.
    windows(&mut client, http, "C", &mut done).await;
    let got = receiver.wait_for(3).await;
    assert_eq!(got[2].body["status"], "resolved");
    windows(&mut client, http, "D", &mut done).await;
    let got = receiver.wait_for(4).await;
    assert_eq!(got[3].body["status"], "firing");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let retrains = receiver
        .deliveries()
        .iter()
        .filter(|d| path(d) == "retrain")
        .count();
    assert_eq!(retrains, 1);
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_the_commit_delivers_after_restart_and_does_not_reannounce() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    receiver.go_down().await;
    let file = dir.path().join("driftwatch.toml");
    std::fs::write(
        &file,
        config(dir.path(), &drift_to_hook(&receiver.url(), "")),
    )
    .unwrap();
    let served = serve(&file);
    let mut client = IngestClient::connect(format!("http://{}", served.grpc))
        .await
        .unwrap();
    windows(&mut client, served.http, "D", &mut 0).await;
    // Committed to the outbox, not delivered: then the process dies.
    wait_for_metric(served.http, DEPTH, 1.0).await;
    served.kill();

    receiver.come_up().await;
    let served = serve(&file);
    let got = receiver.wait_for(1).await;
    assert_eq!(statuses(&got), ["firing"]);
    // Still firing after the restart, and not announced again.
    assert_eq!(metric(served.http, FIRING), Some(1.0));
    let mut client = IngestClient::connect(format!("http://{}", served.grpc))
        .await
        .unwrap();
    windows(&mut client, served.http, "D", &mut 0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.deliveries().len(),
        1,
        "{:?}",
        receiver.deliveries()
    );
    assert!(served.terminate().success());
}
