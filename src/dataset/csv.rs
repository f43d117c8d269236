//! CSV with a header line. The `csv` crate does the parsing (quotes, commas
//! and newlines inside quoted fields, a UTF-8 byte order mark, blank lines);
//! this file owns the header checks, the field → [`Cell`] rule (empty is
//! missing, anything else is raw text), CRLF and line numbers for errors.
//!
//! Line numbers: the `csv` crate's record position is taken before blank
//! lines are skipped and, with CRLF, before the previous line's LF is read,
//! so it can point a line or more too early. Records are therefore split on
//! LF only (the CR of a CRLF is trimmed here), the input is given one more
//! LF so that every record ends with one, and a record's first line is the
//! reader's line after the record, less the record's own line breaks.
//! Files with lone-CR line endings (classic Mac) are refused.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

use ::csv::{ByteRecord, ReaderBuilder, Terminator};

use super::{Cell, DatasetError, Location, Row, RowReader, check_unique, header_location};

/// Large enough that a read call is amortised over many rows; the default
/// (8 KiB) costs a measurable share of the time on wide files.
const BUFFER_BYTES: usize = 1 << 16;

/// The file followed by one LF, so that its last record is terminated too.
type Input = io::Chain<File, &'static [u8]>;

/// Streams the rows of one CSV file.
pub(super) struct CsvReader {
    file: Arc<str>,
    reader: ::csv::Reader<Input>,
    columns: Vec<String>,
    /// The raw fields of the current record, reused between records.
    record: ByteRecord,
    /// The physical line the current record starts on.
    line: u64,
    row: u64,
    size: Option<u64>,
}

impl CsvReader {
    /// Reads and checks the header of `handle`, which `file` names.
    pub(super) fn new(file: String, handle: File) -> Result<CsvReader, DatasetError> {
        let size = handle.metadata().ok().map(|m| m.len());
        // The header is read as a plain record, and rows of the wrong length
        // are let through, so that both get this module's error messages.
        let reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(Terminator::Any(b'\n'))
            .buffer_capacity(BUFFER_BYTES)
            .from_reader(handle.chain(&b"\n"[..]));
        let mut csv = CsvReader {
            file: file.into(),
            reader,
            columns: Vec::new(),
            record: ByteRecord::new(),
            line: 0,
            row: 0,
            size,
        };
        if !csv.next_record()? {
            return Err(DatasetError::Empty {
                file: csv.file.to_string(),
                expected: "a header line",
            });
        }
        let at = || header_location(&csv.file, Some(csv.line));
        let mut columns = Vec::with_capacity(csv.record.len());
        for field in csv.fields() {
            if field.contains(&b'\r') {
                return Err(DatasetError::LoneCarriageReturn { at: at() });
            }
            let name = std::str::from_utf8(field).map_err(|_| DatasetError::InvalidUtf8 {
                at: at(),
                column: None,
            })?;
            columns.push(name.to_owned());
        }
        check_unique(&csv.file, &columns)?;
        csv.columns = columns;
        Ok(csv)
    }

    /// Reads the next record that is not a blank line; `Ok(false)` at the
    /// end of the file.
    fn next_record(&mut self) -> Result<bool, DatasetError> {
        loop {
            let found = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|err| DatasetError::Read {
                    at: Location {
                        file: self.file.clone(),
                        line: Some(self.reader.position().line()),
                        row: self.row + 1,
                    },
                    source: io::Error::from(err),
                })?;
            if !found {
                return Ok(false);
            }
            // Every record ends with an LF, which the reader has counted.
            let breaks = self
                .record
                .as_slice()
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line = self
                .reader
                .position()
                .line()
                .saturating_sub(breaks as u64 + 1);
            // The CSV crate skips empty lines itself, but not the CR of an
            // empty CRLF line.
            let blank = self.record.len() == 1 && &self.record[0] == b"\r";
            if !blank {
                return Ok(true);
            }
        }
    }

    /// The fields of the current record, without the CR of a CRLF ending.
    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let last = self.record.len().saturating_sub(1);
        self.record.iter().enumerate().map(move |(i, field)| {
            if i == last {
                field.strip_suffix(b"\r").unwrap_or(field)
            } else {
                field
            }
        })
    }
}

