//! Two-sample Cramér–von Mises test, reproducing
//! `scipy.stats.cramervonmises_2samp` (scipy 1.17).
//!
//! With r_i the midranks of the n sorted reference values and s_j those of
//! the m sorted current values in the pooled sample (ties share midranks),
//! U = n Σ (r_i - i)² + m Σ (s_j - j)² and the statistic is Anderson's (1962)
//! T = U / (n m (n + m)) - (4 n m - 1) / (6 (n + m)).
//!
//! `Auto` uses the exact null distribution when max(n, m) <= 20, else the
//! asymptotic one (scipy's rule). The exact p-value counts the lattice paths
//! whose statistic is at least the observed one (Xiao, Gordon & Yakovlev
//! 2006, as scipy's `_pval_cvm_2samp_exact`); the asymptotic p-value
//! standardises T with Anderson's mean and variance and evaluates the
//! limiting one-sample distribution by scipy's series in K_{1/4} (Csörgő &
//! Faraway 1996), stopping where scipy stops. scipy returns NaN when a
//! sample has fewer than two values; here that is [`StatsError::TooSmall`].

use crate::stats::{StatsError, TestOutcome, check_sample, midranks};
use std::f64::consts::PI;

/// How the p-value is computed, as scipy's `method` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CvmMethod {
    /// Exact when both samples have at most 20 values, else asymptotic.
    #[default]
    Auto,
    /// Exact null distribution; the work grows quickly with the sizes.
    Exact,
    /// Limiting distribution of the standardised statistic.
    Asymptotic,
}

/// Samples larger than this make `Auto` asymptotic.
const MAX_AUTO_EXACT: usize = 20;

/// `scipy.stats.cramervonmises_2samp(reference, current, method)`.
pub fn cramervonmises_2samp(
    reference: &[f64],
    current: &[f64],
    method: CvmMethod,
) -> Result<TestOutcome, StatsError> {
    for (sample, values) in [("reference", reference), ("current", current)] {
        check_sample(sample, values)?;
        if values.len() < 2 {
            return Err(StatsError::TooSmall {
                sample,
                test: "cramervonmises_2samp",
                need: 2,
                got: values.len(),
            });
        }
    }
    let (nx, ny) = (reference.len(), current.len());
    let u = rank_statistic(reference, current);
    let (k, n) = ((nx * ny) as f64, (nx + ny) as f64);
    let statistic = u / (k * n) - (4.0 * k - 1.0) / (6.0 * n);
    let exact = match method {
        CvmMethod::Auto => nx.max(ny) <= MAX_AUTO_EXACT,
        CvmMethod::Exact => true,
        CvmMethod::Asymptotic => false,
    };
    let p_value = if exact {
        exact_p_value(u, nx as u64, ny as u64).ok_or_else(|| StatsError::Invalid {
            what: "method",
            reason: format!(
                "the exact statistic scale overflows 64 bits for sizes {nx} and {ny}; \
                 use CvmMethod::Asymptotic"
            ),
        })?
    } else {
        asymptotic_p_value(statistic, nx, ny)
    };
    Ok(TestOutcome { statistic, p_value })
}

/// Anderson's U: each sample's sorted midranks against 1, 2, ... (the sums
/// of squared quarter-integers are exact).
fn rank_statistic(reference: &[f64], current: &[f64]) -> f64 {
    let pooled: Vec<f64> = reference.iter().chain(current).copied().collect();
    let (ranks, _) = midranks(&pooled);
    let (rx, ry) = ranks.split_at(reference.len());
    let squares = |r: &[f64]| {
        let mut r = r.to_vec();
        r.sort_by(f64::total_cmp);
        r.iter()
            .enumerate()
            .map(|(i, v)| (v - (i + 1) as f64).powi(2))
            .sum::<f64>()
    };
    rx.len() as f64 * squares(rx) + ry.len() as f64 * squares(ry)
}

