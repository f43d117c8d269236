//! The columnar form of a batch: its shape is checked once per column (one
//! name lookup per column, not per value), then the shared kind rules of
//! `validate.rs` run down each column, and accepted rows are added column
//! by column. Row i of a column means exactly what the entry of the same
//! name in record i's map would mean in the row form, and a null row what
//! an absent entry would, so both forms reject the same records with the
//! same rejections and fill the same sample.

use super::validate::{Given, Outcome, Reason, RequestError, check_metric, read};
use super::validate::{MAX_REJECTIONS_LISTED, section_name};
use super::{ModelSchema, UnknownFields};
use crate::detect::{Datum, Sample, Values};
use crate::proto::v1::{Column, Section, SendRequest, TextColumn, column};
use crate::schema::Kind;
use rustc_hash::FxHashSet;

/// One column, its shape checked.
struct Plan<'a> {
    name: &'a str,
    section: Section,
    validity: &'a [u8],
    cells: Cells<'a>,
    target: Target,
}

/// What a column's values are for.
#[derive(Clone, Copy)]
enum Target {
    /// A baseline column; `features` is the features column of the same
    /// name, for an outputs column (a row given in both is rejected).
    Baseline {
        index: usize,
        kind: Kind,
        features: Option<usize>,
    },
    Unknown,
    Metric,
}

/// A column's values, borrowed from the request.
enum Cells<'a> {
    Numbers(&'a [f64]),
    Categories {
        dictionary: &'a [String],
        codes: &'a [u32],
    },
    Texts {
        data: &'a str,
        offsets: &'a [u32],
    },
    Flags(&'a [bool]),
}

impl<'a> Cells<'a> {
    fn get(&self, row: usize) -> Given<'a> {
        match *self {
            Cells::Numbers(v) => Given::Number(v[row]),
            Cells::Categories { dictionary, codes } => {
                Given::Category(&dictionary[codes[row] as usize])
            }
            Cells::Texts { data, offsets } => {
                Given::Text(&data[offsets[row] as usize..offsets[row + 1] as usize])
            }
            Cells::Flags(v) => Given::Flag(v[row]),
        }
    }
}

impl Plan<'_> {
    fn is_valid(&self, row: usize) -> bool {
        is_set(self.validity, row)
    }
}

/// One column of an accepted batch, read row by row (its shape was
/// checked by [`validate`]).
pub(super) struct ColumnReader<'a> {
    validity: &'a [u8],
    cells: Cells<'a>,
}

impl<'a> ColumnReader<'a> {
    /// A reader of `column`, of a batch of `rows` rows; `None` when its
    /// shape is not one [`validate`] accepts.
    pub(super) fn new(column: &'a Column, rows: usize) -> Option<ColumnReader<'a>> {
        let validity = column.validity.as_slice();
        let cells = cells(column, rows, validity).ok()?;
        Some(ColumnReader { validity, cells })
    }

    /// Row `row`'s value (`Given::Null` for a null row).
    pub(super) fn get(&self, row: usize) -> Given<'a> {
        if is_set(self.validity, row) {
            self.cells.get(row)
        } else {
            Given::Null
        }
    }
}

/// Row `row` of a checked `ids` column.
pub(super) fn text_at(ids: &TextColumn, row: usize) -> &str {
    let (start, end) = (ids.offsets[row] as usize, ids.offsets[row + 1] as usize);
    std::str::from_utf8(&ids.data[start..end]).unwrap_or_default()
}

/// Whether row `row` holds a value by an Arrow validity bitmap (empty: all do).
fn is_set(validity: &[u8], row: usize) -> bool {
    validity.is_empty() || validity[row / 8] & (1 << (row % 8)) != 0
}

pub(super) fn validate(
    schema: &ModelSchema,
    request: &SendRequest,
    sample: &mut Sample,
    outcome: &mut Outcome,
) -> Result<(), RequestError> {
    let rows = request.row_count as usize;
    check_row_fields(request, rows)?;
    let plans = plan(schema, &request.columns, rows)?;
    let rejected = check_rows(schema, &plans, rows, outcome);
    add_rows(schema, &plans, &rejected, sample, outcome);
    Ok(())
}

