//! JSON Lines: one JSON object per line. The keys of the first object, in
//! their order there, are the columns; a later line may leave keys out (they
//! read as missing) but may not add any. Blank lines are skipped. Each line
//! is parsed straight into the row's cells by a serde visitor, so no
//! intermediate `serde_json::Value` is built per line.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};

use super::{Cell, DatasetError, Location, Row, RowReader};

/// Large enough that a read call is amortised over many lines.
const BUFFER_BYTES: usize = 1 << 16;

/// The UTF-8 byte order mark, which some tools write before the first line.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Streams the rows of one JSON Lines file.
pub(super) struct JsonLinesReader {
    file: Arc<str>,
    input: BufReader<File>,
    /// The current line, reused between lines.
    line_bytes: Vec<u8>,
    columns: Columns,
    /// Which columns the current line has given a value, reused between lines.
    seen: Vec<bool>,
    /// The first row, parsed when the file was opened to learn the columns
    /// and handed out by the first [`RowReader::read_row`].
    first: Option<Row>,
    /// The physical line the last row was on.
    line: u64,
    row: u64,
    bytes: u64,
    size: Option<u64>,
}

/// The column names, with a lookup from name to position.
struct Columns {
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// True while the first line is read: its keys become the columns.
    growing: bool,
}

/// What made a line unacceptable, noted by the visitors (whose own error type
/// only carries a message) and turned into a [`DatasetError`] afterwards.
enum Problem {
    UnknownKey(String),
    RepeatedKey(usize),
    Nested { column: usize, got: &'static str },
}

impl JsonLinesReader {
    /// Reads the first object of `handle`, which `file` names, to learn the
    /// columns.
    pub(super) fn new(file: String, handle: File) -> Result<JsonLinesReader, DatasetError> {
        let size = handle.metadata().ok().map(|m| m.len());
        let mut reader = JsonLinesReader {
            file: file.into(),
            input: BufReader::with_capacity(BUFFER_BYTES, handle),
            line_bytes: Vec::new(),
            columns: Columns {
                names: Vec::new(),
                index: HashMap::new(),
                growing: true,
            },
            seen: Vec::new(),
            first: None,
            line: 0,
            row: 0,
            bytes: 0,
            size,
        };
        let mut first = Row::default();
        if !reader.parse_next(&mut first)? {
            return Err(DatasetError::Empty {
                file: reader.file.to_string(),
                expected: "a JSON object on the first line",
            });
        }
        if reader.columns.names.is_empty() {
            return Err(DatasetError::NoColumns {
                at: reader.location(),
            });
        }
        reader.columns.growing = false;
        reader.first = Some(first);
        Ok(reader)
    }

    /// Reads the next non-blank line into `row`; `Ok(false)` at the end.
    fn parse_next(&mut self, row: &mut Row) -> Result<bool, DatasetError> {
        loop {
            self.line_bytes.clear();
            let read = self
                .input
                .read_until(b'\n', &mut self.line_bytes)
                .map_err(|source| DatasetError::Read {
                    at: self.location(),
                    source,
                })?;
            if read == 0 {
                return Ok(false);
            }
            self.bytes += read as u64;
            self.line += 1;
            let text = content(self.line, &self.line_bytes);
            let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
                continue;
            };
            self.row += 1;
            if let Some(got) = non_object(text[start]) {
                return Err(DatasetError::NotAnObject {
                    at: self.location(),
                    got,
                });
            }
            self.parse_line(row)?;
            return Ok(true);
        }
    }

    /// Parses the current line, which holds something other than
    /// whitespace, into `row`.
    fn parse_line(&mut self, row: &mut Row) -> Result<(), DatasetError> {
        row.resize(self.columns.names.len());
        self.seen.clear();
        self.seen.resize(self.columns.names.len(), false);
        let mut problem = None;
        let text = content(self.line, &self.line_bytes);
        let mut deserializer = serde_json::Deserializer::from_slice(text);
        let parsed = ObjectSeed {
            columns: &mut self.columns,
            row,
            seen: &mut self.seen,
            problem: &mut problem,
        }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
        if let Err(err) = parsed {
            return Err(self.line_error(problem, &err));
        }
        // Keys the line left out are missing values.
        for (cell, seen) in row.cells.iter_mut().zip(&self.seen) {
            if !seen {
                *cell = Cell::Missing;
            }
        }
        Ok(())
    }

