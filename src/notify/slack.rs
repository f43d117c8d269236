//! The Slack incoming-webhook message of a notification: Block Kit blocks
//! (a header with the status, the rule's facts, the most drifted features,
//! a link to the report API) and a plain `text` fallback for notifications
//! and old clients.

use super::sink::{describe, number};
use crate::alert::{AlertStatus, Transition};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// Most drifted features listed in a message.
const TOP_FEATURES: usize = 5;

/// Slack's limit on a header's text.
const HEADER_CHARS: usize = 150;

/// The message body.
pub(super) fn body(t: &Transition) -> Value {
    json!({
        "text": fallback(t),
        "blocks": [
            header(t),
            { "type": "section", "fields": facts(t) },
            { "type": "section", "text": mrkdwn(&features(t)) },
            {
                "type": "context",
                "elements": [mrkdwn(&context(t))],
            },
        ],
    })
}

fn header(t: &Transition) -> Value {
    let emoji = match t.status {
        AlertStatus::Firing => ":rotating_light:",
        AlertStatus::Resolved => ":white_check_mark:",
    };
    let text = format!("{emoji} {}: {}", word(t.status), t.rule);
    let text: String = text.chars().take(HEADER_CHARS).collect();
    json!({ "type": "header", "text": { "type": "plain_text", "text": text, "emoji": true } })
}

fn word(status: AlertStatus) -> &'static str {
    match status {
        AlertStatus::Firing => "Firing",
        AlertStatus::Resolved => "Resolved",
    }
}

fn fallback(t: &Transition) -> String {
    format!(
        "[{}] {} on {} ({}): {}",
        t.status.as_str().to_uppercase(),
        t.rule,
        t.model,
        t.severity.as_str(),
        t.condition
    )
}

/// Model, severity, condition, window, and when it started (and ended).
fn facts(t: &Transition) -> Vec<Value> {
    let window = format!(
        "{} → {}\n{} records",
        time(t.window.start),
        time(t.window.end),
        t.window.records
    );
    let condition = format!("`{}` (now {})", t.condition, number(t.observed));
    let mut facts = vec![
        field("Model", &t.model),
        field("Severity", t.severity.as_str()),
        field("Condition", &condition),
        field("Window", &window),
        field("Firing since", &time(t.started_at)),
    ];
    if let Some(ended) = t.ended_at {
        facts.push(field("Resolved at", &time(ended)));
    }
    facts
}

fn features(t: &Transition) -> String {
    let mut lines = vec!["*Most drifted features*".to_owned()];
    let top = t.features.iter().take(TOP_FEATURES);
    lines.extend(top.map(|f| format!("• {}", escape(&describe(f)))));
    let more = t.features.len().saturating_sub(TOP_FEATURES);
    if more > 0 {
        lines.push(format!("…and {more} more"));
    }
    if t.features.is_empty() {
        lines.push("none in this window".to_owned());
    }
    lines.join("\n")
}

/// The report link (when the daemon knows its URL), a repeat mark and the
/// idempotency key.
fn context(t: &Transition) -> String {
    let mut parts = vec!["driftwatch".to_owned()];
    if let Some(url) = &t.report_url {
        parts.push(format!("<{}|latest report>", escape(url)));
    }
    if t.repeat {
        parts.push("still firing".to_owned());
    }
    parts.push(format!("key {}", t.idempotency_key));
    parts.join(" · ")
}

fn field(title: &str, value: &str) -> Value {
    mrkdwn(&format!("*{title}*\n{}", escape(value)))
}

fn mrkdwn(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Slack's mrkdwn escaping: `&`, `<` and `>` are control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
