//! Loader for the reference vectors in `../shared/vectors` (computed with
//! scipy/numpy) and the tolerance checks their README suggests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// The folder holding the reference vectors, beside the repository.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors")
}

/// The `cases` of one vectors file, e.g. `load_cases("ks_2samp")`.
pub fn load_cases(family: &str) -> Vec<Value> {
    let path = vectors_dir().join(format!("{family}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).expect("vectors file is JSON");
    let cases = doc["cases"]
        .as_array()
        .expect("`cases` is an array")
        .clone();
    assert!(!cases.is_empty(), "{family}: no cases");
    cases
}

/// A committed fixture, `tests/fixtures/NAME`, parsed.
pub fn fixture_json(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// An array of 0/1 labels as booleans.
pub fn binary_labels(v: &Value) -> Vec<bool> {
    v.as_array()
        .expect("label array")
        .iter()
        .map(|l| match l.as_i64() {
            Some(0) => false,
            Some(1) => true,
            other => panic!("not a 0/1 label: {other:?}"),
        })
        .collect()
}

/// A number as the vectors encode it: a JSON number or "inf", "-inf", "nan".
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("f64"),
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::String(s) if s == "nan" => f64::NAN,
        other => panic!("not a number: {other}"),
    }
}

/// An array of numbers.
pub fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(num)
        .collect()
}

/// Asserts `got` equals `want` within `rel` relative or `abs` absolute error;
/// NaN equals NaN and infinities must match exactly.
pub fn assert_close(got: f64, want: f64, rel: f64, abs: f64, context: &str) {
    if want.is_nan() {
        assert!(got.is_nan(), "{context}: got {got}, want nan");
        return;
    }
    if want.is_infinite() {
        assert_eq!(got, want, "{context}");
        return;
    }
    let err = (got - want).abs();
    assert!(
        err <= abs || err <= rel * want.abs(),
        "{context}: got {got}, want {want} (error {err:e})"
    );
}

/// Tolerance for statistics computed by sums and sorts.
pub const STAT_REL: f64 = 1e-12;
/// Tolerance for p-values from special functions.
pub const P_REL: f64 = 1e-9;
/// Absolute tolerance near zero.
pub const ABS: f64 = 1e-15;

/// The alternative hypothesis as the vectors name it.
pub fn alternative(name: &str) -> driftwatch::stats::Alternative {
    use driftwatch::stats::Alternative;
    match name {
        "two-sided" => Alternative::TwoSided,
        "less" => Alternative::Less,
        "greater" => Alternative::Greater,
        other => panic!("unknown alternative {other}"),
    }
}