    /// The error for a line that failed to parse: the problem a visitor
    /// noted, or else the JSON syntax error.
    fn line_error(&self, problem: Option<Problem>, err: &serde_json::Error) -> DatasetError {
        let at = self.location();
        let column = |i: usize| self.columns.names[i].clone();
        match problem {
            Some(Problem::UnknownKey(key)) => DatasetError::UnknownKey { at, key },
            Some(Problem::RepeatedKey(i)) => DatasetError::RepeatedKey { at, key: column(i) },
            Some(Problem::Nested { column: i, got }) => DatasetError::NestedValue {
                at,
                column: column(i),
                got,
            },
            None => {
                // Each line is parsed on its own, so serde's "at line 1
                // column N" would mislead: keep only the byte offset.
                let message = err.to_string();
                let suffix = format!(" at line {} column {}", err.line(), err.column());
                let message = match message.strip_suffix(&suffix) {
                    Some(stripped) => format!("{stripped} (byte {} of the line)", err.column()),
                    None => message,
                };
                DatasetError::InvalidJson { at, message }
            }
        }
    }
}

impl RowReader for JsonLinesReader {
    fn columns(&self) -> &[String] {
        &self.columns.names
    }

    fn read_row(&mut self, row: &mut Row) -> Result<bool, DatasetError> {
        if let Some(first) = self.first.take() {
            *row = first;
            return Ok(true);
        }
        self.parse_next(row)
    }

    fn location(&self) -> Location {
        Location {
            file: self.file.clone(),
            line: Some(self.line),
            row: self.row,
        }
    }

    fn progress(&self) -> (u64, Option<u64>) {
        (self.bytes, self.size)
    }
}

/// The content of line `line`: without its LF or CRLF ending (so that
/// serde's error positions stay on the line), and without the byte order
/// mark the first line may start with.
fn content(line: u64, bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    match line {
        1 => bytes.strip_prefix(BOM).unwrap_or(bytes),
        _ => bytes,
    }
}

/// What a line starting with `byte` holds, if that is plainly not an object;
/// `None` for `{` and for bytes that start no JSON value (serde reports those).
fn non_object(byte: u8) -> Option<&'static str> {
    match byte {
        b'[' => Some("an array"),
        b'"' => Some("a string"),
        b't' | b'f' => Some("a bool"),
        b'n' => Some("null"),
        b'-' | b'0'..=b'9' => Some("a number"),
        _ => None,
    }
}

/// Parses one object into a row, noting which columns it gave a value.
struct ObjectSeed<'a> {
    columns: &'a mut Columns,
    row: &'a mut Row,
    seen: &'a mut Vec<bool>,
    problem: &'a mut Option<Problem>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut position = 0;
        while let Some(column) = map.next_key_seed(KeySeed {
            columns: self.columns,
            position,
            problem: self.problem,
        })? {
            position += 1;
            if self.columns.growing {
                self.row.resize(self.columns.names.len());
                self.seen.resize(self.columns.names.len(), false);
            }
            if std::mem::replace(&mut self.seen[column], true) {
                *self.problem = Some(Problem::RepeatedKey(column));
                return Err(de::Error::custom("repeated key"));
            }
            map.next_value_seed(CellSeed {
                cell: &mut self.row.cells[column],
                column,
                problem: self.problem,
            })?;
        }
        Ok(())
    }
}

/// Turns a key into its column's position. `position` is how many keys of
/// this object came before: lines usually repeat the first line's key order,
/// so the column at that position is tried before the hash lookup.
struct KeySeed<'a> {
    columns: &'a mut Columns,
    position: usize,
    problem: &'a mut Option<Problem>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = usize;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<usize, E> {
        let columns = self.columns;
        if columns
            .names
            .get(self.position)
            .is_some_and(|name| name == key)
        {
            return Ok(self.position);
        }
        if let Some(&column) = columns.index.get(key) {
            return Ok(column);
        }
        if columns.growing {
            columns.index.insert(key.to_owned(), columns.names.len());
            columns.names.push(key.to_owned());
            return Ok(columns.names.len() - 1);
        }
        *self.problem = Some(Problem::UnknownKey(key.to_owned()));
        Err(E::custom("unknown key"))
    }
}

