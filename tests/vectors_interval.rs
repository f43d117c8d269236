//! `stats::quality::interval::wilson` against statsmodels'
//! `proportion_confint(method="wilson")` on every case of
//! `tests/fixtures/interval_vectors.json` (made by
//! `tests/fixtures/interval_reference.py`).
mod common;

use common::{assert_close, fixture_json};
use driftwatch::stats::quality::interval::wilson;

#[test]
fn wilson_intervals_equal_statsmodels() {
    let doc = fixture_json("interval_vectors.json");
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let (inputs, results) = (&case["inputs"], &case["results"]);
        let got = wilson(
            inputs["successes"].as_u64().unwrap(),
            inputs["trials"].as_u64().unwrap(),
            inputs["level"].as_f64().unwrap(),
        )
        .unwrap();
        let id = case["id"].as_str().unwrap();
        assert_close(
            got.low,
            results["low"].as_f64().unwrap(),
            1e-12,
            1e-15,
            &format!("{id} low"),
        );
        assert_close(
            got.high,
            results["high"].as_f64().unwrap(),
            1e-12,
            1e-15,
            &format!("{id} high"),
        );
    }
}
