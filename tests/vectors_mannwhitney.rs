//! `stats::mannwhitney` against `mannwhitneyu.json` (scipy 1.17): every case,
//! every `ALT/METHOD[/continuity]` key, every result field.

mod common;

use common::{ABS, P_REL, STAT_REL, alternative, assert_close, load_cases, num, nums};
use driftwatch::stats::mannwhitney::{MwuMethod, mannwhitneyu};
use serde_json::Value;

fn method(name: &str) -> MwuMethod {
    match name {
        "auto" => MwuMethod::Auto,
        "exact" => MwuMethod::Exact,
        "asymptotic" => MwuMethod::Asymptotic,
        other => panic!("unknown method {other}"),
    }
}

/// Checks one result; keys are `ALT/METHOD` (continuity on, scipy's default)
/// or `ALT/asymptotic/continuity` and `ALT/asymptotic/no_continuity`.
fn check_result(id: &str, key: &str, x: &[f64], y: &[f64], want: &Value) {
    let ctx = format!("{id} {key}");
    let parts: Vec<&str> = key.split('/').collect();
    let (alt, meth) = (alternative(parts[0]), method(parts[1]));
    let continuity = match parts.get(2) {
        None | Some(&"continuity") => true,
        Some(&"no_continuity") => false,
        Some(other) => panic!("{ctx}: unknown flag {other}"),
    };
    let got = mannwhitneyu(x, y, alt, continuity, meth).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    for (field, w) in want.as_object().expect("result is an object") {
        match field.as_str() {
            "statistic_U_x" => assert_close(got.statistic, num(w), STAT_REL, ABS, &ctx),
            "pvalue" => assert_close(got.p_value, num(w), P_REL, ABS, &ctx),
            "use_continuity" => assert_eq!(w.as_bool(), Some(continuity), "{ctx}"),
            "method_used" => {
                // The outcome does not carry the method: check that `Auto`
                // gives exactly what the method scipy chose gives.
                let used = method(w.as_str().expect("method_used"));
                let direct = mannwhitneyu(x, y, alt, continuity, used).expect("valid");
                assert_eq!(got, direct, "{ctx}: auto is not {used:?}");
            }
            other => panic!("{ctx}: unchecked result field {other}"),
        }
    }
}

#[test]
fn mannwhitneyu_matches_scipy() {
    let mut checked = 0;
    for case in load_cases("mannwhitneyu") {
        let id = case["id"].as_str().expect("id");
        let x = nums(&case["inputs"]["x"]);
        let y = nums(&case["inputs"]["y"]);
        for (key, want) in case["results"].as_object().expect("results") {
            check_result(id, key, &x, &y, want);
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} results checked");
}
