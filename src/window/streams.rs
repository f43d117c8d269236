//! Operational metrics of a window: every key of the records' `metrics`
//! maps (latency_ms, tokens_in, tokens_out, a derived cost, …) is a stream
//! of numbers with exact count, sum, minimum and maximum and a uniform
//! reservoir for its percentiles, exact until the reservoir fills.
//!
//! The keys a window follows are bounded (`max_metrics`): values of keys
//! beyond the bound are counted as dropped, never kept, so a sender cannot
//! grow a model's memory or its Prometheus label set.

use super::Reservoir;
use crate::stats::quantile_sorted;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The streams of one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricStreams {
    streams: BTreeMap<String, Stream>,
    /// Values of keys beyond the bound.
    dropped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stream {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    sample: Reservoir,
}

/// One stream's statistics over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StreamStats {
    pub count: u64,
    pub mean: f64,
    pub total: f64,
    pub min: f64,
    pub max: f64,
    /// Percentiles, numpy's linear interpolation over the reservoir.
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// The statistics a rule or a gauge can name: `metric.NAME.STAT`.
pub const STREAM_STATS: [&str; 8] = ["count", "mean", "total", "min", "max", "p50", "p95", "p99"];

impl StreamStats {
    /// The statistic named `stat` (one of [`STREAM_STATS`]).
    pub fn get(&self, stat: &str) -> Option<f64> {
        Some(match stat {
            "count" => self.count as f64,
            "mean" => self.mean,
            "total" => self.total,
            "min" => self.min,
            "max" => self.max,
            "p50" => self.p50,
            "p95" => self.p95,
            "p99" => self.p99,
            _ => return None,
        })
    }
}

impl MetricStreams {
    /// Adds a batch's values by key; keys beyond `max_keys` are dropped.
    pub fn absorb(
        &mut self,
        batch: Vec<(&str, Vec<f64>)>,
        max_keys: usize,
        reservoir: usize,
        rng: &mut u64,
    ) {
        for (key, values) in batch {
            if !self.streams.contains_key(key) && self.streams.len() >= max_keys {
                self.dropped += values.len() as u64;
                continue;
            }
            let stream = self
                .streams
                .entry(key.to_owned())
                .or_insert_with(|| Stream {
                    count: 0,
                    sum: 0.0,
                    min: f64::INFINITY,
                    max: f64::NEG_INFINITY,
                    sample: Reservoir::default(),
                });
            for &x in &values {
                stream.count += 1;
                stream.sum += x;
                stream.min = stream.min.min(x);
                stream.max = stream.max.max(x);
            }
            stream.sample.offer_all(values, reservoir, rng);
        }
    }

    /// Values dropped because their key was beyond the bound.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Each stream's statistics.
    pub fn stats(self) -> BTreeMap<String, StreamStats> {
        (self.streams.into_iter())
            .map(|(key, s)| (key, s.stats()))
            .collect()
    }
}

impl Stream {
    fn stats(self) -> StreamStats {
        let mut values = self.sample.values;
        values.sort_by(f64::total_cmp);
        let q = |p| quantile_sorted(&values, p);
        StreamStats {
            count: self.count,
            mean: self.sum / self.count as f64,
            total: self.sum,
            min: self.min,
            max: self.max,
            p50: q(0.5),
            p95: q(0.95),
            p99: q(0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_exact_while_the_reservoir_holds_every_value() {
        let mut streams = MetricStreams::default();
        let mut rng = 7;
        let latency: Vec<f64> = (1..=100).map(f64::from).collect();
        streams.absorb(vec![("latency_ms", latency)], 8, 1000, &mut rng);
        streams.absorb(vec![("latency_ms", vec![1000.0])], 8, 1000, &mut rng);
        let stats = streams.stats()["latency_ms"];
        assert_eq!((stats.count, stats.total, stats.max), (101, 6050.0, 1000.0));
        assert_eq!(stats.p50, 51.0);
        assert!((stats.p99 - 100.0).abs() < 1e-9, "{}", stats.p99);
        assert_eq!(stats.get("mean"), Some(6050.0 / 101.0));
        assert_eq!(stats.get("p42"), None);
    }

    #[test]
    fn keys_beyond_the_bound_are_counted_and_dropped() {
        let mut streams = MetricStreams::default();
        let mut rng = 1;
        let batch = vec![("a", vec![1.0]), ("b", vec![2.0, 3.0]), ("c", vec![4.0])];
        streams.absorb(batch, 2, 10, &mut rng);
        assert_eq!(streams.dropped(), 1);
        assert_eq!(streams.stats().keys().collect::<Vec<_>>(), ["a", "b"]);
    }
}
