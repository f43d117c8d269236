//! Which tests a feature gets, decided once for both running them and
//! listing them: [`planned_tests`] says, without a current sample, which
//! (feature, test) pairs a report will hold, so that the daemon can create
//! every metric series at start-up, before the first window closes. The
//! listing goes through the same choice as [`super::detect`]
//! ([`super::numeric::plan`], [`super::categorical::plan`]), with an empty
//! current sample.
//!
//! It is exact for features with explicit tests. Under the default rule it
//! is exact unless a window brings values the reference lacks to a feature
//! with few of them, because the rule counts distinct values over reference
//! and current together: a numeric feature or text descriptor with at most
//! five distinct reference values (a sixth makes it continuous: `ks` or
//! `wasserstein` instead of a categorical test), or a categorical feature of
//! at most 1000 reference rows with at most two categories and no
//! `__other__` (a third turns `ztest` into `chi2`). A feature with too few
//! current values gets no tests at all ("insufficient data").

use super::{DetectOptions, TestName, categorical, embedding, numeric};
use crate::baseline::{Baseline, Column, Profile};
use crate::schema::Kind;
use rustc_hash::FxHashMap;

/// Why a test runs on a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Named in the options' tests: decides the verdict.
    Chosen,
    /// The default rule's test (see [`super::rule`]): decides the verdict.
    Default {
        /// Whether the rule compares the values as categories.
        as_categories: bool,
    },
    /// PSI beside the default test, for information only, comparing the
    /// values as the default test does (so a 0/1 rate's PSI is by value,
    /// not over decile bins that hold both 0 and 1).
    Info {
        /// Whether the default rule compares the values as categories.
        as_categories: bool,
    },
}

impl Role {
    /// Whether the test decides the feature's verdict.
    pub(crate) fn decisive(self) -> bool {
        !matches!(self, Role::Info { .. })
    }

    /// Whether the default rule compares the values as categories.
    pub(crate) fn as_categories(self) -> bool {
        matches!(
            self,
            Role::Default {
                as_categories: true
            } | Role::Info {
                as_categories: true
            }
        )
    }
}

/// The tests of a feature of `kind`: the given ones that apply to it, or
/// else the `default` rule's choice (test, as categories) with PSI beside it.
pub(crate) fn choose(
    tests: Option<&[TestName]>,
    kind: Kind,
    default: impl FnOnce() -> (TestName, bool),
) -> Vec<(TestName, Role)> {
    let Some(tests) = tests else {
        let (test, as_categories) = default();
        return vec![
            (test, Role::Default { as_categories }),
            (TestName::Psi, Role::Info { as_categories }),
        ];
    };
    let applicable = tests.iter().filter(|t| t.applies_to(kind));
    applicable.map(|t| (*t, Role::Chosen)).collect()
}

/// One test a window's report will hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlannedTest {
    /// The feature, as [`feature_label`] names it.
    pub feature: String,
    pub test: TestName,
    /// Whether the test produces a p-value (besides its statistic).
    pub p_value: bool,
}

/// How metrics and rules name a feature: the column, or
/// `column:descriptor` for a text column's descriptor.
pub fn feature_label(column: &str, descriptor: Option<&str>) -> String {
    match descriptor {
        Some(d) => format!("{column}:{d}"),
        None => column.to_owned(),
    }
}

/// The tests a report of a current sample against `baseline` under
/// `options` holds, in report order, without running any (see the module
/// docs for when a window's values can change the default rule's choice).
pub fn planned_tests(baseline: &Baseline, options: &DetectOptions) -> Vec<PlannedTest> {
    baseline
        .columns
        .iter()
        .flat_map(|column| column_plan(column, options))
        .collect()
}

fn column_plan(column: &Column, options: &DetectOptions) -> Vec<PlannedTest> {
    let view = options.feature(&column.name);
    let listed = |descriptor: Option<&str>, tests: Vec<(TestName, Role)>| {
        let feature = feature_label(&column.name, descriptor);
        tests.into_iter().map(move |(test, _)| PlannedTest {
            feature: feature.clone(),
            test,
            p_value: test.is_p_value(),
        })
    };
    match &column.profile {
        Profile::Numeric(p) => listed(None, numeric::plan(p, column.count, &[], &view)).collect(),
        Profile::Categorical(p) => {
            let aligned = categorical::align_categories(p, &FxHashMap::default());
            listed(None, categorical::plan(p, &aligned, &view)).collect()
        }
        Profile::Embedding(_) => listed(None, embedding::plan(&view)).collect(),
        Profile::Text(p) => (p.descriptors.iter())
            .flat_map(|d| {
                listed(
                    Some(&d.name),
                    numeric::plan(&d.profile, column.count, &[], &view),
                )
            })
            .collect(),
    }
}
