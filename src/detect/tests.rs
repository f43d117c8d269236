//! Tests of whole reports: per-feature overrides, and the listing of the
//! tests a report holds against what `detect` produces.

use super::*;
use crate::baseline::profile::{NumericAccumulator, ProfileLimits};
use crate::baseline::{FORMAT_NAME, FORMAT_VERSION, Source};
use crate::report::read_sample;
use crate::schema::TEXT_DESCRIPTORS;
use std::collections::HashMap;
use std::path::Path;

/// A baseline of numeric columns, each profiled from its reference values.
fn numeric_baseline(columns: &[(&str, &[f64])]) -> Baseline {
    let limits = ProfileLimits::default();
    let column = |(name, values): &(&str, &[f64])| {
        let mut acc = NumericAccumulator::new(&limits);
        values.iter().for_each(|x| acc.add(*x));
        Column {
            name: (*name).to_owned(),
            count: values.len() as u64,
            missing: 0,
            profile: Profile::Numeric(acc.finish(&limits).expect("values")),
        }
    };
    Baseline {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        model: "m".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        source: Source {
            file: "x.csv".into(),
            sha256: "0".repeat(64),
            format: "csv".into(),
        },
        rows: columns[0].1.len() as u64,
        columns: columns.iter().map(column).collect(),
        quality: None,
    }
}

fn numeric_sample(columns: &[&[f64]]) -> Sample {
    Sample {
        rows: columns[0].len() as u64,
        columns: (columns.iter())
            .map(|v| ColumnSample {
                missing: 0,
                values: Values::Numeric(v.to_vec()),
            })
            .collect(),
    }
}

/// Columns `a` and `b` both hold 0..200 in the reference and the same
/// values + 15 in the current sample.
fn shifted() -> (Baseline, Sample) {
    let reference: Vec<f64> = (0..200).map(f64::from).collect();
    let current: Vec<f64> = reference.iter().map(|x| x + 15.0).collect();
    let baseline = numeric_baseline(&[("a", &reference), ("b", &reference)]);
    (baseline, numeric_sample(&[&current, &current]))
}

fn overriding(feature: &str, overrides: FeatureOptions, global: DetectOptions) -> DetectOptions {
    DetectOptions {
        features: HashMap::from([(feature.to_owned(), overrides)]),
        ..global
    }
}

fn feature<'r>(report: &'r Report, name: &str) -> &'r FeatureReport {
    report.features.iter().find(|f| f.name == name).unwrap()
}

fn tests_of(report: &Report, name: &str) -> Vec<(TestName, bool)> {
    let tests = feature(report, name).tests.iter();
    tests.map(|t| (t.test, t.decisive)).collect()
}

fn psi_of<'r>(report: &'r Report, name: &str) -> &'r TestReport {
    let mut tests = feature(report, name).tests.iter();
    tests.find(|t| t.test == TestName::Psi).unwrap()
}

#[test]
fn a_feature_test_list_replaces_the_default_for_that_feature_only() {
    let (baseline, sample) = shifted();
    let only_wasserstein = FeatureOptions {
        tests: Some(vec![TestName::Wasserstein]),
        ..FeatureOptions::default()
    };
    let options = overriding("a", only_wasserstein, DetectOptions::default());
    let report = detect(&baseline, &sample, &options);
    assert_eq!(tests_of(&report, "a"), [(TestName::Wasserstein, true)]);
    assert_eq!(
        tests_of(&report, "b"),
        [(TestName::Ks, true), (TestName::Psi, false)]
    );
}

#[test]
fn a_feature_test_list_replaces_the_global_one_too() {
    let (baseline, sample) = shifted();
    let only_psi = FeatureOptions {
        tests: Some(vec![TestName::Psi]),
        ..FeatureOptions::default()
    };
    let global = DetectOptions {
        tests: Some(vec![TestName::Ks]),
        ..DetectOptions::default()
    };
    let report = detect(&baseline, &sample, &overriding("b", only_psi, global));
    assert_eq!(tests_of(&report, "a"), [(TestName::Ks, true)]);
    assert_eq!(tests_of(&report, "b"), [(TestName::Psi, true)]);
}