/// Checks the shape of the per-row `ids` and `time_unix_nano`.
fn check_row_fields(request: &SendRequest, rows: usize) -> Result<(), RequestError> {
    if let Some(ids) = &request.ids {
        texts(ids, rows).map_err(|problem| shape_error("ids".into(), problem))?;
    }
    let times = request.time_unix_nano.len();
    if times != 0 && times != rows {
        let problem = format!("holds {times} times, expected 0 or {rows} (row_count)");
        return Err(shape_error("time_unix_nano".into(), problem));
    }
    Ok(())
}

fn shape_error(field: String, problem: String) -> RequestError {
    RequestError::Column { field, problem }
}

/// Checks every column's shape and finds what it is for.
fn plan<'a>(
    schema: &ModelSchema,
    columns: &'a [Column],
    rows: usize,
) -> Result<Vec<Plan<'a>>, RequestError> {
    let mut seen = FxHashSet::default();
    let mut plans = Vec::with_capacity(columns.len());
    for (i, column) in columns.iter().enumerate() {
        let section = match Section::try_from(column.section) {
            Ok(Section::Unspecified) | Err(_) => {
                let problem = "has no section: set FEATURES, OUTPUTS or METRICS".into();
                return Err(shape_error(
                    format!("column {i} ({:?})", column.name),
                    problem,
                ));
            }
            Ok(section) => section,
        };
        let field = || format!("column {}.{}", section_name(section), column.name);
        if !seen.insert((section, column.name.as_str())) {
            return Err(shape_error(field(), "given twice".into()));
        }
        let plan = plan_column(schema, column, section, rows)
            .map_err(|problem| shape_error(field(), problem))?;
        plans.push(plan);
    }
    link_outputs_to_features(&mut plans);
    Ok(plans)
}

fn plan_column<'a>(
    schema: &ModelSchema,
    column: &'a Column,
    section: Section,
    rows: usize,
) -> Result<Plan<'a>, String> {
    let validity = column.validity.as_slice();
    if !validity.is_empty() && validity.len() != rows.div_ceil(8) {
        return Err(format!(
            "the validity bitmap has {} bytes, expected 0 or {} (row_count / 8, rounded up)",
            validity.len(),
            rows.div_ceil(8)
        ));
    }
    let cells = cells(column, rows, validity)?;
    let target = match (section, schema.column(&column.name)) {
        (Section::Metrics, _) if !matches!(cells, Cells::Numbers(_)) => {
            return Err("holds no numbers: metrics take `numbers` only".into());
        }
        (Section::Metrics, Some((index, Kind::Numeric))) => Target::Baseline {
            index,
            kind: Kind::Numeric,
            features: None,
        },
        (Section::Metrics, _) => Target::Metric,
        (_, Some((index, kind))) => Target::Baseline {
            index,
            kind,
            features: None,
        },
        (_, None) => Target::Unknown,
    };
    Ok(Plan {
        name: &column.name,
        section,
        validity,
        cells,
        target,
    })
}

/// Borrows a column's values, checking that there is one per row and that
/// every non-null row's value can be read.
fn cells<'a>(column: &'a Column, rows: usize, validity: &[u8]) -> Result<Cells<'a>, String> {
    let count = |got: usize| {
        if got == rows {
            Ok(())
        } else {
            Err(format!("holds {got} values, expected {rows} (row_count)"))
        }
    };
    match &column.data {
        None => Err("holds no data: set numbers, categories, texts or flags".into()),
        Some(column::Data::Numbers(n)) => count(n.values.len()).map(|()| Cells::Numbers(&n.values)),
        Some(column::Data::Flags(f)) => count(f.values.len()).map(|()| Cells::Flags(&f.values)),
        Some(column::Data::Texts(t)) => texts(t, rows),
        Some(column::Data::Categories(d)) => {
            count(d.codes.len())?;
            let bad =
                d.codes.iter().enumerate().find(|&(row, &code)| {
                    code as usize >= d.dictionary.len() && is_set(validity, row)
                });
            if let Some((row, code)) = bad {
                return Err(format!(
                    "row {row} has code {code}, outside the dictionary of {} labels",
                    d.dictionary.len()
                ));
            }
            Ok(Cells::Categories {
                dictionary: &d.dictionary,
                codes: &d.codes,
            })
        }
    }
}

