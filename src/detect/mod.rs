//! Detection: run the configured tests of a current sample against its
//! baseline and say, per feature and for the whole dataset, whether it
//! drifted. A report is plain data (serializable to JSON); where the sample
//! comes from (a file, a live window) is not this module's business.
//!
//! Without `--tests`, each feature gets Evidently's default test and
//! threshold (see [`rule`]), with PSI reported beside it for information.
//! Options may override tests, thresholds and PSI bins per feature
//! ([`DetectOptions::features`]); [`planned_tests`] lists the tests a report
//! will hold without running them. A live window's report
//! ([`WindowReport`]) also carries what the daemon measured of the model's
//! performance in it, which this module only holds, never computes.

pub mod categorical;
pub mod embedding;
pub mod numeric;
mod options;
mod plan;
pub mod rule;

pub use options::{DetectOptions, FeatureOptions, FeatureView};
pub use plan::{PlannedTest, feature_label, planned_tests};

use crate::baseline::{Baseline, Column, Profile};
use crate::quality::QualityReport;
use crate::schema::Kind;
use crate::schema::text::TextMeasure;
use crate::stats::correction::Correction;
use crate::stats::embedding::Centroid;
use crate::stats::quality::estimate::Estimate;
use crate::window::StreamStats;
use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// A statistical test or distance, by the name users write in `--tests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestName {
    Ks,
    Chi2,
    Ztest,
    Psi,
    JensenShannon,
    Kl,
    Hellinger,
    Wasserstein,
    Anderson,
    Cvm,
    MannWhitney,
    /// Embeddings: cosine distance between the centroids.
    Cosine,
    /// Embeddings: Euclidean distance between the centroids.
    Euclidean,
    /// Embeddings: linear-time MMD² with a permutation p-value.
    Mmd,
}

impl TestName {
    /// Every test, in the order reports list them.
    pub const ALL: [TestName; 14] = [
        TestName::Ks,
        TestName::Chi2,
        TestName::Ztest,
        TestName::Psi,
        TestName::JensenShannon,
        TestName::Kl,
        TestName::Hellinger,
        TestName::Wasserstein,
        TestName::Anderson,
        TestName::Cvm,
        TestName::MannWhitney,
        TestName::Cosine,
        TestName::Euclidean,
        TestName::Mmd,
    ];

    /// The name used in `--tests` and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            TestName::Ks => "ks",
            TestName::Chi2 => "chi2",
            TestName::Ztest => "ztest",
            TestName::Psi => "psi",
            TestName::JensenShannon => "jensenshannon",
            TestName::Kl => "kl",
            TestName::Hellinger => "hellinger",
            TestName::Wasserstein => "wasserstein",
            TestName::Anderson => "anderson",
            TestName::Cvm => "cvm",
            TestName::MannWhitney => "mannwhitney",
            TestName::Cosine => "cosine",
            TestName::Euclidean => "euclidean",
            TestName::Mmd => "mmd",
        }
    }

    /// True for tests that decide by a p-value (drift when p < threshold);
    /// the others are distances (drift when score ≥ threshold).
    pub fn is_p_value(self) -> bool {
        matches!(
            self,
            TestName::Ks
                | TestName::Chi2
                | TestName::Ztest
                | TestName::Anderson
                | TestName::Cvm
                | TestName::MannWhitney
                | TestName::Mmd
        )
    }

    /// Evidently's default threshold for the test.
    pub fn default_threshold(self) -> f64 {
        if self.is_p_value() { 0.05 } else { 0.1 }
    }

    /// Whether the test applies to values of this kind (text descriptors
    /// are numeric; embeddings have tests of their own).
    pub fn applies_to(self, kind: Kind) -> bool {
        match self {
            TestName::Cosine | TestName::Euclidean | TestName::Mmd => kind == Kind::Embedding,
            _ if kind == Kind::Embedding => false,
            TestName::Chi2 | TestName::Ztest => kind == Kind::Categorical,
            TestName::Psi | TestName::JensenShannon | TestName::Kl | TestName::Hellinger => true,
            _ => kind != Kind::Categorical,
        }
    }
}