/// scipy's asymptotic p-value: T standardised by Anderson's E[T] and Var[T]
/// (eq. 11, 14, 15), then 1 - V(t) for the limiting CDF V.
fn asymptotic_p_value(t: f64, nx: usize, ny: usize) -> f64 {
    let (nx, ny) = (nx as u128, ny as u128);
    let (k, n) = (nx * ny, nx + ny);
    let et = (1.0 + 1.0 / n as f64) / 6.0;
    let vt = ((n + 1) * (4 * k * n - 3 * (nx * nx + ny * ny) - 2 * k)) as f64
        / (45 * n * n * 4 * k) as f64;
    let tn = 1.0 / 6.0 + (t - et) / (45.0 * vt).sqrt();
    // Below 0.003 the limiting CDF is under 1.3e-18.
    if tn < 0.003 {
        1.0
    } else {
        (1.0 - cdf_cvm_inf(tn)).max(0.0)
    }
}

/// CDF of the limiting Cramér–von Mises distribution (Csörgő & Faraway 1996,
/// eq. 1.2-1.3): Σ_k Γ(k+1/2)/(Γ(k+1) π^1.5 √x) √(4k+1) e^{-q} K_{1/4}(q)
/// with q = (4k+1)²/(16x). Like scipy, terms are added up to and including
/// the first one below 1e-7, so the truncation is scipy's.
fn cdf_cvm_inf(x: f64) -> f64 {
    let scale = PI.powf(1.5) * x.sqrt();
    let mut gamma_ratio = PI.sqrt(); // Γ(k + 1/2) / Γ(k + 1) at k = 0
    let mut total = 0.0;
    for k in 0_u32.. {
        if k > 0 {
            gamma_ratio *= (f64::from(k) - 0.5) / f64::from(k);
        }
        let y = f64::from(4 * k + 1);
        let q = y * y / (16.0 * x);
        let term = gamma_ratio / scale * y.sqrt() * (-q).exp() * bessel_k_quarter(q);
        total += term;
        if term.abs() < 1e-7 {
            break;
        }
    }
    total
}

/// The modified Bessel function of the second kind K_{1/4}(x), x > 0, by
/// Temme's series for x <= 2 and Steed's continued fraction CF2 above
/// (the method of Numerical Recipes' `bessik`, ν = 1/4 needing no
/// recurrence); both converge to machine precision.
fn bessel_k_quarter(x: f64) -> f64 {
    const MU: f64 = 0.25;
    const MAX_ITER: u32 = 10_000;
    let eps = f64::EPSILON;
    if x <= 2.0 {
        // 1/Γ(1 + μ) and 1/Γ(1 - μ), and Temme's γ1, γ2.
        let (gampl, gammi) = (1.103262651320837_f64, 0.8160489390982628_f64);
        let gam1 = (gammi - gampl) / (2.0 * MU);
        let gam2 = (gammi + gampl) / 2.0;
        let x2 = 0.5 * x;
        let pimu = PI * MU;
        let fact = pimu / pimu.sin();
        let d = -x2.ln();
        let e = MU * d;
        let fact2 = if e.abs() < eps { 1.0 } else { e.sinh() / e };
        let mut ff = fact * (gam1 * e.cosh() + gam2 * fact2 * d);
        let mut sum = ff;
        let ee = e.exp();
        let mut p = 0.5 * ee / gampl;
        let mut q = 0.5 / (ee * gammi);
        let mut c = 1.0;
        let dd = x2 * x2;
        for i in 1..MAX_ITER {
            let fi = f64::from(i);
            ff = (fi * ff + p + q) / (fi * fi - MU * MU);
            c *= dd / fi;
            p /= fi - MU;
            q /= fi + MU;
            let del = c * ff;
            sum += del;
            if del.abs() < sum.abs() * eps {
                break;
            }
        }
        sum
    } else {
        let mut b = 2.0 * (1.0 + x);
        let mut d = 1.0 / b;
        let mut delh = d;
        let (mut q1, mut q2) = (0.0, 1.0);
        let a1 = 0.25 - MU * MU;
        let (mut q, mut c, mut a) = (a1, a1, -a1);
        let mut s = 1.0 + q * delh;
        for i in 2..MAX_ITER {
            let fi = f64::from(i);
            a -= 2.0 * (fi - 1.0);
            c = -a * c / fi;
            let qnew = (q1 - b * q2) / a;
            (q1, q2) = (q2, qnew);
            q += c * qnew;
            b += 2.0;
            d = 1.0 / (b + a * d);
            delh *= b * d - 1.0;
            let dels = q * delh;
            s += dels;
            if (dels / s).abs() < eps {
                break;
            }
        }
        (PI / (2.0 * x)).sqrt() * (-x).exp() / s
    }
}

