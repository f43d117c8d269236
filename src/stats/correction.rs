//! Multiple-testing corrections: adjusted p-values, returned in input order.
//!
//! * Bonferroni: min(1, p · m), controlling the family-wise error rate.
//! * Benjamini–Hochberg step-up, controlling the false discovery rate, as
//!   `statsmodels.stats.multitest.multipletests(method='fdr_bh')` and
//!   `scipy.stats.false_discovery_control` compute it: with p₍₁₎ ≤ … ≤ p₍ₘ₎,
//!   adjusted p₍ₖ₎ = min over j ≥ k of p₍ⱼ₎ · (m / j), capped at 1 (so the
//!   adjusted values are monotone in the raw ones).
//!
//! m is the number of non-NaN p-values: a NaN (a test that could not be
//! run) stays NaN and does not count as a test, so it neither inflates the
//! others' adjustment nor hides as "no drift". Other values are assumed to
//! be p-values in [0, 1] and are not checked.

/// Which correction to apply to a family of p-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Correction {
    /// The p-values unchanged.
    #[default]
    None,
    Bonferroni,
    BenjaminiHochberg,
}

impl Correction {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Correction::None => "none",
            Correction::Bonferroni => "bonferroni",
            Correction::BenjaminiHochberg => "bh",
        }
    }

    /// The adjusted p-values, in input order.
    pub fn adjust(&self, p: &[f64]) -> Vec<f64> {
        match self {
            Correction::None => p.to_vec(),
            Correction::Bonferroni => bonferroni(p),
            Correction::BenjaminiHochberg => benjamini_hochberg(p),
        }
    }
}

impl std::str::FromStr for Correction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Correction::None),
            "bonferroni" => Ok(Correction::Bonferroni),
            "bh" | "fdr" | "benjamini-hochberg" => Ok(Correction::BenjaminiHochberg),
            other => Err(format!(
                "unknown correction {other:?}: expected none, bonferroni or bh"
            )),
        }
    }
}

/// Bonferroni-adjusted p-values min(1, p · m), m = number of non-NaN values.
pub fn bonferroni(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.iter().filter(|p| !p.is_nan()).count() as f64;
    // f64::min would turn NaN into 1: keep it NaN explicitly.
    p_values
        .iter()
        .map(|&p| if p.is_nan() { p } else { (p * m).min(1.0) })
        .collect()
}

/// Benjamini–Hochberg adjusted p-values (see module docs), in input order.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p_values.len())
        .filter(|&i| !p_values[i].is_nan())
        .collect();
    order.sort_unstable_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let m = order.len() as f64;
    let mut adjusted = vec![f64::NAN; p_values.len()];
    // Step up from the largest p-value, carrying the running minimum.
    let mut running = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p_values[i] * (m / (rank + 1) as f64));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_all_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!(
                g.is_nan() && w.is_nan() || (g - w).abs() <= 4.0 * f64::EPSILON * w.abs(),
                "got {got:?}, want {want:?}"
            );
        }
    }

    /// Worked by hand: m = 8, raw adjustments p₍ₖ₎·8/k are 0.008, 0.032,
    /// 0.104, 0.082, 0.0672, 0.08, 0.0845714…, 0.205; the running minimum
    /// from the top pulls ranks 3–5 down to 0.0672. Input order shuffled.
    #[test]
    fn benjamini_hochberg_worked_example() {
        let p = [0.042, 0.001, 0.205, 0.039, 0.060, 0.008, 0.074, 0.041];
        let want = [
            0.0672,
            0.008,
            0.205,
            0.0672,
            0.08,
            0.032,
            0.074 * 8.0 / 7.0,
            0.0672,
        ];
        assert_all_close(&benjamini_hochberg(&p), &want);
        assert_all_close(&Correction::BenjaminiHochberg.adjust(&p), &want);
    }

    /// Ties share the smaller adjustment: 0.02·2/2 = 0.02 for both.
    #[test]
    fn benjamini_hochberg_ties() {
        assert_all_close(&benjamini_hochberg(&[0.02, 0.02]), &[0.02, 0.02]);
    }

    #[test]
    fn bonferroni_multiplies_and_caps() {
        let p = [0.01, 0.2, 0.04, 0.5];
        assert_all_close(&bonferroni(&p), &[0.04, 0.8, 0.16, 1.0]);
        assert_all_close(&Correction::Bonferroni.adjust(&p), &[0.04, 0.8, 0.16, 1.0]);
        assert_eq!(Correction::None.adjust(&p), p.to_vec());
    }

    /// NaN stays NaN and is not counted: m = 2 here.
    #[test]
    fn nan_is_kept_and_not_counted() {
        let p = [0.01, f64::NAN, 0.04];
        assert_all_close(&bonferroni(&p), &[0.02, f64::NAN, 0.08]);
        assert_all_close(&benjamini_hochberg(&p), &[0.02, f64::NAN, 0.04]);
        assert!(benjamini_hochberg(&[f64::NAN])[0].is_nan());
    }

    #[test]
    fn empty_family_gives_empty_result() {
        assert!(bonferroni(&[]).is_empty());
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn adjusted_values_are_bounded_and_ordered(p in prop::collection::vec(0.0f64..=1.0, 1..30)) {
            let bh = benjamini_hochberg(&p);
            let bonf = bonferroni(&p);
            for i in 0..p.len() {
                prop_assert!(p[i] <= bh[i] && bh[i] <= bonf[i] && bonf[i] <= 1.0);
                for j in 0..p.len() {
                    if p[i] <= p[j] {
                        prop_assert!(bh[i] <= bh[j]);
                    }
                }
            }
        }

        #[test]
        fn equivariant_under_permutation(p in prop::collection::vec(0.0f64..=1.0, 1..30), rot in 0usize..30) {
            let k = rot % p.len();
            let mut rotated = p.clone();
            rotated.rotate_left(k);
            let mut bh = benjamini_hochberg(&p);
            bh.rotate_left(k);
            prop_assert_eq!(bh, benjamini_hochberg(&rotated));
        }
    }
}
