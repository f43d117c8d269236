//! driftwatch: drift monitoring for models in production.
//!
//! The library holds everything; `src/main.rs` only parses the command line
//! and calls in. The module layout follows `DESIGN.md`: `stats` (pure
//! statistics) ← `baseline` (the frozen training profile) ← `detect` (tests of
//! a current sample against a baseline) ← `report` (rendering).

pub mod dataset;
pub mod stats;
