//! Setting a model's performance gauges: operational metrics and the
//! label-free estimate from each drift report, quality from each report of
//! a window's labels, and the join buffer's state.

use super::ModelPipeline;
use crate::detect::Performance;
use crate::quality::{ESTIMATED, QualityReport, QualityStatus, estimated};
use crate::window::STREAM_STATS;

impl ModelPipeline {
    /// Sets the operational and estimate gauges from a drift report.
    pub(super) fn publish_performance(&self, performance: &Performance, dropped: u64) {
        let (m, model) = (&self.metrics, self.name.as_str());
        for (key, stats) in &performance.metrics {
            for stat in STREAM_STATS {
                let value = stats.get(stat).expect("every listed stat");
                m.window_metric
                    .with_label_values(&[model, key, stat])
                    .set(value);
            }
        }
        m.window_metrics_dropped_total
            .with_label_values(&[model])
            .inc_by(dropped);
        if let Some(e) = &performance.estimate {
            for metric in ESTIMATED {
                let value = estimated(e, metric).expect("the estimate gives it");
                m.quality_estimate
                    .with_label_values(&[model, metric.as_str()])
                    .set(value);
            }
        }
    }

    /// Sets the quality gauges from a report of a window's labels. A window
    /// with too few labels sets them to NaN: not judged.
    pub(super) fn publish_quality(&self, report: &QualityReport) {
        let (m, model) = (&self.metrics, self.name.as_str());
        let judged = report.status == QualityStatus::Ok;
        for metric in &report.metrics {
            let name = metric.metric.as_str();
            let read = |v: Option<f64>| v.filter(|_| judged).unwrap_or(f64::NAN);
            m.quality
                .with_label_values(&[model, name])
                .set(read(metric.value));
            m.quality_bound
                .with_label_values(&[model, name, "low"])
                .set(read(metric.low));
            m.quality_bound
                .with_label_values(&[model, name, "high"])
                .set(read(metric.high));
        }
        m.quality_labelled_records
            .with_label_values(&[model])
            .set(report.labelled as i64);
        let status = match report.status {
            QualityStatus::Ok => "ok",
            QualityStatus::InsufficientLabels => "insufficient_labels",
        };
        m.quality_windows_total
            .with_label_values(&[model, status])
            .inc();
    }

    /// Sets the join buffer's gauges and catches its drop counters up.
    pub(super) fn gauge_labels(&self) {
        let Some(quality) = &self.quality else {
            return;
        };
        let (pending, (expired, evicted)) = {
            let tracker = quality.lock().expect("no panic while holding quality");
            (tracker.pending(), tracker.dropped())
        };
        let (m, model) = (&self.metrics, self.name.as_str());
        m.label_buffer_records
            .with_label_values(&[model])
            .set(pending as i64);
        for (reason, total) in [("expired", expired), ("evicted", evicted)] {
            let counter = m
                .label_buffer_dropped_total
                .with_label_values(&[model, reason]);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
    }
}
