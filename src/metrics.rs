//! The Prometheus registry and the definition of every metric driftwatch
//! exports. Names follow `driftwatch_<thing>_<unit>`, counters end in
//! `_total`, and every label is bounded by configuration: model, feature,
//! test, rule, severity and notifier names come from the config and its
//! baselines, and `reason` and `outcome` from the fixed lists below — never
//! a raw category value or a record id.
//!
//! The daemon creates every series of its configured models, features,
//! rules and notifiers at start-up ([`Metrics::declare_model`] and
//! friends), so dashboards and `absent()` alerts work before the first
//! window closes: counters start at 0, scores at NaN (not evaluated yet).

use crate::config::QualityConfig;
use crate::quality::{ESTIMATED, OUTCOME_RESULTS, SKIP_REASONS};
use prometheus::{Encoder, GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

/// Why a record (or a whole request) was rejected: the `reason` label of
/// `driftwatch_records_rejected_total`.
pub const REJECTION_REASONS: [&str; 8] = [
    "not_finite",
    "wrong_kind",
    "unknown_field",
    "in_both",
    "wrong_dimension",
    "invalid_request",
    "overloaded",
    "shutting_down",
];

/// What became of one delivery attempt: the `outcome` label of
/// `driftwatch_notifications_total`.
pub const NOTIFICATION_OUTCOMES: [&str; 3] = ["delivered", "retried", "failed"];

/// Why a notification was given up: the `reason` label of
/// `driftwatch_notification_failures_total`.
pub const NOTIFICATION_FAILURES: [&str; 3] = ["rejected", "notifier_removed", "unreadable"];

/// Every metric, registered in one registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Records accepted, by model.
    pub records_total: IntCounterVec,
    /// Records rejected, by model and reason.
    pub records_rejected_total: IntCounterVec,
    /// Record fields dropped because the baseline does not know them
    /// (`unknown_fields = "ignore"`), by model.
    pub unknown_fields_ignored_total: IntCounterVec,
    /// Records in the model's open window.
    pub window_records: IntGaugeVec,
    /// Windows closed and compared with the baseline, by model.
    pub windows_evaluated_total: IntCounterVec,
    /// The latest window's statistic, by model, feature and test.
    pub drift_score: GaugeVec,
    /// The latest window's p-value (p-value tests only).
    pub drift_p_value: GaugeVec,
    /// 1 when the feature drifted in the latest window, 0 when not, NaN
    /// when it could not be judged.
    pub feature_drifted: GaugeVec,
    /// Share of judged features that drifted in the latest window.
    pub drift_share: GaugeVec,
    /// When the model's latest window was evaluated (Unix seconds).
    pub last_evaluation_timestamp_seconds: GaugeVec,
    /// 1 while the rule fires.
    pub alert_firing: IntGaugeVec,
    /// Delivery attempts, by notifier and outcome.
    pub notifications_total: IntCounterVec,
    /// Notifications given up, by notifier and reason.
    pub notification_failures_total: IntCounterVec,
    /// Notifications waiting in the outbox, by notifier.
    pub outbox_depth: IntGaugeVec,
    /// Age of the oldest notification waiting in the outbox (0 when none).
    pub outbox_oldest_age_seconds: GaugeVec,
    /// The latest window's operational metrics, by model, key and stat.
    pub window_metric: GaugeVec,
    /// Operational values dropped because their key was beyond
    /// `max_metrics`, by model.
    pub window_metrics_dropped_total: IntCounterVec,
    /// The latest labelled window's quality, by model and metric.
    pub quality: GaugeVec,
    /// Its confidence interval's ends, by model, metric and bound.
    pub quality_bound: GaugeVec,
    /// The reference value of each quality metric.
    pub quality_baseline: GaugeVec,
    /// The label-free estimate of the latest window, by model and metric.
    pub quality_estimate: GaugeVec,
    /// Labelled records of the latest labelled window.
    pub quality_labelled_records: IntGaugeVec,
    /// Labelled windows evaluated, by model and status.
    pub quality_windows_total: IntCounterVec,
    /// Records quality could not use, by model and reason.
    pub quality_records_skipped_total: IntCounterVec,
    /// Outcomes received, by model and result.
    pub outcomes_total: IntCounterVec,
    /// Records held in the join buffer, by model.
    pub label_buffer_records: IntGaugeVec,
    /// Records that left the join buffer unlabelled, by model and reason.
    pub label_buffer_dropped_total: IntCounterVec,
}

