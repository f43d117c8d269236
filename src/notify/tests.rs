//! Deliveries to a real HTTP receiver on 127.0.0.1 that records every
//! request and answers from a script.

use super::*;
use crate::alert::{AlertStatus, DriftedFeature};
use crate::config::{NotifierKind, Secret, Severity};
use crate::detect::{TestName, WindowSpan};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use std::sync::Mutex;

/// What the receiver answers to its n-th request; the last answer repeats.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    RetryAfter(u16, u64),
    /// Never answers.
    Hang,
}

struct Recorded {
    path: String,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

impl Recorded {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().unwrap()
    }
}

struct Shared {
    replies: Vec<Reply>,
    requests: Mutex<Vec<Recorded>>,
}

struct Receiver {
    base: String,
    shared: Arc<Shared>,
}

impl Receiver {
    async fn start(replies: Vec<Reply>) -> Receiver {
        let shared = Arc::new(Shared {
            replies,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { base, shared }
    }

    fn requests(&self) -> std::sync::MutexGuard<'_, Vec<Recorded>> {
        self.shared.requests.lock().unwrap()
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = {
        let mut requests = shared.requests.lock().unwrap();
        requests.push(Recorded {
            path: uri.path().to_owned(),
            headers,
            body,
            at: Instant::now(),
        });
        requests.len()
    };
    let status = |code| StatusCode::from_u16(code).unwrap();
    match shared.replies[(n - 1).min(shared.replies.len() - 1)] {
        Reply::Status(code) => status(code).into_response(),
        Reply::RetryAfter(code, secs) => {
            (status(code), [(RETRY_AFTER, secs.to_string())]).into_response()
        }
        Reply::Hang => std::future::pending().await,
    }
}

/// Milliseconds between attempts, so that retry tests take no time.
fn fast() -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(4),
        attempt_timeout: Duration::from_secs(5),
        max_attempts: 5,
    }
}

fn notifier(name: &str, url: String, kind: NotifierKind) -> NotifierConfig {
    NotifierConfig {
        name: name.into(),
        url: Secret::new(url),
        kind,
    }
}

fn webhook(url: String) -> NotifierConfig {
    let kind = NotifierKind::Webhook {
        body_template: None,
        headers: Vec::new(),
    };
    notifier("hook", url, kind)
}

fn minute(m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, m, 0).unwrap()
}

fn drifted(name: &str, test: TestName, statistic: f64, p_value: Option<f64>) -> DriftedFeature {
    DriftedFeature {
        name: name.into(),
        test,
        statistic: Some(statistic),
        p_value,
        threshold: if p_value.is_some() { 0.05 } else { 0.2 },
    }
}

fn transition(status: AlertStatus, notifiers: &[&str]) -> Transition {
    let resolved = status == AlertStatus::Resolved;
    let end = if resolved { minute(9) } else { minute(5) };
    Transition {
        status,
        rule: "income-psi".into(),
        model: "loans".into(),
        severity: Severity::Critical,
        condition: "feature.income.psi > 0.2".into(),
        observed: 0.31,
        started_at: minute(5),
        ended_at: resolved.then_some(end),
        window: WindowSpan {
            start: end - chrono::Duration::minutes(1),
            end,
            records: 1000,
        },
        features: vec![
            drifted("income", TestName::Psi, 0.31, None),
            drifted("age", TestName::Ks, 0.2, Some(1e-6)),
            drifted("notes:length", TestName::Psi, 0.25, None),
        ],
        idempotency_key: format!("{:032x}", status as u8 + 1),
        notifiers: notifiers.iter().map(ToString::to_string).collect(),
    }
}

fn metric(metrics: &Metrics, notifier: &str, outcome: &str) -> u64 {
    metrics
        .notifications_total
        .with_label_values(&[notifier, outcome])
        .get()
}

/// Starts a dispatcher, sends the transitions, and waits until they are
/// delivered (shutdown drains).
async fn deliver(
    notifiers: &[NotifierConfig],
    transitions: &[Transition],
    policy: RetryPolicy,
) -> Metrics {
    let metrics = Metrics::new();
    let dispatcher = Dispatcher::start(notifiers, metrics.clone(), policy).unwrap();
    for t in transitions {
        dispatcher.dispatch(t);
    }
    dispatcher
        .shutdown(Instant::now() + Duration::from_secs(5))
        .await;
    metrics
}

