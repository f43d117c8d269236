//! The quality metrics a model can be watched by: their names (as config,
//! rules, reports and metrics spell them), which task each belongs to,
//! which way is better, and how one window's value and confidence
//! interval are computed from its labelled pairs with `stats::quality`.
//!
//! Intervals: Wilson for proportions (accuracy, exact match, the share of
//! negative ratings), a seeded percentile bootstrap for the rest, none for
//! corpus BLEU (a corpus statistic that does not resample cheaply).

use super::window::{Labelled, Pairs};
pub use crate::stats::quality::Task;
use crate::stats::quality::estimate::Estimate;
use crate::stats::quality::interval::{Interval, bootstrap, wilson};
use crate::stats::quality::{
    QualityError, classification, generation, np_mean, regression, scores,
};
use std::fmt;
use std::str::FromStr;

/// Resamples of a bootstrap interval: enough for a 95% interval's ends to
/// within a few thousandths, cheap on a window's bounded pairs.
const BOOTSTRAP_RESAMPLES: usize = 200;

/// One quality metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Accuracy,
    Precision,
    Recall,
    F1,
    MacroPrecision,
    MacroRecall,
    MacroF1,
    RocAuc,
    LogLoss,
    Mae,
    Rmse,
    Mape,
    ExactMatch,
    Rouge1,
    Rouge2,
    RougeL,
    Bleu,
    /// Human feedback: the mean rating.
    MeanRating,
    /// Human feedback: the share of negative ratings.
    NegativeShare,
}

impl Metric {
    /// Every metric, in the order reports list them.
    pub const ALL: [Metric; 19] = [
        Metric::Accuracy,
        Metric::Precision,
        Metric::Recall,
        Metric::F1,
        Metric::MacroPrecision,
        Metric::MacroRecall,
        Metric::MacroF1,
        Metric::RocAuc,
        Metric::LogLoss,
        Metric::Mae,
        Metric::Rmse,
        Metric::Mape,
        Metric::ExactMatch,
        Metric::Rouge1,
        Metric::Rouge2,
        Metric::RougeL,
        Metric::Bleu,
        Metric::MeanRating,
        Metric::NegativeShare,
    ];

