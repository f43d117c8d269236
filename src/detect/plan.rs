//! Which tests a feature gets: the options' list, or the default rule's
//! choice with PSI beside it, decided in one place for numeric and
//! categorical values.

use super::TestName;
use crate::schema::Kind;

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
    /// PSI beside the default test, for information only.
    Info,
}

impl Role {
    /// Whether the test decides the feature's verdict.
    pub(crate) fn decisive(self) -> bool {
        self != Role::Info
    }

    /// Whether the default rule compares the values as categories.
    pub(crate) fn as_categories(self) -> bool {
        matches!(
            self,
            Role::Default {
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
            (TestName::Psi, Role::Info),
        ];
    };
    let applicable = tests.iter().filter(|t| t.applies_to(kind));
    applicable.map(|t| (*t, Role::Chosen)).collect()
}
