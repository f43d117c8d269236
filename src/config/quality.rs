//! `[model.quality]` and `[model.cost]`, validated: which keys of records
//! and outcomes hold the prediction, score, label and feedback, which
//! metrics a model's windows are judged by and against what reference
//! values (the baseline file's quality section, overridden per metric by
//! the config), and the prices that turn token counts into a cost.

use super::duration::parse_duration;
use super::raw::{RawCost, RawQuality};
use crate::baseline::Baseline;
use crate::quality::{Metric, Task};
use crate::stats::quality::estimate::Calibration;
use std::collections::BTreeMap;
use std::time::Duration;

/// A model's quality settings, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityConfig {
    /// What the model predicts; `None` when only feedback is watched.
    pub task: Option<Task>,
    /// The ground truth's key in an outcome's labels.
    pub label: String,
    /// The prediction's key in a record's outputs.
    pub prediction: String,
    /// The positive-class probability's key in a record's outputs.
    pub score: Option<String>,
    /// Binary: the positive class, as text (`1`, `true`, `fraud`).
    pub positive: String,
    /// The metrics computed per window, each applying to the task.
    pub metrics: Vec<Metric>,
    /// A human rating's key in an outcome's labels.
    pub feedback: Option<String>,
    /// A rating below this is negative.
    pub negative_below: f64,
    /// Labelled records at which a window is evaluated (≥ 1).
    pub min_labels: u64,
    /// How long a record waits for its label.
    pub label_ttl: Duration,
    /// Records waiting for labels, at most (≥ 1).
    pub max_pending: usize,
    /// Confidence level of each metric's interval, in (0, 1).
    pub confidence: f64,
    /// Each metric's reference value, from the baseline file or the config.
    pub reference: BTreeMap<Metric, f64>,
    /// Lowest acceptable values (higher-is-better metrics).
    pub min: BTreeMap<Metric, f64>,
    /// Highest acceptable values (lower-is-better metrics).
    pub max: BTreeMap<Metric, f64>,
    /// Largest acceptable drops from the reference value.
    pub max_drop: BTreeMap<Metric, f64>,
    /// The baseline's score calibration (binary with scores): what the
    /// label-free estimate needs.
    pub calibration: Option<Calibration>,
}

/// `[model.cost]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CostConfig {
    pub input_per_token: f64,
    pub output_per_token: f64,
    pub tokens_in: String,
    pub tokens_out: String,
}

/// Where problems go: `(path, message)`.
pub(super) type Report<'a> = &'a mut dyn FnMut(String, String);

/// Validates `[model.quality]` at path `at`.
pub(super) fn quality(
    at: &str,
    raw: &RawQuality,
    baseline: Option<&Baseline>,
    report: Report<'_>,
) -> Option<QualityConfig> {
    let mut ok = true;
    let mut fail = |key: &str, message: String| {
        ok = false;
        report(format!("{at}.{key}"), message);
    };
    let stored = baseline.and_then(|b| b.quality.as_ref());
    let task = match (&raw.task, stored) {
        (Some(t), _) => t.parse::<Task>().map_err(|e| fail("task", e)).ok(),
        (None, Some(q)) => Some(q.task),
        (None, None) if raw.feedback.is_some() => None,
        (None, None) => {
            fail(
                "task",
                "expected binary, multiclass, regression or generation (the baseline has no quality section to take it from; leave it out only with `feedback`)".into(),
            );
            None
        }
    };
    let metrics = metrics(raw, task, &mut fail);
    let tables = [
        ("baseline", &raw.baseline),
        ("min", &raw.min),
        ("max", &raw.max),
        ("max_drop", &raw.max_drop),
    ]
    .map(|(key, table)| metric_table(key, table, &metrics, &mut fail));
    let [overrides, min, max, max_drop] = tables;
    let min_labels = u64::try_from(raw.min_labels)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| {
            fail(
                "min_labels",
                format!("expected at least 1, got {}", raw.min_labels),
            )
        });
    let max_pending = usize::try_from(raw.max_pending)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| {
            fail(
                "max_pending",
                format!("expected at least 1, got {}", raw.max_pending),
            )
        });
    let label_ttl = parse_duration(&raw.label_ttl).map_err(|e| fail("label_ttl", e));
    if !(raw.confidence > 0.0 && raw.confidence < 1.0) {
        fail(
            "confidence",
            format!(
                "expected a level strictly between 0 and 1, got {}",
                raw.confidence
            ),
        );
    }
    if !raw.negative_below.is_finite() {
        fail("negative_below", "expected a finite number".into());
    }
    if raw.score.is_some() && task != Some(Task::Binary) {
        fail(
            "score",
            "a score (positive-class probability) applies to task = \"binary\" only".into(),
        );
    }
    let mut reference: BTreeMap<Metric, f64> = stored
        .map(|q| {
            (q.metrics.iter())
                .filter_map(|(name, &v)| Some((name.parse::<Metric>().ok()?, v)))
                .collect()
        })
        .unwrap_or_default();
    reference.extend(overrides);
    let calibration = stored.and_then(|q| q.calibration.clone());
    let positive = (raw.positive.clone())
        .or_else(|| stored.and_then(|q| q.positive.clone()))
        .unwrap_or_else(|| "1".to_owned());
    if !ok {
        return None;
    }
    Some(QualityConfig {
        task,
        label: raw.label.clone(),
        prediction: raw.prediction.clone(),
        score: raw.score.clone(),
        positive,
        metrics,
        feedback: raw.feedback.clone(),
        negative_below: raw.negative_below,
        min_labels: min_labels.ok()?,
        label_ttl: label_ttl.ok()?,
        max_pending: max_pending.ok()?,
        confidence: raw.confidence,
        reference,
        min,
        max,
        max_drop,
        calibration: calibration.filter(|_| raw.score.is_some()),
    })
}

