//! `wasserstein.json`: every case, every result key.
mod common;

use common::{ABS, STAT_REL, assert_close, load_cases, num, nums};
use driftwatch::stats::wasserstein::{
    normed_by_std, population_std, wasserstein, wasserstein_normed, wasserstein_weighted,
};

#[test]
fn wasserstein_vectors() {
    for case in load_cases("wasserstein") {
        let id = case["id"].as_str().unwrap();
        let inputs = &case["inputs"];
        let (u, v) = (nums(&inputs["u"]), nums(&inputs["v"]));
        let u_weights = inputs.get("u_weights").map(nums);
        let v_weights = inputs.get("v_weights").map(nums);
        for (key, want) in case["results"].as_object().unwrap() {
            let context = format!("{id} {key}");
            let got = match key.as_str() {
                "wasserstein_1" => {
                    let weighted =
                        wasserstein_weighted(&u, u_weights.as_deref(), &v, v_weights.as_deref())
                            .unwrap();
                    if u_weights.is_none() && v_weights.is_none() {
                        assert_eq!(weighted, wasserstein(&u, &v).unwrap(), "{context}");
                    }
                    weighted
                }
                "reference_std_ddof0" => population_std(&u).unwrap(),
                "normed_by_reference_std" => {
                    normed_by_std(wasserstein(&u, &v).unwrap(), population_std(&u).unwrap())
                }
                "evidently_wasserstein_norm" => wasserstein_normed(&u, &v).unwrap(),
                other => panic!("{id}: unchecked result key {other}"),
            };
            assert_close(got, num(want), STAT_REL, ABS, &context);
        }
    }
}
