//! Wiring: starts the daemon's tasks, connects them with bounded channels,
//! and stops them in order.
//!
//! ```text
//! gRPC Ingest ─▶ ModelPipeline (per model) ─▶ closed windows ─▶ evaluator ─▶ reports ─▶ alerting ─▶ notifiers
//! HTTP /metrics, /api ◀── metrics and latest reports
//! ticker: closes duration windows on time, checkpoints open windows to data_dir
//! ```
//!
//! Shutdown (SIGTERM, SIGINT, or [`Daemon::stop`]) drains: the gRPC
//! listener stops taking calls and open streams end, the windows already
//! closed are evaluated and their alerts committed to the outbox
//! ([`crate::alerting`]), every open window is written to `data_dir` (and
//! restored at the next start, so no accepted record is lost), the
//! notifications due are delivered until a deadline (the rest wait in the
//! outbox for the next start), and the HTTP listener goes last.

use crate::alerting::{ActiveAlerts, Alerting};
use crate::config::Config;
use crate::detect::{DetectOptions, planned_tests};
use crate::http::{HttpState, router};
use crate::ingest::service::IngestService;
use crate::metrics::Metrics;
use crate::notify::NotifyError;
use crate::pipeline::{ModelPipeline, window_limits};
use crate::proto::v1::FILE_DESCRIPTOR_SET;
use crate::proto::v1::ingest_server::IngestServer;
use crate::store::db::Db;
use crate::store::{StoreError, WindowStore};
use crate::window::{LiveWindow, WindowShape};
use chrono::Utc;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;

/// The largest request the gRPC listener decodes: a row-form batch of a few
/// thousand records, or a columnar batch of tens of thousands.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// How the daemon runs, beyond its configuration.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// How often open windows are written to `data_dir`, so that even a
    /// crash loses at most this much traffic.
    pub checkpoint_every: Duration,
    /// How long shutdown waits for streams to end and deliveries to go out.
    pub drain_deadline: Duration,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        DaemonOptions {
            checkpoint_every: Duration::from_secs(10),
            drain_deadline: Duration::from_secs(10),
        }
    }
}

/// Why the daemon could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
    #[error("the HTTP server failed: {0}")]
    Http(std::io::Error),
    #[error(transparent)]
    Notify(#[from] NotifyError),
}

/// A running daemon.
pub struct Daemon {
    /// Where the gRPC Ingest service listens (the bound port when the
    /// config asked for port 0).
    pub grpc_addr: SocketAddr,
    /// Where the HTTP endpoints listen.
    pub http_addr: SocketAddr,
    stop: watch::Sender<bool>,
    done: JoinHandle<Result<(), DaemonError>>,
}

type Models = Arc<BTreeMap<String, Arc<ModelPipeline>>>;

impl Daemon {
    /// Restores the models' windows, binds both listeners and starts
    /// serving. Must be called within a tokio runtime.
    pub async fn start(config: Config, options: DaemonOptions) -> Result<Daemon, DaemonError> {
        let store = WindowStore::open(&config.server.data_dir)?;
        let db = Db::open(&config.server.data_dir)?;
        let metrics = Metrics::new();
        declare_series(&config, &metrics);
        let (alerting, active) = Alerting::start(&config, db.clone(), metrics.clone()).await?;
        let (reports_tx, reports) = mpsc::channel(16);
        let mut models = BTreeMap::new();
        let mut evaluators = Vec::new();
        for model in &config.models {
            let restored = restore(&store, model);
            let (pipeline, closed) = ModelPipeline::new(model, restored, metrics.clone());
            restore_labels(&store, &pipeline);
            evaluators.push(tokio::spawn(
                Arc::clone(&pipeline).evaluate_all(closed, reports_tx.clone()),
            ));
            models.insert(model.name.clone(), pipeline);
        }
        drop(reports_tx);
        let models: Models = Arc::new(models);
        let grpc = bind("gRPC", config.server.grpc_addr).await?;
        let http = bind("HTTP", config.server.http_addr).await?;
        let (grpc_addr, http_addr) = (local(&grpc), local(&http));
        let (stop, stopping) = watch::channel(false);
        let ready = Arc::new(AtomicBool::new(false));
        let running = Running {
            grpc: serve_grpc(grpc, &config, &models, stopping.clone()).await,
            http: serve_http(
                http,
                Web {
                    models: &models,
                    metrics: &metrics,
                    ready: &ready,
                    db: &db,
                    active,
                },
                stopping.clone(),
            ),
            ticker: tokio::spawn(tick(
                Arc::clone(&models),
                store.clone(),
                options.clone(),
                stopping.clone(),
            )),
            alerting: tokio::spawn(alerting.run(reports, options.drain_deadline)),
            evaluators,
            models,
            store,
            options,
        };
        ready.store(true, Ordering::Release);
        tracing::info!(%grpc_addr, %http_addr, models = config.models.len(), "driftwatch is serving");
        let done = tokio::spawn(running.until_stopped(stopping, ready));
        Ok(Daemon {
            grpc_addr,
            http_addr,
            stop,
            done,
        })
    }

