//! Streaming accumulators that turn one column's values into its profile in
//! bounded memory: [`NumericAccumulator`] (moments, distinct values, the
//! quantile sketch), [`CategoricalAccumulator`] (category counts with a
//! cardinality cap) and [`TextAccumulator`] (one numeric accumulator per text
//! descriptor, patterns included).

use super::sketch::{QuantileSketch, SortedWeighted};
use super::{
    Bins, CategoricalProfile, CategoryCount, Descriptor, Distinct, EmbeddingProfile,
    NumericProfile, Reference, TextProfile,
};
use crate::schema::text::TextMeasure;
use crate::stats::CompensatedSum;
use crate::stats::embedding::{Centroid, EmbeddingReservoir};
use rustc_hash::{FxHashMap, FxHasher};
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Limits that bound a profile's size and the memory of building it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileLimits {
    /// Keep every value of a numeric column with at most this many rows.
    pub exact_limit: u64,
    /// Quantiles kept for larger columns.
    pub summary_points: usize,
    /// Number of quantile bins (deciles: 10).
    pub bins: usize,
    /// Keep value counts of numeric columns with at most this many distinct values.
    pub keep_distinct: usize,
    /// Count distinct numeric values exactly up to this many.
    pub distinct_cap: usize,
    /// Keep at most this many categories; the rest go to `__other__`.
    pub max_categories: usize,
    /// Capacity of the quantile sketch's levels.
    pub sketch_k: usize,
    /// Vectors of an embedding column kept for the MMD test.
    pub embedding_sample: usize,
}

impl Default for ProfileLimits {
    fn default() -> Self {
        Self {
            exact_limit: 10_000,
            summary_points: 10_001,
            bins: 10,
            keep_distinct: 100,
            distinct_cap: 10_000,
            max_categories: 10_000,
            sketch_k: super::sketch::DEFAULT_K,
            embedding_sample: 1000,
        }
    }
}

/// Accumulates a numeric column.
#[derive(Debug, Clone)]
pub struct NumericAccumulator {
    count: u64,
    min: f64,
    max: f64,
    mean: f64,
    m2: f64,
    /// For a mean as exact as numpy's.
    sum: CompensatedSum,
    sketch: QuantileSketch,
    /// Value (as bits, -0 folded into +0) → count, dropped past the cap.
    distinct: Option<FxHashMap<u64, u64>>,
    distinct_cap: usize,
}

impl NumericAccumulator {
    /// An empty accumulator.
    pub fn new(limits: &ProfileLimits) -> Self {
        Self {
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            mean: 0.0,
            m2: 0.0,
            sum: CompensatedSum::default(),
            // The sketch is exact up to its capacity, so a capacity of at
            // least `exact_limit` keeps every value of columns that small.
            sketch: QuantileSketch::new(limits.sketch_k.max(limits.exact_limit as usize)),
            distinct: Some(FxHashMap::default()),
            distinct_cap: limits.distinct_cap,
        }
    }

