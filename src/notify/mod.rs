//! Delivery of notifications to their notifiers (Slack, generic webhooks,
//! retraining webhooks, Alertmanager), durable and off the path that
//! produced them.
//!
//! The alerting task turns each notification into outbox entries
//! ([`Routes::entries`]: one per notifier that takes it) and commits them
//! to the database in the same transaction as the alert states that caused
//! them; then it wakes the notifiers ([`Deliveries::wake`]). Each notifier
//! has a worker ([`worker`]) that sends its entries oldest first, retries
//! what failed for a reason that may pass (connect errors, timeouts, HTTP
//! 408, 429, 5xx) with exponential backoff and full jitter, honouring
//! `Retry-After`, and gives up on other answers. An entry leaves the
//! outbox only when delivered or given up, so delivery is at least once
//! across receiver outages, restarts and crashes; receivers deduplicate by
//! the `Idempotency-Key` header (also in the body), the same on every
//! retry. [`Deliveries::shutdown`] keeps delivering what is due until a
//! deadline; what is left waits in the outbox for the next start. URLs and
//! header values are [`Secret`](crate::config::Secret)s: logs name the
//! notifier, never where it sends.
//!
//! The generic webhook's default body is the notification's JSON:
//!
//! ```json
//! {"status": "firing", "rule": "income-psi", "model": "loans",
//!  "severity": "critical", "condition": "feature.income.psi > 0.2",
//!  "observed": 0.31, "started_at": "2026-01-01T00:05:00Z",
//!  "window": {"start": "2026-01-01T00:04:00Z", "end": "2026-01-01T00:05:00Z", "records": 1000},
//!  "features": [{"name": "income", "test": "psi", "statistic": 0.31, "threshold": 0.2}],
//!  "summary": {"drift_share": 0.2, "drifted_features": 1, "evaluated_features": 5},
//!  "report_url": "http://127.0.0.1:9108/api/v1/models/loans/report",
//!  "idempotency_key": "9f2c…"}
//! ```
//!
//! with `"ended_at"` when resolved, `"p_value"` on p-value tests,
//! `"feature"` for one feature's alert, `"alerts"` (each feature's alert)
//! for a feature rule's group, and `"repeat": true` when it tells again of
//! an alert still firing; a `body_template` replaces it (see [`template`]).

mod alertmanager;
mod retry;
mod route;
mod sink;
mod slack;
pub mod template;
mod worker;

pub use retry::RetryPolicy;
pub use route::Routes;
pub use sink::{SIGNATURE, signature};
pub use template::{Template, TemplateError};

use crate::alert::Transition;
use crate::config::NotifierConfig;
use crate::metrics::Metrics;
use crate::store::db::{Db, blocking};
use chrono::Utc;
use sink::Notifier;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout_at};
use tracing::{error, warn};
use worker::{GiveUp, Worker, count_failure};

/// How long after the deadline shutdown waits for workers to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// How often the outbox gauges are refreshed.
const GAUGE_EVERY: Duration = Duration::from_secs(1);

/// Why deliveries cannot start. Messages never show a URL or a header
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

/// The notifiers' workers over the outbox.
pub struct Deliveries {
    wake: HashMap<String, Arc<Notify>>,
    workers: Vec<JoinHandle<()>>,
    gauges: JoinHandle<()>,
    deadline: watch::Sender<Option<Instant>>,
}

impl Deliveries {
    /// Checks the notifiers, gives up the entries of notifiers no longer
    /// configured, and starts a worker for each notifier on the current
    /// tokio runtime. `firing` carries the alerts still firing, for
    /// Alertmanager's re-sends.
    pub async fn start(
        notifiers: &[NotifierConfig],
        db: Db,
        metrics: Metrics,
        firing: watch::Receiver<Vec<Transition>>,
    ) -> Result<Deliveries, NotifyError> {
        let notifiers: Vec<Notifier> = notifiers
            .iter()
            .map(Notifier::new)
            .collect::<Result<_, _>>()?;
        let client = http_client().map_err(NotifyError::Client)?;
        give_up_orphans(&db, &notifiers, &metrics).await;
        let (deadline, deadline_rx) = watch::channel(None);
        let mut wake = HashMap::new();
        let mut workers = Vec::new();
        for notifier in notifiers {
            metrics.declare_notifier(&notifier.name);
            let woken = Arc::new(Notify::new());
            wake.insert(notifier.name.clone(), Arc::clone(&woken));
            let worker = Worker {
                notifier,
                client: client.clone(),
                db: db.clone(),
                metrics: metrics.clone(),
                wake: woken,
                firing: firing.clone(),
                deadline: deadline_rx.clone(),
                last_sent: None,
            };
            workers.push(tokio::spawn(worker.run()));
        }
        let names: Vec<String> = wake.keys().cloned().collect();
        let gauges = tokio::spawn(refresh_gauges(db, metrics, names));
        Ok(Deliveries {
            wake,
            workers,
            gauges,
            deadline,
        })
    }

    /// Tells `notifier`'s worker that it has new entries.
    pub fn wake(&self, notifier: &str) {
        if let Some(wake) = self.wake.get(notifier) {
            wake.notify_one();
        }
    }

    /// Delivers what is due until `deadline`, then stops; the rest stays in
    /// the outbox for the next start.
    pub async fn shutdown(self, deadline: Instant) {
        self.deadline.send_replace(Some(deadline));
        for wake in self.wake.values() {
            wake.notify_one();
        }
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
        self.gauges.abort();
    }
}

/// Gives up the outbox entries of notifiers no longer configured, saying
/// so and counting them.
async fn give_up_orphans(db: &Db, notifiers: &[Notifier], metrics: &Metrics) {
    let known: Vec<String> = notifiers.iter().map(|n| n.name.clone()).collect();
    let db = db.clone();
    let orphans = blocking(move || {
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        db.outbox_orphans(&known, Utc::now())
    })
    .await;
    match orphans {
        Ok(orphans) => {
            for (notifier, n) in orphans {
                warn!(%notifier, notifications = n, "undelivered notifications of a notifier no longer configured were given up");
                for _ in 0..n {
                    count_failure(metrics, &notifier, GiveUp::NotifierRemoved);
                }
            }
        }
        Err(e) => error!(error = %e, "cannot check the outbox for removed notifiers"),
    }
}

/// Keeps `driftwatch_outbox_depth` and
/// `driftwatch_outbox_oldest_age_seconds` current.
async fn refresh_gauges(db: Db, metrics: Metrics, notifiers: Vec<String>) {
    let mut every = tokio::time::interval(GAUGE_EVERY);
    loop {
        every.tick().await;
        let db = db.clone();
        let stats = match blocking(move || db.outbox_stats()).await {
            Ok(stats) => stats,
            Err(e) => {
                error!(error = %e, "cannot read the outbox's size");
                continue;
            }
        };
        let now = Utc::now();
        for name in &notifiers {
            let stat = stats.iter().find(|s| &s.notifier == name);
            let depth = stat.map_or(0, |s| s.depth);
            let age = (stat.and_then(|s| s.oldest)).map_or(0.0, |at| {
                (now - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics
                .outbox_depth
                .with_label_values(&[name])
                .set(depth as i64);
            metrics
                .outbox_oldest_age_seconds
                .with_label_values(&[name])
                .set(age);
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
