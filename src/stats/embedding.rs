//! Drift between a window of embedding vectors and a baseline sample of
//! them: the distance between their centroids (cosine and Euclidean, as
//! `scipy.spatial.distance` computes them) and the linear-time kernel
//! two-sample test MMD²_l of Gretton et al. 2012 ("A Kernel Two-Sample Test",
//! JMLR 13, §6) with a Gaussian RBF kernel, its asymptotic Gaussian p-value
//! and a seeded permutation p-value. An [`EmbeddingReservoir`] keeps a
//! bounded uniform sample of a stream of embeddings (Vitter's algorithm R)
//! and a [`Centroid`] accumulates a stream's mean record by record, so that a
//! window's memory is bounded whatever its traffic.
//! `tests/vectors_embedding.rs` checks every statistic against numpy/scipy
//! (`tests/fixtures/embedding_reference.py`).
//!
//! Embeddings are `f32` components (what models emit); every sum, distance
//! and kernel value is computed in `f64`. A sample is a slice of records,
//! each anything that is `AsRef<[f32]>`: `&[Vec<f32>]` as decoded from the
//! wire, or `&[&[f32]]` over flat storage (`flat.chunks_exact(dim)`, which is
//! what [`EmbeddingReservoir::rows`] gives), so both layouts are read in
//! place, without copying the components.
//!
//! Per window the daemon is meant to: feed each record to the window's
//! [`Centroid`] (exact mean of every record) and [`EmbeddingReservoir`]
//! (bounded sample); at close, compare the centroid with the baseline's by
//! [`euclidean_distance`] and [`cosine_distance`], and the reservoir's rows
//! with the baseline's sample by [`linear_mmd`] (asymptotic Gaussian
//! p-value, for large samples) or [`linear_mmd_permutation`] (a p-value valid
//! at any size, for small ones). MMD²_l uses each record in one pair only:
//! it is linear in time and needs no more than the samples' memory, at the
//! price of less power than the quadratic-time MMD² (Gretton et al. §6.1).
//! Every input is validated up front: an empty sample, a record
//! whose dimension differs from the first record's or from the baseline's,
//! and a NaN or infinite component give an [`EmbeddingError`] naming the
//! sample, record and component, never a panic or a silent NaN.

use super::normal::ndtr;
use super::{TestOutcome, pairwise_sum};

/// Why an embedding statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbeddingError {
    /// A sample has no records, or a centroid has had none added.
    #[error("{sample} has no embeddings")]
    Empty { sample: &'static str },
    /// Embeddings of dimension 0 (a sample's first record, or the dimension
    /// a reservoir or centroid was built for).
    #[error("{sample} has embeddings of dimension 0: expected at least one component")]
    ZeroDimension { sample: &'static str },
    /// A record's dimension differs from the first record's of its sample,
    /// a window record's from the baseline's, or one centroid's from the
    /// other's.
    #[error("{sample}[{record}] has dimension {got}: expected {expected}")]
    DimensionMismatch {
        sample: &'static str,
        record: usize,
        expected: usize,
        got: usize,
    },
    /// A component is NaN or infinite.
    #[error("{sample}[{record}][{component}] is {value}: expected a finite number")]
    NonFinite {
        sample: &'static str,
        record: usize,
        component: usize,
        value: f32,
    },
    /// The samples are smaller than the test needs.
    #[error("{test} needs at least {need} embeddings in each sample, got {got}")]
    TooSmall {
        test: &'static str,
        need: usize,
        got: usize,
    },
    /// A centroid is the zero vector, so its direction, and the cosine
    /// distance, are undefined.
    #[error("the {sample} centroid is the zero vector: cosine distance is undefined")]
    ZeroNorm { sample: &'static str },
    /// An explicit kernel bandwidth that is not a finite positive number.
    #[error("kernel bandwidth σ = {sigma}: expected a finite positive number")]
    InvalidBandwidth { sigma: f64 },
    /// The median heuristic gave σ = 0: at least half the pooled pairs
    /// coincide.
    #[error(
        "the median distance between the pooled embeddings is 0 (most of them coincide): \
         the median heuristic gives no kernel bandwidth; pass σ explicitly"
    )]
    ZeroMedianDistance,
    /// A permutation test asked for no permutations.
    #[error("a permutation test needs at least one permutation")]
    NoPermutations,
}