#[tokio::test]
async fn webhook_posts_the_transition_with_its_idempotency_key() {
    let receiver = Receiver::start(vec![Reply::Status(200)]).await;
    let firing = transition(AlertStatus::Firing, &["hook"]);
    let resolved = transition(AlertStatus::Resolved, &["hook"]);
    let hook = webhook(format!("{}/hook", receiver.base));
    deliver(&[hook], &[firing.clone(), resolved], fast()).await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    let r = &requests[0];
    assert_eq!(r.path, "/hook");
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("idempotency-key"), firing.idempotency_key);
    let body = r.json();
    assert_eq!(body["status"], "firing");
    assert_eq!(body["rule"], "income-psi");
    assert_eq!(body["model"], "loans");
    assert_eq!(body["severity"], "critical");
    assert_eq!(body["started_at"], "2026-01-01T00:05:00Z");
    assert!(body.get("ended_at").is_none());
    assert_eq!(
        body["window"],
        json!({"start": "2026-01-01T00:04:00Z", "end": "2026-01-01T00:05:00Z", "records": 1000})
    );
    assert_eq!(
        body["features"][0],
        json!({"name": "income", "test": "psi", "statistic": 0.31, "threshold": 0.2})
    );
    assert_eq!(body["features"][1]["p_value"], 1e-6);
    assert_eq!(body["idempotency_key"], firing.idempotency_key);

    let body = requests[1].json();
    assert_eq!(body["status"], "resolved");
    assert_eq!(body["ended_at"], "2026-01-01T00:09:00Z");
}

#[tokio::test]
async fn slack_message_is_block_kit() {
    let receiver = Receiver::start(vec![Reply::Status(200)]).await;
    let mut firing = transition(AlertStatus::Firing, &["slack"]);
    let extra = (0..4).map(|i| drifted(&format!("x{i}"), TestName::Psi, 0.21, None));
    firing.features.extend(extra);
    let slack = notifier("slack", receiver.base.clone(), NotifierKind::Slack);
    deliver(&[slack], &[firing], fast()).await;

    let body = receiver.requests()[0].json();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("income-psi on loans")
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    let header = blocks[0]["text"]["text"].as_str().unwrap();
    assert!(header.contains("Firing: income-psi"), "{header}");
    let text = body.to_string();
    for expected in [
        "*Model*\\nloans",
        "*Severity*\\ncritical",
        "income: psi 0.31 ≥ 0.2",
        "age: ks p = 1.00e-6 &lt; 0.05",
        "…and 2 more",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    assert!(text.contains("feature.income.psi &gt; 0.2"), "{text}");
    assert!(!text.contains("x3"), "only the top 5 features: {text}");
}

#[tokio::test]
async fn body_template_is_filled_in_and_sent_with_the_headers() {
    let receiver = Receiver::start(vec![Reply::Status(200)]).await;
    let template = r#"{"msg": "{{rule}} on {{ model }} is {{status}}", "n": {{window.records}}, "top": {{features}}, "until": "{{ended_at}}"}"#;
    let kind = NotifierKind::Webhook {
        body_template: Some(template.into()),
        headers: vec![
            ("Authorization".into(), Secret::new("Bearer t0k3n")),
            (
                "Content-Type".into(),
                Secret::new("application/vnd.alerts+json"),
            ),
        ],
    };
    let hook = notifier("hook", receiver.base.clone(), kind);
    deliver(
        &[hook],
        &[transition(AlertStatus::Firing, &["hook"])],
        fast(),
    )
    .await;

    let requests = receiver.requests();
    let body = requests[0].json();
    assert_eq!(body["msg"], "income-psi on loans is firing");
    assert_eq!(body["n"], 1000);
    assert_eq!(body["top"][2]["name"], "notes:length");
    assert_eq!(body["until"], "");
    assert_eq!(requests[0].header("authorization"), "Bearer t0k3n");
    let types: Vec<_> = requests[0].headers.get_all(CONTENT_TYPE).iter().collect();
    assert_eq!(types, ["application/vnd.alerts+json"]);
}

#[tokio::test]
async fn alertmanager_gets_one_alert_on_api_v2() {
    let receiver = Receiver::start(vec![Reply::Status(200)]).await;
    let url = format!("{}/am/", receiver.base);
    let am = notifier("am", url, NotifierKind::Alertmanager);
    let sent = [
        transition(AlertStatus::Firing, &["am"]),
        transition(AlertStatus::Resolved, &["am"]),
    ];
    deliver(&[am], &sent, fast()).await;

    let requests = receiver.requests();
    assert_eq!(requests[0].path, "/am/api/v2/alerts");
    let firing = requests[0].json();
    let alert = &firing[0];
    assert_eq!(
        alert["labels"],
        json!({"alertname": "income-psi", "model": "loans", "severity": "critical"})
    );
    assert_eq!(alert["startsAt"], "2026-01-01T00:05:00.000Z");
    assert!(alert.get("endsAt").is_none());
    let summary = alert["annotations"]["summary"].as_str().unwrap();
    assert!(summary.contains("feature.income.psi > 0.2"), "{summary}");
    let resolved = requests[1].json();
    assert_eq!(resolved[0]["endsAt"], "2026-01-01T00:09:00.000Z");
}

#[tokio::test]
async fn server_errors_are_retried_with_the_same_key() {
    let replies = vec![Reply::Status(500), Reply::Status(502), Reply::Status(200)];
    let receiver = Receiver::start(replies).await;
    let hook = webhook(receiver.base.clone());
    let metrics = deliver(
        &[hook],
        &[transition(AlertStatus::Firing, &["hook"])],
        fast(),
    )
    .await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    let keys: Vec<&str> = requests
        .iter()
        .map(|r| r.header("idempotency-key"))
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    assert_eq!(metric(&metrics, "hook", "retried"), 2);
    assert_eq!(metric(&metrics, "hook", "delivered"), 1);
    assert_eq!(metric(&metrics, "hook", "failed"), 0);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let receiver = Receiver::start(vec![Reply::RetryAfter(429, 1), Reply::Status(200)]).await;
    let hook = webhook(receiver.base.clone());
    let metrics = deliver(
        &[hook],
        &[transition(AlertStatus::Firing, &["hook"])],
        fast(),
    )
    .await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].at - requests[0].at;
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert_eq!(metric(&metrics, "hook", "retried"), 1);
    assert_eq!(metric(&metrics, "hook", "delivered"), 1);
}

