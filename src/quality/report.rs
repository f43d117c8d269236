//! A labelled window's verdict: each quality metric's value and interval
//! beside its reference, how much worse it is, and whether a configured
//! limit is breached — what reports, gauges and rules read.

use super::{LabelledWindow, Measured, Metric, POSITIVE_CLASS, measure};
use crate::config::QualityConfig;
use serde::{Serialize, Serializer};

/// Whether a window had enough labels to be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityStatus {
    Ok,
    InsufficientLabels,
}

/// One metric of a window, beside its reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricReport {
    #[serde(serialize_with = "metric_name")]
    pub metric: Metric,
    pub value: Option<f64>,
    /// The interval's ends at the configured confidence.
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The reference value (baseline file or config).
    pub reference: Option<f64>,
    /// How much worse than the reference: reference − value where higher
    /// is better, value − reference where lower is.
    pub drop: Option<f64>,
    /// The least drop the interval allows: > 0 means the window is worse
    /// than the reference beyond its noise.
    pub drop_lower: Option<f64>,
    /// Whether `min`, `max` or `max_drop` is breached (none set: `None`).
    pub degraded: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn metric_name<S: Serializer>(metric: &Metric, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(metric.as_str())
}

/// The quality of one window, judged from its labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    pub status: QualityStatus,
    /// Records of the window that could be joined to a label.
    pub records: u64,
    /// Of which labelled.
    pub labelled: u64,
    pub min_labels: u64,
    pub metrics: Vec<MetricReport>,
}

impl QualityReport {
    /// The report of metric `metric`, if the model computes it.
    pub fn metric(&self, metric: Metric) -> Option<&MetricReport> {
        self.metrics.iter().find(|m| m.metric == metric)
    }
}

/// Judges a window's labels by `config`'s metrics.
pub fn evaluate(config: &QualityConfig, window: &LabelledWindow) -> QualityReport {
    let status = if window.labelled >= config.min_labels {
        QualityStatus::Ok
    } else {
        QualityStatus::InsufficientLabels
    };
    let metrics = (config.metrics.iter())
        .map(|&m| {
            let measured = measure(
                m,
                &window.sample,
                POSITIVE_CLASS,
                config.confidence,
                window.seq,
            );
            metric_report(config, m, measured)
        })
        .collect();
    QualityReport {
        status,
        records: window.records,
        labelled: window.labelled,
        min_labels: config.min_labels,
        metrics,
    }
}

fn metric_report(
    config: &QualityConfig,
    metric: Metric,
    measured: Result<Measured, crate::stats::quality::QualityError>,
) -> MetricReport {
    let reference = config.reference.get(&metric).copied();
    let measured = match measured {
        Ok(m) => m,
        Err(e) => {
            return MetricReport {
                metric,
                value: None,
                low: None,
                high: None,
                reference,
                drop: None,
                drop_lower: None,
                degraded: None,
                error: Some(e.to_string()),
            };
        }
    };
    let value = measured.value;
    let (low, high) = measured.interval.map(|i| (i.low, i.high)).unzip();
    let worse_by = |v: f64, r: f64| {
        if metric.higher_is_better() {
            r - v
        } else {
            v - r
        }
    };
    let drop = reference.map(|r| worse_by(value, r));
    // The bound of the interval nearest the reference gives the least drop.
    let best = if metric.higher_is_better() { high } else { low };
    let drop_lower = reference.zip(best).map(|(r, b)| worse_by(b, r));
    let limits = [
        config.min.get(&metric).map(|&m| value < m),
        config.max.get(&metric).map(|&m| value > m),
        config.max_drop.get(&metric).zip(drop).map(|(&m, d)| d > m),
    ];
    let degraded = limits.iter().flatten().copied().reduce(|a, b| a || b);
    MetricReport {
        metric,
        value: Some(value),
        low,
        high,
        reference,
        drop,
        drop_lower,
        degraded,
        error: None,
    }
}
