//! `stats::anderson` against `anderson_ksamp.json` (scipy 1.17): every case,
//! every variant key, every result field.

mod common;

use common::{ABS, P_REL, STAT_REL, assert_close, load_cases, num, nums};
use driftwatch::stats::anderson::{AndersonVariant, anderson_ksamp};
use serde_json::Value;

fn variant(key: &str) -> AndersonVariant {
    match key {
        // scipy's legacy default (no `variant`) is the midrank statistic.
        "default" | "variant=midrank" => AndersonVariant::Midrank,
        "variant=right" => AndersonVariant::Right,
        "variant=continuous" => AndersonVariant::Continuous,
        other => panic!("unknown variant key {other}"),
    }
}

/// scipy warns when it caps or floors the p-value; the bound must be hit
/// exactly then. Other warnings (the `midrank` deprecation) say nothing
/// about the numbers.
fn check_warnings(ctx: &str, p: f64, warnings: &Value) {
    for w in warnings.as_array().expect("warnings") {
        let w = w.as_str().expect("warning text");
        if w.starts_with("p-value capped") {
            assert_eq!(p, 0.25, "{ctx}");
        } else if w.starts_with("p-value floored") {
            assert_eq!(p, 0.001, "{ctx}");
        }
    }
}

#[test]
fn anderson_ksamp_matches_scipy() {
    let mut checked = 0;
    for case in load_cases("anderson_ksamp") {
        let id = case["id"].as_str().expect("id");
        let samples: Vec<Vec<f64>> = case["inputs"]["samples"]
            .as_array()
            .expect("samples")
            .iter()
            .map(nums)
            .collect();
        let refs: Vec<&[f64]> = samples.iter().map(Vec::as_slice).collect();
        let results = &case["results"];
        for (key, want) in results.as_object().expect("results") {
            let ctx = format!("{id} {key}");
            let got = anderson_ksamp(&refs, variant(key)).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            for (field, w) in want.as_object().expect("result") {
                match field.as_str() {
                    "statistic" => assert_close(got.statistic, num(w), STAT_REL, ABS, &ctx),
                    "pvalue" => assert_close(got.p_value, num(w), P_REL, ABS, &ctx),
                    "critical_values" => {
                        let want = nums(w);
                        assert_eq!(want.len(), 7, "{ctx}");
                        for (g, w) in got.critical_values.iter().zip(want) {
                            assert_close(*g, w, STAT_REL, ABS, &ctx);
                        }
                    }
                    "warnings" => check_warnings(&ctx, got.p_value, w),
                    other => panic!("{ctx}: unchecked result field {other}"),
                }
            }
            // Critical values depend only on k: every variant reports
            // those of scipy's default call.
            let want = nums(&results["default"]["critical_values"]);
            for (g, w) in got.critical_values.iter().zip(want) {
                assert_close(*g, w, STAT_REL, ABS, &ctx);
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} results checked");
}
