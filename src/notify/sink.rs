//! One notifier as the worker sees it: where it sends (a secret URL), how
//! it retries and how fast it may send, and what one notification becomes
//! on the wire (headers and body) for its kind — Slack, a generic or
//! retraining webhook, or Alertmanager.
//!
//! A webhook with a signing secret signs each body with HMAC-SHA256 and
//! sends the signature as `X-Driftwatch-Signature: sha256=<hex>`, as
//! GitHub does: receivers recompute it over the raw body with the shared
//! secret and compare in constant time.

use super::NotifyError;
use super::retry::RetryPolicy;
use super::template::Template;
use super::{alertmanager, slack};
use crate::alert::{DriftedFeature, Transition};
use crate::config::{NotifierConfig, NotifierKind, Secret, Webhook};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;
use std::fmt::Write;
use std::time::Duration;

/// The header that carries [`Transition::idempotency_key`].
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The header that carries a signed webhook's signature.
pub const SIGNATURE: &str = "x-driftwatch-signature";

/// A notifier, ready to send.
#[derive(Debug)]
pub(super) struct Notifier {
    pub(super) name: String,
    /// The full URL requests go to.
    pub(super) url: Secret,
    pub(super) policy: RetryPolicy,
    /// The least time between two requests.
    pub(super) min_gap: Duration,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Slack,
    Webhook {
        template: Option<Template>,
        /// Extra headers, marked sensitive.
        headers: HeaderMap,
        signing_secret: Option<Secret>,
    },
    Alertmanager {
        resend_interval: Duration,
    },
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
            NotifierKind::Alertmanager { resend_interval } => (
                alertmanager::url(url),
                Sink::Alertmanager {
                    resend_interval: *resend_interval,
                },
            ),
            NotifierKind::Webhook(webhook) | NotifierKind::Retrain { webhook, .. } => {
                (url.to_owned(), self::webhook(name, webhook)?)
            }
        };
        Ok(Notifier {
            name: name.clone(),
            url: Secret::new(url),
            policy: RetryPolicy::from(config.retry),
            min_gap: config.min_gap,
            sink,
        })
    }

    /// How often firing alerts are posted again, for Alertmanager.
    pub(super) fn resend_interval(&self) -> Option<Duration> {
        match self.sink {
            Sink::Alertmanager { resend_interval } => Some(resend_interval),
            _ => None,
        }
    }

    /// What `notification` becomes for this notifier when sent at `now`.
    pub(super) fn payload(&self, notification: &Transition, now: DateTime<Utc>) -> Payload {
        let body = self.body(notification, now);
        Payload {
            headers: self.headers(&notification.idempotency_key, &body),
            body,
        }
    }

    /// Alertmanager's re-send of the alerts still firing, at `now`; `None`
    /// for other sinks.
    pub(super) fn resend(&self, firing: &[Transition], now: DateTime<Utc>) -> Option<Payload> {
        let Sink::Alertmanager { resend_interval } = self.sink else {
            return None;
        };
        let body = alertmanager::body(firing, now, resend_interval)
            .to_string()
            .into_bytes();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Some(Payload { headers, body })
    }

    fn body(&self, t: &Transition, now: DateTime<Utc>) -> Vec<u8> {
        let json = || serde_json::to_value(t).expect("a transition serializes");
        match &self.sink {
            Sink::Slack => slack::body(t).to_string().into_bytes(),
            Sink::Webhook { template: None, .. } => json().to_string().into_bytes(),
            Sink::Webhook {
                template: Some(template),
                ..
            } => template.render(&json()).into_bytes(),
            Sink::Alertmanager { resend_interval } => {
                let body = alertmanager::body(std::slice::from_ref(t), now, *resend_interval);
                body.to_string().into_bytes()
            }
        }
    }

    /// JSON, the idempotency key, the signature, then the configured
    /// headers, which win.
    fn headers(&self, idempotency_key: &str, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let key = HeaderValue::from_str(idempotency_key).expect("the key is hex");
        headers.insert(IDEMPOTENCY_KEY, key);
        if let Sink::Webhook {
            headers: extra,
            signing_secret,
            ..
        } = &self.sink
        {
            if let Some(secret) = signing_secret {
                let value = HeaderValue::from_str(&signature(secret, body)).expect("hex");
                headers.insert(HeaderName::from_static(SIGNATURE), value);
            }
            headers.extend(extra.clone());
        }
        headers
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    digest
        .iter()
        .fold(String::from("sha256="), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

fn webhook(notifier: &str, webhook: &Webhook) -> Result<Sink, NotifyError> {
    let template = (webhook.body_template.as_deref())
        .map(Template::parse)
        .transpose()
        .map_err(|error| NotifyError::Template {
            notifier: notifier.to_owned(),
            error,
        })?;
    let mut map = HeaderMap::new();
    for (name, value) in &webhook.headers {
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
        signing_secret: webhook.signing_secret.clone(),
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
