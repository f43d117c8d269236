//! Label-free quality estimate for a binary classifier: the accuracy,
//! precision, recall and F1 a window is expected to have, from the model's
//! predicted labels and positive-class scores alone, before any label
//! arrives. This is confidence-based performance estimation (CBPE) as
//! NannyML 0.13 computes it for `classification_binary`, and
//! `tests/vectors_estimate.rs` checks it against NannyML and scikit-learn
//! (`tests/fixtures/estimate_reference.py`).
//!
//! Two steps. At baseline build time, [`Calibration::fit`] maps scores to
//! probabilities by isotonic regression on the baseline's labelled rows,
//! exactly as scikit-learn's `IsotonicRegression(out_of_bounds="clip",
//! y_min=0, y_max=1, increasing=True)` fits and predicts (NannyML's
//! `IsotonicCalibrator`); the fitted thresholds are what the baseline file
//! stores (serde). Per window, each row's calibrated probability p of the
//! positive class is the chance its label is positive, so the confusion
//! matrix has expectation TP = Σ p and FP = Σ (1 − p) over the rows
//! predicted positive, FN = Σ p and TN = Σ (1 − p) over the rows predicted
//! negative; [`ExpectedConfusion`] accumulates these sums row by row (panes
//! merge by addition) and turns them into an [`Estimate`] with NannyML's
//! formulas. The estimate is only as good as the calibration: it assumes
//! P(label | score) has not changed since the baseline (covariate shift
//! only), so it tracks a model that sees harder inputs, not one whose
//! inputs mean something new (concept drift): compare it with the realised
//! metrics of [`super::classification`] once labels arrive.
//!
//! Deviations from NannyML, chosen on purpose:
//!
//! - The scores are always calibrated. NannyML first checks (by a
//!   cross-validated expected calibration error, and skipping scores with
//!   ROC AUC > 0.999 or a one-class reference) whether calibration helps,
//!   and uses the raw scores when it does not. That check is randomised and
//!   needs hundreds of rows; always calibrating is simpler, deterministic,
//!   and on scores that were calibrated already costs only the isotonic
//!   fit's small step noise, which averages out over a window.
//! - A baseline whose labels are all one class fits a constant (1 or 0), as
//!   scikit-learn does, where NannyML would fall back on the raw scores.
//!   Every estimate then reflects only the mix of predicted labels (all
//!   rows predicted as that class count as correct): a baseline that cannot
//!   tell the classes apart cannot estimate anything better. A caller that
//!   would rather refuse should check the labels hold both classes.
//! - Ill-defined ratios are 0, as NannyML's `estimate_*` return and as
//!   [`super::classification`] does with sklearn's `zero_division=0`:
//!   precision when nothing is predicted positive, recall when no positive
//!   is expected (Σ p = 0), F1 when both hold.
//! - Scores must be probabilities: finite and in [0, 1] (NannyML accepts
//!   any number). A score outside the baseline's range is clipped to it, as
//!   sklearn's `out_of_bounds="clip"` does.

use serde::{Deserialize, Serialize};

use super::classification::ratio;
use super::{QualityError, check_pairs};

/// Scores closer than this above the first score of their group are one
/// threshold: `np.finfo(np.float64).resolution`, sklearn's `_make_unique`
/// tolerance (absolute, not relative).
const TIE_RESOLUTION: f64 = 1e-15;

/// A fitted map from a model's positive-class score to the probability that
/// the label is positive: a non-decreasing piecewise-linear function through
/// `(x_thresholds[i], y_thresholds[i])`, constant beyond the first and last
/// threshold. Stored as sklearn's `X_thresholds_` and `y_thresholds_`.
///
/// Deserialising checks the thresholds (see [`QualityError::InvalidCalibration`])
/// so a damaged baseline file is refused instead of mis-estimating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredCalibration")]
pub struct Calibration {
    /// Strictly increasing scores, all in [0, 1].
    x_thresholds: Vec<f64>,
    /// Non-decreasing probabilities in [0, 1], one per score threshold.
    y_thresholds: Vec<f64>,
}

/// A calibration as read from a file, before its thresholds are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCalibration {
    x_thresholds: Vec<f64>,
    y_thresholds: Vec<f64>,
}

impl TryFrom<StoredCalibration> for Calibration {
    type Error = QualityError;

