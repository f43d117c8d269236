//! Regression quality from (truth, prediction) pairs: mean absolute error,
//! root mean squared error and mean absolute percentage error, as
//! scikit-learn computes them (means in numpy's pairwise summation order).
//!
//! MAPE is a fraction, not a percent, and divides by max(|y|, ε) with
//! ε = `f64::EPSILON`, as sklearn does: a zero truth with a non-zero error
//! gives a huge but finite term (about 4.5·10¹⁵ per unit of error) rather
//! than infinity, so one zero label can dominate the mean. Callers with
//! zero-valued targets should prefer MAE.

use super::{QualityError, check_finite, check_pairs};

/// Checks both slices and returns the errors ŷ − y.
fn residuals(truth: &[f64], predicted: &[f64]) -> Result<Vec<f64>, QualityError> {
    check_pairs(truth, predicted)?;
    check_finite("truth", truth)?;
    check_finite("predicted", predicted)?;
    Ok(predicted.iter().zip(truth).map(|(p, t)| p - t).collect())
}

/// Mean of |ŷ − y|: `sklearn.metrics.mean_absolute_error(truth, predicted)`.
pub fn mae(truth: &[f64], predicted: &[f64]) -> Result<f64, QualityError> {
    let abs: Vec<f64> = residuals(truth, predicted)?
        .iter()
        .map(|e| e.abs())
        .collect();
    Ok(super::np_mean(&abs))
}

/// Square root of the mean of (ŷ − y)²:
/// `sklearn.metrics.root_mean_squared_error(truth, predicted)`.
pub fn rmse(truth: &[f64], predicted: &[f64]) -> Result<f64, QualityError> {
    let squares: Vec<f64> = residuals(truth, predicted)?.iter().map(|e| e * e).collect();
    Ok(super::np_mean(&squares).sqrt())
}

/// Mean of |ŷ − y| / max(|y|, ε), ε = `f64::EPSILON` (see the module docs):
/// `sklearn.metrics.mean_absolute_percentage_error(truth, predicted)`.
pub fn mape(truth: &[f64], predicted: &[f64]) -> Result<f64, QualityError> {
    let ratios: Vec<f64> = residuals(truth, predicted)?
        .iter()
        .zip(truth)
        .map(|(e, t)| e.abs() / t.abs().max(f64::EPSILON))
        .collect();
    Ok(super::np_mean(&ratios))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        (1usize..80).prop_flat_map(|n| {
            (
                proptest::collection::vec(-1e6f64..1e6, n),
                proptest::collection::vec(-1e6f64..1e6, n),
            )
        })
    }

    proptest! {
        #[test]
        fn mae_never_exceeds_rmse((t, p) in pairs()) {
            let (mae, rmse) = (mae(&t, &p).unwrap(), rmse(&t, &p).unwrap());
            // Equal when every error has the same size; allow rounding then.
            prop_assert!(mae <= rmse * (1.0 + 1e-12), "mae {mae} > rmse {rmse}");
        }

        #[test]
        fn perfect_predictions_have_no_error((t, _) in pairs()) {
            prop_assert_eq!(mae(&t, &t).unwrap(), 0.0);
            prop_assert_eq!(rmse(&t, &t).unwrap(), 0.0);
            prop_assert_eq!(mape(&t, &t).unwrap(), 0.0);
        }
    }

    #[test]
    fn zero_truth_divides_by_epsilon_not_zero() {
        assert_eq!(mape(&[0.0], &[1.0]).unwrap(), 1.0 / f64::EPSILON);
    }

    #[test]
    fn non_finite_predictions_are_rejected() {
        assert_eq!(
            mae(&[1.0, 2.0], &[1.0, f64::INFINITY]),
            Err(QualityError::NonFinite {
                sample: "predicted",
                index: 1,
                value: f64::INFINITY
            })
        );
    }
}
