//! Two-sample Kolmogorov–Smirnov test, reproducing `scipy.stats.ks_2samp`
//! (scipy 1.17).
//!
//! With F and G the right-continuous empirical CDFs of the reference and the
//! current sample (ties counted by `searchsorted(side='right')` over the
//! pooled sample), the statistic is D+ = max_t (F(t) - G(t)) for
//! `Greater`, D- = max(0, max_t (G(t) - F(t))) for `Less`, and the larger of
//! the two for `TwoSided`; `statistic_location` is the pooled value where it
//! is attained (first in reference-then-current order) and `statistic_sign`
//! is +1 for D+, -1 for D-.
//!
//! p-values follow scipy: `Auto` means exact when max(n, m) <= 10000, else
//! asymptotic. The exact path snaps D to the nearest multiple of
//! 1/lcm(n, m) and counts lattice paths (Hodges 1958: square grid formula for
//! n = m, Viehmann's inside method for two-sided, outside-path counting for
//! one-sided); when that computation fails (overflow, or a probability
//! outside [0, 1] from rounding) scipy silently falls back to the asymptotic
//! method with the snapped D, and so does this module, reporting the method
//! actually used. The asymptotic two-sided p-value is the one-sample
//! Kolmogorov distribution `kstwo.sf(D, round(n m / (n + m)))` (NaN when
//! that rounds to 0, as in scipy); one-sided uses Hodges' approximation
//! exp(-2 z^2 - 2 z (M + 2 N) / (3 sqrt(M N (M + N)))) with z = D sqrt(M N / (M + N))
//! and M >= N the sample sizes. p-values are clipped to [0, 1].

use crate::stats::{Alternative, StatsError, binom, check_sample, check_weights};

mod kstwo;

/// How the p-value is computed, as scipy's `method` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KsMethod {
    /// Exact when both samples have at most 10000 values, else asymptotic.
    #[default]
    Auto,
    /// Exact null distribution (falls back to asymptotic where scipy does).
    Exact,
    /// Kolmogorov distribution (two-sided) or Hodges' formula (one-sided).
    Asymp,
}

/// A KS statistic, its p-value and where the ECDFs differ most.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsOutcome {
    /// D (snapped to a multiple of 1/lcm(n, m) when the exact path ran).
    pub statistic: f64,
    /// p-value in [0, 1], or NaN where scipy's gives NaN.
    pub p_value: f64,
    /// `Exact` or `Asymp`: the method that produced `p_value`.
    pub method_used: KsMethod,
    /// The pooled value at which the statistic is attained.
    pub statistic_location: f64,
    /// +1 when the reference ECDF exceeds the current one there, else -1.
    pub statistic_sign: i8,
}

/// Samples larger than this make `Auto` asymptotic (scipy's `MAX_AUTO_N`).
const MAX_AUTO_N: usize = 10_000;

/// `scipy.stats.ks_2samp(reference, current, alternative, method)`.
/// The inputs need not be sorted; an empty or non-finite sample is an error.
pub fn ks_2samp(
    reference: &[f64],
    current: &[f64],
    alternative: Alternative,
    method: KsMethod,
) -> Result<KsOutcome, StatsError> {
    check_sample("reference", reference)?;
    check_sample("current", current)?;
    let x = sorted(reference);
    let y = sorted(current);
    let ext = ecdf_extremes(&x, &y);
    let (d, statistic_location, statistic_sign) = match alternative {
        Alternative::Greater => (ext.max_diff, ext.max_at, 1),
        Alternative::Less => (ext.min_diff, ext.min_at, -1),
        Alternative::TwoSided if ext.min_diff > ext.max_diff => (ext.min_diff, ext.min_at, -1),
        Alternative::TwoSided => (ext.max_diff, ext.max_at, 1),
    };
    let (statistic, p_value, method_used) = p_value(d, x.len(), y.len(), alternative, method);
    Ok(KsOutcome {
        statistic,
        p_value,
        method_used,
        statistic_location,
        statistic_sign,
    })
}

/// The p-value `ks_2samp` gives for a statistic `d` (computed elsewhere,
/// e.g. against a weighted or summarised reference) with `n` reference and
/// `m` current values, and the method that produced it. NaN when `n` or `m`
/// is 0 or `d` is not a number in [0, 1].
pub fn ks_p_value(
    d: f64,
    n: usize,
    m: usize,
    alternative: Alternative,
    method: KsMethod,
) -> (f64, KsMethod) {
    if n == 0 || m == 0 || !(0.0..=1.0).contains(&d) {
        return (f64::NAN, KsMethod::Asymp);
    }
    let (_, p, used) = p_value(d, n, m, alternative, method);
    (p, used)
}

