//! Quality of positive-class scores against binary labels (`true` =
//! positive): ROC AUC and log loss, as scikit-learn computes them.
//!
//! ROC AUC uses the rank form of the area: with midranks over all scores
//! (tied scores share the mean of their ranks), AUC = (R₊ − n₊(n₊+1)/2) /
//! (n₊·n₋), R₊ the rank sum of the positives. That is exactly the trapezoidal
//! area under sklearn's ROC curve, ties counted as half a correct ordering,
//! and the midranks are half-integers, so the numerator is exact. AUC is
//! undefined when the truth holds one class (no pair to order): sklearn warns
//! and returns NaN, we return [`QualityError::SingleClass`] so the caller
//! cannot mistake it for a score.
//!
//! Log loss clips each probability to [ε, 1 − ε] with ε = `f64::EPSILON`
//! (2⁻⁵²), as sklearn ≥ 1.5 does with `finfo(float64).eps`, after forming
//! 1 − p for the negatives, so a confidently wrong prediction costs
//! −ln ε ≈ 36.04 rather than infinity.

use super::{QualityError, check_finite, check_pairs};

/// Area under the ROC curve of `scores` (higher = more likely positive)
/// against `truth`: `sklearn.metrics.roc_auc_score(truth, scores)`. Scores
/// may be any finite numbers (probabilities, logits, margins).
///
/// Errors on empty or mismatched input, non-finite scores, or a truth with
/// only one class (see the module docs).
pub fn roc_auc(truth: &[bool], scores: &[f64]) -> Result<f64, QualityError> {
    check_pairs(truth, scores)?;
    check_finite("scores", scores)?;
    let positives = truth.iter().filter(|t| **t).count();
    let negatives = truth.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(QualityError::SingleClass {
            metric: "ROC AUC",
            class: positives > 0,
        });
    }
    let (ranks, _) = crate::stats::midranks(scores);
    // Half-integers summed below 2⁵³ stay exact.
    let rank_sum: f64 = truth
        .iter()
        .zip(&ranks)
        .filter(|(t, _)| **t)
        .map(|(_, r)| r)
        .sum();
    let (pos, neg) = (positives as f64, negatives as f64);
    Ok((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Mean negative log-likelihood (natural log) of `truth` under the
/// positive-class probabilities `probabilities`, each clipped to
/// [ε, 1 − ε]: `sklearn.metrics.log_loss(truth, probabilities,
/// labels=[False, True])`. Unlike ROC AUC it is defined with one class.
///
/// Errors on empty or mismatched input and on probabilities that are not
/// finite or lie outside [0, 1] (sklearn raises on those too).
pub fn log_loss(truth: &[bool], probabilities: &[f64]) -> Result<f64, QualityError> {
    check_pairs(truth, probabilities)?;
    check_finite("probabilities", probabilities)?;
    if let Some(index) = probabilities.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(QualityError::NotProbability {
            sample: "probabilities",
            index,
            value: probabilities[index],
        });
    }
    let losses: Vec<f64> = truth
        .iter()
        .zip(probabilities)
        .map(|(&t, &p)| {
            // sklearn clips the column it reads: p for positives, 1 − p
            // (rounded first) for negatives.
            let q = if t { p } else { 1.0 - p };
            -q.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
        })
        .collect();
    Ok(super::np_mean(&losses))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Labels with both classes and distinct scores.
    fn ranked() -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
        (1usize..40, 1usize..40).prop_flat_map(|(neg, pos)| {
            proptest::collection::btree_set(-1_000_000i32..1_000_000, neg + pos).prop_map(
                move |set| {
                    // Sorted distinct scores: the first `neg` are negatives.
                    let scores: Vec<f64> = set.iter().map(|&s| f64::from(s) / 1000.0).collect();
                    let truth = (0..scores.len()).map(|i| i >= neg).collect();
                    (truth, scores)
                },
            )
        })
    }

    proptest! {
        #[test]
        fn a_perfect_ranking_scores_one_and_its_reverse_zero((truth, scores) in ranked()) {
            prop_assert_eq!(roc_auc(&truth, &scores).unwrap(), 1.0);
            let flipped: Vec<f64> = scores.iter().map(|s| -s).collect();
            prop_assert_eq!(roc_auc(&truth, &flipped).unwrap(), 0.0);
        }

        #[test]
        fn flipping_labels_mirrors_the_auc((truth, scores) in ranked(), shift in 0usize..40) {
            // Rotate the labels so the ranking is imperfect.
            let mut truth = truth;
            let k = shift % truth.len();
            truth.rotate_left(k);
            let auc = roc_auc(&truth, &scores).unwrap();
            let inverse: Vec<bool> = truth.iter().map(|t| !t).collect();
            prop_assert!((auc + roc_auc(&inverse, &scores).unwrap() - 1.0).abs() <= 1e-12);
        }

        #[test]
        fn log_loss_is_bounded_by_the_clip(
            (truth, p) in (1usize..50).prop_flat_map(|n| (
                proptest::collection::vec(any::<bool>(), n),
                proptest::collection::vec(0.0f64..=1.0, n),
            ))
        ) {
            let loss = log_loss(&truth, &p).unwrap();
            prop_assert!(loss > 0.0 && loss <= -f64::EPSILON.ln() + 1e-12);
        }
    }

    #[test]
    fn all_tied_scores_give_one_half() {
        assert_eq!(roc_auc(&[true, false, true], &[0.3; 3]).unwrap(), 0.5);
    }

    #[test]
    fn one_class_has_no_auc_but_a_log_loss() {
        assert_eq!(
            roc_auc(&[true, true], &[0.2, 0.9]),
            Err(QualityError::SingleClass {
                metric: "ROC AUC",
                class: true
            })
        );
        assert!(log_loss(&[true, true], &[0.2, 0.9]).is_ok());
    }

    #[test]
    fn a_confidently_wrong_prediction_costs_minus_ln_epsilon() {
        assert_eq!(log_loss(&[true], &[0.0]).unwrap(), -f64::EPSILON.ln());
    }

    #[test]
    fn probabilities_outside_the_unit_interval_are_rejected() {
        assert!(matches!(
            log_loss(&[true, false], &[0.5, 1.5]),
            Err(QualityError::NotProbability { index: 1, .. })
        ));
        assert!(matches!(
            roc_auc(&[true, false], &[f64::NAN, 1.0]),
            Err(QualityError::NonFinite { index: 0, .. })
        ));
    }
}
