//! Validation of one batch against a model's schema: which records are
//! accepted into the live [`Sample`], and why the others are rejected. It
//! owns the rules both wire forms share (what kind of value each kind of
//! baseline column takes, what a missing value is, how rejections are named
//! and ordered) and the row form; `columnar.rs` applies the same rules to
//! the columnar form.
//!
//! A record is all-or-nothing: every field is checked first, and only a
//! record with no problem adds its values to the sample, so a sample never
//! holds part of a rejected record. Problems of the request as a whole are a
//! [`RequestError`] and accept nothing.
//!
//! `metrics` entries are finite numbers. One whose key is a numeric
//! baseline column is that column's value (drift-tested like a feature);
//! every one is also an operational stream, which `extract.rs` reads from
//! the accepted records.

use super::{MAX_RECORDS, ModelSchema, UnknownFields, columnar};
use crate::detect::{Datum, Sample};
use crate::proto::v1::{Record, Rejection, Section, SendRequest, SendResponse, Value, value};
use crate::schema::{Kind, number_label};
use std::fmt;

/// The most rejections one response lists; [`Outcome::rejected`] still
/// counts every rejected record. A batch from a broken sender would
/// otherwise answer with a message as large as itself.
pub const MAX_REJECTIONS_LISTED: usize = 100;

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Records whose values were added to the sample.
    pub accepted: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Why, by record and then by field, at most [`MAX_REJECTIONS_LISTED`].
    pub rejections: Vec<Rejection>,
    /// Fields of accepted records left out because their name is not a
    /// baseline column (with [`UnknownFields::Ignore`]).
    pub unknown_ignored: u64,
    /// Rejected records by the reason of one of their problems (the first
    /// found), indexed as [`REASON_NAMES`]: sums to `rejected`.
    pub rejected_by_reason: [u64; REASON_NAMES.len()],
    /// The rejected records' positions in this batch, ascending (not kept
    /// by [`Outcome::merge`]: positions mean nothing across batches).
    pub rejected_rows: Vec<u32>,
}

/// The reasons a record is rejected for, as metrics label them
/// (`driftwatch_records_rejected_total{reason}`).
pub const REASON_NAMES: [&str; 5] = [
    "not_finite",
    "wrong_kind",
    "unknown_field",
    "in_both",
    "wrong_dimension",
];

impl From<Outcome> for SendResponse {
    fn from(outcome: Outcome) -> SendResponse {
        SendResponse {
            accepted: outcome.accepted,
            rejected: outcome.rejected,
            rejections: outcome.rejections,
        }
    }
}

/// A problem with a request as a whole: nothing of it is accepted (the
/// service answers INVALID_ARGUMENT).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("the request carries no records: send `records`, or `columns` with `row_count` > 0")]
    Empty,
    #[error(
        "the request carries {got} records, more than the {max} one request may carry: split the batch"
    )]
    TooLarge { got: usize, max: usize },
    #[error(
        "the request mixes the row form ({records} records) with the columnar form (`columns`, `row_count`, `ids` or `time_unix_nano`): send one of them"
    )]
    BothForms { records: usize },
    #[error("columnar form, {field}: {problem}")]
    Column { field: String, problem: String },
}

/// Checks every record of `request` against `schema` and adds each accepted
/// record's values to `sample` (one more row; a baseline column the record
/// does not give is one more missing value of that column).
///
/// `sample` must have been made by [`ModelSchema::empty_sample`] of the same
/// schema (or be a later state of such a sample).
pub fn validate_into(
    schema: &ModelSchema,
    request: &SendRequest,
    sample: &mut Sample,
) -> Result<Outcome, RequestError> {
    assert_eq!(
        sample.columns.len(),
        schema.len(),
        "the sample was not made for this schema"
    );
    let columnar = !request.columns.is_empty()
        || request.row_count > 0
        || request.ids.is_some()
        || !request.time_unix_nano.is_empty();
    if columnar && !request.records.is_empty() {
        return Err(RequestError::BothForms {
            records: request.records.len(),
        });
    }
    let rows = if columnar {
        request.row_count as usize
    } else {
        request.records.len()
    };
    if rows == 0 {
        return Err(RequestError::Empty);
    }
    if rows > MAX_RECORDS {
        return Err(RequestError::TooLarge {
            got: rows,
            max: MAX_RECORDS,
        });
    }
    let mut outcome = Outcome::default();
    if columnar {
        columnar::validate(schema, request, sample, &mut outcome)?;
    } else {
        validate_records(schema, &request.records, sample, &mut outcome);
    }
    Ok(outcome)
}

