//! The model's quality on the reference data, frozen into the baseline by
//! `baseline build --label COL --prediction COL [--score COL]`: the value of
//! each quality metric on the training/validation rows (what a live
//! window's quality is compared with) and, given scores of a binary
//! classifier, the calibration that the label-free estimate needs
//! ([`crate::stats::quality::estimate`]).
//!
//! The metrics are those of [`crate::stats::quality`], computed on every row
//! that has a label, a prediction (and a score, when one is named), so they
//! equal scikit-learn's on those rows. The rows are kept while the file is
//! read: labels and predictions as class numbers (4 bytes each) or numbers
//! (8 bytes each), and scores (8 bytes), about 16–24 bytes a row — 24 MB for
//! a million rows, beside the bounded profiles of the columns.

use crate::dataset::Cell;
use crate::schema::{number_label, parse_number};
pub use crate::stats::quality::Task;
use crate::stats::quality::estimate::Calibration;
use crate::stats::quality::{QualityError, classification, regression, scores};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which columns hold the ground truth, the prediction and the score.
#[derive(Debug, Clone, PartialEq)]
pub struct QualitySpec {
    pub label: String,
    pub prediction: String,
    /// The positive class's probability (binary classifiers).
    pub score: Option<String>,
    /// Inferred from the labels when not given.
    pub task: Option<Task>,
    /// Binary: the positive class; default `1` or `true`, whichever occurs.
    pub positive: Option<String>,
}

/// The quality section of a baseline file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineQuality {
    pub task: Task,
    /// The columns the metrics were computed from.
    pub label: String,
    pub prediction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    /// Binary: the positive class, as text (`1`, `true`, `fraud`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<String>,
    /// Rows the metrics were computed on.
    pub rows: u64,
    /// Rows left out because the label, the prediction or the score was
    /// missing.
    pub skipped: u64,
    /// Each metric's value on those rows, by name (`accuracy`, `f1`,
    /// `roc_auc`, `mae`, …).
    pub metrics: BTreeMap<String, f64>,
    /// Binary with scores: the isotonic calibration of the scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

/// Why the quality section could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QualityBuildError {
    #[error(
        "--label {label:?}, --prediction {prediction:?}: no row has a label and a prediction{and_score}"
    )]
    NoRows {
        label: String,
        prediction: String,
        and_score: String,
    },
    #[error(
        "--task generation: reference quality of a generation model is not computed from a data file; set it in the daemon's config, [model.quality] baseline = {{ rougeL = … }}"
    )]
    Generation,
    #[error("--task regression: column {column:?} holds {got:?}, which is not a number")]
    NotNumber { column: String, got: String },
    #[error("--score column {column:?} holds {got}: expected a probability in [0, 1]")]
    NotProbability { column: String, got: String },
    #[error(
        "--task binary: the labels and predictions hold {classes}; name the positive class with --positive"
    )]
    NoPositive { classes: String },
    #[error("--positive {positive:?} is none of the classes ({classes})")]
    UnknownPositive { positive: String, classes: String },
    #[error(
        "--task binary: the labels and predictions hold {count} classes ({classes}); use --task multiclass"
    )]
    TooManyClasses { count: usize, classes: String },
    #[error("{metric}: {source}")]
    Metric {
        metric: &'static str,
        source: QualityError,
    },
}

/// Collects the quality columns of every row while the file is read.
#[derive(Debug)]
pub struct QualityBuilder {
    spec: QualitySpec,
    /// Class number of each name, and the names by number.
    classes: FxHashMap<String, u32>,
    names: Vec<String>,
    labels: Vec<u32>,
    predictions: Vec<u32>,
    /// The same rows as numbers, while every label and prediction is one.
    numbers: Option<(Vec<f64>, Vec<f64>)>,
    scores: Vec<f64>,
    skipped: u64,
    scratch: String,
}

impl QualityBuilder {
    pub fn new(spec: QualitySpec) -> QualityBuilder {
        QualityBuilder {
            spec,
            classes: FxHashMap::default(),
            names: Vec::new(),
            labels: Vec::new(),
            predictions: Vec::new(),
            numbers: Some((Vec::new(), Vec::new())),
            scores: Vec::new(),
            skipped: 0,
            scratch: String::new(),
        }
    }