    /// Begins the drain; [`Daemon::wait`] returns when it is over.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Waits until the daemon has stopped (after [`Daemon::stop`]).
    pub async fn wait(self) -> Result<(), DaemonError> {
        self.done.await.expect("the daemon task does not panic")
    }

    /// Starts on `config` and serves until SIGTERM or SIGINT, then drains
    /// and returns. The signal handlers are installed before anything
    /// starts, so a signal that comes as soon as the daemon says it serves
    /// still drains it.
    pub async fn serve_until_signal(
        config: Config,
        options: DaemonOptions,
    ) -> Result<(), DaemonError> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler can be installed");
        let mut int = signal(SignalKind::interrupt()).expect("a SIGINT handler can be installed");
        let daemon = Daemon::start(config, options).await?;
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining"),
            _ = int.recv() => tracing::info!("SIGINT: draining"),
        }
        daemon.stop();
        daemon.wait().await
    }
}

/// The tasks of a running daemon, in the order they stop.
struct Running {
    grpc: JoinHandle<Result<(), tonic::transport::Error>>,
    evaluators: Vec<JoinHandle<()>>,
    alerting: JoinHandle<()>,
    ticker: JoinHandle<()>,
    http: JoinHandle<std::io::Result<()>>,
    models: Models,
    store: WindowStore,
    options: DaemonOptions,
}

impl Running {
    async fn until_stopped(
        self,
        mut stopping: watch::Receiver<bool>,
        ready: Arc<AtomicBool>,
    ) -> Result<(), DaemonError> {
        stopped(&mut stopping).await;
        ready.store(false, Ordering::Release);
        let deadline = tokio::time::Instant::now() + self.options.drain_deadline;
        let grpc = tokio::time::timeout_at(deadline, self.grpc).await;
        for model in self.models.values() {
            model.stop_ingest();
        }
        for evaluator in self.evaluators {
            let _ = evaluator.await;
        }
        let _ = self.ticker.await;
        save_all(&self.models, &self.store);
        save_labels(&self.models, &self.store);
        let _ = self.alerting.await;
        let http = self.http.await.expect("the HTTP task does not panic");
        tracing::info!("driftwatch stopped");
        match grpc {
            Ok(served) => served.expect("the gRPC task does not panic")?,
            Err(_) => tracing::warn!("gRPC calls still open at the drain deadline were cut"),
        }
        http.map_err(DaemonError::Http)
    }
}

/// A model's window from the last snapshot, if it has the model's shape.
fn restore(store: &WindowStore, model: &crate::config::ModelConfig) -> Option<LiveWindow> {
    let name = model.name.as_str();
    let set_aside = |why: String| match store.set_aside(name) {
        Ok(aside) => {
            tracing::warn!(model = name, %why, aside = %aside.display(), "window snapshot set aside; starting on an empty window")
        }
        Err(e) => {
            tracing::warn!(model = name, %why, error = %e, "window snapshot unusable and could not be set aside")
        }
    };
    match store.load(name) {
        Ok(Some(window))
            if WindowShape::new(&model.baseline, window_limits(model)).fits(&window) =>
        {
            tracing::info!(
                model = name,
                records = window.records,
                "open window restored"
            );
            Some(window)
        }
        Ok(Some(_)) => {
            set_aside("its columns are not those of the model's baseline".into());
            None
        }
        Ok(None) => None,
        Err(e) => {
            set_aside(e.to_string());
            None
        }
    }
}

