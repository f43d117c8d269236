//! The alerting task: each window report goes through the alert rules
//! ([`AlertEngine`]), its transitions through the notification groups
//! ([`Groups`]) and the notifiers' routes ([`Routes`]); then the report,
//! the transitions, the new alert and group states and the outbox entries
//! they cause are committed to the database in one transaction, and the
//! notifiers are woken. A crash before the commit loses the window's
//! alerting as a whole; after it, nothing: the states say the alert fired,
//! and the outbox still holds its notifications.
//!
//! A one-second tick sends what the groups have due (a group's wait, a
//! repeat) the same way, and an hourly one prunes history older than the
//! retention. A commit that fails (a full disk) is kept and tried again,
//! in order, before anything newer, at every tick: notifications are late
//! then, not lost — up to [`MAX_UNSAVED`] windows, beyond which the oldest
//! is dropped, saying so. At start the engine, groups and routes are put back from the
//! database, so a rule firing before a restart is still firing after it
//! and is not announced again.

use crate::alert::{ActiveAlert, AlertEngine, Groups, Notice, Transition};
use crate::config::Config;
use crate::detect::WindowReport;
use crate::metrics::Metrics;
use crate::notify::{Deliveries, NotifyError, Routes};
use crate::store::StoreError;
use crate::store::db::{Commit, Db, NewReport, NewTransition, blocking};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tracing::{error, info, warn};

/// How often due notifications are looked for.
const TICK: Duration = Duration::from_secs(1);
/// How often history older than the retention is deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Failed commits kept for another try; beyond it the oldest is dropped.
pub const MAX_UNSAVED: usize = 1000;

/// State keys: a model's alert states, and its notification groups.
const ALERTS_STATE: &str = "alerts/";
const GROUPS_STATE: &str = "groups/";

/// What the HTTP API reads of the alerting task: the pending and firing
/// alerts.
pub type ActiveAlerts = watch::Receiver<Vec<ActiveAlert>>;

/// The alerting task's state.
pub struct Alerting {
    engine: AlertEngine,
    groups: Groups,
    routes: Routes,
    models: Vec<String>,
    db: Db,
    deliveries: Deliveries,
    metrics: Metrics,
    firing: watch::Sender<Vec<Transition>>,
    active: watch::Sender<Vec<ActiveAlert>>,
    external_url: String,
    retention: TimeDelta,
    /// Commits not saved yet, oldest first.
    unsaved: VecDeque<Commit>,
    /// How many of them a failure was logged for.
    logged: usize,
}

impl Alerting {
    /// Puts back the alert states, groups and retraining times from `db`
    /// and starts the notifiers' deliveries.
    pub async fn start(
        config: &Config,
        db: Db,
        metrics: Metrics,
    ) -> Result<(Alerting, ActiveAlerts), NotifyError> {
        let mut engine = AlertEngine::new(&config.rules);
        let mut groups = Groups::new(&config.rules);
        let mut routes = Routes::new(&config.notifiers);
        restore(&db, &mut engine, &mut groups, &mut routes).await;
        let (firing, firing_rx) = watch::channel(groups.firing().cloned().collect());
        let (active, active_rx) = watch::channel(engine.active());
        let deliveries =
            Deliveries::start(&config.notifiers, db.clone(), metrics.clone(), firing_rx).await?;
        let alerting = Alerting {
            engine,
            groups,
            routes,
            models: config.models.iter().map(|m| m.name.clone()).collect(),
            db,
            deliveries,
            metrics,
            firing,
            active,
            external_url: config.server.external_url.clone(),
            retention: TimeDelta::from_std(config.server.retention).unwrap_or(TimeDelta::MAX),
            unsaved: VecDeque::new(),
            logged: 0,
        };
        alerting.publish();
        Ok((alerting, active_rx))
    }

    /// Handles reports until every evaluator has ended, then delivers
    /// what is due until `drain` has passed.
    pub async fn run(mut self, mut reports: mpsc::Receiver<Arc<WindowReport>>, drain: Duration) {
        let mut tick = tokio::time::interval(TICK);
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        loop {
            tokio::select! {
                report = reports.recv() => match report {
                    Some(report) => self.on_report(&report).await,
                    None => break,
                },
                _ = tick.tick() => self.on_tick().await,
                _ = prune.tick() => self.prune().await,
            }
        }
        self.on_tick().await;
        let deadline = tokio::time::Instant::now() + drain;
        self.deliveries.shutdown(deadline).await;
    }

    async fn on_report(&mut self, report: &WindowReport) {
        let now = Utc::now();
        let model = report.report.model.clone();
        let mut commit = Commit {
            report: Some(new_report(report)),
            ..Commit::default()
        };
        for mut t in self.engine.evaluate(report) {
            info!(rule = %t.rule, model = %t.model, feature = t.feature.as_deref().unwrap_or(""),
                status = t.status.as_str(), severity = t.severity.as_str(), "alert {}", t.status.as_str());
            t.report_url = Some(self.report_url(&t.model));
            commit.transitions.push(new_transition(&t));
            self.groups.add(t, now);
        }
        let key = format!("{ALERTS_STATE}{model}");
        commit.states.push((key, self.engine.save(&model)));
        self.notify(commit, now).await;
    }