    /// Adds one row's label, prediction and score cells.
    pub fn add(
        &mut self,
        label: &Cell,
        prediction: &Cell,
        score: Option<&Cell>,
    ) -> Result<(), QualityBuildError> {
        let missing = |c: &Cell| c.is_missing(false);
        if missing(label) || missing(prediction) || score.is_some_and(missing) {
            self.skipped += 1;
            return Ok(());
        }
        if let Some(cell) = score {
            self.scores.push(self.probability(cell)?);
        }
        let (l, p) = (self.class(label), self.class(prediction));
        self.labels.push(l);
        self.predictions.push(p);
        self.numbers = self.numbers.take().and_then(|(mut ls, mut ps)| {
            ls.push(number(label)?);
            ps.push(number(prediction)?);
            Some((ls, ps))
        });
        Ok(())
    }

    fn probability(&self, cell: &Cell) -> Result<f64, QualityBuildError> {
        let column = self.spec.score.clone().unwrap_or_default();
        match number(cell) {
            Some(x) if (0.0..=1.0).contains(&x) => Ok(x),
            Some(x) => Err(QualityBuildError::NotProbability {
                column,
                got: x.to_string(),
            }),
            None => Err(QualityBuildError::NotProbability {
                column,
                got: format!("{:?}", text(cell, &mut String::new())),
            }),
        }
    }

    fn class(&mut self, cell: &Cell) -> u32 {
        let name = text(cell, &mut self.scratch);
        if let Some(&id) = self.classes.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.classes.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }

    /// The quality section: the task decided, every metric computed.
    pub fn finish(self) -> Result<BaselineQuality, QualityBuildError> {
        if self.labels.is_empty() {
            return Err(QualityBuildError::NoRows {
                label: self.spec.label.clone(),
                prediction: self.spec.prediction.clone(),
                and_score: (self.spec.score.as_ref())
                    .map_or(String::new(), |s| format!(" and a score in {s:?}")),
            });
        }
        let task = self.task()?;
        let mut quality = BaselineQuality {
            task,
            label: self.spec.label.clone(),
            prediction: self.spec.prediction.clone(),
            score: self.spec.score.clone(),
            positive: None,
            rows: self.labels.len() as u64,
            skipped: self.skipped,
            metrics: BTreeMap::new(),
            calibration: None,
        };
        match task {
            Task::Regression => self.regression(&mut quality)?,
            Task::Multiclass => self.sorted_classes().multiclass(&mut quality)?,
            Task::Binary => self.sorted_classes().binary(&mut quality)?,
            Task::Generation => return Err(QualityBuildError::Generation),
        }
        Ok(quality)
    }

    /// The task given, or: numbers with more than 10 distinct labels are a
    /// regression, at most two classes binary, more multiclass.
    fn task(&self) -> Result<Task, QualityBuildError> {
        if let Some(task) = self.spec.task {
            return Ok(task);
        }
        let distinct_labels = {
            let mut seen: Vec<u32> = self.labels.clone();
            seen.sort_unstable();
            seen.dedup();
            seen.len()
        };
        Ok(match (&self.numbers, self.names.len()) {
            (Some(_), _) if distinct_labels > 10 => Task::Regression,
            (_, 0..=2) => Task::Binary,
            _ => Task::Multiclass,
        })
    }

    /// Renumbers the classes in the order of their names, so that macro
    /// averages add classes in scikit-learn's (sorted) order.
    fn sorted_classes(mut self) -> QualityBuilder {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut rank = vec![0u32; order.len()];
        for (r, &id) in order.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        for id in self.labels.iter_mut().chain(self.predictions.iter_mut()) {
            *id = rank[*id as usize];
        }
        self.names = order
            .iter()
            .map(|&id| self.names[id as usize].clone())
            .collect();
        self
    }

    fn regression(&self, quality: &mut BaselineQuality) -> Result<(), QualityBuildError> {
        let (truth, predicted) = self.numbers.as_ref().ok_or_else(|| self.not_a_number())?;
        let metrics = [
            ("mae", regression::mae as fn(&[f64], &[f64]) -> _),
            ("rmse", regression::rmse),
            ("mape", regression::mape),
        ];
        for (name, metric) in metrics {
            let value = metric(truth, predicted).map_err(|source| QualityBuildError::Metric {
                metric: name,
                source,
            })?;
            quality.metrics.insert(name.into(), value);
        }
        Ok(())
    }