impl fmt::Display for TestName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TestName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TestName::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = TestName::ALL.iter().map(|t| t.as_str()).collect();
                format!("unknown test {s:?}: expected one of {}", names.join(", "))
            })
    }
}

/// The current values of one baseline column.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Numeric(Vec<f64>),
    Categorical(FxHashMap<String, u64>),
    Text(TextValues),
    Embedding(EmbeddingValues),
}

/// The current values of an embedding column: the mean of every vector,
/// and the vectors themselves (a window's bounded sample of them), row
/// after row.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingValues {
    pub centroid: Centroid,
    pub rows: Vec<f32>,
}

/// The current values of a text column: what its texts are measured by,
/// and one vector per descriptor, in the measure's order.
#[derive(Debug, Clone, PartialEq)]
pub struct TextValues {
    pub measure: Arc<TextMeasure>,
    pub descriptors: Vec<Vec<f64>>,
}

impl TextValues {
    /// No values yet of `measure`'s descriptors.
    pub fn empty(measure: &Arc<TextMeasure>) -> TextValues {
        TextValues {
            measure: measure.clone(),
            descriptors: vec![Vec::new(); measure.len()],
        }
    }
}

impl Values {
    /// An empty sample of a column profiled as `profile`.
    pub fn empty(profile: &Profile) -> Values {
        match profile {
            Profile::Numeric(_) => Values::Numeric(Vec::new()),
            Profile::Categorical(_) => Values::Categorical(FxHashMap::default()),
            Profile::Text(p) => Values::Text(TextValues::empty(p.measure())),
            Profile::Embedding(p) => Values::Embedding(EmbeddingValues {
                centroid: Centroid::new(p.dimension()).expect("a profile's dimension is ≥ 1"),
                rows: Vec::new(),
            }),
        }
    }

    /// Number of (non-missing) values.
    pub fn len(&self) -> u64 {
        match self {
            Values::Numeric(v) => v.len() as u64,
            Values::Categorical(m) => m.values().sum(),
            Values::Text(t) => t.descriptors.first().map_or(0, |v| v.len() as u64),
            Values::Embedding(e) => e.centroid.count(),
        }
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A current sample: per baseline column (same order), its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub rows: u64,
    pub columns: Vec<ColumnSample>,
}

/// The current values of one column and how many were missing.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSample {
    pub missing: u64,
    pub values: Values,
}

/// One value as a reader took it for its column's kind, ready to be added
/// to a [`ColumnSample`]: every reader (a data file, a live record) decides
/// what a value means and checks its kind, then adds it the same way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Datum<'a> {
    /// No value.
    Missing,
    /// A value of a numeric column.
    Number(f64),
    /// A value of a categorical column; an empty label is missing, as an
    /// empty CSV field is.
    Label(&'a str),
    /// A value of a text column, added as its descriptors.
    Text(&'a str),
    /// A vector of an embedding column, of its dimension, every component
    /// finite.
    Embedding(&'a [f32]),
}

impl ColumnSample {
    /// An empty sample of a column profiled as `profile`.
    pub fn empty(profile: &Profile) -> ColumnSample {
        ColumnSample {
            missing: 0,
            values: Values::empty(profile),
        }
    }

    /// Adds `n` occurrences of `datum`. Panics when the datum does not fit
    /// the column's kind: readers check kinds first, so that is a bug.
    pub fn add(&mut self, datum: Datum<'_>, n: u64) {
        match (&mut self.values, datum) {
            (_, Datum::Missing) | (Values::Categorical(_), Datum::Label("")) => self.missing += n,
            (Values::Numeric(v), Datum::Number(x)) => v.resize(v.len() + n as usize, x),
            (Values::Categorical(counts), Datum::Label(label)) => {
                // Counting by &str allocates only for a label not seen before.
                match counts.get_mut(label) {
                    Some(count) => *count += n,
                    None => {
                        counts.insert(label.to_owned(), n);
                    }
                }
            }
            (Values::Text(t), Datum::Text(text)) => {
                let grow = |values: &mut Vec<f64>, x| values.resize(values.len() + n as usize, x);
                t.measure.measure_into(text, &mut t.descriptors, grow);
            }
            (Values::Embedding(e), Datum::Embedding(vector)) => {
                for _ in 0..n {
                    e.centroid.add(vector).expect("readers check embeddings");
                    e.rows.extend_from_slice(vector);
                }
            }
            (_, datum) => panic!("{datum:?} does not fit the kind of this column"),
        }
    }
}

/// The outcome of one test on one feature (or one text descriptor).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestReport {
    pub test: TestName,
    /// The text descriptor tested, for text features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<String>,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    /// The p-value after the multiple-testing correction, when one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value_adjusted: Option<f64>,
    pub threshold: f64,
    /// `None` when the test could not run (see `error`).
    pub drifted: Option<bool>,
    /// False for tests reported for information only (PSI beside the
    /// default test): they do not decide the feature's verdict.
    pub decisive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Whether a feature could be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    InsufficientData,
}

/// The verdict on one feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureReport {
    pub name: String,
    pub kind: Kind,
    /// Rows in the current sample.
    pub rows: u64,
    /// Of which missing for this feature.
    pub missing: u64,
    pub status: Status,
    pub tests: Vec<TestReport>,
    /// `None` when there was not enough data to judge.
    pub drifted: Option<bool>,
}