/// The mean of a stream of embeddings, accumulated record by record in
/// `f64` (a count and one sum per component), so a streaming window keeps
/// `dim` numbers whatever its traffic. The mean is `sums / count`, which is
/// what `numpy.mean(X, axis=0)` computes on the records as rows (numpy adds
/// the rows one by one along axis 0, in order, as [`Centroid::add`] does).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Centroid {
    count: u64,
    sums: Vec<f64>,
}

impl Centroid {
    /// An empty centroid of `dim`-dimensional embeddings.
    pub fn new(dim: usize) -> Result<Centroid, EmbeddingError> {
        if dim == 0 {
            return Err(EmbeddingError::ZeroDimension { sample: "centroid" });
        }
        Ok(Centroid {
            count: 0,
            sums: vec![0.0; dim],
        })
    }

    /// The centroid of every record of `rows`, added in order.
    pub fn of<R: AsRef<[f32]>>(rows: &[R]) -> Result<Centroid, EmbeddingError> {
        let dim = check_sample("embeddings", rows)?;
        let mut centroid = Centroid::new(dim)?;
        for row in rows {
            centroid.add_unchecked(row.as_ref());
        }
        Ok(centroid)
    }

    /// Adds one record. A record of another dimension, or with a NaN or
    /// infinite component, is refused (and not counted); the error names it
    /// by its index among the records added so far.
    pub fn add(&mut self, record: &[f32]) -> Result<(), EmbeddingError> {
        let index = self.count as usize;
        check_record("centroid input", index, self.sums.len(), record)?;
        self.add_unchecked(record);
        Ok(())
    }

    fn add_unchecked(&mut self, record: &[f32]) {
        for (sum, &x) in self.sums.iter_mut().zip(record) {
            *sum += f64::from(x);
        }
        self.count += 1;
    }

    /// A centroid known only by its mean (as a baseline keeps it): it
    /// counts as one record at `mean`.
    pub fn at(mean: Vec<f64>) -> Result<Centroid, EmbeddingError> {
        let mut centroid = Centroid::new(mean.len())?;
        centroid.sums = mean;
        centroid.count = 1;
        Ok(centroid)
    }

    /// Adds every record of `other` (of the same dimension).
    pub fn merge(&mut self, other: &Centroid) -> Result<(), EmbeddingError> {
        if other.dim() != self.dim() {
            return Err(EmbeddingError::DimensionMismatch {
                sample: "merged centroid",
                record: 0,
                expected: self.dim(),
                got: other.dim(),
            });
        }
        for (sum, x) in self.sums.iter_mut().zip(&other.sums) {
            *sum += x;
        }
        self.count += other.count;
        Ok(())
    }

    /// Records added so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The dimension of the embeddings.
    pub fn dim(&self) -> usize {
        self.sums.len()
    }

    /// The mean vector; `None` before any record was added.
    pub fn mean(&self) -> Option<Vec<f64>> {
        let n = self.count as f64;
        (self.count > 0).then(|| self.sums.iter().map(|s| s / n).collect())
    }
}

/// The two centroids' means, once both are known non-empty and of one
/// dimension.
fn centroid_means(
    baseline: &Centroid,
    window: &Centroid,
) -> Result<(Vec<f64>, Vec<f64>), EmbeddingError> {
    let mean = |c: &Centroid, sample| c.mean().ok_or(EmbeddingError::Empty { sample });
    let (b, w) = (mean(baseline, "baseline")?, mean(window, "window")?);
    if b.len() != w.len() {
        return Err(EmbeddingError::DimensionMismatch {
            sample: "window centroid",
            record: 0,
            expected: b.len(),
            got: w.len(),
        });
    }
    Ok((b, w))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The Euclidean distance ‖b − w‖ between the baseline's and the window's
/// centroids: `scipy.spatial.distance.euclidean(b, w)`.
pub fn euclidean_distance(baseline: &Centroid, window: &Centroid) -> Result<f64, EmbeddingError> {
    let (b, w) = centroid_means(baseline, window)?;
    let diff: Vec<f64> = b.iter().zip(&w).map(|(x, y)| x - y).collect();
    Ok(dot(&diff, &diff).sqrt())
}

/// The cosine distance 1 − b·w / (‖b‖ ‖w‖) between the baseline's and the
/// window's centroids, in [0, 2]: `scipy.spatial.distance.cosine(b, w)`
/// (`1 - uv / sqrt(uu * vv)`, clipped to [0, 2] as scipy clips it). A zero
/// centroid has no direction: that is [`EmbeddingError::ZeroNorm`], not NaN.
pub fn cosine_distance(baseline: &Centroid, window: &Centroid) -> Result<f64, EmbeddingError> {
    let (b, w) = centroid_means(baseline, window)?;
    let (bb, ww) = (dot(&b, &b), dot(&w, &w));
    for (norm2, sample) in [(bb, "baseline"), (ww, "window")] {
        if norm2 == 0.0 {
            return Err(EmbeddingError::ZeroNorm { sample });
        }
    }
    Ok((1.0 - dot(&b, &w) / (bb * ww).sqrt()).clamp(0.0, 2.0))
}

/// How the Gaussian kernel's bandwidth σ is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Bandwidth {
    /// The median heuristic, [`median_bandwidth`].
    #[default]
    Median,
    /// A given σ (finite, positive), the same for every window: e.g. frozen
    /// when the baseline is built, as [`median_bandwidth`] of its two
    /// halves.
    Fixed(f64),
}

