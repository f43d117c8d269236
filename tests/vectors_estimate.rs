//! `tests/fixtures/estimate_vectors.json` (isotonic fits from scikit-learn,
//! estimates from NannyML, by `tests/fixtures/estimate_reference.py`): every
//! case, every result; and how closely the estimate tracks the realised
//! accuracy of a synthetic stream whose quality is known to drop.
mod common;

use common::{ABS, STAT_REL, assert_close, binary_labels, fixture_json, num, nums};
use driftwatch::stats::quality::classification;
use driftwatch::stats::quality::estimate::{Calibration, estimate};
use serde_json::Value;

fn assert_all_close(got: &[f64], want: &Value, context: &str) {
    let want = nums(want);
    assert_eq!(got.len(), want.len(), "{context}: lengths");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_close(*g, *w, STAT_REL, ABS, &format!("{context}[{i}]"));
    }
}

/// Checks one `calibration` case; returns the number of values compared.
fn check_calibration(id: &str, inputs: &Value, results: &Value) -> usize {
    let fitted =
        Calibration::fit(&binary_labels(&inputs["labels"]), &nums(&inputs["scores"])).unwrap();
    let predictions = fitted.predict(&nums(&inputs["queries"])).unwrap();
    assert_all_close(fitted.x_thresholds(), &results["x_thresholds"], id);
    assert_all_close(fitted.y_thresholds(), &results["y_thresholds"], id);
    assert_all_close(&predictions, &results["predictions"], id);
    fitted.x_thresholds().len() * 2 + predictions.len()
}

/// Checks one `estimate` case; returns the number of values compared.
fn check_estimate(id: &str, inputs: &Value, results: &Value) -> usize {
    let calibration = Calibration::fit(
        &binary_labels(&inputs["reference_labels"]),
        &nums(&inputs["reference_scores"]),
    )
    .unwrap();
    let e = estimate(
        &calibration,
        &binary_labels(&inputs["analysis_predicted"]),
        &nums(&inputs["analysis_scores"]),
    )
    .unwrap();
    let got = [
        ("accuracy", e.accuracy),
        ("precision", e.precision),
        ("recall", e.recall),
        ("f1", e.f1),
    ];
    assert_eq!(results.as_object().unwrap().len(), got.len(), "{id}");
    for (key, value) in got {
        assert_close(
            value,
            num(&results[key]),
            STAT_REL,
            ABS,
            &format!("{id} {key}"),
        );
    }
    got.len()
}

#[test]
fn estimate_vectors() {
    let doc = fixture_json("estimate_vectors.json");
    assert_eq!(doc["family"], "estimate");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut checked = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let (inputs, results) = (&case["inputs"], &case["results"]);
        checked += match case["kind"].as_str().unwrap() {
            "calibration" => check_calibration(id, inputs, results),
            "estimate" => check_estimate(id, inputs, results),
            other => panic!("{id}: unknown kind {other}"),
        };
    }
    assert!(checked >= 500, "only {checked} values checked");
}

/// A calibrated model's rows: P(label) = score, predicted positive when the
/// score is at least 1/2. `margin` draws |score − 1/2|, so the chance a row
/// is predicted right is 1/2 + margin.
fn rows(
    rng: &mut fastrand::Rng,
    n: usize,
    mut margin: impl FnMut(&mut fastrand::Rng) -> f64,
) -> (Vec<bool>, Vec<f64>) {
    (0..n)
        .map(|_| {
            let m = margin(rng);
            let score = if rng.bool() { 0.5 + m } else { 0.5 - m };
            (rng.f64() < score, score)
        })
        .unzip()
}

/// A baseline of 10,000 rows over every score (margins uniform on [0, 1/2],
/// accuracy about 3/4), then 20 windows of 1,000 rows drifting to harder
/// rows: window w has margins uniform on c ± 0.1, c falling from 0.4 to 0.2,
/// so its accuracy falls from about 0.9 to about 0.7 while the model stays
/// calibrated (covariate shift, which CBPE is meant to follow).
///
/// The bound: given the scores, the realised accuracy is a mean of n
/// independent Bernoulli(cᵢ) (cᵢ the chance row i is right: p or 1 − p as
/// predicted), so its noise around the estimate has variance Σ cᵢ(1 − cᵢ)/n²
/// (≈ 0.21/n at accuracy 0.7, sd ≈ 0.014). The calibration adds the noise of
/// the baseline's labels it averages: any window's scores fall in bands
/// holding 40 % of the baseline, at most 0.25 / (0.4 · 10,000) in variance
/// (sd ≈ 0.008). Each window must be within 4 sd of both together.
#[test]
fn the_estimate_tracks_a_known_drop_in_accuracy() {
    const WINDOWS: usize = 20;
    const WINDOW_ROWS: usize = 1000;
    const BASELINE_ROWS: usize = 10_000;
    let mut rng = fastrand::Rng::with_seed(20240612);
    let (labels, scores) = rows(&mut rng, BASELINE_ROWS, |r| 0.5 * r.f64());
    let calibration = Calibration::fit(&labels, &scores).unwrap();
    let baseline_variance = 0.25 / (0.4 * BASELINE_ROWS as f64);

    let mut errors = Vec::new();
    for w in 0..WINDOWS {
        let centre = 0.4 - 0.2 * w as f64 / (WINDOWS - 1) as f64;
        let (truth, scores) = rows(&mut rng, WINDOW_ROWS, |r| centre - 0.1 + 0.2 * r.f64());
        let predicted: Vec<bool> = scores.iter().map(|&s| s >= 0.5).collect();
        let estimated = estimate(&calibration, &predicted, &scores)
            .unwrap()
            .accuracy;
        let realised = classification::accuracy(&truth, &predicted).unwrap();
        // cᵢ(1 − cᵢ) = pᵢ(1 − pᵢ) whichever way row i was predicted.
        let label_variance: f64 = calibration
            .predict(&scores)
            .unwrap()
            .iter()
            .map(|p| p * (1.0 - p))
            .sum::<f64>()
            / (WINDOW_ROWS * WINDOW_ROWS) as f64;
        let bound = 4.0 * (label_variance + baseline_variance).sqrt();
        let error = estimated - realised;
        println!(
            "window {w:2}: realised {realised:.3} estimated {estimated:.3} error {error:+.4} bound {bound:.4}"
        );
        assert!(
            error.abs() <= bound,
            "window {w}: error {error} over {bound}"
        );
        if w == 0 {
            assert!(realised > 0.85 && estimated > 0.85, "first window");
        }
        if w == WINDOWS - 1 {
            assert!(realised < 0.75 && estimated < 0.75, "last window");
        }
        errors.push(error);
    }
    let mean = |f: fn(f64) -> f64| errors.iter().map(|&e| f(e)).sum::<f64>() / WINDOWS as f64;
    let (mean_error, bias) = (mean(f64::abs), mean(|e| e));
    println!("mean absolute error over {WINDOWS} windows: {mean_error:.4}, mean error {bias:+.4}");
    // A normal error of sd ≤ 0.017 has a mean absolute value ≤ 0.014.
    assert!(mean_error < 0.02, "mean absolute error {mean_error}");
}
