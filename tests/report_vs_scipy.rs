//! `report --json` on the bundled loans example agrees with scipy and numpy
//! on the raw columns (`tests/fixtures/loans_scipy.json`, written by
//! `tests/fixtures/loans_scipy.py`): every test on every feature while the
//! baseline holds the exact reference, and the Evidently default rule's
//! choice of test and its statistic.

mod common;
mod support;

use common::assert_close;
use serde_json::Value;
use support::{build_baseline, example, fixture, report_json};

const ALL_TESTS: &str =
    "ks,chi2,ztest,psi,jensenshannon,kl,hellinger,wasserstein,anderson,cvm,mannwhitney";

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("loans_scipy.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The report's tests keyed `feature` or `feature:descriptor`.
fn tests_by_key(report: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for f in report["features"].as_array().unwrap() {
        for t in f["tests"].as_array().unwrap() {
            let key = match t["descriptor"].as_str() {
                Some(d) => format!("{}:{d}", f["name"].as_str().unwrap()),
                None => f["name"].as_str().unwrap().to_string(),
            };
            out.push((key, t));
        }
    }
    out
}

fn find<'a>(tests: &'a [(String, &'a Value)], key: &str, test: &str) -> &'a Value {
    tests
        .iter()
        .find(|(k, t)| k == key && t["test"] == test)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no {test} for {key} in the report"))
}

#[test]
fn every_statistic_agrees_with_scipy_on_the_exact_reference() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = build_baseline(dir.path(), &example("reference.csv"), &[]);
    let report = report_json(&baseline, &example("current.csv"), &["--tests", ALL_TESTS]);
    let tests = tests_by_key(&report);
    let want = expected();
    let mut checked = 0;
    for (key, by_test) in want["features"].as_object().unwrap() {
        for (test, expected) in by_test.as_object().unwrap() {
            let got = find(&tests, key, test);
            let ctx = format!("{key} {test}");
            if expected == "error" {
                assert!(
                    got["error"].is_string(),
                    "{ctx}: scipy raises, we gave {got}"
                );
                continue;
            }
            let stat = got["statistic"]
                .as_f64()
                .unwrap_or_else(|| panic!("{ctx}: {got}"));
            assert_close(stat, expected[0].as_f64().unwrap(), 1e-10, 1e-13, &ctx);
            if let Some(p) = expected[1].as_f64() {
                let got_p = got["p_value"]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{ctx}: no p-value"));
                // scipy computes some tails as 1 - cdf (CvM's asymptotic
                // p-value): their absolute precision is ~1e-15, not better.
                assert_close(got_p, p, 1e-9, 1e-14, &format!("{ctx} p-value"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} statistics checked");
}

#[test]
fn default_rule_picks_evidentlys_test_and_scipys_value() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = build_baseline(dir.path(), &example("reference.csv"), &[]);
    let report = report_json(&baseline, &example("current.csv"), &[]);
    let tests = tests_by_key(&report);
    for (key, choice) in expected()["default"].as_object().unwrap() {
        let (test, value) = (choice[0].as_str().unwrap(), choice[1].as_f64().unwrap());
        let got = find(&tests, key, test);
        assert_eq!(got["decisive"], true, "{key}: {test} decides");
        assert_close(got["statistic"].as_f64().unwrap(), value, 1e-10, 1e-13, key);
        assert_eq!(got["drifted"], value >= 0.1, "{key}");
        let psi = find(&tests, key, "psi");
        assert_eq!(psi["decisive"], false, "{key}: psi is for information");
    }
}