/// Puts back a model's records waiting for labels, or sets an unusable
/// snapshot aside (its labels will then find no record).
fn restore_labels(store: &WindowStore, pipeline: &ModelPipeline) {
    let name = pipeline.name();
    let restored = match store.load_labels(name) {
        Ok(None) => return,
        Ok(Some(bytes)) => pipeline.restore_labels(&bytes).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match restored {
        Ok(()) => tracing::info!(model = name, "records waiting for labels restored"),
        Err(why) => match store.set_labels_aside(name) {
            Ok(aside) => {
                tracing::warn!(model = name, %why, aside = %aside.display(), "label snapshot set aside")
            }
            Err(e) => tracing::warn!(model = name, %why, error = %e, "label snapshot unusable"),
        },
    }
}

/// Saves every model's records waiting for labels (at shutdown: the
/// buffer can hold a million records, too many to write every checkpoint).
fn save_labels(models: &Models, store: &WindowStore) {
    for model in models.values() {
        let saved = match model.save_labels() {
            None => continue,
            Some(Ok(bytes)) => store
                .save_labels(model.name(), &bytes)
                .map_err(|e| e.to_string()),
            Some(Err(e)) => Err(e.to_string()),
        };
        if let Err(e) = saved {
            tracing::error!(model = model.name(), error = %e, "could not save the records waiting for labels");
        }
    }
}

fn save_all(models: &Models, store: &WindowStore) {
    for model in models.values() {
        let window = model.snapshot();
        match store.save(model.name(), &window) {
            Ok(()) => tracing::debug!(
                model = model.name(),
                records = window.records,
                "open window saved"
            ),
            Err(e) => {
                tracing::error!(model = model.name(), error = %e, "could not save the open window")
            }
        }
    }
}

/// Creates the metric series of every configured model, feature, rule and
/// notifier.
fn declare_series(config: &Config, metrics: &Metrics) {
    for model in &config.models {
        metrics.declare_model(&model.name);
        let planned = planned_tests(&model.baseline, &DetectOptions::from(model));
        for test in &planned {
            metrics.declare_test(&model.name, &test.feature, test.test.as_str(), test.p_value);
        }
        for column in &model.baseline.columns {
            metrics.declare_feature(&model.name, &column.name);
        }
        if let Some(quality) = &model.quality {
            metrics.declare_quality(&model.name, quality);
        }
    }
    for rule in &config.rules {
        metrics.declare_rule(&rule.model, &rule.name, rule.severity.as_str());
    }
    for notifier in &config.notifiers {
        metrics.declare_notifier(&notifier.name);
    }
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, DaemonError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| DaemonError::Bind { what, addr, source })
}

fn local(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .expect("a bound socket has an address")
}

async fn serve_grpc(
    listener: TcpListener,
    config: &Config,
    models: &Models,
    stopping: watch::Receiver<bool>,
) -> JoinHandle<Result<(), tonic::transport::Error>> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<IngestServer<IngestService>>().await;
    // Both versions of reflection: grpcurl before 1.9 and many other
    // tools still ask for v1alpha.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection()
        .build_v1()
        .expect("the descriptor set is valid");
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .expect("the descriptor set is valid");
    let service = IngestService::new(
        Arc::clone(models),
        config.server.auth_token.clone(),
        stopping.clone(),
    );
    let ingest = IngestServer::new(service).max_decoding_message_size(MAX_MESSAGE_BYTES);
    let mut stopping = stopping;
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(ingest)
        // Without TCP_NODELAY the server's small flow-control updates wait
        // for the client's delayed ACK (40 ms) once a stream's window fills:
        // a steady sender stalls every few batches (docs/performance.md).
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            async move {
                stopped(&mut stopping).await;
                health
                    .set_not_serving::<IngestServer<IngestService>>()
                    .await;
            },
        );
    tokio::spawn(server)
}

/// What the HTTP endpoints read.
struct Web<'a> {
    models: &'a Models,
    metrics: &'a Metrics,
    ready: &'a Arc<AtomicBool>,
    db: &'a Db,
    active: ActiveAlerts,
}

fn serve_http(
    listener: TcpListener,
    web: Web<'_>,
    stopping: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    let state = HttpState {
        models: Arc::clone(web.models),
        metrics: web.metrics.clone(),
        ready: Arc::clone(web.ready),
        db: web.db.clone(),
        active: web.active,
    };
    let mut stopping = stopping;
    tokio::spawn(async move {
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async move {
                stopped(&mut stopping).await;
            })
            .await
    })
}

/// Closes duration windows on time and checkpoints open windows, until
/// shutdown.
async fn tick(
    models: Models,
    store: WindowStore,
    options: DaemonOptions,
    mut stopping: watch::Receiver<bool>,
) {
    let mut clock = tokio::time::interval(Duration::from_millis(250));
    let mut checkpoint = tokio::time::interval(options.checkpoint_every);
    loop {
        tokio::select! {
            _ = clock.tick() => {
                let now = Utc::now();
                for model in models.values() {
                    model.tick(now);
                }
            }
            _ = checkpoint.tick() => {
                let (models, store) = (Arc::clone(&models), store.clone());
                let _ = tokio::task::spawn_blocking(move || save_all(&models, &store)).await;
            }
            () = stopped(&mut stopping) => return,
        }
    }
}

/// Resolves once shutdown has begun.
pub(crate) async fn stopped(stopping: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens after shutdown.
    let _ = stopping.wait_for(|&s| s).await;
}