impl RowReader for CsvReader {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn read_row(&mut self, row: &mut Row) -> Result<bool, DatasetError> {
        if !self.next_record()? {
            return Ok(false);
        }
        self.row += 1;
        if self.record.len() != self.columns.len() {
            return Err(DatasetError::FieldCount {
                at: self.location(),
                expected: self.columns.len(),
                got: self.record.len(),
            });
        }
        row.resize(self.columns.len());
        for (i, (field, cell)) in self.fields().zip(&mut row.cells).enumerate() {
            if field.is_empty() {
                *cell = Cell::Missing;
                continue;
            }
            match std::str::from_utf8(field) {
                Ok(text) => cell.set_text(text),
                Err(_) => {
                    return Err(DatasetError::InvalidUtf8 {
                        at: self.location(),
                        column: Some(self.columns[i].clone()),
                    });
                }
            }
        }
        Ok(true)
    }

    fn location(&self) -> Location {
        Location {
            file: self.file.clone(),
            line: Some(self.line),
            row: self.row,
        }
    }

    fn progress(&self) -> (u64, Option<u64>) {
        // The LF added at the end is not part of the file.
        let byte = self.reader.position().byte();
        (self.size.map_or(byte, |size| byte.min(size)), self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::super::open;
    use super::*;
    use std::path::PathBuf;

    /// Writes `content` to `name` in a fresh temporary directory.
    fn write(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    /// Reads every row of `path`, with the line each starts on.
    fn read_all(path: &std::path::Path) -> Result<Vec<(u64, Vec<Cell>)>, DatasetError> {
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

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    /// The error of reading all of a file named `name` holding `content`,
    /// with the temporary directory's path taken out.
    fn error_of(name: &str, content: &[u8]) -> String {
        let (dir, path) = write(name, content);
        let err = read_all(&path).unwrap_err().to_string();
        err.replace(&format!("{}/", dir.path().display()), "")
    }

    #[test]
    fn reads_header_and_rows() {
        let (_dir, path) = write("a.csv", b"x,y,z\n1, 2 ,\nfoo,,3.5\n");
        let reader = open(&path).unwrap();
        assert_eq!(reader.columns(), ["x", "y", "z"]);
        let rows = read_all(&path).unwrap();
        assert_eq!(
            rows,
            [
                (2, vec![text("1"), text(" 2 "), Cell::Missing]),
                (3, vec![text("foo"), Cell::Missing, text("3.5")]),
            ]
        );
    }

    #[test]
    fn progress_reaches_the_file_size() {
        let content = b"x,y\n1,2\n3,4\n";
        let (_dir, path) = write("a.csv", content);
        let mut reader = open(&path).unwrap();
        let mut row = Row::default();
        while reader.read_row(&mut row).unwrap() {}
        let size = content.len() as u64;
        assert_eq!(reader.progress(), (size, Some(size)));
    }

    #[test]
    fn quoted_fields_keep_line_numbers_right() {
        let content = b"id,note\n1,\"two\nlines\"\n2,\"a, b\"\n3,\"\"\n";
        let (_dir, path) = write("a.csv", content);
        assert_eq!(
            read_all(&path).unwrap(),
            [
                (2, vec![text("1"), text("two\nlines")]),
                (4, vec![text("2"), text("a, b")]),
                (5, vec![text("3"), Cell::Missing]),
            ]
        );
        // The error after a multi-line field names the physical line.
        let content = b"id,note\n1,\"two\nlines\"\n2\n";
        assert_eq!(
            error_of("b.csv", content),
            "b.csv line 4: expected 2 fields as in the header, got 1"
        );
    }

    #[test]
    fn bom_crlf_and_blank_lines() {
        let content = b"\xEF\xBB\xBFx,y\r\n1,2\r\n\r\n3,\"4\"\r\n\r\n";
        let (_dir, path) = write("a.csv", content);
        assert_eq!(open(&path).unwrap().columns(), ["x", "y"]);
        assert_eq!(
            read_all(&path).unwrap(),
            [
                (2, vec![text("1"), text("2")]),
                (4, vec![text("3"), text("4")]),
            ]
        );
        let content = b"\nx,y\n\n\n1,\"a\r\nb\"\r\n\n2,\r\n3\n";
        let (_dir, path) = write("b.csv", content);
        assert_eq!(
            read_all(&path).unwrap_err().to_string(),
            format!(
                "{} line 9: expected 2 fields as in the header, got 1",
                path.display()
            )
        );
        let mut reader = open(&path).unwrap();
        let mut row = Row::default();
        assert!(reader.read_row(&mut row).unwrap());
        assert_eq!(reader.location().line, Some(5));
        assert_eq!(row.cells(), [text("1"), text("a\r\nb")]);
        assert!(reader.read_row(&mut row).unwrap());
        assert_eq!(reader.location().line, Some(8));
        assert_eq!(row.cells(), [text("2"), Cell::Missing]);
    }

    #[test]
    fn lone_carriage_returns_are_an_error() {
        assert_eq!(
            error_of("mac.csv", b"x,y\r1,2\r"),
            "mac.csv line 1: found a carriage return without a line feed: expected LF or CRLF line endings"
        );
    }

    #[test]
    fn last_line_without_newline() {
        let (_dir, path) = write("a.csv", b"x\n1\n2");
        assert_eq!(
            read_all(&path).unwrap(),
            [(2, vec![text("1")]), (3, vec![text("2")])]
        );
    }

    #[test]
    fn header_only_has_no_rows() {
        let (_dir, path) = write("a.csv", b"x,y\n");
        assert_eq!(open(&path).unwrap().columns(), ["x", "y"]);
        assert_eq!(read_all(&path).unwrap(), []);
    }

    #[test]
    fn empty_file_is_an_error() {
        for content in [&b""[..], b"\xEF\xBB\xBF", b"\n\n", b"\r\n"] {
            assert_eq!(
                error_of("empty.csv", content),
                "empty.csv: file is empty (expected a header line)"
            );
        }
    }

    #[test]
    fn ragged_rows_are_an_error() {
        assert_eq!(
            error_of("current.csv", b"a,b,c\n1,2,3\n1,2\n"),
            "current.csv line 3: expected 3 fields as in the header, got 2"
        );
        assert_eq!(
            error_of("current.csv", b"a,b\n1,2,3\n"),
            "current.csv line 2: expected 2 fields as in the header, got 3"
        );
    }

    #[test]
    fn duplicate_header_is_an_error() {
        assert_eq!(
            error_of("a.csv", b"a,b,a\n"),
            r#"a.csv: column "a" appears twice in the header (columns 1 and 3)"#
        );
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        assert_eq!(
            error_of("a.csv", b"a,b\n1,2\n3,\xFF\n"),
            r#"a.csv line 3, column "b": expected UTF-8 text, got invalid bytes"#
        );
        assert_eq!(
            error_of("a.csv", b"a,\xFF\n"),
            "a.csv line 1: expected UTF-8 text, got invalid bytes"
        );
    }

    #[test]
    fn buffers_are_reused_between_rows() {
        let (_dir, path) = write("a.csv", b"x\nfirst\nsecond\n");
        let file = std::fs::File::open(&path).unwrap();
        let mut reader = CsvReader::new("a.csv".into(), file).unwrap();
        let mut row = Row::default();
        reader.read_row(&mut row).unwrap();
        let Cell::Text(first) = row.get(0) else {
            panic!()
        };
        let pointer = first.as_ptr();
        reader.read_row(&mut row).unwrap();
        let Cell::Text(second) = row.get(0) else {
            panic!()
        };
        assert_eq!(second, "second");
        assert_eq!(second.as_ptr(), pointer);
    }
}
