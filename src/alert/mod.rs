//! Alert rules and their state machine: from a model's window reports to
//! the moments an alert starts and stops firing, and from those to the
//! notifications that tell of them ([`group`]). Pure and synchronous — no
//! clock of its own, no I/O: time is the end of the window being evaluated
//! (or, for notifications, the time the caller passes), and what becomes
//! of a [`Transition`] (delivery, storage) is the caller's business.
//!
//! A window rule has one alert; a feature rule (`feature = "*"` or a
//! name) one per feature it watches. Each alert goes inactive → pending →
//! firing → resolved (→ inactive), see [`state::step`]: a window in which
//! the rule's condition holds is a breach; `for_windows` consecutive
//! breaches make it fire; once firing it resolves on its
//! `keep_firing_for_windows + 1`-th consecutive clean window, clean meaning
//! `resolve_when` holds (or, without one, `when` does not). Firing and
//! resolving each produce exactly one [`Transition`].
//!
//! A window in which an alert's subject is unavailable leaves its state as
//! it was: neither a breach nor a clear, so a pending count is kept and a
//! firing alert keeps firing. A subject is unavailable when the report
//! cannot say: `drift_share` and `drifted_features` when no feature could
//! be judged (every one had insufficient data), a feature's statistic or
//! p-value when that feature had insufficient data, the test errored or
//! its value was not finite. This follows the design's rule that
//! insufficient data is never drift nor no drift. The `.p_value` subject
//! reads the raw p-value, before any multiple-testing correction: a rule on
//! one feature's p-value asks about that feature alone.
//!
//! The engine's states are plain data ([`AlertEngine::save`],
//! [`AlertEngine::restore`]), so that a rule firing before a restart is
//! still firing after it.

pub mod group;
mod state;
mod subject;
mod transition;

pub use group::{Groups, Notice};
pub use state::AlertState;
pub use transition::{AlertStatus, DriftSummary, DriftedFeature, GroupedAlert, Transition};

use crate::config::{RuleConfig, Severity};
use crate::detect::WindowReport;
use serde::Serialize;
use state::{Step, step};
use std::collections::BTreeMap;
use transition::Cause;

/// Every rule's alerts, advanced one window report at a time.
#[derive(Debug, Clone)]
pub struct AlertEngine {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    config: RuleConfig,
    /// The pending and firing alerts, by key (`""` for a window rule's,
    /// else the feature's name).
    alerts: BTreeMap<String, AlertState>,
}

/// A pending or firing alert, as `/api/v1/alerts` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveAlert {
    pub model: String,
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    pub severity: Severity,
    pub condition: String,
    #[serde(flatten)]
    pub state: AlertState,
}

impl AlertEngine {
    /// An engine with every alert inactive.
    pub fn new(rules: &[RuleConfig]) -> AlertEngine {
        let rules = rules
            .iter()
            .map(|config| Rule {
                config: config.clone(),
                alerts: BTreeMap::new(),
            })
            .collect();
        AlertEngine { rules }
    }

    /// Advances the alerts of the report's model by one window and returns
    /// the transitions it caused, in rule order, then feature order.
    pub fn evaluate(&mut self, report: &WindowReport) -> Vec<Transition> {
        self.rules
            .iter_mut()
            .filter(|rule| rule.config.model == report.report.model)
            .flat_map(|rule| rule.evaluate(report))
            .collect()
    }

    /// Every rule as (model, rule, severity, firing — any of its alerts),
    /// in config order: the `driftwatch_alert_firing` gauge.
    pub fn states(&self) -> impl Iterator<Item = (&str, &str, Severity, bool)> {
        self.rules.iter().map(|rule| {
            let firing = (rule.alerts.values()).any(|s| matches!(s, AlertState::Firing { .. }));
            let c = &rule.config;
            (c.model.as_str(), c.name.as_str(), c.severity, firing)
        })
    }

    /// Every pending and firing alert, in config order, then feature order.
    pub fn active(&self) -> Vec<ActiveAlert> {
        let mut active = Vec::new();
        for rule in &self.rules {
            let c = &rule.config;
            for (key, state) in &rule.alerts {
                active.push(ActiveAlert {
                    model: c.model.clone(),
                    rule: c.name.clone(),
                    feature: (!key.is_empty()).then(|| key.clone()),
                    severity: c.severity,
                    condition: c.when.to_string(),
                    state: *state,
                });
            }
        }
        active
    }

    /// The alert states of `model`'s rules as JSON, by rule then key: what
    /// [`AlertEngine::restore`] reads.
    pub fn save(&self, model: &str) -> String {
        let states: BTreeMap<&str, &BTreeMap<String, AlertState>> = (self.rules.iter())
            .filter(|r| r.config.model == model)
            .map(|r| (r.config.name.as_str(), &r.alerts))
            .collect();
        serde_json::to_string(&states).expect("alert states serialize")
    }

    /// Puts back `model`'s alert states from [`AlertEngine::save`]'s JSON;
    /// states of rules no longer configured are dropped.
    pub fn restore(&mut self, model: &str, json: &str) -> serde_json::Result<()> {
        let mut states: BTreeMap<String, BTreeMap<String, AlertState>> =
            serde_json::from_str(json)?;
        for rule in self.rules.iter_mut().filter(|r| r.config.model == model) {
            if let Some(alerts) = states.remove(&rule.config.name) {
                rule.alerts = alerts;
            }
        }
        Ok(())
    }
}

impl Rule {
    fn evaluate(&mut self, report: &WindowReport) -> Vec<Transition> {
        let end = report.window.end;
        let mut transitions = Vec::new();
        for (key, reading) in subject::readings(&self.config, report) {
            let before = self.alerts.remove(&key);
            let (after, happened) = step(before, reading, &self.config, end);
            if let Some(happened) = happened {
                let (status, started_at, ended_at) = match happened {
                    Step::Fired => (AlertStatus::Firing, end, None),
                    Step::Resolved { since } => (AlertStatus::Resolved, since, Some(end)),
                };
                let cause = Cause {
                    rule: &self.config,
                    key: &key,
                    report,
                };
                let t = Transition::new(cause, status, started_at, ended_at, reading.observed);
                transitions.push(t);
            }
            if let Some(after) = after {
                self.alerts.insert(key, after);
            }
        }
        transitions
    }
}

#[cfg(test)]
mod tests;
