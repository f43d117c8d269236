//! `two_proportion_ztest.json`: every case, every result key.
mod common;

use common::{ABS, P_REL, STAT_REL, assert_close, load_cases, num};
use driftwatch::stats::Alternative;
use driftwatch::stats::ztest::{evidently_z_test_pvalue, two_proportion_ztest};

#[test]
fn two_proportion_ztest_vectors() {
    for case in load_cases("two_proportion_ztest") {
        let id = case["id"].as_str().unwrap();
        let input = |k: &str| num(&case["inputs"][k]);
        let (x1, n1, x2, n2) = (input("x1"), input("n1"), input("x2"), input("n2"));
        let test = |alt| two_proportion_ztest(x1, n1, x2, n2, alt).unwrap();
        let two_sided = test(Alternative::TwoSided);
        let evidently = evidently_z_test_pvalue(x1, n1, x2, n2).unwrap();
        // Pooled proportion 0 or 1: scipy's formula gives nan everywhere; we
        // document z = 0, p = 1 for every alternative (as Evidently's p = 1).
        let degenerate =
            num(&case["results"]["pooled_p"]) == 0.0 || num(&case["results"]["pooled_p"]) == 1.0;
        for (key, want) in case["results"].as_object().unwrap() {
            let context = format!("{id} {key}");
            let want = num(want);
            let (got, rel) = match key.as_str() {
                "p1" => (x1 / n1, STAT_REL),
                "p2" => (x2 / n2, STAT_REL),
                "pooled_p" => ((x1 + x2) / (n1 + n2), STAT_REL),
                "z" => (two_sided.z, STAT_REL),
                "pvalue_two_sided_sf_form" => (two_sided.p_value, P_REL),
                "pvalue_less" => (test(Alternative::Less).p_value, P_REL),
                "pvalue_greater" => (test(Alternative::Greater).p_value, P_REL),
                "pvalue_two_sided_evidently_form" | "evidently_z_test_pvalue" => (evidently, P_REL),
                other => panic!("{id}: unchecked result key {other}"),
            };
            if degenerate && want.is_nan() {
                let documented = if key == "z" { 0.0 } else { 1.0 };
                assert_eq!(got, documented, "{context}: documented degenerate value");
            } else {
                assert_close(got, want, rel, ABS, &context);
            }
        }
    }
}

/// The sf form keeps precision where Evidently's 1 − Φ cancels: in
/// `small_diff_large_n` the two differ by ~1.3e-8 relative, and only the sf
/// form agrees with `pvalue_less` doubled.
#[test]
fn sf_form_is_the_precise_one() {
    let t = two_proportion_ztest(500000.0, 1e6, 51000.0, 1e5, Alternative::TwoSided).unwrap();
    let e = evidently_z_test_pvalue(500000.0, 1e6, 51000.0, 1e5).unwrap();
    let less = two_proportion_ztest(500000.0, 1e6, 51000.0, 1e5, Alternative::Less).unwrap();
    assert_close(t.p_value, 2.0 * less.p_value, 1e-15, 0.0, "sf form");
    assert!((e - t.p_value).abs() > 1e-9 * t.p_value);
}
