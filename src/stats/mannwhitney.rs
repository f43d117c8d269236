//! Mann–Whitney U test, reproducing `scipy.stats.mannwhitneyu` (scipy 1.17).
//!
//! The statistic is U of the reference sample, U1 = R1 - n1 (n1 + 1) / 2 with
//! R1 the sum of its midranks in the pooled sample; `Greater` is the
//! alternative that the reference is stochastically greater than the
//! current sample, `Less` the opposite.
//!
//! `Auto` is exact when either sample has at most 8 values and there are no
//! ties, else asymptotic (scipy's rule). The exact p-value uses the null
//! distribution of U computed, as scipy's `_MWU`, by Löffler's (1983)
//! recurrence on the counts (the statistic truncated to an integer, as
//! scipy's cast does when ties make it fractional; no tie correction). The
//! asymptotic p-value is normal with the tie-corrected variance
//! n1 n2 / 12 ((n + 1) - Σ (t³ - t) / (n (n - 1))) and, if asked, the
//! continuity correction 0.5 towards the mean. Two-sided is twice the
//! one-sided tail, and p-values are clipped to [0, 1].
//!
//! One deliberate difference: when every pooled value is equal the variance
//! is 0 and scipy's two-sided (or uncorrected) asymptotic p-value is 0/0 =
//! NaN; here it is 1, the value scipy's one-sided corrected p-values already
//! take there — identical constant samples carry no evidence of drift.

use crate::stats::normal::ndtr;
use crate::stats::{Alternative, StatsError, TestOutcome, binom, check_sample, midranks};

/// How the p-value is computed, as scipy's `method` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MwuMethod {
    /// Exact when min(n1, n2) <= 8 and there are no ties, else asymptotic.
    #[default]
    Auto,
    /// Exact null distribution of U (not corrected for ties).
    Exact,
    /// Normal approximation with tie-corrected variance.
    Asymptotic,
}

/// `Auto` stays exact while some sample has at most this many values.
const MAX_AUTO_EXACT: usize = 8;

/// `scipy.stats.mannwhitneyu(reference, current, use_continuity,
/// alternative, method)`: the statistic is U of `reference`.
pub fn mannwhitneyu(
    reference: &[f64],
    current: &[f64],
    alternative: Alternative,
    use_continuity: bool,
    method: MwuMethod,
) -> Result<TestOutcome, StatsError> {
    check_sample("reference", reference)?;
    check_sample("current", current)?;
    let (n1, n2) = (reference.len(), current.len());
    let pooled: Vec<f64> = reference.iter().chain(current).copied().collect();
    let (ranks, ties) = midranks(&pooled);
    let r1: f64 = ranks[..n1].iter().sum();
    let u1 = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let has_ties = ties.iter().any(|&t| t > 1);
    let exact = match method {
        MwuMethod::Auto => n1.min(n2) <= MAX_AUTO_EXACT && !has_ties,
        MwuMethod::Exact => true,
        MwuMethod::Asymptotic => false,
    };
    let p = if exact {
        let u2 = (n1 * n2) as f64 - u1;
        // scipy uses the upper tail of U1, of U2 (by symmetry, for the lower
        // tail of U1), or of the larger one doubled.
        let (u, factor) = match alternative {
            Alternative::Greater => (u1, 1.0),
            Alternative::Less => (u2, 1.0),
            Alternative::TwoSided => (u1.max(u2), 2.0),
        };
        // `astype(int64)` truncates a midrank-induced half.
        exact_sf(u.trunc() as u64, n1 as u64, n2 as u64) * factor
    } else {
        asymptotic_p(u1, n1, n2, &ties, use_continuity, alternative)
    };
    Ok(TestOutcome {
        statistic: u1,
        p_value: p.clamp(0.0, 1.0),
    })
}

