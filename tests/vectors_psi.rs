//! `psi.json`: every case, every result key.
mod common;

use common::{ABS, STAT_REL, assert_close, load_cases, num, nums};
use driftwatch::stats::psi::{
    fill_empty_bins, histogram_counts, proportions, psi, sturges_bin_edges,
};
use serde_json::Value;

fn assert_all_close(got: &[f64], want: &[f64], context: &str) {
    assert_eq!(got.len(), want.len(), "{context}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(*g, *w, STAT_REL, ABS, &format!("{context}[{i}]"));
    }
}

/// Reference and current proportions per bin for one case, and the counts
/// when the case bins raw values.
struct Binned {
    counts: Option<(Vec<f64>, Vec<f64>)>,
    props: (Vec<f64>, Vec<f64>),
}

fn bin_case(case: &Value) -> Binned {
    let inputs = &case["inputs"];
    match case["binning"].as_str().unwrap() {
        "histogram" => {
            let edges = nums(&inputs["bin_edges"]);
            let (reference, current) = (nums(&inputs["reference"]), nums(&inputs["current"]));
            let rc = histogram_counts(&edges, &reference).unwrap();
            let cc = histogram_counts(&edges, &current).unwrap();
            // numpy divides by len(x); here every value lies within the edges,
            // so that equals our division by the counted total.
            assert_eq!(rc.iter().sum::<f64>(), reference.len() as f64);
            assert_eq!(cc.iter().sum::<f64>(), current.len() as f64);
            let props = (proportions(&rc).unwrap(), proportions(&cc).unwrap());
            Binned {
                counts: Some((rc, cc)),
                props,
            }
        }
        "categorical" => Binned {
            counts: None,
            props: (
                proportions(&nums(&inputs["reference_counts"])).unwrap(),
                proportions(&nums(&inputs["current_counts"])).unwrap(),
            ),
        },
        other => panic!("unknown binning {other}"),
    }
}

#[test]
fn psi_vectors() {
    for case in load_cases("psi") {
        let id = case["id"].as_str().unwrap();
        let binned = bin_case(&case);
        let (rp, cp) = &binned.props;
        let value = psi(rp, cp).unwrap();
        for (key, want) in case["results"].as_object().unwrap() {
            let context = format!("{id} {key}");
            let counts = || binned.counts.as_ref().expect("histogram case");
            match key.as_str() {
                "psi" | "evidently_psi" => assert_close(value, num(want), STAT_REL, ABS, &context),
                "reference_counts" => assert_eq!(counts().0, nums(want), "{context}"),
                "current_counts" => assert_eq!(counts().1, nums(want), "{context}"),
                "reference_props" => assert_all_close(rp, &nums(want), &context),
                "current_props" => assert_all_close(cp, &nums(want), &context),
                "reference_props_filled" => {
                    assert_all_close(&fill_empty_bins(rp).unwrap(), &nums(want), &context)
                }
                "current_props_filled" => {
                    assert_all_close(&fill_empty_bins(cp).unwrap(), &nums(want), &context)
                }
                "evidently_bin_edges" => {
                    let inputs = &case["inputs"];
                    let pooled: Vec<f64> = nums(&inputs["reference"])
                        .into_iter()
                        .chain(nums(&inputs["current"]))
                        .collect();
                    let edges = sturges_bin_edges(&pooled).unwrap();
                    assert_all_close(&edges, &nums(want), &context);
                    assert_eq!(
                        edges,
                        nums(&inputs["bin_edges"]),
                        "{context}: the input edges"
                    );
                }
                other => panic!("{id}: unchecked result key {other}"),
            }
        }
    }
}
