//! The daemon end to end: the real daemon on 127.0.0.1 port 0, a real
//! tonic client, `/metrics` scraped over HTTP, and notifications received
//! by a real local HTTP server.

mod live;

use driftwatch::proto::v1::{Outcome, Record, SendOutcomesRequest, SendRequest, Value, value};
use live::served::serve;
use live::*;
use std::time::Duration;
use tonic::Code;

const WINDOW_1000: &str = "{ records = 1000 }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_drift_traffic_is_counted_windowed_and_fires_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let daemon = start(&config_toml(
        dir.path(),
        WINDOW_1000,
        1,
        Some(&receiver.url()),
    ))
    .await;
    let http = daemon.http_addr;
    assert_eq!(get(http, "/readyz").0, 200);
    let records = reference_records();
    let mut client = client(&daemon).await;
    let response = send_stream(&mut client, &records[..3000], 500).await;
    assert_eq!((response.accepted, response.rejected), (3000, 0));
    wait_for_metric(
        http,
        "driftwatch_windows_evaluated_total{model=\"loans\"}",
        3.0,
    )
    .await;
    assert_eq!(
        metric(http, "driftwatch_records_total{model=\"loans\"}"),
        Some(3000.0)
    );
    assert_eq!(
        metric(http, "driftwatch_window_records{model=\"loans\"}"),
        Some(0.0)
    );
    let report = latest_report(http);
    assert_eq!(report["window"]["records"], 1000);
    assert_eq!(report["rows"], 1000);
    assert_eq!(report["drifted"], false, "{report:#}");
    let share = metric(http, "driftwatch_drift_share{model=\"loans\"}").unwrap();
    assert!(share < 0.5, "{share}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.deliveries().is_empty(),
        "{:?}",
        receiver.deliveries()
    );
    assert_eq!(
        metric(
            http,
            "driftwatch_alert_firing{model=\"loans\",rule=\"loans-drift\",severity=\"critical\"}"
        ),
        Some(0.0)
    );
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drifted_traffic_fires_after_for_windows_and_resolves_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start().await;
    let daemon = start(&config_toml(
        dir.path(),
        WINDOW_1000,
        2,
        Some(&receiver.url()),
    ))
    .await;
    let http = daemon.http_addr;
    let firing =
        "driftwatch_alert_firing{model=\"loans\",rule=\"loans-drift\",severity=\"critical\"}";
    let evaluated = "driftwatch_windows_evaluated_total{model=\"loans\"}";
    // Every score series exists before the first window.
    assert!(
        metric(
            http,
            "driftwatch_drift_score{feature=\"income\",model=\"loans\",test=\"wasserstein\"}"
        )
        .unwrap()
        .is_nan()
    );
    let records = reference_records();
    let shifted: Vec<Record> = records[..2000].iter().map(drifted).collect();
    let mut client = client(&daemon).await;

    send_stream(&mut client, &shifted[..1000], 250).await;
    wait_for_metric(http, evaluated, 1.0).await;
    assert_eq!(latest_report(http)["drifted"], true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.deliveries().is_empty(),
        "one breaching window of two fired"
    );
    assert_eq!(metric(http, firing), Some(0.0));

    send_stream(&mut client, &shifted[1000..], 250).await;
    let got = receiver.wait_for(1).await;
    let alert = &got[0].body;
    assert_eq!(alert["status"], "firing", "{alert:#}");
    assert_eq!(
        (alert["rule"].as_str(), alert["model"].as_str()),
        (Some("loans-drift"), Some("loans"))
    );
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["window"]["records"], 1000);
    assert!(alert["started_at"].is_string() && alert.get("ended_at").is_none_or(|e| e.is_null()));
    let features = alert["features"].as_array().unwrap();
    assert!(
        features.iter().any(|f| f["name"] == "income"),
        "{features:?}"
    );
    for f in features {
        assert!(
            f["test"].is_string() && f["statistic"].is_number() && f["threshold"].is_number(),
            "{f}"
        );
    }
    let key = alert["idempotency_key"].as_str().unwrap();
    assert_eq!(got[0].headers["idempotency-key"], key);
    assert_eq!(metric(http, firing), Some(1.0));

    send_stream(&mut client, &records[2000..3000], 250).await;
    let got = receiver.wait_for(2).await;
    let resolved = &got[1].body;
    assert_eq!(resolved["status"], "resolved", "{resolved:#}");
    assert!(resolved["ended_at"].is_string());
    assert_eq!(resolved["started_at"], alert["started_at"]);
    assert_ne!(resolved["idempotency_key"], alert["idempotency_key"]);
    assert_eq!(metric(http, firing), Some(0.0));
    assert_eq!(
        metric(
            http,
            "driftwatch_notifications_total{notifier=\"hook\",outcome=\"delivered\"}"
        ),
        Some(2.0)
    );
    daemon.stop();
    daemon.wait().await.unwrap();
    assert_eq!(
        receiver.deliveries().len(),
        2,
        "each transition is sent once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_records_are_reported_per_field_and_counted_by_reason() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(&config_toml(dir.path(), WINDOW_1000, 1, None)).await;
    let good = reference_records()[0].clone();
    let mut nan = good.clone();
    nan.features.insert("age".into(), number(f64::NAN));
    let mut unknown = good.clone();
    unknown.features.insert("agee".into(), number(30.0));
    let mut wrong_kind = good.clone();
    wrong_kind.features.insert(
        "income".into(),
        Value {
            kind: Some(value::Kind::Category("high".into())),
        },
    );
    let mut bad_metric = good.clone();
    bad_metric
        .metrics
        .insert("latency_ms".into(), f64::INFINITY);
    let request = SendRequest {
        model: "loans".into(),
        records: vec![good, nan, unknown, wrong_kind, bad_metric],
        ..Default::default()
    };
    let response = client(&daemon)
        .await
        .send(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!((response.accepted, response.rejected), (1, 4));
    let fields: Vec<(u32, &str)> = response
        .rejections
        .iter()
        .map(|r| (r.record, r.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (1, "features.age"),
            (2, "features.agee"),
            (3, "features.income"),
            (4, "metrics.latency_ms")
        ]
    );
    assert!(
        response.rejections[0]
            .reason
            .contains("NaN is not a finite number"),
        "{:?}",
        response.rejections[0]
    );
    assert!(response.rejections[1].reason.contains("unknown field"));
    assert!(response.rejections[2].reason.contains("expected a number"));
    let http = daemon.http_addr;
    let rejected = |reason: &str| {
        metric(
            http,
            &format!("driftwatch_records_rejected_total{{model=\"loans\",reason=\"{reason}\"}}"),
        )
    };
    assert_eq!(rejected("not_finite"), Some(2.0));
    assert_eq!(rejected("unknown_field"), Some(1.0));
    assert_eq!(rejected("wrong_kind"), Some(1.0));
    assert_eq!(
        metric(http, "driftwatch_records_total{model=\"loans\"}"),
        Some(1.0)
    );
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_request_problems_get_grpc_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    let toml = config_toml(dir.path(), WINDOW_1000, 1, None).replace(
        "[server]\n",
        &format!("[server]\nauth_token_file = '{}'\n", token_file.display()),
    );
    let daemon = start(&toml).await;
    let mut client = client(&daemon).await;
    let batch = |model: &str, records: Vec<Record>| SendRequest {
        model: model.into(),
        records,
        ..Default::default()
    };
    let with_token = |request: SendRequest, token: &str| {
        let mut request = tonic::Request::new(request);
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        request
    };
    let records = reference_records()[..10].to_vec();

    let status = client
        .send(batch("loans", records.clone()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = client
        .send(with_token(batch("loans", records.clone()), "guess"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(!status.message().contains("s3cret"));

    let status = client
        .send(with_token(batch("fraud", records.clone()), "s3cret"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(
        status.message().contains("\"fraud\"") && status.message().contains("loans"),
        "{status:?}"
    );

    let status = client
        .send(with_token(batch("loans", vec![]), "s3cret"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    let ok = client
        .send(with_token(batch("loans", records), "s3cret"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.accepted, 10);

    // Delayed labels need the token too; this model has no quality
    // section, so they are refused whole.
    let outcomes = SendOutcomesRequest {
        model: "loans".into(),
        outcomes: vec![Outcome {
            id: "r1".into(),
            ..Default::default()
        }],
    };
    let status = client.send_outcomes(outcomes.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let mut request = tonic::Request::new(outcomes);
    let bearer = "Bearer s3cret".parse().unwrap();
    request.metadata_mut().insert("authorization", bearer);
    let status = client.send_outcomes(request).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("nothing of this call was kept"));
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_a_window_loses_no_accepted_record() {
    let dir = tempfile::tempdir().unwrap();
    let toml = config_toml(dir.path(), WINDOW_1000, 1, None);
    let records = reference_records();
    let daemon = start(&toml).await;
    let response = send_stream(&mut client(&daemon).await, &records[..600], 200).await;
    assert_eq!(response.accepted, 600);
    daemon.stop();
    daemon.wait().await.unwrap();

    let daemon = start(&toml).await;
    let http = daemon.http_addr;
    assert_eq!(
        metric(http, "driftwatch_window_records{model=\"loans\"}"),
        Some(600.0)
    );
    send_stream(&mut client(&daemon).await, &records[600..1000], 200).await;
    wait_for_metric(
        http,
        "driftwatch_windows_evaluated_total{model=\"loans\"}",
        1.0,
    )
    .await;
    let report = latest_report(http);
    assert_eq!(
        report["window"]["records"], 1000,
        "the window holds both runs' records"
    );
    let age = report["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "age")
        .unwrap();
    assert_eq!(age["rows"], 1000);
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duration_window_closes_on_time_without_more_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(&config_toml(dir.path(), "{ duration = \"1s\" }", 1, None)).await;
    let http = daemon.http_addr;
    send_stream(&mut client(&daemon).await, &reference_records()[..300], 100).await;
    wait_for_metric(
        http,
        "driftwatch_windows_evaluated_total{model=\"loans\"}",
        1.0,
    )
    .await;
    let report = latest_report(http);
    // The window that closed holds the 300 records, unless it closed just
    // before they came: then the next one does.
    let records = report["window"]["records"].as_u64().unwrap();
    if records != 300 {
        wait_for_metric(
            http,
            "driftwatch_windows_evaluated_total{model=\"loans\"}",
            2.0,
        )
        .await;
        assert_eq!(latest_report(http)["window"]["records"], 300);
    }
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_are_served_for_grpc_tools() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(&config_toml(dir.path(), WINDOW_1000, 1, None)).await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", daemon.grpc_addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel.clone());
    let request = tonic_health::pb::HealthCheckRequest {
        service: "driftwatch.v1.Ingest".into(),
    };
    let status = health.check(request).await.unwrap().into_inner().status;
    assert_eq!(status, ServingStatus::Serving as i32);
    let (code, body) = get(daemon.http_addr, "/api/v1/models");
    assert_eq!(code, 200);
    let models: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(models["models"][0]["name"], "loans");
    assert_eq!(get(daemon.http_addr, "/api/v1/models/fraud/report").0, 404);
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_saves_the_window_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftwatch.toml");
    std::fs::write(&config, config_toml(dir.path(), WINDOW_1000, 1, None)).unwrap();
    let served = serve(&config);
    let mut client = driftwatch::proto::v1::ingest_client::IngestClient::connect(format!(
        "http://{}",
        served.grpc
    ))
    .await
    .unwrap();
    let records = reference_records();
    assert_eq!(
        send_stream(&mut client, &records[..1300], 100)
            .await
            .accepted,
        1300
    );
    wait_for_metric(
        served.http,
        "driftwatch_windows_evaluated_total{model=\"loans\"}",
        1.0,
    )
    .await;
    let status = served.terminate();
    assert!(status.success(), "{status:?}");

    let served = serve(&config);
    assert_eq!(
        metric(served.http, "driftwatch_window_records{model=\"loans\"}"),
        Some(300.0)
    );
    assert!(served.terminate().success());
}
