//! Deliveries through a real outbox (SQLite in a temporary directory) to a
//! real HTTP receiver on 127.0.0.1 that records every request and answers
//! from a script.

use super::*;
use crate::alert::{AlertStatus, DriftSummary, DriftedFeature, Notice};
use crate::config::{NotifierKind, Retry, Secret, Severity, Webhook};
use crate::detect::{TestName, WindowSpan};
use crate::store::db::Commit;
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

/// A notifier that retries after milliseconds, so that retry tests take
/// no time, and sends as fast as it can.
fn notifier(name: &str, url: String, kind: NotifierKind) -> NotifierConfig {
    NotifierConfig {
        name: name.into(),
        url: Secret::new(url),
        kind,
        send_resolved: true,
        retry: Retry {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(4),
        },
        min_gap: Duration::ZERO,
    }
}

fn plain_webhook() -> Webhook {
    Webhook {
        body_template: None,
        headers: Vec::new(),
        signing_secret: None,
    }
}

fn webhook(url: String) -> NotifierConfig {
    notifier("hook", url, NotifierKind::Webhook(plain_webhook()))
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
        feature: None,
        summary: DriftSummary {
            drift_share: 0.3,
            drifted_features: 3,
            evaluated_features: 10,
        },
        alerts: Vec::new(),
        repeat: false,
        report_url: Some("http://127.0.0.1:9108/api/v1/models/loans/report".into()),
        notifiers: notifiers.iter().map(ToString::to_string).collect(),
    }
}

fn metric(metrics: &Metrics, notifier: &str, outcome: &str) -> u64 {
    metrics
        .notifications_total
        .with_label_values(&[notifier, outcome])
        .get()
}

/// An outbox in a temporary directory holding `transitions`, routed to
/// `notifiers`.
fn outbox(notifiers: &[NotifierConfig], transitions: &[Transition]) -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let mut routes = Routes::new(notifiers);
    let mut commit = Commit::default();
    for t in transitions {
        let notice = Notice {
            notification: t.clone(),
            fired: t.status == AlertStatus::Firing,
        };
        commit.outbox.extend(routes.entries(&notice, Utc::now()).0);
    }
    db.commit(&commit).unwrap();
    (db, dir)
}

/// Starts deliveries over an outbox holding the transitions, and waits
/// until they are delivered (shutdown delivers what is due, up to 5 s).
async fn deliver(notifiers: &[NotifierConfig], transitions: &[Transition]) -> Metrics {
    let (db, _dir) = outbox(notifiers, transitions);
    let metrics = Metrics::new();
    let (_firing, firing_rx) = watch::channel(Vec::new());
    let deliveries = Deliveries::start(notifiers, db.clone(), metrics.clone(), firing_rx)
        .await
        .unwrap();
    deliveries
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
    deliver(&[hook], &[firing.clone(), resolved]).await;

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
    deliver(&[slack], &[firing]).await;

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
        "<http://127.0.0.1:9108/api/v1/models/loans/report|latest report>",
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
    let kind = NotifierKind::Webhook(Webhook {
        body_template: Some(template.into()),
        headers: vec![
            ("Authorization".into(), Secret::new("Bearer t0k3n")),
            (
                "Content-Type".into(),
                Secret::new("application/vnd.alerts+json"),
            ),
        ],
        signing_secret: None,
    });
    let hook = notifier("hook", receiver.base.clone(), kind);
    deliver(&[hook], &[transition(AlertStatus::Firing, &["hook"])]).await;

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
    let resend_interval = Duration::from_secs(60);
    let am = notifier("am", url, NotifierKind::Alertmanager { resend_interval });
    let sent = [
        transition(AlertStatus::Firing, &["am"]),
        transition(AlertStatus::Resolved, &["am"]),
    ];
    let before = Utc::now();
    deliver(&[am], &sent).await;

    let requests = receiver.requests();
    assert_eq!(requests[0].path, "/am/api/v2/alerts");
    let firing = requests[0].json();
    let alert = &firing[0];
    assert_eq!(
        alert["labels"],
        json!({"alertname": "income-psi", "model": "loans", "severity": "critical"})
    );
    assert_eq!(alert["startsAt"], "2026-01-01T00:05:00.000Z");
    // Firing: it ends four re-send intervals ahead unless sent again.
    let ends: chrono::DateTime<Utc> = alert["endsAt"].as_str().unwrap().parse().unwrap();
    assert!(ends >= before + chrono::Duration::minutes(4), "{ends}");
    assert!(ends <= Utc::now() + chrono::Duration::minutes(4), "{ends}");
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
    let metrics = deliver(&[hook], &[transition(AlertStatus::Firing, &["hook"])]).await;

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
    let metrics = deliver(&[hook], &[transition(AlertStatus::Firing, &["hook"])]).await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    let waited = requests[1].at - requests[0].at;
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert_eq!(metric(&metrics, "hook", "retried"), 1);
    assert_eq!(metric(&metrics, "hook", "delivered"), 1);
}