/// The verdict on a whole current sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub model: String,
    pub rows: u64,
    pub baseline_rows: u64,
    pub features: Vec<FeatureReport>,
    /// Features judged (not insufficient data).
    pub evaluated_features: u64,
    pub drifted_features: u64,
    /// Drifted / evaluated features (0 when none was evaluated).
    pub drift_share: f64,
    /// The share at which the dataset counts as drifted.
    pub drift_share_threshold: f64,
    pub drifted: bool,
    /// The p-value correction applied across features.
    pub correction: &'static str,
}

/// The span of a live window: what the daemon's report of a window adds to
/// a [`Report`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowSpan {
    /// When the window opened (its first record's arrival, or the end of
    /// the window before it).
    pub start: DateTime<Utc>,
    /// When it closed.
    pub end: DateTime<Utc>,
    /// Records accepted into it.
    pub records: u64,
}

/// The report of one live window: the same JSON as `driftwatch report`,
/// plus the window's span under `window` and, flattened beside them, how
/// the model performed ([`Performance`]: operational metrics, the
/// label-free estimate, or the quality of the window's delayed labels).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowReport {
    pub window: WindowSpan,
    #[serde(flatten)]
    pub report: Report,
    #[serde(flatten)]
    pub performance: Performance,
}

/// What a live window's report says beyond drift: how the model performs.
/// A report of a window's delayed labels carries `quality` and no
/// features; a drift report carries the rest.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Performance {
    /// Operational metrics (latency, tokens, cost, …) by key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, StreamStats>,
    /// The label-free quality estimate (binary classifiers with scores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
    /// The quality measured from the window's labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<QualityReport>,
}

/// Tests `sample` against `baseline`. `sample.columns` must follow
/// `baseline.columns` one to one.
pub fn detect(baseline: &Baseline, sample: &Sample, options: &DetectOptions) -> Report {
    assert_eq!(baseline.columns.len(), sample.columns.len());
    let pairs: Vec<(&Column, &ColumnSample)> =
        baseline.columns.iter().zip(&sample.columns).collect();
    let mut features = parallel_map(&pairs, |(column, current)| {
        feature_report(column, current, sample.rows, options)
    });
    apply_correction(&mut features, options);
    summarize(baseline, sample.rows, features, options)
}

/// The report of a window that ran no test: `rows` rows, no feature
/// judged (so no drift subject can be read from it). A window's delayed
/// labels are reported this way, beside their quality.
pub fn featureless(baseline: &Baseline, rows: u64, options: &DetectOptions) -> Report {
    summarize(baseline, rows, Vec::new(), options)
}

/// Maps `items` on every available core, keeping their order. Features
/// are independent, so a report uses the whole machine.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a feature's tests do not panic"))
            .collect()
    })
}

