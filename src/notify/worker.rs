//! One notifier's delivery loop over its part of the durable outbox: takes
//! the oldest undelivered notification, waits for its turn (its retry time,
//! and the sink's rate limit), sends it, and records the result — delivered
//! (it leaves the outbox), to be retried (with backoff, or after the
//! server's `Retry-After`), or given up (an answer that retrying cannot
//! change). Oldest first and one at a time, so a receiver hears of an
//! alert's firing before its resolution, and a `Retry-After` holds back
//! everything behind it. Every attempt is counted in
//! `driftwatch_notifications_total`.
//!
//! An Alertmanager worker also posts the alerts still firing every
//! `resend_interval`, outside the outbox: each post replaces the last.

use super::retry::{Attempt, classify};
use super::sink::{Notifier, Payload};
use crate::alert::Transition;
use crate::metrics::Metrics;
use crate::store::StoreError;
use crate::store::db::{Db, OutboxEntry, blocking};
use chrono::{TimeDelta, Utc};
use std::future::{Future, pending};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::{Instant, sleep, sleep_until};
use tracing::{error, info, instrument, warn};

/// What became of one attempt: the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Delivered,
    Retried,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retried => "retried",
            Outcome::Failed => "failed",
        }
    }
}

/// Why a notification was given up: the `reason` label of
/// `driftwatch_notification_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GiveUp {
    /// The receiver answered with an error retrying cannot change.
    Rejected,
    /// The notifier is no longer in the config.
    NotifierRemoved,
    /// The stored notification cannot be read by this build.
    Unreadable,
}

impl GiveUp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            GiveUp::Rejected => "rejected",
            GiveUp::NotifierRemoved => "notifier_removed",
            GiveUp::Unreadable => "unreadable",
        }
    }
}

/// How long to wait before looking at a database that failed again.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// The shutdown deadline passed.
struct Interrupted;

pub(super) struct Worker {
    pub(super) notifier: Notifier,
    pub(super) client: reqwest::Client,
    pub(super) db: Db,
    pub(super) metrics: Metrics,
    /// Woken when notifications are added for this notifier.
    pub(super) wake: Arc<Notify>,
    /// The alerts still firing, for Alertmanager's re-sends.
    pub(super) firing: watch::Receiver<Vec<Transition>>,
    /// Set once, by shutdown: from then on the worker stops when its
    /// outbox is empty or nothing more is due before the deadline.
    pub(super) deadline: watch::Receiver<Option<Instant>>,
    /// When the last request went, for the rate limit.
    pub(super) last_sent: Option<Instant>,
}

impl Worker {
    /// Delivers until shutdown.
    pub(super) async fn run(mut self) {
        let resend = self.notifier.resend_interval();
        let mut resend_tick = resend.map(tokio::time::interval);
        loop {
            let next = tokio::select! {
                biased;
                () = resend_due(&mut resend_tick) => { self.resend().await; continue; }
                next = self.next() => next,
            };
            match next {
                Ok(Some(entry)) => self.deliver(entry).await,
                Ok(None) | Err(Interrupted) => return,
            }
        }
    }

    /// The next entry to send, once it is due; `None` when shutting down
    /// and nothing more can go out before the deadline.
    async fn next(&mut self) -> Result<Option<OutboxEntry>, Interrupted> {
        loop {
            let wake = Arc::clone(&self.wake);
            let woken = wake.notified();
            let head = match self.head().await {
                Ok(head) => head,
                Err(e) => {
                    error!(notifier = %self.notifier.name, error = %e, "cannot read the outbox");
                    self.until_deadline(sleep(STORE_RETRY)).await?;
                    continue;
                }
            };
            let deadline = *self.deadline.borrow();
            let Some(entry) = head else {
                if deadline.is_some() {
                    return Ok(None);
                }
                self.until_deadline(woken).await?;
                continue;
            };
            let wait = (entry.next_attempt_at - Utc::now())
                .to_std()
                .unwrap_or_default();
            let due = Instant::now() + wait.max(self.rate_wait());
            if deadline.is_some_and(|d| due > d) {
                return Ok(None);
            }
            let woken = self
                .until_deadline(async {
                    tokio::select! {
                        () = sleep_until(due) => false,
                        () = woken => true,
                    }
                })
                .await?;
            if !woken {
                return Ok(Some(entry));
            }
        }
    }

    async fn head(&self) -> Result<Option<OutboxEntry>, StoreError> {
        let (db, name) = (self.db.clone(), self.notifier.name.clone());
        blocking(move || db.outbox_head(&name)).await
    }

    /// How long the rate limit holds the next request back.
    fn rate_wait(&self) -> Duration {
        let earliest = self.last_sent.map(|at| at + self.notifier.min_gap);
        earliest.map_or(Duration::ZERO, |at| {
            at.saturating_duration_since(Instant::now())
        })
    }