/// Records per sample pooled by the median heuristic.
pub const MEDIAN_POINTS_PER_SAMPLE: usize = 250;

/// The median heuristic bandwidth: σ = the median Euclidean distance over
/// all pairs i < j of the pooled points, which are the first k records of the
/// baseline followed by the first k of the window, k = min(250, m) with m
/// the smaller sample's size (up to 500 points, 124,750 distances):
/// `numpy.median(scipy.spatial.distance.pdist(pooled))`.
pub fn median_bandwidth<B: AsRef<[f32]>, W: AsRef<[f32]>>(
    baseline: &[B],
    window: &[W],
) -> Result<f64, EmbeddingError> {
    check_samples(baseline, window)?;
    median_distance(baseline, window)
}

fn median_distance<B: AsRef<[f32]>, W: AsRef<[f32]>>(
    baseline: &[B],
    window: &[W],
) -> Result<f64, EmbeddingError> {
    let k = baseline
        .len()
        .min(window.len())
        .min(MEDIAN_POINTS_PER_SAMPLE);
    let pooled: Vec<&[f32]> = (baseline[..k].iter().map(AsRef::as_ref))
        .chain(window[..k].iter().map(AsRef::as_ref))
        .collect();
    let mut distances = Vec::with_capacity(pooled.len() * (pooled.len() - 1) / 2);
    for (i, a) in pooled.iter().enumerate() {
        distances.extend(
            pooled[i + 1..]
                .iter()
                .map(|b| squared_distance(a, b).sqrt()),
        );
    }
    let sigma = median(&mut distances);
    if sigma == 0.0 {
        return Err(EmbeddingError::ZeroMedianDistance);
    }
    Ok(sigma)
}

/// `numpy.median` of a non-empty slice (reordered in place): the middle
/// value, or the mean of the two middle values.
fn median(values: &mut [f64]) -> f64 {
    let (mid, odd) = (values.len() / 2, values.len() % 2 == 1);
    let (lower, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if odd {
        return upper;
    }
    let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (below + upper) / 2.0
}

/// ‖a − b‖², summed in `f64` in component order.
fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum()
}

/// The linear-time MMD² estimate and its asymptotic Gaussian test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearMmd {
    /// MMD²_l: the mean of the h-values over the pairs (can be negative).
    pub mmd2: f64,
    /// Its estimated variance: the h-values' sample variance (ddof = 1)
    /// over the number of pairs.
    pub variance: f64,
    /// One-sided p-value P(N(0, variance) ≥ mmd2) = Φ(−mmd2 / √variance)
    /// (`scipy.stats.norm.sf`).
    pub p_value: f64,
    /// The kernel bandwidth σ used.
    pub sigma: f64,
    /// Number of pairs averaged: ⌊m / 2⌋, m the smaller sample's size.
    pub pairs: usize,
}

/// The Gaussian test needs two h-values for a variance.
const GAUSSIAN_TEST_MIN: usize = 4;
/// The permutation test needs one h-value.
const PERMUTATION_TEST_MIN: usize = 2;

