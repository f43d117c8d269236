//! Embedding columns end to end: a baseline built by the real binary from
//! CSV cells `[0.1, …]` (`--kind COLUMN=embedding`), reports over CSV and
//! JSON Lines arrays, a live window's bounded sample, and the validation of
//! records sent with an `embedding` value.

mod live;
mod support;

use driftwatch::baseline::Baseline;
use driftwatch::detect::{DetectOptions, TestName, detect};
use driftwatch::ingest::validate::validate_into;
use driftwatch::ingest::{ModelSchema, UnknownFields};
use driftwatch::proto::v1::{Embedding, Record, SendRequest, Value, value};
use driftwatch::report::read_sample;
use driftwatch::window::{EMBEDDING_ROWS, LiveWindow, WindowLimits, WindowShape};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use support::{build_baseline, check_rule, report_json, stderr};

const DIMENSION: usize = 8;

/// `rows` vectors with components uniform in [-1, 1) plus `shift`, from
/// `seed` (SplitMix64).
fn vectors(rows: usize, shift: f32, seed: u64) -> Vec<Vec<f32>> {
    let mut state = seed;
    let mut unit = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    };
    (0..rows)
        .map(|_| (0..DIMENSION).map(|_| 2.0 * unit() - 1.0 + shift).collect())
        .collect()
}

