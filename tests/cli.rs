//! The command line as a user meets it: the README's first command, exit
//! codes, the three input formats, and clear errors on bad input.

mod support;

use serde_json::Value;
use std::fs;
use support::{build_baseline, driftwatch, example, fixture, report_json, stderr};

#[test]
fn report_without_arguments_runs_on_the_bundled_example() {
    let out = driftwatch(&["report"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "feature",
        "income",
        "wasserstein",
        "jensenshannon",
        "notes:length",
        "model loans",
    ] {
        assert!(
            table.contains(expected),
            "table lacks {expected:?}:\n{table}"
        );
    }
}

#[test]
fn fail_on_drift_exits_2_only_when_the_dataset_drifted() {
    let drifted = driftwatch(&["report", "--fail-on-drift"]);
    assert_eq!(drifted.status.code(), Some(2), "{}", stderr(&drifted));
    let dir = tempfile::tempdir().unwrap();
    let baseline = build_baseline(dir.path(), &example("reference.csv"), &[]);
    let same = driftwatch(&[
        "report".as_ref(),
        "--fail-on-drift".as_ref(),
        "--baseline".as_ref(),
        baseline.as_os_str(),
        "--input".as_ref(),
        example("reference.csv").as_os_str(),
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
}

#[test]
fn baseline_records_kinds_source_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = build_baseline(dir.path(), &example("reference.csv"), &["--model", "loans"]);
    let b: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(b["format"], "driftwatch-baseline");
    assert_eq!(b["format_version"], 1);
    assert_eq!(b["model"], "loans");
    assert_eq!(b["rows"], 5000);
    assert_eq!(b["source"]["file"], "reference.csv");
    assert_eq!(b["source"]["sha256"].as_str().unwrap().len(), 64);
    let kind = |name: &str| {
        let c = b["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        c["profile"]["kind"].as_str().unwrap().to_string()
    };
    assert_eq!(kind("age"), "numeric");
    assert_eq!(kind("approved"), "numeric", "0/1 integers stay numeric");
    assert_eq!(kind("region"), "categorical", "`New York` stays a category");
    assert_eq!(
        kind("income_band"),
        "categorical",
        "`40K - 60K €` stays a category"
    );
    assert_eq!(kind("notes"), "text");
}

#[test]
fn kind_override_and_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let path = build_baseline(
        dir.path(),
        &example("reference.csv"),
        &[
            "--kind",
            "approved=categorical",
            "--ignore",
            "notes",
            "--ignore",
            "score",
        ],
    );
    let b: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let columns = b["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 8);
    let approved = columns.iter().find(|c| c["name"] == "approved").unwrap();
    assert_eq!(approved["profile"]["kind"], "categorical");
    let bad = driftwatch(&[
        "baseline",
        "build",
        "--input",
        "x.csv",
        "--out",
        "y.json",
        "--kind",
        "age=number",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("expected numeric, categorical, text or embedding"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn csv_jsonl_and_parquet_inputs_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = build_baseline(dir.path(), &example("reference.csv"), &[]);
    let tests = ["--tests", "ks,wasserstein,psi,chi2,jensenshannon"];
    let csv = report_json(&baseline, &example("current.csv"), &tests);
    let jsonl = report_json(&baseline, &fixture("loans_current.jsonl"), &tests);
    let parquet = report_json(&baseline, &fixture("loans_current.parquet"), &tests);
    assert_eq!(csv["rows"], 1000);
    assert_eq!(csv["features"], jsonl["features"]);
    assert_eq!(csv["features"], parquet["features"]);
}

#[test]
fn baseline_from_parquet_matches_baseline_from_csv() {
    let dir = tempfile::tempdir().unwrap();
    let from_csv = build_baseline(dir.path(), &example("current.csv"), &[]);
    let csv: Value = serde_json::from_str(&fs::read_to_string(&from_csv).unwrap()).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let from_pq = build_baseline(dir2.path(), &fixture("loans_current.parquet"), &[]);
    let pq: Value = serde_json::from_str(&fs::read_to_string(&from_pq).unwrap()).unwrap();
    assert_eq!(csv["columns"], pq["columns"]);
}

/// Runs `report` on `current` (CSV text) against a baseline of the example
/// and returns its stderr, asserting exit status 1.
fn report_error(current: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let baseline = build_baseline(dir.path(), &example("reference.csv"), &[]);
    let input = dir.path().join("current.csv");
    fs::write(&input, current).unwrap();
    let out = driftwatch(&[
        "report".as_ref(),
        "--baseline".as_ref(),
        baseline.as_os_str(),
        "--input".as_ref(),
        input.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1), "expected an error, got {out:?}");
    stderr(&out)
}

const HEADER: &str =
    "age,income,loan_amount,term,purpose,region,income_band,notes,score,approved\n";

#[test]
fn ragged_row_names_file_and_line() {
    let err = report_error(&format!(
        "{HEADER}30,1,2,36,car,Miami,x,hi there,0.5,1\n31,1,2\n"
    ));
    assert!(
        err.contains("current.csv") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn text_in_a_numeric_column_names_line_and_column() {
    let err = report_error(&format!(
        "{HEADER}30,1,2,36,car,Miami,x,hi,0.5,1\n31,lots,2,36,car,Miami,x,hi,0.5,1\n"
    ));
    assert!(
        err.contains("line 3") && err.contains("\"income\"") && err.contains("\"lots\""),
        "{err}"
    );
    assert!(err.contains("numeric in the baseline"), "{err}");
}

#[test]
fn empty_file_is_an_error() {
    let err = report_error("");
    assert!(
        err.contains("current.csv") && err.contains("empty"),
        "{err}"
    );
}

#[test]
fn missing_column_is_named() {
    let err = report_error("age,income\n30,1\n");
    assert!(
        err.contains("\"loan_amount\"") && err.contains("missing"),
        "{err}"
    );
}

#[test]
fn baseline_of_another_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = build_baseline(dir.path(), &example("reference.csv"), &[]);
    let text = fs::read_to_string(&baseline).unwrap();
    fs::write(
        &baseline,
        text.replace("\"format_version\":1", "\"format_version\":99"),
    )
    .unwrap();
    let out = driftwatch(&[
        "report".as_ref(),
        "--baseline".as_ref(),
        baseline.as_os_str(),
        "--input".as_ref(),
        example("current.csv").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("format version 99") && err.contains("rebuild"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_1_not_2() {
    let out = driftwatch(&[
        "report",
        "--tests",
        "ks,bogus",
        "--baseline",
        "a",
        "--input",
        "b",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown test \"bogus\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bundled_example_baseline_is_up_to_date() {
    // The README's first command reads examples/loans/baseline.json; it
    // must be what this build makes of examples/loans/reference.csv.
    let dir = tempfile::tempdir().unwrap();
    let fresh = build_baseline(dir.path(), &example("reference.csv"), &["--model", "loans"]);
    let read = |p: &std::path::Path| -> Value {
        serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
    };
    let (fresh, committed) = (read(&fresh), read(&example("baseline.json")));
    for key in [
        "format",
        "format_version",
        "model",
        "source",
        "rows",
        "columns",
    ] {
        assert_eq!(
            fresh[key], committed[key],
            "examples/loans/baseline.json is stale ({key}): rebuild it with \
             `driftwatch baseline build --input examples/loans/reference.csv \
             --out examples/loans/baseline.json --model loans`"
        );
    }
}

#[test]
fn demo_shows_the_rule_fire_on_drift_and_resolve_and_stops_cleanly() {
    let run = driftwatch(&["demo", "--pace-ms", "0"]);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{out}\n{}", stderr(&run));
    let position = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in\n{out}"))
    };
    let firing = position("webhook received: FIRING loans-drift (critical)");
    let resolved = position("webhook received: RESOLVED loans-drift");
    let normal_again = position("      10  like training");
    assert!(position("       3  like training  0.00") < firing);
    assert!(firing < normal_again && normal_again < resolved, "{out}");
    assert_eq!(out.matches("webhook received").count(), 2, "{out}");
    assert!(out.contains("Stopped cleanly"));
}

/// The loans reference with a `predicted` column (score ≥ 0.5), returned
/// with its (approved, predicted, score) rows.
fn labelled_loans(dir: &std::path::Path) -> (std::path::PathBuf, Vec<(String, String, f64)>) {
    let mut reader = csv::Reader::from_path(example("reference.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (approved, score) = (at("approved"), at("score"));
    let path = dir.join("labelled.csv");
    let mut writer = csv::Writer::from_path(&path).unwrap();
    let mut header: Vec<&str> = headers.iter().collect();
    header.push("predicted");
    writer.write_record(&header).unwrap();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let s: f64 = record[score].parse().unwrap();
        let predicted = if s >= 0.5 { "1" } else { "0" };
        let mut out: Vec<&str> = record.iter().collect();
        out.push(predicted);
        writer.write_record(&out).unwrap();
        rows.push((record[approved].to_owned(), predicted.to_owned(), s));
    }
    writer.flush().unwrap();
    (path, rows)
}

#[test]
fn baseline_build_with_labels_stores_the_models_quality() {
    use driftwatch::stats::quality::{classification, estimate, scores};
    let dir = tempfile::tempdir().unwrap();
    let (input, rows) = labelled_loans(dir.path());
    let flags = [
        "--label",
        "approved",
        "--prediction",
        "predicted",
        "--score",
        "score",
    ];
    let baseline = build_baseline(dir.path(), &input, &flags);
    let doc: Value = serde_json::from_str(&fs::read_to_string(&baseline).unwrap()).unwrap();
    let quality = &doc["quality"];
    assert_eq!(quality["task"], "binary");
    assert_eq!(quality["positive"], "1");
    assert_eq!(
        (quality["rows"].as_u64(), quality["skipped"].as_u64()),
        (Some(5000), Some(0))
    );
    let names: Vec<&str> = doc["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"approved"),
        "the label is not a live column: {names:?}"
    );
    assert!(names.contains(&"predicted") && names.contains(&"score"));

    // The same metrics as the library's (checked against scikit-learn) on the same rows.
    let truth: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let predicted: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let positive: Vec<bool> = truth.iter().map(|t| *t == "1").collect();
    let probabilities: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let metric = |name: &str| quality["metrics"][name].as_f64().unwrap();
    assert_eq!(
        metric("accuracy"),
        classification::accuracy(&truth, &predicted).unwrap()
    );
    assert_eq!(
        metric("f1"),
        classification::binary_scores(&truth, &predicted, &"1")
            .unwrap()
            .f1
    );
    assert_eq!(
        metric("roc_auc"),
        scores::roc_auc(&positive, &probabilities).unwrap()
    );
    assert_eq!(
        metric("log_loss"),
        scores::log_loss(&positive, &probabilities).unwrap()
    );

    // The stored calibration estimates the reference's own accuracy closely.
    let calibration: estimate::Calibration =
        serde_json::from_value(quality["calibration"].clone()).unwrap();
    let flags: Vec<bool> = predicted.iter().map(|p| *p == "1").collect();
    let estimated = estimate::estimate(&calibration, &flags, &probabilities).unwrap();
    assert!(
        (estimated.accuracy - metric("accuracy")).abs() < 0.02,
        "{estimated:?} vs {}",
        metric("accuracy")
    );
}

#[test]
fn baseline_build_names_a_missing_or_bad_quality_column() {
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = labelled_loans(dir.path());
    let out = dir.path().join("b.json");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "baseline",
            "build",
            "--input",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        driftwatch(&args)
    };
    let missing = run(&["--label", "outcome", "--prediction", "predicted"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("--label names column \"outcome\", which the file does not have"),
        "{}",
        stderr(&missing)
    );
    let not_a_score = run(&[
        "--label",
        "approved",
        "--prediction",
        "predicted",
        "--score",
        "income",
    ]);
    assert_eq!(not_a_score.status.code(), Some(1));
    assert!(
        stderr(&not_a_score).contains("--score column \"income\" holds"),
        "{}",
        stderr(&not_a_score)
    );
    assert!(
        stderr(&not_a_score).contains("labelled.csv"),
        "names the file and line: {}",
        stderr(&not_a_score)
    );
    let alone = run(&["--label", "approved"]);
    assert_ne!(alone.status.code(), Some(0), "--label needs --prediction");
    assert!(!out.exists());
}
