//! 1-Wasserstein (earth mover's) distance between two empirical
//! distributions, as `scipy.stats.wasserstein_distance(u, v, u_weights,
//! v_weights)`: W₁ = ∫ |F_u(x) − F_v(x)| dx, the CDFs built from the
//! (optionally weighted, then normalised) samples. Computed exactly as scipy
//! does: over the merged sorted values, Σ |F_u − F_v| · (x₍ₖ₊₁₎ − x₍ₖ₎),
//! with F at x₍ₖ₎ = (weight of values ≤ x₍ₖ₎) / total weight.
//!
//! [`wasserstein_normed`] is Evidently's `wasserstein` stat test (its default
//! for numerical columns with > 1000 reference rows): W₁ divided by
//! max(std(reference, ddof = 0), 0.001), reference = u.

use super::{CompensatedSum, StatsError, check_sample, check_weights};

/// Floor on the reference standard deviation Evidently divides by.
const MIN_NORM_STD: f64 = 0.001;

/// 1-Wasserstein distance between the unweighted samples. Sorts copies of
/// both samples, then one merge pass: O((n + m) log(n + m)) time, two
/// allocations.
pub fn wasserstein(reference: &[f64], current: &[f64]) -> Result<f64, StatsError> {
    let u = sorted("reference", reference)?;
    let v = sorted("current", current)?;
    let (n, m) = (u.len() as f64, v.len() as f64);
    Ok(cdf_distance(&u, &v, |i| i as f64 / n, |j| j as f64 / m))
}

/// 1-Wasserstein distance with optional non-negative weights per value
/// (`None` = equal weights). Weights are normalised per sample; zero weights
/// are allowed but not all zero.
pub fn wasserstein_weighted(
    reference: &[f64],
    ref_weights: Option<&[f64]>,
    current: &[f64],
    cur_weights: Option<&[f64]>,
) -> Result<f64, StatsError> {
    let (u, u_cum) = sorted_cumulative("reference", reference, ref_weights)?;
    let (v, v_cum) = sorted_cumulative("current", current, cur_weights)?;
    let (u_total, v_total) = (u_cum[u.len()], v_cum[v.len()]);
    Ok(cdf_distance(
        &u,
        &v,
        |i| u_cum[i] / u_total,
        |j| v_cum[j] / v_total,
    ))
}

/// Evidently's normed Wasserstein distance: W₁ / max(std(reference), 0.001),
/// std with ddof = 0.
pub fn wasserstein_normed(reference: &[f64], current: &[f64]) -> Result<f64, StatsError> {
    let w1 = wasserstein(reference, current)?;
    Ok(normed_by_std(w1, population_std(reference)?))
}

/// W₁ / max(`reference_std`, 0.001), for a caller that holds the reference
/// standard deviation (ddof = 0) but not the sample. A NaN std gives NaN.
pub fn normed_by_std(w1: f64, reference_std: f64) -> f64 {
    if reference_std.is_nan() {
        return f64::NAN;
    }
    w1 / reference_std.max(MIN_NORM_STD)
}

/// Population standard deviation (ddof = 0) as `numpy.std`: two passes, the
/// mean first, so large offsets do not cancel.
pub fn population_std(values: &[f64]) -> Result<f64, StatsError> {
    check_sample("sample", values)?;
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let squares: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    Ok((squares / n).sqrt())
}

/// ∫ |F_u − F_v| over the merged sorted values of `u` and `v`, where
/// `u_cdf(i)` is F_u once the `i` smallest values of `u` are passed.
fn cdf_distance(
    u: &[f64],
    v: &[f64],
    u_cdf: impl Fn(usize) -> f64,
    v_cdf: impl Fn(usize) -> f64,
) -> f64 {
    let (mut i, mut j) = (0, 0);
    let mut previous = u[0].min(v[0]);
    let mut total = CompensatedSum::default();
    while i < u.len() || j < v.len() {
        let next = match (u.get(i), v.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => unreachable!("loop condition"),
        };
        // Between `previous` and `next` both CDFs are flat.
        total.add((u_cdf(i) - v_cdf(j)).abs() * (next - previous));
        while u.get(i).is_some_and(|&a| a <= next) {
            i += 1;
        }
        while v.get(j).is_some_and(|&b| b <= next) {
            j += 1;
        }
        previous = next;
    }
    total.value()
}

/// A validated, sorted copy of a sample.
fn sorted(sample: &'static str, values: &[f64]) -> Result<Vec<f64>, StatsError> {
    check_sample(sample, values)?;
    Ok(sorted_copy(values))
}

fn sorted_copy(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    sorted
}

