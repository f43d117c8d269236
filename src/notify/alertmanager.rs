//! Alertmanager's v2 API: a transition becomes one alert posted to
//! `<base>/api/v2/alerts`, labelled alertname (the rule), model and
//! severity, so that Alertmanager groups, silences and routes it like any
//! other; a resolved one carries `endsAt`.
//!
//! Alertmanager expects firing alerts to be re-sent: one not heard of for
//! its `resolve_timeout` (5 minutes by default) counts as resolved.

use super::sink::{describe, number};
use crate::alert::Transition;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

/// The alerts endpoint under a base URL.
pub(super) fn url(base: &str) -> String {
    format!("{}/api/v2/alerts", base.trim_end_matches('/'))
}

/// The request body: an array of one alert.
pub(super) fn body(t: &Transition) -> Value {
    let mut alert = Map::new();
    alert.insert("labels".into(), labels(t));
    alert.insert("annotations".into(), annotations(t));
    alert.insert("startsAt".into(), rfc3339(t.started_at).into());
    if let Some(ended) = t.ended_at {
        alert.insert("endsAt".into(), rfc3339(ended).into());
    }
    Value::Array(vec![Value::Object(alert)])
}

fn labels(t: &Transition) -> Value {
    json!({
        "alertname": t.rule,
        "model": t.model,
        "severity": t.severity.as_str(),
    })
}

fn annotations(t: &Transition) -> Value {
    let drifted: Vec<String> = t.features.iter().map(describe).collect();
    let drifted = if drifted.is_empty() {
        "none".to_owned()
    } else {
        drifted.join("; ")
    };
    let description = format!(
        "Observed {} in the window {} to {} ({} records). Drifted: {drifted}.",
        number(t.observed),
        rfc3339(t.window.start),
        rfc3339(t.window.end),
        t.window.records,
    );
    json!({
        "summary": format!("{} on model {}: {}", t.rule, t.model, t.condition),
        "description": description,
        "idempotency_key": t.idempotency_key,
    })
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
