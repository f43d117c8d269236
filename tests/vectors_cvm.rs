//! `stats::cvm` against `cramervonmises_2samp.json` (scipy 1.17): every case,
//! every method key, every result field.

mod common;

use common::{ABS, P_REL, STAT_REL, assert_close, load_cases, num, nums};
use driftwatch::stats::StatsError;
use driftwatch::stats::cvm::{CvmMethod, cramervonmises_2samp};

fn method(name: &str) -> CvmMethod {
    match name {
        "auto" => CvmMethod::Auto,
        "exact" => CvmMethod::Exact,
        "asymptotic" => CvmMethod::Asymptotic,
        other => panic!("unknown method {other}"),
    }
}

/// The method `Auto` resolves to, by scipy's rule (exact when max(n) <= 20).
fn resolved(requested: CvmMethod, n: usize, m: usize) -> CvmMethod {
    match requested {
        CvmMethod::Auto if n.max(m) <= 20 => CvmMethod::Exact,
        CvmMethod::Auto => CvmMethod::Asymptotic,
        other => other,
    }
}

#[test]
fn cramervonmises_2samp_matches_scipy() {
    let mut checked = 0;
    for case in load_cases("cramervonmises_2samp") {
        let id = case["id"].as_str().expect("id");
        let x = nums(&case["inputs"]["x"]);
        let y = nums(&case["inputs"]["y"]);
        for (key, want) in case["results"].as_object().expect("results") {
            let ctx = format!("{id} {key}");
            let requested = method(key);
            let got = cramervonmises_2samp(&x, &y, requested);
            let used = want["method_used"].as_str().expect("method_used");
            assert_eq!(resolved(requested, x.len(), y.len()), method(used), "{ctx}");
            let statistic = num(&want["statistic"]);
            if statistic.is_nan() {
                // scipy's NaN (with a warning) for a sample under 2 values.
                assert!(num(&want["pvalue"]).is_nan(), "{ctx}");
                assert!(
                    matches!(got, Err(StatsError::TooSmall { need: 2, .. })),
                    "{ctx}: {got:?}"
                );
            } else {
                let got = got.unwrap_or_else(|e| panic!("{ctx}: {e}"));
                assert_close(got.statistic, statistic, STAT_REL, ABS, &ctx);
                assert_close(got.p_value, num(&want["pvalue"]), P_REL, ABS, &ctx);
                assert_eq!(want["warnings"].as_array().map(Vec::len), Some(0), "{ctx}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} results checked");
}
