//! Population Stability Index (PSI) and the binning it is computed over.
//!
//! PSI = Σᵢ (rᵢ − cᵢ) · ln(rᵢ / cᵢ), natural log, where rᵢ and cᵢ are the
//! reference and current proportions in bin i. Empty bins would make the log
//! infinite, so each side is filled separately with Evidently's rule
//! (`get_binned_data(..., feel_zeroes=True)`): a zero proportion becomes 1e-4,
//! or (smallest non-zero proportion on that side) / 1e6 when that smallest
//! proportion is itself ≤ 1e-4. The other proportions are NOT renormalised,
//! so the values match Evidently's PSI exactly.
//!
//! Binning helpers: [`bin_counts_searchsorted`] is the product's convention
//! (bin of x = `numpy.searchsorted(edges, x, side='right')`, open outer bins,
//! every value counted); [`histogram_counts`] reproduces `numpy.histogram`
//! with explicit edges (half-open bins, last bin closed, values outside the
//! edges dropped), which is what Evidently bins with; [`sturges_bin_edges`]
//! reproduces `numpy.histogram_bin_edges(x, 'sturges')`, Evidently's default
//! edges for numerical columns.

use super::{StatsError, check_sample, check_weights};

/// Replacement for an empty bin when no proportion on that side is ≤ 1e-4.
const EMPTY_BIN: f64 = 1e-4;
/// Divisor applied to the smallest non-zero proportion when it is ≤ 1e-4.
const SMALL_BIN_DIVISOR: f64 = 1e6;

/// Population Stability Index between two binned distributions given as
/// proportions per bin (same bins, same order), with the empty-bin fill
/// described in the module docs applied to each side.
///
/// Proportions are used as given: they need not sum to 1 (e.g. histogram
/// proportions when some values fell outside the edges).
pub fn psi(reference_props: &[f64], current_props: &[f64]) -> Result<f64, StatsError> {
    check_same_len("bins", reference_props, current_props)?;
    let reference = fill_side("reference proportions", reference_props)?;
    let current = fill_side("current proportions", current_props)?;
    Ok(reference
        .iter()
        .zip(&current)
        .map(|(r, c)| (r - c) * (r / c).ln())
        .sum())
}

/// Proportions `count / Σ count` of non-negative counts (not all zero).
pub fn proportions(counts: &[f64]) -> Result<Vec<f64>, StatsError> {
    check_weights("counts", counts)?;
    let total: f64 = counts.iter().sum();
    Ok(counts.iter().map(|c| c / total).collect())
}

/// Evidently's empty-bin fill for one side: zeros become 1e-4, or
/// (smallest non-zero)/1e6 when the smallest non-zero proportion is ≤ 1e-4.
/// Non-zero proportions are left unchanged (no renormalisation).
pub fn fill_empty_bins(props: &[f64]) -> Result<Vec<f64>, StatsError> {
    fill_side("proportions", props)
}

fn fill_side(sample: &'static str, props: &[f64]) -> Result<Vec<f64>, StatsError> {
    check_weights(sample, props)?;
    // check_weights guarantees at least one positive entry.
    let smallest = props
        .iter()
        .copied()
        .filter(|p| *p > 0.0)
        .fold(f64::INFINITY, f64::min);
    let fill = if smallest <= EMPTY_BIN {
        smallest / SMALL_BIN_DIVISOR
    } else {
        EMPTY_BIN
    };
    Ok(props
        .iter()
        .map(|&p| if p == 0.0 { fill } else { p })
        .collect())
}

/// Counts of `values` in `edges.len() + 1` bins: the bin of x is
/// `searchsorted(edges, x, side='right')`, so bin 0 is (−∞, e₀), bin i is
/// [eᵢ₋₁, eᵢ) and the last bin is [e_last, ∞). Every value is counted.
///
/// Edges must be finite and non-decreasing; values finite and non-empty.
pub fn bin_counts_searchsorted(edges: &[f64], values: &[f64]) -> Result<Vec<f64>, StatsError> {
    check_edges(edges, 1)?;
    check_sample("values", values)?;
    let mut counts = vec![0.0; edges.len() + 1];
    for &x in values {
        counts[edges.partition_point(|&e| e <= x)] += 1.0;
    }
    Ok(counts)
}

