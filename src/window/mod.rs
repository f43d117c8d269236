//! Live windows: what a model's traffic adds up to between two evaluations.
//! A [`LiveWindow`] is a bag of per-column accumulators fed with validated
//! batches at ingest — no statistic is computed here — and closed into a
//! [`Sample`] that `detect` compares with the baseline.
//!
//! Memory is bounded by configuration, never by traffic
//! ([`WindowLimits`]): a numeric column (and each descriptor of a text
//! column) keeps a uniform reservoir sample of at most `reservoir` values
//! (Vitter's algorithm R, exact until the reservoir fills), and a
//! categorical column counts every baseline category plus at most
//! `max_new_categories` categories the baseline never saw; further new ones
//! are counted together as [`OTHER_CATEGORY`]. An embedding column keeps
//! the mean of every vector and a uniform sample of at most
//! [`EMBEDDING_ROWS`] vectors. Missing values and records are always counted
//! exactly.
//!
//! Beside the columns, a window keeps the records' operational metrics (the
//! `metrics` maps, [`MetricStreams`]): exact counts and sums, and a
//! reservoir per key for percentiles, for at most `max_metrics` keys.
//!
//! Windows are tumbling: a window closes when it holds its configured number
//! of records or has been open its configured duration, and the next opens
//! empty. A batch is never split between two windows, so a count window may
//! close with a few more records than configured (at most a batch more); its
//! report says how many it held.

mod streams;

pub use streams::{MetricStreams, STREAM_STATS, StreamStats};

use crate::baseline::{Baseline, OTHER_CATEGORY, Profile};
use crate::detect::{ColumnSample, EmbeddingValues, Sample, TextValues, Values, WindowSpan};
use crate::schema::Kind;
use crate::schema::text::TextMeasure;
use crate::stats::embedding::Centroid;
use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The bounds on a window's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimits {
    /// Values kept per numeric column and per text descriptor.
    pub reservoir: usize,
    /// Categories the baseline never saw that are counted one by one, per
    /// column.
    pub max_new_categories: usize,
    /// Distinct `metrics` keys followed.
    pub max_metrics: usize,
}

impl Default for WindowLimits {
    /// 10,000 values per column (the baseline's default exact limit, so
    /// tests up to that size see every value) and 1,000 new categories.
    fn default() -> Self {
        WindowLimits {
            reservoir: 10_000,
            max_new_categories: 1_000,
            max_metrics: 32,
        }
    }
}

/// What a model's windows are shaped by: its baseline's columns and the
/// limits. Built once per model and shared by all its windows.
#[derive(Debug, Clone)]
pub struct WindowShape {
    columns: Vec<ShapeColumn>,
    limits: WindowLimits,
}

#[derive(Debug, Clone)]
struct ShapeColumn {
    name: String,
    kind: Kind,
    /// A categorical column's baseline categories: they are always counted.
    known: FxHashSet<String>,
    /// What a text column's texts are measured by.
    text: Option<Arc<TextMeasure>>,
    /// An embedding column's dimension (else 0).
    dimension: usize,
}

impl WindowShape {
    /// The shape of windows compared with `baseline`.
    pub fn new(baseline: &Baseline, limits: WindowLimits) -> WindowShape {
        let columns = baseline
            .columns
            .iter()
            .map(|c| ShapeColumn {
                name: c.name.clone(),
                kind: c.profile.kind(),
                known: match &c.profile {
                    Profile::Categorical(p) => {
                        p.categories.iter().map(|c| c.value.clone()).collect()
                    }
                    _ => FxHashSet::default(),
                },
                text: match &c.profile {
                    Profile::Text(p) => Some(p.measure().clone()),
                    _ => None,
                },
                dimension: match &c.profile {
                    Profile::Embedding(p) => p.dimension(),
                    _ => 0,
                },
            })
            .collect();
        WindowShape { columns, limits }
    }

    /// The limits windows of this shape keep to.
    pub fn limits(&self) -> WindowLimits {
        self.limits
    }

    /// Whether a window (restored from a snapshot) has this shape's columns.
    pub fn fits(&self, window: &LiveWindow) -> bool {
        window.columns.len() == self.columns.len()
            && window
                .columns
                .iter()
                .zip(&self.columns)
                .all(|(w, s)| w.name == s.name && w.values.fits(s))
    }
}