#[tokio::test]
async fn client_errors_are_given_up_and_leave_the_outbox() {
    let receiver = Receiver::start(vec![Reply::Status(400), Reply::Status(200)]).await;
    let hook = webhook(receiver.base.clone());
    let firing = transition(AlertStatus::Firing, &["hook"]);
    let (db, _dir) = outbox(std::slice::from_ref(&hook), &[firing]);
    let metrics = Metrics::new();
    let (_firing, firing_rx) = watch::channel(Vec::new());
    let deliveries = Deliveries::start(&[hook], db.clone(), metrics.clone(), firing_rx)
        .await
        .unwrap();
    deliveries
        .shutdown(Instant::now() + Duration::from_secs(5))
        .await;

    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(metric(&metrics, "hook", "failed"), 1);
    assert_eq!(metric(&metrics, "hook", "retried"), 0);
    let rejected = metrics
        .notification_failures_total
        .with_label_values(&["hook", "rejected"])
        .get();
    assert_eq!(rejected, 1);
    assert!(db.outbox_head("hook").unwrap().is_none());
}

#[tokio::test]
async fn shutdown_leaves_what_it_could_not_deliver_in_the_outbox() {
    let receiver = Receiver::start(vec![Reply::Hang]).await;
    let hook = webhook(receiver.base.clone());
    let sent = [
        transition(AlertStatus::Firing, &["hook"]),
        transition(AlertStatus::Resolved, &["hook"]),
    ];
    let (db, _dir) = outbox(std::slice::from_ref(&hook), &sent);
    let metrics = Metrics::new();
    let (_firing, firing_rx) = watch::channel(Vec::new());
    let deliveries = Deliveries::start(&[hook], db.clone(), metrics.clone(), firing_rx)
        .await
        .unwrap();

    let started = Instant::now();
    deliveries
        .shutdown(started + Duration::from_millis(300))
        .await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(metric(&metrics, "hook", "failed"), 0);
    let stats = db.outbox_stats().unwrap();
    assert_eq!((stats[0].notifier.as_str(), stats[0].depth), ("hook", 2));
}

#[tokio::test]
async fn slack_is_sent_at_most_once_a_second() {
    let receiver = Receiver::start(vec![Reply::Status(200)]).await;
    let slack = NotifierConfig {
        min_gap: Duration::from_secs(1),
        ..notifier("slack", receiver.base.clone(), NotifierKind::Slack)
    };
    let sent = [
        transition(AlertStatus::Firing, &["slack"]),
        transition(AlertStatus::Resolved, &["slack"]),
        transition(AlertStatus::Firing, &["slack"]),
    ];
    deliver(&[slack], &sent).await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 3);
    for pair in requests.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(990), "{gap:?}");
    }
}

