//! One notifier as the worker sees it: where it sends (a secret URL), and
//! what one transition becomes on the wire (headers and body) for its
//! kind — Slack, a generic webhook, or Alertmanager.

use super::NotifyError;
use super::template::Template;
use super::{alertmanager, slack};
use crate::alert::{DriftedFeature, Transition};
use crate::config::{NotifierConfig, NotifierKind, Secret};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

/// The header that carries [`Transition::idempotency_key`].
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// A notifier, ready to send.
#[derive(Debug)]
pub(super) struct Notifier {
    pub(super) name: String,
    /// The full URL requests go to.
    pub(super) url: Secret,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Slack,
    Webhook {
        template: Option<Template>,
        /// Extra headers, marked sensitive.
        headers: HeaderMap,
    },
    Alertmanager,
}

/// One request's headers and body.
pub(super) struct Payload {
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Notifier {
    /// Checks a notifier's URL, template and headers.
    pub(super) fn new(config: &NotifierConfig) -> Result<Notifier, NotifyError> {
        let name = &config.name;
        let url = match reqwest::Url::parse(config.url.expose()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => config.url.expose(),
            _ => return Err(NotifyError::Url(name.clone())),
        };
        let (url, sink) = match &config.kind {
            NotifierKind::Slack => (url.to_owned(), Sink::Slack),
            NotifierKind::Alertmanager => (alertmanager::url(url), Sink::Alertmanager),
            NotifierKind::Webhook {
                body_template,
                headers,
            } => (
                url.to_owned(),
                webhook(name, body_template.as_deref(), headers)?,
            ),
        };
        Ok(Notifier {
            name: name.clone(),
            url: Secret::new(url),
            sink,
        })
    }

    /// What `transition` becomes for this notifier.
    pub(super) fn payload(&self, transition: &Transition) -> Payload {
        let body = match &self.sink {
            Sink::Slack => slack::body(transition).to_string().into_bytes(),
            Sink::Alertmanager => alertmanager::body(transition).to_string().into_bytes(),
            Sink::Webhook { template: None, .. } => {
                serde_json::to_vec(transition).expect("a transition serializes")
            }
            Sink::Webhook {
                template: Some(t), ..
            } => t
                .render(&serde_json::to_value(transition).expect("a transition serializes"))
                .into_bytes(),
        };
        Payload {
            headers: self.headers(transition),
            body,
        }
    }

    /// JSON, the idempotency key, then the configured headers, which win.
    fn headers(&self, transition: &Transition) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let key = HeaderValue::from_str(&transition.idempotency_key).expect("the key is hex");
        headers.insert(IDEMPOTENCY_KEY, key);
        if let Sink::Webhook { headers: extra, .. } = &self.sink {
            headers.extend(extra.clone());
        }
        headers
    }
}

fn webhook(
    notifier: &str,
    template: Option<&str>,
    headers: &[(String, Secret)],
) -> Result<Sink, NotifyError> {
    let template =
        template
            .map(Template::parse)
            .transpose()
            .map_err(|error| NotifyError::Template {
                notifier: notifier.to_owned(),
                error,
            })?;
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let invalid = || NotifyError::Header {
            notifier: notifier.to_owned(),
            header: name.clone(),
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let mut value = HeaderValue::from_str(value.expose()).map_err(|_| invalid())?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(Sink::Webhook {
        template,
        headers: map,
    })
}

/// A drifted feature in one line: `income: psi 0.42 ≥ 0.2`, or for a
/// p-value test `age: ks p = 0.0001 < 0.05`.
pub(super) fn describe(feature: &DriftedFeature) -> String {
    let (name, test, threshold) = (&feature.name, feature.test, number(feature.threshold));
    match (feature.p_value, feature.statistic) {
        (Some(p), _) => format!("{name}: {test} p = {} < {threshold}", number(p)),
        (None, Some(s)) => format!("{name}: {test} {} ≥ {threshold}", number(s)),
        (None, None) => format!("{name}: {test} (threshold {threshold})"),
    }
}

/// A number for people: four significant digits, scientific notation
/// when very small or large.
pub(super) fn number(x: f64) -> String {
    let magnitude = x.abs();
    if x == 0.0 || (1e-3..1e6).contains(&magnitude) {
        let text = format!("{:.*}", decimals(magnitude), x);
        let trimmed = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.')
        } else {
            &text
        };
        trimmed.to_owned()
    } else {
        format!("{x:.2e}")
    }
}

/// Decimals that give four significant digits to a number of this size.
fn decimals(magnitude: f64) -> usize {
    if magnitude == 0.0 {
        return 0;
    }
    (3 - magnitude.log10().floor() as i32).max(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_four_significant_digits() {
        let cases = [
            (0.0, "0"),
            (0.42, "0.42"),
            (0.123456, "0.1235"),
            (123.456, "123.5"),
            (12345.0, "12345"),
            (1e-6, "1.00e-6"),
            (2.5e7, "2.50e7"),
        ];
        for (x, text) in cases {
            assert_eq!(number(x), text, "{x}");
        }
    }
}
