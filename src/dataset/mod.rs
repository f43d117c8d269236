//! Streaming rows out of tabular data files: the format-neutral Row/Cell
//! model, the [`RowReader`] trait every format implements, the errors they
//! share and [`open`], which picks a reader from the file's extension. One
//! file per format (`csv.rs`, `jsonl.rs`, `parquet.rs`) owns the parsing.
//!
//! Readers hold one row (or one small batch, for Parquet) at a time, so a
//! file of any size is read in bounded memory. [`RowReader::read_row`] fills
//! a caller-owned [`Row`] and reuses its `String` buffers, so the hot loop of
//! a reader allocates nothing per cell once the first rows have been read.
//!
//! What each format turns into a [`Cell`]:
//! - CSV: an empty field (`,,` or `""`) is [`Cell::Missing`]; every other
//!   field is [`Cell::Text`] holding the raw field, spaces included. There is
//!   deliberately no list of "NA"-like spellings: the caller decides what a
//!   text means, so the reader stays predictable.
//! - JSON Lines: number → [`Cell::Number`], string → [`Cell::Text`], bool →
//!   [`Cell::Bool`], null or an absent key → [`Cell::Missing`].
//! - Parquet: integer, decimal, float and double columns → [`Cell::Number`],
//!   string columns → [`Cell::Text`], boolean → [`Cell::Bool`], null →
//!   [`Cell::Missing`].

mod csv;
mod jsonl;
mod parquet;
mod prefetch;

use std::fmt;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// A tabular file format, as told by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header line (`.csv`).
    Csv,
    /// One JSON object per line (`.jsonl`, `.ndjson`, `.json`).
    JsonLines,
    /// Apache Parquet (`.parquet`, `.pq`).
    Parquet,
}

impl Format {
    /// Tells the format from the extension of `path`, ignoring case.
    pub fn from_path(path: &Path) -> Result<Format, DatasetError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("jsonl" | "ndjson" | "json") => Ok(Format::JsonLines),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            _ => Err(DatasetError::UnknownFormat {
                file: path.display().to_string(),
            }),
        }
    }
}

/// One cell of a row. Readers overwrite cells in place, keeping the `String`
/// of a [`Cell::Text`] when the next value is text too.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Cell {
    /// No value: an empty CSV field, a JSON null or absent key, a Parquet null.
    #[default]
    Missing,
    Number(f64),
    Text(String),
    Bool(bool),
}

impl Cell {
    /// Whether the cell holds no value: [`Cell::Missing`], a NaN number
    /// (how pandas and Arrow write a missing float), or empty text — unless
    /// `empty_text_is_a_value`, as it is for free-text columns (an empty
    /// reply is a reply).
    pub fn is_missing(&self, empty_text_is_a_value: bool) -> bool {
        match self {
            Cell::Missing => true,
            Cell::Number(x) => x.is_nan(),
            Cell::Text(s) => s.is_empty() && !empty_text_is_a_value,
            Cell::Bool(_) => false,
        }
    }

    /// The cell as the text a category or a free-text value is compared
    /// by: text as it is, numbers in their shortest form, `true`/`false`;
    /// `buffer` holds the rendering when one is needed.
    pub fn as_text<'a>(&'a self, buffer: &'a mut String) -> &'a str {
        match self {
            Cell::Missing => "",
            Cell::Text(s) => s,
            Cell::Bool(b) => {
                if *b {
                    "true"
                } else {
                    "false"
                }
            }
            Cell::Number(x) => crate::schema::number_label(*x, buffer),
        }
    }

    /// Makes this cell `Text(text)`, reusing its buffer if it is text already.
    fn set_text(&mut self, text: &str) {
        match self {
            Cell::Text(buffer) => {
                buffer.clear();
                buffer.push_str(text);
            }
            _ => *self = Cell::Text(text.to_owned()),
        }
    }
}

/// One row of a file: a cell per column, in the order of
/// [`RowReader::columns`]. Create it once with [`Row::default`] and pass it to
/// every [`RowReader::read_row`] call so its buffers are reused.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    cells: Vec<Cell>,
}

impl Row {
    /// The cells, one per column.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The cell of column `i`.
    ///
    /// # Panics
    ///
    /// If `i` is not below the number of columns.
    pub fn get(&self, i: usize) -> &Cell {
        &self.cells[i]
    }

    /// Gives the row `len` cells, keeping the existing ones (and their
    /// buffers); called by readers before they fill it.
    fn resize(&mut self, len: usize) {
        self.cells.resize(len, Cell::Missing);
    }
}

/// Where a row came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as the caller named it.
    pub file: Arc<str>,
    /// CSV and JSON Lines: the 1-based physical line the row starts on,
    /// counting the header. `None` for Parquet.
    pub line: Option<u64>,
    /// The 1-based number of the data row (the header is not a row); 0 before
    /// the first row has been read.
    pub row: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {line}", self.file),
            None if self.row > 0 => write!(f, "{} row {}", self.file, self.row),
            None => f.write_str(&self.file),
        }
    }
}

