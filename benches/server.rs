//! The server's cost per batch beside prost's bare decode of the same
//! bytes: a batch of 1000 records of 25 features (20 numeric, 5
//! categorical) made by `driftwatch::traffic` from a baseline built here,
//! in the row form and in the columnar form. Per form: `decode` (prost alone), `decode+validate` (into an empty sample,
//! as `ingest::validate` alone costs) and `decode+ingest` (what the daemon
//! does per batch: `ModelPipeline::ingest`, validation and adding to the
//! open window). The window is too large to close during the run, and its
//! reservoirs fill during the warm-up, so what is measured is the steady
//! state. The targets: row form ≤ 1.5× the bare decode; columnar form
//! ≤ 1 µs per record, decode included. `decode+ingest+join` is the same
//! with ids, for a model with a `[model.quality]` section: each record
//! also enters the join buffer to wait for its label (the buffer fills to
//! its default capacity and evicts in the steady state).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use driftwatch::baseline::Baseline;
use driftwatch::baseline::build::{BuildOptions, build};
use driftwatch::baseline::profile::ProfileLimits;
use driftwatch::ingest::validate::validate_into;
use driftwatch::ingest::{ModelSchema, UnknownFields};
use driftwatch::metrics::Metrics;
use driftwatch::pipeline::{ClosedWindows, ModelPipeline};
use driftwatch::proto::v1::SendRequest;
use driftwatch::traffic::{Form, Traffic};
use prost::Message;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

const RECORDS: usize = 1000;
const NUMERIC: usize = 20;
const CATEGORICAL: usize = 5;
const REFERENCE_ROWS: usize = 2000;
const LABELS: [&str; 4] = ["home", "car", "education", "business"];

/// A reference file of [`NUMERIC`] continuous columns `n0..` and
/// [`CATEGORICAL`] columns `c0..` of unequal label frequencies.
fn write_reference(path: &Path) {
    let names: Vec<String> = (0..NUMERIC)
        .map(|i| format!("n{i}"))
        .chain((0..CATEGORICAL).map(|i| format!("c{i}")))
        .collect();
    let mut csv = names.join(",") + "\n";
    for r in 0..REFERENCE_ROWS {
        let numbers =
            (0..NUMERIC).map(|i| format!("{}", ((r * 7919 + i * 104_729) % 10_007) as f64 / 97.0));
        let labels = (0..CATEGORICAL).map(|i| LABELS[(r * r + i) % 7 % LABELS.len()].to_string());
        writeln!(
            csv,
            "{}",
            numbers.chain(labels).collect::<Vec<_>>().join(",")
        )
        .unwrap();
    }
    std::fs::write(path, csv).unwrap();
}

fn baseline(dir: &Path) -> Baseline {
    let input = dir.join("reference.csv");
    write_reference(&input);
    let options = BuildOptions {
        input,
        model: "bench".into(),
        kinds: Default::default(),
        ignore: Default::default(),
        limits: ProfileLimits::default(),
        quality: None,
        text_patterns: Vec::new(),
    };
    build(&options, &mut |_, _| {}).unwrap()
}

/// The model's pipeline, configured as the daemon would be, with a window
/// that does not close during the run.
/// `quality` is the TOML of a `[model.quality]` section, or empty.
fn pipeline(dir: &Path, baseline: &Baseline, quality: &str) -> (Arc<ModelPipeline>, ClosedWindows) {
    baseline.save(&dir.join("baseline.json")).unwrap();
    let toml = format!(
        r#"
        [[model]]
        name = "bench"
        baseline = "baseline.json"
        window = {{ records = 1000000000000 }}
        {quality}
    "#
    );
    let config = driftwatch::config::from_toml(&toml, &|_| None, dir).unwrap();
    ModelPipeline::new(&config.models[0], None, Metrics::new())
}

/// The pipelines measured: without quality, and with it.
struct Pipelines<'a> {
    plain: &'a ModelPipeline,
    joining: &'a ModelPipeline,
}

fn bench_form(c: &mut Criterion, form: Form, baseline: &Baseline, pipelines: &Pipelines<'_>) {
    let mut traffic = Traffic::new(baseline, 0.0, 1).unwrap();
    let bytes = traffic.batch(form, RECORDS).encode_to_vec();
    let mut with_ids = Traffic::new(baseline, 0.0, 2).unwrap().with_ids();
    let schema = ModelSchema::new(baseline, UnknownFields::Reject);
    let mut group = c.benchmark_group(format!("server/{form:?}"));
    group.throughput(Throughput::Elements(RECORDS as u64));
    // Every routine hands what it made back to criterion, which drops it
    // outside the timing, one at a time (holding many decoded batches at
    // once costs page faults that would blur the comparison).
    group.bench_function("decode", |b| {
        b.iter_batched(
            || (),
            |()| SendRequest::decode(black_box(&bytes[..])).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("decode+validate", |b| {
        b.iter_batched(
            || schema.empty_sample(),
            |mut sample| {
                let request = SendRequest::decode(black_box(&bytes[..])).unwrap();
                let outcome = validate_into(&schema, &request, &mut sample).unwrap();
                assert_eq!(outcome.accepted, RECORDS as u64);
                (request, sample)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("decode+ingest", |b| {
        b.iter_batched(
            || (),
            |()| ingest(pipelines.plain, &bytes),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("decode+ingest+join", |b| {
        // Fresh ids every batch, as live traffic has.
        b.iter_batched(
            || with_ids.batch(form, RECORDS).encode_to_vec(),
            |bytes| ingest(pipelines.joining, &bytes),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// What the daemon does with one batch's bytes.
fn ingest(pipeline: &ModelPipeline, bytes: &[u8]) -> SendRequest {
    let request = SendRequest::decode(black_box(bytes)).unwrap();
    let outcome = pipeline.ingest(&request).unwrap();
    assert_eq!(outcome.accepted, RECORDS as u64);
    request
}

fn server(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let baseline = baseline(dir.path());
    let (plain, _closed) = pipeline(dir.path(), &baseline, "");
    // Feedback alone: every record with an id waits for its label.
    let quality = "[model.quality]\nfeedback = \"thumbs\"";
    let (joining, _joining_closed) = pipeline(dir.path(), &baseline, quality);
    let pipelines = Pipelines {
        plain: &plain,
        joining: &joining,
    };
    bench_form(c, Form::Rows, &baseline, &pipelines);
    bench_form(c, Form::Columnar, &baseline, &pipelines);
}

criterion_group!(benches, server);
criterion_main!(benches);