#[test]
fn a_feature_threshold_changes_its_verdict() {
    let (baseline, sample) = shifted();
    let lenient = FeatureOptions {
        thresholds: HashMap::from([(TestName::Psi, 0.2)]),
        ..FeatureOptions::default()
    };
    let global = DetectOptions {
        tests: Some(vec![TestName::Psi]),
        ..DetectOptions::default()
    };
    let report = detect(&baseline, &sample, &overriding("a", lenient, global));
    let (a, b) = (psi_of(&report, "a"), psi_of(&report, "b"));
    assert_eq!(a.statistic, b.statistic);
    assert_eq!((a.threshold, a.drifted), (0.2, Some(false)));
    assert_eq!((b.threshold, b.drifted), (0.1, Some(true)));
    assert_eq!(report.drifted_features, 1);
}

#[test]
fn feature_bins_rebin_psi() {
    let (baseline, sample) = shifted();
    let quartiles = FeatureOptions {
        bins: Some(4),
        ..FeatureOptions::default()
    };
    let report = detect(
        &baseline,
        &sample,
        &overriding("a", quartiles, DetectOptions::default()),
    );
    // With r = np.arange(200.0), c = r + 15 and n bins:
    //   edges = np.unique(np.quantile(r, np.linspace(0, 1, n + 1)[1:-1]))
    //   p = np.bincount(np.searchsorted(edges, x, side='right'), minlength=len(edges) + 1) / 200
    //   for x in r and c, zeros → 1e-4, psi = np.sum((p_r - p_c) * np.log(p_r / p_c))
    // numpy 2.4 gives 0.04642794063046677 for n = 4, 0.1459432611791485 for n = 10.
    let (a, b) = (psi_of(&report, "a"), psi_of(&report, "b"));
    assert!((a.statistic.unwrap() - 0.04642794063046677).abs() < 1e-12);
    assert!((b.statistic.unwrap() - 0.1459432611791485).abs() < 1e-12);
}

fn example() -> (Baseline, Sample) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans");
    let baseline = Baseline::load(&dir.join("baseline.json")).unwrap();
    let sample = read_sample(&baseline, &dir.join("current.csv")).unwrap();
    (baseline, sample)
}

/// The tests a report holds, as [`planned_tests`] lists them; a test that
/// ran without error has a p-value exactly when it is listed with one.
fn reported_tests(report: &Report) -> Vec<PlannedTest> {
    let tests = report.features.iter().flat_map(|f| {
        f.tests.iter().map(|t| {
            let p_value = t.test.is_p_value();
            assert!(t.error.is_some() || t.p_value.is_some() == p_value, "{t:?}");
            PlannedTest {
                feature: feature_label(&f.name, t.descriptor.as_deref()),
                test: t.test,
                p_value,
            }
        })
    });
    tests.collect()
}

#[test]
fn planned_tests_agree_with_the_report_on_the_example() {
    let (baseline, sample) = example();
    let every_test = DetectOptions {
        tests: Some(TestName::ALL.to_vec()),
        ..DetectOptions::default()
    };
    let per_feature = DetectOptions {
        features: HashMap::from([
            (
                "notes".to_owned(),
                FeatureOptions {
                    tests: Some(vec![TestName::Psi, TestName::Ks]),
                    bins: Some(20),
                    ..FeatureOptions::default()
                },
            ),
            (
                "region".to_owned(),
                FeatureOptions {
                    tests: Some(vec![TestName::Chi2, TestName::Ks]),
                    ..FeatureOptions::default()
                },
            ),
        ]),
        ..DetectOptions::default()
    };
    for options in [DetectOptions::default(), every_test, per_feature] {
        let report = detect(&baseline, &sample, &options);
        assert!(report.features.iter().all(|f| f.status == Status::Ok));
        assert_eq!(
            planned_tests(&baseline, &options),
            reported_tests(&report),
            "{options:?}"
        );
    }
}

#[test]
fn a_text_feature_override_applies_to_every_descriptor() {
    let (baseline, sample) = example();
    let options = overriding(
        "notes",
        FeatureOptions {
            tests: Some(vec![TestName::Psi]),
            ..FeatureOptions::default()
        },
        DetectOptions::default(),
    );
    let report = detect(&baseline, &sample, &options);
    let notes = feature(&report, "notes");
    let descriptors: Vec<_> = notes
        .tests
        .iter()
        .map(|t| t.descriptor.as_deref())
        .collect();
    assert_eq!(descriptors, TEXT_DESCRIPTORS.map(Some));
    assert!(notes.tests.iter().all(|t| t.test == TestName::Psi));
}