/// The two-sided KS statistic of a weighted reference against `current`:
/// sup_t |W(t) - G(t)| where W(t) is the share of reference weight on values
/// <= t. `ref_sorted` must be non-decreasing, with one non-negative weight
/// per value (e.g. distinct values with counts, or a quantile summary).
/// With all weights 1 this equals `ks_2samp`'s raw two-sided statistic bit
/// for bit (the cumulative weights are then exact integers).
pub fn ks_statistic_weighted(
    ref_sorted: &[f64],
    ref_weights: &[f64],
    current: &[f64],
) -> Result<f64, StatsError> {
    check_sample("reference", ref_sorted)?;
    check_weights("reference weights", ref_weights)?;
    check_sample("current", current)?;
    if ref_weights.len() != ref_sorted.len() {
        return Err(StatsError::Invalid {
            what: "reference weights",
            reason: format!(
                "{} weights for {} values",
                ref_weights.len(),
                ref_sorted.len()
            ),
        });
    }
    if let Some(i) = ref_sorted.windows(2).position(|w| w[0] > w[1]) {
        return Err(StatsError::Invalid {
            what: "reference",
            reason: format!("not sorted: entry {} exceeds entry {}", i, i + 1),
        });
    }
    let total: f64 = ref_weights.iter().fold(0.0, |acc, w| acc + w);
    let y = sorted(current);
    let m = y.len() as f64;
    // One merge walk over both sorted samples: at each distinct value t,
    // `below` is the reference weight on values <= t (summed in order, as a
    // running cumulative sum) and `j` the current values <= t.
    let (mut i, mut j, mut below, mut d) = (0, 0, 0.0_f64, 0.0_f64);
    while i < ref_sorted.len() || j < y.len() {
        let t = match (ref_sorted.get(i), y.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        while i < ref_sorted.len() && ref_sorted[i] <= t {
            below += ref_weights[i];
            i += 1;
        }
        while j < y.len() && y[j] <= t {
            j += 1;
        }
        d = d.max((below / total - j as f64 / m).abs());
    }
    Ok(d)
}

/// The two-sided KS statistic of `current` against a reference known by
/// `quantiles`: its values at ranks `i/(M-1)`, `i = 0..M`, sorted (a
/// baseline's quantile summary). The reference CDF is taken to be the
/// piecewise-linear interpolation of those points (jumping where quantiles
/// tie), which follows a large sample's ECDF far more closely than treating
/// the quantiles as atoms: the error left is the summary's own rank error.
/// As the reference CDF is monotone between current values, the supremum
/// is attained at a current value, from the left or the right.
pub fn ks_statistic_quantiles(quantiles: &[f64], current: &[f64]) -> Result<f64, StatsError> {
    check_sample("reference quantiles", quantiles)?;
    check_sample("current", current)?;
    if quantiles.len() < 2 {
        return Err(StatsError::TooSmall {
            sample: "reference quantiles",
            test: "ks",
            need: 2,
            got: quantiles.len(),
        });
    }
    if let Some(i) = quantiles.windows(2).position(|w| w[0] > w[1]) {
        return Err(StatsError::Invalid {
            what: "reference quantiles",
            reason: format!("not sorted: entry {} exceeds entry {}", i, i + 1),
        });
    }
    let y = sorted(current);
    let m = y.len() as f64;
    // A merge walk: the counts of quantiles below / at most t only grow.
    let (mut j, mut below, mut upto, mut d) = (0, 0, 0, 0.0_f64);
    while j < y.len() {
        let t = y[j];
        let mut k = j;
        while k < y.len() && y[k] == t {
            k += 1;
        }
        while below < quantiles.len() && quantiles[below] < t {
            below += 1;
        }
        upto = upto.max(below);
        while upto < quantiles.len() && quantiles[upto] <= t {
            upto += 1;
        }
        let before = interpolated_cdf(quantiles, t, below);
        let at = interpolated_cdf(quantiles, t, upto);
        d = d
            .max((at - k as f64 / m).abs())
            .max((before - j as f64 / m).abs());
        j = k;
    }
    Ok(d)
}

/// The interpolated reference CDF at `t`, given `count` = the number of
/// quantiles below `t` (strictly, for the left limit) or at most `t`.
fn interpolated_cdf(quantiles: &[f64], t: f64, count: usize) -> f64 {
    let last = quantiles.len() - 1;
    if count == 0 {
        return 0.0;
    }
    if count > last {
        return 1.0;
    }
    let (lo, hi) = (quantiles[count - 1], quantiles[count]);
    let within = if hi > lo { (t - lo) / (hi - lo) } else { 0.0 };
    ((count - 1) as f64 + within) / last as f64
}

/// A sorted copy (inputs are finite, so the total order is the usual one).
fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Number of values <= t in a sorted slice (`searchsorted(side='right')`).
fn count_le(sorted: &[f64], t: f64) -> usize {
    sorted.partition_point(|&v| v <= t)
}

/// Largest positive and negative ECDF differences and where they occur.
struct EcdfExtremes {
    /// max_t (F(t) - G(t)).
    max_diff: f64,
    max_at: f64,
    /// max_t (G(t) - F(t)) clipped to [0, 1] as scipy clips it (so -0.0 when
    /// the curves touch but never cross that way).
    min_diff: f64,
    min_at: f64,
}

/// Scans the pooled sample in scipy's order (reference values, then
/// current) and keeps the first arg-max and arg-min of F - G, as `np.argmax`
/// and `np.argmin` do.
fn ecdf_extremes(x: &[f64], y: &[f64]) -> EcdfExtremes {
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let (mut max_diff, mut max_at) = (f64::NEG_INFINITY, x[0]);
    let (mut min_diff, mut min_at) = (f64::INFINITY, x[0]);
    for &t in x.iter().chain(y) {
        let diff = count_le(x, t) as f64 / n1 - count_le(y, t) as f64 / n2;
        if diff > max_diff {
            (max_diff, max_at) = (diff, t);
        }
        if diff < min_diff {
            (min_diff, min_at) = (diff, t);
        }
    }
    // np.clip keeps -0.0 when the curves touch without crossing; so does clamp.
    let min_diff = (-min_diff).clamp(0.0, 1.0);
    EcdfExtremes {
        max_diff,
        max_at,
        min_diff,
        min_at,
    }
}

/// scipy's method resolution and p-value: (reported statistic, p, method).
fn p_value(
    d: f64,
    n1: usize,
    n2: usize,
    alternative: Alternative,
    method: KsMethod,
) -> (f64, f64, KsMethod) {
    let g = gcd(n1, n2);
    let mode = match method {
        KsMethod::Auto if n1.max(n2) <= MAX_AUTO_N => KsMethod::Exact,
        KsMethod::Auto => KsMethod::Asymp,
        // scipy gives up on exact when lcm(n1, n2) would not fit an int32.
        KsMethod::Exact if (n1 / g) as f64 >= i32::MAX as f64 / (n2 / g) as f64 => KsMethod::Asymp,
        other => other,
    };
    let mut d = d;
    if mode == KsMethod::Exact {
        let (snapped, prob) = attempt_exact(n1, n2, g, d, alternative);
        if let Some(p) = prob {
            return (snapped, p, KsMethod::Exact);
        }
        // scipy keeps the snapped statistic when it falls back.
        d = snapped;
    }
    (
        d,
        asymp_p(d, n1, n2, alternative).clamp(0.0, 1.0),
        KsMethod::Asymp,
    )
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// scipy's `_attempt_exact_2kssamp`: the statistic snapped to h/lcm and the
/// exact p-value, or `None` where scipy's computation fails (floating-point
/// overflow or a result outside [0, 1]).
fn attempt_exact(
    n1: usize,
    n2: usize,
    g: usize,
    d: f64,
    alternative: Alternative,
) -> (f64, Option<f64>) {
    let lcm = (n1 / g) as u64 * n2 as u64;
    let h = (d * lcm as f64).round_ties_even() as u64;
    let d = h as f64 / lcm as f64;
    if h == 0 {
        return (d, Some(1.0));
    }
    let (n1, n2, g) = (n1 as u64, n2 as u64, g as u64);
    let prob = match alternative {
        Alternative::TwoSided if n1 == n2 => Some(prob_outside_square(n1, h)),
        Alternative::TwoSided => outer_prob_inside(n1, n2, g, h),
        // P(D+ >= h/n) = C(2n, n-h) / C(2n, n), as a product of ratios.
        _ if n1 == n2 => Some((0..h).fold(1.0, |p, j| {
            p * ((n1 as f64 - j as f64) / (n1 as f64 + j as f64 + 1.0))
        })),
        _ => {
            // scipy fails (overflow) whenever the total is infinite; checking
            // it first skips a count that can only fail, and slowly.
            let total = binom(n1 + n2, n1);
            Some(total)
                .filter(|t| t.is_finite())
                .and_then(|_| count_paths_outside(n1, n2, g, h))
                .filter(|&paths| paths <= total)
                .map(|paths| paths / total)
        }
    };
    (d, prob.filter(|p| (0.0..=1.0).contains(p)))
}

/// P(D_{n,n} >= h/n) by the alternating sum of binomial ratios in scipy's
/// Horner form 2 A0 (1 - A1 (1 - A2 (1 - ...))), `_compute_prob_outside_square`.
/// The arithmetic is scipy's, operation for operation: whether the result
/// rounds above 1 decides scipy's fallback (e.g. n = 5, h = 1).
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut p = 0.0;
    for k in (0..=n / h).rev() {
        let mut p1 = 1.0;
        for j in 0..h {
            p1 = (n - k * h - j) as f64 * p1 / (n + k * h + j + 1) as f64;
        }
        p = p1 * (1.0 - p);
    }
    2.0 * p
}

/// The proportion of lattice paths from (0, 0) to (m, n) that leave the band
/// |x/m - y/n| < h/lcm(m, n): scipy's `_compute_outer_prob_inside_method`,
/// Hodges' inside method with Viehmann's (2021) recursion for 1 - p, keeping
/// one sliding column. `None` if an index leaves the column (never expected;
/// it makes the caller fall back instead of panicking).
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (m, n, g, h) = (m as i64, n as i64, g as i64, h as i64);
    let (mg, ng) = (m / g, n / g);
    let mut minj = 0_i64;
    let mut maxj = ((h as f64 / mg as f64).ceil() as i64).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0; len_a];
    a[..(maxj as usize).min(len_a)].fill(0.0);
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((((ng * i - h) as f64 / mg as f64).floor() as i64) + 1).clamp(0, n);
        maxj = (((ng * i + h) as f64 / mg as f64).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return Some(1.0);
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..maxj - minj {
            let j = jj + minj;
            let prev = *a.get((jj + minj - lastminj) as usize)?;
            val = (prev * i as f64 + val * j as f64) / (i + j) as f64;
            *a.get_mut(jj as usize)? = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            // Entries carried over from the longer previous column become 1.
            let start = ((maxj - minj) as usize).min(len_a);
            let end = ((maxj - minj + lastlen - curlen) as usize).min(len_a);
            a[start..end].fill(1.0);
        }
    }
    a.get((maxj - minj - 1) as usize).copied()
}

