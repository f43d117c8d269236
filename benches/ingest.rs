//! The cost of ingest validation per record beside prost's bare decode of
//! the same bytes: a batch of 1000 records of 25 features (20 numeric, 5
//! categorical), in the row form and in the columnar form. The targets:
//! row form decode + validate ≤ 1.5× the bare decode; columnar form ≤ 1 µs
//! per record, decode included.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use driftwatch::baseline::build::{BuildOptions, build};
use driftwatch::baseline::profile::ProfileLimits;
use driftwatch::ingest::validate::validate_into;
use driftwatch::ingest::{ModelSchema, UnknownFields};
use driftwatch::proto::v1::{
    Column, DictionaryColumn, NumberColumn, Record, Section, SendRequest, Value, column, value,
};
use prost::Message;
use std::fmt::Write as _;
use std::hint::black_box;

const RECORDS: usize = 1000;
const NUMERIC: usize = 20;
const CATEGORICAL: usize = 5;
const LABELS: [&str; 4] = ["home", "car", "education", "business"];

fn schema() -> ModelSchema {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("reference.csv");
    let mut csv = String::new();
    let names: Vec<String> = (0..NUMERIC)
        .map(|i| format!("n{i}"))
        .chain((0..CATEGORICAL).map(|i| format!("c{i}")))
        .collect();
    writeln!(csv, "{}", names.join(",")).unwrap();
    for r in 0..200 {
        let numbers = (0..NUMERIC).map(|i| format!("{}", (r * 7 + i) % 100));
        let labels = (0..CATEGORICAL).map(|i| LABELS[(r + i) % 4].to_string());
        writeln!(
            csv,
            "{}",
            numbers.chain(labels).collect::<Vec<_>>().join(",")
        )
        .unwrap();
    }
    std::fs::write(&input, csv).unwrap();
    let options = BuildOptions {
        input,
        model: "bench".into(),
        kinds: Default::default(),
        ignore: Default::default(),
        limits: ProfileLimits::default(),
    };
    ModelSchema::new(
        &build(&options, &mut |_, _| {}).unwrap(),
        UnknownFields::Reject,
    )
}

fn number(r: usize, i: usize) -> f64 {
    ((r * 31 + i * 17) % 1000) as f64 / 7.0
}

fn label(r: usize, i: usize) -> usize {
    (r * 3 + i) % LABELS.len()
}

fn rows() -> SendRequest {
    let records = (0..RECORDS)
        .map(|r| {
            let numbers =
                (0..NUMERIC).map(|i| (format!("n{i}"), value::Kind::Number(number(r, i))));
            let labels = (0..CATEGORICAL).map(|i| {
                (
                    format!("c{i}"),
                    value::Kind::Category(LABELS[label(r, i)].into()),
                )
            });
            Record {
                id: format!("req-{r}"),
                features: numbers
                    .chain(labels)
                    .map(|(k, v)| (k, Value { kind: Some(v) }))
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    SendRequest {
        model: "bench".into(),
        records,
        ..Default::default()
    }
}

fn columns() -> SendRequest {
    let feature = |name: String, data| Column {
        name,
        section: Section::Features as i32,
        validity: vec![],
        data: Some(data),
    };
    let numbers = (0..NUMERIC).map(|i| {
        let values = (0..RECORDS).map(|r| number(r, i)).collect();
        feature(
            format!("n{i}"),
            column::Data::Numbers(NumberColumn { values }),
        )
    });
    let labels = (0..CATEGORICAL).map(|i| {
        let codes = (0..RECORDS).map(|r| label(r, i) as u32).collect();
        let dictionary = LABELS.iter().map(|l| l.to_string()).collect();
        let data = column::Data::Categories(DictionaryColumn { dictionary, codes });
        feature(format!("c{i}"), data)
    });
    SendRequest {
        model: "bench".into(),
        columns: numbers.chain(labels).collect(),
        row_count: RECORDS as u32,
        ..Default::default()
    }
}

fn bench_form(c: &mut Criterion, form: &str, request: SendRequest, schema: &ModelSchema) {
    let bytes = request.encode_to_vec();
    let mut group = c.benchmark_group(format!("ingest/{form}"));
    group.throughput(Throughput::Elements(RECORDS as u64));
    // Both routines hand what they made back to criterion, which drops it
    // outside the timing, one at a time (holding many decoded batches at
    // once costs page faults that would blur the comparison): the two
    // differ by validation alone.
    group.bench_function("decode", |b| {
        b.iter_batched(
            || schema.empty_sample(),
            |sample| (SendRequest::decode(black_box(&bytes[..])).unwrap(), sample),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("decode+validate", |b| {
        b.iter_batched(
            || schema.empty_sample(),
            |mut sample| {
                let request = SendRequest::decode(black_box(&bytes[..])).unwrap();
                let outcome = validate_into(schema, &request, &mut sample).unwrap();
                assert_eq!(outcome.accepted, RECORDS as u64);
                (request, sample)
            },
            BatchSize::PerIteration,
        )
    });
    // Validation alone, of a batch decoded once: the cost the server adds
    // to prost's, without the allocator noise of decoding beside it.
    let decoded = SendRequest::decode(&bytes[..]).unwrap();
    group.bench_function("validate", |b| {
        b.iter_batched(
            || schema.empty_sample(),
            |mut sample| {
                validate_into(schema, black_box(&decoded), &mut sample).unwrap();
                sample
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn ingest(c: &mut Criterion) {
    let schema = schema();
    bench_form(c, "rows", rows(), &schema);
    bench_form(c, "columns", columns(), &schema);
}

criterion_group!(benches, ingest);
criterion_main!(benches);