    /// Adds one finite value.
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        // Welford's update keeps the variance accurate to a few ulps.
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
        self.sum.add(x);
        self.sketch.insert(x);
        if let Some(map) = &mut self.distinct {
            *map.entry((x + 0.0).to_bits()).or_insert(0) += 1;
            if map.len() > self.distinct_cap {
                self.distinct = None;
            }
        }
    }

    /// The profile, or `None` for a column without values.
    pub fn finish(&self, limits: &ProfileLimits) -> Option<NumericProfile> {
        if self.count == 0 {
            return None;
        }
        let counts = self.kept_counts(limits);
        let view = match &counts {
            Some((values, counts)) => SortedWeighted::from_counts(values, counts),
            None => SortedWeighted::from_sketch(&self.sketch),
        };
        let exact = counts.is_some() || self.sketch.is_exact();
        let reference = match counts {
            Some((values, counts)) => Reference::Counts { values, counts },
            None if exact && self.count <= limits.exact_limit => Reference::Exact {
                values: view.values().to_vec(),
            },
            None => Reference::Quantiles {
                quantiles: self.quantile_grid(&view, limits.summary_points),
                rank_error: self.rank_error(limits),
            },
        };
        Some(NumericProfile {
            min: self.min,
            max: self.max,
            mean: self.sum.value() / self.count as f64,
            std: (self.m2 / self.count as f64).sqrt(),
            distinct: self.distinct_count(),
            bins: quantile_bins(&view, limits.bins),
            reference,
        })
    }

    fn distinct_count(&self) -> Distinct {
        match &self.distinct {
            Some(map) => Distinct {
                count: map.len() as u64,
                capped: false,
            },
            None => Distinct {
                count: self.distinct_cap as u64,
                capped: true,
            },
        }
    }

    /// Sorted distinct values with counts, when there are few enough.
    fn kept_counts(&self, limits: &ProfileLimits) -> Option<(Vec<f64>, Vec<u64>)> {
        let map = self.distinct.as_ref()?;
        if map.len() > limits.keep_distinct {
            return None;
        }
        let mut pairs: Vec<(f64, u64)> =
            map.iter().map(|(b, c)| (f64::from_bits(*b), *c)).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        Some(pairs.into_iter().unzip())
    }

    /// `m` equally spaced quantiles (ranks `i/(m-1)`), numpy-interpolated;
    /// the ends are the exact minimum and maximum, which a compacted
    /// sketch may have dropped.
    fn quantile_grid(&self, view: &SortedWeighted, m: usize) -> Vec<f64> {
        let last = (m - 1) as f64;
        let mut grid: Vec<f64> = (0..m).map(|i| view.quantile(i as f64 / last)).collect();
        grid[0] = self.min;
        grid[m - 1] = self.max;
        grid
    }

    /// The documented bound on the summary's rank error (as a share of the
    /// rows): the sketch's worst case plus the quantile grid's spacing.
    fn rank_error(&self, limits: &ProfileLimits) -> f64 {
        let k = self.sketch.capacity() as f64;
        let levels = (self.count as f64 / k).log2().max(0.0).ceil();
        levels / k + 1.0 / (limits.summary_points - 1) as f64
    }
}

/// The unique interior quantiles `1/bins .. (bins-1)/bins` and the share of
/// the reference in each of the resulting bins. Detection re-bins with it
/// when a feature asks for other bins, so both follow one convention.
pub fn quantile_bins(view: &SortedWeighted, bins: usize) -> Bins {
    // numpy's linspace(0, 1, bins + 1) computes i * (1/bins).
    let step = 1.0 / bins as f64;
    let mut edges: Vec<f64> = (1..bins).map(|i| view.quantile(i as f64 * step)).collect();
    edges.dedup();
    let total = view.total() as f64;
    let mut below_prev = 0u64;
    let mut proportions = Vec::with_capacity(edges.len() + 1);
    for edge in &edges {
        let below = view.rank_below(*edge);
        proportions.push((below - below_prev) as f64 / total);
        below_prev = below;
    }
    proportions.push((view.total() - below_prev) as f64 / total);
    Bins { edges, proportions }
}

/// Accumulates a categorical column: exact counts while the number of
/// distinct values fits the table (twice the category cap), then the
/// Misra–Gries frequent-items rule, whose counts underestimate by at most
/// `rows / table size`, so the most frequent categories are still found.
#[derive(Debug, Clone)]
pub struct CategoricalAccumulator {
    counts: FxHashMap<String, u64>,
    capacity: usize,
    total: u64,
    exact: bool,
    distinct: DistinctEstimator,
}

impl CategoricalAccumulator {
    /// An empty accumulator.
    pub fn new(limits: &ProfileLimits) -> Self {
        Self {
            counts: FxHashMap::default(),
            capacity: limits.max_categories * 2,
            total: 0,
            exact: true,
            distinct: DistinctEstimator::new(4096),
        }
    }