/// The number of lattice paths from (0, 0) to (m, n) that at some point
/// satisfy m y <= n x - h g, as a double: scipy's
/// `_count_paths_outside_method`. B(x_j, j) counts paths reaching the
/// boundary first at (x_j, j); each is extended to (m, n) in every way.
/// `None` on overflow, where numpy raises under `errstate(over='raise')`.
fn count_paths_outside(m: u64, n: u64, g: u64, h: u64) -> Option<f64> {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = (m / g, n / g);
    // lxj = n + (mg - h) // mg, with Python's floor division.
    let lxj = n as i64 + (mg as i64 - h as i64).div_euclid(mg as i64);
    if lxj <= 0 {
        return Some(binom(m + n, n)).filter(|c| c.is_finite());
    }
    let lxj = lxj as u64;
    // The x where the boundary crosses each integer y = j.
    let xj: Vec<u64> = (0..lxj).map(|j| (h + mg * j).div_ceil(ng)).collect();
    let mut b = Vec::with_capacity(lxj as usize);
    b.push(1.0);
    for j in 1..lxj {
        let mut bj = binom(xj[j as usize] + j, j);
        for (i, &bi) in b.iter().enumerate() {
            let i = i as u64;
            let gap = (xj[j as usize] - xj[i as usize]) + (j - i);
            bj -= binom(gap, j - i) * bi;
        }
        if !bj.is_finite() {
            return None;
        }
        b.push(bj);
    }
    let mut paths = 0.0;
    for (j, (&x, &bj)) in xj.iter().zip(&b).enumerate() {
        let rest = m.checked_sub(x)? + (n - j as u64);
        paths += bj * binom(rest, n - j as u64);
    }
    Some(paths).filter(|p| p.is_finite())
}

