//! `stats::ks` against `ks_2samp.json` (scipy 1.17): every case, every
//! `ALT/METHOD` key, every result field.

mod common;

use common::{ABS, P_REL, STAT_REL, alternative, assert_close, load_cases, num, nums};
use driftwatch::stats::ks::{KsMethod, ks_2samp, ks_p_value, ks_statistic_weighted};
use serde_json::Value;

fn method(name: &str) -> KsMethod {
    match name {
        "auto" => KsMethod::Auto,
        "exact" => KsMethod::Exact,
        "asymp" => KsMethod::Asymp,
        other => panic!("unknown method {other}"),
    }
}

/// Checks one `ALT/METHOD` result of a case.
fn check_result(id: &str, key: &str, x: &[f64], y: &[f64], want: &Value) {
    let (alt, meth) = key.split_once('/').expect("key is ALT/METHOD");
    let (alt, meth) = (alternative(alt), method(meth));
    let ctx = format!("{id} {key}");
    let got = ks_2samp(x, y, alt, meth).unwrap_or_else(|e| panic!("{ctx}: {e}"));

    let fields: Vec<&str> = want
        .as_object()
        .expect("result is an object")
        .keys()
        .map(String::as_str)
        .collect();
    for field in fields {
        let w = &want[field];
        match field {
            "statistic" => assert_close(got.statistic, num(w), STAT_REL, ABS, &ctx),
            "pvalue" => assert_close(got.p_value, num(w), P_REL, ABS, &ctx),
            "statistic_location" => {
                assert_eq!(got.statistic_location, num(w), "{ctx}: location")
            }
            "statistic_sign" => assert_eq!(
                i64::from(got.statistic_sign),
                w.as_i64().expect("sign"),
                "{ctx}: sign"
            ),
            "method_used" => assert_eq!(
                got.method_used,
                method(w.as_str().expect("method")),
                "{ctx}: method_used"
            ),
            // Python warnings: the fallback they announce is in method_used.
            "warnings" => {}
            other => panic!("{ctx}: unchecked result field {other}"),
        }
    }
}

#[test]
fn ks_2samp_matches_scipy() {
    let mut checked = 0;
    for case in load_cases("ks_2samp") {
        let id = case["id"].as_str().expect("id");
        let x = nums(&case["inputs"]["x"]);
        let y = nums(&case["inputs"]["y"]);
        for (key, want) in case["results"].as_object().expect("results") {
            check_result(id, key, &x, &y, want);
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} results checked");
}

/// `ks_p_value` on the raw statistic gives the same p-value and method as the
/// full test (the raw statistic is the one the `asymp` keys record).
#[test]
fn p_value_only_matches_scipy() {
    for case in load_cases("ks_2samp") {
        let id = case["id"].as_str().expect("id");
        let (n, m) = (
            case["inputs"]["x"].as_array().expect("x").len(),
            case["inputs"]["y"].as_array().expect("y").len(),
        );
        let results = &case["results"];
        for (key, want) in results.as_object().expect("results") {
            let (alt, meth) = key.split_once('/').expect("key");
            let raw = num(&results[format!("{alt}/asymp")]["statistic"]);
            let (p, used) = ks_p_value(raw, n, m, alternative(alt), method(meth));
            let ctx = format!("{id} {key} (p-value only)");
            assert_close(p, num(&want["pvalue"]), P_REL, ABS, &ctx);
            assert_eq!(
                used,
                method(want["method_used"].as_str().expect("m")),
                "{ctx}"
            );
        }
    }
}

/// With unit weights the weighted statistic is scipy's raw two-sided one.
#[test]
fn unit_weighted_statistic_matches_scipy() {
    for case in load_cases("ks_2samp") {
        let id = case["id"].as_str().expect("id");
        let mut x = nums(&case["inputs"]["x"]);
        x.sort_by(f64::total_cmp);
        let y = nums(&case["inputs"]["y"]);
        let want = num(&case["results"]["two-sided/asymp"]["statistic"]);
        let got = ks_statistic_weighted(&x, &vec![1.0; x.len()], &y).expect("valid");
        assert_eq!(got, want.abs(), "{id}");
    }
}
