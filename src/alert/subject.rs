//! Reading a rule's subject from a report, and naming a feature's tests the
//! way rules and alerts name them (`column`, or `column:descriptor` for a
//! text descriptor).

use crate::config::Subject;
use crate::detect::{FeatureReport, Report, Status, TestName, TestReport};
use std::borrow::Cow;

/// The subject's value in the report, or `None` when the report cannot
/// say (see the module documentation of [`crate::alert`]).
pub(super) fn observe(subject: &Subject, report: &Report) -> Option<f64> {
    let judged = report.evaluated_features > 0;
    match subject {
        Subject::DriftShare => judged.then_some(report.drift_share),
        Subject::DriftedFeatures => judged.then_some(report.drifted_features as f64),
        Subject::Statistic { feature, test } => find_test(report, feature, *test)?.statistic,
        Subject::PValue { feature, test } => find_test(report, feature, *test)?.p_value,
    }
}

/// The test `test` on the feature (or text descriptor) named `feature`,
/// when that feature was judged.
fn find_test<'r>(report: &'r Report, feature: &str, test: TestName) -> Option<&'r TestReport> {
    judged_tests(report)
        .find(|(f, t)| t.test == test && names(f, t, feature))
        .map(|(_, t)| t)
}

/// Every test of every judged feature, with its feature.
pub(super) fn judged_tests(report: &Report) -> impl Iterator<Item = (&FeatureReport, &TestReport)> {
    report
        .features
        .iter()
        .filter(|f| f.status == Status::Ok)
        .flat_map(|f| f.tests.iter().map(move |t| (f, t)))
}

/// The name of what a test measured: the feature's, or
/// `column:descriptor` for a text descriptor.
pub(super) fn name<'r>(feature: &'r FeatureReport, test: &TestReport) -> Cow<'r, str> {
    match test.descriptor {
        None => Cow::Borrowed(&feature.name),
        Some(d) => Cow::Owned(format!("{}:{d}", feature.name)),
    }
}

/// Whether [`name`] of the feature's test is `wanted`, without building it.
fn names(feature: &FeatureReport, test: &TestReport, wanted: &str) -> bool {
    match test.descriptor {
        None => feature.name == wanted,
        Some(d) => wanted
            .strip_suffix(d)
            .and_then(|column| column.strip_suffix(':'))
            .is_some_and(|column| column == feature.name),
    }
}
