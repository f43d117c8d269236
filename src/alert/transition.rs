//! A rule's transition (an alert fired, or it resolved) as plain data, and
//! the notification made of one or of a group of them: what notifiers
//! send, and what the outbox stores. Its JSON form is the generic
//! webhook's body.

use super::subject;
use crate::config::{RuleConfig, Severity};
use crate::detect::{FeatureReport, Report, TestName, TestReport, WindowReport, WindowSpan};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Whether a transition starts or ends an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

impl AlertStatus {
    /// The name used in alerts (`firing`, `resolved`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// An alert that started firing or resolved, with the window that made it
/// so — or a notification of a group of them (`alerts`), or a repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// `firing` while any alert it tells of fires.
    pub status: AlertStatus,
    /// The rule's name.
    pub rule: String,
    pub model: String,
    pub severity: Severity,
    /// The feature of a feature rule's alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// The rule's condition as written (`drift_share >= 0.5`).
    pub condition: String,
    /// The condition's subject in the window.
    pub observed: f64,
    /// When the alert began firing: the end of the window that made it fire.
    pub started_at: DateTime<Utc>,
    /// When it resolved: the end of the window that resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The window that caused the transition.
    pub window: WindowSpan,
    /// The features whose deciding tests drifted in that window, most
    /// drifted first (a feature alert: its feature's).
    pub features: Vec<DriftedFeature>,
    /// The window's drift at a glance.
    pub summary: DriftSummary,
    /// A group's notification: each alert of the group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<GroupedAlert>,
    /// True when this announces again an alert still firing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeat: bool,
    /// The model's latest report, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    /// The same for every delivery (and retry) of this transition, and
    /// different for any other: receivers deduplicate by it.
    pub idempotency_key: String,
    /// The notifiers that must hear of it, by name.
    #[serde(skip)]
    pub notifiers: Vec<String>,
}

/// A window's drift in three numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DriftSummary {
    /// Drifted / judged features.
    pub drift_share: f64,
    pub drifted_features: u64,
    /// Features judged (not insufficient data).
    pub evaluated_features: u64,
}

impl From<&Report> for DriftSummary {
    fn from(report: &Report) -> DriftSummary {
        DriftSummary {
            drift_share: report.drift_share,
            drifted_features: report.drifted_features,
            evaluated_features: report.evaluated_features,
        }
    }
}

/// One alert of a group's notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupedAlert {
    pub feature: String,
    pub status: AlertStatus,
    pub observed: f64,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
}

/// A deciding test that drifted (or, for a feature alert, the test its
/// rule reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftedFeature {
    /// The feature, or `column:descriptor` for a text descriptor.
    pub name: String,
    pub test: TestName,
    pub statistic: Option<f64>,
    /// The p-value that decided (after the multiple-testing correction when
    /// one applies), for p-value tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Drift when the statistic ≥ it (distances) or the p-value < it.
    pub threshold: f64,
}

/// What made a transition: the rule, the alert's key (`""` for a window
/// rule's one alert, else its feature) and the window's report.
pub(super) struct Cause<'a> {
    pub(super) rule: &'a RuleConfig,
    pub(super) key: &'a str,
    pub(super) report: &'a WindowReport,
}

impl Transition {
    /// The transition of an alert caused by a window in which its subject
    /// was `observed`.
    pub(super) fn new(
        cause: Cause<'_>,
        status: AlertStatus,
        started_at: DateTime<Utc>,
        ended_at: Option<DateTime<Utc>>,
        observed: f64,
    ) -> Transition {
        let Cause { rule, key, report } = cause;
        let feature = (!key.is_empty()).then(|| key.to_owned());
        let features = match &feature {
            None => drifted_features(report, |_, t| drifted(t)),
            Some(name) => {
                let reads = rule.when.subject.feature().map(|(_, test)| test);
                drifted_features(report, |f, t| {
                    subject::name(f, t) == name.as_str() && (Some(t.test) == reads || drifted(t))
                })
            }
        };
        Transition {
            status,
            rule: rule.name.clone(),
            model: rule.model.clone(),
            severity: rule.severity,
            idempotency_key: idempotency_key(&[&rule.name, &rule.model, key], status, started_at),
            feature,
            condition: rule.when.to_string(),
            observed,
            started_at,
            ended_at,
            window: report.window,
            features,
            summary: DriftSummary::from(&report.report),
            alerts: Vec::new(),
            repeat: false,
            report_url: None,
            notifiers: rule.notify.clone(),
        }
    }
}

/// Hex of the first 128 bits of a SHA-256 over what identifies the
/// transition, NUL-separated (empty parts left out): retries of one
/// transition share it, and so do its deliveries after a restart that
/// restored the rule's state.
pub(super) fn idempotency_key(parts: &[&str], status: AlertStatus, at: DateTime<Utc>) -> String {
    let at = at.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let mut hash = Sha256::new();
    let parts = parts.iter().copied().filter(|p| !p.is_empty());
    for part in parts.chain([status.as_str(), at.as_str()]) {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize()[..16]
        .iter()
        .fold(String::with_capacity(32), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The deciding tests that drifted, among those `wanted` (a feature
/// alert's: its feature's deciding test and the one its rule reads, drifted
/// or not), most drifted first.
fn drifted_features(
    report: &WindowReport,
    wanted: impl Fn(&FeatureReport, &TestReport) -> bool,
) -> Vec<DriftedFeature> {
    let mut drifted: Vec<(f64, DriftedFeature)> = subject::judged_tests(&report.report)
        .filter(|(f, t)| wanted(f, t))
        .map(|(f, t)| (excess(t), drifted_feature(f, t)))
        .collect();
    drifted.sort_by(|(a, _), (b, _)| b.total_cmp(a));
    drifted.into_iter().map(|(_, d)| d).collect()
}

/// A deciding test that drifted.
fn drifted(test: &TestReport) -> bool {
    test.decisive && test.drifted == Some(true)
}

fn drifted_feature(feature: &FeatureReport, test: &TestReport) -> DriftedFeature {
    DriftedFeature {
        name: subject::name(feature, test).into_owned(),
        test: test.test,
        statistic: test.statistic,
        p_value: deciding_p_value(test),
        threshold: test.threshold,
    }
}

fn deciding_p_value(test: &TestReport) -> Option<f64> {
    test.p_value_adjusted.or(test.p_value)
}

/// How far past its threshold a test is, as a ratio (> 1 for drift), so
/// that distances and p-values rank on one scale.
fn excess(test: &TestReport) -> f64 {
    let ratio = if test.test.is_p_value() {
        deciding_p_value(test).map(|p| test.threshold / p)
    } else {
        test.statistic.map(|s| s / test.threshold)
    };
    ratio.filter(|r| !r.is_nan()).unwrap_or(f64::INFINITY)
}
