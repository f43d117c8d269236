//! A mergeable quantile sketch for numeric columns too large to keep whole.
//!
//! It is a stack of compactors in the manner of KLL (Karnin, Lang and Liberty,
//! 2016) with equal capacities: level `h` holds items of weight `2^h`; when a
//! level reaches `k` items it is sorted and every other item (from a random
//! offset) moves up a level with twice the weight. Each compaction moves the
//! rank of any point by at most one item's weight, in a random direction, so
//! the rank error of a query over `n` inserted values has a standard deviation
//! of about `n / (k·√2)`: with the default `k = 65536` that is ≈ 1.1·10⁻⁵ of
//! the rank, and the deterministic worst case is `log2(n/k) / k` (≈ 6·10⁻⁵ at
//! n = 10⁶, 1.2·10⁻⁴ at 10⁷). Memory is `k · log2(n/k)` values, bounded by configuration and
//! growing only logarithmically with traffic. Up to `k` values the sketch is
//! exact. The random offsets come from a fixed-seed generator, so the same
//! input always gives the same baseline.

use crate::stats::lerp;

/// Capacity of one compactor level: the sketch is exact up to this many values.
pub const DEFAULT_K: usize = 65_536;

/// A quantile sketch over finite `f64` values.
#[derive(Debug, Clone)]
pub struct QuantileSketch {
    k: usize,
    levels: Vec<Vec<f64>>,
    count: u64,
    rng: u64,
}

impl Default for QuantileSketch {
    fn default() -> Self {
        Self::new(DEFAULT_K)
    }
}

