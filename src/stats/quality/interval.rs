//! Confidence intervals for a window's quality metrics, so that a rule can
//! ask whether a drop from the baseline is more than the noise of a small
//! labelled sample.
//!
//! - [`wilson`]: the Wilson score interval of a proportion (accuracy, the
//!   share of negative ratings, exact match), exactly statsmodels'
//!   `proportion_confint(count, nobs, alpha, method="wilson")`; analytic,
//!   good at small n and near 0 and 1 (`tests/vectors_interval.rs`).
//! - [`bootstrap`]: the percentile bootstrap of any paired metric (F1, ROC
//!   AUC, MAE, …): resample the pairs with replacement, recompute the
//!   metric, take numpy-linear percentiles of the results, as
//!   `scipy.stats.bootstrap(..., method="percentile", paired=True)` does.
//!   Seeded, so a window's interval is the same on every run.

use super::QualityError;
use crate::stats::quantile_sorted;
use statrs::distribution::{ContinuousCDF, Normal};

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    /// The confidence level, such as 0.95.
    pub level: f64,
}

impl Interval {
    /// Whether `value` lies outside the interval: a difference from it
    /// that the sample's noise does not explain at this level.
    pub fn excludes(&self, value: f64) -> bool {
        value < self.low || value > self.high
    }
}

/// Errors unless `level` is strictly between 0 and 1.
fn check_level(level: f64) -> Result<(), QualityError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(QualityError::InvalidLevel { level })
    }
}

/// The Wilson score interval of `successes` out of `trials` at `level`.
pub fn wilson(successes: u64, trials: u64, level: f64) -> Result<Interval, QualityError> {
    check_level(level)?;
    if trials == 0 {
        return Err(QualityError::Empty);
    }
    if successes > trials {
        return Err(QualityError::MoreSuccessesThanTrials { successes, trials });
    }
    let standard = Normal::new(0.0, 1.0).expect("the standard normal");
    let z = standard.inverse_cdf(1.0 - (1.0 - level) / 2.0);
    let (n, q) = (trials as f64, successes as f64 / trials as f64);
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let center = (q + z2 / (2.0 * n)) / denominator;
    let half = z * (q * (1.0 - q) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Ok(Interval {
        low: center - half,
        high: center + half,
        level,
    })
}

/// The percentile bootstrap interval of `metric` over the pairs
/// `(truth[i], predicted[i])`, from `resamples` resamples drawn with
/// `seed`. A resample on which the metric is undefined (ROC AUC of a
/// resample with one class) is drawn again, up to `resamples` extra
/// draws in all; beyond that the metric is undefined on this sample too
/// often to bound, and the last error is returned.
pub fn bootstrap<T: Clone, P: Clone>(
    truth: &[T],
    predicted: &[P],
    metric: impl Fn(&[T], &[P]) -> Result<f64, QualityError>,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Result<Interval, QualityError> {
    check_level(level)?;
    super::check_pairs(truth, predicted)?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let n = truth.len();
    let (mut t, mut p) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut estimates = Vec::with_capacity(resamples);
    let mut redraws = 0;
    while estimates.len() < resamples.max(1) {
        t.clear();
        p.clear();
        for _ in 0..n {
            let i = rng.usize(..n);
            t.push(truth[i].clone());
            p.push(predicted[i].clone());
        }
        match metric(&t, &p) {
            Ok(value) => estimates.push(value),
            Err(e) if redraws >= resamples => return Err(e),
            Err(_) => redraws += 1,
        }
    }
    estimates.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Ok(Interval {
        low: quantile_sorted(&estimates, tail),
        high: quantile_sorted(&estimates, 1.0 - tail),
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::quality::{classification, scores};

    #[test]
    fn wilson_rejects_what_is_not_a_proportion() {
        assert_eq!(wilson(1, 0, 0.95), Err(QualityError::Empty));
        assert_eq!(
            wilson(3, 2, 0.95).unwrap_err().to_string(),
            "3 successes out of 2 trials: a proportion needs at most as many successes as trials"
        );
        assert_eq!(
            wilson(1, 2, 1.0).unwrap_err().to_string(),
            "confidence level 1 is not strictly between 0 and 1"
        );
    }

    #[test]
    fn wilson_stays_within_0_and_1_and_narrows_with_more_trials() {
        let all = wilson(10, 10, 0.95).unwrap();
        assert!(all.low > 0.6 && (all.high - 1.0).abs() < 1e-12, "{all:?}");
        let few = wilson(90, 100, 0.95).unwrap();
        let many = wilson(9000, 10000, 0.95).unwrap();
        assert!(many.high - many.low < (few.high - few.low) / 5.0);
        assert!(few.excludes(0.97) && !few.excludes(0.9));
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_estimate() {
        let truth: Vec<u8> = (0..200).map(|i| u8::from(i % 3 != 0)).collect();
        let predicted: Vec<u8> = (0..200).map(|i| u8::from(i % 5 != 0)).collect();
        let f1 = |t: &[u8], p: &[u8]| Ok(classification::binary_scores(t, p, &1)?.f1);
        let a = bootstrap(&truth, &predicted, f1, 500, 0.9, 7).unwrap();
        let b = bootstrap(&truth, &predicted, f1, 500, 0.9, 7).unwrap();
        assert_eq!(a, b);
        let estimate = f1(&truth, &predicted).unwrap();
        assert!(a.low < estimate && estimate < a.high, "{a:?} vs {estimate}");
    }

    #[test]
    fn bootstrap_covers_the_true_accuracy_about_as_often_as_it_says() {
        // 200 samples of 100 predictions, each right with probability 0.8:
        // a 90% interval should miss 0.8 about 20 times (sd 4.2).
        let mut rng = fastrand::Rng::with_seed(11);
        let accuracy = |t: &[bool], p: &[bool]| classification::accuracy(t, p);
        let misses = (0..200)
            .filter(|&s| {
                let truth: Vec<bool> = (0..100).map(|_| true).collect();
                let predicted: Vec<bool> = (0..100).map(|_| rng.f64() < 0.8).collect();
                bootstrap(&truth, &predicted, accuracy, 200, 0.9, s)
                    .unwrap()
                    .excludes(0.8)
            })
            .count();
        assert!((8..=36).contains(&misses), "{misses} misses of 200");
    }

    #[test]
    fn a_metric_undefined_on_the_sample_is_an_error_not_a_loop() {
        let truth = [false; 8];
        let scores_ = [0.9, 0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.4];
        let auc = |t: &[bool], s: &[f64]| scores::roc_auc(t, s);
        assert!(matches!(
            bootstrap(&truth, &scores_, auc, 100, 0.95, 1),
            Err(QualityError::SingleClass { .. })
        ));
    }
}
