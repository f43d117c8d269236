//! One notifier's delivery loop: takes transitions off its queue one at a
//! time, sends each until it is delivered, fails for good, runs out of
//! attempts, or the shutdown deadline passes — then drops what is left.
//! Every attempt is counted in `driftwatch_notifications_total`.

use super::retry::{Attempt, RetryPolicy, classify};
use super::sink::{Notifier, Payload};
use crate::alert::Transition;
use crate::metrics::Metrics;
use std::future::{Future, pending};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
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

/// Counts one attempt (or one alert dropped before any) of `notifier`.
pub(super) fn count(metrics: &Metrics, notifier: &str, outcome: Outcome) {
    metrics
        .notifications_total
        .with_label_values(&[notifier, outcome.as_str()])
        .inc();
}

/// The shutdown deadline passed before the delivery ended.
struct Interrupted;

pub(super) struct Worker {
    pub(super) notifier: Notifier,
    pub(super) client: reqwest::Client,
    pub(super) policy: RetryPolicy,
    pub(super) metrics: Metrics,
    /// Set once, by the dispatcher's shutdown.
    pub(super) deadline: watch::Receiver<Option<Instant>>,
}

impl Worker {
    /// Delivers until the queue is closed and empty, or the deadline passes.
    pub(super) async fn run(self, mut queue: mpsc::Receiver<Arc<Transition>>) {
        while let Some(transition) = queue.recv().await {
            if self.deliver(&transition).await.is_err() {
                self.drop_queued(&transition, queue);
                return;
            }
        }
    }

    #[instrument(name = "deliver", skip_all, fields(
        notifier = %self.notifier.name,
        rule = %t.rule,
        model = %t.model,
        status = t.status.as_str(),
        idempotency_key = %t.idempotency_key,
    ))]
    async fn deliver(&self, t: &Transition) -> Result<(), Interrupted> {
        let payload = self.notifier.payload(t);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (outcome, wait) = match self.until_deadline(self.send(&payload)).await? {
                Attempt::Delivered => {
                    info!(attempt, "alert delivered");
                    (Outcome::Delivered, None)
                }
                Attempt::Failed { reason } => {
                    error!(attempt, %reason, "alert delivery failed; not retrying");
                    (Outcome::Failed, None)
                }
                Attempt::Retry { reason, .. } if attempt >= self.policy.max_attempts => {
                    error!(attempt, %reason, "alert delivery failed; giving up");
                    (Outcome::Failed, None)
                }
                Attempt::Retry { reason, after } => {
                    let wait = after.unwrap_or_else(|| self.policy.backoff(attempt));
                    let wait_ms = wait.as_millis() as u64;
                    warn!(attempt, %reason, wait_ms, "alert delivery failed; will retry");
                    (Outcome::Retried, Some(wait))
                }
            };
            count(&self.metrics, &self.notifier.name, outcome);
            let Some(wait) = wait else { return Ok(()) };
            self.until_deadline(sleep(wait)).await?;
        }
    }

    async fn send(&self, payload: &Payload) -> Attempt {
        let request = self
            .client
            .post(self.notifier.url.expose())
            .headers(payload.headers.clone())
            .body(payload.body.clone())
            .timeout(self.policy.attempt_timeout);
        classify(request.send().await)
    }

    /// Runs `work` unless the shutdown deadline passes first.
    async fn until_deadline<F: Future>(&self, work: F) -> Result<F::Output, Interrupted> {
        tokio::select! {
            biased;
            () = deadline_passed(self.deadline.clone()) => Err(Interrupted),
            out = work => Ok(out),
        }
    }

    /// Counts and logs the interrupted alert and every one still queued.
    fn drop_queued(&self, current: &Transition, mut queue: mpsc::Receiver<Arc<Transition>>) {
        queue.close();
        let name = self.notifier.name.as_str();
        let log = |t: &Transition| {
            count(&self.metrics, name, Outcome::Failed);
            warn!(notifier = name, rule = %t.rule, model = %t.model, status = t.status.as_str(), idempotency_key = %t.idempotency_key, "shutdown deadline passed; alert dropped undelivered");
        };
        log(current);
        while let Ok(t) = queue.try_recv() {
            log(&t);
        }
    }
}

/// Resolves when the deadline has been set and has passed; never when the
/// dispatcher went away without setting one.
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
    use crate::metrics::NOTIFICATION_OUTCOMES;

    #[test]
    fn outcomes_are_the_metric_labels() {
        let outcomes = [Outcome::Delivered, Outcome::Retried, Outcome::Failed];
        assert_eq!(outcomes.map(Outcome::as_str), NOTIFICATION_OUTCOMES);
    }
}
