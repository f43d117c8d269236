//! Reading a rule's subject from a report, alert by alert, and naming a
//! feature's tests the way rules and alerts name them (`column`, or
//! `column:descriptor` for a text descriptor).
//!
//! A window rule has one alert, keyed `""`; a feature rule one per feature
//! it watches, keyed by the feature's name. An alert the report cannot say
//! anything of (see [`crate::alert`]) is left out of the readings.

use super::state::Reading;
use crate::config::condition::EVERY_FEATURE;
use crate::config::condition::QualityRead;
use crate::config::{Condition, RuleConfig, Scope, Subject};
use crate::detect::{FeatureReport, Performance, Report, Status, TestReport, WindowReport};
use crate::quality::{Metric, QualityStatus, estimated};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The key of a window rule's one alert.
pub(super) const WINDOW_ALERT: &str = "";

/// Each alert of `rule` that the report can judge, with its reading. The
/// exit condition is read on the same feature as `when` (a window rule's
/// `resolve_when` may name another feature: it is read wherever it is).
pub(super) fn readings(rule: &RuleConfig, report: &WindowReport) -> BTreeMap<String, Reading> {
    let exits = rule.resolve_when.as_ref().map(|c| observe(c, report));
    let window_rule = rule.scope == Scope::Window;
    observe(&rule.when, report)
        .into_iter()
        .map(|(feature, observed)| {
            let breached = rule.when.holds(observed);
            let clean = match (&exits, &rule.resolve_when) {
                (Some(exits), Some(exit)) => {
                    let value = match window_rule {
                        true => exits.values().next(),
                        false => exits.get(&feature),
                    };
                    value.is_some_and(|v| exit.holds(*v))
                }
                _ => !breached,
            };
            let reading = Reading {
                observed,
                breached,
                clean,
            };
            // A window rule on one feature's test still has one alert.
            let key = if window_rule {
                WINDOW_ALERT.to_owned()
            } else {
                feature
            };
            (key, reading)
        })
        .collect()
}

/// The condition's subject in the report, by alert key.
fn observe(condition: &Condition, window: &WindowReport) -> BTreeMap<String, f64> {
    let report = &window.report;
    let judged = report.evaluated_features > 0;
    match &condition.subject {
        Subject::DriftShare if judged => window_value(report.drift_share),
        Subject::DriftedFeatures if judged => window_value(report.drifted_features as f64),
        Subject::DriftShare | Subject::DriftedFeatures => BTreeMap::new(),
        Subject::Statistic { feature, test } => by_feature(report, feature, |t| {
            (t.test == *test).then_some(t.statistic).flatten()
        }),
        Subject::PValue { feature, test } => by_feature(report, feature, |t| {
            (t.test == *test).then_some(t.p_value).flatten()
        }),
        Subject::Drifted { feature } => by_feature(report, feature, |t| {
            t.decisive
                .then_some(t.drifted)
                .flatten()
                .map(|d| f64::from(u8::from(d)))
        }),
        Subject::Quality { metric, read } => {
            quality(&window.performance, *metric, *read).map_or_else(BTreeMap::new, window_value)
        }
        Subject::Operational { key, stat } => (window.performance.metrics.get(key))
            .and_then(|s| s.get(stat))
            .filter(|v| v.is_finite())
            .map_or_else(BTreeMap::new, window_value),
    }
}

/// A quality subject's value, when the report can say: from a labelled
/// window with enough labels, or (`estimate`) from a drift window's
/// estimate.
fn quality(performance: &Performance, metric: Metric, read: QualityRead) -> Option<f64> {
    if read == QualityRead::Estimate {
        return performance
            .estimate
            .as_ref()
            .and_then(|e| estimated(e, metric));
    }
    let report = performance.quality.as_ref()?;
    if report.status != QualityStatus::Ok {
        return None;
    }
    let m = report.metric(metric)?;
    let value = match read {
        QualityRead::Value => m.value,
        QualityRead::Drop => m.drop,
        QualityRead::DropLower => m.drop_lower,
        QualityRead::Low => m.low,
        QualityRead::High => m.high,
        QualityRead::Degraded => m.degraded.map(|d| f64::from(u8::from(d))),
        QualityRead::Estimate => None,
    };
    value.filter(|v| v.is_finite())
}

/// The one reading of a window subject.
fn window_value(v: f64) -> BTreeMap<String, f64> {
    BTreeMap::from([(WINDOW_ALERT.to_owned(), v)])
}

/// `value` of each judged test of `feature` (every feature for `*`) that
/// has one, finite, keyed by the feature's name.
fn by_feature(
    report: &Report,
    feature: &str,
    value: impl Fn(&TestReport) -> Option<f64>,
) -> BTreeMap<String, f64> {
    judged_tests(report)
        .filter(|(f, t)| feature == EVERY_FEATURE || names(f, t, feature))
        .filter_map(|(f, t)| {
            let v = value(t).filter(|v| v.is_finite())?;
            Some((name(f, t).into_owned(), v))
        })
        .collect()
}

/// Every test of every judged feature, with its feature.
pub(super) fn judged_tests(report: &Report) -> impl Iterator<Item = (&FeatureReport, &TestReport)> {
    report
        .features
        .iter()
        .filter(|f| f.status == Status::Ok)
        .flat_map(|f| f.tests.iter().map(move |t| (f, t)))
        .filter(|(_, t)| t.error.is_none())
}

/// The name of what a test measured: the feature's, or
/// `column:descriptor` for a text descriptor.
pub(super) fn name<'r>(feature: &'r FeatureReport, test: &TestReport) -> Cow<'r, str> {
    match test.descriptor.as_deref() {
        None => Cow::Borrowed(&feature.name),
        Some(d) => Cow::Owned(format!("{}:{d}", feature.name)),
    }
}

/// Whether [`name`] of the feature's test is `wanted`, without building it.
fn names(feature: &FeatureReport, test: &TestReport, wanted: &str) -> bool {
    match test.descriptor.as_deref() {
        None => feature.name == wanted,
        Some(d) => wanted
            .strip_suffix(d)
            .and_then(|column| column.strip_suffix(':'))
            .is_some_and(|column| column == feature.name),
    }
}