/// The asymptotic p-value: the Kolmogorov distribution for two-sided,
/// Hodges' (1958, eq. 5.3) approximation for one-sided.
fn asymp_p(d: f64, n1: usize, n2: usize, alternative: Alternative) -> f64 {
    // The one-sided formula needs m the larger size.
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = m * n / (m + n);
    match alternative {
        Alternative::TwoSided => kstwo::kstwo_sf(d, en.round_ties_even() as u64),
        Alternative::Less | Alternative::Greater => {
            let z = en.sqrt() * d;
            let expt =
                -2.0 * z.powf(2.0) - 2.0 * z * (m + 2.0 * n) / (m * n * (m + n)).sqrt() / 3.0;
            expt.exp()
        }
    }
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
    const METHODS: [KsMethod; 3] = [KsMethod::Auto, KsMethod::Exact, KsMethod::Asymp];

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        // Small integers give ties; the range keeps the exact path fast.
        prop::collection::vec((-20i32..20).prop_map(|v| f64::from(v) / 4.0), 1..40)
    }

    proptest! {
        #[test]
        fn p_values_in_unit_interval(x in sample(), y in sample()) {
            for alt in ALTERNATIVES {
                for method in METHODS {
                    let r = ks_2samp(&x, &y, alt, method).unwrap();
                    prop_assert!((0.0..=1.0).contains(&r.statistic));
                    // NaN only where scipy's is: two-sided asymp with
                    // round(n m / (n + m)) = 0, i.e. n = m = 1.
                    if r.p_value.is_nan() {
                        prop_assert!(x.len() == 1 && y.len() == 1);
                        prop_assert_eq!(r.method_used, KsMethod::Asymp);
                    } else {
                        prop_assert!((0.0..=1.0).contains(&r.p_value), "{:?}", r);
                    }
                }
            }
        }

        #[test]
        fn invariant_to_input_order(x in sample(), y in sample()) {
            let (mut xr, mut yr) = (x.clone(), y.clone());
            xr.reverse();
            yr.reverse();
            for alt in ALTERNATIVES {
                let a = ks_2samp(&x, &y, alt, KsMethod::Auto).unwrap();
                let b = ks_2samp(&xr, &yr, alt, KsMethod::Auto).unwrap();
                prop_assert_eq!(a.statistic.to_bits(), b.statistic.to_bits());
                prop_assert_eq!(a.p_value.to_bits(), b.p_value.to_bits());
            }
        }

        #[test]
        fn two_sided_statistic_symmetric(x in sample(), y in sample()) {
            for method in METHODS {
                let a = ks_2samp(&x, &y, Alternative::TwoSided, method).unwrap();
                let b = ks_2samp(&y, &x, Alternative::TwoSided, method).unwrap();
                prop_assert_eq!(a.statistic, b.statistic);
                // less for (x, y) is greater for (y, x).
                let l = ks_2samp(&x, &y, Alternative::Less, method).unwrap();
                let g = ks_2samp(&y, &x, Alternative::Greater, method).unwrap();
                prop_assert_eq!(l.statistic.abs(), g.statistic.abs());
            }
        }

        #[test]
        fn identical_samples_give_zero(x in sample()) {
            for alt in ALTERNATIVES {
                let r = ks_2samp(&x, &x, alt, KsMethod::Auto).unwrap();
                prop_assert_eq!(r.statistic, 0.0);
                prop_assert_eq!(r.p_value, 1.0);
            }
        }

        #[test]
        fn p_value_only_matches_full_test(x in sample(), y in sample()) {
            for alt in ALTERNATIVES {
                let raw = ks_2samp(&x, &y, alt, KsMethod::Asymp).unwrap();
                for method in METHODS {
                    let full = ks_2samp(&x, &y, alt, method).unwrap();
                    let (p, used) = ks_p_value(raw.statistic, x.len(), y.len(), alt, method);
                    prop_assert_eq!(used, full.method_used);
                    prop_assert!(p.to_bits() == full.p_value.to_bits());
                }
            }
        }

        #[test]
        fn unit_weights_reproduce_statistic(x in sample(), y in sample()) {
            let xs = sorted(&x);
            let w = vec![1.0; xs.len()];
            let d = ks_statistic_weighted(&xs, &w, &y).unwrap();
            let raw = ks_2samp(&x, &y, Alternative::TwoSided, KsMethod::Asymp).unwrap();
            prop_assert_eq!(d.abs(), raw.statistic.abs());
        }

        #[test]
        fn counts_as_weights_match_expanded_sample(y in sample(), counts in prop::collection::vec(1u8..5, 1..10)) {
            // Distinct values with counts give the statistic of the expanded
            // sample (up to rounding of the shares).
            let values: Vec<f64> = (0..counts.len()).map(|i| i as f64 - 3.0).collect();
            let weights: Vec<f64> = counts.iter().map(|&c| f64::from(c)).collect();
            let expanded: Vec<f64> = values.iter().zip(&counts)
                .flat_map(|(&v, &c)| std::iter::repeat_n(v, usize::from(c))).collect();
            let d = ks_statistic_weighted(&values, &weights, &y).unwrap();
            let full = ks_2samp(&expanded, &y, Alternative::TwoSided, KsMethod::Asymp).unwrap();
            prop_assert!((d - full.statistic).abs() < 1e-15);
        }
    }

    #[test]
    fn constant_inputs() {
        let r = ks_2samp(&[2.0; 5], &[2.0; 7], Alternative::TwoSided, KsMethod::Auto).unwrap();
        assert_eq!((r.statistic, r.p_value), (0.0, 1.0));
        let r = ks_2samp(&[1.0; 5], &[2.0; 7], Alternative::TwoSided, KsMethod::Auto).unwrap();
        assert_eq!(r.statistic, 1.0);
        assert!(r.p_value < 0.01);
    }

    #[test]
    fn bad_input_is_an_error() {
        let ok = [1.0, 2.0];
        assert_eq!(
            ks_2samp(&[], &ok, Alternative::TwoSided, KsMethod::Auto),
            Err(StatsError::Empty {
                sample: "reference"
            })
        );
        assert!(matches!(
            ks_2samp(&ok, &[1.0, f64::NAN], Alternative::Less, KsMethod::Exact),
            Err(StatsError::NonFinite {
                sample: "current",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            ks_2samp(&[f64::INFINITY], &ok, Alternative::Greater, KsMethod::Asymp),
            Err(StatsError::NonFinite {
                sample: "reference",
                index: 0,
                ..
            })
        ));
        assert!(ks_statistic_weighted(&[2.0, 1.0], &[1.0, 1.0], &ok).is_err());
        assert!(ks_statistic_weighted(&[1.0, 2.0], &[1.0], &ok).is_err());
        assert!(ks_statistic_weighted(&[1.0, 2.0], &[1.0, -1.0], &ok).is_err());
        assert!(ks_statistic_weighted(&[1.0, 2.0], &[1.0, 1.0], &[]).is_err());
        assert!(
            ks_p_value(0.5, 0, 3, Alternative::TwoSided, KsMethod::Auto)
                .0
                .is_nan()
        );
        assert!(
            ks_p_value(f64::NAN, 3, 3, Alternative::TwoSided, KsMethod::Auto)
                .0
                .is_nan()
        );
    }

    #[test]
    fn exact_fallback_matches_scipy() {
        // n = m = 5, D = 0.2: the square-grid sum rounds to 1 + 2^-52 and
        // scipy falls back to the asymptotic method.
        let x = [1.0, 3.0, 5.0, 7.0, 9.0];
        let y = [2.0, 4.0, 6.0, 8.0, 10.0];
        let r = ks_2samp(&x, &y, Alternative::TwoSided, KsMethod::Exact).unwrap();
        assert_eq!(r.method_used, KsMethod::Asymp);
        assert_eq!(r.statistic, 0.2);
    }

    #[test]
    fn quantile_reference_is_a_piecewise_linear_cdf() {
        // Quantiles of U(0, 1) at ranks i/10: the interpolated CDF is F(t) = t,
        // so the statistic is the one-sample KS distance to the uniform.
        let grid: Vec<f64> = (0..=10).map(|i| i as f64 / 10.0).collect();
        let x = [0.05, 0.3, 0.3, 0.9];
        // ECDF steps: at 0.05 → 0.25 (d = 0.2), at 0.3 → 0.75 (d = 0.45;
        // left limit 0.25 vs 0.3), at 0.9 → 1.0 (left limit 0.75 vs 0.9).
        let d = ks_statistic_quantiles(&grid, &x).unwrap();
        assert!((d - 0.45).abs() < 1e-15, "{d}");
        // Tied quantiles make a jump: half the mass is spread over [0, 1),
        // half sits at 1, so a sample all at 1 is 0.5 away (just below 1).
        let tied = [0.0, 1.0, 1.0];
        assert!((ks_statistic_quantiles(&tied, &[1.0]).unwrap() - 0.5).abs() < 1e-15);
        assert!(ks_statistic_quantiles(&[1.0], &x).is_err());
        assert!(ks_statistic_quantiles(&[1.0, 0.0], &x).is_err());
    }
}