    fn try_from(stored: StoredCalibration) -> Result<Calibration, QualityError> {
        let (x, y) = (&stored.x_thresholds, &stored.y_thresholds);
        let invalid = |reason| Err(QualityError::InvalidCalibration { reason });
        if x.is_empty() || x.len() != y.len() {
            return invalid("expected as many y thresholds as x thresholds, at least one");
        }
        if !x.iter().chain(y).all(|v| (0.0..=1.0).contains(v)) {
            return invalid("expected every threshold in [0, 1]");
        }
        if !x.windows(2).all(|w| w[0] < w[1]) {
            return invalid("expected strictly increasing x thresholds");
        }
        if !y.windows(2).all(|w| w[0] <= w[1]) {
            return invalid("expected non-decreasing y thresholds");
        }
        Ok(Calibration {
            x_thresholds: stored.x_thresholds,
            y_thresholds: stored.y_thresholds,
        })
    }
}

impl Calibration {
    /// Fits the calibration on a baseline's labelled rows: `labels[i]` is
    /// whether row i is positive, `scores[i]` the model's positive-class
    /// score for it. Exactly sklearn's `IsotonicRegression(out_of_bounds=
    /// "clip", y_min=0, y_max=1, increasing=True).fit(scores, labels)`: rows
    /// sorted by score, scores within 1e-15 of their group's first merged
    /// into one threshold with their mean label, pool-adjacent-violators
    /// (Busing 2022, as scipy's `isotonic_regression`), then interior
    /// thresholds equal to both neighbours dropped. One class fits a
    /// constant (see the module docs).
    ///
    /// Errors on empty or mismatched input and on scores that are not
    /// probabilities.
    pub fn fit(labels: &[bool], scores: &[f64]) -> Result<Calibration, QualityError> {
        check_pairs(labels, scores)?;
        for (index, &score) in scores.iter().enumerate() {
            check_score(index, score)?;
        }
        let mut rows: Vec<(f64, bool)> =
            scores.iter().copied().zip(labels.iter().copied()).collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (x, means, weights) = merge_ties(&rows);
        let fitted = pool_adjacent_violators(means, weights);
        let (x_thresholds, y_thresholds) = drop_interior_repeats(x, fitted);
        Ok(Calibration {
            x_thresholds,
            y_thresholds,
        })
    }

    /// The calibrated probability of each score: sklearn's `predict`
    /// (clipped to the fitted score range, then `np.interp`). Errors on a
    /// score that is not a probability.
    pub fn predict(&self, scores: &[f64]) -> Result<Vec<f64>, QualityError> {
        scores
            .iter()
            .enumerate()
            .map(|(index, &score)| {
                check_score(index, score)?;
                Ok(self.probability(score))
            })
            .collect()
    }

    /// The fitted score thresholds, strictly increasing (sklearn's
    /// `X_thresholds_`).
    pub fn x_thresholds(&self) -> &[f64] {
        &self.x_thresholds
    }

    /// The probability at each score threshold, non-decreasing (sklearn's
    /// `y_thresholds_`).
    pub fn y_thresholds(&self) -> &[f64] {
        &self.y_thresholds
    }

    /// The calibrated probability of a checked score, as `np.interp`
    /// computes it after clipping.
    fn probability(&self, score: f64) -> f64 {
        let (x, y) = (&self.x_thresholds, &self.y_thresholds);
        let last = x.len() - 1;
        let score = score.clamp(x[0], x[last]);
        if score >= x[last] {
            return y[last];
        }
        // x[j] <= score < x[j + 1]; j exists since score >= x[0].
        let j = x.partition_point(|&t| t <= score) - 1;
        if score == x[j] {
            return y[j];
        }
        let slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j]);
        slope * (score - x[j]) + y[j]
    }
}

/// Errors unless `score` is a probability; `index` locates it.
fn check_score(index: usize, score: f64) -> Result<(), QualityError> {
    if !score.is_finite() {
        return Err(QualityError::NonFinite {
            sample: "scores",
            index,
            value: score,
        });
    }
    if !(0.0..=1.0).contains(&score) {
        return Err(QualityError::NotProbability {
            sample: "scores",
            index,
            value: score,
        });
    }
    Ok(())
}

/// sklearn's `_make_unique` on rows sorted by score: a score less than
/// [`TIE_RESOLUTION`] above the first score of the current group joins it.
/// Returns each group's first score, mean label and row count.
fn merge_ties(rows: &[(f64, bool)]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    // (first score, positive rows, rows) per group; the counts are exact.
    let mut groups: Vec<(f64, f64, f64)> = Vec::new();
    for &(score, label) in rows {
        let positive = f64::from(u8::from(label));
        match groups.last_mut() {
            Some(group) if score - group.0 < TIE_RESOLUTION => {
                group.1 += positive;
                group.2 += 1.0;
            }
            _ => groups.push((score, positive, 1.0)),
        }
    }
    (
        groups.iter().map(|g| g.0).collect(),
        groups.iter().map(|g| g.1 / g.2).collect(),
        groups.iter().map(|g| g.2).collect(),
    )
}