/// The metrics listed (or the task's defaults, plus feedback's), each
/// checked against the task.
fn metrics(
    raw: &RawQuality,
    task: Option<Task>,
    fail: &mut impl FnMut(&str, String),
) -> Vec<Metric> {
    let Some(names) = &raw.metrics else {
        let mut metrics = task.map_or_else(Vec::new, |t| Metric::defaults(t, raw.score.is_some()));
        if raw.feedback.is_some() {
            metrics.extend([Metric::MeanRating, Metric::NegativeShare]);
        }
        return metrics;
    };
    let mut metrics = Vec::new();
    for (j, name) in names.iter().enumerate() {
        let key = format!("metrics[{j}]");
        match name.parse::<Metric>() {
            Err(e) => fail(&key, e),
            Ok(m) if m.is_feedback() && raw.feedback.is_none() => fail(
                &key,
                format!("{m} reads human feedback: set `feedback` to its label key"),
            ),
            Ok(m) if !m.is_feedback() && !task.is_some_and(|t| m.applies_to(t)) => fail(
                &key,
                format!(
                    "{m} does not apply to task {}",
                    task.map_or("(none)".into(), |t| format!("{t:?}").to_lowercase())
                ),
            ),
            Ok(m) if m.needs_score() && raw.score.is_none() => fail(
                &key,
                format!("{m} needs scores: set `score` to the probability's key in outputs"),
            ),
            Ok(m) => metrics.push(m),
        }
    }
    metrics
}

/// A `metric = value` table, each metric one of the model's.
fn metric_table(
    key: &str,
    table: &BTreeMap<String, f64>,
    metrics: &[Metric],
    fail: &mut impl FnMut(&str, String),
) -> BTreeMap<Metric, f64> {
    let mut checked = BTreeMap::new();
    for (name, &value) in table {
        let at = format!("{key}.{name}");
        match name.parse::<Metric>() {
            Err(e) => fail(&at, e),
            Ok(m) if !metrics.contains(&m) => {
                fail(&at, format!("{m} is not among the model's quality metrics"))
            }
            Ok(_) if !value.is_finite() => fail(&at, "expected a finite number".into()),
            Ok(m) => {
                checked.insert(m, value);
            }
        }
    }
    checked
}

/// Validates `[model.cost]` at path `at`.
pub(super) fn cost(at: &str, raw: &RawCost, report: Report<'_>) -> Option<CostConfig> {
    let mut ok = true;
    for (key, price) in [
        ("input_per_token", raw.input_per_token),
        ("output_per_token", raw.output_per_token),
    ] {
        if !(price.is_finite() && price >= 0.0) {
            ok = false;
            report(
                format!("{at}.{key}"),
                format!("expected a price ≥ 0, got {price}"),
            );
        }
    }
    ok.then(|| CostConfig {
        input_per_token: raw.input_per_token,
        output_per_token: raw.output_per_token,
        tokens_in: raw.tokens_in.clone(),
        tokens_out: raw.tokens_out.clone(),
    })
}
