//! `jensen_shannon.json`, `kl_divergence.json`, `hellinger.json`: every
//! case, every result key.
mod common;

use common::{ABS, STAT_REL, assert_close, load_cases, num, nums};
use driftwatch::stats::divergence::{
    LogBase, bhattacharyya_coefficient, hellinger, jensen_shannon_distance, kl_divergence,
};
use driftwatch::stats::psi::{fill_empty_bins, histogram_counts, proportions, sturges_bin_edges};
use serde_json::Value;

fn assert_all_close(got: &[f64], want: &[f64], context: &str) {
    assert_eq!(got.len(), want.len(), "{context}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(*g, *w, STAT_REL, ABS, &format!("{context}[{i}]"));
    }
}

/// The two distributions a case compares: `p`/`q` as given, category counts,
/// or (for Evidently's numerical form) histograms of the raw samples.
fn distributions(inputs: &Value) -> (Vec<f64>, Vec<f64>) {
    if inputs.get("p").is_some() {
        (nums(&inputs["p"]), nums(&inputs["q"]))
    } else if inputs.get("reference_counts").is_some() {
        (
            nums(&inputs["reference_counts"]),
            nums(&inputs["current_counts"]),
        )
    } else {
        let (reference, current) = (nums(&inputs["reference"]), nums(&inputs["current"]));
        let edges = sturges_bin_edges(&pooled(&reference, &current)).unwrap();
        (
            histogram_counts(&edges, &reference).unwrap(),
            histogram_counts(&edges, &current).unwrap(),
        )
    }
}

fn pooled(reference: &[f64], current: &[f64]) -> Vec<f64> {
    reference.iter().chain(current).copied().collect()
}

#[test]
fn jensen_shannon_vectors() {
    for case in load_cases("jensen_shannon") {
        let id = case["id"].as_str().unwrap();
        let inputs = &case["inputs"];
        let (p, q) = distributions(inputs);
        let e = jensen_shannon_distance(&p, &q, LogBase::E).unwrap();
        let two = jensen_shannon_distance(&p, &q, LogBase::Two).unwrap();
        for (key, want) in case["results"].as_object().unwrap() {
            let context = format!("{id} {key}");
            match key.as_str() {
                // Evidently's test is the natural-log distance.
                "distance_base_e" | "evidently_js" => {
                    assert_close(e, num(want), STAT_REL, ABS, &context)
                }
                "distance_base_2" => assert_close(two, num(want), STAT_REL, ABS, &context),
                "divergence_base_e" => assert_close(e * e, num(want), STAT_REL, ABS, &context),
                "divergence_base_2" => assert_close(two * two, num(want), STAT_REL, ABS, &context),
                // Evidently's numerical binning: Sturges edges on the pooled
                // sample, numpy.histogram counts / len (all values inside).
                "bin_edges" => {
                    let edges = sturges_bin_edges(&pooled(
                        &nums(&inputs["reference"]),
                        &nums(&inputs["current"]),
                    ))
                    .unwrap();
                    assert_all_close(&edges, &nums(want), &context);
                }
                "reference_props" => {
                    assert_eq!(
                        p.iter().sum::<f64>(),
                        nums(&inputs["reference"]).len() as f64
                    );
                    assert_all_close(&proportions(&p).unwrap(), &nums(want), &context);
                }
                "current_props" => {
                    assert_eq!(q.iter().sum::<f64>(), nums(&inputs["current"]).len() as f64);
                    assert_all_close(&proportions(&q).unwrap(), &nums(want), &context);
                }
                other => panic!("{id}: unchecked result key {other}"),
            }
        }
    }
}

#[test]
fn kl_divergence_vectors() {
    for case in load_cases("kl_divergence") {
        let id = case["id"].as_str().unwrap();
        let (p, q) = distributions(&case["inputs"]);
        for (key, want) in case["results"].as_object().unwrap() {
            let context = format!("{id} {key}");
            let got = match key.as_str() {
                "kl_base_e" => kl_divergence(&p, &q, LogBase::E),
                "kl_base_2" => kl_divergence(&p, &q, LogBase::Two),
                "kl_reverse_base_e" => kl_divergence(&q, &p, LogBase::E),
                // Evidently fills empty bins (PSI rule) on the proportions,
                // then scipy renormalises.
                "kl_base_e_filled" | "evidently_kl" => {
                    let fill = |counts: &[f64]| fill_empty_bins(&proportions(counts).unwrap());
                    kl_divergence(&fill(&p).unwrap(), &fill(&q).unwrap(), LogBase::E)
                }
                other => panic!("{id}: unchecked result key {other}"),
            };
            assert_close(got.unwrap(), num(want), STAT_REL, ABS, &context);
        }
    }
}

#[test]
fn hellinger_vectors() {
    for case in load_cases("hellinger") {
        let id = case["id"].as_str().unwrap();
        let inputs = &case["inputs"];
        for (key, want) in case["results"].as_object().unwrap() {
            let context = format!("{id} {key}");
            let got = match key.as_str() {
                "hellinger" | "hellinger_via_l2_form" => {
                    let (p, q) = distributions(inputs);
                    hellinger(&p, &q).unwrap()
                }
                "bhattacharyya_coefficient" => {
                    let (p, q) = distributions(inputs);
                    bhattacharyya_coefficient(&p, &q).unwrap()
                }
                "evidently_hellinger" => evidently_numerical_hellinger(inputs),
                other => panic!("{id}: unchecked result key {other}"),
            };
            assert_close(got, num(want), STAT_REL, ABS, &context);
        }
    }
}

/// Evidently's numerical Hellinger: Sturges edges over the UNIQUE pooled
/// values, then Σ √(h₁ h₂)·w with h = numpy density and w the mean bin width.
/// With equal-width bins h·w is the proportion per bin up to rounding (~1e-16
/// relative), so `hellinger` on the histogram counts reproduces it.
fn evidently_numerical_hellinger(inputs: &Value) -> f64 {
    let (reference, current) = (nums(&inputs["reference"]), nums(&inputs["current"]));
    let mut unique = pooled(&reference, &current);
    unique.sort_by(f64::total_cmp);
    unique.dedup();
    let edges = sturges_bin_edges(&unique).unwrap();
    hellinger(
        &histogram_counts(&edges, &reference).unwrap(),
        &histogram_counts(&edges, &current).unwrap(),
    )
    .unwrap()
}