    fn not_a_number(&self) -> QualityBuildError {
        let (column, id) = match self
            .labels
            .iter()
            .find(|&&l| parse_number(&self.names[l as usize]).is_none())
        {
            Some(&l) => (&self.spec.label, l),
            None => {
                let p = self
                    .predictions
                    .iter()
                    .find(|&&p| parse_number(&self.names[p as usize]).is_none());
                (
                    &self.spec.prediction,
                    *p.expect("a row that is not a number"),
                )
            }
        };
        QualityBuildError::NotNumber {
            column: column.clone(),
            got: self.names[id as usize].clone(),
        }
    }

    fn multiclass(&self, quality: &mut BaselineQuality) -> Result<(), QualityBuildError> {
        let (t, p) = (&self.labels, &self.predictions);
        insert(quality, "accuracy", classification::accuracy(t, p))?;
        let macro_ =
            classification::macro_scores(t, p).map_err(|source| QualityBuildError::Metric {
                metric: "macro_f1",
                source,
            })?;
        quality
            .metrics
            .insert("macro_precision".into(), macro_.precision);
        quality.metrics.insert("macro_recall".into(), macro_.recall);
        quality.metrics.insert("macro_f1".into(), macro_.f1);
        Ok(())
    }

    fn binary(&self, quality: &mut BaselineQuality) -> Result<(), QualityBuildError> {
        let positive = self.positive()?;
        quality.positive = Some(self.names[positive as usize].clone());
        self.multiclass(quality)?;
        let one = classification::binary_scores(&self.labels, &self.predictions, &positive)
            .map_err(|source| QualityBuildError::Metric {
                metric: "f1",
                source,
            })?;
        quality.metrics.insert("precision".into(), one.precision);
        quality.metrics.insert("recall".into(), one.recall);
        quality.metrics.insert("f1".into(), one.f1);
        if self.spec.score.is_some() {
            let truth: Vec<bool> = self.labels.iter().map(|&l| l == positive).collect();
            insert(quality, "log_loss", scores::log_loss(&truth, &self.scores))?;
            // One class in the labels: ROC AUC is undefined, so it is left
            // out rather than stored as a number.
            if let Ok(auc) = scores::roc_auc(&truth, &self.scores) {
                quality.metrics.insert("roc_auc".into(), auc);
            }
            quality.calibration =
                Some(Calibration::fit(&truth, &self.scores).map_err(|source| {
                    QualityBuildError::Metric {
                        metric: "calibration",
                        source,
                    }
                })?);
        }
        Ok(())
    }

    /// The positive class's number: `--positive`, else `1` or `true`.
    fn positive(&self) -> Result<u32, QualityBuildError> {
        let classes = self.names.join(", ");
        if self.names.len() > 2 {
            return Err(QualityBuildError::TooManyClasses {
                count: self.names.len(),
                classes,
            });
        }
        let find = |name: &str| self.names.iter().position(|n| n == name).map(|i| i as u32);
        match &self.spec.positive {
            Some(positive) => find(positive).ok_or_else(|| QualityBuildError::UnknownPositive {
                positive: positive.clone(),
                classes,
            }),
            None => find("1")
                .or_else(|| find("true"))
                .ok_or(QualityBuildError::NoPositive { classes }),
        }
    }
}

fn insert(
    quality: &mut BaselineQuality,
    metric: &'static str,
    value: Result<f64, QualityError>,
) -> Result<(), QualityBuildError> {
    let value = value.map_err(|source| QualityBuildError::Metric { metric, source })?;
    quality.metrics.insert(metric.into(), value);
    Ok(())
}

/// A cell as a class name: numbers by their shortest text (`1.0` is `1`),
/// so that a label read as a number and one read as text agree.
fn text<'a>(cell: &'a Cell, scratch: &'a mut String) -> &'a str {
    match cell {
        Cell::Number(x) => number_label(*x, scratch),
        Cell::Text(s) => match parse_number(s) {
            Some(x) => number_label(x, scratch),
            None => s,
        },
        Cell::Bool(b) => {
            if *b {
                "true"
            } else {
                "false"
            }
        }
        Cell::Missing => "",
    }
}

/// A cell as a number: a number, numeric text, or a boolean as 1 or 0.
fn number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Number(x) => x.is_finite().then_some(*x),
        Cell::Text(s) => parse_number(s),
        Cell::Bool(b) => Some(f64::from(u8::from(*b))),
        Cell::Missing => None,
    }
}

#[cfg(test)]
mod tests;
