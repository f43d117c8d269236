//! Tests of an embedding column's current vectors against its
//! [`EmbeddingProfile`]: the cosine and Euclidean distances between the
//! current centroid (of every vector) and the baseline's, and the
//! linear-time MMD² between the current vectors (a window's bounded sample)
//! and the baseline's sample, with a seeded permutation p-value. By default
//! MMD decides (drift when p < 0.05) and both distances are reported for
//! information.

use super::plan::{Role, choose};
use super::{EmbeddingValues, FeatureView, TestName, TestReport, test_report};
use crate::baseline::EmbeddingProfile;
use crate::schema::Kind;
use crate::stats::embedding::{
    Bandwidth, Centroid, cosine_distance, euclidean_distance, linear_mmd_permutation,
};

/// Permutations of the MMD p-value: its resolution is 1/(1 + this).
pub const MMD_PERMUTATIONS: usize = 999;
/// The permutations' seed: the same window always gets the same p-value.
const MMD_SEED: u64 = 0x5EED;

/// Runs the tests of one embedding column.
pub fn run(
    profile: &EmbeddingProfile,
    current: &EmbeddingValues,
    options: &FeatureView<'_>,
) -> Vec<TestReport> {
    (plan(options).into_iter())
        .map(|(test, role)| {
            let outcome = compute(test, profile, current).map_err(|e| e.to_string());
            test_report(test, None, role.decisive(), options, outcome)
        })
        .collect()
}

/// The tests of an embedding column, each with its role.
pub(crate) fn plan(options: &FeatureView<'_>) -> Vec<(TestName, Role)> {
    if options.tests().is_some() {
        return choose(options.tests(), Kind::Embedding, || (TestName::Mmd, false));
    }
    let info = Role::Info {
        as_categories: false,
    };
    let deciding = Role::Default {
        as_categories: false,
    };
    vec![
        (TestName::Mmd, deciding),
        (TestName::Cosine, info),
        (TestName::Euclidean, info),
    ]
}

fn compute(
    test: TestName,
    profile: &EmbeddingProfile,
    current: &EmbeddingValues,
) -> Result<(f64, Option<f64>), String> {
    let err = |e: crate::stats::embedding::EmbeddingError| e.to_string();
    let baseline = || Centroid::at(profile.centroid().to_vec()).map_err(err);
    match test {
        TestName::Cosine => Ok((
            cosine_distance(&baseline()?, &current.centroid).map_err(err)?,
            None,
        )),
        TestName::Euclidean => Ok((
            euclidean_distance(&baseline()?, &current.centroid).map_err(err)?,
            None,
        )),
        TestName::Mmd => {
            let reference: Vec<&[f32]> = profile.sample().collect();
            let rows: Vec<&[f32]> = current.rows.chunks_exact(profile.dimension()).collect();
            let outcome = linear_mmd_permutation(
                &reference,
                &rows,
                Bandwidth::Median,
                MMD_PERMUTATIONS,
                MMD_SEED,
            )
            .map_err(err)?;
            Ok((outcome.statistic, Some(outcome.p_value)))
        }
        other => Err(format!("{other} does not apply to embeddings")),
    }
}