/// Linear-time MMD² between `baseline` and `window` with the Gaussian
/// kernel k(a, b) = exp(−‖a − b‖² / (2σ²)), and its asymptotic Gaussian
/// p-value (Gretton et al. 2012, §6, Corollary 16; one-sided: large MMD²
/// means drift). Both samples are cut to the same even size 2p, p = ⌊m / 2⌋,
/// m = min of their sizes, keeping their first 2p records in order, so the
/// result does not depend on anything but the inputs. With x, y those
/// records, MMD²_l is the mean over i < p of
/// h_i = k(x₂ᵢ, x₂ᵢ₊₁) + k(y₂ᵢ, y₂ᵢ₊₁) − k(x₂ᵢ, y₂ᵢ₊₁) − k(x₂ᵢ₊₁, y₂ᵢ).
/// Its null variance is estimated as var(h, ddof = 1) / p; when every h is
/// equal (variance 0) the p-value is that of a point mass at 0: 1 when
/// MMD²_l ≤ 0, else 0. Needs m ≥ 4. Cost: 4p kernel evaluations of `dim`
/// components each, plus up to 124,750 distances for [`Bandwidth::Median`].
pub fn linear_mmd<B: AsRef<[f32]>, W: AsRef<[f32]>>(
    baseline: &[B],
    window: &[W],
    bandwidth: Bandwidth,
) -> Result<LinearMmd, EmbeddingError> {
    let Paired { x, y, sigma } = prepare(
        "linear MMD test",
        GAUSSIAN_TEST_MIN,
        baseline,
        window,
        bandwidth,
    )?;
    let mut h = Vec::new();
    h_values(&x, &y, sigma, &mut h);
    let pairs = h.len();
    let mmd2 = pairwise_sum(&h) / pairs as f64;
    let deviations: Vec<f64> = h.iter().map(|v| (v - mmd2) * (v - mmd2)).collect();
    let variance = pairwise_sum(&deviations) / (pairs - 1) as f64 / pairs as f64;
    let p_value = if variance > 0.0 {
        ndtr(-(mmd2 / variance.sqrt()))
    } else if mmd2 <= 0.0 {
        1.0
    } else {
        0.0
    };
    Ok(LinearMmd {
        mmd2,
        variance,
        p_value,
        sigma,
        pairs,
    })
}

/// MMD²_l as [`linear_mmd`] computes it, with a permutation p-value: the
/// first 2p records of each sample are pooled, and `permutations` times
/// shuffled (Fisher–Yates, from a generator seeded with `seed`) and split
/// into two halves whose MMD²_l is recomputed with the same σ;
/// p = (1 + #{permuted ≥ observed}) / (1 + permutations). Valid at any
/// sample size m ≥ 2, so it is the test for small windows; it costs
/// `permutations` times [`linear_mmd`]'s kernel evaluations. The same
/// inputs and seed give the same p-value (for one version of `fastrand`).
pub fn linear_mmd_permutation<B: AsRef<[f32]>, W: AsRef<[f32]>>(
    baseline: &[B],
    window: &[W],
    bandwidth: Bandwidth,
    permutations: usize,
    seed: u64,
) -> Result<TestOutcome, EmbeddingError> {
    if permutations == 0 {
        return Err(EmbeddingError::NoPermutations);
    }
    let test = "linear MMD permutation test";
    let Paired { x, y, sigma } = prepare(test, PERMUTATION_TEST_MIN, baseline, window, bandwidth)?;
    let mut h = Vec::new();
    let observed = mean_h(&x, &y, sigma, &mut h);
    let mut pooled = [x, y].concat();
    let half = pooled.len() / 2;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut as_large = 0usize;
    for _ in 0..permutations {
        rng.shuffle(&mut pooled);
        let (px, py) = pooled.split_at(half);
        if mean_h(px, py, sigma, &mut h) >= observed {
            as_large += 1;
        }
    }
    Ok(TestOutcome {
        statistic: observed,
        p_value: (1 + as_large) as f64 / (1 + permutations) as f64,
    })
}

/// The records a linear MMD pairs up: the first 2p of each sample, and σ.
struct Paired<'a> {
    x: Vec<&'a [f32]>,
    y: Vec<&'a [f32]>,
    sigma: f64,
}

/// Validates both samples and picks the records and σ a test uses.
fn prepare<'a, B: AsRef<[f32]>, W: AsRef<[f32]>>(
    test: &'static str,
    need: usize,
    baseline: &'a [B],
    window: &'a [W],
    bandwidth: Bandwidth,
) -> Result<Paired<'a>, EmbeddingError> {
    check_samples(baseline, window)?;
    let m = baseline.len().min(window.len());
    if m < need {
        return Err(EmbeddingError::TooSmall { test, need, got: m });
    }
    let sigma = match bandwidth {
        Bandwidth::Median => median_distance(baseline, window)?,
        Bandwidth::Fixed(sigma) if sigma.is_finite() && sigma > 0.0 => sigma,
        Bandwidth::Fixed(sigma) => return Err(EmbeddingError::InvalidBandwidth { sigma }),
    };
    let used = m - m % 2;
    let x = baseline[..used].iter().map(AsRef::as_ref).collect();
    let y = window[..used].iter().map(AsRef::as_ref).collect();
    Ok(Paired { x, y, sigma })
}

