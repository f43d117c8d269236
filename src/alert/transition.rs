//! A rule's transition (it fired, or it resolved) as plain data: what
//! notifiers send. Its JSON form is the generic webhook's body.

use super::subject;
use crate::config::{RuleConfig, Severity};
use crate::detect::{FeatureReport, TestName, TestReport, WindowReport, WindowSpan};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt::Write;

/// Whether a transition starts or ends an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// A rule that started firing or resolved, with the window that made it so.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub status: AlertStatus,
    /// The rule's name.
    pub rule: String,
    pub model: String,
    #[serde(serialize_with = "severity_name")]
    pub severity: Severity,
    /// The rule's condition as written (`drift_share >= 0.5`).
    pub condition: String,
    /// The condition's subject in the window.
    pub observed: f64,
    /// When the alert began firing: the end of the window that made it fire.
    pub started_at: DateTime<Utc>,
    /// When it resolved: the end of the window that resolved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The window that caused the transition.
    pub window: WindowSpan,
    /// The features whose deciding tests drifted in that window, most
    /// drifted first.
    pub features: Vec<DriftedFeature>,
    /// The same for every delivery (and retry) of this transition, and
    /// different for any other: receivers deduplicate by it.
    pub idempotency_key: String,
    /// The notifiers that must hear of it, by name.
    #[serde(skip)]
    pub notifiers: Vec<String>,
}

/// A deciding test that drifted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftedFeature {
    /// The feature, or `column:descriptor` for a text descriptor.
    pub name: String,
    pub test: TestName,
    pub statistic: Option<f64>,
    /// The p-value that decided (after the multiple-testing correction when
    /// one applies), for p-value tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Drift when the statistic ≥ it (distances) or the p-value < it.
    pub threshold: f64,
}

impl Transition {
    /// The transition of `rule` caused by `report`, in which its subject
    /// was `observed`.
    pub(super) fn new(
        rule: &RuleConfig,
        status: AlertStatus,
        started_at: DateTime<Utc>,
        ended_at: Option<DateTime<Utc>>,
        observed: f64,
        report: &WindowReport,
    ) -> Transition {
        Transition {
            status,
            rule: rule.name.clone(),
            model: rule.model.clone(),
            severity: rule.severity,
            condition: rule.when.to_string(),
            observed,
            started_at,
            ended_at,
            window: report.window,
            features: drifted_features(report),
            idempotency_key: idempotency_key(rule, status, started_at),
            notifiers: rule.notify.clone(),
        }
    }
}

fn severity_name<S: Serializer>(severity: &Severity, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(severity.as_str())
}

/// Hex of the first 128 bits of a SHA-256 over what identifies the
/// transition, NUL-separated: retries of one transition share it, and so
/// do its deliveries after a restart that restored the rule's state.
fn idempotency_key(rule: &RuleConfig, status: AlertStatus, started_at: DateTime<Utc>) -> String {
    let started_at = started_at.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let mut hash = Sha256::new();
    for part in [&rule.name, &rule.model, status.as_str(), &started_at] {
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

/// The deciding tests that drifted, most drifted first.
fn drifted_features(report: &WindowReport) -> Vec<DriftedFeature> {
    let mut drifted: Vec<(f64, DriftedFeature)> = subject::judged_tests(&report.report)
        .filter(|(_, t)| t.decisive && t.drifted == Some(true))
        .map(|(f, t)| (excess(t), drifted_feature(f, t)))
        .collect();
    drifted.sort_by(|(a, _), (b, _)| b.total_cmp(a));
    drifted.into_iter().map(|(_, d)| d).collect()
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
