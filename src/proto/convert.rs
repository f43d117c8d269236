//! The row form of a batch rewritten in the columnar form, with the same
//! content: what a sender that builds records one by one would do to send
//! them at high rates, and what shows that both forms mean the same thing
//! (the tests of `ingest`, the batches of `traffic`).

use super::v1::{
    Column, DictionaryColumn, FlagColumn, NumberColumn, Record, Section, SendRequest, TextColumn,
    column, value,
};
use std::collections::BTreeMap;

/// The columnar form of a row-form batch: one column per (section, name)
/// found in any record, in that order, null where a record lacks the entry
/// or leaves its kind unset (no validity bitmap when no row is null); the
/// records' ids as `ids` when any has one, and their times as
/// `time_unix_nano` when any has one (0, "receive time", for a record
/// without one or with a time before 1970).
///
/// # Panics
///
/// When a name holds values of different kinds in different records (a
/// column holds one kind), or embeddings (the columnar form has no
/// embedding column).
pub fn to_columnar(request: &SendRequest) -> SendRequest {
    let records = &request.records;
    SendRequest {
        model: request.model.clone(),
        columns: columns(records),
        row_count: records.len() as u32,
        ids: ids(records),
        time_unix_nano: times(records),
        records: Vec::new(),
    }
}

fn columns(records: &[Record]) -> Vec<Column> {
    let n = records.len();
    let mut cells: BTreeMap<(i32, &str), Vec<Option<value::Kind>>> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        let features =
            (record.features.iter()).map(|(k, v)| (Section::Features, k, v.kind.clone()));
        let outputs = (record.outputs.iter()).map(|(k, v)| (Section::Outputs, k, v.kind.clone()));
        let metrics = (record.metrics.iter())
            .map(|(k, &x)| (Section::Metrics, k, Some(value::Kind::Number(x))));
        let entries = features.chain(outputs).chain(metrics);
        for (section, name, kind) in entries {
            cells
                .entry((section as i32, name))
                .or_insert_with(|| vec![None; n])[i] = kind;
        }
    }
    cells
        .into_iter()
        .map(|((section, name), cells)| Column {
            name: name.to_owned(),
            section,
            validity: validity(&cells),
            data: Some(data(name, &cells)),
        })
        .collect()
}

/// Arrow's validity bitmap of a column, empty when every row holds a value.
fn validity(cells: &[Option<value::Kind>]) -> Vec<u8> {
    if cells.iter().all(Option::is_some) {
        return Vec::new();
    }
    let mut bits = vec![0u8; cells.len().div_ceil(8)];
    for (i, _) in cells.iter().enumerate().filter(|(_, c)| c.is_some()) {
        bits[i / 8] |= 1 << (i % 8);
    }
    bits
}

/// A column's values, of the kind of its first value (numbers when it has
/// none); a null row holds the kind's default.
fn data(name: &str, cells: &[Option<value::Kind>]) -> column::Data {
    use value::Kind;
    match cells.iter().flatten().next() {
        None | Some(Kind::Number(_)) => column::Data::Numbers(NumberColumn {
            values: each(name, cells, |k| match k {
                Kind::Number(x) => Some(*x),
                _ => None,
            }),
        }),
        Some(Kind::Flag(_)) => column::Data::Flags(FlagColumn {
            values: each(name, cells, |k| match k {
                Kind::Flag(b) => Some(*b),
                _ => None,
            }),
        }),
        Some(Kind::Category(_)) => {
            column::Data::Categories(dictionary(&each(name, cells, |k| match k {
                Kind::Category(s) => Some(s.as_str()),
                _ => None,
            })))
        }
        Some(Kind::Text(_)) => column::Data::Texts(text_column(each(name, cells, |k| match k {
            Kind::Text(s) => Some(s.as_str()),
            _ => None,
        }))),
        Some(Kind::Embedding(_)) => panic!("{name:?}: the columnar form has no embedding column"),
    }
}

/// Every row's value as `read` takes it from the column's kind.
fn each<'a, T: Default>(
    name: &str,
    cells: &'a [Option<value::Kind>],
    read: impl Fn(&'a value::Kind) -> Option<T>,
) -> Vec<T> {
    let of_kind = |kind| {
        read(kind).unwrap_or_else(|| {
            panic!("{name:?} holds values of several kinds: a column holds one kind")
        })
    };
    cells
        .iter()
        .map(|c| c.as_ref().map_or_else(T::default, of_kind))
        .collect()
}