/// Writes one value into its cell.
struct CellSeed<'a> {
    cell: &'a mut Cell,
    column: usize,
    problem: &'a mut Option<Problem>,
}

impl CellSeed<'_> {
    /// Notes that the value is `got`, which no cell can hold.
    fn nested<E: de::Error>(self, got: &'static str) -> E {
        *self.problem = Some(Problem::Nested {
            column: self.column,
            got,
        });
        E::custom("nested value")
    }
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, string, bool or null")
    }

    fn visit_bool<E>(self, value: bool) -> Result<(), E> {
        *self.cell = Cell::Bool(value);
        Ok(())
    }

    fn visit_i64<E>(self, value: i64) -> Result<(), E> {
        *self.cell = Cell::Number(value as f64);
        Ok(())
    }

    fn visit_u64<E>(self, value: u64) -> Result<(), E> {
        *self.cell = Cell::Number(value as f64);
        Ok(())
    }

    fn visit_f64<E>(self, value: f64) -> Result<(), E> {
        *self.cell = Cell::Number(value);
        Ok(())
    }

    fn visit_str<E>(self, value: &str) -> Result<(), E> {
        self.cell.set_text(value);
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        *self.cell = Cell::Missing;
        Ok(())
    }

    /// An array of numbers (an embedding) is kept as its JSON text, which an
    /// embedding column reads (any other column takes it as that text).
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use std::fmt::Write as _;
        let mut text = String::from("[");
        loop {
            match seq.next_element::<f64>() {
                Ok(Some(x)) => {
                    let comma = if text.len() > 1 { "," } else { "" };
                    let _ = write!(text, "{comma}{x}");
                }
                Ok(None) => break,
                Err(_) => return Err(self.nested("an array of other than numbers")),
            }
        }
        text.push(']');
        self.cell.set_text(&text);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.nested("an object"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::open;
    use super::*;
    use std::path::{Path, PathBuf};

    /// Writes `content` to `name` in a fresh temporary directory.
    fn write(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    /// Reads every row of `path`, with the line each was on.
    fn read_all(path: &Path) -> Result<Vec<(u64, Vec<Cell>)>, DatasetError> {
        let mut reader = open(path)?;
        let mut row = Row::default();
        let mut rows = Vec::new();
        while reader.read_row(&mut row)? {
            let at = reader.location();
            assert_eq!(at.row, rows.len() as u64 + 1);
            rows.push((at.line.unwrap(), row.cells().to_vec()));
        }
        Ok(rows)
    }

    /// The error of reading all of a file named `name` holding `content`,
    /// with the temporary directory's path taken out.
    fn error_of(name: &str, content: &str) -> String {
        let (dir, path) = write(name, content.as_bytes());
        let err = read_all(&path).unwrap_err().to_string();
        err.replace(&format!("{}/", dir.path().display()), "")
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    #[test]
    fn reads_values_of_every_kind() {
        let content = concat!(
            "{\"b\": 1, \"a\": \"x\", \"c\": true, \"d\": null}\n",
            "\n",
            "{\"a\": \"y\\n\\u00e9\", \"d\": -2.5e3}\r\n",
            "  {\"d\": 18446744073709551615, \"c\": false, \"b\": -7}  \n",
        );
        let (_dir, path) = write("data.jsonl", content.as_bytes());
        assert_eq!(open(&path).unwrap().columns(), ["b", "a", "c", "d"]);
        assert_eq!(
            read_all(&path).unwrap(),
            [
                (
                    1,
                    vec![
                        Cell::Number(1.0),
                        text("x"),
                        Cell::Bool(true),
                        Cell::Missing
                    ]
                ),
                (
                    3,
                    vec![
                        Cell::Missing,
                        text("y\né"),
                        Cell::Missing,
                        Cell::Number(-2500.0)
                    ]
                ),
                (
                    4,
                    vec![
                        Cell::Number(-7.0),
                        Cell::Missing,
                        Cell::Bool(false),
                        Cell::Number(18446744073709551615.0)
                    ]
                ),
            ]
        );
    }

    #[test]
    fn bom_and_missing_final_newline() {
        let (_dir, path) = write("data.ndjson", b"\xEF\xBB\xBF{\"a\": 1}\n{\"a\": 2}");
        assert_eq!(
            read_all(&path).unwrap(),
            [(1, vec![Cell::Number(1.0)]), (2, vec![Cell::Number(2.0)])]
        );
    }

    #[test]
    fn progress_reaches_the_file_size() {
        let content = b"{\"a\": 1}\n{\"a\": 2}\n";
        let (_dir, path) = write("data.jsonl", content);
        let mut reader = open(&path).unwrap();
        let mut row = Row::default();
        while reader.read_row(&mut row).unwrap() {}
        let size = content.len() as u64;
        assert_eq!(reader.progress(), (size, Some(size)));
    }

    #[test]
    fn single_line_file() {
        let (_dir, path) = write("data.json", b"{\"a\": \"only\"}\n");
        assert_eq!(read_all(&path).unwrap(), [(1, vec![text("only")])]);
    }

    #[test]
    fn empty_file_is_an_error() {
        for content in ["", "\n \n", "\u{feff}"] {
            assert_eq!(
                error_of("data.jsonl", content),
                "data.jsonl: file is empty (expected a JSON object on the first line)"
            );
        }
    }

    #[test]
    fn first_object_without_keys_is_an_error() {
        assert_eq!(
            error_of("data.jsonl", "\n{}\n"),
            "data.jsonl line 2: expected at least one key in the first object, to name the columns"
        );
    }

    #[test]
    fn nested_values_name_line_and_column() {
        let content =
            "{\"id\": 1, \"age\": 3}\n{\"id\": 2, \"age\": 4}\n{\"id\": 3, \"age\": [\"x\"]}\n";
        assert_eq!(
            error_of("data.jsonl", content),
            r#"data.jsonl line 3, column "age": expected a number, string, bool or null, got an array of other than numbers"#
        );
        assert_eq!(
            error_of("data.jsonl", "{\"id\": {\"x\": 1}}\n"),
            r#"data.jsonl line 1, column "id": expected a number, string, bool or null, got an object"#
        );
    }

    #[test]
    fn new_key_after_the_first_line_is_an_error() {
        assert_eq!(
            error_of("data.jsonl", "{\"a\": 1}\n{\"a\": 2, \"b\": 3}\n"),
            r#"data.jsonl line 2: key "b" is not a column: the first line defines the columns"#
        );
    }

    #[test]
    fn repeated_key_is_an_error() {
        assert_eq!(
            error_of("data.jsonl", "{\"a\": 1, \"a\": 2}\n"),
            r#"data.jsonl line 1: key "a" appears twice"#
        );
    }

    #[test]
    fn invalid_json_names_the_line() {
        let content = "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n{\"a\": 4,}\n";
        assert_eq!(
            error_of("data.jsonl", content),
            "data.jsonl line 4: not valid JSON: trailing comma (byte 9 of the line)"
        );
        assert_eq!(
            error_of("data.jsonl", "{\"a\": 1} 2\n"),
            "data.jsonl line 1: not valid JSON: trailing characters (byte 10 of the line)"
        );
        assert_eq!(
            error_of("data.jsonl", "{\"a\": 1}\n{\"a\": \n"),
            "data.jsonl line 2: not valid JSON: EOF while parsing a value (byte 6 of the line)"
        );
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let (dir, path) = write("data.jsonl", b"{\"a\": \"ok\"}\n{\"a\": \"\xFF\"}\n");
        let err = read_all(&path).unwrap_err().to_string();
        let err = err.replace(&format!("{}/", dir.path().display()), "");
        assert!(
            err.starts_with("data.jsonl line 2: not valid JSON: invalid unicode code point"),
            "{err}"
        );
    }

    #[test]
    fn lines_that_are_not_objects() {
        for (line, got) in [
            ("[1, 2]", "an array"),
            ("\"a\"", "a string"),
            ("true", "a bool"),
            ("null", "null"),
            ("-1", "a number"),
        ] {
            assert_eq!(
                error_of("data.jsonl", &format!("{{\"a\": 1}}\n{line}\n")),
                format!("data.jsonl line 2: expected a JSON object, got {got}")
            );
        }
    }

    #[test]
    fn keys_out_of_order_and_escaped() {
        let content = "{\"a\": 1, \"b\": 2}\n{\"b\": 3, \"\\u0061\": 4}\n";
        let (_dir, path) = write("data.jsonl", content.as_bytes());
        assert_eq!(
            read_all(&path).unwrap()[1],
            (2, vec![Cell::Number(4.0), Cell::Number(3.0)])
        );
    }
}
