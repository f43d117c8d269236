//! Pure statistics: two-sample tests, divergences between distributions and
//! multiple-testing corrections. One file per family; no I/O, no async, no
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
pub mod ks;
pub mod mannwhitney;
pub mod psi;
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
