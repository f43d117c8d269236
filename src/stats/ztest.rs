//! Pooled two-proportion z-test, reference = sample 1, current = sample 2.
//!
//! z = (p₁ − p₂) / √(P(1 − P)(1/n₁ + 1/n₂)), pᵢ = xᵢ/nᵢ, P = (x₁ + x₂)/(n₁ + n₂),
//! the statistic of Evidently's `z` test (its default for binary categorical
//! columns with ≤ 1000 reference rows).
//!
//! [`two_proportion_ztest`] gives precise p-values from the normal survival
//! function: two-sided 2·sf(|z|), `Less` Φ(z), `Greater` sf(z) = Φ(−z), with
//! Φ computed as `scipy.stats.norm.cdf` does (cephes `ndtr`).
//! [`evidently_z_test_pvalue`] reproduces Evidently's value 2·(1 − Φ(|z|)),
//! which loses relative precision in the tail and underflows to 0 for
//! |z| ≳ 8.3.
//!
//! Degenerate case: when the pooled proportion is 0 or 1 (both samples hold
//! the same single value) scipy's formula gives 0/0 = NaN. We return z = 0
//! and p = 1 for every alternative instead: the observed difference is 0 and
//! under the null it is exactly 0, so P(D ≥ 0) = P(D ≤ 0) = 1. Evidently
//! also returns p = 1 there.

use super::normal::ndtr;
use super::{Alternative, StatsError};

/// A z statistic and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZTestOutcome {
    pub z: f64,
    pub p_value: f64,
}

/// Pooled two-proportion z-test of `ref_successes` out of `ref_n` against
/// `cur_successes` out of `cur_n`, p-value from the survival function.
///
/// Errors unless each n is finite and > 0 and each success count finite in
/// [0, n].
pub fn two_proportion_ztest(
    ref_successes: f64,
    ref_n: f64,
    cur_successes: f64,
    cur_n: f64,
    alternative: Alternative,
) -> Result<ZTestOutcome, StatsError> {
    let Some(z) = z_statistic(ref_successes, ref_n, cur_successes, cur_n)? else {
        return Ok(ZTestOutcome {
            z: 0.0,
            p_value: 1.0,
        });
    };
    let p_value = match alternative {
        Alternative::TwoSided => 2.0 * ndtr(-z.abs()),
        Alternative::Less => ndtr(z),
        Alternative::Greater => ndtr(-z),
    };
    Ok(ZTestOutcome { z, p_value })
}

/// Evidently's `z` stat-test p-value, 2·(1 − Φ(|z|)), with the same
/// cancellation (and underflow to 0 for |z| ≳ 8.3) as Evidently's; 1 when
/// both samples hold the same single value. Prefer [`two_proportion_ztest`]
/// unless Evidently's exact numbers are wanted. Errors as that function.
pub fn evidently_z_test_pvalue(
    ref_successes: f64,
    ref_n: f64,
    cur_successes: f64,
    cur_n: f64,
) -> Result<f64, StatsError> {
    Ok(
        match z_statistic(ref_successes, ref_n, cur_successes, cur_n)? {
            Some(z) => 2.0 * (1.0 - ndtr(z.abs())),
            None => 1.0,
        },
    )
}

/// The pooled z statistic, or `None` when the pooled proportion is 0 or 1.
fn z_statistic(
    ref_successes: f64,
    ref_n: f64,
    cur_successes: f64,
    cur_n: f64,
) -> Result<Option<f64>, StatsError> {
    check_proportion("reference", ref_successes, ref_n)?;
    check_proportion("current", cur_successes, cur_n)?;
    let pooled = (ref_successes + cur_successes) / (ref_n + cur_n);
    if pooled == 0.0 || pooled == 1.0 {
        return Ok(None);
    }
    let (p1, p2) = (ref_successes / ref_n, cur_successes / cur_n);
    let se = (pooled * (1.0 - pooled) * (1.0 / ref_n + 1.0 / cur_n)).sqrt();
    Ok(Some((p1 - p2) / se))
}

