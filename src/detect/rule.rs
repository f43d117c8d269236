//! The default choice of test per feature, Evidently's documented rule
//! (`evidently.legacy.calculations.stattests.registry.get_stattest`, as
//! described in Evidently's "data drift" documentation), so that users
//! coming from Evidently get the same verdicts:
//!
//! | reference rows | numeric, > 5 distinct values | otherwise (categorical, or numeric with ≤ 5) |
//! | --- | --- | --- |
//! | ≤ 1000 | `ks`, p < 0.05 | `chi2` (> 2 values) or `ztest` (≤ 2), p < 0.05 |
//! | > 1000 | `wasserstein` (normed), ≥ 0.1 | `jensenshannon`, ≥ 0.1 |
//!
//! Distinct values are counted over reference and current together; the
//! reference rows are its non-missing values.

use super::TestName;

/// Reference sizes up to this use p-value tests.
pub const SMALL_REFERENCE_ROWS: u64 = 1000;
/// Numeric features with at most this many distinct values are tested as
/// categories.
pub const FEW_VALUES: u64 = 5;

/// The default test of a feature, and whether its values are to be compared
/// as categories.
pub fn default_test(numeric: bool, reference_rows: u64, distinct: u64) -> (TestName, bool) {
    let continuous = numeric && distinct > FEW_VALUES;
    let test = match (reference_rows <= SMALL_REFERENCE_ROWS, continuous) {
        (true, true) => TestName::Ks,
        (true, false) if distinct > 2 => TestName::Chi2,
        (true, false) => TestName::Ztest,
        (false, true) => TestName::Wasserstein,
        (false, false) => TestName::JensenShannon,
    };
    (test, !continuous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidently_rule_table() {
        assert_eq!(default_test(true, 1000, 6), (TestName::Ks, false));
        assert_eq!(default_test(true, 1000, 5), (TestName::Chi2, true));
        assert_eq!(default_test(true, 1000, 2), (TestName::Ztest, true));
        assert_eq!(default_test(false, 1000, 3), (TestName::Chi2, true));
        assert_eq!(default_test(false, 10, 1), (TestName::Ztest, true));
        assert_eq!(default_test(true, 1001, 6), (TestName::Wasserstein, false));
        assert_eq!(default_test(true, 1001, 5), (TestName::JensenShannon, true));
        assert_eq!(
            default_test(false, 1_000_000, 1000),
            (TestName::JensenShannon, true)
        );
    }
}