/// One value as a sender gave it, whichever the wire form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Given<'a> {
    /// A `Value` with no kind set, or a null row of a column.
    Null,
    Number(f64),
    Category(&'a str),
    Text(&'a str),
    Flag(bool),
    /// A vector's components.
    Embedding(&'a [f32]),
}

impl<'a> Given<'a> {
    pub(super) fn of(value: &'a Value) -> Given<'a> {
        match &value.kind {
            None => Given::Null,
            Some(value::Kind::Number(x)) => Given::Number(*x),
            Some(value::Kind::Category(s)) => Given::Category(s),
            Some(value::Kind::Text(s)) => Given::Text(s),
            Some(value::Kind::Flag(b)) => Given::Flag(*b),
            Some(value::Kind::Embedding(e)) => Given::Embedding(&e.values),
        }
    }

    fn kind_name(self) -> &'static str {
        match self {
            Given::Null => "nothing",
            Given::Number(_) => "a number",
            Given::Category(_) => "a category",
            Given::Text(_) => "a text",
            Given::Flag(_) => "a flag",
            Given::Embedding(_) => "an embedding",
        }
    }
}

/// Why one field rejects its record. Small and `Copy`: the text is only
/// written for the rejections a response lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Reason {
    NotFinite(f64),
    WrongKind { column: Kind, got: &'static str },
    Unknown,
    InBoth,
    WrongDimension { got: usize, expected: usize },
}

impl Reason {
    /// The index of the reason's name in [`REASON_NAMES`].
    fn code(self) -> usize {
        match self {
            Reason::NotFinite(_) => 0,
            Reason::WrongKind { .. } => 1,
            Reason::Unknown => 2,
            Reason::InBoth => 3,
            Reason::WrongDimension { .. } => 4,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotFinite(x) => write!(
                f,
                "{x} is not a finite number (a missing value is an absent or unset field, or a null row of a column)"
            ),
            Reason::WrongKind { column, got } => write!(
                f,
                "wrong kind for the baseline: expected {} (the column is {column}), got {got}",
                expected(*column)
            ),
            Reason::Unknown => f.write_str("unknown field: not a column of the model's baseline"),
            Reason::InBoth => f.write_str(
                "given in both features and outputs, which share one namespace of column names",
            ),
            Reason::WrongDimension { got, expected } => {
                write!(f, "dimension {got}, the baseline's is {expected}")
            }
        }
    }
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Numeric => "a number or a flag",
        Kind::Categorical => "a category, a flag or a number",
        Kind::Text => "a text or a category",
        Kind::Embedding => "an embedding",
    }
}

/// The kind rules: what a value given for a column of kind `kind` adds to
/// the sample. `buffer` holds a number written as a label.
pub(super) fn read<'a>(
    kind: Kind,
    given: Given<'a>,
    buffer: &'a mut String,
) -> Result<Datum<'a>, Reason> {
    match (kind, given) {
        (_, Given::Null) => Ok(Datum::Missing),
        (_, Given::Number(x)) if !x.is_finite() => Err(Reason::NotFinite(x)),
        (Kind::Numeric, Given::Number(x)) => Ok(Datum::Number(x)),
        (Kind::Numeric, Given::Flag(b)) => Ok(Datum::Number(f64::from(u8::from(b)))),
        (Kind::Categorical, Given::Category(s)) => Ok(Datum::Label(s)),
        (Kind::Categorical, Given::Flag(b)) => Ok(Datum::Label(if b { "true" } else { "false" })),
        // As a report over a Parquet file reads a number in a categorical
        // column (`Cell::as_text`), so live and offline labels agree.
        (Kind::Categorical, Given::Number(x)) => Ok(Datum::Label(number_label(x, buffer))),
        (Kind::Text, Given::Text(s) | Given::Category(s)) => Ok(Datum::Text(s)),
        (Kind::Embedding, Given::Embedding(v)) => match v.iter().find(|x| !x.is_finite()) {
            Some(x) => Err(Reason::NotFinite(f64::from(*x))),
            None => Ok(Datum::Embedding(v)),
        },
        (column, given) => Err(Reason::WrongKind {
            column,
            got: given.kind_name(),
        }),
    }
}

/// The rule for a metric's value.
pub(super) fn check_metric(x: f64) -> Result<(), Reason> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(Reason::NotFinite(x))
    }
}