/// The weighted least-squares non-decreasing fit of `values`: Busing's
/// (2022) Algorithm 1 for the pool-adjacent-violators algorithm, with the
/// `>=` comparisons scipy's `optimize.isotonic_regression` uses, so blocks
/// pool (and round) in the same order. Each fitted value is then clipped to
/// [0, 1], sklearn's `y_min`/`y_max`.
fn pool_adjacent_violators(mut values: Vec<f64>, mut weights: Vec<f64>) -> Vec<f64> {
    let n = values.len();
    // Blocks 0..=b live in values[..=b] / weights[..=b]; block k ends
    // (exclusively) at input index ends[k].
    let mut ends = vec![0; n];
    ends[0] = 1;
    let mut b = 0;
    let (mut prev_value, mut prev_weight) = (values[0], weights[0]);
    let mut i = 1;
    while i < n {
        b += 1;
        let (mut value, mut weight) = (values[i], weights[i]);
        if prev_value >= value {
            b -= 1;
            let mut sum = prev_weight * prev_value + weight * value;
            weight += prev_weight;
            value = sum / weight;
            // Absorb the following rows while they violate the new mean...
            while i + 1 < n && value >= values[i + 1] {
                i += 1;
                sum += weights[i] * values[i];
                weight += weights[i];
                value = sum / weight;
            }
            // ...then the earlier blocks it now falls below.
            while b > 0 && values[b - 1] >= value {
                b -= 1;
                sum += weights[b] * values[b];
                weight += weights[b];
                value = sum / weight;
            }
        }
        (values[b], weights[b]) = (value, weight);
        (prev_value, prev_weight) = (value, weight);
        ends[b] = i + 1;
        i += 1;
    }
    let mut fitted = Vec::with_capacity(n);
    for (&value, &end) in values.iter().zip(&ends).take(b + 1) {
        fitted.resize(end, value.clamp(0.0, 1.0));
    }
    fitted
}

/// Drops every threshold but the first and last whose value equals both
/// neighbours': they change nothing in the interpolation (sklearn's
/// `trim_duplicates`).
fn drop_interior_repeats(x: Vec<f64>, y: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let n = y.len();
    let keep = |i: usize| i == 0 || i + 1 == n || y[i] != y[i - 1] || y[i] != y[i + 1];
    let kept: Vec<usize> = (0..n).filter(|&i| keep(i)).collect();
    (
        kept.iter().map(|&i| x[i]).collect(),
        kept.iter().map(|&i| y[i]).collect(),
    )
}

/// The expected quality of a window: NannyML's CBPE estimates for
/// `classification_binary`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// (TP + TN) / rows.
    pub accuracy: f64,
    /// TP / (TP + FP); 0 when nothing is predicted positive.
    pub precision: f64,
    /// TP / (TP + FN); 0 when no positive is expected.
    pub recall: f64,
    /// TP / (TP + (FP + FN) / 2); 0 when that denominator is 0.
    pub f1: f64,
    /// Rows the estimate is over.
    pub rows: u64,
}

/// The expected confusion matrix of a window, fed one row at a time: what a
/// window keeps for the estimate (four sums and a count, whatever its size).
///
/// Per model, per window: start from `ExpectedConfusion::default()`, call
/// [`add`](Self::add) with each row's predicted label and score and the
/// baseline's [`Calibration`], [`merge`](Self::merge) panes, and call
/// [`estimate`](Self::estimate) when the window closes. It serialises, so
/// an open window can be snapshotted.
///
/// The sums are plain left-to-right f64 sums (numpy sums pairwise): for n
/// rows of terms in [0, 1] they are within n·2⁻⁵³ relative of exact,
/// typically far less; a few ulps for windows of thousands of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ExpectedConfusion {
    true_positives: f64,
    false_positives: f64,
    false_negatives: f64,
    true_negatives: f64,
    rows: u64,
}

