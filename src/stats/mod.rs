//! Pure statistics: two-sample tests, divergences between distributions,
//! multiple-testing corrections, model-quality metrics ([`quality`]) and
//! embedding drift ([`embedding`]). One file per family; no I/O, no async, no
//! knowledge of windows or baselines. Every function documents its definition
//! and the reference implementation (scipy, numpy or Evidently) whose values
//! it reproduces; `tests/vectors_*.rs` checks each against `../shared/vectors`.
//!
//! Two-sample functions take `(reference, current)` in that order. Inputs are
//! validated up front: empty or non-finite samples give a [`StatsError`] that
//! says which sample and why, never a panic or a silent NaN.

pub mod anderson;
pub mod chi2;
pub mod correction;
pub mod cvm;
pub mod divergence;
pub mod embedding;
pub mod ks;
pub mod mannwhitney;
mod normal;
pub mod psi;
pub mod quality;
pub mod wasserstein;
pub mod ztest;

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A sample or distribution has no values.
    #[error("{sample} is empty")]
    Empty { sample: &'static str },
    /// A value is NaN or infinite.
    #[error("{sample}[{index}] is {value}: expected a finite number")]
    NonFinite {
        sample: &'static str,
        index: usize,
        value: f64,
    },
    /// A sample is smaller than the test needs.
    #[error("{sample} has {got} values: {test} needs at least {need}")]
    TooSmall {
        sample: &'static str,
        test: &'static str,
        need: usize,
        got: usize,
    },
    /// Any other invalid input (negative counts, mismatched lengths, a
    /// degenerate table, ...).
    #[error("{what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

/// The alternative hypothesis of a test, named as scipy names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Alternative {
    #[default]
    TwoSided,
    Less,
    Greater,
}

/// A test statistic and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestOutcome {
    pub statistic: f64,
    pub p_value: f64,
}

/// Checks that `values` is non-empty and every value finite.
pub(crate) fn check_sample(sample: &'static str, values: &[f64]) -> Result<(), StatsError> {
    if values.is_empty() {
        return Err(StatsError::Empty { sample });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StatsError::NonFinite {
            sample,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Checks that `weights` (counts or proportions) is non-empty, finite,
/// non-negative and not all zero.
pub(crate) fn check_weights(sample: &'static str, weights: &[f64]) -> Result<(), StatsError> {
    check_sample(sample, weights)?;
    if let Some(i) = weights.iter().position(|w| *w < 0.0) {
        return Err(StatsError::Invalid {
            what: sample,
            reason: format!(
                "entry {i} is {}: expected a non-negative weight",
                weights[i]
            ),
        });
    }
    if weights.iter().all(|w| *w == 0.0) {
        return Err(StatsError::Invalid {
            what: sample,
            reason: "all weights are zero".into(),
        });
    }
    Ok(())
}

/// Midranks of `values` (1-based; tied values share the mean of the ranks
/// they span) and the size of each group of tied values, in ascending order
/// of value: `scipy.stats.rankdata(values, method='average')` and the tie
/// counts `scipy.stats._stats_py._rankdata(..., return_ties=True)` gives.
/// The ranks are half-integers, so they are exact in `f64`.
pub(crate) fn midranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < order.len() {
        // `==`, not `total_cmp`, so that -0.0 and 0.0 tie as they do in numpy.
        let value = values[order[start]];
        let end = start + order[start..].partition_point(|&i| values[i] == value);
        // The ordinal ranks start+1 ..= end share their mean.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        ties.push(end - start);
        start = end;
    }
    (ranks, ties)
}

/// The binomial coefficient C(n, k) as a double, by the multiplicative formula
/// `scipy.special.binom` uses for integers (same operations, so the same
/// rounding, when the smaller of k and n - k is below 20). For larger k scipy
/// switches to `1 / ((n + 1) B(n - k + 1, k + 1))`; the product kept here is
/// at least as accurate (relative error about 3k ulp) and overflows to
/// infinity exactly when the coefficient exceeds the double range.
pub(crate) fn binom(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = if (k as f64) > n as f64 / 2.0 {
        n - k
    } else {
        k
    };
    let (nf, kf) = (n as f64, k as f64);
    let (mut num, mut den) = (1.0_f64, 1.0_f64);
    for i in 1..=k {
        num *= i as f64 + nf - kf;
        den *= i as f64;
        // Keep both factors in range; num >= den throughout, so den never
        // overflows first.
        if num.abs() > 1e50 {
            num /= den;
            den = 1.0;
        }
    }
    num / den
}

/// Sum of `values` in numpy's order (`np.add.reduce` on a contiguous float64
/// array: pairwise blocks of 128 with eight interleaved accumulators), so
/// that sums over many terms round as scipy's do.
pub(crate) fn pairwise_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        values.iter().fold(0.0, |acc, v| acc + v)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&values[..8]);
        let blocks_end = n - n % 8;
        for block in values[8..blocks_end].chunks_exact(8) {
            for (acc, v) in r.iter_mut().zip(block) {
                *acc += v;
            }
        }
        let head = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        values[blocks_end..].iter().fold(head, |acc, v| acc + v)
    } else {
        let half = n / 2;
        let half = half - half % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

/// numpy's linear interpolation, written as numpy writes it so that equal
/// endpoints give that value exactly.
pub fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// The `p`-quantile (0–1) of sorted, non-empty `values` with numpy's default
/// (`linear`) method: between the values of ranks `floor((n-1)p)` and the
/// next.
pub fn quantile_sorted(values: &[f64], p: f64) -> f64 {
    let h = (values.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(values.len() - 1);
    lerp(values[lo], values[hi], h - lo as f64)
}

/// Neumaier-compensated summation: a sum of 10⁵–10⁶ terms accurate to a
/// few ulps without storing the terms (W₁ integrals, a baseline's mean).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    /// Adds one term.
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.compensation += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    /// The sum so far.
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}
