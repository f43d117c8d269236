//! A generic webhook's `body_template`: text with `{{field}}` placeholders
//! filled in from the transition.
//!
//! A placeholder names a field of the default JSON body, nested fields by
//! a dotted path: `{{status}}`, `{{rule}}`, `{{model}}`, `{{severity}}`,
//! `{{condition}}`, `{{observed}}`, `{{started_at}}`, `{{ended_at}}`,
//! `{{window.start}}`, `{{window.end}}`, `{{window.records}}`,
//! `{{window}}`, `{{features}}`, `{{idempotency_key}}`, `{{feature}}`,
//! `{{summary}}`, `{{summary.drift_share}}`, `{{summary.drifted_features}}`,
//! `{{summary.evaluated_features}}`, `{{alerts}}`, `{{repeat}}`,
//! `{{report_url}}` — so a retraining webhook's body can carry the drift
//! summary (an Airflow `dagRuns` `conf`, a GitHub `repository_dispatch`
//! `client_payload`, a Kubeflow run's parameters). Spaces inside the
//! braces are allowed. A text field becomes its text escaped for a JSON
//! string, without the quotes, so that templates write
//! `"text": "{{rule}} is {{status}}"`; a number becomes the number, an
//! object or array (`{{window}}`, `{{features}}`) its compact JSON, and an
//! absent field (`{{ended_at}}` while firing) nothing. An unknown field or
//! an unclosed `{{` is an error when the notifier starts, not when an
//! alert is sent.

use serde_json::Value;

/// Every field a placeholder may name.
pub const FIELDS: [&str; 22] = [
    "status",
    "rule",
    "model",
    "severity",
    "condition",
    "observed",
    "started_at",
    "ended_at",
    "window",
    "window.start",
    "window.end",
    "window.records",
    "features",
    "idempotency_key",
    "feature",
    "summary",
    "summary.drift_share",
    "summary.drifted_features",
    "summary.evaluated_features",
    "alerts",
    "repeat",
    "report_url",
];

/// A parsed body template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A field's dotted path.
    Field(String),
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("body_template: \"{{{{\" at byte {0} is not closed by \"}}}}\"")]
    Unclosed(usize),
    #[error(
        "body_template: unknown field {0:?} in {{{{...}}}}: expected one of {fields}",
        fields = FIELDS.join(", ")
    )]
    UnknownField(String),
}

impl Template {
    /// Parses `text`, checking every placeholder's field.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let at = text.len() - rest.len() + open;
            let close = rest[open..].find("}}").ok_or(TemplateError::Unclosed(at))?;
            let field = rest[open + 2..open + close].trim();
            if !FIELDS.contains(&field) {
                return Err(TemplateError::UnknownField(field.to_owned()));
            }
            parts.push(Part::Text(rest[..open].to_owned()));
            parts.push(Part::Field(field.to_owned()));
            rest = &rest[open + close + 2..];
        }
        parts.push(Part::Text(rest.to_owned()));
        Ok(Template { parts })
    }

    /// The template filled in from `fields`, the default JSON body.
    pub fn render(&self, fields: &Value) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(path) => out.push_str(&fill(lookup(fields, path))),
            }
        }
        out
    }
}

fn lookup<'v>(fields: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(fields, |value, key| value.get(key))
}

fn fill(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => {
            let quoted = Value::String(s.clone()).to_string();
            quoted[1..quoted.len() - 1].to_owned()
        }
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_fields_by_kind() {
        let fields = json!({
            "rule": "say \"hi\"",
            "window": {"records": 12, "start": "t0"},
            "features": [{"name": "a"}],
        });
        let t = Template::parse(
            r#"{"r": "{{rule}}", "n": {{ window.records }}, "f": {{features}}, "e": "{{ended_at}}"}"#,
        )
        .unwrap();
        assert_eq!(
            t.render(&fields),
            r#"{"r": "say \"hi\"", "n": 12, "f": [{"name":"a"}], "e": ""}"#
        );
    }

    #[test]
    fn text_without_placeholders_is_kept() {
        let t = Template::parse("plain } { text").unwrap();
        assert_eq!(t.render(&json!({})), "plain } { text");
    }

    #[test]
    fn rejects_unknown_fields_and_unclosed_braces() {
        assert_eq!(
            Template::parse("{{ rules }}"),
            Err(TemplateError::UnknownField("rules".into()))
        );
        assert_eq!(
            Template::parse("ok {{rule"),
            Err(TemplateError::Unclosed(3))
        );
        let message = Template::parse("{{x}}").unwrap_err().to_string();
        assert!(
            message.contains("unknown field \"x\" in {{...}}"),
            "{message}"
        );
        assert!(message.contains("window.records"), "{message}");
    }
}