/// scipy's normal approximation (`_get_mwu_z` and `_get_pvalue`).
fn asymptotic_p(
    u1: f64,
    n1: usize,
    n2: usize,
    ties: &[usize],
    use_continuity: bool,
    alternative: Alternative,
) -> f64 {
    let mu = (n1 * n2) as f64 / 2.0;
    let n = (n1 + n2) as f64;
    let tie_term: f64 = ties.iter().map(|&t| (t * t * t - t) as f64).sum();
    let s = ((n1 * n2) as f64 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    if s == 0.0 {
        // Every pooled value is equal (see the module notes).
        return 1.0;
    }
    let mut numerator = u1 - mu;
    if use_continuity {
        // Always towards the mean, to account for the mass at U itself.
        let sign = match alternative {
            Alternative::Greater => 1.0,
            Alternative::Less => -1.0,
            Alternative::TwoSided if numerator > 0.0 => 1.0,
            Alternative::TwoSided if numerator < 0.0 => -1.0,
            Alternative::TwoSided => 0.0,
        };
        numerator -= 0.5 * sign;
    }
    let z = numerator / s;
    match alternative {
        Alternative::Less => ndtr(z),
        Alternative::Greater => ndtr(-z),
        Alternative::TwoSided => 2.0 * ndtr(-z.abs()),
    }
}

/// P(U >= k) under the null for sizes n1, n2, as scipy's `_MWU.sf`: summed
/// from the nearer end of the (symmetric) distribution.
fn exact_sf(k: u64, n1: u64, n2: u64) -> f64 {
    let (n1, n2) = (n1.min(n2), n1.max(n2));
    let total = binom(n1 + n2, n1);
    let kc = n1 * n2 - k.min(n1 * n2);
    if k < kc {
        let pmf = u_pmf(n1, n2, k, total);
        let cdf: f64 = pmf.iter().sum();
        1.0 - cdf + pmf[pmf.len() - 1]
    } else {
        u_pmf(n1, n2, kc, total).iter().sum()
    }
}

/// P(U = u) for u = 0..=max_u, n1 <= n2: Löffler's recurrence
/// u c(u) = Σ_{i<u} c(i) σ(u - i), with σ(a) the sum of the divisors d of a
/// with d <= n1 minus those with n2 < d <= n1 + n2. As in scipy, counts are
/// truncated to integers while they fit a uint64 and are floats after.
fn u_pmf(n1: u64, n2: u64, max_u: u64, total: f64) -> Vec<f64> {
    let len = max_u as usize + 1;
    let mut sigma = vec![0_i64; len];
    for d in 1..=n1 {
        for a in (d as usize..len).step_by(d as usize) {
            sigma[a] += d as i64;
        }
    }
    for d in n2 + 1..=n2 + n1 {
        for a in (d as usize..len).step_by(d as usize) {
            sigma[a] -= d as i64;
        }
    }
    let mut counts = vec![0.0; len];
    counts[0] = 1.0;
    let mut integral = true;
    for u in 1..len {
        let dot: f64 = counts[..u]
            .iter()
            .zip(sigma[1..=u].iter().rev())
            .map(|(c, &s)| c * s as f64)
            .sum();
        let next = dot / u as f64;
        // 2^64: the first double above uint64's range.
        if integral && next >= 18_446_744_073_709_551_616.0 {
            integral = false;
        }
        counts[u] = if integral { (next as u64) as f64 } else { next };
    }
    counts.iter().map(|c| c / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALTERNATIVES: [Alternative; 3] = [
        Alternative::TwoSided,
        Alternative::Less,
        Alternative::Greater,
    ];
    const METHODS: [MwuMethod; 3] = [MwuMethod::Auto, MwuMethod::Exact, MwuMethod::Asymptotic];

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec((-30i32..30).prop_map(|v| f64::from(v) / 2.0), 1..25)
    }

    proptest! {
        #[test]
        fn p_values_in_unit_interval(x in sample(), y in sample(), cont: bool) {
            for alt in ALTERNATIVES {
                for method in METHODS {
                    let r = mannwhitneyu(&x, &y, alt, cont, method).unwrap();
                    prop_assert!((0.0..=1.0).contains(&r.p_value), "{:?}", r);
                    prop_assert!((0.0..=(x.len() * y.len()) as f64).contains(&r.statistic));
                }
            }
        }

        #[test]
        fn invariant_to_input_order(x in sample(), y in sample()) {
            let (mut xr, mut yr) = (x.clone(), y.clone());
            xr.reverse();
            yr.reverse();
            for alt in ALTERNATIVES {
                let a = mannwhitneyu(&x, &y, alt, true, MwuMethod::Auto).unwrap();
                let b = mannwhitneyu(&xr, &yr, alt, true, MwuMethod::Auto).unwrap();
                prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn swapping_samples_mirrors(x in sample(), y in sample()) {
            // U_y = n1 n2 - U_x; less for (x, y) is greater for (y, x).
            for method in METHODS {
                let a = mannwhitneyu(&x, &y, Alternative::Less, true, method).unwrap();
                let b = mannwhitneyu(&y, &x, Alternative::Greater, true, method).unwrap();
                prop_assert_eq!(a.statistic + b.statistic, (x.len() * y.len()) as f64);
                prop_assert!((a.p_value - b.p_value).abs() < 1e-12);
            }
        }

        #[test]
        fn identical_samples_give_p_one(x in sample()) {
            let n = x.len() as f64;
            for method in [MwuMethod::Auto, MwuMethod::Asymptotic] {
                let r = mannwhitneyu(&x, &x, Alternative::TwoSided, true, method).unwrap();
                prop_assert_eq!(r.statistic, n * n / 2.0);
                prop_assert_eq!(r.p_value, 1.0);
            }
        }

        #[test]
        fn exact_distribution_sums_to_one(n1 in 1u64..9, n2 in 1u64..30) {
            let total = binom(n1 + n2, n1);
            let pmf = u_pmf(n1.min(n2), n1.max(n2), n1 * n2, total);
            prop_assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn constant_inputs() {
        for alt in ALTERNATIVES {
            for cont in [true, false] {
                let r = mannwhitneyu(&[4.0; 9], &[4.0; 12], alt, cont, MwuMethod::Auto).unwrap();
                assert_eq!((r.statistic, r.p_value), (54.0, 1.0));
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let ok = [1.0, 2.0];
        let t = Alternative::TwoSided;
        assert_eq!(
            mannwhitneyu(&ok, &[], t, true, MwuMethod::Auto),
            Err(StatsError::Empty { sample: "current" })
        );
        assert!(matches!(
            mannwhitneyu(&[0.0, f64::NAN], &ok, t, true, MwuMethod::Exact),
            Err(StatsError::NonFinite {
                sample: "reference",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            mannwhitneyu(&ok, &[f64::INFINITY], t, false, MwuMethod::Asymptotic),
            Err(StatsError::NonFinite {
                sample: "current",
                index: 0,
                ..
            })
        ));
    }
}
