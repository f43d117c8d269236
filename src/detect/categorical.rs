//! Tests of categorical values: the reference and current counts are first
//! aligned over the union of their categories (current categories the
//! baseline never saw count as new categories, or go to `__other__` when the
//! baseline merged its rare categories there), then compared.

use super::plan::{Role, choose};
use super::rule::default_test;
use super::{FeatureView, TestName, TestReport, test_report};
use crate::baseline::CategoricalProfile;
use crate::schema::Kind;
use crate::stats::Alternative;
use crate::stats::chi2::chi2_homogeneity;
use crate::stats::divergence::{LogBase, hellinger, jensen_shannon_distance, kl_divergence};
use crate::stats::psi::{fill_empty_bins, proportions, psi};
use crate::stats::ztest::two_proportion_ztest;
use rustc_hash::FxHashMap;

/// Reference and current counts over the same categories.
#[derive(Debug, Clone, PartialEq)]
pub struct Aligned {
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

/// Aligns a categorical profile with current category counts.
pub fn align_categories(profile: &CategoricalProfile, current: &FxHashMap<String, u64>) -> Aligned {
    let mut index: FxHashMap<&str, usize> = FxHashMap::default();
    let mut reference = Vec::with_capacity(profile.categories.len() + 1);
    for c in &profile.categories {
        index.insert(&c.value, reference.len());
        reference.push(c.count as f64);
    }
    let other = (profile.other > 0).then(|| {
        reference.push(profile.other as f64);
        reference.len() - 1
    });
    let mut aligned = Aligned {
        current: vec![0.0; reference.len()],
        reference,
    };
    let mut new_categories: Vec<(&String, u64)> = Vec::new();
    for (value, count) in current {
        match index.get(value.as_str()).copied().or(other) {
            Some(i) => aligned.current[i] += *count as f64,
            None => new_categories.push((value, *count)),
        }
    }
    // Sorted so that results do not depend on hash order.
    new_categories.sort();
    for (_, count) in new_categories {
        aligned.reference.push(0.0);
        aligned.current.push(count as f64);
    }
    aligned
}

/// Aligns distinct reference values (sorted, with counts) with a current
/// numeric sample, treating each value as a category.
pub fn align_values(values: &[f64], counts: &[u64], current: &[f64]) -> Aligned {
    let mut current_counts: FxHashMap<u64, u64> = FxHashMap::default();
    for x in current {
        *current_counts.entry((x + 0.0).to_bits()).or_default() += 1;
    }
    let mut aligned = Aligned {
        reference: counts.iter().map(|c| *c as f64).collect(),
        current: values
            .iter()
            .map(|v| current_counts.remove(&(v + 0.0).to_bits()).unwrap_or(0) as f64)
            .collect(),
    };
    let mut new_values: Vec<(f64, u64)> = current_counts
        .into_iter()
        .map(|(bits, c)| (f64::from_bits(bits), c))
        .collect();
    new_values.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (_, c) in new_values {
        aligned.reference.push(0.0);
        aligned.current.push(c as f64);
    }
    aligned
}

/// Runs the tests of a categorical feature.
pub fn run(
    profile: &CategoricalProfile,
    current: &FxHashMap<String, u64>,
    options: &FeatureView<'_>,
) -> Vec<TestReport> {
    let aligned = align_categories(profile, current);
    (plan(profile, &aligned, options).into_iter())
        .map(|(test, role)| {
            let outcome = compute(test, &aligned);
            test_report(test, None, role.decisive(), options, outcome)
        })
        .collect()
}

/// The tests of a categorical feature given its counts aligned with the
/// current ones (none: as the reference alone implies), each with its role.
pub(crate) fn plan(
    profile: &CategoricalProfile,
    aligned: &Aligned,
    options: &FeatureView<'_>,
) -> Vec<(TestName, Role)> {
    let reference_rows = profile.categories.iter().map(|c| c.count).sum::<u64>() + profile.other;
    choose(options.tests(), Kind::Categorical, || {
        default_test(false, reference_rows, aligned.reference.len() as u64)
    })
}

/// One test on aligned counts: `(statistic, p-value)`.
pub fn compute(test: TestName, aligned: &Aligned) -> Result<(f64, Option<f64>), String> {
    let (r, c) = (&aligned.reference, &aligned.current);
    let err = |e: crate::stats::StatsError| e.to_string();
    match test {
        TestName::Chi2 => {
            let out = chi2_homogeneity(r, c, true).map_err(err)?;
            Ok((out.statistic, Some(out.p_value)))
        }
        TestName::Ztest => ztest(aligned),
        TestName::Psi => {
            let (p, q) = (proportions(r).map_err(err)?, proportions(c).map_err(err)?);
            Ok((psi(&p, &q).map_err(err)?, None))
        }
        TestName::JensenShannon => Ok((
            jensen_shannon_distance(r, c, LogBase::E).map_err(err)?,
            None,
        )),
        TestName::Kl => {
            let p = fill_empty_bins(&proportions(r).map_err(err)?).map_err(err)?;
            let q = fill_empty_bins(&proportions(c).map_err(err)?).map_err(err)?;
            Ok((kl_divergence(&p, &q, LogBase::E).map_err(err)?, None))
        }
        TestName::Hellinger => Ok((hellinger(r, c).map_err(err)?, None)),
        other => Err(format!("{other} does not apply to categorical values")),
    }
}

/// The pooled z-test on the share of the first category; it needs at most
/// two categories in reference and current together.
fn ztest(aligned: &Aligned) -> Result<(f64, Option<f64>), String> {
    let (r, c) = (&aligned.reference, &aligned.current);
    if r.len() > 2 {
        return Err(format!("ztest needs at most 2 categories, got {}", r.len()));
    }
    let (nr, nc) = (r.iter().sum::<f64>(), c.iter().sum::<f64>());
    let out = two_proportion_ztest(r[0], nr, c[0], nc, Alternative::TwoSided)
        .map_err(|e| e.to_string())?;
    Ok((out.z, Some(out.p_value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::CategoryCount;

    fn profile(cats: &[(&str, u64)], other: u64) -> CategoricalProfile {
        CategoricalProfile {
            categories: cats
                .iter()
                .map(|(v, c)| CategoryCount {
                    value: (*v).into(),
                    count: *c,
                })
                .collect(),
            other,
            distinct: cats.len() as u64,
            exact: true,
        }
    }

    #[test]
    fn new_categories_get_a_zero_reference_count() {
        let p = profile(&[("a", 5), ("b", 3)], 0);
        let cur = FxHashMap::from_iter([("b".to_string(), 2), ("z".to_string(), 4)]);
        let a = align_categories(&p, &cur);
        assert_eq!(a.reference, vec![5.0, 3.0, 0.0]);
        assert_eq!(a.current, vec![0.0, 2.0, 4.0]);
    }

    #[test]
    fn unseen_categories_go_to_other_when_the_baseline_was_capped() {
        let p = profile(&[("a", 5)], 7);
        let cur = FxHashMap::from_iter([("a".to_string(), 1), ("z".to_string(), 4)]);
        let a = align_categories(&p, &cur);
        assert_eq!(a.reference, vec![5.0, 7.0]);
        assert_eq!(a.current, vec![1.0, 4.0]);
    }

    #[test]
    fn numeric_values_align_as_categories() {
        let a = align_values(&[0.0, 1.0], &[3, 4], &[1.0, 1.0, -0.0, 2.0]);
        assert_eq!(a.reference, vec![3.0, 4.0, 0.0]);
        assert_eq!(a.current, vec![1.0, 2.0, 1.0]);
    }
}
