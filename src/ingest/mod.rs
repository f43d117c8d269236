//! Ingest: taking a model's live traffic in. This module owns what a batch
//! sent to the Ingest service (`proto/driftwatch/v1/ingest.proto`) means for
//! a model: which baseline columns its names refer to ([`ModelSchema`]), and
//! which records are accepted into the live sample and why the others are
//! rejected ([`validate::validate_into`]), and what the accepted records
//! give beyond the sample: ids, predictions, scores and operational
//! metrics ([`extract`]). Validation is pure and
//! synchronous — no I/O, no async — so the tonic service that calls it
//! ([`service`]) stays a thin shell around it, and its cost is measured on
//! its own (`benches/server.rs`).

mod columnar;
pub mod extract;
pub mod service;
pub mod validate;

use crate::baseline::Baseline;
pub use crate::config::UnknownFields;
use crate::detect::{ColumnSample, Sample, Values};
use crate::schema::Kind;
use rustc_hash::FxHashMap;

/// The most records one request may carry. At 25 features a record is about
/// 0.5 KiB in the row form, so this stays within gRPC's usual 4 MiB message
/// limit for the row form and lets the columnar form carry larger batches.
pub const MAX_RECORDS: usize = 65_536;

/// A model's columns as ingest looks them up: every record's every name is
/// resolved here, so the lookup is one hash of the name (FxHash, no
/// allocation).
#[derive(Debug, Clone)]
pub struct ModelSchema {
    kinds: Vec<Kind>,
    /// A sample of no records, which every batch's sample starts as (text
    /// columns share their baseline's compiled measure).
    empty: Sample,
    by_name: FxHashMap<String, usize>,
    unknown_fields: UnknownFields,
}

impl ModelSchema {
    /// The schema of the model whose baseline is `baseline`.
    pub fn new(baseline: &Baseline, unknown_fields: UnknownFields) -> ModelSchema {
        ModelSchema {
            kinds: baseline.columns.iter().map(|c| c.profile.kind()).collect(),
            empty: Sample {
                rows: 0,
                columns: (baseline.columns.iter())
                    .map(|c| ColumnSample::empty(&c.profile))
                    .collect(),
            },
            by_name: baseline
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i))
                .collect(),
            unknown_fields,
        }
    }

    /// The baseline column called `name`: its index in the baseline's
    /// columns (and in a [`Sample`]'s) and its kind.
    pub fn column(&self, name: &str) -> Option<(usize, Kind)> {
        self.by_name.get(name).map(|&i| (i, self.kinds[i]))
    }

    /// What happens to names that are not baseline columns.
    pub fn unknown_fields(&self) -> UnknownFields {
        self.unknown_fields
    }

    /// An empty live sample, one column per baseline column, for
    /// [`validate::validate_into`] to fill.
    pub fn empty_sample(&self) -> Sample {
        self.empty.clone()
    }

    /// Whether `given` has the dimension of column `c`, when that is an
    /// embedding column.
    fn check_dimension(
        &self,
        c: usize,
        given: validate::Given<'_>,
    ) -> Result<(), validate::Reason> {
        match (&self.empty.columns[c].values, given) {
            (Values::Embedding(e), validate::Given::Embedding(v))
                if v.len() != e.centroid.dim() =>
            {
                Err(validate::Reason::WrongDimension {
                    got: v.len(),
                    expected: e.centroid.dim(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The number of baseline columns.
    fn len(&self) -> usize {
        self.kinds.len()
    }
}

/// What the tests of both wire forms share: a small baseline and builders
/// of requests in either form.
#[cfg(test)]
pub(crate) mod testing {
    use super::{ModelSchema, UnknownFields};
    use crate::baseline::Baseline;
    use crate::baseline::build::{BuildOptions, build};
    use crate::baseline::profile::ProfileLimits;
    pub(crate) use crate::proto::convert::to_columnar;
    use crate::proto::v1::{Record, SendRequest, Value, value};
    use crate::schema::Kind;
    use std::collections::HashMap;
    use std::sync::OnceLock;

    /// A baseline of four columns: `age` and `score` numeric, `purpose`
    /// categorical, `notes` text.
    pub(crate) fn baseline() -> &'static Baseline {
        static BASELINE: OnceLock<Baseline> = OnceLock::new();
        BASELINE.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("reference.csv");
            let csv = "age,purpose,notes,score\n\
                       30,home,first loan for a house,0.5\n\
                       41,car,second hand car,0.75\n\
                       52,home,,0.25\n";
            std::fs::write(&input, csv).unwrap();
            let kinds = HashMap::from([("notes".to_string(), Kind::Text)]);
            let options = BuildOptions {
                input,
                model: "loans".into(),
                kinds,
                ignore: Default::default(),
                limits: ProfileLimits::default(),
                quality: None,
                text_patterns: Vec::new(),
            };
            build(&options, &mut |_, _| {}).unwrap()
        })
    }

    pub(crate) fn schema(unknown: UnknownFields) -> ModelSchema {
        ModelSchema::new(baseline(), unknown)
    }

    pub(crate) fn number(x: f64) -> Value {
        Value {
            kind: Some(value::Kind::Number(x)),
        }
    }

    pub(crate) fn category(s: &str) -> Value {
        Value {
            kind: Some(value::Kind::Category(s.into())),
        }
    }

    pub(crate) fn text(s: &str) -> Value {
        Value {
            kind: Some(value::Kind::Text(s.into())),
        }
    }

    pub(crate) fn flag(b: bool) -> Value {
        Value {
            kind: Some(value::Kind::Flag(b)),
        }
    }

    pub(crate) fn record(features: &[(&str, Value)], outputs: &[(&str, Value)]) -> Record {
        let map = |entries: &[(&str, Value)]| {
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        Record {
            features: map(features),
            outputs: map(outputs),
            ..Default::default()
        }
    }

    pub(crate) fn rows(records: Vec<Record>) -> SendRequest {
        SendRequest {
            model: "loans".into(),
            records,
            ..Default::default()
        }
    }
}