/// MMD²_l: the mean of the h-values (kept in `h`, a reused buffer).
fn mean_h(x: &[&[f32]], y: &[&[f32]], sigma: f64, h: &mut Vec<f64>) -> f64 {
    h_values(x, y, sigma, h);
    pairwise_sum(h) / h.len() as f64
}

/// Gretton's h over consecutive pairs of records of `x` and `y` (of one
/// even length), written into `h`.
fn h_values(x: &[&[f32]], y: &[&[f32]], sigma: f64, h: &mut Vec<f64>) {
    let two_sigma2 = 2.0 * sigma * sigma;
    let k = |a: &[f32], b: &[f32]| (-squared_distance(a, b) / two_sigma2).exp();
    h.clear();
    h.extend(
        x.chunks_exact(2)
            .zip(y.chunks_exact(2))
            .map(|(x, y)| k(x[0], x[1]) + k(y[0], y[1]) - k(x[0], y[1]) - k(x[1], y[0])),
    );
}

/// A uniform sample of at most `capacity` embeddings from a stream of any
/// length (Vitter's algorithm R: the first `capacity` records are kept, then
/// the i-th replaces a random kept one with probability capacity / i), stored
/// flat: `capacity × dim` components at most, whatever the traffic. The
/// random stream is seeded, so the same records and seed keep the same
/// sample.
#[derive(Debug, Clone)]
pub struct EmbeddingReservoir {
    dim: usize,
    capacity: usize,
    /// Records offered and accepted so far.
    seen: u64,
    /// The kept records, row after row.
    values: Vec<f32>,
    rng: fastrand::Rng,
}

impl EmbeddingReservoir {
    /// An empty reservoir of at most `capacity` records of dimension `dim`.
    pub fn new(dim: usize, capacity: usize, seed: u64) -> Result<Self, EmbeddingError> {
        if dim == 0 {
            return Err(EmbeddingError::ZeroDimension {
                sample: "reservoir",
            });
        }
        Ok(EmbeddingReservoir {
            dim,
            capacity,
            seen: 0,
            values: Vec::new(),
            rng: fastrand::Rng::with_seed(seed),
        })
    }

    /// Offers one record. A record of another dimension, or with a NaN or
    /// infinite component, is refused (and not counted); the error names it
    /// by its index among the records accepted so far.
    pub fn offer(&mut self, record: &[f32]) -> Result<(), EmbeddingError> {
        check_record("reservoir input", self.seen as usize, self.dim, record)?;
        self.seen += 1;
        if self.len() < self.capacity {
            self.values.extend_from_slice(record);
            return Ok(());
        }
        let slot = self.rng.u64(..self.seen) as usize;
        if slot < self.capacity {
            self.values[slot * self.dim..(slot + 1) * self.dim].copy_from_slice(record);
        }
        Ok(())
    }

    /// The kept records, in slot order: collect them
    /// (`reservoir.rows().collect::<Vec<_>>()`) to pass them as a sample.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.values.chunks_exact(self.dim)
    }

    /// Records kept: min(seen, capacity).
    pub fn len(&self) -> usize {
        self.values.len() / self.dim
    }

    /// Whether no record was kept.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Records accepted so far, kept or not.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The dimension of the embeddings.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The most records kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// Checks one record against the dimension `dim` and for finite
/// components.
fn check_record(
    sample: &'static str,
    record: usize,
    dim: usize,
    values: &[f32],
) -> Result<(), EmbeddingError> {
    if values.len() != dim {
        return Err(EmbeddingError::DimensionMismatch {
            sample,
            record,
            expected: dim,
            got: values.len(),
        });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(component) => Err(EmbeddingError::NonFinite {
            sample,
            record,
            component,
            value: values[component],
        }),
        None => Ok(()),
    }
}

/// Checks that `rows` is non-empty, of one non-zero dimension and finite;
/// returns the dimension.
fn check_sample<R: AsRef<[f32]>>(
    sample: &'static str,
    rows: &[R],
) -> Result<usize, EmbeddingError> {
    let first = rows.first().ok_or(EmbeddingError::Empty { sample })?;
    let dim = first.as_ref().len();
    if dim == 0 {
        return Err(EmbeddingError::ZeroDimension { sample });
    }
    check_rows(sample, rows, dim)?;
    Ok(dim)
}