/// Labels dictionary-encoded: each distinct label once, sorted.
fn dictionary(labels: &[&str]) -> DictionaryColumn {
    let mut dictionary = labels.to_vec();
    dictionary.sort_unstable();
    dictionary.dedup();
    let codes = labels
        .iter()
        .map(|l| dictionary.binary_search(l).expect("every label is in it") as u32)
        .collect();
    DictionaryColumn {
        dictionary: dictionary.into_iter().map(str::to_owned).collect(),
        codes,
    }
}

/// Strings as an Arrow string array.
fn text_column<'a>(strings: impl IntoIterator<Item = &'a str>) -> TextColumn {
    let mut data = String::new();
    let mut offsets = vec![0u32];
    for s in strings {
        data.push_str(s);
        offsets.push(data.len() as u32);
    }
    TextColumn {
        data: data.into_bytes(),
        offsets,
    }
}

fn ids(records: &[Record]) -> Option<TextColumn> {
    records
        .iter()
        .any(|r| !r.id.is_empty())
        .then(|| text_column(records.iter().map(|r| r.id.as_str())))
}

fn times(records: &[Record]) -> Vec<u64> {
    if records.iter().all(|r| r.time.is_none()) {
        return Vec::new();
    }
    let nanos = |t: &prost_types::Timestamp| {
        u64::try_from(i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos)).unwrap_or(0)
    };
    records
        .iter()
        .map(|r| r.time.as_ref().map_or(0, nanos))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v1::Value;

    fn record(id: &str, time: Option<i64>, features: &[(&str, value::Kind)]) -> Record {
        Record {
            id: id.into(),
            time: time.map(|seconds| prost_types::Timestamp { seconds, nanos: 5 }),
            features: features
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Value {
                            kind: Some(v.clone()),
                        },
                    )
                })
                .collect(),
            ..Default::default()
        }
    }

    fn batch(records: Vec<Record>) -> SendRequest {
        SendRequest {
            model: "m".into(),
            records,
            ..Default::default()
        }
    }

    #[test]
    fn ids_times_and_nulls_carry_over() {
        let label = |s: &str| value::Kind::Category(s.into());
        let columnar = to_columnar(&batch(vec![
            record("a", Some(2), &[("c", label("y"))]),
            record("", None, &[("c", label("x"))]),
            record(
                "b",
                Some(-1),
                &[("c", label("y")), ("n", value::Kind::Number(1.5))],
            ),
        ]));
        assert_eq!(columnar.row_count, 3);
        assert!(columnar.records.is_empty());
        let ids = columnar.ids.unwrap();
        assert_eq!((ids.data, ids.offsets), (b"ab".to_vec(), vec![0, 1, 1, 2]));
        assert_eq!(columnar.time_unix_nano, [2_000_000_005, 0, 0]);
        let [c, n] = &columnar.columns[..] else {
            panic!("{:?}", columnar.columns)
        };
        assert!(c.validity.is_empty(), "no null row");
        let Some(column::Data::Categories(d)) = &c.data else {
            panic!()
        };
        assert_eq!(
            (&d.dictionary, &d.codes),
            (&vec!["x".into(), "y".into()], &vec![1, 0, 1])
        );
        assert_eq!(n.validity, [0b100]);
        let Some(column::Data::Numbers(v)) = &n.data else {
            panic!()
        };
        assert_eq!(v.values, [0.0, 0.0, 1.5]);
    }

    #[test]
    fn a_batch_without_ids_or_times_has_neither() {
        let columnar = to_columnar(&batch(vec![record("", None, &[])]));
        assert_eq!((columnar.ids, columnar.time_unix_nano), (None, vec![]));
        assert!(columnar.columns.is_empty());
    }

    #[test]
    #[should_panic(expected = "\"n\" holds values of several kinds")]
    fn a_name_of_two_kinds_has_no_column() {
        to_columnar(&batch(vec![
            record("", None, &[("n", value::Kind::Number(1.0))]),
            record("", None, &[("n", value::Kind::Flag(true))]),
        ]));
    }
}