/// The open window of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveWindow {
    /// When the window opened.
    pub opened: DateTime<Utc>,
    /// Records accepted into it.
    pub records: u64,
    columns: Vec<LiveColumn>,
    /// The records' operational metrics (absent from older snapshots).
    #[serde(default)]
    streams: MetricStreams,
    /// The reservoirs' random state (SplitMix64), saved with the window so
    /// that a restored window samples on as it would have.
    rng: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LiveColumn {
    name: String,
    missing: u64,
    values: LiveValues,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
enum LiveValues {
    Numeric(Reservoir),
    Categorical {
        counts: FxHashMap<String, u64>,
        /// Distinct categories counted that the baseline never saw.
        new: usize,
    },
    /// One reservoir per descriptor, in the order of the column's measure.
    Text(Vec<Reservoir>),
    Embedding(LiveEmbedding),
}

/// An embedding column's window: the mean of every vector, and a uniform
/// sample of at most [`EMBEDDING_ROWS`] (or `reservoir`, if smaller) of
/// them for the MMD test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LiveEmbedding {
    centroid: Centroid,
    /// Vectors offered to the sample so far.
    seen: u64,
    /// The sampled vectors, row after row.
    rows: Vec<f32>,
}

/// The most vectors a window samples per embedding column: MMD's cost and
/// power grow with it, and 1,000 vectors of 1,536 floats are 6 MiB.
pub const EMBEDDING_ROWS: usize = 1000;

impl LiveValues {
    fn kind(&self) -> Kind {
        match self {
            LiveValues::Numeric(_) => Kind::Numeric,
            LiveValues::Categorical { .. } => Kind::Categorical,
            LiveValues::Text(_) => Kind::Text,
            LiveValues::Embedding(_) => Kind::Embedding,
        }
    }

    /// Whether these values are of `spec`'s kind (and, for a text column,
    /// of as many descriptors as its measure).
    fn fits(&self, spec: &ShapeColumn) -> bool {
        match (self, &spec.text) {
            (LiveValues::Text(d), Some(measure)) => d.len() == measure.len(),
            (LiveValues::Embedding(e), _) => e.centroid.dim() == spec.dimension,
            _ => self.kind() == spec.kind,
        }
    }
}

/// A uniform sample of a stream of numbers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct Reservoir {
    /// Values offered so far.
    seen: u64,
    values: Vec<f64>,
}

/// A window that has closed, ready to be compared with the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedWindow {
    pub span: WindowSpan,
    pub sample: Sample,
    /// Each operational metric's statistics, by key.
    pub metrics: BTreeMap<String, StreamStats>,
    /// Operational values dropped because their key was beyond the bound.
    pub dropped_metrics: u64,
}

impl LiveWindow {
    /// An empty window of `shape`, opened at `now`.
    pub fn new(shape: &WindowShape, now: DateTime<Utc>) -> LiveWindow {
        LiveWindow {
            opened: now,
            records: 0,
            columns: shape.columns.iter().map(LiveColumn::new).collect(),
            streams: MetricStreams::default(),
            rng: now.timestamp_nanos_opt().unwrap_or_default() as u64,
        }
    }

    /// Adds a validated batch (a sample of the window's shape, as
    /// `ingest::validate::validate_into` fills it).
    pub fn absorb(&mut self, shape: &WindowShape, batch: Sample) {
        assert_eq!(
            batch.columns.len(),
            self.columns.len(),
            "batch of another shape"
        );
        self.records += batch.rows;
        for ((column, spec), sample) in self
            .columns
            .iter_mut()
            .zip(&shape.columns)
            .zip(batch.columns)
        {
            column.missing += sample.missing;
            column
                .values
                .absorb(sample.values, spec, shape.limits, &mut self.rng);
        }
    }

    /// Adds a batch's operational metrics, by key.
    pub fn absorb_metrics(&mut self, shape: &WindowShape, batch: Vec<(&str, Vec<f64>)>) {
        let limits = shape.limits;
        (self.streams).absorb(batch, limits.max_metrics, limits.reservoir, &mut self.rng);
    }

    /// Closes the window at `now`: returns what it held and leaves an empty
    /// window opened at `now` in its place.
    pub fn close(&mut self, shape: &WindowShape, now: DateTime<Utc>) -> ClosedWindow {
        let mut next = LiveWindow::new(shape, now);
        next.rng = self.rng;
        let closed = std::mem::replace(self, next);
        ClosedWindow {
            span: WindowSpan {
                start: closed.opened,
                end: now,
                records: closed.records,
            },
            sample: Sample {
                rows: closed.records,
                columns: closed
                    .columns
                    .into_iter()
                    .zip(&shape.columns)
                    .map(|(column, spec)| column.into_sample(spec))
                    .collect(),
            },
            dropped_metrics: closed.streams.dropped(),
            metrics: closed.streams.stats(),
        }
    }
}