/// A validated sample sorted by value, with the cumulative weights
/// `cum[i]` = total weight of its `i` smallest values (`cum[0]` = 0).
fn sorted_cumulative(
    sample: &'static str,
    values: &[f64],
    weights: Option<&[f64]>,
) -> Result<(Vec<f64>, Vec<f64>), StatsError> {
    check_sample(sample, values)?;
    let Some(weights) = weights else {
        let sorted = sorted_copy(values);
        let cum = (0..=sorted.len()).map(|i| i as f64).collect();
        return Ok((sorted, cum));
    };
    check_weights(sample, weights)?;
    if weights.len() != values.len() {
        return Err(StatsError::Invalid {
            what: sample,
            reason: format!(
                "{} values but {} weights: expected one weight per value",
                values.len(),
                weights.len()
            ),
        });
    }
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut cum = Vec::with_capacity(pairs.len() + 1);
    cum.push(0.0);
    let mut running = 0.0;
    for &(_, w) in &pairs {
        running += w;
        cum.push(running);
    }
    Ok((pairs.into_iter().map(|(x, _)| x).collect(), cum))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(-100.0f64..100.0, 1..40)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    proptest! {
        #[test]
        fn symmetric_and_non_negative(u in sample(), v in sample()) {
            let a = wasserstein(&u, &v).unwrap();
            prop_assert!(a >= 0.0);
            prop_assert!(close(a, wasserstein(&v, &u).unwrap()));
        }

        #[test]
        fn zero_on_identical_samples(u in sample()) {
            prop_assert_eq!(wasserstein(&u, &u).unwrap(), 0.0);
        }

        #[test]
        fn invariant_to_sample_order(u in sample(), v in sample(), rot in 0usize..40) {
            let mut u2 = u.clone();
            u2.rotate_left(rot % u.len());
            u2.reverse();
            prop_assert_eq!(wasserstein(&u, &v).unwrap(), wasserstein(&u2, &v).unwrap());
        }

        #[test]
        fn a_shift_moves_by_the_shift(u in sample(), shift in -50.0f64..50.0) {
            let v: Vec<f64> = u.iter().map(|x| x + shift).collect();
            prop_assert!((wasserstein(&u, &v).unwrap() - shift.abs()).abs() < 1e-9);
        }

        #[test]
        fn equal_weights_match_unweighted(u in sample(), v in sample(), w in 0.1f64..10.0) {
            let uw = vec![w; u.len()];
            let weighted = wasserstein_weighted(&u, Some(&uw), &v, None).unwrap();
            prop_assert!(close(weighted, wasserstein(&u, &v).unwrap()));
        }

        #[test]
        fn weights_permute_with_their_values(u in sample(), v in sample(), seed in any::<u64>()) {
            let uw: Vec<f64> = (0..u.len()).map(|i| ((seed >> (i % 60)) & 7) as f64 + 1.0).collect();
            let a = wasserstein_weighted(&u, Some(&uw), &v, None).unwrap();
            let (mut u2, mut uw2) = (u.clone(), uw.clone());
            u2.reverse();
            uw2.reverse();
            let b = wasserstein_weighted(&u2, Some(&uw2), &v, None).unwrap();
            prop_assert!(close(a, b));
        }
    }

    #[test]
    fn normed_floors_the_std() {
        assert_eq!(normed_by_std(3.5, 0.0), 3500.0);
        assert_eq!(normed_by_std(1.0, 2.0), 0.5);
        assert!(normed_by_std(1.0, f64::NAN).is_nan());
        assert_eq!(wasserstein_normed(&[0.0], &[3.5]).unwrap(), 3500.0);
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        assert!(matches!(
            wasserstein(&[], &[1.0]),
            Err(StatsError::Empty { .. })
        ));
        assert!(matches!(
            wasserstein(&[1.0], &[f64::NAN]),
            Err(StatsError::NonFinite { .. })
        ));
        assert!(matches!(
            wasserstein_normed(&[f64::INFINITY], &[1.0]),
            Err(StatsError::NonFinite { .. })
        ));
        let w = |u: &[f64], uw: &[f64]| wasserstein_weighted(u, Some(uw), &[1.0], None);
        assert!(matches!(
            w(&[1.0, 2.0], &[1.0]),
            Err(StatsError::Invalid { .. })
        ));
        assert!(matches!(
            w(&[1.0, 2.0], &[1.0, -1.0]),
            Err(StatsError::Invalid { .. })
        ));
        assert!(matches!(
            w(&[1.0, 2.0], &[0.0, 0.0]),
            Err(StatsError::Invalid { .. })
        ));
        assert!(matches!(
            w(&[1.0, 2.0], &[1.0, f64::NAN]),
            Err(StatsError::NonFinite { .. })
        ));
        assert!(population_std(&[]).is_err());
    }
}
