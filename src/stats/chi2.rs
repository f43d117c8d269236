//! Chi-squared tests of a current categorical distribution against a
//! reference one, given as counts per category (same categories, same order).
//!
//! [`chi2_homogeneity`] is `scipy.stats.chi2_contingency` on the 2 × K table
//! [reference counts; current counts]: Pearson statistic Σ (O − E)²/E with
//! E = row total · column total / N, dof = K − 1, and Yates' continuity
//! correction (each |O − E| reduced by min(0.5, |O − E|)) only when dof = 1
//! and `correction` is set (scipy's default). A category with zero count on
//! both sides would give E = 0, where scipy raises; we drop such categories
//! first. Categories present on one side only are fine.
//!
//! [`chi2_goodness_of_fit`] is the form Evidently's `chisquare` test uses:
//! `scipy.stats.chisquare(current, reference · Σcurrent / Σreference)`,
//! dof = K − 1.
//!
//! p-values are the chi-squared survival function Q(dof/2, χ²/2), the
//! regularized upper incomplete gamma function, which keeps its relative
//! precision for large statistics (no 1 − CDF cancellation).

use super::psi::check_same_len;
use super::{StatsError, check_weights};
use statrs::function::gamma::checked_gamma_ur;

/// A chi-squared statistic, its p-value and degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chi2Outcome {
    pub statistic: f64,
    pub p_value: f64,
    pub dof: usize,
}

/// Chi-squared test of homogeneity of the reference and current counts
/// (`scipy.stats.chi2_contingency` on the 2 × K table, see module docs).
///
/// Errors on empty, non-finite, negative or all-zero rows, mismatched
/// lengths, or fewer than two categories with a non-zero total.
pub fn chi2_homogeneity(
    reference_counts: &[f64],
    current_counts: &[f64],
    correction: bool,
) -> Result<Chi2Outcome, StatsError> {
    let (reference, current) = observed_categories(reference_counts, current_counts)?;
    let dof = reference.len() - 1;
    let ref_total: f64 = reference.iter().sum();
    let cur_total: f64 = current.iter().sum();
    let total = ref_total + cur_total;
    let yates = correction && dof == 1;
    // Row-major over the table, as scipy sums it.
    let rows = [(&reference, ref_total), (&current, cur_total)];
    let mut statistic = 0.0;
    for (row, row_total) in rows {
        for (j, &observed) in row.iter().enumerate() {
            let expected = row_total * (reference[j] + current[j]) / total;
            // Yates moves O towards E by at most 0.5, never past it (gh-13875);
            // done on O, as scipy does, so the rounding matches.
            let observed = if yates {
                let towards = expected - observed;
                observed + towards.signum() * towards.abs().min(0.5)
            } else {
                observed
            };
            let diff = observed - expected;
            statistic += diff * diff / expected;
        }
    }
    Ok(outcome(statistic, dof))
}

/// Evidently's goodness-of-fit form: `scipy.stats.chisquare` of the current
/// counts against the reference counts scaled to the current total.
///
/// A category with current count > 0 and reference count 0 has expected
/// frequency 0: the statistic is +∞ and the p-value 0, as scipy computes it.
/// Errors as [`chi2_homogeneity`].
pub fn chi2_goodness_of_fit(
    reference_counts: &[f64],
    current_counts: &[f64],
) -> Result<Chi2Outcome, StatsError> {
    let (reference, current) = observed_categories(reference_counts, current_counts)?;
    let ref_total: f64 = reference.iter().sum();
    let cur_total: f64 = current.iter().sum();
    let statistic = reference
        .iter()
        .zip(&current)
        .map(|(&r, &observed)| {
            let expected = r * cur_total / ref_total;
            let diff = observed - expected;
            diff * diff / expected
        })
        .sum();
    Ok(outcome(statistic, reference.len() - 1))
}

/// Validates both count rows and keeps the categories whose total is
/// non-zero; at least two must remain.
fn observed_categories(
    reference_counts: &[f64],
    current_counts: &[f64],
) -> Result<(Vec<f64>, Vec<f64>), StatsError> {
    check_weights("reference counts", reference_counts)?;
    check_weights("current counts", current_counts)?;
    check_same_len("categories", reference_counts, current_counts)?;
    let (reference, current): (Vec<f64>, Vec<f64>) = reference_counts
        .iter()
        .zip(current_counts)
        .filter(|(r, c)| **r + **c > 0.0)
        .unzip();
    if reference.len() < 2 {
        return Err(StatsError::TooSmall {
            sample: "categories with a non-zero count",
            test: "the chi-squared test",
            need: 2,
            got: reference.len(),
        });
    }
    Ok((reference, current))
}

fn outcome(statistic: f64, dof: usize) -> Chi2Outcome {
    Chi2Outcome {
        statistic,
        p_value: chi2_sf(statistic, dof),
        dof,
    }
}