impl ExpectedConfusion {
    /// Adds one row: the model predicted `predicted` (true = positive) with
    /// positive-class `score`. Errors, adding nothing, when the score is
    /// not a probability; the error's index is the row's position in the
    /// window (the rows added so far).
    pub fn add(
        &mut self,
        calibration: &Calibration,
        predicted: bool,
        score: f64,
    ) -> Result<(), QualityError> {
        check_score(self.rows as usize, score)?;
        let p = calibration.probability(score);
        if predicted {
            self.true_positives += p;
            self.false_positives += 1.0 - p;
        } else {
            self.false_negatives += p;
            self.true_negatives += 1.0 - p;
        }
        self.rows += 1;
        Ok(())
    }

    /// Folds in the rows of `other` (another pane of the same window).
    pub fn merge(&mut self, other: &ExpectedConfusion) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
        self.true_negatives += other.true_negatives;
        self.rows += other.rows;
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The estimate over the rows added so far, with NannyML's formulas
    /// (see [`Estimate`]). Errors with [`QualityError::Empty`] when no row
    /// was added.
    pub fn estimate(&self) -> Result<Estimate, QualityError> {
        if self.rows == 0 {
            return Err(QualityError::Empty);
        }
        let (tp, fp, fn_) = (
            self.true_positives,
            self.false_positives,
            self.false_negatives,
        );
        Ok(Estimate {
            accuracy: (tp + self.true_negatives) / self.rows as f64,
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
            f1: ratio(tp, tp + 0.5 * (fp + fn_)),
            rows: self.rows,
        })
    }
}

