//! k-sample Anderson–Darling test, reproducing `scipy.stats.anderson_ksamp`
//! (scipy 1.17) without a permutation `method`.
//!
//! Scholz & Stephens (1987) define A²_kN from the k samples' empirical
//! distributions against the pooled one: eq. 7 with midrank ECDFs
//! (`Midrank`, scipy's default, valid with ties), eq. 6 with right-continuous
//! ECDFs over the distinct values (`Right`, scipy's `variant='right'`), and
//! eq. 3 for continuous data (`Continuous`). The reported statistic is the
//! normalised T = (A²_kN - (k - 1)) / σ_N with σ_N² their exact finite-sample
//! variance. Critical values for significance levels 25%, 10%, 5%, 2.5%, 1%,
//! 0.5%, 0.1% are b0 + b1/√m + b2/m (Table 2, m = k - 1); the p-value is
//! exp of a least-squares quadratic in T through (critical value, ln level),
//! as `np.polyfit`, and is capped at 0.25 below the smallest and floored at
//! 0.001 above the largest critical value, as scipy does (with a warning);
//! just inside that range the quadratic itself may pass the bounds by up to
//! 1.5%, unclipped, as in scipy.
//!
//! Where scipy raises (fewer than two samples, an empty sample, a single
//! distinct value) this is an error, and so are pooled sizes under 4, where
//! σ_N² divides by (N - 1)(N - 2)(N - 3) = 0 (scipy fails with IndexError or
//! a division by zero).

use crate::stats::{StatsError, check_sample, pairwise_sum};

/// Which A²_kN of Scholz & Stephens, as scipy's `variant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AndersonVariant {
    /// Midrank ECDFs (eq. 7); for continuous and discrete data.
    #[default]
    Midrank,
    /// Right-continuous ECDFs over distinct values (eq. 6); discrete data.
    Right,
    /// The statistic for continuous data (eq. 3); equals `Right` without ties.
    Continuous,
}

/// The normalised statistic, its interpolated p-value and the critical
/// values for significance levels [`SIGNIFICANCE_LEVELS`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AndersonOutcome {
    pub statistic: f64,
    /// 0.25 below and 0.001 above the critical values; between them the
    /// fitted quadratic, which like scipy's is not clipped and overshoots
    /// the bounds slightly at the ends (within [0.00099, 0.2537] for any k).
    pub p_value: f64,
    pub critical_values: [f64; 7],
}

/// The significance levels the critical values correspond to.
pub const SIGNIFICANCE_LEVELS: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

/// Names for the per-sample input errors (`StatsError` takes static names).
const SAMPLE_NAMES: [&str; 10] = [
    "samples[0]",
    "samples[1]",
    "samples[2]",
    "samples[3]",
    "samples[4]",
    "samples[5]",
    "samples[6]",
    "samples[7]",
    "samples[8]",
    "samples[9]",
];

