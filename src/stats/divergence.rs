//! Divergences between two discrete distributions over the same bins:
//! Jensen–Shannon distance, Kullback–Leibler divergence, Hellinger distance.
//!
//! Inputs are non-negative weights per bin (counts or proportions); each is
//! first normalised to sum 1, as scipy does, so counts may be passed.
//!
//! * Jensen–Shannon DISTANCE as `scipy.spatial.distance.jensenshannon`:
//!   √JSD with JSD = ½·KL(p‖m) + ½·KL(q‖m), m = (p + q)/2, 0·log 0 = 0;
//!   natural log by default (maximum √ln 2), base 2 gives [0, 1]. This is
//!   Evidently's `jensenshannon` test (natural log, no epsilon fill).
//! * KL(p‖q) = Σ pᵢ log(pᵢ/qᵢ) as `scipy.stats.entropy(p, q, base)`: terms
//!   with pᵢ = 0 contribute 0, pᵢ > 0 = qᵢ gives +∞. Evidently's `kl_div`
//!   test is this after the PSI empty-bin fill ([`super::psi::fill_empty_bins`]).
//! * Hellinger H = √(1 − BC), BC = Σ √(pᵢ qᵢ) clipped to [0, 1] (the
//!   Bhattacharyya coefficient), in [0, 1], as Evidently's `hellinger` test.

use super::psi::check_same_len;
use super::{StatsError, check_weights};

/// The base of the logarithm a divergence is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogBase {
    /// Natural log (nats): scipy's `base=None`.
    #[default]
    E,
    /// Base 2 (bits).
    Two,
}

impl LogBase {
    /// ln(base), what scipy divides a natural-log result by.
    fn ln(self) -> f64 {
        match self {
            LogBase::E => 1.0,
            LogBase::Two => std::f64::consts::LN_2,
        }
    }
}

/// Jensen–Shannon distance √JSD between the normalised `p` and `q`.
pub fn jensen_shannon_distance(p: &[f64], q: &[f64], base: LogBase) -> Result<f64, StatsError> {
    let (p, q) = normalised_pair(p, q)?;
    let (mut left, mut right) = (0.0, 0.0);
    for (&pi, &qi) in p.iter().zip(&q) {
        let m = (pi + qi) / 2.0;
        left += rel_entr(pi, m);
        right += rel_entr(qi, m);
    }
    let js = (left + right) / base.ln();
    // Rounding can leave a tiny negative sum for near-identical inputs.
    Ok((js / 2.0).max(0.0).sqrt())
}

/// Kullback–Leibler divergence KL(p‖q) of the normalised `p` and `q`;
/// +∞ when some qᵢ = 0 < pᵢ.
pub fn kl_divergence(p: &[f64], q: &[f64], base: LogBase) -> Result<f64, StatsError> {
    let (p, q) = normalised_pair(p, q)?;
    let kl: f64 = p.iter().zip(&q).map(|(&pi, &qi)| rel_entr(pi, qi)).sum();
    Ok(kl / base.ln())
}

/// Hellinger distance √(1 − BC) of the normalised `p` and `q`.
pub fn hellinger(p: &[f64], q: &[f64]) -> Result<f64, StatsError> {
    Ok((1.0 - bhattacharyya_coefficient(p, q)?).sqrt())
}

/// Bhattacharyya coefficient Σ √(pᵢ qᵢ) of the normalised `p` and `q`,
/// clipped to [0, 1] against rounding.
pub fn bhattacharyya_coefficient(p: &[f64], q: &[f64]) -> Result<f64, StatsError> {
    let (p, q) = normalised_pair(p, q)?;
    let bc: f64 = p.iter().zip(&q).map(|(pi, qi)| (pi * qi).sqrt()).sum();
    Ok(bc.clamp(0.0, 1.0))
}

/// `scipy.special.rel_entr(x, y)` for x, y ≥ 0: x·ln(x/y), 0 when x = 0,
/// +∞ when y = 0 < x.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if y == 0.0 {
        f64::INFINITY
    } else {
        x * (x / y).ln()
    }
}

/// Validates two weight vectors over the same bins and divides each by its
/// sum.
fn normalised_pair(p: &[f64], q: &[f64]) -> Result<(Vec<f64>, Vec<f64>), StatsError> {
    check_weights("p", p)?;
    check_weights("q", q)?;
    check_same_len("bins", p, q)?;
    Ok((normalised(p), normalised(q)))
}

