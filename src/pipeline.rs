//! One model's live path, from a decoded batch to a window report: ingest
//! validates the batch and adds it to the model's open window (no statistic
//! is computed there), a window that is due closes and is queued, and an
//! evaluator task compares each closed window with the baseline off the
//! ingest path, publishes the scores as metrics and keeps the latest report.
//!
//! A model with a `[model.quality]` section also hands each accepted
//! record's id, prediction and score to its quality tracker at ingest (no
//! statistic there either), takes delayed labels (`outcomes.rs`), and
//! queues each window whose labels are in beside the closed windows, to be
//! judged by the same evaluator; `publish.rs` sets the performance gauges.
//!
//! The queue of closed windows is bounded. When it is full — detection
//! cannot keep up with the traffic — a batch that would close another
//! window is refused as overload (the service answers RESOURCE_EXHAUSTED)
//! rather than queued without end.

use crate::baseline::Baseline;
use crate::config::{ModelConfig, Window};
use crate::detect::{DetectOptions, Performance, WindowReport, detect, feature_label, featureless};
use crate::ingest::ModelSchema;
use crate::ingest::extract::{ExtractKeys, Extras, extract};
use crate::ingest::validate::{Outcome, REASON_NAMES, RequestError, validate_into};
use crate::metrics::Metrics;
use crate::proto::v1::SendRequest;
use crate::quality::{LabelledWindow, QualityTracker, SnapshotError};
use crate::stats::quality::estimate::Estimate;
use crate::window::{ClosedWindow, LiveWindow, WindowLimits, WindowShape};
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use tokio::sync::mpsc;

mod outcomes;
mod publish;

pub use outcomes::OutcomesError;

/// Closed windows waiting for detection, per model.
const QUEUED_WINDOWS: usize = 4;

/// Why a batch was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(
        "model {model:?}: {QUEUED_WINDOWS} closed windows are waiting for detection, which is behind the traffic; nothing of this batch was accepted, retry later"
    )]
    Overloaded { model: String },
    #[error("model {model:?}: driftwatch is shutting down and accepts no more records")]
    ShuttingDown { model: String },
}

/// The bounds a model's configuration sets on its windows.
pub fn window_limits(config: &ModelConfig) -> WindowLimits {
    WindowLimits {
        reservoir: config.reservoir,
        max_new_categories: config.max_new_categories,
        max_metrics: config.max_metrics,
    }
}

/// The live state of one model.
pub struct ModelPipeline {
    name: String,
    config: ModelConfig,
    schema: ModelSchema,
    shape: WindowShape,
    options: DetectOptions,
    keys: ExtractKeys,
    open: Mutex<OpenWindow>,
    /// Quality from delayed labels; locked after `open` when both are.
    quality: Option<Mutex<QualityTracker>>,
    latest: RwLock<Option<Arc<WindowReport>>>,
    metrics: Metrics,
}

/// The open window and the queue it closes into (`None` once shutdown has
/// begun).
struct OpenWindow {
    window: LiveWindow,
    queue: Option<mpsc::Sender<Closed>>,
}

/// What the evaluator takes from the queue.
#[derive(Debug)]
enum Closed {
    /// A window that closed, with its label-free quality estimate.
    Drift {
        window: ClosedWindow,
        estimate: Option<Estimate>,
    },
    /// A closed window whose labels are in.
    Labelled(LabelledWindow),
}

/// The receiving end of a model's queue of closed windows, for
/// [`ModelPipeline::evaluate_all`].
pub struct ClosedWindows(mpsc::Receiver<Closed>);