#[tokio::test]
async fn client_errors_fail_without_retry() {
    let receiver = Receiver::start(vec![Reply::Status(400), Reply::Status(200)]).await;
    let hook = webhook(receiver.base.clone());
    let metrics = deliver(
        &[hook],
        &[transition(AlertStatus::Firing, &["hook"])],
        fast(),
    )
    .await;

    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(metric(&metrics, "hook", "failed"), 1);
    assert_eq!(metric(&metrics, "hook", "retried"), 0);
}

#[tokio::test]
async fn retries_stop_after_max_attempts() {
    let receiver = Receiver::start(vec![Reply::Status(503)]).await;
    let hook = webhook(receiver.base.clone());
    let metrics = deliver(
        &[hook],
        &[transition(AlertStatus::Firing, &["hook"])],
        fast(),
    )
    .await;

    assert_eq!(receiver.requests().len(), 5);
    assert_eq!(metric(&metrics, "hook", "retried"), 4);
    assert_eq!(metric(&metrics, "hook", "failed"), 1);
}

#[tokio::test]
async fn shutdown_gives_up_at_the_deadline() {
    let receiver = Receiver::start(vec![Reply::Hang]).await;
    let metrics = Metrics::new();
    let policy = RetryPolicy {
        attempt_timeout: Duration::from_secs(30),
        ..fast()
    };
    let hook = webhook(receiver.base.clone());
    let dispatcher = Dispatcher::start(&[hook], metrics.clone(), policy).unwrap();
    dispatcher.dispatch(&transition(AlertStatus::Firing, &["hook"]));
    dispatcher.dispatch(&transition(AlertStatus::Resolved, &["hook"]));

    let started = Instant::now();
    dispatcher
        .shutdown(started + Duration::from_millis(300))
        .await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(metric(&metrics, "hook", "failed"), 2);
}

#[tokio::test]
async fn a_full_queue_drops_without_waiting() {
    let receiver = Receiver::start(vec![Reply::Hang]).await;
    let metrics = Metrics::new();
    let hook = webhook(receiver.base.clone());
    let dispatcher = Dispatcher::start(&[hook], metrics.clone(), fast()).unwrap();
    let t = transition(AlertStatus::Firing, &["hook"]);
    // The test's runtime has one thread: the worker takes nothing off the
    // queue until this test awaits.
    for _ in 0..QUEUE_CAPACITY + 2 {
        dispatcher.dispatch(&t);
    }
    assert_eq!(metric(&metrics, "hook", "failed"), 2);
    dispatcher
        .shutdown(Instant::now() + Duration::from_millis(100))
        .await;
    assert_eq!(
        metric(&metrics, "hook", "failed"),
        QUEUE_CAPACITY as u64 + 2
    );
}

#[tokio::test]
async fn start_rejects_what_cannot_be_sent_without_showing_secrets() {
    let with = |template: Option<&str>, header: (&str, &str)| {
        let kind = NotifierKind::Webhook {
            body_template: template.map(Into::into),
            headers: vec![(header.0.into(), Secret::new(header.1))],
        };
        notifier("hook", "http://127.0.0.1:9/SECRET".into(), kind)
    };
    let error = |n: NotifierConfig| {
        Dispatcher::start(&[n], Metrics::new(), fast())
            .err()
            .expect("an invalid notifier")
            .to_string()
    };
    let e = error(with(Some("{{nope}}"), ("X-Ok", "v")));
    assert!(
        e.starts_with("notifier hook: body_template: unknown field"),
        "{e}"
    );
    let e = error(with(None, ("Bad Name", "v")));
    assert!(e.contains("header \"Bad Name\""), "{e}");
    let e = error(with(None, ("X-Token", "SECRET\n")));
    assert!(
        e.contains("header \"X-Token\"") && !e.contains("SECRET"),
        "{e}"
    );
    let e = error(notifier("s", "ftp://SECRET".into(), NotifierKind::Slack));
    assert!(e.contains("notifier s") && !e.contains("SECRET"), "{e}");
}

#[test]
fn every_template_field_is_in_a_resolved_transition() {
    let fields = serde_json::to_value(transition(AlertStatus::Resolved, &[])).unwrap();
    for field in template::FIELDS {
        let filled = Template::parse(&format!("{{{{{field}}}}}"))
            .unwrap()
            .render(&fields);
        assert!(!filled.is_empty(), "{field} is empty");
    }
}