impl Outcome {
    /// Adds the outcome of the `batch`-th batch of a stream to this
    /// summary of the batches before it.
    pub fn merge(&mut self, batch: u32, other: Outcome) {
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.unknown_ignored += other.unknown_ignored;
        for (sum, n) in self
            .rejected_by_reason
            .iter_mut()
            .zip(other.rejected_by_reason)
        {
            *sum += n;
        }
        let room = MAX_REJECTIONS_LISTED.saturating_sub(self.rejections.len());
        self.rejections.extend(
            other
                .rejections
                .into_iter()
                .take(room)
                .map(|r| Rejection { batch, ..r }),
        );
    }

    /// Counts one rejected record, under `reason`.
    pub(super) fn reject(&mut self, reason: Reason) {
        self.rejected += 1;
        self.rejected_by_reason[reason.code()] += 1;
    }

    /// Lists one rejection of `record`'s field `name` in `section`, while
    /// the list has room.
    pub(super) fn list(&mut self, record: usize, section: Section, name: &str, reason: Reason) {
        if self.rejections.len() < MAX_REJECTIONS_LISTED {
            self.rejections.push(Rejection {
                record: record as u32,
                field: format!("{}.{name}", section_name(section)),
                reason: reason.to_string(),
                batch: 0,
            });
        }
    }
}

pub(super) fn section_name(section: Section) -> &'static str {
    match section {
        Section::Features => "features",
        Section::Outputs => "outputs",
        Section::Metrics => "metrics",
        Section::Unspecified => "unspecified",
    }
}

/// Where a record's values wait while the rest of it is checked: the
/// baseline column, its kind and the value.
type Checked<'a> = Vec<(usize, Kind, Given<'a>)>;

fn validate_records(
    schema: &ModelSchema,
    records: &[Record],
    sample: &mut Sample,
    outcome: &mut Outcome,
) {
    // `given_by[c] == i + 1` when record i gave column c: finds a name given
    // in both maps, and the columns a record lacks, without clearing a set
    // per record.
    let mut given_by = vec![0u32; schema.len()];
    let mut checked: Checked<'_> = Vec::with_capacity(schema.len());
    let mut buffer = String::new();
    for (i, record) in records.iter().enumerate() {
        let stamp = i as u32 + 1;
        checked.clear();
        let check = check_record(
            schema,
            i,
            record,
            stamp,
            &mut given_by,
            &mut checked,
            outcome,
        );
        match check {
            Ok(ignored) => {
                add_record(sample, &checked, &given_by, stamp, &mut buffer);
                outcome.accepted += 1;
                outcome.unknown_ignored += ignored;
            }
            Err(reason) => {
                outcome.reject(reason);
                outcome.rejected_rows.push(i as u32);
            }
        }
    }
}

/// Checks every field of record `i`, listing each problem; on success the
/// number of unknown fields ignored, else the first problem's reason.
fn check_record<'a>(
    schema: &ModelSchema,
    i: usize,
    record: &'a Record,
    stamp: u32,
    given_by: &mut [u32],
    checked: &mut Checked<'a>,
    outcome: &mut Outcome,
) -> Result<u64, Reason> {
    let mut first: Option<Reason> = None;
    let mut ignored = 0;
    let mut buffer = String::new();
    for (section, map) in [
        (Section::Features, &record.features),
        (Section::Outputs, &record.outputs),
    ] {
        for (name, value) in map {
            let given = Given::of(value);
            let result = match schema.column(name) {
                None if schema.unknown_fields() == UnknownFields::Ignore => {
                    ignored += 1;
                    continue;
                }
                None => Err(Reason::Unknown),
                Some((c, _)) if given_by[c] == stamp => Err(Reason::InBoth),
                Some((c, kind)) => {
                    given_by[c] = stamp;
                    checked.push((c, kind, given));
                    read(kind, given, &mut buffer).and_then(|_| schema.check_dimension(c, given))
                }
            };
            if let Err(reason) = result {
                first.get_or_insert(reason);
                outcome.list(i, section, name, reason);
            }
        }
    }
    for (name, &x) in &record.metrics {
        let checked_as_column = match schema.column(name) {
            Some((c, _)) if given_by[c] == stamp => Err(Reason::InBoth),
            Some((c, Kind::Numeric)) => {
                given_by[c] = stamp;
                checked.push((c, Kind::Numeric, Given::Number(x)));
                check_metric(x)
            }
            _ => check_metric(x),
        };
        if let Err(reason) = checked_as_column {
            first.get_or_insert(reason);
            outcome.list(i, Section::Metrics, name, reason);
        }
    }
    first.map_or(Ok(ignored), Err)
}