fn check_proportion(sample: &'static str, successes: f64, n: f64) -> Result<(), StatsError> {
    if !(n.is_finite() && n > 0.0) {
        return Err(StatsError::Invalid {
            what: sample,
            reason: format!("sample size is {n}: expected a finite number > 0"),
        });
    }
    if !(successes.is_finite() && (0.0..=n).contains(&successes)) {
        return Err(StatsError::Invalid {
            what: sample,
            reason: format!("{successes} successes out of {n}: expected a number in [0, {n}]"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (x₁, n₁, x₂, n₂) with 0 ≤ xᵢ ≤ nᵢ, nᵢ ≥ 1.
    fn counts() -> impl Strategy<Value = (f64, f64, f64, f64)> {
        (1u32..5000, 1u32..5000)
            .prop_flat_map(|(n1, n2)| (0..=n1, Just(n1), 0..=n2, Just(n2)))
            .prop_map(|(x1, n1, x2, n2)| {
                (f64::from(x1), f64::from(n1), f64::from(x2), f64::from(n2))
            })
    }

    proptest! {
        #[test]
        fn p_values_are_probabilities((x1, n1, x2, n2) in counts()) {
            for alt in [Alternative::TwoSided, Alternative::Less, Alternative::Greater] {
                let t = two_proportion_ztest(x1, n1, x2, n2, alt).unwrap();
                prop_assert!((0.0..=1.0).contains(&t.p_value), "{alt:?}: {t:?}");
                prop_assert!(t.z.is_finite());
            }
            let e = evidently_z_test_pvalue(x1, n1, x2, n2).unwrap();
            prop_assert!((0.0..=1.0).contains(&e));
        }

        #[test]
        fn swapping_samples_negates_z((x1, n1, x2, n2) in counts()) {
            let a = two_proportion_ztest(x1, n1, x2, n2, Alternative::Less).unwrap();
            let b = two_proportion_ztest(x2, n2, x1, n1, Alternative::Greater).unwrap();
            prop_assert!((a.z + b.z).abs() <= 1e-12 * a.z.abs().max(1.0));
            prop_assert!((a.p_value - b.p_value).abs() <= 1e-9 * a.p_value + 1e-15);
        }

        #[test]
        fn one_sided_p_values_add_to_one((x1, n1, x2, n2) in counts()) {
            let less = two_proportion_ztest(x1, n1, x2, n2, Alternative::Less).unwrap();
            let greater = two_proportion_ztest(x1, n1, x2, n2, Alternative::Greater).unwrap();
            if less.z != 0.0 {
                prop_assert!((less.p_value + greater.p_value - 1.0).abs() < 1e-14);
            }
        }

        #[test]
        fn equal_proportions_give_z_zero_and_p_one(x in 0u32..100, n in 100u32..200, k in 1u32..4) {
            let (x, n) = (f64::from(x), f64::from(n));
            let scale = f64::from(k);
            let t = two_proportion_ztest(x, n, x * scale, n * scale, Alternative::TwoSided).unwrap();
            prop_assert_eq!(t.z, 0.0);
            prop_assert_eq!(t.p_value, 1.0);
        }
    }

    #[test]
    fn degenerate_pooled_proportion_gives_p_one() {
        for alt in [
            Alternative::TwoSided,
            Alternative::Less,
            Alternative::Greater,
        ] {
            for (x1, x2) in [(0.0, 0.0), (50.0, 40.0)] {
                let t = two_proportion_ztest(x1, 50.0, x2, 40.0, alt).unwrap();
                assert_eq!(
                    t,
                    ZTestOutcome {
                        z: 0.0,
                        p_value: 1.0
                    }
                );
            }
        }
        assert_eq!(evidently_z_test_pvalue(0.0, 5.0, 0.0, 3.0).unwrap(), 1.0);
    }

    #[test]
    fn evidently_form_underflows_where_sf_form_does_not() {
        let alt = Alternative::TwoSided;
        let t = two_proportion_ztest(0.0, 1000.0, 100.0, 1000.0, alt).unwrap();
        assert!(t.z < -10.0 && t.p_value > 0.0);
        assert_eq!(
            evidently_z_test_pvalue(0.0, 1000.0, 100.0, 1000.0).unwrap(),
            0.0
        );
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let alt = Alternative::TwoSided;
        for (x1, n1, x2, n2) in [
            (0.0, 0.0, 1.0, 2.0),
            (1.0, 2.0, 0.0, -1.0),
            (-1.0, 2.0, 1.0, 2.0),
            (3.0, 2.0, 1.0, 2.0),
            (f64::NAN, 2.0, 1.0, 2.0),
            (1.0, f64::INFINITY, 1.0, 2.0),
            (1.0, 2.0, f64::NAN, 2.0),
        ] {
            assert!(matches!(
                two_proportion_ztest(x1, n1, x2, n2, alt),
                Err(StatsError::Invalid { .. })
            ));
            assert!(evidently_z_test_pvalue(x1, n1, x2, n2).is_err());
        }
    }
}
