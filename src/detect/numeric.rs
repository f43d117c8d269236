//! Tests of numeric values (numeric features and text descriptors) against
//! a [`NumericProfile`]. Each test uses the most exact form of the
//! reference the baseline holds: every value (results equal scipy's on the
//! raw columns), every distinct value with its count (equal too, through
//! the weighted forms of KS and Wasserstein), or a quantile summary (KS and
//! Wasserstein within the summary's rank error; the rank tests Anderson–
//! Darling, Cramér–von Mises and Mann–Whitney need the exact reference and
//! say so). Binned scores (PSI, Jensen–Shannon, KL, Hellinger) use the
//! baseline's frozen decile bins.

use super::categorical::{self, align_values};
use super::rule::{FEW_VALUES, default_test};
use super::{DetectOptions, TestName, TestReport, test_report};
use crate::baseline::{NumericProfile, Reference};
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
    descriptor: Option<&'static str>,
    options: &DetectOptions,
) -> Vec<TestReport> {
    let reference = Ref {
        profile,
        rows: reference_rows,
        binned: OnceCell::new(),
    };
    // Every test sorts its input; sorting once here makes those sorts O(n).
    let mut sorted = current.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let current = sorted.as_slice();
    match &options.tests {
        Some(tests) => tests
            .iter()
            .filter(|t| t.applies_to(Kind::Numeric))
            .map(|t| {
                test_report(
                    *t,
                    descriptor,
                    true,
                    options,
                    reference.compute(*t, current),
                )
            })
            .collect(),
        None => {
            let distinct = union_distinct(profile, current);
            let (test, as_categories) = default_test(true, reference_rows, distinct);
            let decisive = match (&profile.reference, as_categories) {
                (Reference::Counts { values, counts }, true) => {
                    categorical::compute(test, &align_values(values, counts, current))
                }
                _ => reference.compute(test, current),
            };
            vec![
                test_report(test, descriptor, true, options, decisive),
                test_report(
                    TestName::Psi,
                    descriptor,
                    false,
                    options,
                    reference.compute(TestName::Psi, current),
                ),
            ]
        }
    }
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
    /// The current sample counted into the frozen bins, once for all the
    /// binned scores.
    binned: OnceCell<Result<categorical::Aligned, String>>,
}

impl Ref<'_> {
    fn compute(&self, test: TestName, current: &[f64]) -> Outcome {
        let err = |e: StatsError| e.to_string();
        match test {
            TestName::Ks => self.ks(current),
            TestName::Wasserstein => self.wasserstein(current),
            TestName::Psi | TestName::JensenShannon | TestName::Kl | TestName::Hellinger => {
                let binned = self.binned.get_or_init(|| {
                    Ok(categorical::Aligned {
                        reference: self.profile.bins.proportions.clone(),
                        current: bin_counts_searchsorted(&self.profile.bins.edges, current)
                            .map_err(err)?,
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
            TestName::Chi2 | TestName::Ztest => {
                Err(format!("{test} does not apply to numeric values"))
            }
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
