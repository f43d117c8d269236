//! A baseline too large to keep whole holds a quantile summary; `report`
//! against it stays within the documented bound of the exact answer: the
//! KS statistic within the stored `rank_error` (≤ 1e-3), the normed
//! Wasserstein distance and PSI close to their exact values, and the rank
//! tests refuse with an error that says how to get them. The exact answer
//! comes from a second baseline of the same file built with a large
//! `--exact-limit` (whose report `tests/report_vs_scipy.rs` ties to scipy).

mod support;

use serde_json::Value;
use std::fmt::Write as _;
use std::fs;
use support::{build_baseline, report_json};

/// Deterministic skewed values: a lognormal-ish transform of a xorshift
/// stream, so ties are rare and the tails are long.
fn values(n: usize, seed: u64, shift: f64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            ((u * 6.0 - 3.0).exp() + shift) * 1000.0
        })
        .collect()
}

fn write_csv(path: &std::path::Path, xs: &[f64]) {
    let mut text = String::from("x\n");
    for x in xs {
        let _ = writeln!(text, "{x:.6}");
    }
    fs::write(path, text).unwrap();
}

fn test<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["features"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["test"] == name)
        .unwrap()
}

#[test]
fn summary_report_is_within_the_bound_of_the_exact_one() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = (
        dir.path().join("reference.csv"),
        dir.path().join("current.csv"),
    );
    write_csv(&reference, &values(150_000, 7, 0.0));
    write_csv(&current, &values(20_000, 11, 0.02));
    let summary_dir = dir.path().join("summary");
    let exact_dir = dir.path().join("exact");
    fs::create_dir_all(&summary_dir).unwrap();
    fs::create_dir_all(&exact_dir).unwrap();
    let summary = build_baseline(&summary_dir, &reference, &[]);
    let exact = build_baseline(&exact_dir, &reference, &["--exact-limit", "200000"]);
    let b: Value = serde_json::from_str(&fs::read_to_string(&summary).unwrap()).unwrap();
    let stored = &b["columns"][0]["profile"]["stats"]["reference"];
    assert_eq!(stored["form"], "quantiles");
    let rank_error = stored["data"]["rank_error"].as_f64().unwrap();
    assert!(rank_error <= 1e-3, "rank error bound {rank_error}");

    let tests = ["--tests", "ks,wasserstein,psi,anderson"];
    let approx = report_json(&summary, &current, &tests);
    let truth = report_json(&exact, &current, &tests);
    let stat = |r: &Value, t: &str| test(r, t)["statistic"].as_f64().unwrap();

    let ks_err = (stat(&approx, "ks") - stat(&truth, "ks")).abs();
    assert!(
        ks_err <= rank_error,
        "KS off by {ks_err}, bound {rank_error}"
    );
    let w_rel = (stat(&approx, "wasserstein") / stat(&truth, "wasserstein") - 1.0).abs();
    assert!(w_rel <= 1e-2, "Wasserstein off by {w_rel} relative");
    let psi_err = (stat(&approx, "psi") - stat(&truth, "psi")).abs();
    assert!(psi_err <= 1e-3, "PSI off by {psi_err}");
    assert_eq!(
        test(&approx, "ks")["drifted"],
        test(&truth, "ks")["drifted"]
    );

    let refused = test(&approx, "anderson");
    assert!(refused["drifted"].is_null());
    assert!(
        refused["error"].as_str().unwrap().contains("--exact-limit"),
        "{refused}"
    );
    assert!(test(&truth, "anderson")["statistic"].is_number());
}
