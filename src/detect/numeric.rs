//! Tests of numeric values (numeric features and text descriptors) against
//! a [`NumericProfile`]. Each test uses the most exact form of the
//! reference the baseline holds: every value (results equal scipy's on the
//! raw columns), every distinct value with its count (equal too, through
//! the weighted forms of KS and Wasserstein), or a quantile summary (KS and
//! Wasserstein within the summary's rank error; the rank tests Anderson–
//! Darling, Cramér–von Mises and Mann–Whitney need the exact reference and
//! say so). Binned scores (PSI, Jensen–Shannon, KL, Hellinger) use the
//! baseline's frozen decile bins, or, when the feature's options ask for
//! another number of bins, quantile bins of the reference frozen the same
//! way.

use super::categorical::{self, align_values};
use super::plan::{Role, choose};
use super::rule::{FEW_VALUES, default_test};
use super::{FeatureView, TestName, TestReport, test_report};
use crate::baseline::profile::quantile_bins;
use crate::baseline::sketch::SortedWeighted;
use crate::baseline::{Bins, NumericProfile, Reference};
use crate::schema::Kind;
use crate::stats::anderson::{AndersonVariant, anderson_ksamp};
use crate::stats::cvm::{CvmMethod, cramervonmises_2samp};
use crate::stats::ks::{
    KsMethod, ks_2samp, ks_p_value, ks_statistic_quantiles, ks_statistic_weighted,
};
use crate::stats::mannwhitney::{MwuMethod, mannwhitneyu};
use crate::stats::psi::bin_counts_searchsorted;
use crate::stats::wasserstein::{normed_by_std, wasserstein_weighted};
use crate::stats::{Alternative, StatsError};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashSet;

type Outcome = Result<(f64, Option<f64>), String>;

/// Runs the tests of one numeric feature or text descriptor.
pub fn run(
    profile: &NumericProfile,
    reference_rows: u64,
    current: &[f64],
    descriptor: Option<&str>,
    options: &FeatureView<'_>,
) -> Vec<TestReport> {
    let reference = Ref {
        profile,
        rows: reference_rows,
        bins: options.bins(),
        binned: OnceCell::new(),
    };
    // Every test sorts its input; sorting once here makes those sorts O(n).
    let mut sorted = current.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let current = sorted.as_slice();
    let tests = plan(profile, reference_rows, current, options);
    (tests.into_iter())
        .map(|(test, role)| {
            let outcome = match &profile.reference {
                Reference::Counts { values, counts } if role.as_categories() => {
                    categorical::compute(test, &align_values(values, counts, current))
                }
                _ => reference.compute(test, current),
            };
            test_report(test, descriptor, role.decisive(), options, outcome)
        })
        .collect()
}

/// The tests of one numeric feature or text descriptor given its current
/// values (none: as the reference alone implies), each with its role.
pub(crate) fn plan(
    profile: &NumericProfile,
    reference_rows: u64,
    current: &[f64],
    options: &FeatureView<'_>,
) -> Vec<(TestName, Role)> {
    choose(options.tests(), Kind::Numeric, || {
        default_test(true, reference_rows, union_distinct(profile, current))
    })
}

/// Distinct values of reference and current together, counted only as far
/// as the default rule needs (a reference with more than 100 distinct
/// values does not keep them, and is over the limit anyway).
fn union_distinct(profile: &NumericProfile, current: &[f64]) -> u64 {
    let Reference::Counts { values, .. } = &profile.reference else {
        return profile.distinct.count.max(FEW_VALUES + 1);
    };
    let mut seen: HashSet<u64> = values.iter().map(|v| (v + 0.0).to_bits()).collect();
    for x in current {
        seen.insert((x + 0.0).to_bits());
        if seen.len() as u64 > FEW_VALUES {
            break;
        }
    }
    seen.len() as u64
}

/// A numeric profile with the number of values it describes.
struct Ref<'a> {
    profile: &'a NumericProfile,
    rows: u64,
    /// Quantile bins to re-bin the reference into, instead of its frozen ones.
    bins: Option<usize>,
    /// The current sample counted into the bins, once for all the binned
    /// scores.
    binned: OnceCell<Result<categorical::Aligned, String>>,
}

/// The reference as the baseline's build sees a column: every value, or
/// every distinct value with its count, exactly; or the points of a
/// quantile grid, one each, whose quantiles are then the grid's piecewise
/// linear quantile function and whose shares are counted to within one
/// grid step (which the summary's `rank_error` already allows for).
fn view(reference: &Reference) -> SortedWeighted {
    match reference {
        Reference::Exact { values }
        | Reference::Quantiles {
            quantiles: values, ..
        } => SortedWeighted::from_counts(values, &vec![1; values.len()]),
        Reference::Counts { values, counts } => SortedWeighted::from_counts(values, counts),
    }
}

