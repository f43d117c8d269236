//! driftwatch: drift monitoring for models in production.
//!
//! The library holds everything; `src/main.rs` only parses the command line
//! and calls in. The module layout follows `DESIGN.md`, arrows pointing
//! down: `stats` (pure statistics) and `schema` (column kinds) ←
//! `dataset` (reading data files) ← `baseline` (the frozen training
//! profile) ← `detect` (tests of a current sample against a baseline) ←
//! `report` (the offline command's input and output); beside it `proto`
//! (the generated wire contract) ← `ingest` (what a live batch means for a
//! model: validation into a current sample), and `config` (the daemon's
//! typed configuration and its validation). `traffic` makes synthetic
//! records for any model from its baseline, and `loadgen` sends them to a
//! running daemon.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod config;
pub mod daemon;
pub mod dataset;
pub mod detect;
pub mod http;
pub mod ingest;
pub mod loadgen;
pub mod metrics;
pub mod pipeline;
pub mod proto;
pub mod report;
pub mod schema;
pub mod stats;
pub mod store;
pub mod traffic;
pub mod window;