impl ModelPipeline {
    /// The pipeline of a configured model, continuing `restored` (a window
    /// of the same shape from a snapshot) or on an empty window.
    pub fn new(
        config: &ModelConfig,
        restored: Option<LiveWindow>,
        metrics: Metrics,
    ) -> (Arc<ModelPipeline>, ClosedWindows) {
        let shape = WindowShape::new(&config.baseline, window_limits(config));
        let window = restored.unwrap_or_else(|| LiveWindow::new(&shape, Utc::now()));
        let (queue, closed) = mpsc::channel(QUEUED_WINDOWS);
        metrics
            .window_records
            .with_label_values(&[&config.name])
            .set(window.records as i64);
        let quality =
            (config.quality.as_ref()).map(|q| Mutex::new(QualityTracker::new(q, config.reservoir)));
        let keys = ExtractKeys {
            quality: (config.quality.as_ref()).map(|q| (q.prediction.clone(), q.score.clone())),
            cost: config.cost.clone(),
        };
        let pipeline = ModelPipeline {
            name: config.name.clone(),
            schema: ModelSchema::new(&config.baseline, config.unknown_fields),
            options: DetectOptions::from(config),
            config: config.clone(),
            shape,
            keys,
            open: Mutex::new(OpenWindow {
                window,
                queue: Some(queue),
            }),
            quality,
            latest: RwLock::new(None),
            metrics,
        };
        (Arc::new(pipeline), ClosedWindows(closed))
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model's configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The model's baseline.
    pub fn baseline(&self) -> &Baseline {
        &self.config.baseline
    }

    /// How windows are judged.
    pub fn options(&self) -> &DetectOptions {
        &self.options
    }

    /// Validates a batch and adds its accepted records to the open window,
    /// closing the window when it is full.
    pub fn ingest(&self, request: &SendRequest) -> Result<Outcome, IngestError> {
        let mut batch = self.schema.empty_sample();
        let outcome = match validate_into(&self.schema, request, &mut batch) {
            Ok(outcome) => outcome,
            Err(e) => {
                self.count_refused("invalid_request", request);
                return Err(e.into());
            }
        };
        if outcome.accepted > 0 {
            let extras = extract(&self.keys, request, &outcome.rejected_rows);
            self.add(batch, extras, outcome.accepted).inspect_err(|e| {
                let reason = match e {
                    IngestError::ShuttingDown { .. } => "shutting_down",
                    _ => "overloaded",
                };
                self.count_refused(reason, request);
            })?;
        }
        self.count(&outcome);
        Ok(outcome)
    }

    fn add(
        &self,
        batch: crate::detect::Sample,
        extras: Extras<'_>,
        accepted: u64,
    ) -> Result<(), IngestError> {
        let mut open = self.open.lock().expect("no panic while holding the window");
        let OpenWindow { window, queue } = &mut *open;
        let Some(queue) = queue else {
            return Err(IngestError::ShuttingDown {
                model: self.name.clone(),
            });
        };
        let closes =
            matches!(self.config.window, Window::Records(n) if window.records + accepted >= n);
        if closes && queue.capacity() == 0 {
            return Err(IngestError::Overloaded {
                model: self.name.clone(),
            });
        }
        window.absorb(&self.shape, batch);
        window.absorb_metrics(&self.shape, extras.metrics);
        self.observe(extras.observed);
        if closes {
            let closed = self.close(window, Utc::now());
            // Only the holder of the lock sends, and there was room.
            queue
                .try_send(closed)
                .expect("room was checked under the lock");
        }
        self.gauge_window(window);
        Ok(())
    }

    /// Hands the accepted records' predictions to quality, counting those
    /// it cannot use.
    fn observe(&self, observed: Vec<crate::quality::Observed<'_>>) {
        let Some(quality) = &self.quality else {
            return;
        };
        let now = Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        let mut tracker = quality.lock().expect("no panic while holding quality");
        for record in observed {
            if let Err(reason) = tracker.observe(now, record) {
                (self.metrics.quality_records_skipped_total)
                    .with_label_values(&[&self.name, reason])
                    .inc();
            }
        }
    }

    /// Closes the open window (the caller holds its lock) and tells quality.
    fn close(&self, window: &mut LiveWindow, now: DateTime<Utc>) -> Closed {
        let window = window.close(&self.shape, now);
        let estimate = (self.quality.as_ref()).and_then(|q| {
            let mut tracker = q.lock().expect("no panic while holding quality");
            tracker.close_window(window.span)
        });
        Closed::Drift { window, estimate }
    }

    /// Closes the open window if it has been open its configured duration
    /// (count windows close at ingest). A window is kept open while the
    /// queue is full, and closes at a later tick.
    pub fn close_if_due(&self, now: DateTime<Utc>) {
        let Window::Duration(length) = self.config.window else {
            return;
        };
        let mut open = self.open.lock().expect("no panic while holding the window");
        let OpenWindow { window, queue } = &mut *open;
        let due = (now - window.opened)
            .to_std()
            .is_ok_and(|age| age >= length);
        if let (true, Some(queue)) = (due, queue)
            && let Ok(permit) = queue.try_reserve()
        {
            permit.send(self.close(window, now));
            self.gauge_window(window);
        }
    }

    /// What the daemon's clock does for the model: closes a duration window
    /// that is due, lets records past their label ttl go, and queues the
    /// windows whose labels are in.
    pub fn tick(&self, now: DateTime<Utc>) {
        self.close_if_due(now);
        if let Some(quality) = &self.quality {
            let nanos = now.timestamp_nanos_opt().unwrap_or(i64::MAX);
            quality
                .lock()
                .expect("no panic while holding quality")
                .expire(nanos);
            self.queue_labelled();
        }
    }

    /// A copy of the open window, for a snapshot.
    pub fn snapshot(&self) -> LiveWindow {
        let open = self.open.lock().expect("no panic while holding the window");
        open.window.clone()
    }

    /// The quality tracker's snapshot (records waiting for labels), when
    /// the model has quality.
    pub fn save_labels(&self) -> Option<std::io::Result<Vec<u8>>> {
        let quality = self.quality.as_ref()?;
        let tracker = quality.lock().expect("no panic while holding quality");
        let mut bytes = Vec::new();
        Some(tracker.save(&mut bytes).map(|()| bytes))
    }

    /// Goes on from a quality snapshot that [`ModelPipeline::save_labels`]
    /// made (a model without quality has nothing to restore).
    pub fn restore_labels(&self, mut snapshot: &[u8]) -> Result<(), SnapshotError> {
        let (Some(quality), Some(config)) = (&self.quality, &self.config.quality) else {
            return Ok(());
        };
        let restored = QualityTracker::restore(config, self.config.reservoir, &mut snapshot)?;
        *quality.lock().expect("no panic while holding quality") = restored;
        self.gauge_labels();
        Ok(())
    }

    /// Stops taking records: later batches are refused, and the evaluator
    /// ends once the windows already closed are evaluated. The open window
    /// stays as it is, for the final snapshot.
    pub fn stop_ingest(&self) {
        let mut open = self.open.lock().expect("no panic while holding the window");
        open.queue = None;
    }

    /// The latest window's report, if a window has been evaluated.
    pub fn latest(&self) -> Option<Arc<WindowReport>> {
        self.latest.read().expect("no panic while writing").clone()
    }

    /// Records in the open window and when it opened.
    pub fn open_window(&self) -> (u64, DateTime<Utc>) {
        let open = self.open.lock().expect("no panic while holding the window");
        (open.window.records, open.window.opened)
    }

    /// Evaluates every closed window until ingest stops, handing each report
    /// to `reports` (the alerting side).
    pub async fn evaluate_all(
        self: Arc<Self>,
        mut closed: ClosedWindows,
        reports: mpsc::Sender<Arc<WindowReport>>,
    ) {
        while let Some(window) = closed.0.recv().await {
            let pipeline = Arc::clone(&self);
            let report = tokio::task::spawn_blocking(move || match window {
                Closed::Drift { window, estimate } => pipeline.evaluate(window, estimate),
                Closed::Labelled(window) => pipeline.evaluate_labels(&window),
            })
            .await
            .expect("detection does not panic");
            if reports.send(report).await.is_err() {
                tracing::warn!(model = %self.name, "no one takes window reports any more");
            }
        }
    }

    /// Compares one closed window with the baseline and publishes the
    /// result.
    fn evaluate(&self, window: ClosedWindow, estimate: Option<Estimate>) -> Arc<WindowReport> {
        let started = Instant::now();
        let report = self.named(detect(self.baseline(), &window.sample, &self.options));
        let report = Arc::new(WindowReport {
            window: window.span,
            report,
            performance: Performance {
                metrics: window.metrics,
                estimate,
                quality: None,
            },
        });
        self.publish(&report);
        self.publish_performance(&report.performance, window.dropped_metrics);
        tracing::info!(
            model = %self.name,
            records = report.window.records,
            start = %report.window.start,
            end = %report.window.end,
            evaluated_features = report.report.evaluated_features,
            drifted_features = report.report.drifted_features,
            drift_share = report.report.drift_share,
            drifted = report.report.drifted,
            took_ms = started.elapsed().as_secs_f64() * 1e3,
            "window evaluated"
        );
        *self.latest.write().expect("no panic while writing") = Some(Arc::clone(&report));
        report
    }

    /// Judges a window's labels and publishes the result. Its report has
    /// no features: only quality rules read it.
    fn evaluate_labels(&self, window: &LabelledWindow) -> Arc<WindowReport> {
        let config = (self.config.quality.as_ref()).expect("labelled windows come from quality");
        let judged = crate::quality::evaluate(config, window);
        self.publish_quality(&judged);
        tracing::info!(
            model = %self.name,
            window_start = %window.span.start,
            window_end = %window.span.end,
            labelled = judged.labelled,
            status = ?judged.status,
            "window quality evaluated"
        );
        let report = self.named(featureless(self.baseline(), window.labelled, &self.options));
        Arc::new(WindowReport {
            window: window.span,
            report,
            performance: Performance {
                quality: Some(judged),
                ..Performance::default()
            },
        })
    }

    /// `report` under the model's configured name: rules, history and
    /// alerts know the model by it, and it need not be the name its
    /// baseline was built under.
    fn named(&self, mut report: crate::detect::Report) -> crate::detect::Report {
        report.model.clone_from(&self.name);
        report
    }

    /// Sets the score gauges from a window's report.
    fn publish(&self, report: &WindowReport) {
        let m = &self.metrics;
        let model = self.name.as_str();
        for feature in &report.report.features {
            let drifted = feature.drifted.map_or(f64::NAN, |d| f64::from(u8::from(d)));
            m.feature_drifted
                .with_label_values(&[model, &feature.name])
                .set(drifted);
            for test in &feature.tests {
                let label = feature_label(&feature.name, test.descriptor.as_deref());
                let labels = [model, label.as_str(), test.test.as_str()];
                m.drift_score
                    .with_label_values(&labels)
                    .set(test.statistic.unwrap_or(f64::NAN));
                if test.test.is_p_value() {
                    m.drift_p_value
                        .with_label_values(&labels)
                        .set(test.p_value.unwrap_or(f64::NAN));
                }
            }
        }
        m.drift_share
            .with_label_values(&[model])
            .set(report.report.drift_share);
        m.windows_evaluated_total.with_label_values(&[model]).inc();
        m.last_evaluation_timestamp_seconds
            .with_label_values(&[model])
            .set(report.window.end.timestamp_micros() as f64 / 1e6);
    }

    fn gauge_window(&self, window: &LiveWindow) {
        self.metrics
            .window_records
            .with_label_values(&[&self.name])
            .set(window.records as i64);
    }

    fn count(&self, outcome: &Outcome) {
        let m = &self.metrics;
        let model = self.name.as_str();
        m.records_total
            .with_label_values(&[model])
            .inc_by(outcome.accepted);
        m.unknown_fields_ignored_total
            .with_label_values(&[model])
            .inc_by(outcome.unknown_ignored);
        for (reason, &n) in REASON_NAMES.iter().zip(&outcome.rejected_by_reason) {
            if n > 0 {
                m.records_rejected_total
                    .with_label_values(&[model, reason])
                    .inc_by(n);
            }
        }
    }

    /// Counts every record of a batch refused as a whole.
    fn count_refused(&self, reason: &str, request: &SendRequest) {
        let records = request.records.len().max(request.row_count as usize);
        self.metrics
            .records_rejected_total
            .with_label_values(&[&self.name, reason])
            .inc_by(records as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::UnknownFields;
    use crate::ingest::testing::{baseline, number, record, rows};
    use crate::stats::correction::Correction;
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn pipeline(window: Window) -> (Arc<ModelPipeline>, ClosedWindows, Metrics) {
        let config = ModelConfig {
            name: "loans".into(),
            baseline_path: "baseline.json".into(),
            baseline: baseline().clone(),
            window,
            min_samples: 1,
            unknown_fields: UnknownFields::Reject,
            correction: Correction::None,
            reservoir: 100,
            max_new_categories: 10,
            features: BTreeMap::new(),
            max_metrics: 4,
            quality: None,
            cost: None,
        };
        let metrics = Metrics::new();
        let (pipeline, closed) = ModelPipeline::new(&config, None, metrics.clone());
        (pipeline, closed, metrics)
    }

    fn batch(n: usize) -> SendRequest {
        rows(
            (0..n)
                .map(|i| record(&[("age", number(i as f64))], &[]))
                .collect(),
        )
    }

    #[test]
    fn a_full_queue_of_closed_windows_refuses_the_batch_that_would_close_another() {
        let (pipeline, mut closed, metrics) = pipeline(Window::Records(10));
        for _ in 0..QUEUED_WINDOWS {
            assert_eq!(pipeline.ingest(&batch(10)).unwrap().accepted, 10);
        }
        // A batch that does not close the window is still taken.
        assert_eq!(pipeline.ingest(&batch(4)).unwrap().accepted, 4);
        let refused = pipeline.ingest(&batch(6)).unwrap_err();
        assert!(
            matches!(refused, IngestError::Overloaded { .. }),
            "{refused}"
        );
        assert_eq!(
            pipeline.open_window().0,
            4,
            "nothing of the refused batch was added"
        );
        let overloaded = metrics
            .records_rejected_total
            .with_label_values(&["loans", "overloaded"]);
        assert_eq!(overloaded.get(), 6);
        // Once detection takes a window, the batch goes through.
        let window = closed.0.try_recv().unwrap();
        assert!(matches!(window, Closed::Drift { window, .. } if window.span.records == 10));
        assert_eq!(pipeline.ingest(&batch(6)).unwrap().accepted, 6);
        assert_eq!(
            metrics.records_total.with_label_values(&["loans"]).get(),
            50
        );
    }

    #[test]
    fn every_reason_validation_gives_has_a_declared_series() {
        for reason in REASON_NAMES {
            assert!(
                crate::metrics::REJECTION_REASONS.contains(&reason),
                "{reason}"
            );
        }
    }

    #[test]
    fn a_duration_window_closes_only_when_due() {
        let (pipeline, mut closed, _) = pipeline(Window::Duration(Duration::from_secs(60)));
        pipeline.ingest(&batch(3)).unwrap();
        let (_, opened) = pipeline.open_window();
        pipeline.close_if_due(opened + chrono::Duration::seconds(59));
        assert!(closed.0.try_recv().is_err());
        pipeline.close_if_due(opened + chrono::Duration::seconds(60));
        let closed = closed.0.try_recv().unwrap();
        assert!(matches!(closed, Closed::Drift { window, .. } if window.span.records == 3));
        assert_eq!(pipeline.open_window().0, 0);
    }

    #[test]
    fn after_ingest_stops_batches_are_refused_and_the_window_kept() {
        let (pipeline, _closed, _) = pipeline(Window::Records(100));
        pipeline.ingest(&batch(5)).unwrap();
        pipeline.stop_ingest();
        let refused = pipeline.ingest(&batch(5)).unwrap_err();
        assert!(
            matches!(refused, IngestError::ShuttingDown { .. }),
            "{refused}"
        );
        assert_eq!(pipeline.snapshot().records, 5);
    }
}