    /// Adds one value.
    pub fn add(&mut self, value: &str) {
        self.total += 1;
        self.distinct.add(value);
        if let Some(c) = self.counts.get_mut(value) {
            *c += 1;
            return;
        }
        if self.counts.len() < self.capacity {
            self.counts.insert(value.to_owned(), 1);
            return;
        }
        // Table full: the new value and every counter lose one.
        self.exact = false;
        self.counts.retain(|_, c| {
            *c -= 1;
            *c > 0
        });
    }

    /// Estimated number of distinct values.
    pub fn distinct(&self) -> u64 {
        self.distinct.estimate()
    }

    /// The profile: the `max_categories` most frequent categories, the rest
    /// merged into `__other__`. Ties in count are broken by value so the
    /// output does not depend on hashing.
    pub fn finish(&self, limits: &ProfileLimits) -> CategoricalProfile {
        let mut categories: Vec<CategoryCount> = self
            .counts
            .iter()
            .map(|(value, count)| CategoryCount {
                value: value.clone(),
                count: *count,
            })
            .collect();
        categories.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        categories.truncate(limits.max_categories);
        let kept: u64 = categories.iter().map(|c| c.count).sum();
        CategoricalProfile {
            categories,
            other: self.total - kept,
            distinct: self.distinct(),
            exact: self.exact,
        }
    }
}

/// Counts distinct strings: exactly up to `k`, then by the k-minimum-values
/// estimate (relative error about `1/sqrt(k)`), in memory bounded by `k`.
#[derive(Debug, Clone)]
pub struct DistinctEstimator {
    smallest: BTreeSet<u64>,
    k: usize,
}

impl DistinctEstimator {
    /// An estimator keeping the `k` smallest hashes.
    pub fn new(k: usize) -> Self {
        Self {
            smallest: BTreeSet::new(),
            k,
        }
    }

    /// Adds one value.
    pub fn add(&mut self, value: &str) {
        let mut h = FxHasher::default();
        value.hash(&mut h);
        let hash = mix64(h.finish());
        if self.smallest.len() < self.k {
            self.smallest.insert(hash);
        } else if hash < *self.smallest.last().expect("k > 0") && self.smallest.insert(hash) {
            self.smallest.pop_last();
        }
    }

    /// The distinct count: exact below `k`, estimated above.
    pub fn estimate(&self) -> u64 {
        if self.smallest.len() < self.k {
            return self.smallest.len() as u64;
        }
        let kth = *self.smallest.last().expect("k > 0") as f64 / u64::MAX as f64;
        ((self.k - 1) as f64 / kth).round() as u64
    }
}

/// The splitmix64 finaliser: spreads a fast hash's bits evenly over the
/// 64-bit range, as the minimum-values estimate assumes.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Accumulates a free-text column through its descriptors.
#[derive(Debug, Clone)]
pub struct TextAccumulator {
    measure: Arc<TextMeasure>,
    /// One per descriptor of `measure`, in its order.
    descriptors: Vec<NumericAccumulator>,
    /// The column's limits with the smaller descriptor sketch.
    limits: ProfileLimits,
}

impl TextAccumulator {
    /// An empty accumulator of `measure`'s descriptors. Descriptors are
    /// small integers, shares or 0/1 rates, so their sketches are 8× smaller
    /// than a numeric column's (rank error ≈ 2·10⁻⁴ typical; still exact up
    /// to `exact_limit` values): every column that may turn out to be text
    /// carries one per descriptor while its kind is undecided.
    pub fn new(limits: &ProfileLimits, measure: Arc<TextMeasure>) -> Self {
        let limits = ProfileLimits {
            sketch_k: (limits.sketch_k / 8).max(2),
            ..*limits
        };
        Self {
            descriptors: (0..measure.len())
                .map(|_| NumericAccumulator::new(&limits))
                .collect(),
            measure,
            limits,
        }
    }