impl LiveColumn {
    fn new(spec: &ShapeColumn) -> LiveColumn {
        let values = match spec.kind {
            Kind::Numeric => LiveValues::Numeric(Reservoir::default()),
            Kind::Categorical => LiveValues::Categorical {
                counts: FxHashMap::default(),
                new: 0,
            },
            Kind::Text => {
                let descriptors = spec.text.as_ref().map_or(0, |m| m.len());
                LiveValues::Text(vec![Reservoir::default(); descriptors])
            }
            Kind::Embedding => LiveValues::Embedding(LiveEmbedding {
                centroid: Centroid::new(spec.dimension).expect("a profile's dimension is ≥ 1"),
                seen: 0,
                rows: Vec::new(),
            }),
        };
        LiveColumn {
            name: spec.name.clone(),
            missing: 0,
            values,
        }
    }

    fn into_sample(self, spec: &ShapeColumn) -> ColumnSample {
        let values = match (self.values, &spec.text) {
            (LiveValues::Numeric(r), _) => Values::Numeric(r.values),
            (LiveValues::Categorical { counts, .. }, _) => Values::Categorical(counts),
            (LiveValues::Text(d), Some(measure)) => Values::Text(TextValues {
                measure: measure.clone(),
                descriptors: d.into_iter().map(|r| r.values).collect(),
            }),
            (LiveValues::Text(_), None) => unreachable!("a text column's shape has its measure"),
            (LiveValues::Embedding(e), _) => Values::Embedding(EmbeddingValues {
                centroid: e.centroid,
                rows: e.rows,
            }),
        };
        ColumnSample {
            missing: self.missing,
            values,
        }
    }
}

impl LiveValues {
    fn absorb(&mut self, batch: Values, spec: &ShapeColumn, limits: WindowLimits, rng: &mut u64) {
        match (self, batch) {
            (LiveValues::Numeric(r), Values::Numeric(v)) => r.offer_all(v, limits.reservoir, rng),
            (LiveValues::Categorical { counts, new }, Values::Categorical(batch)) => {
                count_categories(counts, new, batch, spec, limits.max_new_categories);
            }
            (LiveValues::Text(d), Values::Text(batch)) => {
                for (r, v) in d.iter_mut().zip(batch.descriptors) {
                    r.offer_all(v, limits.reservoir, rng);
                }
            }
            (LiveValues::Embedding(e), Values::Embedding(batch)) => {
                let capacity = limits.reservoir.min(EMBEDDING_ROWS);
                e.absorb(batch, capacity, rng);
            }
            (live, _) => panic!("a batch of another kind for a {} column", live.kind()),
        }
    }
}

/// Adds a batch's category counts; a category the baseline never saw gets
/// its own count while there is room for it, else goes to `__other__`.
fn count_categories(
    counts: &mut FxHashMap<String, u64>,
    new: &mut usize,
    batch: FxHashMap<String, u64>,
    spec: &ShapeColumn,
    max_new: usize,
) {
    for (label, n) in batch {
        if let Some(count) = counts.get_mut(&label) {
            *count += n;
        } else if spec.known.contains(&label) {
            counts.insert(label, n);
        } else if *new < max_new {
            *new += 1;
            counts.insert(label, n);
        } else {
            *counts.entry(OTHER_CATEGORY.to_owned()).or_default() += n;
        }
    }
}

impl LiveEmbedding {
    /// Adds a batch's vectors: all to the centroid, and each to the sample
    /// by algorithm R (once full, the i-th vector replaces a random kept
    /// one with probability capacity / i).
    fn absorb(&mut self, batch: EmbeddingValues, capacity: usize, rng: &mut u64) {
        let dim = self.centroid.dim();
        (self.centroid.merge(&batch.centroid)).expect("a batch of the column's dimension");
        for row in batch.rows.chunks_exact(dim) {
            self.seen += 1;
            if self.rows.len() < capacity * dim {
                self.rows.extend_from_slice(row);
                continue;
            }
            let j = below(rng, self.seen) as usize;
            if j < capacity {
                self.rows[j * dim..(j + 1) * dim].copy_from_slice(row);
            }
        }
    }
}

impl Reservoir {
    /// Offers every value of `values` (algorithm R: once full, the i-th
    /// value replaces a random kept one with probability capacity / i).
    fn offer_all(&mut self, values: Vec<f64>, capacity: usize, rng: &mut u64) {
        let room = capacity.saturating_sub(self.values.len()).min(values.len());
        self.values.extend_from_slice(&values[..room]);
        self.seen += room as u64;
        for x in values.into_iter().skip(room) {
            self.seen += 1;
            let j = below(rng, self.seen);
            if (j as usize) < capacity {
                self.values[j as usize] = x;
            }
        }
    }
}

/// A uniform integer in `0..n` (n > 0) from a SplitMix64 stream; the
/// modulo bias is below 2^-40 for any window size in practice.
fn below(state: &mut u64, n: u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % n
}

#[cfg(test)]
mod tests;