/// Survival function of the chi-squared distribution with `dof` ≥ 1 degrees
/// of freedom at `x` ≥ 0 (x may be +∞).
fn chi2_sf(x: f64, dof: usize) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    // a = dof/2 > 0 and 0 < x/2 < ∞ are exactly the function's domain.
    checked_gamma_ur(dof as f64 / 2.0, x / 2.0).expect("arguments in the domain of Q(a, x)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Two count rows over 2..10 categories, each row with a positive count.
    fn count_rows() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        (2usize..10)
            .prop_flat_map(|k| {
                (
                    prop::collection::vec(0u32..500, k),
                    prop::collection::vec(0u32..500, k),
                )
            })
            .prop_map(|(r, c)| {
                let mut r: Vec<f64> = r.into_iter().map(f64::from).collect();
                let mut c: Vec<f64> = c.into_iter().map(f64::from).collect();
                // Two categories with non-zero totals, so the test applies.
                r[0] += 1.0;
                c[1] += 1.0;
                (r, c)
            })
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-15
    }

    proptest! {
        #[test]
        fn homogeneity_is_symmetric_in_the_rows((r, c) in count_rows(), yates in any::<bool>()) {
            let a = chi2_homogeneity(&r, &c, yates).unwrap();
            let b = chi2_homogeneity(&c, &r, yates).unwrap();
            prop_assert!(close(a.statistic, b.statistic));
            prop_assert!(close(a.p_value, b.p_value));
            prop_assert_eq!(a.dof, b.dof);
        }

        #[test]
        fn p_values_are_probabilities((r, c) in count_rows(), yates in any::<bool>()) {
            let h = chi2_homogeneity(&r, &c, yates).unwrap();
            prop_assert!((0.0..=1.0).contains(&h.p_value));
            prop_assert!(h.statistic >= 0.0);
            let g = chi2_goodness_of_fit(&r, &c).unwrap();
            prop_assert!((0.0..=1.0).contains(&g.p_value));
        }

        #[test]
        fn invariant_to_joint_category_order((r, c) in count_rows(), rot in 0usize..10) {
            let k = rot % r.len();
            let (mut r2, mut c2) = (r.clone(), c.clone());
            r2.rotate_left(k);
            c2.rotate_left(k);
            let (a, b) = (chi2_homogeneity(&r, &c, true).unwrap(), chi2_homogeneity(&r2, &c2, true).unwrap());
            prop_assert!(close(a.statistic, b.statistic) && close(a.p_value, b.p_value));
            let (a, b) = (chi2_goodness_of_fit(&r, &c).unwrap(), chi2_goodness_of_fit(&r2, &c2).unwrap());
            prop_assert!(a.statistic == b.statistic || close(a.statistic, b.statistic));
        }

        #[test]
        fn proportional_rows_give_zero_and_p_one((r, _) in count_rows(), scale in 1u32..5) {
            let c: Vec<f64> = r.iter().map(|x| x * f64::from(scale)).collect();
            // Drop the forced category that may be zero on both sides.
            let h = chi2_homogeneity(&r, &c, false);
            if let Ok(h) = h {
                prop_assert!(h.statistic < 1e-9);
                prop_assert!(h.p_value > 1.0 - 1e-6);
            }
        }
    }

    #[test]
    fn all_zero_categories_are_dropped() {
        let with_empty = chi2_homogeneity(&[10.0, 0.0, 5.0], &[3.0, 0.0, 4.0], true).unwrap();
        let without = chi2_homogeneity(&[10.0, 5.0], &[3.0, 4.0], true).unwrap();
        assert_eq!(with_empty, without);
        assert_eq!(with_empty.dof, 1);
    }

    #[test]
    fn new_category_gives_infinite_goodness_of_fit() {
        let g = chi2_goodness_of_fit(&[10.0, 5.0, 0.0], &[3.0, 4.0, 1.0]).unwrap();
        assert_eq!(g.statistic, f64::INFINITY);
        assert_eq!(g.p_value, 0.0);
        assert_eq!(g.dof, 2);
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        type Test = fn(&[f64], &[f64]) -> Result<Chi2Outcome, StatsError>;
        let all: [Test; 2] = [|r, c| chi2_homogeneity(r, c, true), chi2_goodness_of_fit];
        for f in all {
            assert!(matches!(f(&[], &[]), Err(StatsError::Empty { .. })));
            assert!(matches!(
                f(&[1.0, 2.0], &[1.0]),
                Err(StatsError::Invalid {
                    what: "categories",
                    ..
                })
            ));
            assert!(matches!(
                f(&[1.0, f64::NAN], &[1.0, 1.0]),
                Err(StatsError::NonFinite { .. })
            ));
            assert!(matches!(
                f(&[1.0, 1.0], &[f64::INFINITY, 1.0]),
                Err(StatsError::NonFinite { .. })
            ));
            assert!(matches!(
                f(&[1.0, -1.0], &[1.0, 1.0]),
                Err(StatsError::Invalid { .. })
            ));
            assert!(matches!(
                f(&[0.0, 0.0], &[1.0, 1.0]),
                Err(StatsError::Invalid { .. })
            ));
            assert!(matches!(
                f(&[3.0, 0.0], &[1.0, 0.0]),
                Err(StatsError::TooSmall { got: 1, .. })
            ));
        }
    }
}