fn feature_report(
    column: &Column,
    current: &ColumnSample,
    rows: u64,
    options: &DetectOptions,
) -> FeatureReport {
    let enough = current.values.len() >= options.min_samples.max(1);
    let tests = if enough {
        run_tests(column, &current.values, &options.feature(&column.name))
    } else {
        Vec::new()
    };
    FeatureReport {
        name: column.name.clone(),
        kind: column.profile.kind(),
        rows,
        missing: current.missing,
        status: if enough {
            Status::Ok
        } else {
            Status::InsufficientData
        },
        tests,
        drifted: None,
    }
}

fn run_tests(column: &Column, values: &Values, options: &FeatureView<'_>) -> Vec<TestReport> {
    match (&column.profile, values) {
        (Profile::Numeric(p), Values::Numeric(v)) => {
            numeric::run(p, column.count, v, None, options)
        }
        (Profile::Categorical(p), Values::Categorical(v)) => categorical::run(p, v, options),
        (Profile::Text(p), Values::Text(t)) => (p.descriptors.iter())
            .zip(&t.descriptors)
            .flat_map(|(desc, v)| {
                numeric::run(&desc.profile, column.count, v, Some(&desc.name), options)
            })
            .collect(),
        (Profile::Embedding(p), Values::Embedding(e)) => embedding::run(p, e, options),
        _ => panic!("sample of column {} does not match its kind", column.name),
    }
}

/// Adjusts the deciding p-values across all features and re-decides them.
fn apply_correction(features: &mut [FeatureReport], options: &DetectOptions) {
    if options.correction == Correction::None {
        return;
    }
    let mut deciding: Vec<&mut TestReport> = features
        .iter_mut()
        .flat_map(|f| f.tests.iter_mut())
        .filter(|t| t.decisive && t.test.is_p_value() && t.p_value.is_some())
        .collect();
    let raw: Vec<f64> = deciding
        .iter()
        .map(|t| t.p_value.unwrap_or(f64::NAN))
        .collect();
    for (test, adjusted) in deciding.iter_mut().zip(options.correction.adjust(&raw)) {
        test.p_value_adjusted = Some(adjusted);
        test.drifted = Some(adjusted < test.threshold);
    }
}

fn summarize(
    baseline: &Baseline,
    rows: u64,
    mut features: Vec<FeatureReport>,
    options: &DetectOptions,
) -> Report {
    for f in &mut features {
        if f.status == Status::Ok {
            let decisive = f.tests.iter().filter(|t| t.decisive);
            f.drifted = Some(decisive.filter_map(|t| t.drifted).any(|d| d));
        }
    }
    let evaluated = features.iter().filter(|f| f.drifted.is_some()).count() as u64;
    let drifted = features.iter().filter(|f| f.drifted == Some(true)).count() as u64;
    let share = if evaluated == 0 {
        0.0
    } else {
        drifted as f64 / evaluated as f64
    };
    Report {
        model: baseline.model.clone(),
        rows,
        baseline_rows: baseline.rows,
        features,
        evaluated_features: evaluated,
        drifted_features: drifted,
        drift_share: share,
        drift_share_threshold: options.drift_share,
        drifted: evaluated > 0 && share >= options.drift_share,
        correction: options.correction.name(),
    }
}

/// Builds the report of one test from its result.
pub(crate) fn test_report(
    test: TestName,
    descriptor: Option<&str>,
    decisive: bool,
    options: &FeatureView<'_>,
    result: Result<(f64, Option<f64>), String>,
) -> TestReport {
    let threshold = options.threshold(test);
    let finite = |x: f64| x.is_finite().then_some(x);
    let (statistic, p_value, error) = match result {
        Ok((s, p)) => (finite(s), p.and_then(finite), None),
        Err(e) => (None, None, Some(e)),
    };
    let drifted = if test.is_p_value() {
        p_value.map(|p| p < threshold)
    } else {
        statistic.map(|s| s >= threshold)
    };
    TestReport {
        test,
        descriptor: descriptor.map(str::to_owned),
        statistic,
        p_value,
        p_value_adjusted: None,
        threshold,
        drifted,
        decisive,
        error,
    }
}

#[cfg(test)]
mod tests;
