//! Alertmanager's v2 API: each alert becomes one alert posted to
//! `<base>/api/v2/alerts`, labelled alertname (the rule), model, severity
//! and, for a feature rule's alert, feature — so that Alertmanager groups,
//! silences and routes it like any other.
//!
//! As Prometheus does, a firing alert is posted again every
//! `resend_interval` with `endsAt` four intervals ahead: Alertmanager keeps
//! it active while driftwatch keeps saying so, and resolves it on its own
//! if driftwatch goes away. A resolved alert carries its real `endsAt`.

use super::sink::{describe, number};
use crate::alert::{AlertStatus, Transition};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// The alerts endpoint under a base URL.
pub(super) fn url(base: &str) -> String {
    format!("{}/api/v2/alerts", base.trim_end_matches('/'))
}

/// The request body at `now`: every alert of every notification (a group's
/// notification holds one per feature).
pub(super) fn body(notifications: &[Transition], now: DateTime<Utc>, resend: Duration) -> Value {
    let ahead = TimeDelta::from_std(resend * 4).unwrap_or(TimeDelta::MAX);
    let alerts = notifications
        .iter()
        .flat_map(|t| alerts(t, now + ahead))
        .collect();
    Value::Array(alerts)
}

/// The notification's alerts; firing ones end at `firing_until` unless
/// heard of again.
fn alerts(t: &Transition, firing_until: DateTime<Utc>) -> Vec<Value> {
    let ends = |status, ended_at: Option<DateTime<Utc>>| match status {
        AlertStatus::Firing => firing_until,
        AlertStatus::Resolved => ended_at.unwrap_or(firing_until),
    };
    if t.alerts.is_empty() {
        let feature = t.feature.as_deref();
        return vec![alert(t, feature, t.started_at, ends(t.status, t.ended_at))];
    }
    (t.alerts.iter())
        .map(|a| {
            alert(
                t,
                Some(&a.feature),
                a.started_at,
                ends(a.status, a.ended_at),
            )
        })
        .collect()
}

fn alert(
    t: &Transition,
    feature: Option<&str>,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> Value {
    let mut labels = Map::new();
    labels.insert("alertname".into(), t.rule.clone().into());
    labels.insert("model".into(), t.model.clone().into());
    labels.insert("severity".into(), t.severity.as_str().into());
    if let Some(feature) = feature {
        labels.insert("feature".into(), feature.into());
    }
    let mut alert = Map::new();
    alert.insert("labels".into(), Value::Object(labels));
    alert.insert("annotations".into(), annotations(t));
    alert.insert("startsAt".into(), rfc3339(starts).into());
    alert.insert("endsAt".into(), rfc3339(ends).into());
    if let Some(url) = &t.report_url {
        alert.insert("generatorURL".into(), url.clone().into());
    }
    Value::Object(alert)
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