/// Counts of `values` in the `edges.len() - 1` bins of `numpy.histogram`
/// with explicit edges: [eᵢ, eᵢ₊₁) half-open, the last bin closed
/// [e_{k−1}, e_k]; values outside [e₀, e_k] are not counted.
///
/// Edges must be finite, non-decreasing and at least two; values finite and
/// non-empty.
pub fn histogram_counts(edges: &[f64], values: &[f64]) -> Result<Vec<f64>, StatsError> {
    check_edges(edges, 2)?;
    check_sample("values", values)?;
    let last_edge = edges[edges.len() - 1];
    let last_bin = edges.len() - 2;
    let mut counts = vec![0.0; edges.len() - 1];
    for &x in values {
        if x < edges[0] || x > last_edge {
            continue;
        }
        // numpy closes the last bin, even when the last edges repeat.
        let bin = if x == last_edge {
            last_bin
        } else {
            edges.partition_point(|&e| e <= x) - 1
        };
        counts[bin] += 1.0;
    }
    Ok(counts)
}

/// `numpy.histogram_bin_edges(values, bins='sturges')`: ⌈ptp / w⌉ equal bins
/// with w = ptp / (log₂ n + 1) between min and max (±0.5 when all values
/// are equal), edges placed as `numpy.linspace` places them.
pub fn sturges_bin_edges(values: &[f64]) -> Result<Vec<f64>, StatsError> {
    check_sample("values", values)?;
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let ptp = max - min;
    let width = ptp / ((values.len() as f64).log2() + 1.0);
    // numpy: a zero width (constant data) means one bin of width 1.
    let (first, last, bins) = if width > 0.0 {
        (min, max, (ptp / width).ceil() as usize)
    } else {
        (min - 0.5, max + 0.5, 1)
    };
    Ok(linspace(first, last, bins + 1))
}

/// `numpy.linspace(start, stop, num)` for num ≥ 2: start + i·step, with the
/// last point set to `stop` exactly.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let step = (stop - start) / (num - 1) as f64;
    let mut points: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    points[num - 1] = stop;
    points
}

fn check_edges(edges: &[f64], need: usize) -> Result<(), StatsError> {
    check_sample("bin edges", edges)?;
    if edges.len() < need {
        return Err(StatsError::TooSmall {
            sample: "bin edges",
            test: "binning",
            need,
            got: edges.len(),
        });
    }
    if let Some(i) = edges.windows(2).position(|w| w[1] < w[0]) {
        return Err(StatsError::Invalid {
            what: "bin edges",
            reason: format!(
                "edge {} ({}) is below edge {i} ({}): expected non-decreasing edges",
                i + 1,
                edges[i + 1],
                edges[i]
            ),
        });
    }
    Ok(())
}