    #[instrument(name = "deliver", skip_all, fields(
        notifier = %self.notifier.name,
        id = entry.id,
        idempotency_key = %entry.idempotency_key,
        attempt = entry.attempts + 1,
    ))]
    async fn deliver(&mut self, entry: OutboxEntry) {
        let notification: Transition = match serde_json::from_str(&entry.payload) {
            Ok(t) => t,
            Err(e) => {
                let reason = format!("the stored notification cannot be read: {e}");
                return self.give_up(&entry, GiveUp::Unreadable, &reason).await;
            }
        };
        let payload = self.notifier.payload(&notification, Utc::now());
        let result = self.send(&payload).await;
        let attempt = entry.attempts + 1;
        let store = match result {
            Attempt::Delivered => {
                info!(
                    status = notification.status.as_str(),
                    "notification delivered"
                );
                self.count(Outcome::Delivered);
                let (db, id) = (self.db.clone(), entry.id);
                blocking(move || db.outbox_delivered(id)).await
            }
            Attempt::Failed { reason } => {
                return self.give_up(&entry, GiveUp::Rejected, &reason).await;
            }
            Attempt::Retry { reason, after } => {
                let wait = after.unwrap_or_else(|| self.notifier.policy.backoff(attempt));
                warn!(%reason, wait_ms = wait.as_millis() as u64, "delivery failed; will retry");
                self.count(Outcome::Retried);
                let next = Utc::now() + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX);
                let (db, id) = (self.db.clone(), entry.id);
                blocking(move || db.outbox_retry(id, next, &reason)).await
            }
        };
        if let Err(e) = store {
            error!(error = %e, "cannot record the delivery's result; it may be sent again");
        }
    }

    async fn give_up(&mut self, entry: &OutboxEntry, why: GiveUp, reason: &str) {
        error!(%reason, why = why.as_str(), "notification given up");
        self.count(Outcome::Failed);
        count_failure(&self.metrics, &self.notifier.name, why);
        let (db, id, reason) = (self.db.clone(), entry.id, reason.to_owned());
        if let Err(e) = blocking(move || db.outbox_give_up(id, &reason, Utc::now())).await {
            error!(error = %e, "cannot record that the notification was given up");
        }
    }

    async fn send(&mut self, payload: &Payload) -> Attempt {
        self.last_sent = Some(Instant::now());
        let request = self
            .client
            .post(self.notifier.url.expose())
            .headers(payload.headers.clone())
            .body(payload.body.clone())
            .timeout(self.notifier.policy.attempt_timeout);
        classify(request.send().await)
    }

    /// Posts the alerts still firing to Alertmanager; a failure waits for
    /// the next re-send.
    async fn resend(&mut self) {
        let firing = self.firing.borrow().clone();
        if firing.is_empty() {
            return;
        }
        let Some(payload) = self.notifier.resend(&firing, Utc::now()) else {
            return;
        };
        let outcome = match self.send(&payload).await {
            Attempt::Delivered => Outcome::Delivered,
            Attempt::Retry { reason, .. } | Attempt::Failed { reason } => {
                warn!(notifier = %self.notifier.name, %reason, alerts = firing.len(), "re-sending firing alerts failed");
                Outcome::Retried
            }
        };
        self.count(outcome);
    }

    fn count(&self, outcome: Outcome) {
        count(&self.metrics, &self.notifier.name, outcome);
    }

    /// Runs `work` unless the shutdown deadline passes first.
    async fn until_deadline<F: Future>(&self, work: F) -> Result<F::Output, Interrupted> {
        tokio::select! {
            biased;
            () = deadline_passed(self.deadline.clone()) => Err(Interrupted),
            out = work => Ok(out),
        }
    }
}

/// Counts one attempt of `notifier`.
pub(super) fn count(metrics: &Metrics, notifier: &str, outcome: Outcome) {
    metrics
        .notifications_total
        .with_label_values(&[notifier, outcome.as_str()])
        .inc();
}

/// Counts one notification of `notifier` given up.
pub(super) fn count_failure(metrics: &Metrics, notifier: &str, why: GiveUp) {
    metrics
        .notification_failures_total
        .with_label_values(&[notifier, why.as_str()])
        .inc();
}

/// Resolves at the next re-send tick; never without one.
async fn resend_due(tick: &mut Option<tokio::time::Interval>) {
    match tick {
        Some(tick) => {
            tick.tick().await;
        }
        None => pending().await,
    }
}

/// Resolves when the deadline has been set and has passed; never when the
/// deliveries went away without setting one.
async fn deadline_passed(mut deadline: watch::Receiver<Option<Instant>>) {
    let at = match deadline.wait_for(Option::is_some).await {
        Ok(at) => *at,
        Err(_) => None,
    };
    match at {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{NOTIFICATION_FAILURES, NOTIFICATION_OUTCOMES};

    #[test]
    fn outcomes_and_reasons_are_the_metric_labels() {
        let outcomes = [Outcome::Delivered, Outcome::Retried, Outcome::Failed];
        assert_eq!(outcomes.map(Outcome::as_str), NOTIFICATION_OUTCOMES);
        let reasons = [
            GiveUp::Rejected,
            GiveUp::NotifierRemoved,
            GiveUp::Unreadable,
        ];
        assert_eq!(reasons.map(GiveUp::as_str), NOTIFICATION_FAILURES);
    }
}