/// `a // b` for doubles as numpy computes it (`npy_divmod`), so that the
/// threshold below rounds exactly as scipy's.
fn floor_divide(a: f64, b: f64) -> f64 {
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && (b < 0.0) != (m < 0.0) {
        div -= 1.0;
    }
    if div == 0.0 {
        return 0.0_f64.copysign(a / b);
    }
    let floordiv = div.floor();
    if div - floordiv > 0.5 {
        floordiv + 1.0
    } else {
        floordiv
    }
}

/// scipy's `_pval_cvm_2samp_exact`: P(statistic >= observed) under the null,
/// by Xiao et al.'s recursion over the frequency tables g_{u,v} of the
/// integer statistic ζ along lattice paths. Counts are exact while below
/// 2^53, i.e. for every size `Auto` sends here. `None` when ζ's range,
/// lcm(m, n)² (m + n + 1), does not fit 64 bits (sizes far beyond any
/// feasible enumeration).
fn exact_p_value(u: f64, m: u64, n: u64) -> Option<f64> {
    let lcm = (m / gcd(m, n)).checked_mul(n)?;
    let (a, b) = (i64::try_from(lcm / m).ok()?, i64::try_from(lcm / n).ok()?);
    let mn = m.checked_mul(n)?;
    // Each of the m + n + 1 points of a path adds at most lcm² to ζ.
    lcm.checked_mul(lcm)?.checked_mul(m + n + 1)?;
    let scale = lcm * lcm * (m + n);
    let shift = mn.checked_mul(mn.checked_mul(4)? - 1)?;
    // Anderson's U expressed on Xiao et al.'s integer scale.
    let zeta = floor_divide(
        scale as f64 * (6.0 * u - shift as f64),
        mn.checked_mul(mn)?.checked_mul(6)? as f64,
    );
    // gs[v]: sorted (ζ, count) pairs for the paths reaching (row, v).
    let mut gs: Vec<Vec<(u64, f64)>> = vec![Vec::new(); m as usize + 1];
    gs[0].push((0, 1.0));
    for row in 0..=n as i64 {
        let mut tmp: Vec<(u64, f64)> = Vec::new();
        for (v, g) in gs.iter_mut().enumerate() {
            tmp = merge_counts(&tmp, g);
            let step = (a * v as i64 - b * row).unsigned_abs().pow(2);
            tmp.iter_mut().for_each(|(value, _)| *value += step);
            g.clone_from(&tmp);
        }
    }
    let total: f64 = gs[m as usize].iter().map(|&(_, c)| c).sum();
    let extreme: f64 = gs[m as usize]
        .iter()
        .filter(|&&(value, _)| value as f64 >= zeta)
        .map(|&(_, c)| c)
        .sum();
    Some(extreme / total)
}

