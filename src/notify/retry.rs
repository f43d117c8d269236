//! When to try a delivery again: the retry policy (exponential backoff
//! with full jitter and a per-attempt timeout), what an HTTP answer or
//! error means for the delivery, and the server's `Retry-After`. A
//! delivery is retried until it is delivered or fails for good: the outbox
//! keeps it across restarts, and its age is a metric to alert on.

use crate::config::Retry;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use std::error::Error;
use std::time::Duration;

/// The longest `Retry-After` honoured: a server asking for more would
/// hold every later alert of its notifier back for that long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The bound on the wait before the first retry; it doubles with each
    /// retry.
    pub initial: Duration,
    /// The largest bound on a wait.
    pub max: Duration,
    /// How long one attempt (connect, send, answer) may take.
    pub attempt_timeout: Duration,
}

impl From<Retry> for RetryPolicy {
    /// The notifier's `retry`, 10 s per attempt.
    fn from(retry: Retry) -> RetryPolicy {
        RetryPolicy {
            initial: retry.initial,
            max: retry.max,
            attempt_timeout: ATTEMPT_TIMEOUT,
        }
    }
}

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based): "full
    /// jitter", uniform between zero and the exponential bound, so that
    /// deliveries failing together do not come back together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let bound = self.initial.saturating_mul(1 << doublings).min(self.max);
        bound.mul_f64(fastrand::f64())
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Attempt {
    Delivered,
    /// Worth trying again: after `after` when the server said so.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Trying again would not help (the request itself is wrong).
    Failed {
        reason: String,
    },
}

/// Reads an attempt's result: 2xx delivered; connect errors, timeouts,
/// 408, 429 and 5xx retried (after `Retry-After` when the answer has
/// one); any other answer failed for good.
pub(super) fn classify(result: Result<Response, reqwest::Error>) -> Attempt {
    match result {
        Ok(response) => classify_status(response.status(), response.headers()),
        Err(e) if e.is_builder() => Attempt::Failed { reason: reason(e) },
        Err(e) => Attempt::Retry {
            reason: reason(e),
            after: None,
        },
    }
}

fn classify_status(status: StatusCode, headers: &HeaderMap) -> Attempt {
    let reason = format!("HTTP {status}");
    let transient = [StatusCode::REQUEST_TIMEOUT, StatusCode::TOO_MANY_REQUESTS];
    if status.is_success() {
        Attempt::Delivered
    } else if status.is_server_error() || transient.contains(&status) {
        let after = retry_after(headers, Utc::now());
        Attempt::Retry { reason, after }
    } else {
        Attempt::Failed { reason }
    }
}

/// The error and its causes, without the URL: a webhook's URL is a
/// secret, and reqwest's messages name it.
fn reason(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or as an HTTP date, at most
/// [`MAX_RETRY_AFTER`].
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = DateTime::parse_from_rfc2822(value).ok()?;
            (at.with_timezone(&Utc) - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(retry_after).unwrap());
        h
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_bound() {
        let policy = RetryPolicy::from(Retry {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        });
        let waits = |attempt| (0..400).map(move |_| policy.backoff(attempt));
        for (attempt, bound) in [(1, 1), (4, 8), (40, 60)] {
            let bound = Duration::from_secs(bound);
            assert!(waits(attempt).all(|w| w <= bound), "attempt {attempt}");
            // Full jitter spreads the waits over the whole range.
            assert!(waits(attempt).any(|w| w < bound / 4), "attempt {attempt}");
            assert!(
                waits(attempt).any(|w| w > bound * 3 / 4),
                "attempt {attempt}"
            );
        }
    }

    #[test]
    fn statuses_decide_retry_or_failure() {
        let none = HeaderMap::new();
        let code = |c: u16| classify_status(StatusCode::from_u16(c).unwrap(), &none);
        assert_eq!(code(204), Attempt::Delivered);
        for retried in [408, 429, 500, 502, 503] {
            assert!(matches!(code(retried), Attempt::Retry { .. }), "{retried}");
        }
        for failed in [400, 401, 403, 404, 410] {
            assert!(matches!(code(failed), Attempt::Failed { .. }), "{failed}");
        }
        let after = classify_status(StatusCode::TOO_MANY_REQUESTS, &headers("7"));
        let want = Some(Duration::from_secs(7));
        assert!(matches!(after, Attempt::Retry { after, .. } if after == want));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |v: &str| retry_after(&headers(v), now);
        assert_eq!(at("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            at("Thu, 01 Jan 2026 00:00:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(at("Wed, 31 Dec 2025 23:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(at("86400"), Some(MAX_RETRY_AFTER));
        assert_eq!(at("soon"), None);
    }

    #[tokio::test]
    async fn error_reasons_do_not_show_the_url() {
        let secret_url = "http://127.0.0.1:9/hooks/T000/SECRET";
        let error = super::super::http_client()
            .unwrap()
            .post(secret_url)
            .send()
            .await
            .unwrap_err();
        let Attempt::Retry { reason, .. } = classify(Err(error)) else {
            panic!("a refused connection is retried");
        };
        assert!(!reason.contains("SECRET"), "{reason}");
    }
}
