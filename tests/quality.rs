//! Quality from delayed labels, end to end: the real daemon on 127.0.0.1,
//! records and outcomes sent by a real tonic client, `/metrics` and the
//! report API read over HTTP, and alerts received by a real HTTP server.

mod live;
mod support;

use driftwatch::proto::v1::ingest_client::IngestClient;
use driftwatch::proto::v1::{Outcome, Record, SendOutcomesRequest, SendRequest, Value, value};
use live::*;
use std::time::Duration;
use tonic::Code;
use tonic::transport::Channel;

fn category(s: &str) -> Value {
    Value {
        kind: Some(value::Kind::Category(s.into())),
    }
}

/// The loans model with windows of 200 records, unknown fields ignored
/// (the prediction is not a baseline column), quality from `label` with
/// `min_labels = 100`, and a rule on accuracy posting to `hook`.
fn quality_toml(data_dir: &std::path::Path, hook: &str) -> String {
    let rest = format!(
        r#"unknown_fields = "ignore"
cost = {{ input_per_token = 0.001, output_per_token = 0.002 }}

[model.quality]
task = "binary"
metrics = ["accuracy", "f1"]
min_labels = 100
baseline = {{ accuracy = 0.9 }}
max_drop = {{ accuracy = 0.05 }}

[[rule]]
name = "loans-accuracy"
model = "loans"
when = "metric.accuracy < 0.8"
severity = "critical"
notify = ["hook"]

[[rule]]
name = "loans-latency"
model = "loans"
when = "metric.latency_ms.p99 > 10000"
notify = []

[[notifier]]
name = "hook"
kind = "webhook"
url = "{hook}"
"#
    );
    model_toml(data_dir, "{ records = 200 }", &rest)
}

/// The first 200 reference rows, with ids `a0`…, a prediction alternating
/// 1 and 0, and latency and token metrics.
fn records() -> Vec<Record> {
    let mut records = reference_records();
    records.truncate(200);
    for (i, r) in records.iter_mut().enumerate() {
        r.id = format!("a{i}");
        let prediction = if i % 2 == 0 { "1" } else { "0" };
        r.outputs.insert("prediction".into(), category(prediction));
        r.metrics.insert("latency_ms".into(), (i % 100) as f64);
        r.metrics.insert("tokens_in".into(), 10.0);
        r.metrics.insert("tokens_out".into(), 5.0);
    }
    records
}

/// An outcome for record `i` labelled 0: the prediction (1 for even `i`)
/// is right for odd `i` only, so half the labelled records are wrong.
fn outcome(i: usize) -> Outcome {
    Outcome {
        id: format!("a{i}"),
        labels: [("label".to_owned(), category("0"))].into(),
        ..Default::default()
    }
}

