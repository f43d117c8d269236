//! Delivery of alert transitions to their notifiers (Slack, generic
//! webhooks, Alertmanager), off the path that produced them. Each notifier
//! has a worker task fed by a bounded queue: [`Dispatcher::dispatch`] only
//! enqueues and never waits (a full queue drops the alert, logs it and
//! counts it as failed); the worker sends, and retries what failed for a
//! reason that may pass (connect errors, timeouts, HTTP 408, 429, 5xx)
//! with exponential backoff and jitter, honouring `Retry-After`; other
//! answers fail at once. Every attempt counts in
//! `driftwatch_notifications_total{notifier,outcome}`. Each request
//! carries the transition's `Idempotency-Key` header, the same on every
//! retry. [`Dispatcher::shutdown`] stops taking alerts and keeps
//! delivering the queued ones until a deadline, then drops (and logs) the
//! rest. URLs and header values are [`Secret`](crate::config::Secret)s:
//! logs name the notifier, never where it sends.
//!
//! The generic webhook's default body is the transition's JSON:
//!
//! ```json
//! {"status": "firing", "rule": "income-psi", "model": "loans",
//!  "severity": "critical", "condition": "feature.income.psi > 0.2",
//!  "observed": 0.31, "started_at": "2026-01-01T00:05:00Z",
//!  "window": {"start": "2026-01-01T00:04:00Z", "end": "2026-01-01T00:05:00Z", "records": 1000},
//!  "features": [{"name": "income", "test": "psi", "statistic": 0.31, "threshold": 0.2}],
//!  "idempotency_key": "9f2c…"}
//! ```
//!
//! with `"ended_at"` when resolved and `"p_value"` on p-value tests; a
//! `body_template` replaces it (see [`template`]).

mod alertmanager;
mod retry;
mod sink;
mod slack;
pub mod template;
mod worker;

pub use retry::RetryPolicy;
pub use template::{Template, TemplateError};

use crate::alert::Transition;
use crate::config::NotifierConfig;
use crate::metrics::Metrics;
use sink::Notifier;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use tracing::{error, warn};
use worker::{Outcome, Worker, count};

/// Alerts a notifier's queue holds while its worker is busy.
pub const QUEUE_CAPACITY: usize = 256;

/// How long after the deadline shutdown waits for workers to finish
/// logging what they dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Why the dispatcher cannot start. Messages never show a URL or a header
/// value.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notifier {0}: the URL is not a valid http or https URL")]
    Url(String),
    #[error("notifier {notifier}: {error}")]
    Template {
        notifier: String,
        error: TemplateError,
    },
    #[error(
        "notifier {notifier}: header {header:?} is not a valid HTTP header name with a visible ASCII value"
    )]
    Header { notifier: String, header: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(reqwest::Error),
}

/// The notifiers' queues and workers.
pub struct Dispatcher {
    queues: HashMap<String, mpsc::Sender<Arc<Transition>>>,
    workers: Vec<JoinHandle<()>>,
    deadline: watch::Sender<Option<Instant>>,
    metrics: Metrics,
}

impl Dispatcher {
    /// Checks the notifiers and starts a worker for each on the current
    /// tokio runtime; declares their metric series.
    pub fn start(
        notifiers: &[NotifierConfig],
        metrics: Metrics,
        policy: RetryPolicy,
    ) -> Result<Dispatcher, NotifyError> {
        let notifiers: Vec<Notifier> = notifiers
            .iter()
            .map(Notifier::new)
            .collect::<Result<_, _>>()?;
        let client = http_client().map_err(NotifyError::Client)?;
        let (deadline, deadline_rx) = watch::channel(None);
        let mut queues = HashMap::new();
        let mut workers = Vec::new();
        for notifier in notifiers {
            metrics.declare_notifier(&notifier.name);
            let (queue, queued) = mpsc::channel(QUEUE_CAPACITY);
            queues.insert(notifier.name.clone(), queue);
            let worker = Worker {
                notifier,
                client: client.clone(),
                policy,
                metrics: metrics.clone(),
                deadline: deadline_rx.clone(),
            };
            workers.push(tokio::spawn(worker.run(queued)));
        }
        Ok(Dispatcher {
            queues,
            workers,
            deadline,
            metrics,
        })
    }

    /// Queues `transition` for each of its notifiers; never waits.
    pub fn dispatch(&self, transition: &Transition) {
        let shared = Arc::new(transition.clone());
        for name in &transition.notifiers {
            let reason = match self.queues.get(name) {
                // Config validation makes every rule's notifier exist.
                None => "no such notifier",
                Some(queue) => match queue.try_send(Arc::clone(&shared)) {
                    Ok(()) => continue,
                    Err(TrySendError::Full(_)) => "its queue is full",
                    Err(TrySendError::Closed(_)) => "its worker has stopped",
                },
            };
            warn!(notifier = %name, rule = %transition.rule, model = %transition.model,
                status = transition.status.as_str(), reason, "alert dropped");
            count(&self.metrics, name, Outcome::Failed);
        }
    }

    /// Stops taking alerts, delivers the queued ones until `deadline`, then
    /// drops the rest, logging each.
    pub async fn shutdown(self, deadline: Instant) {
        self.deadline.send_replace(Some(deadline));
        drop(self.queues);
        for mut worker in self.workers {
            match timeout_at(deadline + SHUTDOWN_GRACE, &mut worker).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => error!(error = %e, "notifier worker failed"),
                Err(_) => {
                    worker.abort();
                    warn!("notifier worker did not stop at the shutdown deadline; aborted");
                }
            }
        }
    }
}

/// The HTTP client every notifier shares.
fn http_client() -> reqwest::Result<reqwest::Client> {
    // reqwest is built without its default crypto provider (aws-lc, a large
    // C build); ring is installed instead, unless the process chose one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("driftwatch/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests;
