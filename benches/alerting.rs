//! What alerting adds to each window, beside what judging the window costs:
//! `detect` (the tests of a window of 1000 records of the loans example
//! against its baseline, the work every window does anyway) and `alert`
//! (the rules on its report, the notification groups, the routes, and the
//! one durable transaction of the report, its transitions, the alert
//! states and the outbox entries — `synchronous=FULL`, so a disk flush).
//! The windows alternate between drifted and clean, so every window makes
//! the window rule fire or resolve and the feature rule change its group.

use chrono::Utc;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use driftwatch::alert::{AlertEngine, Groups};
use driftwatch::baseline::Baseline;
use driftwatch::config::{self, Config};
use driftwatch::detect::{DetectOptions, Sample, WindowReport, WindowSpan, detect};
use driftwatch::ingest::validate::validate_into;
use driftwatch::ingest::{ModelSchema, UnknownFields};
use driftwatch::notify::Routes;
use driftwatch::store::db::{Commit, Db, NewReport};
use driftwatch::traffic::{Form, Traffic};
use std::hint::black_box;
use std::path::Path;

const RECORDS: usize = 1000;

/// The loans model with a window rule and a feature rule, both notifying a
/// webhook.
fn config(data_dir: &Path) -> Config {
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans/baseline.json");
    let toml = format!(
        r#"
[server]
data_dir = '{data}'
[[model]]
name = "loans"
baseline = '{baseline}'
[[rule]]
name = "drift"
model = "loans"
when = "drift_share >= 0.5"
notify = ["hook"]
[[rule]]
name = "each"
model = "loans"
feature = "*"
group_wait = "0s"
group_interval = "1ms"
notify = ["hook"]
[[notifier]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:9/hook"
"#,
        data = data_dir.display(),
        baseline = baseline.display(),
    );
    config::from_toml(&toml, &|_| None, Path::new("/")).unwrap()
}

/// A window of `RECORDS` records, drifted or not.
fn sample(baseline: &Baseline, drift: f64) -> Sample {
    let schema = ModelSchema::new(baseline, UnknownFields::Reject);
    let request = Traffic::new(baseline, drift, 7)
        .unwrap()
        .for_model("loans")
        .batch(Form::Rows, RECORDS);
    let mut sample = schema.empty_sample();
    validate_into(&schema, &request, &mut sample).unwrap();
    sample
}

fn alerting(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let model = &config.models[0];
    let options = DetectOptions::from(model);
    let samples = [sample(&model.baseline, 1.0), sample(&model.baseline, 0.0)];
    let db = Db::open(dir.path()).unwrap();
    let mut engine = AlertEngine::new(&config.rules);
    let mut groups = Groups::new(&config.rules);
    let mut routes = Routes::new(&config.notifiers);
    let mut group = c.benchmark_group("window");
    group.bench_function("detect", |b| {
        b.iter(|| black_box(detect(&model.baseline, &samples[0], &options)));
    });
    let reports = samples.map(|s| {
        let now = Utc::now();
        let window = WindowSpan {
            start: now,
            end: now,
            records: RECORDS as u64,
        };
        WindowReport {
            performance: Default::default(),
            window,
            report: detect(&model.baseline, &s, &options),
        }
    });
    let mut n = 0usize;
    group.bench_function("alert", |b| {
        b.iter_batched(
            || {
                n += 1;
                let mut report = reports[n % 2].clone();
                report.window.end = Utc::now();
                report
            },
            |report| {
                let now = Utc::now();
                let mut commit = Commit {
                    report: Some(NewReport {
                        model: "loans".into(),
                        window_start: report.window.start,
                        window_end: report.window.end,
                        records: report.window.records,
                        drift_share: Some(report.report.drift_share),
                        json: serde_json::to_string(&report).unwrap(),
                    }),
                    ..Commit::default()
                };
                for t in engine.evaluate(&report) {
                    groups.add(t, now);
                }
                for notice in groups.due(now + chrono::Duration::seconds(1)) {
                    let (entries, states) = routes.entries(&notice, now);
                    commit.outbox.extend(entries);
                    commit.states.extend(states);
                }
                commit
                    .states
                    .push(("alerts/loans".into(), engine.save("loans")));
                commit
                    .states
                    .push(("groups/loans".into(), groups.save("loans")));
                db.commit(&commit).unwrap();
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, alerting);
criterion_main!(benches);