async fn send_outcomes(
    client: &mut IngestClient<Channel>,
    outcomes: Vec<Outcome>,
) -> driftwatch::proto::v1::SendResponse {
    let request = SendOutcomesRequest {
        model: "loans".into(),
        outcomes,
    };
    client
        .send_outcomes(request)
        .await
        .expect("outcomes are taken")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_join_in_any_order_and_a_quality_drop_fires_only_after_enough_labels() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let daemon = start(&quality_toml(dir.path(), &receiver.url())).await;
    let http = daemon.http_addr;
    let mut client = client(&daemon).await;
    let sent = client
        .send(SendRequest {
            model: "loans".into(),
            records: records(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((sent.accepted, sent.rejected), (200, 0));
    wait_for_metric(
        http,
        "driftwatch_windows_evaluated_total{model=\"loans\"}",
        1.0,
    )
    .await;

    // Operational metrics of the window: exact percentiles, and the cost.
    let window_metric = |key: &str, stat: &str| {
        let series =
            format!("driftwatch_window_metric{{metric=\"{key}\",model=\"loans\",stat=\"{stat}\"}}");
        metric(http, &series)
    };
    assert_eq!(window_metric("latency_ms", "count"), Some(200.0));
    assert_eq!(window_metric("latency_ms", "p50"), Some(49.5));
    assert!((window_metric("cost", "total").unwrap() - 200.0 * 0.02).abs() < 1e-9);

    // 99 labels, newest first: one short of min_labels, so nothing is judged.
    let first: Vec<Outcome> = (101..200).rev().map(outcome).collect();
    let response = send_outcomes(&mut client, first).await;
    assert_eq!((response.accepted, response.rejected), (99, 0));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let windows = "driftwatch_quality_windows_total{model=\"loans\",status=\"ok\"}";
    assert_eq!(metric(http, windows), Some(0.0));
    assert!(
        metric(
            http,
            "driftwatch_quality{metric=\"accuracy\",model=\"loans\"}"
        )
        .unwrap()
        .is_nan()
    );
    assert!(receiver.deliveries().is_empty());

    // A duplicate, an unknown id and a malformed label change nothing.
    let mut nan = outcome(0);
    nan.labels.insert("label".into(), number(f64::NAN));
    let mut no_id = outcome(0);
    no_id.id.clear();
    let stray = Outcome {
        id: "never-sent".into(),
        ..outcome(0)
    };
    let response = send_outcomes(&mut client, vec![outcome(150), stray, nan, no_id]).await;
    assert_eq!((response.accepted, response.rejected), (2, 2));
    let fields: Vec<(u32, &str)> = response
        .rejections
        .iter()
        .map(|r| (r.record, r.field.as_str()))
        .collect();
    assert_eq!(fields, [(2, "labels.label"), (3, "id")]);
    assert!(
        response.rejections[0].reason.contains("NaN"),
        "{:?}",
        response.rejections
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(metric(http, windows), Some(0.0));

    // The hundredth label: the window is judged, and the drop fires.
    send_outcomes(&mut client, vec![outcome(100)]).await;
    wait_for_metric(http, windows, 1.0).await;
    let accuracy = metric(
        http,
        "driftwatch_quality{metric=\"accuracy\",model=\"loans\"}",
    )
    .unwrap();
    assert_eq!(accuracy, 0.5);
    assert_eq!(
        metric(
            http,
            "driftwatch_quality_baseline{metric=\"accuracy\",model=\"loans\"}"
        ),
        Some(0.9)
    );
    assert_eq!(
        metric(http, "driftwatch_quality_labelled_records{model=\"loans\"}"),
        Some(100.0)
    );
    let deliveries = receiver.wait_for(1).await;
    assert_eq!(
        deliveries[0].body["rule"], "loans-accuracy",
        "{:#}",
        deliveries[0].body
    );
    assert_eq!(deliveries[0].body["status"], "firing");

    // A label for the judged window comes too late to count.
    send_outcomes(&mut client, vec![outcome(7)]).await;
    let outcomes = |result: &str| {
        metric(
            http,
            &format!("driftwatch_outcomes_total{{model=\"loans\",result=\"{result}\"}}"),
        )
    };
    assert_eq!(outcomes("joined"), Some(100.0));
    assert_eq!(outcomes("duplicate"), Some(1.0));
    assert_eq!(outcomes("unknown"), Some(1.0));
    assert_eq!(outcomes("invalid"), Some(2.0));
    assert_eq!(outcomes("late"), Some(1.0));

    // The history holds the labelled window's report with its quality.
    let (status, body) = get(http, "/api/v1/models/loans/history?since=1h");
    assert_eq!(status, 200, "{body}");
    let history: serde_json::Value = serde_json::from_str(&body).unwrap();
    let text = history.to_string();
    assert!(
        text.contains("\"drop_lower\"") && text.contains("\"labelled\":100"),
        "{text}"
    );
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_waiting_for_labels_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let toml = quality_toml(dir.path(), &receiver.url());
    let daemon = start(&toml).await;
    let mut first = client(&daemon).await;
    let request = SendRequest {
        model: "loans".into(),
        records: records(),
        ..Default::default()
    };
    first.send(request).await.unwrap();
    send_outcomes(&mut first, (100..150).map(outcome).collect()).await;
    daemon.stop();
    daemon.wait().await.unwrap();

    // The second half of the labels arrives after the restart.
    let daemon = start(&toml).await;
    let http = daemon.http_addr;
    let held = "driftwatch_label_buffer_records{model=\"loans\"}";
    assert_eq!(metric(http, held), Some(200.0));
    let mut second = client(&daemon).await;
    let response = send_outcomes(&mut second, (150..200).map(outcome).collect()).await;
    assert_eq!(response.accepted, 50);
    let windows = "driftwatch_quality_windows_total{model=\"loans\",status=\"ok\"}";
    wait_for_metric(http, windows, 1.0).await;
    let outcomes = |result: &str| {
        let series = format!("driftwatch_outcomes_total{{model=\"loans\",result=\"{result}\"}}");
        metric(http, &series)
    };
    assert_eq!(
        (outcomes("joined"), outcomes("unknown")),
        (Some(50.0), Some(0.0))
    );
    let labelled = "driftwatch_quality_labelled_records{model=\"loans\"}";
    assert_eq!(
        metric(http, labelled),
        Some(100.0),
        "50 labels before, 50 after"
    );
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_for_a_model_without_quality_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(&config_toml(dir.path(), "{ records = 1000 }", 1, None)).await;
    let mut client = client(&daemon).await;
    let request = SendOutcomesRequest {
        model: "loans".into(),
        outcomes: vec![outcome(0)],
    };
    let status = client.send_outcomes(request).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("[model.quality]"), "{status:?}");
    let empty = SendOutcomesRequest {
        model: "loans".into(),
        outcomes: vec![],
    };
    let status = client.send_outcomes(empty).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    daemon.stop();
    daemon.wait().await.unwrap();
}

/// A binary classifier whose scores are calibrated: `label ~ Bernoulli(s)`,
/// predicting 1 when `s ≥ 0.5`; `spread` narrows the scores around 0.5,
/// which lowers its accuracy (0.75 at spread 1).
fn scored_rows(rng: &mut fastrand::Rng, n: usize, spread: f64) -> Vec<(f64, u8, u8)> {
    (0..n)
        .map(|_| {
            let s = 0.5 + spread * (rng.f64() - 0.5);
            (s, u8::from(rng.f64() < s), u8::from(s >= 0.5))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_label_free_estimate_tracks_the_realised_accuracy_through_a_drop() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(5);
    let mut csv = String::from("x,score,prediction,label\n");
    for (s, label, prediction) in scored_rows(&mut rng, 5000, 1.0) {
        csv += &format!("{},{s},{prediction},{label}\n", rng.f64());
    }
    let input = dir.path().join("reference.csv");
    std::fs::write(&input, csv).unwrap();
    let flags = [
        "--label",
        "label",
        "--prediction",
        "prediction",
        "--score",
        "score",
    ];
    let baseline = support::build_baseline(dir.path(), &input, &flags);
    let toml = format!(
        r#"
[server]
grpc_addr = "127.0.0.1:0"
http_addr = "127.0.0.1:0"
data_dir = '{data}'

[[model]]
name = "scored"
baseline = '{baseline}'
window = {{ records = 2000 }}

[model.quality]
score = "score"
min_labels = 2000
"#,
        data = dir.path().join("data").display(),
        baseline = baseline.display(),
    );
    let daemon = start(&toml).await;
    let http = daemon.http_addr;
    let mut client = client(&daemon).await;
    let mut labels = Vec::new();
    // Two windows as the baseline, then two whose scores crowd 0.5.
    for (w, spread) in [1.0, 1.0, 0.3, 0.3].into_iter().enumerate() {
        let mut records = Vec::new();
        for (i, (s, label, prediction)) in
            scored_rows(&mut rng, 2000, spread).into_iter().enumerate()
        {
            let id = format!("w{w}r{i}");
            let mut record = Record {
                id: id.clone(),
                ..Default::default()
            };
            record.features.insert("x".into(), number(rng.f64()));
            record.outputs.insert("score".into(), number(s));
            record
                .outputs
                .insert("prediction".into(), number(prediction.into()));
            records.push(record);
            labels.push(Outcome {
                id,
                labels: [("label".to_owned(), number(label.into()))].into(),
                ..Default::default()
            });
        }
        let request = SendRequest {
            model: "scored".into(),
            records,
            ..Default::default()
        };
        assert_eq!(
            client.send(request).await.unwrap().into_inner().accepted,
            2000
        );
    }
    // Labels arrive after all four windows closed, newest first.
    labels.reverse();
    for chunk in labels.chunks(4000) {
        let request = SendOutcomesRequest {
            model: "scored".into(),
            outcomes: chunk.to_vec(),
        };
        client.send_outcomes(request).await.unwrap();
    }
    let windows = "driftwatch_quality_windows_total{model=\"scored\",status=\"ok\"}";
    wait_for_metric(http, windows, 4.0).await;
    // Reports reach the history a moment after their gauges.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (body, history) = loop {
        let (_, body) = get(http, "/api/v1/models/scored/history?since=1h");
        let history: serde_json::Value = serde_json::from_str(&body).unwrap();
        let stored = history["reports"].as_array().map_or(0, Vec::len);
        if stored == 8 || std::time::Instant::now() > deadline {
            break (body, history);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let reports = history["reports"].as_array().expect("reports");
    let by_start = |with: &str| -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = reports
            .iter()
            .filter_map(|r| {
                let report = r;
                let value = match with {
                    "estimate" => report["estimate"]["accuracy"].as_f64()?,
                    _ => report["quality"]["metrics"][0]["value"].as_f64()?,
                };
                Some((report["window"]["start"].as_str()?.to_owned(), value))
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let (estimated, realised) = (by_start("estimate"), by_start("quality"));
    assert_eq!((estimated.len(), realised.len()), (4, 4), "{body}");
    let mut worst: f64 = 0.0;
    for ((start, e), (same, r)) in estimated.iter().zip(&realised) {
        assert_eq!(start, same);
        println!("window {start}: estimated accuracy {e:.4}, realised {r:.4}");
        worst = worst.max((e - r).abs());
    }
    println!("largest |estimated - realised| accuracy: {worst:.4}");
    assert!(worst < 0.04, "{estimated:?} vs {realised:?}");
    assert!(
        realised[3].1 < realised[0].1 - 0.1,
        "the drop is in the stream: {realised:?}"
    );
    assert!(
        estimated[3].1 < estimated[0].1 - 0.1,
        "and the estimate sees it: {estimated:?}"
    );
    daemon.stop();
    daemon.wait().await.unwrap();
}