/// `scipy.stats.anderson_ksamp(samples, variant=...)`.
pub fn anderson_ksamp(
    samples: &[&[f64]],
    variant: AndersonVariant,
) -> Result<AndersonOutcome, StatsError> {
    let k = samples.len();
    if k < 2 {
        return Err(StatsError::Invalid {
            what: "samples",
            reason: format!("anderson_ksamp needs at least two samples, got {k}"),
        });
    }
    for (i, sample) in samples.iter().enumerate() {
        check_sample(
            SAMPLE_NAMES.get(i).copied().unwrap_or("samples[10..]"),
            sample,
        )?;
    }
    let sorted_samples: Vec<Vec<f64>> = samples.iter().map(|s| sorted(s)).collect();
    let pooled = sorted(&samples.concat());
    let n_total = pooled.len();
    let mut distinct = pooled.clone();
    distinct.dedup_by(|a, b| a == b);
    if distinct.len() < 2 {
        return Err(StatsError::Invalid {
            what: "samples",
            reason: "all values are identical: anderson_ksamp needs two distinct values".into(),
        });
    }
    if n_total < 4 {
        return Err(StatsError::TooSmall {
            sample: "samples (pooled)",
            test: "anderson_ksamp",
            need: 4,
            got: n_total,
        });
    }
    let a2kn = match variant {
        AndersonVariant::Midrank => a2kn_midrank(&sorted_samples, &pooled, &distinct),
        AndersonVariant::Right => a2kn_right(&sorted_samples, &pooled, &distinct),
        AndersonVariant::Continuous => a2kn_continuous(&sorted_samples, &pooled),
    };
    let sizes: Vec<usize> = samples.iter().map(|s| s.len()).collect();
    let m = (k - 1) as f64;
    let statistic = (a2kn - m) / variance(&sizes, n_total).sqrt();
    let critical_values = critical_values(m);
    Ok(AndersonOutcome {
        statistic,
        p_value: p_value(statistic, &critical_values),
        critical_values,
    })
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Values < t in a sorted slice (`searchsorted(side='left')`).
fn count_lt(sorted: &[f64], t: f64) -> usize {
    sorted.partition_point(|&v| v < t)
}

/// Values <= t in a sorted slice (`searchsorted(side='right')`).
fn count_le(sorted: &[f64], t: f64) -> usize {
    sorted.partition_point(|&v| v <= t)
}

/// A²_akN, eq. 7 (`_anderson_ksamp_midrank`), in scipy's operation order.
fn a2kn_midrank(samples: &[Vec<f64>], pooled: &[f64], distinct: &[f64]) -> f64 {
    let n = pooled.len() as f64;
    let no_ties = pooled.len() == distinct.len();
    let (lj, bj): (Vec<f64>, Vec<f64>) = distinct
        .iter()
        .map(|&z| {
            let left = count_lt(pooled, z);
            let l = if no_ties {
                1.0
            } else {
                (count_le(pooled, z) - left) as f64
            };
            (l, left as f64 + l / 2.0)
        })
        .unzip();
    let mut a2 = 0.0;
    for s in samples {
        let ni = s.len() as f64;
        let inner: Vec<f64> = distinct
            .iter()
            .zip(lj.iter().zip(&bj))
            .map(|(&z, (&l, &b))| {
                let right = count_le(s, z);
                let ties = right - count_lt(s, z);
                let mij = right as f64 - ties as f64 / 2.0;
                let dev = n * mij - b * ni;
                l / n * (dev * dev) / (b * (n - b) - n * l / 4.0)
            })
            .collect();
        a2 += pairwise_sum(&inner) / ni;
    }
    a2 * ((n - 1.0) / n)
}

/// A²_kN, eq. 6 (`_anderson_ksamp_right`): sums over all distinct values but
/// the largest, in integer arithmetic where scipy's is.
fn a2kn_right(samples: &[Vec<f64>], pooled: &[f64], distinct: &[f64]) -> f64 {
    let n = pooled.len() as i128;
    let inner_points = &distinct[..distinct.len() - 1];
    let lj: Vec<i128> = inner_points
        .iter()
        .map(|&z| (count_le(pooled, z) - count_lt(pooled, z)) as i128)
        .collect();
    let bj: Vec<i128> = lj
        .iter()
        .scan(0, |acc, l| {
            *acc += l;
            Some(*acc)
        })
        .collect();
    let mut a2 = 0.0;
    for s in samples {
        let ni = s.len() as i128;
        let inner: Vec<f64> = inner_points
            .iter()
            .zip(lj.iter().zip(&bj))
            .map(|(&z, (&l, &b))| {
                let dev = n * count_le(s, z) as i128 - b * ni;
                l as f64 / n as f64 * (dev * dev) as f64 / (b * (n - b)) as f64
            })
            .collect();
        a2 += pairwise_sum(&inner) / ni as f64;
    }
    a2
}

/// A²_kN, eq. 3 (`_anderson_ksamp_continuous`): sums over the pooled order
/// statistics but the largest.
fn a2kn_continuous(samples: &[Vec<f64>], pooled: &[f64]) -> f64 {
    let n = pooled.len() as i128;
    let mut a2 = 0.0;
    for s in samples {
        let ni = s.len() as i128;
        let inner: Vec<f64> = pooled[..pooled.len() - 1]
            .iter()
            .zip(1_i128..)
            .map(|(&z, j)| {
                let dev = n * count_le(s, z) as i128 - j * ni;
                (dev * dev) as f64 / (j * (n - j)) as f64
            })
            .collect();
        a2 += pairwise_sum(&inner) / ni as f64;
    }
    a2 / n as f64
}

/// σ_N², the variance of A²_kN under the null (Scholz & Stephens eq. 4), in
/// scipy's order of operations.
fn variance(sizes: &[usize], n_total: usize) -> f64 {
    let n = n_total as f64;
    let k = sizes.len() as f64;
    let inverse_sizes: Vec<f64> = sizes.iter().map(|&s| 1.0 / s as f64).collect();
    let big_h = pairwise_sum(&inverse_sizes);
    // Partial sums of 1/(N-1), 1/(N-2), ..., 1/2.
    let hs_cs: Vec<f64> = (2..n_total)
        .rev()
        .scan(0.0, |acc, i| {
            *acc += 1.0 / i as f64;
            Some(*acc)
        })
        .collect();
    let h = hs_cs[hs_cs.len() - 1] + 1.0;
    let ratios: Vec<f64> = hs_cs
        .iter()
        .zip(2..)
        .map(|(c, i)| c / f64::from(i))
        .collect();
    let g = pairwise_sum(&ratios);
    let a = (4.0 * g - 6.0) * (k - 1.0) + (10.0 - 6.0 * g) * big_h;
    let b = (2.0 * g - 4.0) * (k * k) + 8.0 * h * k + (2.0 * g - 14.0 * h - 4.0) * big_h - 8.0 * h
        + 4.0 * g
        - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * (k * k)
        + (4.0 * h - 4.0 * g + 6.0) * k
        + (2.0 * h - 6.0) * big_h
        + 4.0 * h;
    let d = (2.0 * h + 6.0) * (k * k) - 4.0 * h * k;
    let n2 = (n_total * n_total) as f64;
    let n3 = (n_total * n_total * n_total) as f64;
    (a * n3 + b * n2 + c * n + d) / ((n - 1.0) * (n - 2.0) * (n - 3.0))
}

/// Critical values b0 + b1/√m + b2/m (Scholz & Stephens Table 2).
fn critical_values(m: f64) -> [f64; 7] {
    const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
    const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
    const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
    std::array::from_fn(|i| B0[i] + B1[i] / m.sqrt() + B2[i] / m)
}

/// scipy's interpolation: 0.25 below the critical values, 0.001 above,
/// otherwise exp of the least-squares quadratic through (critical, ln level).
fn p_value(statistic: f64, critical: &[f64; 7]) -> f64 {
    let lowest = critical.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = critical.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if statistic < lowest {
        return SIGNIFICANCE_LEVELS[0];
    }
    if statistic > highest {
        return SIGNIFICANCE_LEVELS[6];
    }
    let log_levels = SIGNIFICANCE_LEVELS.map(f64::ln);
    let coeffs = polyfit_quadratic(critical, &log_levels);
    // np.polyval: Horner from the highest power.
    coeffs.iter().fold(0.0, |acc, c| acc * statistic + c).exp()
}

/// Least-squares coefficients (highest power first) of a quadratic through
/// the points, as `np.polyfit(x, y, 2)`: columns of the Vandermonde matrix
/// scaled to unit norm, then solved by Householder QR (numpy uses an SVD;
/// both are backward stable and agree to ~1e-14 here).
fn polyfit_quadratic(x: &[f64; 7], y: &[f64; 7]) -> [f64; 3] {
    let mut a: [[f64; 3]; 7] = std::array::from_fn(|i| [x[i] * x[i], x[i], 1.0]);
    let scale: [f64; 3] =
        std::array::from_fn(|j| a.iter().map(|r| r[j] * r[j]).sum::<f64>().sqrt());
    for row in &mut a {
        for (v, s) in row.iter_mut().zip(scale) {
            *v /= s;
        }
    }
    let mut rhs = *y;
    for col in 0..3 {
        // Householder reflection zeroing column `col` below the diagonal.
        let norm = a[col..].iter().map(|r| r[col] * r[col]).sum::<f64>().sqrt();
        let alpha = if a[col][col] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[col..].iter().map(|r| r[col]).collect();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|e| e * e).sum();
        if vv == 0.0 {
            continue;
        }
        for j in col..3 {
            let dot: f64 = v.iter().zip(&a[col..]).map(|(vi, r)| vi * r[j]).sum();
            for (vi, r) in v.iter().zip(a[col..].iter_mut()) {
                r[j] -= 2.0 * dot / vv * vi;
            }
        }
        let dot: f64 = v.iter().zip(&rhs[col..]).map(|(vi, r)| vi * r).sum();
        for (vi, r) in v.iter().zip(rhs[col..].iter_mut()) {
            *r -= 2.0 * dot / vv * vi;
        }
    }
    // Back substitution in the upper triangle, then undo the scaling.
    let mut c = [0.0; 3];
    for i in (0..3).rev() {
        let tail: f64 = (i + 1..3).map(|j| a[i][j] * c[j]).sum();
        c[i] = (rhs[i] - tail) / a[i][i];
    }
    std::array::from_fn(|j| c[j] / scale[j])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VARIANTS: [AndersonVariant; 3] = [
        AndersonVariant::Midrank,
        AndersonVariant::Right,
        AndersonVariant::Continuous,
    ];

    fn sample() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec((-15i32..15).prop_map(f64::from), 2..30)
    }

    /// Two samples whose pooled values are not all equal.
    fn two_samples() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        (sample(), sample()).prop_filter("two distinct values", |(x, y)| {
            x.iter().chain(y).any(|v| *v != x[0])
        })
    }

    proptest! {
        #[test]
        fn p_values_in_range((x, y) in two_samples(), z in sample()) {
            for variant in VARIANTS {
                for samples in [vec![&x[..], &y[..]], vec![&x[..], &y[..], &z[..]]] {
                    let r = anderson_ksamp(&samples, variant).unwrap();
                    // The bounds, up to the fit's overshoot at the ends.
                    prop_assert!((0.00099..=0.2537).contains(&r.p_value), "{:?}", r);
                    prop_assert!(r.statistic.is_finite());
                }
            }
        }

        #[test]
        fn invariant_to_input_order((x, y) in two_samples()) {
            let (mut xr, mut yr) = (x.clone(), y.clone());
            xr.reverse();
            yr.reverse();
            for variant in VARIANTS {
                let a = anderson_ksamp(&[&x, &y], variant).unwrap();
                let b = anderson_ksamp(&[&xr, &yr], variant).unwrap();
                prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn symmetric_in_the_samples((x, y) in two_samples()) {
            for variant in VARIANTS {
                let a = anderson_ksamp(&[&x, &y], variant).unwrap();
                let b = anderson_ksamp(&[&y, &x], variant).unwrap();
                prop_assert!((a.statistic - b.statistic).abs() < 1e-12);
                prop_assert!((a.p_value - b.p_value).abs() < 1e-12);
            }
        }

        #[test]
        fn identical_samples_give_p_cap((x, y) in two_samples()) {
            // Identical samples: every ECDF equals the pooled one, A² = 0 and
            // T = -(k - 1)/σ < 0, below every critical value.
            let pooled: Vec<f64> = x.iter().chain(&y).copied().collect();
            for variant in [AndersonVariant::Midrank, AndersonVariant::Right] {
                let r = anderson_ksamp(&[&pooled, &pooled], variant).unwrap();
                prop_assert!(r.statistic < 0.0);
                prop_assert_eq!(r.p_value, 0.25);
            }
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let ok = [1.0, 2.0, 3.0];
        let v = AndersonVariant::Midrank;
        assert!(matches!(
            anderson_ksamp(&[&ok], v),
            Err(StatsError::Invalid {
                what: "samples",
                ..
            })
        ));
        assert_eq!(
            anderson_ksamp(&[&ok, &[]], v),
            Err(StatsError::Empty {
                sample: "samples[1]"
            })
        );
        assert!(matches!(
            anderson_ksamp(&[&ok, &[f64::NAN]], v),
            Err(StatsError::NonFinite {
                sample: "samples[1]",
                index: 0,
                ..
            })
        ));
        assert!(matches!(
            anderson_ksamp(&[&[f64::INFINITY], &ok], v),
            Err(StatsError::NonFinite {
                sample: "samples[0]",
                ..
            })
        ));
        // Constant input: scipy raises, no distinct observations.
        assert!(matches!(
            anderson_ksamp(&[&[2.0; 5], &[2.0; 3]], v),
            Err(StatsError::Invalid {
                what: "samples",
                ..
            })
        ));
        assert!(matches!(
            anderson_ksamp(&[&[1.0], &[2.0, 3.0]], v),
            Err(StatsError::TooSmall {
                need: 4,
                got: 3,
                ..
            })
        ));
    }

    #[test]
    fn polyfit_recovers_a_quadratic() {
        let x = [0.3, 1.2, 2.0, 2.7, 3.8, 4.6, 6.5];
        let y = x.map(|v| 0.5 * v * v - 2.0 * v + 0.25);
        let c = polyfit_quadratic(&x, &y);
        for (got, want) in c.iter().zip([0.5, -2.0, 0.25]) {
            assert!((got - want).abs() < 1e-13, "{c:?}");
        }
    }
}