impl Metrics {
    /// A fresh registry with every metric registered and no series yet.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("unique");
            c
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let g = GaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("unique");
            g
        };
        let int_gauge = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("unique");
            g
        };
        Metrics {
            records_total: counter(
                "driftwatch_records_total",
                "Records accepted into a model's windows.",
                &["model"],
            ),
            records_rejected_total: counter(
                "driftwatch_records_rejected_total",
                "Records rejected, by the reason of the first problem found.",
                &["model", "reason"],
            ),
            unknown_fields_ignored_total: counter(
                "driftwatch_unknown_fields_ignored_total",
                "Record fields dropped because the model's baseline has no such column.",
                &["model"],
            ),
            window_records: int_gauge(
                "driftwatch_window_records",
                "Records in the model's open window.",
                &["model"],
            ),
            windows_evaluated_total: counter(
                "driftwatch_windows_evaluated_total",
                "Windows closed and compared with the baseline.",
                &["model"],
            ),
            drift_score: gauge(
                "driftwatch_drift_score",
                "The latest window's statistic of a test on a feature (NaN before the first window).",
                &["model", "feature", "test"],
            ),
            drift_p_value: gauge(
                "driftwatch_drift_p_value",
                "The latest window's p-value of a test on a feature (NaN before the first window).",
                &["model", "feature", "test"],
            ),
            feature_drifted: gauge(
                "driftwatch_feature_drifted",
                "1 when the feature drifted in the latest window, 0 when not, NaN when not judged.",
                &["model", "feature"],
            ),
            drift_share: gauge(
                "driftwatch_drift_share",
                "Share of judged features that drifted in the latest window.",
                &["model"],
            ),
            last_evaluation_timestamp_seconds: gauge(
                "driftwatch_last_evaluation_timestamp_seconds",
                "When the model's latest window was evaluated, in Unix seconds (0: never).",
                &["model"],
            ),
            alert_firing: int_gauge(
                "driftwatch_alert_firing",
                "1 while the alert rule fires, else 0.",
                &["model", "rule", "severity"],
            ),
            notifications_total: counter(
                "driftwatch_notifications_total",
                "Notification delivery attempts, by outcome: delivered, retried (failed, to be retried) or failed (given up).",
                &["notifier", "outcome"],
            ),
            notification_failures_total: counter(
                "driftwatch_notification_failures_total",
                "Notifications given up undelivered, by reason.",
                &["notifier", "reason"],
            ),
            outbox_depth: int_gauge(
                "driftwatch_outbox_depth",
                "Notifications waiting in the durable outbox.",
                &["notifier"],
            ),
            outbox_oldest_age_seconds: gauge(
                "driftwatch_outbox_oldest_age_seconds",
                "Seconds since the oldest notification waiting in the outbox was made (0 when none waits).",
                &["notifier"],
            ),
            window_metric: gauge(
                "driftwatch_window_metric",
                "The latest window's statistic (count, mean, total, min, max, p50, p95, p99) of an operational metric of the records.",
                &["model", "metric", "stat"],
            ),
            window_metrics_dropped_total: counter(
                "driftwatch_window_metrics_dropped_total",
                "Operational metric values dropped because their key was beyond the model's max_metrics.",
                &["model"],
            ),
            quality: gauge(
                "driftwatch_quality",
                "The latest labelled window's quality metric (NaN before one, or when it had fewer than min_labels labels).",
                &["model", "metric"],
            ),
            quality_bound: gauge(
                "driftwatch_quality_bound",
                "The ends (low, high) of the latest labelled window's quality metric's confidence interval.",
                &["model", "metric", "bound"],
            ),
            quality_baseline: gauge(
                "driftwatch_quality_baseline",
                "The reference value of a quality metric (baseline file or config; NaN when none).",
                &["model", "metric"],
            ),
            quality_estimate: gauge(
                "driftwatch_quality_estimate",
                "The latest window's label-free quality estimate from its scores (CBPE).",
                &["model", "metric"],
            ),
            quality_labelled_records: int_gauge(
                "driftwatch_quality_labelled_records",
                "Labelled records of the latest labelled window.",
                &["model"],
            ),
            quality_windows_total: counter(
                "driftwatch_quality_windows_total",
                "Windows whose quality was evaluated from their labels, by status (ok, insufficient_labels).",
                &["model", "status"],
            ),
            quality_records_skipped_total: counter(
                "driftwatch_quality_records_skipped_total",
                "Accepted records left out of quality, by reason.",
                &["model", "reason"],
            ),
            outcomes_total: counter(
                "driftwatch_outcomes_total",
                "Outcomes (delayed labels) received, by result: joined, late (its window was already evaluated), duplicate, unknown (id not held) or invalid.",
                &["model", "result"],
            ),
            label_buffer_records: int_gauge(
                "driftwatch_label_buffer_records",
                "Records held in the join buffer for their labels.",
                &["model"],
            ),
            label_buffer_dropped_total: counter(
                "driftwatch_label_buffer_dropped_total",
                "Records that left the join buffer unlabelled, by reason (expired, evicted).",
                &["model", "reason"],
            ),
            registry,
        }
    }

    /// Creates the quality series of a model with a quality section.
    pub fn declare_quality(&self, model: &str, quality: &QualityConfig) {
        for metric in &quality.metrics {
            let name = metric.as_str();
            self.quality.with_label_values(&[model, name]).set(f64::NAN);
            for bound in ["low", "high"] {
                (self.quality_bound.with_label_values(&[model, name, bound])).set(f64::NAN);
            }
            let reference = quality.reference.get(metric).copied();
            (self.quality_baseline.with_label_values(&[model, name]))
                .set(reference.unwrap_or(f64::NAN));
        }
        if quality.calibration.is_some() {
            for metric in ESTIMATED {
                (self
                    .quality_estimate
                    .with_label_values(&[model, metric.as_str()]))
                .set(f64::NAN);
            }
        }
        self.quality_labelled_records.with_label_values(&[model]);
        for status in ["ok", "insufficient_labels"] {
            self.quality_windows_total
                .with_label_values(&[model, status]);
        }
        for reason in SKIP_REASONS {
            (self.quality_records_skipped_total).with_label_values(&[model, reason]);
        }
        for result in OUTCOME_RESULTS {
            self.outcomes_total.with_label_values(&[model, result]);
        }
        self.label_buffer_records.with_label_values(&[model]);
        for reason in ["expired", "evicted"] {
            (self.label_buffer_dropped_total).with_label_values(&[model, reason]);
        }
    }

    /// Creates the series of a model that do not depend on its tests.
    pub fn declare_model(&self, model: &str) {
        self.records_total.with_label_values(&[model]);
        for reason in REJECTION_REASONS {
            self.records_rejected_total
                .with_label_values(&[model, reason]);
        }
        self.unknown_fields_ignored_total
            .with_label_values(&[model]);
        self.window_records.with_label_values(&[model]);
        self.windows_evaluated_total.with_label_values(&[model]);
        self.drift_share.with_label_values(&[model]).set(f64::NAN);
        self.last_evaluation_timestamp_seconds
            .with_label_values(&[model]);
        self.window_metrics_dropped_total
            .with_label_values(&[model]);
    }

    /// Creates the verdict series of one feature (a baseline column).
    pub fn declare_feature(&self, model: &str, feature: &str) {
        self.feature_drifted
            .with_label_values(&[model, feature])
            .set(f64::NAN);
    }

    /// Creates the score series of one test on one feature (a column, or
    /// `column:descriptor` for text), and its p-value series for a p-value
    /// test.
    pub fn declare_test(&self, model: &str, feature: &str, test: &str, has_p_value: bool) {
        self.drift_score
            .with_label_values(&[model, feature, test])
            .set(f64::NAN);
        if has_p_value {
            self.drift_p_value
                .with_label_values(&[model, feature, test])
                .set(f64::NAN);
        }
    }

    /// Creates the series of one alert rule.
    pub fn declare_rule(&self, model: &str, rule: &str, severity: &str) {
        self.alert_firing
            .with_label_values(&[model, rule, severity]);
    }

    /// Creates the series of one notifier.
    pub fn declare_notifier(&self, notifier: &str) {
        for outcome in NOTIFICATION_OUTCOMES {
            self.notifications_total
                .with_label_values(&[notifier, outcome]);
        }
        for reason in NOTIFICATION_FAILURES {
            self.notification_failures_total
                .with_label_values(&[notifier, reason]);
        }
        self.outbox_depth.with_label_values(&[notifier]).set(0);
        self.outbox_oldest_age_seconds
            .with_label_values(&[notifier])
            .set(0.0);
    }

    /// Every series in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding into memory does not fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_series_exist_before_any_traffic() {
        let metrics = Metrics::new();
        metrics.declare_model("loans");
        metrics.declare_feature("loans", "age");
        metrics.declare_test("loans", "age", "ks", true);
        metrics.declare_test("loans", "age", "psi", false);
        metrics.declare_rule("loans", "drift", "critical");
        metrics.declare_notifier("slack");
        let text = metrics.render();
        for line in [
            "driftwatch_records_total{model=\"loans\"} 0",
            "driftwatch_records_rejected_total{model=\"loans\",reason=\"not_finite\"} 0",
            "driftwatch_drift_score{feature=\"age\",model=\"loans\",test=\"ks\"} NaN",
            "driftwatch_drift_p_value{feature=\"age\",model=\"loans\",test=\"ks\"} NaN",
            "driftwatch_alert_firing{model=\"loans\",rule=\"drift\",severity=\"critical\"} 0",
            "driftwatch_notifications_total{notifier=\"slack\",outcome=\"failed\"} 0",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(
            !text
                .contains("driftwatch_drift_p_value{feature=\"age\",model=\"loans\",test=\"psi\"}")
        );
    }
}
