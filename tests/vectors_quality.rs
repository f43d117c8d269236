//! `tests/fixtures/quality_vectors.json` (computed with scikit-learn by
//! `tests/fixtures/quality_sklearn.py`): every case, every result key.
mod common;

use common::{ABS, STAT_REL, assert_close, binary_labels, fixture_json, num, nums};
use driftwatch::stats::quality::{QualityError, classification, regression, scores};
use serde_json::Value;

fn labels(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("label array")
        .iter()
        .map(|l| l.as_str().expect("string label"))
        .collect()
}

fn check_classification(inputs: &Value, key: &str) -> f64 {
    let (t, p) = (labels(&inputs["y_true"]), labels(&inputs["y_pred"]));
    let positive = inputs["positive"].as_str().expect("positive class");
    let one = || classification::binary_scores(&t, &p, &positive).unwrap();
    let macro_ = || classification::macro_scores(&t, &p).unwrap();
    match key {
        "accuracy" => classification::accuracy(&t, &p).unwrap(),
        "precision" => one().precision,
        "recall" => one().recall,
        "f1" => one().f1,
        "macro_precision" => macro_().precision,
        "macro_recall" => macro_().recall,
        "macro_f1" => macro_().f1,
        other => panic!("unknown classification result {other}"),
    }
}

/// The metric, or NaN where it is undefined (sklearn's encoding of it).
fn check_scores(inputs: &Value, key: &str) -> f64 {
    let (t, s) = (binary_labels(&inputs["y_true"]), nums(&inputs["y_score"]));
    match key {
        "roc_auc" => match scores::roc_auc(&t, &s) {
            Ok(auc) => auc,
            Err(QualityError::SingleClass { .. }) => f64::NAN,
            Err(e) => panic!("roc_auc: {e}"),
        },
        "log_loss" => scores::log_loss(&t, &s).unwrap(),
        other => panic!("unknown scores result {other}"),
    }
}

fn check_regression(inputs: &Value, key: &str) -> f64 {
    let (t, p) = (nums(&inputs["y_true"]), nums(&inputs["y_pred"]));
    match key {
        "mae" => regression::mae(&t, &p).unwrap(),
        "rmse" => regression::rmse(&t, &p).unwrap(),
        "mape" => regression::mape(&t, &p).unwrap(),
        other => panic!("unknown regression result {other}"),
    }
}

#[test]
fn quality_vectors() {
    let doc = fixture_json("quality_vectors.json");
    assert_eq!(doc["family"], "quality");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 15, "only {} cases", cases.len());
    let mut checked = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let inputs = &case["inputs"];
        let kind = case["kind"].as_str().unwrap();
        for (key, want) in case["results"].as_object().unwrap() {
            let got = match kind {
                "classification" => check_classification(inputs, key),
                "scores" => check_scores(inputs, key),
                "regression" => check_regression(inputs, key),
                other => panic!("{id}: unknown kind {other}"),
            };
            assert_close(got, num(want), STAT_REL, ABS, &format!("{id} {key}"));
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} results checked");
}