/// Errors unless two per-bin (or per-category) arrays have the same length.
pub(crate) fn check_same_len(
    what: &'static str,
    reference: &[f64],
    current: &[f64],
) -> Result<(), StatsError> {
    if reference.len() == current.len() {
        return Ok(());
    }
    Err(StatsError::Invalid {
        what,
        reason: format!(
            "reference has {} entries, current has {}: expected the same {what} on both sides",
            reference.len(),
            current.len()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Two count vectors over the same bins, each with a positive entry.
    fn paired_counts() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        (1usize..12)
            .prop_flat_map(|k| {
                (
                    prop::collection::vec(0u32..1000, k),
                    prop::collection::vec(0u32..1000, k),
                )
            })
            .prop_map(|(r, c)| {
                let mut r: Vec<f64> = r.into_iter().map(f64::from).collect();
                let mut c: Vec<f64> = c.into_iter().map(f64::from).collect();
                r[0] += 1.0;
                c[0] += 1.0;
                (r, c)
            })
    }

    proptest! {
        #[test]
        fn psi_is_zero_on_identical_inputs((r, _) in paired_counts()) {
            let p = proportions(&r).unwrap();
            prop_assert_eq!(psi(&p, &p).unwrap(), 0.0);
        }

        #[test]
        fn psi_is_non_negative_and_symmetric((r, c) in paired_counts()) {
            // Each term (r − c)·ln(r/c) is ≥ 0 and symmetric in (r, c).
            let (r, c) = (proportions(&r).unwrap(), proportions(&c).unwrap());
            let forward = psi(&r, &c).unwrap();
            prop_assert!(forward >= 0.0);
            prop_assert!((forward - psi(&c, &r).unwrap()).abs() <= 1e-12 * forward.max(1.0));
        }

        #[test]
        fn psi_is_invariant_to_joint_bin_order((r, c) in paired_counts(), rot in 0usize..12) {
            let (r, c) = (proportions(&r).unwrap(), proportions(&c).unwrap());
            let k = rot % r.len();
            let (mut r2, mut c2) = (r.clone(), c.clone());
            r2.rotate_left(k);
            c2.rotate_left(k);
            let (a, b) = (psi(&r, &c).unwrap(), psi(&r2, &c2).unwrap());
            prop_assert!((a - b).abs() <= 1e-12 * a.max(1.0));
        }

        #[test]
        fn searchsorted_counts_every_value(
            values in prop::collection::vec(-10.0f64..10.0, 1..50),
            mut edges in prop::collection::vec(-12.0f64..12.0, 1..8),
        ) {
            edges.sort_by(f64::total_cmp);
            let counts = bin_counts_searchsorted(&edges, &values).unwrap();
            prop_assert_eq!(counts.len(), edges.len() + 1);
            prop_assert_eq!(counts.iter().sum::<f64>(), values.len() as f64);
        }

        #[test]
        fn histogram_counts_values_inside_the_edges(
            values in prop::collection::vec(-10.0f64..10.0, 1..50),
            mut edges in prop::collection::vec(-12.0f64..12.0, 2..8),
        ) {
            edges.sort_by(f64::total_cmp);
            let (lo, hi) = (edges[0], edges[edges.len() - 1]);
            let inside = values.iter().filter(|x| lo <= **x && **x <= hi).count();
            let counts = histogram_counts(&edges, &values).unwrap();
            prop_assert_eq!(counts.iter().sum::<f64>(), inside as f64);
        }

        #[test]
        fn sturges_edges_cover_the_sample(values in prop::collection::vec(-1e3f64..1e3, 1..200)) {
            let edges = sturges_bin_edges(&values).unwrap();
            prop_assert!(edges.len() >= 2);
            prop_assert!(edges.windows(2).all(|w| w[0] <= w[1]));
            let counts = histogram_counts(&edges, &values).unwrap();
            prop_assert_eq!(counts.iter().sum::<f64>(), values.len() as f64);
        }
    }

    #[test]
    fn fill_uses_smallest_over_a_million_when_small() {
        let filled = fill_empty_bins(&[0.0, 5e-5, 0.99995]).unwrap();
        assert_eq!(filled, vec![5e-5 / 1e6, 5e-5, 0.99995]);
        let filled = fill_empty_bins(&[0.0, 0.5, 0.5]).unwrap();
        assert_eq!(filled, vec![1e-4, 0.5, 0.5]);
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        assert!(matches!(psi(&[], &[]), Err(StatsError::Empty { .. })));
        assert!(matches!(
            psi(&[0.5, 0.5], &[1.0]),
            Err(StatsError::Invalid { what: "bins", .. })
        ));
        assert!(matches!(
            psi(&[f64::NAN, 1.0], &[0.5, 0.5]),
            Err(StatsError::NonFinite { .. })
        ));
        assert!(matches!(
            psi(&[f64::INFINITY, 1.0], &[0.5, 0.5]),
            Err(StatsError::NonFinite { .. })
        ));
        assert!(matches!(
            psi(&[-0.5, 1.5], &[0.5, 0.5]),
            Err(StatsError::Invalid { .. })
        ));
        assert!(matches!(
            psi(&[0.0, 0.0], &[0.5, 0.5]),
            Err(StatsError::Invalid { .. })
        ));
        assert!(proportions(&[]).is_err());
        assert!(bin_counts_searchsorted(&[], &[1.0]).is_err());
        assert!(bin_counts_searchsorted(&[1.0], &[]).is_err());
        assert!(bin_counts_searchsorted(&[1.0], &[f64::NAN]).is_err());
        assert!(histogram_counts(&[1.0], &[1.0]).is_err());
        assert!(histogram_counts(&[2.0, 1.0], &[1.0]).is_err());
        assert!(histogram_counts(&[1.0, f64::INFINITY], &[1.0]).is_err());
        assert!(sturges_bin_edges(&[]).is_err());
        assert!(sturges_bin_edges(&[1.0, f64::NAN]).is_err());
    }

    #[test]
    fn searchsorted_puts_values_on_an_edge_in_the_upper_bin() {
        let counts = bin_counts_searchsorted(&[0.0, 1.0], &[-1.0, 0.0, 0.5, 1.0, 2.0]).unwrap();
        assert_eq!(counts, vec![1.0, 2.0, 2.0]);
    }

    #[test]
    fn sturges_constant_sample_is_one_unit_bin() {
        assert_eq!(sturges_bin_edges(&[3.0, 3.0]).unwrap(), vec![2.5, 3.5]);
    }
}