impl Ref<'_> {
    fn compute(&self, test: TestName, current: &[f64]) -> Outcome {
        let err = |e: StatsError| e.to_string();
        match test {
            TestName::Ks => self.ks(current),
            TestName::Wasserstein => self.wasserstein(current),
            TestName::Psi | TestName::JensenShannon | TestName::Kl | TestName::Hellinger => {
                let binned = self.binned.get_or_init(|| {
                    let bins = self.bins();
                    Ok(categorical::Aligned {
                        reference: bins.proportions.clone(),
                        current: bin_counts_searchsorted(&bins.edges, current).map_err(err)?,
                    })
                });
                categorical::compute(test, binned.as_ref()?)
            }
            TestName::Anderson => {
                let reference = self.raw(test)?;
                let out = anderson_ksamp(&[&reference, current], AndersonVariant::Midrank)
                    .map_err(err)?;
                Ok((out.statistic, Some(out.p_value)))
            }
            TestName::Cvm => {
                let out = cramervonmises_2samp(&self.raw(test)?, current, CvmMethod::Auto)
                    .map_err(err)?;
                Ok((out.statistic, Some(out.p_value)))
            }
            TestName::MannWhitney => {
                let reference = self.raw(test)?;
                let out = mannwhitneyu(
                    &reference,
                    current,
                    Alternative::TwoSided,
                    true,
                    MwuMethod::Auto,
                )
                .map_err(err)?;
                Ok((out.statistic, Some(out.p_value)))
            }
            TestName::Chi2
            | TestName::Ztest
            | TestName::Cosine
            | TestName::Euclidean
            | TestName::Mmd => Err(format!("{test} does not apply to numeric values")),
        }
    }

    /// The bins of the binned scores: the baseline's frozen deciles, or
    /// the reference re-binned into the feature's number of quantile bins
    /// by the code that froze them.
    fn bins(&self) -> Cow<'_, Bins> {
        match self.bins {
            None => Cow::Borrowed(&self.profile.bins),
            Some(n) => Cow::Owned(quantile_bins(&view(&self.profile.reference), n)),
        }
    }

    fn ks(&self, current: &[f64]) -> Outcome {
        let err = |e: StatsError| e.to_string();
        if let Reference::Exact { values } = &self.profile.reference {
            let out =
                ks_2samp(values, current, Alternative::TwoSided, KsMethod::Auto).map_err(err)?;
            return Ok((out.statistic, Some(out.p_value)));
        }
        let d = match &self.profile.reference {
            Reference::Quantiles { quantiles, .. } => ks_statistic_quantiles(quantiles, current),
            _ => {
                let (values, weights) = self.weighted();
                ks_statistic_weighted(values, &weights, current)
            }
        }
        .map_err(err)?;
        let (p, _) = ks_p_value(
            d,
            self.rows as usize,
            current.len(),
            Alternative::TwoSided,
            KsMethod::Auto,
        );
        Ok((d, Some(p)))
    }

    fn wasserstein(&self, current: &[f64]) -> Outcome {
        let w = match &self.profile.reference {
            Reference::Exact { values } => wasserstein_weighted(values, None, current, None),
            _ => {
                let (values, weights) = self.weighted();
                wasserstein_weighted(values, Some(&weights), current, None)
            }
        }
        .map_err(|e| e.to_string())?;
        Ok((normed_by_std(w, self.profile.std), None))
    }

    /// The reference as sorted values with weights: counts, or for a
    /// quantile summary the trapezoid weights of its grid (the piecewise
    /// linear quantile function the grid describes).
    fn weighted(&self) -> (&[f64], Vec<f64>) {
        match &self.profile.reference {
            Reference::Exact { values } => (values, vec![1.0; values.len()]),
            Reference::Counts { values, counts } => {
                (values, counts.iter().map(|c| *c as f64).collect())
            }
            Reference::Quantiles { quantiles, .. } => {
                let mut w = vec![1.0; quantiles.len()];
                if let [first, .., last] = w.as_mut_slice() {
                    (*first, *last) = (0.5, 0.5);
                }
                (quantiles, w)
            }
        }
    }

    /// Every reference value, for the rank tests.
    fn raw(&self, test: TestName) -> Result<Cow<'_, [f64]>, String> {
        match &self.profile.reference {
            Reference::Exact { values } => Ok(Cow::Borrowed(values)),
            Reference::Counts { values, counts } => Ok(Cow::Owned(
                values
                    .iter()
                    .zip(counts)
                    .flat_map(|(v, c)| std::iter::repeat_n(*v, *c as usize))
                    .collect(),
            )),
            Reference::Quantiles { .. } => Err(format!(
                "{test} needs every reference value, and the baseline holds a quantile summary \
                 of {} values: rebuild it with a larger --exact-limit",
                self.rows
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::profile::{NumericAccumulator, ProfileLimits};

    fn profile(values: impl Iterator<Item = f64>) -> NumericProfile {
        let limits = ProfileLimits::default();
        let mut acc = NumericAccumulator::new(&limits);
        values.for_each(|x| acc.add(x));
        acc.finish(&limits).unwrap()
    }

    fn rebinned(profile: &NumericProfile, n: usize) -> Bins {
        quantile_bins(&view(&profile.reference), n)
    }

    #[test]
    fn rebinning_into_deciles_gives_the_frozen_bins_of_an_exact_or_counted_reference() {
        let exact = profile((0..500).map(|i| ((i * 37) % 500) as f64 * 0.3));
        assert!(matches!(exact.reference, Reference::Exact { .. }));
        assert_eq!(rebinned(&exact, 10), exact.bins);
        let counts = profile((0..500).map(|i| (i % 7) as f64));
        assert!(matches!(counts.reference, Reference::Counts { .. }));
        assert_eq!(rebinned(&counts, 10), counts.bins);
    }

    #[test]
    fn a_quantile_grid_rebins_by_its_linear_quantile_function() {
        let mut p = profile((0..10).map(f64::from));
        p.reference = Reference::Quantiles {
            quantiles: (0..=10).map(|i| f64::from(i * i)).collect(),
            rank_error: 0.0,
        };
        // Quartiles of the grid at ranks 2.5, 5, 7.5 of 0, 1, 4, …, 100:
        // (4 + 9) / 2, 25, (49 + 64) / 2; shares counted on the 11 points.
        let bins = rebinned(&p, 4);
        assert_eq!(bins.edges, [6.5, 25.0, 56.5]);
        assert_eq!(
            bins.proportions,
            [3.0 / 11.0, 2.0 / 11.0, 3.0 / 11.0, 3.0 / 11.0]
        );
    }
}
