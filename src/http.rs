//! The HTTP face of the daemon: `/metrics` (Prometheus text format),
//! `/healthz` (the process answers), `/readyz` (baselines loaded and both
//! listeners bound), and the JSON API: `/api/v1/models` (every model, its
//! baseline and open window) and `/api/v1/models/{model}/report` (the
//! latest window's report, the same JSON as `driftwatch report --json` plus
//! the window's span), `/api/v1/models/{model}/history?since=…&limit=…`
//! (stored window reports and alert transitions, oldest first) and
//! `/api/v1/alerts?since=…` (the pending and firing alerts, and every
//! model's transitions). Errors are JSON
//! `{"error": "..."}` documents.

use crate::alerting::ActiveAlerts;
use crate::config::Window;
use crate::config::duration::parse_duration;
use crate::metrics::Metrics;
use crate::pipeline::ModelPipeline;
use crate::store::db::{Db, blocking};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
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
    /// Report history and alert transitions.
    pub db: Db,
    /// The pending and firing alerts.
    pub active: ActiveAlerts,
}

/// History served when `since` is left out: the last day.
const DEFAULT_SINCE: TimeDelta = TimeDelta::days(1);
/// Reports (and transitions) in one history answer when `limit` is left out.
const DEFAULT_LIMIT: usize = 1000;
/// The most a `limit` may ask for.
const MAX_LIMIT: usize = 10_000;

/// The routes, ready to serve.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/api/v1/models", get(models))
        .route("/api/v1/models/{model}/report", get(report))
        .route("/api/v1/models/{model}/history", get(history))
        .route("/api/v1/alerts", get(alerts))
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

/// The answer for a model that is not monitored.
fn unknown_model(state: &HttpState, name: &str) -> Response {
    let known: Vec<&str> = state.models.keys().map(String::as_str).collect();
    error(
        StatusCode::NOT_FOUND,
        format!(
            "unknown model {name:?}: this daemon monitors {}",
            known.join(", ")
        ),
    )
}

async fn report(State(state): State<HttpState>, Path(name): Path<String>) -> Response {
    let Some(model) = state.models.get(&name) else {
        return unknown_model(&state, &name);
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

/// `?since=…&limit=…` of a history request.
#[derive(Deserialize)]
struct HistoryQuery {
    /// An RFC 3339 time, or a duration back from now (`1h`, `7d`).
    since: Option<String>,
    limit: Option<usize>,
}

async fn history(
    State(state): State<HttpState>,
    Path(name): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Response {
    if !state.models.contains_key(&name) {
        return unknown_model(&state, &name);
    }
    let (since, limit) = match window(query.since.as_deref(), query.limit) {
        Ok(window) => window,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let db = state.db.clone();
    let model = name.clone();
    let read = blocking(move || {
        let reports = db.reports_since(&model, since, limit)?;
        let transitions = db.transitions_since(Some(&model), since, limit)?;
        Ok((reports, transitions))
    })
    .await;
    match read {
        Ok((reports, transitions)) => Json(json!({
            "model": name,
            "since": since,
            "reports": raw(reports.iter().map(|r| r.json.as_str())),
            "transitions": raw(transitions.iter().map(|t| t.json.as_str())),
        }))
        .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// A history request's `since` and `limit`, defaults filled in and checked.
fn window(since: Option<&str>, limit: Option<usize>) -> Result<(DateTime<Utc>, usize), String> {
    let since = match since {
        None => Utc::now() - DEFAULT_SINCE,
        Some(text) => self::since(text)?,
    };
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(format!("limit: expected 1 to {MAX_LIMIT}, got {limit}"));
    }
    Ok((since, limit))
}

/// `since` as a time: RFC 3339, or a duration before now.
fn since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let back = parse_duration(text).map_err(|_| {
        format!("since: expected an RFC 3339 time (2026-01-01T00:00:00Z) or a duration such as 1h or 7d, got {text:?}")
    })?;
    let back = TimeDelta::from_std(back).unwrap_or(TimeDelta::MAX);
    Ok(Utc::now()
        .checked_sub_signed(back)
        .unwrap_or(DateTime::<Utc>::MIN_UTC))
}

/// Stored JSON documents, as they are.
fn raw<'a>(documents: impl Iterator<Item = &'a str>) -> Vec<Box<RawValue>> {
    documents
        .filter_map(|d| RawValue::from_string(d.to_owned()).ok())
        .collect()
}

/// `?since=…&limit=…` of the alerts request: which transitions to list.
#[derive(Deserialize)]
struct AlertsQuery {
    since: Option<String>,
    limit: Option<usize>,
}

/// The pending and firing alerts, and the transitions of every model since
/// `since` (default: the last day).
async fn alerts(State(state): State<HttpState>, Query(query): Query<AlertsQuery>) -> Response {
    let (since, limit) = match window(query.since.as_deref(), query.limit) {
        Ok(window) => window,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let active = state.active.borrow().clone();
    let db = state.db.clone();
    match blocking(move || db.transitions_since(None, since, limit)).await {
        Ok(transitions) => Json(json!({
            "alerts": active,
            "since": since,
            "transitions": raw(transitions.iter().map(|t| t.json.as_str())),
        }))
        .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
