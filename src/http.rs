//! The HTTP face of the daemon: `/metrics` (Prometheus text format),
//! `/healthz` (the process answers), `/readyz` (baselines loaded and both
//! listeners bound), and the JSON API: `/api/v1/models` (every model, its
//! baseline and open window) and `/api/v1/models/{model}/report` (the
//! latest window's report, the same JSON as `driftwatch report --json` plus
//! the window's span). Errors are JSON `{"error": "..."}` documents.

use crate::config::Window;
use crate::metrics::Metrics;
use crate::pipeline::ModelPipeline;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the handlers read.
#[derive(Clone)]
pub struct HttpState {
    pub models: Arc<BTreeMap<String, Arc<ModelPipeline>>>,
    pub metrics: Metrics,
    /// True once the daemon serves on both listeners.
    pub ready: Arc<AtomicBool>,
}

/// The routes, ready to serve.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/api/v1/models", get(models))
        .route("/api/v1/models/{model}/report", get(report))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such endpoint: see /api/v1/models, /metrics, /healthz, /readyz".into(),
            )
        })
        .with_state(state)
}

async fn metrics(State(state): State<HttpState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn readyz(State(state): State<HttpState>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        "ready\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn models(State(state): State<HttpState>) -> Json<Value> {
    let models: Vec<Value> = state.models.values().map(|m| describe(m)).collect();
    Json(json!({ "models": models }))
}

fn describe(model: &ModelPipeline) -> Value {
    let config = model.config();
    let baseline = model.baseline();
    let (records, opened) = model.open_window();
    let window = match config.window {
        Window::Records(n) => json!({ "records": n }),
        Window::Duration(d) => json!({ "duration_seconds": d.as_secs_f64() }),
    };
    json!({
        "name": model.name(),
        "baseline": {
            "path": config.baseline_path,
            "rows": baseline.rows,
            "created_at": baseline.created_at,
            "source_sha256": baseline.source.sha256,
        },
        "features": baseline.columns.iter().map(|c| json!({ "name": c.name, "kind": c.profile.kind() })).collect::<Vec<_>>(),
        "window": window,
        "min_samples": config.min_samples,
        "open_window": { "start": opened, "records": records },
        "last_window": model.latest().map(|r| json!(r.window)),
    })
}

async fn report(State(state): State<HttpState>, Path(name): Path<String>) -> Response {
    let Some(model) = state.models.get(&name) else {
        let known: Vec<&str> = state.models.keys().map(String::as_str).collect();
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "unknown model {name:?}: this daemon monitors {}",
                known.join(", ")
            ),
        );
    };
    match model.latest() {
        Some(report) => Json(&*report).into_response(),
        None => {
            let (records, _) = model.open_window();
            error(
                StatusCode::NOT_FOUND,
                format!(
                    "model {name:?} has no evaluated window yet ({records} records in the open window)"
                ),
            )
        }
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