    /// Adds one text value.
    pub fn add(&mut self, text: &str) {
        (self.measure).measure_into(text, &mut self.descriptors, |acc, x| acc.add(x));
    }

    /// The profile, or `None` for a column without values.
    pub fn finish(&self) -> Option<TextProfile> {
        let descriptors = (self.measure.names())
            .zip(&self.descriptors)
            .map(|(name, acc)| {
                Some(Descriptor {
                    name: name.to_owned(),
                    profile: acc.finish(&self.limits)?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(TextProfile::new(descriptors, self.measure.clone()))
    }
}

/// Accumulates an embedding column: the exact mean of every vector and a
/// uniform sample of at most `embedding_sample` of them (seeded, so a
/// baseline is rebuilt the same).
#[derive(Debug, Clone)]
pub struct EmbeddingAccumulator {
    /// Both made at the first vector, which gives the dimension.
    state: Option<(Centroid, EmbeddingReservoir)>,
    capacity: usize,
}

impl EmbeddingAccumulator {
    /// An empty accumulator.
    pub fn new(limits: &ProfileLimits) -> Self {
        Self {
            state: None,
            capacity: limits.embedding_sample.max(2),
        }
    }

    /// Adds one vector; else why it does not fit (a dimension other than
    /// the first vector's, a component that is not finite).
    pub fn add(&mut self, vector: &[f32]) -> Result<(), String> {
        let (centroid, sample) = match &mut self.state {
            Some(state) => state,
            None => {
                let centroid = Centroid::new(vector.len()).map_err(|e| e.to_string())?;
                let sample = EmbeddingReservoir::new(vector.len(), self.capacity, 0)
                    .map_err(|e| e.to_string())?;
                self.state.insert((centroid, sample))
            }
        };
        centroid.add(vector).map_err(|e| e.to_string())?;
        sample.offer(vector).map_err(|e| e.to_string())
    }

    /// The profile, or `None` for a column without values.
    pub fn finish(&self) -> Option<EmbeddingProfile> {
        let (centroid, sample) = self.state.as_ref()?;
        let rows = sample.rows().flatten().copied().collect();
        EmbeddingProfile::new(centroid.mean()?, rows).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(values: &[f64], limits: &ProfileLimits) -> NumericProfile {
        let mut acc = NumericAccumulator::new(limits);
        values.iter().for_each(|v| acc.add(*v));
        acc.finish(limits).unwrap()
    }

    #[test]
    fn small_column_keeps_every_value_and_numpy_deciles() {
        let values: Vec<f64> = (0..200).map(|i| ((i * 37) % 200) as f64 * 0.5).collect();
        let p = numeric(&values, &ProfileLimits::default());
        let Reference::Exact { values: kept } = &p.reference else {
            panic!("expected exact reference, got {:?}", p.reference);
        };
        assert_eq!(kept.len(), 200);
        assert!(kept.windows(2).all(|w| w[0] <= w[1]));
        // np.quantile(np.arange(200) * 0.5, 0.1) == 9.950000000000001
        assert_eq!(p.bins.edges[0], 9.950000000000001);
        assert_eq!(p.bins.edges.len(), 9);
        assert!(p.bins.proportions.iter().all(|x| (*x - 0.1).abs() < 1e-12));
        assert_eq!((p.min, p.max, p.mean), (0.0, 99.5, 49.75));
    }

    #[test]
    fn few_distinct_values_keep_counts_and_dedupe_edges() {
        let values: Vec<f64> = (0..50_000).map(|i| (i % 3) as f64).collect();
        let p = numeric(&values, &ProfileLimits::default());
        let Reference::Counts { values, counts } = &p.reference else {
            panic!("expected counts");
        };
        assert_eq!(values, &[0.0, 1.0, 2.0]);
        assert_eq!(counts.iter().sum::<u64>(), 50_000);
        // deciles of {0,1,2}: 0,0,0,1,1,1,2,2,2 → unique 0,1,2
        assert_eq!(p.bins.edges, vec![0.0, 1.0, 2.0]);
        assert_eq!(p.bins.proportions[0], 0.0);
        assert_eq!(
            p.distinct,
            Distinct {
                count: 3,
                capped: false
            }
        );
    }

    #[test]
    fn large_column_keeps_a_quantile_summary() {
        let limits = ProfileLimits::default();
        let values: Vec<f64> = (0..100_000u64)
            .map(|i| ((i * 7919) % 100_000) as f64)
            .collect();
        let p = numeric(&values, &limits);
        let Reference::Quantiles {
            quantiles,
            rank_error,
        } = &p.reference
        else {
            panic!("expected quantiles");
        };
        assert_eq!(quantiles.len(), limits.summary_points);
        assert_eq!(quantiles[0], 0.0);
        assert_eq!(*quantiles.last().unwrap(), 99_999.0);
        assert!(*rank_error <= 2e-4);
        assert!(p.distinct.capped);
    }

    #[test]
    fn categories_beyond_the_cap_merge_into_other() {
        let limits = ProfileLimits {
            max_categories: 2,
            ..ProfileLimits::default()
        };
        let mut acc = CategoricalAccumulator::new(&limits);
        for v in ["a", "b", "a", "c", "a", "b"] {
            acc.add(v);
        }
        let p = acc.finish(&limits);
        let got: Vec<(&str, u64)> = p
            .categories
            .iter()
            .map(|c| (c.value.as_str(), c.count))
            .collect();
        assert_eq!(got, vec![("a", 3), ("b", 2)]);
        assert_eq!((p.other, p.distinct, p.exact), (1, 3, true));
    }

    #[test]
    fn distinct_estimate_is_close() {
        let mut d = DistinctEstimator::new(1024);
        for i in 0..200_000 {
            d.add(&format!("v{}", i % 100_000));
        }
        let est = d.estimate() as f64;
        assert!((est / 100_000.0 - 1.0).abs() < 0.1, "estimate {est}");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn small_limits() -> ProfileLimits {
            ProfileLimits {
                exact_limit: 64,
                keep_distinct: 8,
                summary_points: 33,
                sketch_k: 16,
                ..ProfileLimits::default()
            }
        }

        proptest! {
            #[test]
            fn bins_cover_the_reference_in_any_order(
                mut values in prop::collection::vec(-1e6f64..1e6, 1..300),
                seed in any::<u64>(),
            ) {
                let limits = small_limits();
                let p = numeric(&values, &limits);
                let total: f64 = p.bins.proportions.iter().sum();
                prop_assert!((total - 1.0).abs() < 1e-12);
                prop_assert!(p.bins.edges.windows(2).all(|w| w[0] < w[1]));
                prop_assert_eq!(p.bins.proportions.len(), p.bins.edges.len() + 1);
                // Order does not matter while the column is held exactly.
                let n = values.len();
                for i in 0..n {
                    values.swap(i, (seed as usize).wrapping_add(i * 7) % n);
                }
                let q = numeric(&values, &limits);
                if n as u64 <= limits.exact_limit {
                    prop_assert_eq!(&p.reference, &q.reference);
                    prop_assert_eq!(&p.bins, &q.bins);
                }
                prop_assert!(p.min <= p.mean && p.mean <= p.max);
            }

            #[test]
            fn categories_always_add_up(values in prop::collection::vec(0u8..40, 1..500)) {
                let limits = ProfileLimits { max_categories: 5, ..ProfileLimits::default() };
                let mut acc = CategoricalAccumulator::new(&limits);
                for v in &values {
                    acc.add(&v.to_string());
                }
                let p = acc.finish(&limits);
                let kept: u64 = p.categories.iter().map(|c| c.count).sum();
                prop_assert_eq!(kept + p.other, values.len() as u64);
                prop_assert!(p.categories.len() <= 5);
                prop_assert!(p.categories.windows(2).all(|w| w[0].count >= w[1].count));
            }
        }
    }
}