#[tokio::test]
async fn a_signing_secret_signs_the_body() {
    let receiver = Receiver::start(vec![Reply::Status(200)]).await;
    let secret = Secret::new("s3cr3t");
    let kind = NotifierKind::Webhook(Webhook {
        signing_secret: Some(secret.clone()),
        ..plain_webhook()
    });
    let hook = notifier("hook", receiver.base.clone(), kind);
    deliver(&[hook], &[transition(AlertStatus::Firing, &["hook"])]).await;

    let requests = receiver.requests();
    let got = requests[0].header(SIGNATURE);
    assert_eq!(got, signature(&secret, &requests[0].body));
    // The signature is HMAC-SHA256 (RFC 4231 test case 2).
    let rfc = signature(&Secret::new("Jefe"), b"what do ya want for nothing?");
    assert_eq!(
        rfc,
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[tokio::test]
async fn notifiers_without_resolved_and_retraining_webhooks_are_routed_apart() {
    let receiver = Receiver::start(vec![Reply::Status(200)]).await;
    let quiet = NotifierConfig {
        send_resolved: false,
        ..notifier(
            "quiet",
            format!("{}/quiet", receiver.base),
            NotifierKind::Slack,
        )
    };
    let retrain = NotifierConfig {
        send_resolved: false,
        ..notifier(
            "retrain",
            format!("{}/retrain", receiver.base),
            NotifierKind::Retrain {
                webhook: plain_webhook(),
                min_interval: Duration::from_secs(3600),
            },
        )
    };
    let all = ["quiet", "retrain"];
    let mut again = transition(AlertStatus::Firing, &all);
    again.idempotency_key = "f".repeat(32);
    let sent = [
        transition(AlertStatus::Firing, &all),
        transition(AlertStatus::Resolved, &all),
        again,
    ];
    deliver(&[quiet, retrain], &sent).await;

    let requests = receiver.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    let count = |p: &str| paths.iter().filter(|x| **x == p).count();
    assert_eq!(count("/quiet"), 2, "both firings, no resolution: {paths:?}");
    assert_eq!(count("/retrain"), 1, "once per min_interval: {paths:?}");
}

#[tokio::test]
async fn start_rejects_what_cannot_be_sent_without_showing_secrets() {
    let with = |template: Option<&str>, header: (&str, &str)| {
        let kind = NotifierKind::Webhook(Webhook {
            body_template: template.map(Into::into),
            headers: vec![(header.0.into(), Secret::new(header.1))],
            signing_secret: None,
        });
        notifier("hook", "http://127.0.0.1:9/SECRET".into(), kind)
    };
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let error = async |n: NotifierConfig| {
        let (_firing, firing_rx) = watch::channel(Vec::new());
        Deliveries::start(&[n], db.clone(), Metrics::new(), firing_rx)
            .await
            .err()
            .expect("an invalid notifier")
            .to_string()
    };
    let e = error(with(Some("{{nope}}"), ("X-Ok", "v"))).await;
    assert!(
        e.starts_with("notifier hook: body_template: unknown field"),
        "{e}"
    );
    let e = error(with(None, ("Bad Name", "v"))).await;
    assert!(e.contains("header \"Bad Name\""), "{e}");
    let e = error(with(None, ("X-Token", "SECRET\n"))).await;
    assert!(
        e.contains("header \"X-Token\"") && !e.contains("SECRET"),
        "{e}"
    );
    let e = error(notifier("s", "ftp://SECRET".into(), NotifierKind::Slack)).await;
    assert!(e.contains("notifier s") && !e.contains("SECRET"), "{e}");
}

#[test]
fn every_template_field_is_in_a_resolved_group_repeat() {
    let mut t = transition(AlertStatus::Resolved, &[]);
    t.feature = Some("income".into());
    t.repeat = true;
    t.alerts.push(crate::alert::GroupedAlert {
        feature: "income".into(),
        status: AlertStatus::Resolved,
        observed: 0.1,
        started_at: minute(5),
        ended_at: Some(minute(9)),
    });
    let fields = serde_json::to_value(t).unwrap();
    for field in template::FIELDS {
        let filled = Template::parse(&format!("{{{{{field}}}}}"))
            .unwrap()
            .render(&fields);
        assert!(!filled.is_empty(), "{field} is empty");
    }
}

#[tokio::test]
async fn alertmanager_hears_of_firing_alerts_again_and_again() {
    let receiver = Receiver::start(vec![Reply::Status(200)]).await;
    let resend_interval = Duration::from_millis(200);
    let am = notifier(
        "am",
        receiver.base.clone(),
        NotifierKind::Alertmanager { resend_interval },
    );
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let firing = vec![transition(AlertStatus::Firing, &["am"])];
    let (_firing, firing_rx) = watch::channel(firing);
    let deliveries = Deliveries::start(&[am], db, Metrics::new(), firing_rx)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    deliveries.shutdown(Instant::now()).await;

    let requests = receiver.requests();
    assert!(requests.len() >= 3, "{} re-sends", requests.len());
    for r in requests.iter() {
        let alert = &r.json()[0];
        assert_eq!(alert["labels"]["alertname"], "income-psi");
        let ends: chrono::DateTime<Utc> = alert["endsAt"].as_str().unwrap().parse().unwrap();
        assert!(ends > Utc::now(), "a firing alert ends ahead: {ends}");
    }
}