    /// The name in config, rules (`metric.f1`), reports and metric labels;
    /// the baseline file's `quality.metrics` uses the same names.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::F1 => "f1",
            Metric::MacroPrecision => "macro_precision",
            Metric::MacroRecall => "macro_recall",
            Metric::MacroF1 => "macro_f1",
            Metric::RocAuc => "roc_auc",
            Metric::LogLoss => "log_loss",
            Metric::Mae => "mae",
            Metric::Rmse => "rmse",
            Metric::Mape => "mape",
            Metric::ExactMatch => "exact_match",
            Metric::Rouge1 => "rouge1",
            Metric::Rouge2 => "rouge2",
            Metric::RougeL => "rougeL",
            Metric::Bleu => "bleu",
            Metric::MeanRating => "mean_rating",
            Metric::NegativeShare => "negative_share",
        }
    }

    /// Whether a larger value is better (accuracy) rather than worse
    /// (an error, log loss, the share of negative ratings).
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Metric::LogLoss | Metric::Mae | Metric::Rmse | Metric::Mape | Metric::NegativeShare
        )
    }

    /// Whether the metric reads human feedback rather than the label.
    pub fn is_feedback(self) -> bool {
        matches!(self, Metric::MeanRating | Metric::NegativeShare)
    }

    /// Whether the metric needs the positive-class score.
    pub fn needs_score(self) -> bool {
        matches!(self, Metric::RocAuc | Metric::LogLoss)
    }

    /// Whether the metric applies to `task` (feedback applies to any).
    pub fn applies_to(self, task: Task) -> bool {
        use Metric::*;
        match task {
            _ if self.is_feedback() => true,
            Task::Binary => {
                matches!(
                    self,
                    Accuracy | Precision | Recall | F1 | MacroPrecision | MacroRecall | MacroF1
                ) || self.needs_score()
            }
            Task::Multiclass => {
                matches!(self, Accuracy | MacroPrecision | MacroRecall | MacroF1)
            }
            Task::Regression => matches!(self, Mae | Rmse | Mape),
            Task::Generation => matches!(self, ExactMatch | Rouge1 | Rouge2 | RougeL | Bleu),
        }
    }

    /// The metrics watched when the config lists none.
    pub fn defaults(task: Task, scored: bool) -> Vec<Metric> {
        use Metric::*;
        match task {
            Task::Binary if scored => vec![Accuracy, Precision, Recall, F1, RocAuc],
            Task::Binary => vec![Accuracy, Precision, Recall, F1],
            Task::Multiclass => vec![Accuracy, MacroPrecision, MacroRecall, MacroF1],
            Task::Regression => vec![Mae, Rmse, Mape],
            Task::Generation => vec![ExactMatch, Rouge1, Rouge2, RougeL, Bleu],
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Metric {
    type Err = String;

    fn from_str(s: &str) -> Result<Metric, String> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
                format!(
                    "unknown quality metric {s:?}: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// The metrics the label-free estimate gives (binary classifiers with
/// calibrated scores).
pub const ESTIMATED: [Metric; 4] = [
    Metric::Accuracy,
    Metric::Precision,
    Metric::Recall,
    Metric::F1,
];

/// `metric`'s value in a label-free estimate, if the estimate gives it.
pub fn estimated(estimate: &Estimate, metric: Metric) -> Option<f64> {
    match metric {
        Metric::Accuracy => Some(estimate.accuracy),
        Metric::Precision => Some(estimate.precision),
        Metric::Recall => Some(estimate.recall),
        Metric::F1 => Some(estimate.f1),
        _ => None,
    }
}

/// A metric's value on one window, with its interval when it has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub value: f64,
    pub interval: Option<Interval>,
}

/// Computes `metric` on a window's labelled pairs. `positive` is the
/// binary positive class's id; `level` the interval's confidence; `seed`
/// makes the bootstrap the same on every run.
pub fn measure(
    metric: Metric,
    labelled: &Labelled,
    positive: u32,
    level: f64,
    seed: u64,
) -> Result<Measured, QualityError> {
    let interval = |t: &[_], p: &[_], f| bootstrap(t, p, f, BOOTSTRAP_RESAMPLES, level, seed);
    match (&labelled.pairs, metric) {
        (_, Metric::MeanRating | Metric::NegativeShare) => {
            feedback(metric, &labelled.ratings, level, seed)
        }
        (Pairs::Classes(pairs), _) => classes(metric, pairs, positive, level, seed),
        (Pairs::Numbers { truth, predicted }, _) => {
            let f = match metric {
                Metric::Mae => regression::mae,
                Metric::Rmse => regression::rmse,
                _ => regression::mape,
            };
            let value = f(truth, predicted)?;
            Ok(Measured {
                value,
                interval: Some(interval(truth, predicted, f)?),
            })
        }
        (Pairs::Texts { truth, predicted }, _) => texts(metric, truth, predicted, level, seed),
    }
}

fn classes(
    metric: Metric,
    pairs: &super::window::ClassPairs,
    positive: u32,
    level: f64,
    seed: u64,
) -> Result<Measured, QualityError> {
    let (truth, predicted) = (&pairs.truth, &pairs.predicted);
    if metric == Metric::Accuracy {
        let value = classification::accuracy(truth, predicted)?;
        let correct = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
        let interval = wilson(correct as u64, truth.len() as u64, level)?;
        return Ok(Measured {
            value,
            interval: Some(interval),
        });
    }
    if metric.needs_score() {
        let positives: Vec<bool> = truth.iter().map(|&t| t == positive).collect();
        let f = match metric {
            Metric::RocAuc => scores::roc_auc,
            _ => scores::log_loss,
        };
        let value = f(&positives, &pairs.scores)?;
        let interval = bootstrap(
            &positives,
            &pairs.scores,
            f,
            BOOTSTRAP_RESAMPLES,
            level,
            seed,
        )?;
        return Ok(Measured {
            value,
            interval: Some(interval),
        });
    }
    let f = move |t: &[u32], p: &[u32]| -> Result<f64, QualityError> {
        let s = match metric {
            Metric::Precision | Metric::Recall | Metric::F1 => {
                classification::binary_scores(t, p, &positive)?
            }
            _ => classification::macro_scores(t, p)?,
        };
        Ok(match metric {
            Metric::Precision | Metric::MacroPrecision => s.precision,
            Metric::Recall | Metric::MacroRecall => s.recall,
            _ => s.f1,
        })
    };
    Ok(Measured {
        value: f(truth, predicted)?,
        interval: Some(bootstrap(
            truth,
            predicted,
            f,
            BOOTSTRAP_RESAMPLES,
            level,
            seed,
        )?),
    })
}

fn texts(
    metric: Metric,
    truth: &[Box<str>],
    predicted: &[Box<str>],
    level: f64,
    seed: u64,
) -> Result<Measured, QualityError> {
    match metric {
        Metric::ExactMatch => {
            let value = generation::exact_match(truth, predicted)?;
            let matched = (value * truth.len() as f64).round() as u64;
            Ok(Measured {
                value,
                interval: Some(wilson(matched, truth.len() as u64, level)?),
            })
        }
        Metric::Bleu => Ok(Measured {
            value: generation::corpus_bleu(truth, predicted)?.score,
            interval: None,
        }),
        _ => {
            // ROUGE is a mean over pairs: bootstrap the pairs' F1.
            let per_pair: Vec<f64> = generation::rouge_pairs(truth, predicted)?
                .iter()
                .map(|p| match metric {
                    Metric::Rouge1 => p.rouge1.f1,
                    Metric::Rouge2 => p.rouge2.f1,
                    _ => p.rouge_l.f1,
                })
                .collect();
            mean_with_interval(&per_pair, level, seed)
        }
    }
}

fn feedback(
    metric: Metric,
    ratings: &[(f64, bool)],
    level: f64,
    seed: u64,
) -> Result<Measured, QualityError> {
    if ratings.is_empty() {
        return Err(QualityError::Empty);
    }
    if metric == Metric::NegativeShare {
        let negative = ratings.iter().filter(|(_, negative)| *negative).count() as u64;
        let n = ratings.len() as u64;
        return Ok(Measured {
            value: negative as f64 / n as f64,
            interval: Some(wilson(negative, n, level)?),
        });
    }
    let values: Vec<f64> = ratings.iter().map(|(r, _)| *r).collect();
    mean_with_interval(&values, level, seed)
}

/// The mean of `values` and its bootstrap interval.
fn mean_with_interval(values: &[f64], level: f64, seed: u64) -> Result<Measured, QualityError> {
    if values.is_empty() {
        return Err(QualityError::Empty);
    }
    let mean = |v: &[f64], _: &[f64]| Ok(np_mean(v));
    Ok(Measured {
        value: np_mean(values),
        interval: Some(bootstrap(
            values,
            values,
            mean,
            BOOTSTRAP_RESAMPLES,
            level,
            seed,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_choices() {
        for m in Metric::ALL {
            assert_eq!(m.as_str().parse::<Metric>(), Ok(m));
        }
        let e = "auc".parse::<Metric>().unwrap_err();
        assert!(e.contains("roc_auc") && e.contains("\"auc\""), "{e}");
    }

    #[test]
    fn defaults_apply_to_their_task() {
        for task in [
            Task::Binary,
            Task::Multiclass,
            Task::Regression,
            Task::Generation,
        ] {
            for m in Metric::defaults(task, true) {
                assert!(m.applies_to(task), "{m} for {task:?}");
            }
        }
        assert!(!Metric::Mae.applies_to(Task::Binary));
        assert!(Metric::NegativeShare.applies_to(Task::Regression));
    }
}