/// Checks an Arrow-style string array of `rows` strings.
fn texts(t: &TextColumn, rows: usize) -> Result<Cells<'_>, String> {
    if t.offsets.len() != rows + 1 {
        return Err(format!(
            "holds {} offsets, expected {} (row_count + 1)",
            t.offsets.len(),
            rows + 1
        ));
    }
    let data = std::str::from_utf8(&t.data).map_err(|e| format!("data is not UTF-8 ({e})"))?;
    let mut previous = 0;
    for (i, &offset) in t.offsets.iter().enumerate() {
        let at = offset as usize;
        if (i > 0 && offset < previous) || at > data.len() || !data.is_char_boundary(at) {
            return Err(format!(
                "offset {i} ({offset}) is not a character boundary of data ({} bytes) at or after the one before",
                data.len()
            ));
        }
        previous = offset;
    }
    Ok(Cells::Texts {
        data,
        offsets: &t.offsets,
    })
}

/// Points each outputs (or metrics) column at the column of an earlier
/// section for the same baseline column, if any.
fn link_outputs_to_features(plans: &mut [Plan<'_>]) {
    for o in 0..plans.len() {
        let Target::Baseline { index, .. } = plans[o].target else {
            continue;
        };
        let section = plans[o].section;
        if section == Section::Features {
            continue;
        }
        let twin = plans.iter().position(|p| {
            (p.section as i32) < (section as i32)
                && matches!(p.target, Target::Baseline { index: i, .. } if i == index)
        });
        if let Target::Baseline { features, .. } = &mut plans[o].target {
            *features = twin;
        }
    }
}

/// One problem found: row, column (index into the plans), reason.
type Issue = (usize, usize, Reason);

/// Applies the kind rules to every non-null value; returns which rows are
/// rejected and lists the first problems, ordered as the row form orders
/// them (by row, then section, then name). A rejected row is counted under
/// the reason found first, column by column.
fn check_rows(
    schema: &ModelSchema,
    plans: &[Plan<'_>],
    rows: usize,
    outcome: &mut Outcome,
) -> Vec<bool> {
    let mut rejected = vec![false; rows];
    let mut issues: Vec<Issue> = Vec::new();
    let mut buffer = String::new();
    for (p, plan) in plans.iter().enumerate() {
        let mut found = 0;
        for row in (0..rows).filter(|&row| plan.is_valid(row)) {
            let Err(reason) = check_value(schema, plans, plan, row, &mut buffer) else {
                continue;
            };
            if !rejected[row] {
                rejected[row] = true;
                outcome.reject(reason);
            }
            // A column's first problems are the only ones that can be
            // among the batch's first: keep no more of them.
            if found < MAX_REJECTIONS_LISTED {
                issues.push((row, p, reason));
                found += 1;
            }
        }
    }
    list(plans, issues, outcome);
    rejected
}

fn check_value(
    schema: &ModelSchema,
    plans: &[Plan<'_>],
    plan: &Plan<'_>,
    row: usize,
    buffer: &mut String,
) -> Result<(), Reason> {
    match plan.target {
        Target::Unknown if schema.unknown_fields() == UnknownFields::Ignore => Ok(()),
        Target::Unknown => Err(Reason::Unknown),
        Target::Metric => match plan.cells.get(row) {
            Given::Number(x) => check_metric(x),
            _ => Ok(()),
        },
        Target::Baseline { features, .. } if features.is_some_and(|f| plans[f].is_valid(row)) => {
            Err(Reason::InBoth)
        }
        Target::Baseline { kind, .. } => read(kind, plan.cells.get(row), buffer).map(drop),
    }
}

/// Lists the first problems in the row form's order.
fn list(plans: &[Plan<'_>], mut issues: Vec<Issue>, outcome: &mut Outcome) {
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&p| (plans[p].section as i32, plans[p].name));
    let mut rank = vec![0; plans.len()];
    for (r, &p) in order.iter().enumerate() {
        rank[p] = r;
    }
    issues.sort_unstable_by_key(|&(row, p, _)| (row, rank[p]));
    for (row, p, reason) in issues {
        outcome.list(row, plans[p].section, plans[p].name, reason);
    }
}

/// Adds the accepted rows to the sample, column by column, then counts a
/// missing value for every baseline column an accepted row did not give.
fn add_rows(
    schema: &ModelSchema,
    plans: &[Plan<'_>],
    rejected: &[bool],
    sample: &mut Sample,
    outcome: &mut Outcome,
) {
    let accepted = rejected.iter().filter(|&&r| !r).count() as u64;
    outcome.rejected_rows = (rejected.iter().enumerate())
        .filter(|(_, r)| **r)
        .map(|(row, _)| row as u32)
        .collect();
    let mut given = vec![0u64; schema.len()];
    for plan in plans {
        let rows = || (0..rejected.len()).filter(|&row| !rejected[row] && plan.is_valid(row));
        match plan.target {
            Target::Baseline { index, kind, .. } => {
                given[index] += add_column(plan, kind, rows(), sample, index);
            }
            Target::Unknown => outcome.unknown_ignored += rows().count() as u64,
            Target::Metric => {}
        }
    }
    for (column, &given) in sample.columns.iter_mut().zip(&given) {
        column.add(Datum::Missing, accepted - given);
    }
    sample.rows += accepted;
    outcome.accepted += accepted;
}

/// Adds one column's accepted values; returns how many.
fn add_column(
    plan: &Plan<'_>,
    kind: Kind,
    rows: impl Iterator<Item = usize>,
    sample: &mut Sample,
    index: usize,
) -> u64 {
    let column = &mut sample.columns[index];
    if let (Values::Numeric(values), Cells::Numbers(numbers)) = (&mut column.values, &plan.cells) {
        // The common case, and the one worth a straight copy: the numbers
        // were checked finite with their rows.
        let before = values.len();
        values.extend(rows.map(|row| numbers[row]));
        return (values.len() - before) as u64;
    }
    if let (Kind::Categorical, Cells::Categories { dictionary, codes }) = (kind, &plan.cells) {
        // Count codes first: one label lookup per distinct label, not per row.
        let mut counts = vec![0u64; dictionary.len()];
        for row in rows {
            counts[codes[row] as usize] += 1;
        }
        for (label, &n) in dictionary.iter().zip(&counts).filter(|(_, n)| **n > 0) {
            column.add(Datum::Label(label), n);
        }
        return counts.iter().sum();
    }
    let mut buffer = String::new();
    let mut added = 0;
    for row in rows {
        match read(kind, plan.cells.get(row), &mut buffer) {
            Ok(datum) => column.add(datum, 1),
            Err(_) => unreachable!("the value was checked with its row"),
        }
        added += 1;
    }
    added
}

#[cfg(test)]
mod tests {
    use crate::detect::{Sample, Values};
    use crate::ingest::UnknownFields;
    use crate::ingest::testing::{category, flag, number, record, rows, schema, text, to_columnar};
    use crate::ingest::validate::{Outcome, RequestError, validate_into};
    use crate::proto::v1::{
        Column, DictionaryColumn, NumberColumn, Record, Section, SendRequest, TextColumn, Value,
        column,
    };
    use proptest::prelude::*;

    fn run(
        unknown: UnknownFields,
        request: &SendRequest,
    ) -> Result<(Outcome, Sample), RequestError> {
        let schema = schema(unknown);
        let mut sample = schema.empty_sample();
        let outcome = validate_into(&schema, request, &mut sample)?;
        Ok((outcome, sample))
    }

    /// Checks that a batch gives the same answer in both forms; returns it.
    fn same_in_both_forms(unknown: UnknownFields, records: Vec<Record>) -> (Outcome, Sample) {
        let request = rows(records);
        let by_rows = run(unknown, &request).unwrap();
        let by_columns = run(unknown, &to_columnar(&request)).unwrap();
        assert_eq!(by_rows, by_columns);
        by_rows
    }

    fn numbers(name: &str, section: Section, values: Vec<f64>) -> Column {
        Column {
            name: name.into(),
            section: section as i32,
            validity: vec![],
            data: Some(column::Data::Numbers(NumberColumn { values })),
        }
    }

    fn columnar(row_count: u32, columns: Vec<Column>) -> SendRequest {
        SendRequest {
            model: "loans".into(),
            columns,
            row_count,
            ..Default::default()
        }
    }

    #[test]
    fn nulls_are_missing_and_values_of_every_kind_are_added() {
        let (outcome, sample) = same_in_both_forms(
            UnknownFields::Reject,
            vec![
                record(&[("age", number(30.0)), ("purpose", category("car"))], &[]),
                record(
                    &[("purpose", category("home"))],
                    &[("notes", text("ok then"))],
                ),
                record(&[("age", number(1.0)), ("purpose", category("car"))], &[]),
                record(&[], &[("notes", text("")), ("score", number(0.5))]),
            ],
        );
        assert_eq!(outcome.accepted, 4);
        assert_eq!(sample.columns[0].missing, 2);
        let Values::Categorical(counts) = &sample.columns[1].values else {
            panic!()
        };
        assert_eq!((counts["car"], counts["home"]), (2, 1));
        assert_eq!(sample.columns[2].values.len(), 2);
    }

    #[test]
    fn rejections_match_the_row_form() {
        let mut metric = record(&[("age", number(2.0))], &[]);
        metric.metrics.insert("latency_ms".into(), f64::NAN);
        let (outcome, _) = same_in_both_forms(
            UnknownFields::Reject,
            vec![
                record(&[("age", number(f64::NAN)), ("notes", number(1.0))], &[]),
                record(&[("agee", number(1.0))], &[("score", number(1.0))]),
                metric,
                record(&[("age", number(3.0))], &[]),
            ],
        );
        assert_eq!((outcome.accepted, outcome.rejected), (1, 3));
        let fields: Vec<(u32, &str)> = outcome
            .rejections
            .iter()
            .map(|r| (r.record, r.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (0, "features.age"),
                (0, "features.notes"),
                (1, "features.agee"),
                (2, "metrics.latency_ms")
            ]
        );
    }

    #[test]
    fn a_name_in_features_and_outputs_rejects_the_rows_that_give_both() {
        let mut features = numbers("age", Section::Features, vec![1.0, 2.0, 3.0]);
        features.validity = vec![0b011];
        let mut outputs = numbers("age", Section::Outputs, vec![0.0, 5.0, 6.0]);
        outputs.validity = vec![0b110];
        let (outcome, sample) =
            run(UnknownFields::Reject, &columnar(3, vec![features, outputs])).unwrap();
        assert_eq!((outcome.accepted, outcome.rejected), (2, 1));
        assert_eq!(outcome.rejected_by_reason, [0, 0, 0, 1, 0]);
        assert_eq!(outcome.rejections[0].record, 1);
        assert_eq!(outcome.rejections[0].field, "outputs.age");
        assert_eq!(sample.columns[0].values, Values::Numeric(vec![1.0, 6.0]));
    }

    #[test]
    fn unknown_columns_are_ignored_and_counted_per_value() {
        let mut unknown = numbers("agee", Section::Features, vec![1.0, 2.0, 3.0]);
        unknown.validity = vec![0b101];
        let request = columnar(3, vec![unknown]);
        let (outcome, sample) = run(UnknownFields::Ignore, &request).unwrap();
        assert_eq!((outcome.accepted, outcome.unknown_ignored), (3, 2));
        assert_eq!(sample.columns[0].missing, 3);
        let (outcome, _) = run(UnknownFields::Reject, &request).unwrap();
        assert_eq!((outcome.accepted, outcome.rejected), (1, 2));
        assert_eq!(outcome.rejected_by_reason, [0, 0, 2, 0, 0]);
    }

    #[test]
    fn a_dictionary_counts_each_label_once_per_row() {
        let purpose = Column {
            name: "purpose".into(),
            section: Section::Features as i32,
            validity: vec![0b1011],
            data: Some(column::Data::Categories(DictionaryColumn {
                dictionary: vec!["car".into(), "home".into(), "".into()],
                // Row 2 is null: its code is ignored even out of range.
                codes: vec![0, 1, 9, 2],
            })),
        };
        let (outcome, sample) = run(UnknownFields::Reject, &columnar(4, vec![purpose])).unwrap();
        assert_eq!(outcome.accepted, 4);
        let Values::Categorical(counts) = &sample.columns[1].values else {
            panic!()
        };
        assert_eq!(counts.len(), 2);
        assert_eq!(
            sample.columns[1].missing, 2,
            "a null row and an empty label"
        );
    }

    fn shape_error(request: SendRequest) -> String {
        run(UnknownFields::Reject, &request)
            .unwrap_err()
            .to_string()
    }

    fn texts(data: &[u8], offsets: Vec<u32>) -> Column {
        Column {
            name: "notes".into(),
            section: Section::Outputs as i32,
            validity: vec![],
            data: Some(column::Data::Texts(TextColumn {
                data: data.to_vec(),
                offsets,
            })),
        }
    }

    #[test]
    fn inconsistent_shapes_reject_the_request() {
        let age = |values| numbers("age", Section::Features, values);
        let cases: Vec<(SendRequest, &str)> = vec![
            (
                columnar(3, vec![age(vec![1.0, 2.0])]),
                "column features.age: holds 2 values, expected 3 (row_count)",
            ),
            (
                columnar(2, vec![age(vec![1.0, 2.0]), age(vec![1.0, 2.0])]),
                "column features.age: given twice",
            ),
            (
                columnar(
                    9,
                    vec![Column {
                        validity: vec![1],
                        ..age(vec![0.0; 9])
                    }],
                ),
                "the validity bitmap has 1 bytes, expected 0 or 2",
            ),
            (
                columnar(
                    1,
                    vec![Column {
                        data: None,
                        ..age(vec![])
                    }],
                ),
                "holds no data",
            ),
            (
                columnar(
                    1,
                    vec![Column {
                        section: 0,
                        ..age(vec![1.0])
                    }],
                ),
                "column 0 (\"age\"): has no section",
            ),
            (
                columnar(
                    1,
                    vec![Column {
                        section: 7,
                        ..age(vec![1.0])
                    }],
                ),
                "has no section",
            ),
            (
                columnar(2, vec![texts(b"ab", vec![0, 1])]),
                "holds 2 offsets, expected 3",
            ),
            (
                columnar(2, vec![texts(b"ab", vec![0, 2, 1])]),
                "offset 2 (1) is not a character boundary",
            ),
            (columnar(1, vec![texts(b"ab", vec![0, 3])]), "offset 1 (3)"),
            (
                columnar(1, vec![texts("é".as_bytes(), vec![0, 1])]),
                "offset 1 (1)",
            ),
            (
                columnar(1, vec![texts(&[0xc3, 0x28], vec![0, 2])]),
                "data is not UTF-8",
            ),
            (
                columnar(
                    1,
                    vec![Column {
                        section: Section::Metrics as i32,
                        ..texts(b"a", vec![0, 1])
                    }],
                ),
                "metrics take `numbers` only",
            ),
            (
                SendRequest {
                    time_unix_nano: vec![1, 2],
                    ..columnar(1, vec![])
                },
                "time_unix_nano: holds 2 times, expected 0 or 1",
            ),
            (
                SendRequest {
                    ids: Some(TextColumn {
                        data: vec![],
                        offsets: vec![0],
                    }),
                    ..columnar(1, vec![])
                },
                "ids: holds 1 offsets, expected 2",
            ),
            (columnar(0, vec![age(vec![])]), "carries no records"),
        ];
        for (request, expected) in cases {
            let err = shape_error(request);
            assert!(err.contains(expected), "{err:?} lacks {expected:?}");
        }
        let dictionary = Column {
            data: Some(column::Data::Categories(DictionaryColumn {
                dictionary: vec!["car".into()],
                codes: vec![0, 1],
            })),
            ..age(vec![])
        };
        let err = shape_error(columnar(2, vec![dictionary]));
        assert!(
            err.contains("row 1 has code 1, outside the dictionary of 1 labels"),
            "{err}"
        );
    }

    #[test]
    fn rows_with_no_column_are_records_with_every_column_missing() {
        let request = SendRequest {
            ids: Some(TextColumn {
                data: b"ab".to_vec(),
                offsets: vec![0, 1, 2],
            }),
            time_unix_nano: vec![1, 2],
            ..columnar(2, vec![])
        };
        let (outcome, sample) = run(UnknownFields::Reject, &request).unwrap();
        assert_eq!(outcome.accepted, 2);
        assert!(sample.columns.iter().all(|c| c.missing == 2));
    }

    /// A field's value in a generated batch: one kind per name, sometimes
    /// NaN, sometimes unset.
    fn value_of(kind: u8, pick: u8) -> Value {
        let words = ["home", "car", "", "héllo 42", "3"];
        let word = words[pick as usize % words.len()];
        match (kind, pick % 7) {
            (_, 6) => Value::default(),
            (0, 5) => number(f64::NAN),
            (0, _) => number(f64::from(pick) / 4.0),
            (1, _) => category(word),
            (2, _) => text(word),
            _ => flag(pick.is_multiple_of(2)),
        }
    }

    /// Names a batch may use, each in one section: the baseline's columns
    /// and one unknown name.
    const NAMES: [(&str, bool); 5] = [
        ("age", false),
        ("purpose", false),
        ("notes", true),
        ("score", true),
        ("bogus", false),
    ];

    fn batch(kinds: &[u8], cells: &[Vec<Option<u8>>], latency: &[Option<u8>]) -> Vec<Record> {
        cells
            .iter()
            .zip(latency)
            .map(|(row, latency)| {
                let mut r = Record::default();
                for ((&(name, output), &kind), pick) in NAMES.iter().zip(kinds).zip(row) {
                    let Some(pick) = *pick else { continue };
                    let value = value_of(kind, pick);
                    // An unset Value under an unknown name has no columnar twin.
                    if name == "bogus" && value.kind.is_none() {
                        continue;
                    }
                    let map = if output {
                        &mut r.outputs
                    } else {
                        &mut r.features
                    };
                    map.insert(name.into(), value);
                }
                if let Some(x) = latency {
                    let x = if *x == 0 {
                        f64::INFINITY
                    } else {
                        f64::from(*x)
                    };
                    r.metrics.insert("latency_ms".into(), x);
                }
                r
            })
            .collect()
    }

    proptest! {
        #[test]
        fn both_forms_accept_reject_and_sample_alike(
            kinds in prop::collection::vec(0u8..4, NAMES.len()),
            cells in prop::collection::vec(
                prop::collection::vec(prop::option::of(any::<u8>()), NAMES.len()),
                1..40,
            ),
            latency in prop::collection::vec(prop::option::of(0u8..20), 40),
            ignore in any::<bool>(),
        ) {
            let unknown = if ignore { UnknownFields::Ignore } else { UnknownFields::Reject };
            same_in_both_forms(unknown, batch(&kinds, &cells, &latency));
        }

        #[test]
        fn any_shape_is_an_answer_not_a_panic(
            row_count in 0u32..12,
            lengths in prop::collection::vec(0usize..14, 1..4),
            codes in prop::collection::vec(0u32..6, 14),
            validity in prop::collection::vec(any::<u8>(), 0..3),
            data in prop::collection::vec(any::<u8>(), 0..8),
            kind in 0u8..4,
        ) {
            let columns = lengths.iter().enumerate().map(|(i, &n)| {
                let data = match kind {
                    0 => column::Data::Numbers(NumberColumn { values: vec![f64::from(i as u8); n] }),
                    1 => column::Data::Categories(DictionaryColumn {
                        dictionary: vec!["a".into(), "b".into()],
                        codes: codes[..n].to_vec(),
                    }),
                    2 => column::Data::Texts(TextColumn { data: data.clone(), offsets: codes[..n].to_vec() }),
                    _ => column::Data::Flags(crate::proto::v1::FlagColumn { values: vec![true; n] }),
                };
                Column {
                    name: ["age", "purpose", "notes", "x"][i].into(),
                    section: (i % 3 + 1) as i32,
                    validity: validity.clone(),
                    data: Some(data),
                }
            });
            let _ = run(UnknownFields::Reject, &columnar(row_count, columns.collect()));
        }
    }
}