/// Checks every record of `rows` against the dimension `dim` and for finite
/// components.
fn check_rows<R: AsRef<[f32]>>(
    sample: &'static str,
    rows: &[R],
    dim: usize,
) -> Result<(), EmbeddingError> {
    rows.iter()
        .enumerate()
        .try_for_each(|(record, row)| check_record(sample, record, dim, row.as_ref()))
}

/// Checks both samples: each non-empty and finite, every record of the
/// window of the baseline's dimension.
fn check_samples<B: AsRef<[f32]>, W: AsRef<[f32]>>(
    baseline: &[B],
    window: &[W],
) -> Result<(), EmbeddingError> {
    let dim = check_sample("baseline", baseline)?;
    if window.is_empty() {
        return Err(EmbeddingError::Empty { sample: "window" });
    }
    check_rows("window", window, dim)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` records of `dim` components uniform on [shift, shift + scale).
    fn uniform(
        rng: &mut fastrand::Rng,
        n: usize,
        dim: usize,
        shift: f32,
        scale: f32,
    ) -> Vec<Vec<f32>> {
        (0..n)
            .map(|_| (0..dim).map(|_| shift + scale * rng.f32()).collect())
            .collect()
    }

    #[test]
    fn samples_are_checked_record_by_record() {
        let two = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
        let empty: Vec<Vec<f32>> = vec![];
        let bandwidth = |b: &[Vec<f32>], w: &[Vec<f32>]| median_bandwidth(b, w).unwrap_err();
        assert_eq!(
            bandwidth(&empty, &two),
            EmbeddingError::Empty { sample: "baseline" }
        );
        assert_eq!(
            bandwidth(&two, &empty),
            EmbeddingError::Empty { sample: "window" }
        );
        assert_eq!(
            bandwidth(&[vec![]], &two),
            EmbeddingError::ZeroDimension { sample: "baseline" }
        );
        let ragged = bandwidth(&[vec![1.0, 2.0], vec![1.0]], &two);
        assert_eq!(
            ragged.to_string(),
            "baseline[1] has dimension 1: expected 2"
        );
        let wider = bandwidth(&two, &[vec![1.0, 2.0], vec![1.0, 2.0, 3.0]]);
        assert_eq!(
            wider,
            EmbeddingError::DimensionMismatch {
                sample: "window",
                record: 1,
                expected: 2,
                got: 3
            }
        );
        let nan = bandwidth(&two, &[vec![1.0, 2.0], vec![3.0, f32::NAN]]);
        assert_eq!(
            nan.to_string(),
            "window[1][1] is NaN: expected a finite number"
        );
        let inf = bandwidth(&[vec![f32::NEG_INFINITY, 0.0]], &two);
        assert_eq!(
            inf.to_string(),
            "baseline[0][0] is -inf: expected a finite number"
        );
    }

    #[test]
    fn a_centroid_streams_the_mean_and_refuses_bad_records() {
        let rows = [vec![1.0, 2.0], vec![3.0, -2.0], vec![0.5, 0.0]];
        let mut streamed = Centroid::new(2).unwrap();
        assert_eq!(streamed.mean(), None);
        for row in &rows {
            streamed.add(row).unwrap();
        }
        assert_eq!(streamed, Centroid::of(&rows).unwrap());
        assert_eq!(streamed.mean(), Some(vec![1.5, 0.0]));
        assert_eq!(
            streamed.add(&[1.0]).unwrap_err().to_string(),
            "centroid input[3] has dimension 1: expected 2"
        );
        assert!(matches!(
            streamed.add(&[1.0, f32::INFINITY]),
            Err(EmbeddingError::NonFinite {
                record: 3,
                component: 1,
                ..
            })
        ));
        assert_eq!((streamed.count(), streamed.dim()), (3, 2));
        assert_eq!(
            Centroid::new(0),
            Err(EmbeddingError::ZeroDimension { sample: "centroid" })
        );
    }

    #[test]
    fn centroid_distances_of_known_vectors() {
        let b = Centroid::of(&[[2.0_f32, 0.0], [0.0, 0.0]]).unwrap(); // (1, 0)
        let w = Centroid::of(&[[0.0_f32, 2.0]]).unwrap(); // (0, 2)
        assert_eq!(euclidean_distance(&b, &w), Ok(5.0_f64.sqrt()));
        assert_eq!(cosine_distance(&b, &w), Ok(1.0));
        let opposite = Centroid::of(&[[-3.0_f32, 0.0]]).unwrap();
        assert_eq!(cosine_distance(&b, &opposite), Ok(2.0));
        assert_eq!(cosine_distance(&b, &b), Ok(0.0));
    }

    #[test]
    fn centroid_distances_say_when_they_are_undefined() {
        let b = Centroid::of(&[[1.0_f32, 1.0]]).unwrap();
        let zero = Centroid::of(&[[1.0_f32, -1.0], [-1.0, 1.0]]).unwrap();
        assert_eq!(
            cosine_distance(&b, &zero).unwrap_err().to_string(),
            "the window centroid is the zero vector: cosine distance is undefined"
        );
        assert_eq!(euclidean_distance(&b, &zero), Ok(2.0_f64.sqrt()));
        let empty = Centroid::new(2).unwrap();
        assert_eq!(
            euclidean_distance(&empty, &b),
            Err(EmbeddingError::Empty { sample: "baseline" })
        );
        let three = Centroid::of(&[[1.0_f32, 1.0, 1.0]]).unwrap();
        assert_eq!(
            cosine_distance(&b, &three).unwrap_err().to_string(),
            "window centroid[0] has dimension 3: expected 2"
        );
    }

    #[test]
    fn median_is_numpys() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [7.0]), 7.0);
    }

    #[test]
    fn the_median_heuristic_pools_the_first_250_of_each_sample() {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut b = uniform(&mut rng, 260, 2, 0.0, 1.0);
        let mut w = uniform(&mut rng, 300, 2, 0.5, 1.0);
        let sigma = median_bandwidth(&b, &w).unwrap();
        b[250..].iter_mut().for_each(|r| r[0] = 1e6);
        w.truncate(251);
        assert_eq!(median_bandwidth(&b, &w), Ok(sigma));
        // With fewer than 250 records, the smaller sample sets k.
        assert_eq!(
            median_bandwidth(&b[..2], &w).unwrap(),
            median_bandwidth(&b[..2], &w[..2]).unwrap()
        );
    }

    #[test]
    fn bandwidths_must_be_positive() {
        let same = vec![vec![1.0_f32, 1.0]; 6];
        let mut rng = fastrand::Rng::with_seed(2);
        let other = uniform(&mut rng, 6, 2, 0.0, 1.0);
        assert_eq!(
            linear_mmd(&same, &same, Bandwidth::Median),
            Err(EmbeddingError::ZeroMedianDistance)
        );
        for sigma in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                linear_mmd(&same, &other, Bandwidth::Fixed(sigma)),
                Err(EmbeddingError::InvalidBandwidth { .. })
            ));
        }
    }

    #[test]
    fn linear_mmd_uses_the_first_even_number_of_common_records() {
        let mut rng = fastrand::Rng::with_seed(3);
        let b = uniform(&mut rng, 9, 3, 0.0, 1.0);
        let w = uniform(&mut rng, 7, 3, 0.2, 1.0);
        let sigma = Bandwidth::Fixed(0.8);
        let mmd = linear_mmd(&b, &w, sigma).unwrap();
        assert_eq!(mmd.pairs, 3);
        assert_eq!(linear_mmd(&b[..6], &w[..6], sigma), Ok(mmd));
        assert_eq!(
            linear_mmd(&b[..3], &w, sigma),
            Err(EmbeddingError::TooSmall {
                test: "linear MMD test",
                need: 4,
                got: 3
            })
        );
    }

    #[test]
    fn identical_samples_have_no_discrepancy() {
        let mut rng = fastrand::Rng::with_seed(4);
        let b = uniform(&mut rng, 10, 4, 0.0, 1.0);
        let mmd = linear_mmd(&b, &b, Bandwidth::Median).unwrap();
        assert_eq!((mmd.mmd2, mmd.variance, mmd.p_value), (0.0, 0.0, 1.0));
    }

    #[test]
    fn the_gaussian_test_sees_a_clear_shift() {
        let mut rng = fastrand::Rng::with_seed(5);
        let b = uniform(&mut rng, 400, 8, 0.0, 1.0);
        let w = uniform(&mut rng, 400, 8, 0.5, 1.0);
        assert!(linear_mmd(&b, &w, Bandwidth::Median).unwrap().p_value < 1e-6);
    }

    #[test]
    fn permutation_p_values_are_uniform_under_the_null() {
        // 200 seeded repeats of 40 vs 40 records from one distribution, 99
        // permutations each: p ≤ 0.05 has probability exactly 5/100, so the
        // count is binomial(200, 0.05), 10 ± 3.1; the band 2..=20 is ±3.2 sd.
        // p ≤ 0.5 (probability 1/2): 100 ± 7.1, band 79..=121 (±3 sd).
        let mut rng = fastrand::Rng::with_seed(6);
        let (mut small, mut half) = (0, 0);
        for seed in 0..200 {
            let b = uniform(&mut rng, 40, 2, 0.0, 1.0);
            let w = uniform(&mut rng, 40, 2, 0.0, 1.0);
            let p = linear_mmd_permutation(&b, &w, Bandwidth::Median, 99, seed)
                .unwrap()
                .p_value;
            small += usize::from(p <= 0.05);
            half += usize::from(p <= 0.5);
        }
        assert!((2..=20).contains(&small), "{small} of 200 have p <= 0.05");
        assert!((79..=121).contains(&half), "{half} of 200 have p <= 0.5");
    }

    #[test]
    fn permutation_p_value_is_tiny_under_a_clear_shift_and_reproducible() {
        let mut rng = fastrand::Rng::with_seed(7);
        let b = uniform(&mut rng, 60, 4, 0.0, 1.0);
        let w = uniform(&mut rng, 60, 4, 1.0, 1.0);
        let outcome = linear_mmd_permutation(&b, &w, Bandwidth::Median, 199, 42).unwrap();
        assert_eq!(outcome.p_value, 1.0 / 200.0);
        let gaussian = linear_mmd(&b, &w, Bandwidth::Median).unwrap();
        assert_eq!(outcome.statistic, gaussian.mmd2);
        assert_eq!(
            linear_mmd_permutation(&b, &w, Bandwidth::Median, 199, 42),
            Ok(outcome)
        );
        assert_eq!(
            linear_mmd_permutation(&b, &w, Bandwidth::Median, 0, 42),
            Err(EmbeddingError::NoPermutations)
        );
        assert!(linear_mmd_permutation(&b[..2], &w[..2], Bandwidth::Fixed(1.0), 9, 1).is_ok());
    }

    #[test]
    fn a_reservoir_keeps_everything_below_its_capacity() {
        let mut r = EmbeddingReservoir::new(2, 5, 9).unwrap();
        assert!(r.is_empty());
        for i in 0..3 {
            r.offer(&[i as f32, 1.0]).unwrap();
        }
        let kept: Vec<&[f32]> = r.rows().collect();
        assert_eq!(kept, [[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]);
        assert_eq!((r.len(), r.seen(), r.dim(), r.capacity()), (3, 3, 2, 5));
        assert_eq!(
            r.offer(&[1.0]).unwrap_err().to_string(),
            "reservoir input[3] has dimension 1: expected 2"
        );
        assert!(matches!(
            r.offer(&[f32::NAN, 0.0]),
            Err(EmbeddingError::NonFinite {
                record: 3,
                component: 0,
                ..
            })
        ));
        assert_eq!(r.seen(), 3);
        assert_eq!(
            EmbeddingReservoir::new(0, 5, 9).unwrap_err(),
            EmbeddingError::ZeroDimension {
                sample: "reservoir"
            }
        );
    }

    #[test]
    fn a_reservoir_holds_a_bounded_uniform_sample() {
        let n = 100_000;
        let sample = |seed| {
            let mut r = EmbeddingReservoir::new(3, 1000, seed).unwrap();
            for i in 0..n {
                r.offer(&[i as f32, 0.0, 1.0]).unwrap();
            }
            r
        };
        let r = sample(11);
        assert_eq!((r.len(), r.seen()), (1000, n as u64));
        // Each decile of the stream holds about a tenth of the sample: 100 ±
        // 4.7 standard deviations (binomial, n = 1000, p = 0.1).
        for decile in 0..10 {
            let (low, high) = ((decile * n / 10) as f32, ((decile + 1) * n / 10) as f32);
            let inside = r
                .rows()
                .filter(|row| low <= row[0] && row[0] < high)
                .count();
            assert!((55..=145).contains(&inside), "decile {decile}: {inside}");
        }
        assert!(sample(11).rows().eq(r.rows()), "the seed fixes the sample");
    }
}
