//! Alert rules and their state machine: from a model's window reports to
//! the moments a rule starts and stops firing. Pure and synchronous — no
//! clock, no I/O: time is the end of the window being evaluated, and what
//! becomes of a [`Transition`] (delivery, storage) is the caller's business.
//!
//! Each rule goes inactive → pending → firing → resolved (→ inactive). A
//! window in which its condition holds is a breach; `for_windows`
//! consecutive breaches make it fire, and the first window after that in
//! which the condition no longer holds resolves it. A non-breaching window
//! while pending starts the count again. Firing and resolving each produce
//! exactly one [`Transition`].
//!
//! A window in which the rule's subject is unavailable leaves the rule's
//! state as it was: neither a breach nor a clear, so a pending count is
//! kept and a firing rule keeps firing. A subject is unavailable when the
//! report cannot say: `drift_share` and `drifted_features` when no feature
//! could be judged (every one had insufficient data), a feature's statistic
//! or p-value when that feature had insufficient data, the test errored or
//! its value was not finite. This follows the design's rule that
//! insufficient data is never drift nor no drift. The `.p_value` subject
//! reads the raw p-value, before any multiple-testing correction: a rule on
//! one feature's p-value asks about that feature alone.

mod subject;
mod transition;

pub use transition::{AlertStatus, DriftedFeature, Transition};

use crate::config::{RuleConfig, Severity};
use crate::detect::WindowReport;
use chrono::{DateTime, Utc};

/// Every rule's state, advanced one window report at a time.
#[derive(Debug, Clone)]
pub struct AlertEngine {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    config: RuleConfig,
    state: State,
}

/// Where a rule stands; "resolved" is not a state but the step from
/// firing back to inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Inactive,
    /// Breached in this many consecutive windows, fewer than `for_windows`.
    Pending(u32),
    /// Firing since the end of the window that made it fire.
    Firing(DateTime<Utc>),
}

/// What a window did to a rule, when it did something worth telling.
enum Step {
    Fired,
    Resolved { since: DateTime<Utc> },
}

impl AlertEngine {
    /// An engine with every rule inactive.
    pub fn new(rules: &[RuleConfig]) -> AlertEngine {
        let rules = rules
            .iter()
            .map(|config| Rule {
                config: config.clone(),
                state: State::Inactive,
            })
            .collect();
        AlertEngine { rules }
    }

    /// Advances the rules of the report's model by one window and returns
    /// the transitions it caused, in rule order.
    pub fn evaluate(&mut self, report: &WindowReport) -> Vec<Transition> {
        self.rules
            .iter_mut()
            .filter(|rule| rule.config.model == report.report.model)
            .filter_map(|rule| rule.evaluate(report))
            .collect()
    }

    /// Every rule as (model, rule, severity, firing), in config order: the
    /// `driftwatch_alert_firing` gauge.
    pub fn states(&self) -> impl Iterator<Item = (&str, &str, Severity, bool)> {
        self.rules.iter().map(|rule| {
            let firing = matches!(rule.state, State::Firing(_));
            let c = &rule.config;
            (c.model.as_str(), c.name.as_str(), c.severity, firing)
        })
    }
}

impl Rule {
    fn evaluate(&mut self, report: &WindowReport) -> Option<Transition> {
        let observed = subject::observe(&self.config.when.subject, &report.report)?;
        let end = report.window.end;
        let breached = self.config.when.holds(observed);
        let (status, started_at, ended_at) = match self.step(breached, end)? {
            Step::Fired => (AlertStatus::Firing, end, None),
            Step::Resolved { since } => (AlertStatus::Resolved, since, Some(end)),
        };
        Some(Transition::new(
            &self.config,
            status,
            started_at,
            ended_at,
            observed,
            report,
        ))
    }

    /// Moves the state machine by one window that `breached` or not, which
    /// closed at `end`.
    fn step(&mut self, breached: bool, end: DateTime<Utc>) -> Option<Step> {
        let (next, step) = match (self.state, breached) {
            (State::Inactive, true) => self.breach(0, end),
            (State::Pending(n), true) => self.breach(n, end),
            (State::Firing(since), false) => (State::Inactive, Some(Step::Resolved { since })),
            (State::Pending(_), false) => (State::Inactive, None),
            (state @ (State::Inactive | State::Firing(_)), _) => (state, None),
        };
        self.state = next;
        step
    }

    /// The state after one more breach, `before` breaches having come
    /// before it.
    fn breach(&self, before: u32, end: DateTime<Utc>) -> (State, Option<Step>) {
        let breaches = before + 1;
        if breaches >= self.config.for_windows {
            (State::Firing(end), Some(Step::Fired))
        } else {
            (State::Pending(breaches), None)
        }
    }
}

#[cfg(test)]
mod tests;
