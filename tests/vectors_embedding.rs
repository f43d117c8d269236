//! `tests/fixtures/embedding_vectors.json` (computed with numpy and scipy by
//! `tests/fixtures/embedding_reference.py`): every case, every result key.
//!
//! Inputs are float32, every sum is float64 on both sides, but numpy sums a
//! row's squared differences pairwise and BLAS orders a dot product its own
//! way, so results agree to rounding, not bit for bit: 1e-12 relative for
//! distances, σ and the variance, 1e-9 relative for p-values (the README's
//! tolerances), and 1e-15 absolute for MMD²_l and the cosine distance, which
//! are differences of O(1) terms that can cancel to near 0.
mod common;

use common::{P_REL, STAT_REL, assert_close, fixture_json, num, nums};
use driftwatch::stats::embedding::{
    Bandwidth, Centroid, EmbeddingError, cosine_distance, euclidean_distance, linear_mmd,
    median_bandwidth,
};
use serde_json::Value;

/// Absolute tolerance for results that are differences of O(1) terms.
const CANCEL_ABS: f64 = 1e-15;

/// Rows of decimals as float32 embeddings, rounded as numpy rounds them
/// (decimal to double to float).
fn rows(v: &Value) -> Vec<Vec<f32>> {
    v.as_array()
        .expect("array of rows")
        .iter()
        .map(|row| nums(row).into_iter().map(|x| x as f32).collect())
        .collect()
}

fn check_case(case: &Value) -> usize {
    let id = case["id"].as_str().unwrap();
    let inputs = &case["inputs"];
    let results = &case["results"];
    let (baseline, window) = (rows(&inputs["baseline"]), rows(&inputs["window"]));
    let want = |key: &str| num(&results[key]);
    let close = |got: f64, key: &str, rel: f64, abs: f64| {
        assert_close(got, want(key), rel, abs, &format!("{id} {key}"))
    };

    let (cb, cw) = (
        Centroid::of(&baseline).unwrap(),
        Centroid::of(&window).unwrap(),
    );
    close(
        euclidean_distance(&cb, &cw).unwrap(),
        "euclidean",
        STAT_REL,
        0.0,
    );
    match (&results["cosine"], cosine_distance(&cb, &cw)) {
        (Value::String(s), Err(EmbeddingError::ZeroNorm { .. })) if s == "undefined" => {}
        (Value::Number(_), Ok(got)) => close(got, "cosine", STAT_REL, CANCEL_ABS),
        (w, got) => panic!("{id} cosine: want {w}, got {got:?}"),
    }

    let median = median_bandwidth(&baseline, &window).unwrap();
    close(median, "median_sigma", STAT_REL, 0.0);
    let bandwidth = match inputs.get("sigma") {
        Some(sigma) => Bandwidth::Fixed(num(sigma)),
        None => Bandwidth::Median,
    };
    let mmd = linear_mmd(&baseline, &window, bandwidth).unwrap();
    close(mmd.sigma, "sigma", STAT_REL, 0.0);
    assert_eq!(mmd.pairs as u64, results["pairs"].as_u64().unwrap(), "{id}");
    close(mmd.mmd2, "mmd2", STAT_REL, CANCEL_ABS);
    close(mmd.variance, "variance", STAT_REL, CANCEL_ABS);
    close(mmd.p_value, "p_value", P_REL, CANCEL_ABS);
    8
}

#[test]
fn embedding_vectors() {
    let doc = fixture_json("embedding_vectors.json");
    assert_eq!(doc["family"], "embedding");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let checked: usize = cases.iter().map(check_case).sum();
    assert!(checked >= 160, "only {checked} results checked");
}