/// Union of two sorted frequency tables, adding the counts of equal values.
fn merge_counts(x: &[(u64, f64)], y: &[(u64, f64)]) -> Vec<(u64, f64)> {
    let mut out = Vec::with_capacity(x.len() + y.len());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        match x[i].0.cmp(&y[j].0) {
            std::cmp::Ordering::Less => {
                out.push(x[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(y[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((x[i].0, x[i].1 + y[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&x[i..]);
    out.extend_from_slice(&y[j..]);
    out
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const METHODS: [CvmMethod; 3] = [CvmMethod::Auto, CvmMethod::Exact, CvmMethod::Asymptotic];

    fn sample(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec((-10i32..10).prop_map(f64::from), 2..max_len)
    }

    proptest! {
        #[test]
        fn p_values_in_unit_interval(x in sample(9), y in sample(9)) {
            for method in METHODS {
                let r = cramervonmises_2samp(&x, &y, method).unwrap();
                prop_assert!((0.0..=1.0).contains(&r.p_value), "{:?}", r);
                prop_assert!(r.statistic.is_finite());
            }
        }

        #[test]
        fn invariant_to_input_order(x in sample(30), y in sample(30)) {
            let (mut xr, mut yr) = (x.clone(), y.clone());
            xr.reverse();
            yr.reverse();
            let a = cramervonmises_2samp(&x, &y, CvmMethod::Auto).unwrap();
            let b = cramervonmises_2samp(&xr, &yr, CvmMethod::Auto).unwrap();
            prop_assert_eq!(a, b);
        }

        #[test]
        fn symmetric_in_the_samples(x in sample(30), y in sample(30)) {
            let a = cramervonmises_2samp(&x, &y, CvmMethod::Auto).unwrap();
            let b = cramervonmises_2samp(&y, &x, CvmMethod::Auto).unwrap();
            prop_assert!((a.statistic - b.statistic).abs() < 1e-12);
            prop_assert!((a.p_value - b.p_value).abs() < 1e-12);
        }

        #[test]
        fn identical_samples_give_p_one(x in sample(12)) {
            for method in METHODS {
                let r = cramervonmises_2samp(&x, &x, method).unwrap();
                prop_assert!(r.statistic.abs() < 1e-12);
                prop_assert_eq!(r.p_value, 1.0);
            }
        }
    }

    #[test]
    fn constant_inputs() {
        // All midranks are 5.5, so U = 4 * 41 + 6 * 41.5 = 413 and
        // T = 413/240 - 95/60 = 0.1375: with ties T need not be 0 (as in scipy).
        for method in METHODS {
            let r = cramervonmises_2samp(&[3.0; 4], &[3.0; 6], method).unwrap();
            assert!((r.statistic - 0.1375).abs() < 1e-15);
            assert!((0.0..=1.0).contains(&r.p_value));
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        let ok = [1.0, 2.0, 3.0];
        assert_eq!(
            cramervonmises_2samp(&[], &ok, CvmMethod::Auto),
            Err(StatsError::Empty {
                sample: "reference"
            })
        );
        assert_eq!(
            cramervonmises_2samp(&ok, &[1.0], CvmMethod::Auto),
            Err(StatsError::TooSmall {
                sample: "current",
                test: "cramervonmises_2samp",
                need: 2,
                got: 1
            })
        );
        assert!(matches!(
            cramervonmises_2samp(&ok, &[1.0, f64::NEG_INFINITY], CvmMethod::Exact),
            Err(StatsError::NonFinite {
                sample: "current",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            cramervonmises_2samp(&[f64::NAN, 1.0], &ok, CvmMethod::Asymptotic),
            Err(StatsError::NonFinite {
                sample: "reference",
                index: 0,
                ..
            })
        ));
    }

    #[test]
    fn infeasible_exact_is_an_error() {
        // Coprime sizes near 70000: lcm² (m + n + 1) overflows 64 bits.
        let x: Vec<f64> = (0..70_001).map(f64::from).collect();
        let y: Vec<f64> = (0..70_003).map(|v| f64::from(v) + 0.5).collect();
        assert!(matches!(
            cramervonmises_2samp(&x, &y, CvmMethod::Exact),
            Err(StatsError::Invalid { what: "method", .. })
        ));
    }

    #[test]
    fn bessel_k_quarter_reference_values() {
        // K_{1/4}(x) from mpmath (50 digits), either side of the switch at 2.
        for (x, want) in [
            (0.03, 4.323679505756583),
            (0.1, 2.685156871876059),
            (1.0, 0.4307397744485855),
            (1.9999, 0.11539251030894468),
            (2.0, 0.11537827684085676),
            (2.5, 0.06301715899861951),
            (30.0, 2.1346641833090355e-14),
        ] {
            let got = bessel_k_quarter(x);
            assert!(
                (got - want).abs() <= 1e-14 * want,
                "K({x}) = {got}, want {want}"
            );
        }
    }
}
