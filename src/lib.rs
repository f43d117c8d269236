//! driftwatch: drift monitoring for models in production.
//!
//! The library holds everything; `src/main.rs` only parses the command line
//! and calls in. The module layout follows `DESIGN.md`, arrows pointing
//! down: `stats` (pure statistics) and `schema` (column kinds) ←
//! `dataset` (reading data files) ← `baseline` (the frozen training
//! profile) ← `detect` (tests of a current sample against a baseline) ←
//! `report` (the offline command's input and output).
//!
//! The daemon adds: `config` (its typed configuration), `proto` (the
//! generated wire contract) ← `ingest` (validation of live batches, and the
//! tonic service) ← `window` (bounded live windows) ← `pipeline` (one
//! model's path from a batch to a window report) ← `alert` (rules, their
//! firing state and notification groups) ← `notify` (the durable outbox's
//! delivery to Slack, webhooks, retraining webhooks and Alertmanager) ←
//! `alerting` (the task that commits a window's alerts and notifications
//! together); `metrics` (the Prometheus registry), `http` (metrics, health,
//! the report, history and alerts API), `store` (window snapshots, and the
//! SQLite database of alert state, outbox and history), and `daemon`
//! (wiring and shutdown). `traffic` makes synthetic records for
//! any model from its baseline; `loadgen` sends them to a running daemon,
//! and `demo` shows the whole path on loopback. `join` is the bounded
//! buffer that will join delayed labels (`SendOutcomes`) to sampled
//! records; the daemon does not use it yet.

#![forbid(unsafe_code)]

pub mod alert;
pub mod alerting;
pub mod baseline;
pub mod config;
pub mod daemon;
pub mod dataset;
pub mod demo;
pub mod detect;
pub mod http;
pub mod ingest;
pub mod join;
pub mod loadgen;
pub mod metrics;
pub mod notify;
pub mod pipeline;
pub mod proto;
pub mod quality;
pub mod report;
pub mod schema;
pub mod stats;
pub mod store;
pub mod traffic;
pub mod window;