fn normalised(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Two weight vectors over the same bins, each with a positive entry.
    fn paired_weights() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        (1usize..12)
            .prop_flat_map(|k| {
                (
                    prop::collection::vec(0.0f64..100.0, k),
                    prop::collection::vec(0.0f64..100.0, k),
                )
            })
            .prop_map(|(mut p, mut q)| {
                p[0] += 1.0;
                q[0] += 1.0;
                (p, q)
            })
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-3)
    }

    /// For distances that are square roots of divergences: near zero, the
    /// divergence carries an absolute rounding error of a few ulps of 1,
    /// which the square root magnifies, so the divergences are compared.
    fn close_distances(a: f64, b: f64) -> bool {
        (a * a - b * b).abs() <= 1e-12 * (a * a).max(b * b).max(1e-3)
    }

    proptest! {
        #[test]
        fn zero_on_identical_inputs((p, _) in paired_weights()) {
            prop_assert!(jensen_shannon_distance(&p, &p, LogBase::E).unwrap() < 1e-7);
            prop_assert!(kl_divergence(&p, &p, LogBase::E).unwrap().abs() < 1e-14);
            prop_assert!(hellinger(&p, &p).unwrap() < 1e-7);
        }

        #[test]
        fn js_and_hellinger_are_symmetric_and_bounded((p, q) in paired_weights()) {
            for base in [LogBase::E, LogBase::Two] {
                let js = jensen_shannon_distance(&p, &q, base).unwrap();
                prop_assert!(close(js, jensen_shannon_distance(&q, &p, base).unwrap()));
                let bound = if base == LogBase::E { 2f64.ln().sqrt() } else { 1.0 };
                prop_assert!((0.0..=bound + 1e-12).contains(&js));
            }
            let h = hellinger(&p, &q).unwrap();
            prop_assert!(close(h, hellinger(&q, &p).unwrap()));
            prop_assert!((0.0..=1.0).contains(&h));
        }

        #[test]
        fn kl_is_non_negative_and_base_two_is_rescaled((p, q) in paired_weights()) {
            let nats = kl_divergence(&p, &q, LogBase::E).unwrap();
            let bits = kl_divergence(&p, &q, LogBase::Two).unwrap();
            prop_assert!(nats >= -1e-12);
            prop_assert!(nats.is_infinite() && bits.is_infinite() || close(bits, nats / 2f64.ln()));
        }

        #[test]
        fn invariant_to_joint_bin_order((p, q) in paired_weights(), rot in 0usize..12) {
            let k = rot % p.len();
            let (mut p2, mut q2) = (p.clone(), q.clone());
            p2.rotate_left(k);
            q2.rotate_left(k);
            prop_assert!(close_distances(
                jensen_shannon_distance(&p, &q, LogBase::E).unwrap(),
                jensen_shannon_distance(&p2, &q2, LogBase::E).unwrap()
            ));
            let (a, b) = (kl_divergence(&p, &q, LogBase::E).unwrap(), kl_divergence(&p2, &q2, LogBase::E).unwrap());
            prop_assert!(a == b || close(a, b));
            prop_assert!(close_distances(hellinger(&p, &q).unwrap(), hellinger(&p2, &q2).unwrap()));
        }

        #[test]
        fn invariant_to_scale((p, q) in paired_weights(), scale in 0.01f64..100.0) {
            let p2: Vec<f64> = p.iter().map(|x| x * scale).collect();
            prop_assert!(close_distances(
                jensen_shannon_distance(&p, &q, LogBase::Two).unwrap(),
                jensen_shannon_distance(&p2, &q, LogBase::Two).unwrap()
            ));
        }
    }

    #[test]
    fn scaling_nearly_proportional_weights_keeps_the_distance() {
        // Found by proptest: the distance is ~2e-3, where comparing
        // distances to 1e-12 relative asks more than f64 logs give.
        let (p, q) = (
            [76.09138127936865, 87.5135787177803],
            [74.428140719909, 84.69043727876661],
        );
        let p2 = p.map(|x| x * 23.7600958255351);
        let (a, b) = (
            jensen_shannon_distance(&p, &q, LogBase::Two).unwrap(),
            jensen_shannon_distance(&p2, &q, LogBase::Two).unwrap(),
        );
        assert!(close_distances(a, b), "{a} {b}");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        type Divergence = fn(&[f64], &[f64]) -> Result<f64, StatsError>;
        let all: [Divergence; 3] = [
            |p, q| jensen_shannon_distance(p, q, LogBase::E),
            |p, q| kl_divergence(p, q, LogBase::E),
            hellinger,
        ];
        for f in all {
            assert!(matches!(f(&[], &[]), Err(StatsError::Empty { .. })));
            assert!(matches!(
                f(&[1.0, 2.0], &[1.0]),
                Err(StatsError::Invalid { what: "bins", .. })
            ));
            assert!(matches!(
                f(&[1.0, f64::NAN], &[1.0, 1.0]),
                Err(StatsError::NonFinite { .. })
            ));
            assert!(matches!(
                f(&[1.0, 1.0], &[f64::INFINITY, 1.0]),
                Err(StatsError::NonFinite { .. })
            ));
            assert!(matches!(
                f(&[1.0, -1.0], &[1.0, 1.0]),
                Err(StatsError::Invalid { .. })
            ));
            assert!(matches!(
                f(&[0.0, 0.0], &[1.0, 1.0]),
                Err(StatsError::Invalid { .. })
            ));
        }
    }
}