/// A stream of rows out of one file.
pub trait RowReader: Send {
    /// Column names in file order: the CSV header; for JSON Lines the keys of
    /// the first line in their order there; for Parquet the schema's leaf
    /// columns, nested ones named by their dotted path.
    fn columns(&self) -> &[String];

    /// Reads the next row into `row`, reusing its buffers. `Ok(false)` at the
    /// end of the file, leaving `row` as it was.
    fn read_row(&mut self, row: &mut Row) -> Result<bool, DatasetError>;

    /// Where the last row read came from.
    fn location(&self) -> Location;

    /// Bytes consumed so far and the file's size, for a progress bar. Parquet
    /// estimates the bytes from the share of rows read.
    fn progress(&self) -> (u64, Option<u64>);
}

/// Opens `path` and returns a reader for its format (see [`Format::from_path`]).
/// The header (or Parquet schema) is read and checked here, so
/// [`RowReader::columns`] is ready at once; the rows are then parsed ahead
/// on a thread of their own (see `prefetch.rs`).
pub fn open(path: &Path) -> Result<Box<dyn RowReader>, DatasetError> {
    let format = Format::from_path(path)?;
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| DatasetError::Open {
        file: name.clone(),
        source,
    })?;
    let reader: Box<dyn RowReader> = match format {
        Format::Csv => Box::new(csv::CsvReader::new(name, file)?),
        Format::JsonLines => Box::new(jsonl::JsonLinesReader::new(name, file)?),
        Format::Parquet => Box::new(parquet::ParquetReader::new(name, file)?),
    };
    Ok(Box::new(prefetch::Prefetch::start(reader)))
}

/// Why a file could not be read. Every message names the file, and the line
/// (or row) and column where there is one.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The extension is not one [`Format::from_path`] knows.
    #[error(
        "{file}: unknown file format: expected the extension .csv, .jsonl, .ndjson, .json, .parquet or .pq"
    )]
    UnknownFormat { file: String },
    /// The file could not be opened.
    #[error("{file}: cannot open: {source}")]
    Open { file: String, source: io::Error },
    /// Reading failed part-way.
    #[error("{at}: cannot read: {source}")]
    Read { at: Location, source: io::Error },
    /// There is nothing to take the column names from.
    #[error("{file}: file is empty (expected {expected})")]
    Empty {
        file: String,
        expected: &'static str,
    },
    /// Two columns have the same name.
    #[error("{file}: column {name:?} appears twice in the header (columns {first} and {second})")]
    DuplicateColumn {
        file: String,
        name: String,
        first: usize,
        second: usize,
    },
    /// A CSV file whose lines end in a lone CR (classic Mac), which reads
    /// as a single line.
    #[error("{at}: found a carriage return without a line feed: expected LF or CRLF line endings")]
    LoneCarriageReturn { at: Location },
    /// A CSV row has more or fewer fields than the header.
    #[error("{at}: expected {expected} fields as in the header, got {got}")]
    FieldCount {
        at: Location,
        expected: usize,
        got: usize,
    },
    /// Text that is not UTF-8. `column` is `None` in a CSV header.
    #[error("{at}{}: expected UTF-8 text, got invalid bytes", in_column(.column))]
    InvalidUtf8 {
        at: Location,
        column: Option<String>,
    },
    /// A JSON Lines line that does not parse.
    #[error("{at}: not valid JSON: {message}")]
    InvalidJson { at: Location, message: String },
    /// A JSON Lines line that parses but is not an object.
    #[error("{at}: expected a JSON object, got {got}")]
    NotAnObject { at: Location, got: &'static str },
    /// The first JSON Lines line names no columns.
    #[error("{at}: expected at least one key in the first object, to name the columns")]
    NoColumns { at: Location },
    /// A JSON Lines key that the first line did not have.
    #[error("{at}: key {key:?} is not a column: the first line defines the columns")]
    UnknownKey { at: Location, key: String },
    /// A JSON Lines key given twice in one object.
    #[error("{at}: key {key:?} appears twice")]
    RepeatedKey { at: Location, key: String },
    /// A JSON Lines value that is an array or object.
    #[error("{at}, column {column:?}: expected a number, string, bool or null, got {got}")]
    NestedValue {
        at: Location,
        column: String,
        got: &'static str,
    },
    /// A Parquet column of a type with no [`Cell`] counterpart.
    #[error(
        "{file}, column {column:?}: unsupported Parquet type {got}: expected a boolean, integer, decimal, float, double or string column"
    )]
    UnsupportedType {
        file: String,
        column: String,
        got: String,
    },
    /// The Parquet decoder failed; `column` is `None` for file-level failures.
    #[error("{at}{}: cannot read Parquet: {source}", in_column(.column))]
    Parquet {
        at: Location,
        column: Option<String>,
        source: ::parquet::errors::ParquetError,
    },
}

/// `, column "name"` when there is a column to name, for error messages.
fn in_column(column: &Option<String>) -> String {
    column
        .as_ref()
        .map(|c| format!(", column {c:?}"))
        .unwrap_or_default()
}

