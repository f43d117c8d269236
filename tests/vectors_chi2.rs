//! `chi2_contingency.json`: every case, every result key.
mod common;

use common::{ABS, P_REL, STAT_REL, assert_close, load_cases, num, nums};
use driftwatch::stats::StatsError;
use driftwatch::stats::chi2::{Chi2Outcome, chi2_goodness_of_fit, chi2_homogeneity};
use serde_json::Value;

/// Checks one scipy result object against our outcome.
fn check(got: &Chi2Outcome, want: &Value, context: &str) {
    for (key, value) in want.as_object().expect("result object") {
        match key.as_str() {
            "statistic" => assert_close(got.statistic, num(value), STAT_REL, ABS, context),
            "pvalue" => assert_close(got.p_value, num(value), P_REL, ABS, context),
            "dof" => assert_eq!(got.dof as u64, value.as_u64().unwrap(), "{context}"),
            // Descriptive text and scipy's (empty) warnings list.
            "function" => {}
            "warnings" => assert_eq!(value.as_array().unwrap().len(), 0, "{context}"),
            // Not part of our API; see `check_expected_freq`.
            "expected_freq" => {}
            other => panic!("{context}: unchecked result key {other}"),
        }
    }
}

/// scipy's expected frequencies are the E = row total · column total / N
/// that `chi2_homogeneity` documents and uses; our API does not return them,
/// so this confirms the vectors follow that formula.
fn check_expected_freq(reference: &[f64], current: &[f64], want: &Value, context: &str) {
    let rows = [reference, current];
    let total: f64 = reference.iter().chain(current).sum();
    for (row, want_row) in rows.iter().zip(want.as_array().unwrap()) {
        let row_total: f64 = row.iter().sum();
        for (j, w) in nums(want_row).into_iter().enumerate() {
            let expected = row_total * (reference[j] + current[j]) / total;
            assert_close(expected, w, STAT_REL, ABS, context);
        }
    }
}

#[test]
fn chi2_contingency_vectors() {
    for case in load_cases("chi2_contingency") {
        let id = case["id"].as_str().unwrap();
        let reference = nums(&case["inputs"]["reference_counts"]);
        let current = nums(&case["inputs"]["current_counts"]);
        for (key, want) in case["results"].as_object().unwrap() {
            let context = format!("{id} {key}");
            let got = match key.as_str() {
                "correction=True" => chi2_homogeneity(&reference, &current, true),
                "correction=False" => chi2_homogeneity(&reference, &current, false),
                "goodness_of_fit" => chi2_goodness_of_fit(&reference, &current),
                other => panic!("{id}: unchecked result key {other}"),
            };
            if want.get("error").is_some() {
                // scipy raises on a category that is zero on both sides; we
                // drop it, and must then agree with scipy on the reduced table.
                check_dropped_category(&reference, &current, key == "correction=True", &context);
                continue;
            }
            let got = got.unwrap_or_else(|e| panic!("{context}: {e}"));
            check(&got, want, &context);
            if let Some(expected) = want.get("expected_freq") {
                check_expected_freq(&reference, &current, expected, &context);
            }
        }
    }
}

/// The all-zero-column case: our result equals the test on the table without
/// that column (which scipy accepts), and the dof counts only kept columns.
fn check_dropped_category(reference: &[f64], current: &[f64], correction: bool, context: &str) {
    let keep: Vec<usize> = (0..reference.len())
        .filter(|&j| reference[j] + current[j] > 0.0)
        .collect();
    assert!(
        keep.len() < reference.len(),
        "{context}: no all-zero column"
    );
    let r: Vec<f64> = keep.iter().map(|&j| reference[j]).collect();
    let c: Vec<f64> = keep.iter().map(|&j| current[j]).collect();
    let got = chi2_homogeneity(reference, current, correction).unwrap();
    assert_eq!(
        got,
        chi2_homogeneity(&r, &c, correction).unwrap(),
        "{context}"
    );
    assert_eq!(got.dof, keep.len() - 1, "{context}");
}

/// scipy's value on the reduced table of `k3_all_zero_column_error`
/// ([10, 5] vs [3, 4]), from scipy 1.17.1:
/// `chi2_contingency([[10, 5], [3, 4]], correction=C)`.
#[test]
fn dropped_category_matches_scipy_on_the_reduced_table() {
    let corrected = chi2_homogeneity(&[10.0, 0.0, 5.0], &[3.0, 0.0, 4.0], true).unwrap();
    assert_close(corrected.statistic, REDUCED_YATES.0, STAT_REL, ABS, "yates");
    assert_close(corrected.p_value, REDUCED_YATES.1, P_REL, ABS, "yates");
    let plain = chi2_homogeneity(&[10.0, 0.0, 5.0], &[3.0, 0.0, 4.0], false).unwrap();
    assert_close(plain.statistic, REDUCED_PLAIN.0, STAT_REL, ABS, "plain");
    assert_close(plain.p_value, REDUCED_PLAIN.1, P_REL, ABS, "plain");
}

#[test]
fn fewer_than_two_categories_is_an_error() {
    assert!(matches!(
        chi2_homogeneity(&[5.0, 0.0], &[3.0, 0.0], true),
        Err(StatsError::TooSmall { got: 1, .. })
    ));
}

const REDUCED_YATES: (f64, f64) = (0.3509971509971511, 0.5535492091489441);
const REDUCED_PLAIN: (f64, f64) = (1.1192511192511194, 0.2900797644815031);
