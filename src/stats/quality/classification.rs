//! Classification quality from (true label, predicted label) pairs:
//! accuracy, precision / recall / F1 for one positive class, and their
//! macro averages over all classes, as scikit-learn computes them.
//!
//! Labels are any `T: Ord` (category strings in practice): ordering, not
//! hashing, so the classes are visited in sorted order as sklearn's
//! `unique_labels` visits them and macro averages sum in the same order.
//!
//! Ill-defined ratios follow sklearn's `zero_division=0`: precision is 0 when
//! nothing is predicted positive, recall is 0 when nothing is actually
//! positive, and F1 = 2·tp / (2·tp + fp + fn) is 0 when that denominator is 0.
//! We chose 0 over NaN because a window where the model never predicts the
//! positive class has, for monitoring purposes, no useful precision; it
//! should read as bad, not as missing. sklearn's default `"warn"` gives the
//! same numbers.

use std::collections::BTreeMap;

use super::{QualityError, check_pairs};

/// Precision, recall and F1 of one class, or their macro averages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecisionRecallF1 {
    /// tp / (tp + fp); 0 when nothing is predicted positive.
    pub precision: f64,
    /// tp / (tp + fn); 0 when nothing is actually positive.
    pub recall: f64,
    /// 2·tp / (2·tp + fp + fn); 0 when that denominator is 0.
    pub f1: f64,
}

/// Confusion counts of one class against the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    tp: u64,
    /// Pairs predicted as the class (tp + fp).
    predicted: u64,
    /// Pairs whose truth is the class (tp + fn).
    actual: u64,
}

impl Counts {
    fn scores(self) -> PrecisionRecallF1 {
        let tp = self.tp as f64;
        PrecisionRecallF1 {
            precision: ratio(tp, self.predicted as f64),
            recall: ratio(tp, self.actual as f64),
            // sklearn's form (1 + β²)·tp / (β²·actual + predicted) at β = 1.
            f1: ratio(2.0 * tp, (self.actual + self.predicted) as f64),
        }
    }
}

/// `num / den`, or 0 when `den` is 0 (sklearn's `zero_division=0`).
pub(super) fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 { 0.0 } else { num / den }
}

/// Fraction of pairs whose prediction equals the truth:
/// `sklearn.metrics.accuracy_score(truth, predicted)`.
pub fn accuracy<T: Ord>(truth: &[T], predicted: &[T]) -> Result<f64, QualityError> {
    check_pairs(truth, predicted)?;
    let correct = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    Ok(correct as f64 / truth.len() as f64)
}

/// Precision, recall and F1 of `positive` against every other label, with
/// `zero_division=0` (see the module docs). With at most two labels this is
/// `sklearn.metrics.precision_recall_fscore_support(truth, predicted,
/// pos_label=positive, average="binary", zero_division=0)`; sklearn refuses
/// `average="binary"` on more labels, while here the rest are simply
/// negatives (sklearn's `labels=[positive], average="macro"`). `positive`
/// need not occur in the data: every score is then 0.
pub fn binary_scores<T: Ord>(
    truth: &[T],
    predicted: &[T],
    positive: &T,
) -> Result<PrecisionRecallF1, QualityError> {
    check_pairs(truth, predicted)?;
    let mut counts = Counts::default();
    for (t, p) in truth.iter().zip(predicted) {
        let (t, p) = (t == positive, p == positive);
        counts.tp += u64::from(t && p);
        counts.actual += u64::from(t);
        counts.predicted += u64::from(p);
    }
    Ok(counts.scores())
}

/// Unweighted means of per-class precision, recall and F1 over the sorted
/// union of labels seen in `truth` or `predicted`, each per-class score with
/// `zero_division=0`: `sklearn.metrics.precision_recall_fscore_support(truth,
/// predicted, average="macro", zero_division=0)`. A class that is only
/// predicted counts, with recall 0, so spurious classes pull the average
/// down.
pub fn macro_scores<T: Ord>(
    truth: &[T],
    predicted: &[T],
) -> Result<PrecisionRecallF1, QualityError> {
    check_pairs(truth, predicted)?;
    let mut per_class: BTreeMap<&T, Counts> = BTreeMap::new();
    for (t, p) in truth.iter().zip(predicted) {
        per_class.entry(t).or_default().actual += 1;
        per_class.entry(p).or_default().predicted += 1;
        if t == p {
            per_class.entry(t).or_default().tp += 1;
        }
    }
    let scores: Vec<PrecisionRecallF1> = per_class.values().map(|c| c.scores()).collect();
    let mean = |f: fn(&PrecisionRecallF1) -> f64| {
        let values: Vec<f64> = scores.iter().map(f).collect();
        super::np_mean(&values)
    };
    Ok(PrecisionRecallF1 {
        precision: mean(|s| s.precision),
        recall: mean(|s| s.recall),
        f1: mean(|s| s.f1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Paired labels from a small alphabet, so classes repeat and collide.
    fn label_pairs() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
        (1usize..60).prop_flat_map(|n| {
            (
                proptest::collection::vec(0u8..4, n),
                proptest::collection::vec(0u8..4, n),
            )
        })
    }

    fn in_unit(x: f64) -> bool {
        (0.0..=1.0).contains(&x)
    }

    proptest! {
        #[test]
        fn every_score_is_in_the_unit_interval((t, p) in label_pairs(), pos in 0u8..5) {
            prop_assert!(in_unit(accuracy(&t, &p).unwrap()));
            for s in [binary_scores(&t, &p, &pos).unwrap(), macro_scores(&t, &p).unwrap()] {
                prop_assert!(in_unit(s.precision) && in_unit(s.recall) && in_unit(s.f1));
            }
        }

        #[test]
        fn f1_is_the_harmonic_mean_when_defined((t, p) in label_pairs(), pos in 0u8..4) {
            let s = binary_scores(&t, &p, &pos).unwrap();
            if s.precision + s.recall > 0.0 {
                let h = 2.0 * s.precision * s.recall / (s.precision + s.recall);
                prop_assert!((s.f1 - h).abs() <= 1e-12);
            } else {
                prop_assert_eq!(s.f1, 0.0);
            }
        }

        #[test]
        fn perfect_predictions_score_one((t, _) in label_pairs()) {
            prop_assert_eq!(accuracy(&t, &t).unwrap(), 1.0);
            let s = macro_scores(&t, &t).unwrap();
            prop_assert_eq!((s.precision, s.recall, s.f1), (1.0, 1.0, 1.0));
        }
    }

    #[test]
    fn no_predicted_positive_gives_zero_precision_not_nan() {
        let s = binary_scores(&["1", "0", "1"], &["0", "0", "0"], &"1").unwrap();
        assert_eq!((s.precision, s.recall, s.f1), (0.0, 0.0, 0.0));
    }

    #[test]
    fn a_class_only_predicted_enters_the_macro_average() {
        // Classes a (p 1, r 1/2) and b (p 0, r 0): b is never true.
        let s = macro_scores(&["a", "a"], &["a", "b"]).unwrap();
        assert_eq!((s.precision, s.recall), (0.5, 0.25));
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        assert!(matches!(
            accuracy(&["a"], &["a", "b"]),
            Err(QualityError::LengthMismatch { .. })
        ));
        assert_eq!(macro_scores::<&str>(&[], &[]), Err(QualityError::Empty));
    }
}