/// A location before any row has been read, for errors about the header.
fn header_location(file: &str, line: Option<u64>) -> Location {
    Location {
        file: file.into(),
        line,
        row: 0,
    }
}

/// Checks that no two of `columns` share a name.
fn check_unique(file: &str, columns: &[String]) -> Result<(), DatasetError> {
    let mut seen = std::collections::HashMap::with_capacity(columns.len());
    for (i, name) in columns.iter().enumerate() {
        if let Some(first) = seen.insert(name.as_str(), i) {
            return Err(DatasetError::DuplicateColumn {
                file: file.to_owned(),
                name: name.clone(),
                first: first + 1,
                second: i + 1,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension_ignores_case() {
        assert_eq!(Format::from_path(Path::new("a.CSV")).unwrap(), Format::Csv);
        for name in ["a.jsonl", "a.ndjson", "dir/a.json"] {
            assert_eq!(
                Format::from_path(Path::new(name)).unwrap(),
                Format::JsonLines
            );
        }
        for name in ["a.parquet", "a.PQ"] {
            assert_eq!(Format::from_path(Path::new(name)).unwrap(), Format::Parquet);
        }
    }

    #[test]
    fn unknown_extension_names_the_file() {
        for name in ["data.txt", "data", "data.csv.gz"] {
            let err = Format::from_path(Path::new(name)).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("{name}: unknown file format")),
                "{err}"
            );
        }
    }

    #[test]
    fn open_missing_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let err = open(&path).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: cannot open: No such file or directory (os error 2)",
                path.display()
            )
        );
    }

    #[test]
    fn location_display() {
        let mut at = header_location("a.csv", Some(17));
        assert_eq!(at.to_string(), "a.csv line 17");
        at.line = None;
        assert_eq!(at.to_string(), "a.csv");
        at.row = 17;
        assert_eq!(at.to_string(), "a.csv row 17");
    }

    #[test]
    fn set_text_reuses_the_buffer() {
        let mut cell = Cell::Text(String::with_capacity(64));
        cell.set_text("abc");
        let Cell::Text(buffer) = &cell else { panic!() };
        assert_eq!(buffer.capacity(), 64);
        assert_eq!(cell, Cell::Text("abc".into()));
        let mut cell = Cell::Number(1.0);
        cell.set_text("x");
        assert_eq!(cell, Cell::Text("x".into()));
    }

    #[test]
    fn duplicate_columns_are_an_error() {
        let columns = ["a", "b", "a"].map(String::from);
        let err = check_unique("f.csv", &columns).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"f.csv: column "a" appears twice in the header (columns 1 and 3)"#
        );
    }

    /// Throughput check, run by hand:
    /// `cargo test --release --lib -- --ignored --nocapture throughput`.
    /// Writes the same 100,000 × 27 table (`DRIFTWATCH_BENCH_ROWS` overrides
    /// the row count) as CSV and as JSON Lines into a temporary directory and
    /// prints how long reading each takes.
    #[test]
    #[ignore = "throughput check, run by hand in release"]
    fn throughput() {
        use std::io::Write;
        let rows: usize = std::env::var("DRIFTWATCH_BENCH_ROWS")
            .map(|n| n.parse().unwrap())
            .unwrap_or(100_000);
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..27).map(|c| format!("feature_{c}")).collect();
        // A third each of decimals, integers and categories.
        let value = |r: usize, c: usize| match c % 3 {
            0 => format!("{:.6}", (r * 31 + c) as f64 / 7.0),
            1 => (r * c).to_string(),
            _ => format!("\"category_{}\"", (r + c) % 13),
        };
        let csv = dir.path().join("bench.csv");
        let jsonl = dir.path().join("bench.jsonl");
        let mut csv_out = io::BufWriter::new(File::create(&csv).unwrap());
        let mut jsonl_out = io::BufWriter::new(File::create(&jsonl).unwrap());
        writeln!(csv_out, "{}", names.join(",")).unwrap();
        for r in 0..rows {
            let values: Vec<String> = (0..27).map(|c| value(r, c)).collect();
            writeln!(csv_out, "{}", values.join(",")).unwrap();
            let pairs: Vec<String> = names
                .iter()
                .zip(&values)
                .map(|(name, value)| format!("\"{name}\": {value}"))
                .collect();
            writeln!(jsonl_out, "{{{}}}", pairs.join(", ")).unwrap();
        }
        csv_out.flush().unwrap();
        jsonl_out.flush().unwrap();
        for path in [csv, jsonl] {
            let start = std::time::Instant::now();
            let mut reader = open(&path).unwrap();
            let mut row = Row::default();
            let mut count = 0;
            while reader.read_row(&mut row).unwrap() {
                count += 1;
            }
            let seconds = start.elapsed().as_secs_f64();
            assert_eq!(count, rows);
            let megabytes = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
            println!(
                "{}: {rows} rows × 27 columns, {megabytes:.1} MB in {seconds:.3} s ({:.0} MB/s)",
                path.file_name().unwrap().to_string_lossy(),
                megabytes / seconds
            );
        }
    }
}