/// A CSV file of a prompt and its embedding per row.
fn csv(dir: &Path, name: &str, rows: &[Vec<f32>]) -> PathBuf {
    let mut text = String::from("prompt,emb\n");
    for (i, v) in rows.iter().enumerate() {
        let cell = serde_json::to_string(v).unwrap();
        text.push_str(&format!("question {i},\"{cell}\"\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A record whose `emb` feature is `values`.
fn record(values: Vec<f32>) -> Record {
    let embedding = value::Kind::Embedding(Embedding { values });
    let value = Value {
        kind: Some(embedding),
    };
    Record {
        features: [("emb".to_owned(), value)].into(),
        ..Default::default()
    }
}

fn mmd(report: &Json) -> &Json {
    let emb = (report["features"].as_array().unwrap().iter())
        .find(|f| f["name"] == "emb")
        .unwrap();
    let tests = emb["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3, "{emb}");
    tests.iter().find(|t| t["test"] == "mmd").unwrap()
}

fn baseline(dir: &Path) -> PathBuf {
    let reference = csv(dir, "reference.csv", &vectors(600, 0.0, 1));
    build_baseline(dir, &reference, &["--kind", "emb=embedding"])
}

#[test]
fn a_shifted_window_drifts_by_mmd_and_an_unshifted_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = baseline(dir.path());
    let b: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let emb = &b["columns"][1]["profile"];
    assert_eq!(emb["kind"], "embedding");
    assert_eq!(emb["stats"]["dimension"], DIMENSION);
    assert_eq!(emb["stats"]["sample"].as_array().unwrap().len(), 600);

    let same = report_json(
        &path,
        &csv(dir.path(), "same.csv", &vectors(400, 0.0, 2)),
        &[],
    );
    let test = mmd(&same);
    assert_eq!(test["decisive"], true, "{test}");
    assert_eq!(test["drifted"], false, "{test}");
    let shifted = csv(dir.path(), "shifted.csv", &vectors(400, 0.5, 3));
    let report = report_json(&path, &shifted, &[]);
    let test = mmd(&report);
    assert_eq!(test["drifted"], true, "{test}");
    assert!(test["p_value"].as_f64().unwrap() < 0.01, "{test}");
}

#[test]
fn json_lines_arrays_are_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    let path = baseline(dir.path());
    let mut text = String::new();
    for (i, v) in vectors(300, 0.0, 4).iter().enumerate() {
        let row = serde_json::json!({"prompt": format!("question {i}"), "emb": v});
        text.push_str(&format!("{row}\n"));
    }
    let input = dir.path().join("current.jsonl");
    std::fs::write(&input, text).unwrap();
    assert_eq!(mmd(&report_json(&path, &input, &[]))["drifted"], false);
}

/// A live window keeps every vector in its centroid and a bounded sample
/// of them, and its report has the three embedding tests.
#[test]
fn a_live_window_samples_a_bounded_number_of_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = Baseline::load(&baseline(dir.path())).unwrap();
    let shape = WindowShape::new(&baseline, WindowLimits::default());
    let mut window = LiveWindow::new(&shape, chrono::Utc::now());
    for seed in 0..3 {
        let batch = csv(dir.path(), "batch.csv", &vectors(500, 0.5, 10 + seed));
        window.absorb(&shape, read_sample(&baseline, &batch).unwrap());
    }
    let closed = window.close(&shape, chrono::Utc::now());
    let report = detect(&baseline, &closed.sample, &DetectOptions::default());
    let emb = &report.features[1];
    assert_eq!(emb.drifted, Some(true), "{emb:?}");
    let tests: Vec<TestName> = emb.tests.iter().map(|t| t.test).collect();
    assert_eq!(
        tests,
        [TestName::Mmd, TestName::Cosine, TestName::Euclidean]
    );
    let driftwatch::detect::Values::Embedding(e) = &closed.sample.columns[1].values else {
        panic!("an embedding column")
    };
    assert_eq!(e.centroid.count(), 1500);
    assert_eq!(e.rows.len(), EMBEDDING_ROWS * DIMENSION);
}

#[test]
fn records_of_another_dimension_or_with_nan_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = Baseline::load(&baseline(dir.path())).unwrap();
    let schema = ModelSchema::new(&baseline, UnknownFields::Reject);
    let mut nan = vec![0.0; DIMENSION];
    nan[2] = f32::NAN;
    let request = SendRequest {
        model: baseline.model.clone(),
        records: vec![
            record(vec![0.5; DIMENSION]),
            record(vec![0.5; 3]),
            record(nan),
        ],
        ..Default::default()
    };
    let mut sample = schema.empty_sample();
    let outcome = validate_into(&schema, &request, &mut sample).unwrap();
    assert_eq!((outcome.accepted, outcome.rejected), (1, 2));
    let reasons: Vec<(&str, &str)> = (outcome.rejections.iter())
        .map(|r| (r.field.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons[0],
        ("features.emb", "dimension 3, the baseline's is 8")
    );
    assert!(
        reasons[1].1.starts_with("NaN is not a finite number"),
        "{reasons:?}"
    );
    assert_eq!(outcome.rejected_by_reason[..], [1, 0, 0, 0, 1]);
}

#[test]
fn rules_may_name_the_embedding_tests() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = baseline(dir.path());
    let mmd = check_rule(&baseline, "emb", "mmd.p_value < 0.01");
    assert_eq!(mmd.status.code(), Some(0), "{}", stderr(&mmd));
    let ks = check_rule(&baseline, "emb", "ks.p_value < 0.01");
    assert_eq!(ks.status.code(), Some(1));
    let err = stderr(&ks);
    assert!(
        err.contains("test ks does not apply to an embedding feature"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_takes_embeddings_over_grpc_and_exports_the_mmd_p_value() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[server]\ngrpc_addr = \"127.0.0.1:0\"\nhttp_addr = \"127.0.0.1:0\"\ndata_dir = '{}'\n\n\
         [[model]]\nname = \"chat\"\nbaseline = '{}'\nwindow = {{ records = 300 }}\nmin_samples = 100\n",
        dir.path().join("data").display(),
        baseline(dir.path()).display(),
    );
    let daemon = live::start(&toml).await;
    let mut records: Vec<Record> = vectors(300, 0.5, 7).into_iter().map(record).collect();
    records.push(record(vec![0.5; 3]));
    let request = SendRequest {
        model: "chat".into(),
        records,
        ..Default::default()
    };
    let mut client = live::client(&daemon).await;
    let response = client.send(request).await.unwrap().into_inner();
    assert_eq!((response.accepted, response.rejected), (300, 1));
    assert_eq!(
        response.rejections[0].reason,
        "dimension 3, the baseline's is 8"
    );
    let http = daemon.http_addr;
    live::wait_for_metric(
        http,
        "driftwatch_windows_evaluated_total{model=\"chat\"}",
        1.0,
    )
    .await;
    let p_value = "driftwatch_drift_p_value{feature=\"emb\",model=\"chat\",test=\"mmd\"}";
    let p_value = live::metric(http, p_value).expect("the mmd p-value is exported");
    assert!(p_value < 0.01, "{p_value}");
    let rejected = "driftwatch_records_rejected_total{model=\"chat\",reason=\"wrong_dimension\"}";
    assert_eq!(live::metric(http, rejected), Some(1.0));
    daemon.stop();
    daemon.wait().await.unwrap();
}
