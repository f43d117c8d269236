//! Model-quality metrics: how well predictions match labels that arrive
//! later. Pure functions over paired slices `(truth, predicted)`, in that
//! order, one file per family: [`classification`] (accuracy, precision,
//! recall, F1 from label pairs), [`scores`] (ROC AUC and log loss from binary
//! labels and positive-class scores), [`regression`] (MAE, RMSE, MAPE) and
//! [`generation`] (exact match, ROUGE, corpus BLEU from reference and
//! candidate texts). Each reproduces its reference package's definition and
//! edge-case convention: `tests/vectors_quality.rs` checks the first three
//! against scikit-learn (`tests/fixtures/quality_sklearn.py`),
//! `tests/vectors_generation.rs` the last against rouge-score and sacrebleu
//! (`tests/fixtures/generation_reference.py`). [`estimate`] needs no labels:
//! it estimates a binary classifier's accuracy, precision, recall and F1
//! from its scores, calibrated on the baseline (NannyML's CBPE;
//! `tests/vectors_estimate.rs`). [`interval`] bounds any of them: Wilson
//! intervals for proportions, seeded percentile bootstraps for the rest.
//!
//! Inputs are validated up front: empty input, slices of different lengths
//! and non-finite numbers give a [`QualityError`], never a panic or a silent
//! NaN. Metrics sklearn leaves undefined (ROC AUC with one class) are errors
//! too, so a caller reports "undefined" rather than a number.

pub mod classification;
pub mod estimate;
pub mod generation;
pub mod interval;
pub mod regression;
pub mod scores;

/// What a model predicts, which decides the quality metrics that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Two classes, one of them the positive class.
    Binary,
    /// More than two classes.
    Multiclass,
    /// A number.
    Regression,
    /// A text answer, compared with a reference text.
    Generation,
}

impl std::str::FromStr for Task {
    type Err = String;

    fn from_str(s: &str) -> Result<Task, String> {
        match s {
            "binary" => Ok(Task::Binary),
            "multiclass" => Ok(Task::Multiclass),
            "regression" => Ok(Task::Regression),
            "generation" => Ok(Task::Generation),
            other => Err(format!(
                "unknown task {other:?}: expected binary, multiclass, regression or generation"
            )),
        }
    }
}

/// Why a quality metric could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QualityError {
    /// There are no (truth, prediction) pairs.
    #[error("no samples: a quality metric needs at least one (truth, prediction) pair")]
    Empty,
    /// Truth and predictions are not paired one to one.
    #[error("{truth} truth values but {predicted} predictions: expected one prediction per truth")]
    LengthMismatch { truth: usize, predicted: usize },
    /// A number is NaN or infinite.
    #[error("{sample}[{index}] is {value}: expected a finite number")]
    NonFinite {
        sample: &'static str,
        index: usize,
        value: f64,
    },
    /// A probability lies outside [0, 1].
    #[error("{sample}[{index}] is {value}: expected a probability in [0, 1]")]
    NotProbability {
        sample: &'static str,
        index: usize,
        value: f64,
    },
    /// Predicted labels and their scores are not paired one to one.
    #[error("{predicted} predicted labels but {scores} scores: expected one score per prediction")]
    UnpairedScores { predicted: usize, scores: usize },
    /// A stored calibration (from a baseline file) is not a fitted one.
    #[error("stored calibration is invalid: {reason}")]
    InvalidCalibration { reason: &'static str },
    /// Every label is the same class, so a ranking metric has nothing to rank
    /// against (sklearn warns and returns NaN).
    #[error("every label is {class}: {metric} needs both classes in the truth")]
    SingleClass { metric: &'static str, class: bool },
    /// A confidence level outside (0, 1).
    #[error("confidence level {level} is not strictly between 0 and 1")]
    InvalidLevel { level: f64 },
    /// A proportion with more successes than trials.
    #[error(
        "{successes} successes out of {trials} trials: a proportion needs at most as many successes as trials"
    )]
    MoreSuccessesThanTrials { successes: u64, trials: u64 },
}

/// Errors unless `truth` and `predicted` are non-empty and of equal length.
fn check_pairs<A, B>(truth: &[A], predicted: &[B]) -> Result<(), QualityError> {
    if truth.len() != predicted.len() {
        return Err(QualityError::LengthMismatch {
            truth: truth.len(),
            predicted: predicted.len(),
        });
    }
    if truth.is_empty() {
        return Err(QualityError::Empty);
    }
    Ok(())
}

/// Errors on the first non-finite value of `values`.
fn check_finite(sample: &'static str, values: &[f64]) -> Result<(), QualityError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(QualityError::NonFinite {
            sample,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// numpy's `mean` of `values` (pairwise sum, then one division), so means
/// over many samples round as sklearn's do.
pub(crate) fn np_mean(values: &[f64]) -> f64 {
    super::pairwise_sum(values) / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_checked_for_length_before_emptiness() {
        assert_eq!(
            check_pairs::<u8, u8>(&[], &[1]),
            Err(QualityError::LengthMismatch {
                truth: 0,
                predicted: 1
            })
        );
        assert_eq!(check_pairs::<u8, u8>(&[], &[]), Err(QualityError::Empty));
        assert_eq!(check_pairs(&[1], &[2]), Ok(()));
    }

    #[test]
    fn non_finite_values_are_located() {
        assert_eq!(
            check_finite("y_true", &[1.0, f64::NAN])
                .unwrap_err()
                .to_string(),
            "y_true[1] is NaN: expected a finite number"
        );
    }
}