/// Adds a checked record to the sample: its values, and a missing value for
/// every column it did not give.
fn add_record(
    sample: &mut Sample,
    checked: &Checked<'_>,
    given_by: &[u32],
    stamp: u32,
    buffer: &mut String,
) {
    for &(c, kind, given) in checked {
        match read(kind, given, buffer) {
            Ok(datum) => sample.columns[c].add(datum, 1),
            Err(_) => unreachable!("the value was checked with the record"),
        }
    }
    for (column, _) in sample
        .columns
        .iter_mut()
        .zip(given_by)
        .filter(|(_, by)| **by != stamp)
    {
        column.add(Datum::Missing, 1);
    }
    sample.rows += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Values;
    use crate::ingest::testing::{category, flag, number, record, rows, schema, text};
    use crate::proto::v1::Record;
    use prost::Message as _;

    fn run(unknown: UnknownFields, records: Vec<Record>) -> (Outcome, Sample) {
        let schema = schema(unknown);
        let mut sample = schema.empty_sample();
        let outcome = validate_into(&schema, &rows(records), &mut sample).unwrap();
        (outcome, sample)
    }

    fn rejection(record: u32, field: &str, reason: &str) -> Rejection {
        Rejection {
            record,
            field: field.into(),
            reason: reason.into(),
            batch: 0,
        }
    }

    // Baseline column order: age, purpose, notes, score.
    const AGE: usize = 0;
    const PURPOSE: usize = 1;
    const NOTES: usize = 2;
    const SCORE: usize = 3;

    #[test]
    fn values_of_every_kind_are_added_and_absent_columns_are_missing() {
        let (outcome, sample) = run(
            UnknownFields::Reject,
            vec![
                record(
                    &[("age", number(30.0)), ("purpose", category("car"))],
                    &[("notes", text("héllo 42"))],
                ),
                record(&[("age", flag(true)), ("purpose", number(3.0))], &[]),
                record(&[("purpose", flag(false)), ("notes", category(""))], &[]),
                record(&[("age", Value::default()), ("purpose", category(""))], &[]),
            ],
        );
        assert_eq!((outcome.accepted, outcome.rejected), (4, 0));
        assert!(outcome.rejections.is_empty());
        assert_eq!(sample.rows, 4);
        let age = &sample.columns[AGE];
        assert_eq!(age.values, Values::Numeric(vec![30.0, 1.0]));
        assert_eq!(age.missing, 2, "absent in record 2, unset in record 3");
        let Values::Categorical(counts) = &sample.columns[PURPOSE].values else {
            panic!()
        };
        let expected = [("car", 1), ("3", 1), ("false", 1)];
        assert_eq!(counts.len(), 3);
        for (label, n) in expected {
            assert_eq!(counts[label], n, "{label}");
        }
        assert_eq!(sample.columns[PURPOSE].missing, 1, "an empty category");
        let Values::Text(d) = &sample.columns[NOTES].values else {
            panic!()
        };
        assert_eq!(
            d.descriptors[0],
            vec![8.0, 0.0],
            "an empty category is an empty text"
        );
        assert_eq!(sample.columns[NOTES].missing, 2);
        assert_eq!(sample.columns[SCORE].missing, 4);
    }

    #[test]
    fn every_wrong_kind_names_the_field_and_what_was_expected() {
        let (outcome, sample) = run(
            UnknownFields::Reject,
            vec![
                record(&[("age", category("30"))], &[]),
                record(&[("purpose", text("a car"))], &[]),
                record(&[("notes", number(1.0))], &[("score", text("high"))]),
                record(&[("notes", flag(true))], &[]),
            ],
        );
        assert_eq!((outcome.accepted, outcome.rejected), (0, 4));
        assert_eq!(outcome.rejected_by_reason, [0, 4, 0, 0, 0]);
        let wrong = |column: &str, expected: &str, got: &str| {
            format!(
                "wrong kind for the baseline: expected {expected} (the column is {column}), got {got}"
            )
        };
        let numeric = "a number or a flag";
        let text_ = "a text or a category";
        assert_eq!(
            outcome.rejections,
            vec![
                rejection(0, "features.age", &wrong("numeric", numeric, "a category")),
                rejection(
                    1,
                    "features.purpose",
                    &wrong("categorical", "a category, a flag or a number", "a text")
                ),
                rejection(2, "features.notes", &wrong("text", text_, "a number")),
                rejection(2, "outputs.score", &wrong("numeric", numeric, "a text")),
                rejection(3, "features.notes", &wrong("text", text_, "a flag")),
            ]
        );
        assert_eq!(sample, schema(UnknownFields::Reject).empty_sample());
    }

    #[test]
    fn an_embedding_survives_the_wire_and_fits_no_other_kind() {
        let embedding = Value {
            kind: Some(value::Kind::Embedding(crate::proto::v1::Embedding {
                values: vec![0.25, -1.5, f32::MIN_POSITIVE],
            })),
        };
        let request = rows(vec![record(&[("age", embedding)], &[])]);
        let decoded = SendRequest::decode(request.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded, request);
        let (outcome, _) = run(UnknownFields::Reject, decoded.records);
        let expected = "wrong kind for the baseline: expected a number or a flag \
                        (the column is numeric), got an embedding";
        assert_eq!(outcome.rejections, [rejection(0, "features.age", expected)]);
    }

    #[test]
    fn non_finite_numbers_are_rejected_naming_the_value() {
        let mut bad_metric = record(&[("age", number(1.0))], &[]);
        bad_metric
            .metrics
            .insert("latency_ms".into(), f64::INFINITY);
        bad_metric.metrics.insert("tokens_out".into(), 12.0);
        let (outcome, sample) = run(
            UnknownFields::Reject,
            vec![
                record(&[("age", number(f64::NAN))], &[]),
                record(&[("purpose", number(f64::NEG_INFINITY))], &[]),
                bad_metric,
            ],
        );
        assert_eq!((outcome.accepted, outcome.rejected), (0, 3));
        assert_eq!(outcome.rejected_by_reason, [3, 0, 0, 0, 0]);
        let fields: Vec<(u32, &str)> = outcome
            .rejections
            .iter()
            .map(|r| (r.record, r.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (0, "features.age"),
                (1, "features.purpose"),
                (2, "metrics.latency_ms")
            ]
        );
        let reasons: Vec<&str> = outcome.rejections.iter().map(|r| &r.reason[..]).collect();
        assert!(
            reasons[0].starts_with("NaN is not a finite number"),
            "{reasons:?}"
        );
        assert!(
            reasons[1].starts_with("-inf is not a finite number"),
            "{reasons:?}"
        );
        assert!(
            reasons[2].starts_with("inf is not a finite number"),
            "{reasons:?}"
        );
        assert_eq!(sample.rows, 0);
    }

    #[test]
    fn finite_metrics_are_checked_and_not_added() {
        let mut r = record(&[("age", number(1.0))], &[]);
        r.metrics.insert("latency_ms".into(), 12.5);
        let (outcome, sample) = run(UnknownFields::Reject, vec![r]);
        assert_eq!(outcome.accepted, 1);
        assert_eq!(sample.columns[AGE].values, Values::Numeric(vec![1.0]));
    }

    #[test]
    fn a_metric_named_as_a_numeric_column_is_that_column_s_value() {
        let mut r = record(&[("age", number(1.0))], &[]);
        r.metrics.insert("score".into(), 0.25);
        let mut twice = record(&[("score", number(0.5))], &[]);
        twice.metrics.insert("score".into(), 0.25);
        let (outcome, sample) = run(UnknownFields::Reject, vec![r, twice]);
        assert_eq!((outcome.accepted, outcome.rejected), (1, 1));
        assert_eq!(outcome.rejections[0].field, "metrics.score");
        assert_eq!(outcome.rejected_rows, [1]);
        let score = sample.columns.len() - 1;
        assert_eq!(sample.columns[score].values, Values::Numeric(vec![0.25]));
    }

    #[test]
    fn a_name_in_both_maps_rejects_the_record() {
        let (outcome, sample) = run(
            UnknownFields::Reject,
            vec![
                record(&[("age", number(30.0))], &[("age", number(31.0))]),
                record(&[("age", number(40.0))], &[("score", number(0.5))]),
            ],
        );
        assert_eq!((outcome.accepted, outcome.rejected), (1, 1));
        assert_eq!(
            outcome.rejections,
            vec![rejection(
                0,
                "outputs.age",
                "given in both features and outputs, which share one namespace of column names"
            )]
        );
        assert_eq!(sample.columns[AGE].values, Values::Numeric(vec![40.0]));
        assert_eq!(sample.columns[SCORE].values, Values::Numeric(vec![0.5]));
    }

    #[test]
    fn unknown_fields_reject_or_are_ignored_and_counted() {
        let records = || {
            vec![
                record(&[("age", number(1.0)), ("agee", number(2.0))], &[]),
                record(&[("age", number(3.0))], &[("label", flag(true))]),
            ]
        };
        let (outcome, sample) = run(UnknownFields::Reject, records());
        assert_eq!((outcome.accepted, outcome.rejected), (0, 2));
        let unknown = "unknown field: not a column of the model's baseline";
        assert_eq!(
            outcome.rejections,
            vec![
                rejection(0, "features.agee", unknown),
                rejection(1, "outputs.label", unknown)
            ]
        );
        assert_eq!(outcome.unknown_ignored, 0);
        assert_eq!(sample.rows, 0);

        let (outcome, sample) = run(UnknownFields::Ignore, records());
        assert_eq!((outcome.accepted, outcome.rejected), (2, 0));
        assert_eq!(outcome.unknown_ignored, 2);
        assert_eq!(sample.columns[AGE].values, Values::Numeric(vec![1.0, 3.0]));
    }

    #[test]
    fn a_rejected_record_adds_nothing_and_valid_ones_still_count() {
        let (outcome, sample) = run(
            UnknownFields::Reject,
            vec![
                record(&[("age", number(1.0))], &[]),
                // Valid age, bad purpose: the age must not reach the sample.
                record(&[("age", number(2.0)), ("purpose", text("x"))], &[]),
                record(&[("age", number(3.0))], &[]),
            ],
        );
        assert_eq!((outcome.accepted, outcome.rejected), (2, 1));
        assert_eq!(sample.rows, 2);
        assert_eq!(sample.columns[AGE].values, Values::Numeric(vec![1.0, 3.0]));
        assert_eq!(sample.columns[PURPOSE].missing, 2);
    }

    #[test]
    fn rejections_listed_are_capped_and_the_count_is_exact() {
        let bad = (0..250).map(|_| record(&[("age", text("x")), ("purpose", text("y"))], &[]));
        let (outcome, _) = run(UnknownFields::Reject, bad.collect());
        assert_eq!(outcome.rejected, 250);
        assert_eq!(outcome.rejections.len(), MAX_REJECTIONS_LISTED);
        let last = outcome.rejections.last().unwrap();
        assert_eq!((last.record, last.field.as_str()), (49, "features.purpose"));
        let response = SendResponse::from(outcome);
        assert_eq!((response.accepted, response.rejected), (0, 250));
    }

    #[test]
    fn whole_request_problems_accept_nothing() {
        let schema = schema(UnknownFields::Reject);
        let mut sample = schema.empty_sample();
        let mut check = |request: SendRequest, expected: RequestError| {
            let err = validate_into(&schema, &request, &mut sample).unwrap_err();
            assert_eq!(err, expected);
            assert!(!err.to_string().is_empty());
        };
        check(rows(vec![]), RequestError::Empty);
        let too_many = vec![Record::default(); MAX_RECORDS + 1];
        let got = MAX_RECORDS + 1;
        let max = MAX_RECORDS;
        check(rows(too_many), RequestError::TooLarge { got, max });
        let mut both = rows(vec![Record::default()]);
        both.row_count = 1;
        check(both, RequestError::BothForms { records: 1 });
        assert_eq!(sample, schema.empty_sample());
    }

    #[test]
    fn malformed_protobuf_is_a_decode_error_not_a_panic() {
        let garbage: &[&[u8]] = &[
            &[0xff, 0xff, 0xff],
            &[0x12, 0x05, 0x01],             // records: length past the end
            &[0x0a, 0x02, 0xc3, 0x28],       // model: invalid UTF-8
            &[0x1a, 0x03, 0x22, 0x09, 0x00], // a column with a truncated field
        ];
        for bytes in garbage {
            assert!(SendRequest::decode(*bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn the_descriptor_set_describes_the_ingest_service() {
        let set =
            prost_types::FileDescriptorSet::decode(crate::proto::v1::FILE_DESCRIPTOR_SET).unwrap();
        let ingest = set
            .file
            .iter()
            .find(|f| f.package() == "driftwatch.v1")
            .unwrap();
        let service = &ingest.service[0];
        assert_eq!(service.name(), "Ingest");
        let methods: Vec<&str> = service.method.iter().map(|m| m.name()).collect();
        assert_eq!(methods, ["Send", "SendStream", "SendOutcomes"]);
    }
}