impl QuantileSketch {
    /// A sketch whose levels hold `k` values each (`k` is rounded up to even).
    pub fn new(k: usize) -> Self {
        Self {
            k: k.max(2).next_multiple_of(2),
            levels: vec![Vec::new()],
            count: 0,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Values per level: the sketch is exact up to this many.
    pub fn capacity(&self) -> usize {
        self.k
    }

    /// Number of values inserted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// True while no compaction has happened, i.e. every value is held.
    pub fn is_exact(&self) -> bool {
        self.levels.len() == 1
    }

    /// Adds one finite value.
    pub fn insert(&mut self, value: f64) {
        debug_assert!(value.is_finite());
        self.count += 1;
        self.levels[0].push(value);
        if self.levels[0].len() >= self.k {
            self.compact(0);
        }
    }

    /// Folds `other` into `self`.
    pub fn merge(&mut self, other: &QuantileSketch) {
        self.count += other.count;
        for (h, items) in other.levels.iter().enumerate() {
            if self.levels.len() <= h {
                self.levels.push(Vec::new());
            }
            self.levels[h].extend_from_slice(items);
        }
        for h in 0..self.levels.len() {
            if self.levels[h].len() >= self.k {
                self.compact(h);
            }
        }
    }

    fn compact(&mut self, h: usize) {
        let mut items = std::mem::take(&mut self.levels[h]);
        items.sort_unstable_by(f64::total_cmp);
        // An odd item out stays at this level so no weight is lost.
        let keep = if items.len() % 2 == 1 {
            items.pop()
        } else {
            None
        };
        let offset = (self.next_random() & 1) as usize;
        if self.levels.len() == h + 1 {
            self.levels.push(Vec::with_capacity(self.k));
        }
        let promoted = items.iter().skip(offset).step_by(2).copied();
        self.levels[h + 1].extend(promoted);
        items.clear();
        items.extend(keep);
        self.levels[h] = items;
        if self.levels[h + 1].len() >= self.k {
            self.compact(h + 1);
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: deterministic, good enough for fair coin flips.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Every retained value with its weight, sorted by value.
    pub fn weighted_items(&self) -> Vec<(f64, u64)> {
        let mut items: Vec<(f64, u64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(h, level)| level.iter().map(move |v| (*v, 1u64 << h)))
            .collect();
        items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        items
    }
}

/// A sorted, weighted view of a sketch for rank and quantile queries.
#[derive(Debug, Clone)]
pub struct SortedWeighted {
    values: Vec<f64>,
    /// `cumulative[i]` = total weight of `values[..=i]`.
    cumulative: Vec<u64>,
}

impl SortedWeighted {
    /// Builds the view from a sketch.
    pub fn from_sketch(sketch: &QuantileSketch) -> Self {
        let (values, weights): (Vec<f64>, Vec<u64>) = sketch.weighted_items().into_iter().unzip();
        Self::from_counts(&values, &weights)
    }

    /// An exact view of distinct sorted `values` with their `counts`.
    pub fn from_counts(values: &[f64], counts: &[u64]) -> Self {
        let mut total = 0u64;
        let cumulative = counts
            .iter()
            .map(|c| {
                total += c;
                total
            })
            .collect();
        Self {
            values: values.to_vec(),
            cumulative,
        }
    }

    /// The retained values, sorted.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Total weight (the number of values the sketch summarises).
    pub fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Weight of the values strictly below `x`.
    pub fn rank_below(&self, x: f64) -> u64 {
        let i = self.values.partition_point(|v| *v < x);
        if i == 0 { 0 } else { self.cumulative[i - 1] }
    }

    /// The value of 0-based rank `r` (the smallest value whose cumulative
    /// weight exceeds `r`).
    pub fn value_at_rank(&self, r: u64) -> f64 {
        let i = self.cumulative.partition_point(|c| *c <= r);
        self.values[i.min(self.values.len() - 1)]
    }

    /// The `p`-quantile with numpy's default linear interpolation between
    /// the values of ranks `floor((n-1)p)` and the next one.
    pub fn quantile(&self, p: f64) -> f64 {
        let n = self.total();
        let h = (n - 1) as f64 * p;
        let lo = h.floor();
        let a = self.value_at_rank(lo as u64);
        let b = self.value_at_rank((lo as u64 + 1).min(n - 1));
        lerp(a, b, h - lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_rank_below(sorted: &[f64], x: f64) -> u64 {
        sorted.partition_point(|v| *v < x) as u64
    }

    #[test]
    fn exact_below_capacity() {
        let mut s = QuantileSketch::new(64);
        for i in (0..50).rev() {
            s.insert(i as f64);
        }
        assert!(s.is_exact());
        let view = SortedWeighted::from_sketch(&s);
        assert_eq!(view.total(), 50);
        assert_eq!(view.rank_below(10.0), 10);
        assert_eq!(view.quantile(0.5), 24.5);
    }

    #[test]
    fn rank_error_is_small_on_a_million_values() {
        let n = 1_000_000u64;
        let mut s = QuantileSketch::default();
        // A deterministic shuffle of 0..n (multiplicative permutation).
        let values: Vec<f64> = (0..n).map(|i| ((i * 7_919) % n) as f64).collect();
        for v in &values {
            s.insert(*v);
        }
        assert!(!s.is_exact());
        let view = SortedWeighted::from_sketch(&s);
        assert_eq!(view.total(), n);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let mut worst = 0f64;
        for q in 1..1000 {
            let x = (q * n / 1000) as f64 + 0.5;
            let err = view.rank_below(x).abs_diff(exact_rank_below(&sorted, x));
            worst = worst.max(err as f64 / n as f64);
        }
        assert!(worst <= 1e-4, "worst rank error {worst}");
    }

    #[test]
    fn merge_keeps_count_and_accuracy() {
        let mut a = QuantileSketch::new(1024);
        let mut b = QuantileSketch::new(1024);
        for i in 0..100_000 {
            if i % 3 == 0 { &mut a } else { &mut b }.insert(i as f64);
        }
        a.merge(&b);
        let view = SortedWeighted::from_sketch(&a);
        assert_eq!(view.total(), 100_000);
        let err = view.rank_below(50_000.0).abs_diff(50_000);
        assert!(err < 100_000 / 100, "rank error {err}");
    }
}