    async fn on_tick(&mut self) {
        self.notify(Commit::default(), Utc::now()).await;
    }

    /// Adds what the groups have due to `commit`, and saves it.
    async fn notify(&mut self, mut commit: Commit, now: DateTime<Utc>) {
        let notices = self.groups.due(now);
        if !notices.is_empty() || commit.report.is_some() {
            self.add_notices(&notices, now, &mut commit);
            for model in &self.models {
                let key = format!("{GROUPS_STATE}{model}");
                commit.states.push((key, self.groups.save(model)));
            }
            self.unsaved.push_back(commit);
            self.publish();
        }
        self.save().await;
    }

    /// Commits the unsaved commits in order, waking the notifiers of the
    /// entries each adds; stops at the first that fails.
    async fn save(&mut self) {
        while let Some(commit) = self.unsaved.front().cloned() {
            let woken: BTreeSet<String> =
                commit.outbox.iter().map(|e| e.notifier.clone()).collect();
            let db = self.db.clone();
            match blocking(move || db.commit(&commit)).await {
                Ok(_) => {
                    self.unsaved.pop_front();
                    self.logged = self.logged.min(self.unsaved.len());
                    for notifier in &woken {
                        self.deliveries.wake(notifier);
                    }
                }
                Err(e) => {
                    self.keep_unsaved(&e);
                    return;
                }
            }
        }
    }

    /// Logs a failed commit (once per window kept), dropping the oldest
    /// beyond [`MAX_UNSAVED`].
    fn keep_unsaved(&mut self, e: &StoreError) {
        if self.unsaved.len() > MAX_UNSAVED {
            self.unsaved.pop_front();
            error!(error = %e, "the database still cannot be written; the oldest unsaved window's alerts and notifications are dropped");
        } else if self.unsaved.len() > self.logged {
            error!(error = %e, waiting = self.unsaved.len(), "cannot store a window's alerts and notifications; they are kept and retried every second");
        }
        self.logged = self.unsaved.len();
    }

    fn add_notices(&mut self, notices: &[Notice], now: DateTime<Utc>, commit: &mut Commit) {
        for notice in notices {
            let (entries, states) = self.routes.entries(notice, now);
            let n = &notice.notification;
            info!(rule = %n.rule, model = %n.model, status = n.status.as_str(), repeat = n.repeat,
                notifiers = entries.len(), "notification queued");
            commit.outbox.extend(entries);
            commit.states.extend(states);
        }
    }

    /// Sets the firing gauge and hands the alerts to the HTTP API and to
    /// Alertmanager's re-sends.
    fn publish(&self) {
        for (model, rule, severity, firing) in self.engine.states() {
            self.metrics
                .alert_firing
                .with_label_values(&[model, rule, severity.as_str()])
                .set(i64::from(firing));
        }
        self.active.send_replace(self.engine.active());
        self.firing
            .send_replace(self.groups.firing().cloned().collect());
    }

    async fn prune(&self) {
        let before =
            (Utc::now().checked_sub_signed(self.retention)).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let db = self.db.clone();
        match blocking(move || db.prune(before)).await {
            Ok(0) => {}
            Ok(n) => info!(rows = n, %before, "history older than the retention deleted"),
            Err(e) => warn!(error = %e, "cannot delete old history"),
        }
    }

    fn report_url(&self, model: &str) -> String {
        format!("{}/api/v1/models/{model}/report", self.external_url)
    }
}

/// Puts back alert states, groups and retraining times; a state that
/// cannot be read is logged and left out (its alerts start inactive).
async fn restore(db: &Db, engine: &mut AlertEngine, groups: &mut Groups, routes: &mut Routes) {
    let db = db.clone();
    let states = match blocking(move || db.states_with_prefix("")).await {
        Ok(states) => states,
        Err(e) => {
            error!(error = %e, "cannot read the stored alert states; every alert starts inactive");
            return;
        }
    };
    for (key, json) in states {
        let restored = if let Some(model) = key.strip_prefix(ALERTS_STATE) {
            engine.restore(model, &json)
        } else if let Some(model) = key.strip_prefix(GROUPS_STATE) {
            groups.restore(model, &json)
        } else {
            routes.restore(&key, &json);
            Ok(())
        };
        if let Err(e) = restored {
            warn!(%key, error = %e, "a stored alert state cannot be read; left out");
        }
    }
}

fn new_report(report: &WindowReport) -> NewReport {
    let r = &report.report;
    NewReport {
        model: r.model.clone(),
        window_start: report.window.start,
        window_end: report.window.end,
        records: report.window.records,
        drift_share: (r.evaluated_features > 0).then_some(r.drift_share),
        json: serde_json::to_string(report).expect("a report serializes"),
    }
}

fn new_transition(t: &Transition) -> NewTransition {
    NewTransition {
        model: t.model.clone(),
        rule: t.rule.clone(),
        feature: t.feature.clone(),
        status: t.status.as_str().to_owned(),
        at: t.ended_at.unwrap_or(t.started_at),
        json: serde_json::to_string(t).expect("a transition serializes"),
    }
}

#[cfg(test)]
mod tests;