/// The expected quality of a whole window at once: `predicted[i]` is the
/// model's label for row i (true = positive), `scores[i]` its
/// positive-class score, `calibration` the baseline's. The same as feeding
/// the rows to an [`ExpectedConfusion`] in order.
///
/// Errors on empty input, a score per prediction missing or extra
/// ([`QualityError::UnpairedScores`]), and scores that are not
/// probabilities.
pub fn estimate(
    calibration: &Calibration,
    predicted: &[bool],
    scores: &[f64],
) -> Result<Estimate, QualityError> {
    if predicted.len() != scores.len() {
        return Err(QualityError::UnpairedScores {
            predicted: predicted.len(),
            scores: scores.len(),
        });
    }
    let mut confusion = ExpectedConfusion::default();
    for (&p, &s) in predicted.iter().zip(scores) {
        confusion.add(calibration, p, s)?;
    }
    confusion.estimate()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fit(labels: &[u8], scores: &[f64]) -> Calibration {
        let labels: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
        Calibration::fit(&labels, scores).unwrap()
    }

    /// Labelled rows with scores from a coarse grid, so ties are common.
    fn labelled() -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
        (1usize..80).prop_flat_map(|n| {
            (
                proptest::collection::vec(any::<bool>(), n),
                proptest::collection::vec((0u32..=20).prop_map(|k| f64::from(k) / 20.0), n),
            )
        })
    }

    proptest! {
        #[test]
        fn the_fit_is_a_valid_non_decreasing_map((labels, scores) in labelled()) {
            let c = Calibration::fit(&labels, &scores).unwrap();
            let stored = StoredCalibration {
                x_thresholds: c.x_thresholds().to_vec(),
                y_thresholds: c.y_thresholds().to_vec(),
            };
            prop_assert_eq!(Calibration::try_from(stored), Ok(c.clone()));
            let grid: Vec<f64> = (0..=100).map(|k| f64::from(k) / 100.0).collect();
            let p = c.predict(&grid).unwrap();
            prop_assert!(p.windows(2).all(|w| w[0] <= w[1]));
        }

        #[test]
        fn the_fit_keeps_the_positive_rate((labels, scores) in labelled()) {
            // Isotonic regression preserves the weighted mean of the labels.
            let c = Calibration::fit(&labels, &scores).unwrap();
            let fitted: f64 = c.predict(&scores).unwrap().iter().sum();
            let positives = labels.iter().filter(|l| **l).count() as f64;
            prop_assert!((fitted - positives).abs() <= 1e-9 * labels.len() as f64);
        }

        #[test]
        fn panes_merge_to_the_whole_window(
            (labels, scores) in labelled(),
            split in 0usize..80,
        ) {
            let c = Calibration::fit(&labels, &scores).unwrap();
            let split = split % (labels.len() + 1);
            let (mut left, mut right) = (ExpectedConfusion::default(), ExpectedConfusion::default());
            for (i, (&p, &s)) in labels.iter().zip(&scores).enumerate() {
                let pane = if i < split { &mut left } else { &mut right };
                pane.add(&c, p, s).unwrap();
            }
            left.merge(&right);
            let whole = estimate(&c, &labels, &scores).unwrap();
            let merged = left.estimate().unwrap();
            prop_assert_eq!(merged.rows, whole.rows);
            for (a, b) in [
                (merged.accuracy, whole.accuracy),
                (merged.precision, whole.precision),
                (merged.recall, whole.recall),
                (merged.f1, whole.f1),
            ] {
                prop_assert!((a - b).abs() <= 1e-12);
            }
        }
    }

    #[test]
    fn ties_average_and_violators_pool() {
        // Ties at 0.2 average to 1/2; 0.5 (label 0) then pools with them.
        let c = fit(&[0, 0, 1, 0, 1], &[0.1, 0.2, 0.2, 0.5, 0.9]);
        assert_eq!(c.x_thresholds(), [0.1, 0.2, 0.5, 0.9]);
        assert_eq!(c.y_thresholds(), [0.0, 1.0 / 3.0, 1.0 / 3.0, 1.0]);
    }

    #[test]
    fn scores_outside_the_fit_are_clipped_and_inside_interpolated() {
        let c = fit(&[0, 1], &[0.25, 0.75]);
        assert_eq!(
            c.predict(&[0.0, 0.25, 0.375, 0.75, 1.0]).unwrap(),
            [0.0, 0.0, 0.25, 1.0, 1.0]
        );
    }

    #[test]
    fn one_class_fits_a_constant() {
        let c = fit(&[1, 1, 1], &[0.1, 0.5, 0.9]);
        assert_eq!(c.y_thresholds(), [1.0, 1.0]);
        // Every positive prediction is expected right, every negative wrong.
        let e = estimate(&c, &[true, false], &[0.3, 0.4]).unwrap();
        assert_eq!((e.accuracy, e.precision, e.recall), (0.5, 1.0, 0.5));
    }

    #[test]
    fn nothing_predicted_positive_gives_zero_precision_not_nan() {
        let c = fit(&[0, 1], &[0.2, 0.8]);
        let e = estimate(&c, &[false, false], &[0.5, 0.9]).unwrap();
        assert_eq!((e.precision, e.f1), (0.0, 0.0));
        assert!(e.recall == 0.0 && e.accuracy > 0.0);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let c = fit(&[0, 1], &[0.2, 0.8]);
        assert_eq!(
            estimate(&c, &[true], &[0.5, 0.6]),
            Err(QualityError::UnpairedScores {
                predicted: 1,
                scores: 2
            })
        );
        assert_eq!(estimate(&c, &[], &[]), Err(QualityError::Empty));
        assert_eq!(
            estimate(&c, &[true, false], &[0.5, 1.5])
                .unwrap_err()
                .to_string(),
            "scores[1] is 1.5: expected a probability in [0, 1]"
        );
        assert!(matches!(
            Calibration::fit(&[true], &[f64::NAN]),
            Err(QualityError::NonFinite { index: 0, .. })
        ));
        assert!(matches!(
            Calibration::fit(&[true], &[0.5, 0.6]),
            Err(QualityError::LengthMismatch { .. })
        ));
        assert_eq!(Calibration::fit(&[], &[]), Err(QualityError::Empty));
        assert_eq!(
            ExpectedConfusion::default().estimate(),
            Err(QualityError::Empty)
        );
    }

    #[test]
    fn a_failed_row_adds_nothing() {
        let c = fit(&[0, 1], &[0.2, 0.8]);
        let mut window = ExpectedConfusion::default();
        window.add(&c, true, 0.7).unwrap();
        let before = window;
        assert!(matches!(
            window.add(&c, true, f64::INFINITY),
            Err(QualityError::NonFinite { index: 1, .. })
        ));
        assert_eq!(window, before);
    }

    #[test]
    fn a_calibration_round_trips_through_json_and_bad_files_are_refused() {
        let c = fit(&[0, 1, 0, 1], &[0.1, 0.4, 0.6, 0.9]);
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Calibration>(&text).unwrap(), c);
        for bad in [
            r#"{"x_thresholds":[],"y_thresholds":[]}"#,
            r#"{"x_thresholds":[0.1,0.2],"y_thresholds":[0.5]}"#,
            r#"{"x_thresholds":[0.2,0.1],"y_thresholds":[0.1,0.5]}"#,
            r#"{"x_thresholds":[0.1,0.2],"y_thresholds":[0.5,0.1]}"#,
            r#"{"x_thresholds":[0.1,2.0],"y_thresholds":[0.1,0.5]}"#,
        ] {
            let err = serde_json::from_str::<Calibration>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains("stored calibration"), "{bad}: {err}");
        }
    }
}
