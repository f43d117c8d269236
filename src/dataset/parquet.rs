//! Parquet, through the `parquet` crate's typed column readers (its record
//! API builds a heap-allocated row of named fields per row, which is much
//! slower). Each row group is decoded a batch of rows at a time, every
//! column into its own typed buffer, and rows are then assembled from the
//! buffers: memory holds one batch per column plus the page each column
//! reader is decoding, whatever the file's size.
//!
//! Only flat data is read: every leaf column becomes one column of the row
//! (a leaf inside a non-repeated group is named by its dotted path), and
//! repeated (list or map) columns are refused when the file is opened, as
//! are types with no [`Cell`] counterpart (dates, timestamps, INT96, ...).

use std::fs::File;
use std::sync::Arc;

use ::parquet::basic::{ConvertedType, Type as PhysicalType};
use ::parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use ::parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DoubleType, FixedLenByteArray, FixedLenByteArrayType,
    FloatType, Int32Type, Int64Type,
};
use ::parquet::errors::ParquetError;
use ::parquet::file::reader::FileReader;
use ::parquet::file::serialized_reader::SerializedFileReader;
use ::parquet::schema::types::ColumnDescriptor;

use super::{Cell, DatasetError, Location, Row, RowReader, check_unique, header_location};

/// Rows decoded per column at a time: enough to amortise the per-call cost
/// of the column readers, small enough to keep 27 columns' buffers tiny.
const BATCH_ROWS: usize = 4096;

/// The widest decimal stored as fixed-length bytes that fits an `i128`.
const MAX_DECIMAL_BYTES: i32 = 16;

/// Streams the rows of one Parquet file.
pub(super) struct ParquetReader {
    file: Arc<str>,
    reader: SerializedFileReader<File>,
    columns: Vec<String>,
    /// How to read each column, decided from the schema.
    plans: Vec<Plan>,
    /// The current row group's columns; empty before the first.
    chunks: Vec<Chunk>,
    next_group: usize,
    /// Rows of the current row group not yet decoded into a batch.
    group_rows_left: usize,
    /// Rows in the current batch, and the index of the next one to hand out.
    batch_rows: usize,
    batch_next: usize,
    row: u64,
    total_rows: u64,
    size: u64,
}

/// How one column is read.
#[derive(Debug, Clone, Copy)]
struct Plan {
    conversion: Conversion,
    /// The definition level of a present value; lower levels are nulls.
    max_def_level: i16,
}

/// How the stored values of a column become cells.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Conversion {
    Bool,
    /// INT32 or INT64; `unsigned` when annotated as such, so the bits are
    /// read as an unsigned number.
    Integer {
        unsigned: bool,
    },
    /// A decimal: the stored integer divided by `divisor` (10 ^ scale).
    Decimal {
        divisor: f64,
    },
    Float,
    Text,
}

/// One column of the current row group: its typed reader and the values of
/// the current batch.
struct Chunk {
    values: Values,
    /// The definition level of each row of the batch (unused, and left
    /// empty, when the column is required).
    def_levels: Vec<i16>,
    plan: Plan,
    /// Index in `values` of the next present value: nulls take no slot.
    next_value: usize,
}

/// A typed column reader with the values it last decoded.
enum Values {
    Bool(ColumnReaderImpl<BoolType>, Vec<bool>),
    Int32(ColumnReaderImpl<Int32Type>, Vec<i32>),
    Int64(ColumnReaderImpl<Int64Type>, Vec<i64>),
    Float(ColumnReaderImpl<FloatType>, Vec<f32>),
    Double(ColumnReaderImpl<DoubleType>, Vec<f64>),
    Bytes(ColumnReaderImpl<ByteArrayType>, Vec<ByteArray>),
    FixedBytes(
        ColumnReaderImpl<FixedLenByteArrayType>,
        Vec<FixedLenByteArray>,
    ),
}

impl ParquetReader {
    /// Reads and checks the schema of `handle`, which `file` names.
    pub(super) fn new(file: String, handle: File) -> Result<ParquetReader, DatasetError> {
        let size = handle.metadata().map(|m| m.len()).unwrap_or(0);
        if size == 0 {
            return Err(DatasetError::Empty {
                file,
                expected: "a Parquet file",
            });
        }
        let reader = SerializedFileReader::new(handle).map_err(|source| DatasetError::Parquet {
            at: header_location(&file, None),
            column: None,
            source,
        })?;
        let metadata = reader.metadata().file_metadata();
        let total_rows = u64::try_from(metadata.num_rows()).unwrap_or(0);
        let mut columns = Vec::new();
        let mut plans = Vec::new();
        for descr in metadata.schema_descr().columns() {
            let name = descr.path().string();
            let conversion = if descr.max_rep_level() > 0 {
                None
            } else {
                conversion(descr)
            };
            let Some(conversion) = conversion else {
                return Err(DatasetError::UnsupportedType {
                    file,
                    column: name,
                    got: type_name(descr),
                });
            };
            plans.push(Plan {
                conversion,
                max_def_level: descr.max_def_level(),
            });
            columns.push(name);
        }
        check_unique(&file, &columns)?;
        Ok(ParquetReader {
            file: file.into(),
            reader,
            columns,
            plans,
            chunks: Vec::new(),
            next_group: 0,
            group_rows_left: 0,
            batch_rows: 0,
            batch_next: 0,
            row: 0,
            total_rows,
            size,
        })
    }

    /// Decodes the next batch of rows, moving on to the next row group when
    /// this one is done; `Ok(false)` when there are no rows left.
    fn next_batch(&mut self) -> Result<bool, DatasetError> {
        while self.group_rows_left == 0 {
            if self.next_group == self.reader.num_row_groups() {
                return Ok(false);
            }
            self.open_group()?;
        }
        let rows = self.group_rows_left.min(BATCH_ROWS);
        for (chunk, name) in self.chunks.iter_mut().zip(&self.columns) {
            let decoded = chunk.decode(rows).and_then(|decoded| match decoded {
                n if n == rows => Ok(()),
                n => Err(ParquetError::General(format!(
                    "expected {rows} values in this batch, got {n}"
                ))),
            });
            if let Err(source) = decoded {
                return Err(DatasetError::Parquet {
                    at: Location {
                        file: self.file.clone(),
                        line: None,
                        row: self.row + 1,
                    },
                    column: Some(name.clone()),
                    source,
                });
            }
        }
        self.group_rows_left -= rows;
        self.batch_rows = rows;
        self.batch_next = 0;
        Ok(true)
    }

    /// Makes the column readers of the next row group.
    fn open_group(&mut self) -> Result<(), DatasetError> {
        let at = Location {
            file: self.file.clone(),
            line: None,
            row: self.row + 1,
        };
        let parquet_error = |column: Option<&String>, source| DatasetError::Parquet {
            at: at.clone(),
            column: column.cloned(),
            source,
        };
        let group = self
            .reader
            .get_row_group(self.next_group)
            .map_err(|source| parquet_error(None, source))?;
        let mut chunks = Vec::with_capacity(self.plans.len());
        for (i, (plan, name)) in self.plans.iter().zip(&self.columns).enumerate() {
            let reader = group
                .get_column_reader(i)
                .map_err(|source| parquet_error(Some(name), source))?;
            chunks.push(Chunk::new(reader, *plan));
        }
        self.group_rows_left = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
        self.chunks = chunks;
        self.next_group += 1;
        Ok(())
    }
}

impl RowReader for ParquetReader {
    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn read_row(&mut self, row: &mut Row) -> Result<bool, DatasetError> {
        if self.batch_next == self.batch_rows && !self.next_batch()? {
            return Ok(false);
        }
        let index = self.batch_next;
        self.batch_next += 1;
        self.row += 1;
        row.resize(self.columns.len());
        for (i, (chunk, cell)) in self.chunks.iter_mut().zip(&mut row.cells).enumerate() {
            if chunk.fill(index, cell).is_err() {
                return Err(DatasetError::InvalidUtf8 {
                    at: Location {
                        file: self.file.clone(),
                        line: None,
                        row: self.row,
                    },
                    column: Some(self.columns[i].clone()),
                });
            }
        }
        Ok(true)
    }

    fn location(&self) -> Location {
        Location {
            file: self.file.clone(),
            line: None,
            row: self.row,
        }
    }

    /// Parquet is decoded by column, so bytes read say little about rows
    /// done: the share of rows read, applied to the file size, is used.
    fn progress(&self) -> (u64, Option<u64>) {
        let done = match self.total_rows {
            0 => 0,
            total => u128::from(self.size) * u128::from(self.row) / u128::from(total),
        };
        (u64::try_from(done).unwrap_or(self.size), Some(self.size))
    }
}

impl Chunk {
    /// Wraps the reader of one column chunk.
    fn new(reader: ColumnReader, plan: Plan) -> Chunk {
        let values = match reader {
            ColumnReader::BoolColumnReader(r) => Values::Bool(r, Vec::new()),
            ColumnReader::Int32ColumnReader(r) => Values::Int32(r, Vec::new()),
            ColumnReader::Int64ColumnReader(r) => Values::Int64(r, Vec::new()),
            ColumnReader::FloatColumnReader(r) => Values::Float(r, Vec::new()),
            ColumnReader::DoubleColumnReader(r) => Values::Double(r, Vec::new()),
            ColumnReader::ByteArrayColumnReader(r) => Values::Bytes(r, Vec::new()),
            ColumnReader::FixedLenByteArrayColumnReader(r) => Values::FixedBytes(r, Vec::new()),
            ColumnReader::Int96ColumnReader(_) => {
                unreachable!("INT96 columns are refused when the file is opened")
            }
        };
        Chunk {
            values,
            def_levels: Vec::new(),
            plan,
            next_value: 0,
        }
    }

    /// Decodes the next `rows` rows, replacing the previous batch; returns
    /// how many rows were decoded.
    fn decode(&mut self, rows: usize) -> Result<usize, ParquetError> {
        self.def_levels.clear();
        self.next_value = 0;
        let levels = Some(&mut self.def_levels);
        let (records, _, _) = match &mut self.values {
            Values::Bool(reader, values) => read(reader, rows, levels, values),
            Values::Int32(reader, values) => read(reader, rows, levels, values),
            Values::Int64(reader, values) => read(reader, rows, levels, values),
            Values::Float(reader, values) => read(reader, rows, levels, values),
            Values::Double(reader, values) => read(reader, rows, levels, values),
            Values::Bytes(reader, values) => read(reader, rows, levels, values),
            Values::FixedBytes(reader, values) => read(reader, rows, levels, values),
        }?;
        Ok(records)
    }

    /// Sets `cell` to this column's value in row `index` of the batch. Rows
    /// must be filled in order, as present values are taken one by one. The
    /// only failure is text that is not UTF-8.
    fn fill(&mut self, index: usize, cell: &mut Cell) -> Result<(), std::str::Utf8Error> {
        let plan = self.plan;
        if plan.max_def_level > 0 && self.def_levels[index] < plan.max_def_level {
            *cell = Cell::Missing;
            return Ok(());
        }
        let i = self.next_value;
        self.next_value += 1;
        let unsigned = plan.conversion == Conversion::Integer { unsigned: true };
        *cell = match &self.values {
            Values::Bool(_, values) => Cell::Bool(values[i]),
            Values::Int32(_, values) => Cell::Number(plan.conversion.integer(if unsigned {
                i128::from(values[i] as u32)
            } else {
                i128::from(values[i])
            })),
            Values::Int64(_, values) => Cell::Number(plan.conversion.integer(if unsigned {
                i128::from(values[i] as u64)
            } else {
                i128::from(values[i])
            })),
            Values::Float(_, values) => Cell::Number(f64::from(values[i])),
            Values::Double(_, values) => Cell::Number(values[i]),
            Values::Bytes(_, values) => {
                cell.set_text(std::str::from_utf8(values[i].data())?);
                return Ok(());
            }
            Values::FixedBytes(_, values) => {
                Cell::Number(plan.conversion.integer(signed_big_endian(values[i].data())))
            }
        };
        Ok(())
    }
}

/// Reads up to `rows` rows of a flat column into `values` (present values
/// only) and `levels` (every row's definition level).
fn read<T: ::parquet::data_type::DataType>(
    reader: &mut ColumnReaderImpl<T>,
    rows: usize,
    levels: Option<&mut Vec<i16>>,
    values: &mut Vec<T::T>,
) -> Result<(usize, usize, usize), ParquetError> {
    values.clear();
    reader.read_records(rows, levels, None, values)
}

impl Conversion {
    /// The number a stored integer stands for.
    fn integer(self, value: i128) -> f64 {
        match self {
            Conversion::Decimal { divisor } => value as f64 / divisor,
            _ => value as f64,
        }
    }
}

/// The integer in big-endian two's complement `bytes` (at most 16), as
/// Parquet stores decimals in fixed-length byte arrays.
fn signed_big_endian(bytes: &[u8]) -> i128 {
    let fill = match bytes.first() {
        Some(byte) if byte & 0x80 != 0 => 0xFF,
        _ => 0,
    };
    let mut buffer = [fill; 16];
    buffer[16 - bytes.len()..].copy_from_slice(bytes);
    i128::from_be_bytes(buffer)
}

/// How the values of the (non-repeated) column `descr` become cells, or
/// `None` if they cannot. The converted type is consulted rather than the
/// logical type because the parquet crate fills it in from the logical type
/// and older writers set only it; a logical type with no converted
/// counterpart leaves it NONE, hence the check on both for "unannotated".
fn conversion(descr: &ColumnDescriptor) -> Option<Conversion> {
    let converted = descr.converted_type();
    let plain = converted == ConvertedType::NONE && descr.logical_type_ref().is_none();
    let decimal = || Conversion::Decimal {
        divisor: 10f64.powi(descr.type_scale()),
    };
    match descr.physical_type() {
        PhysicalType::BOOLEAN if plain => Some(Conversion::Bool),
        PhysicalType::FLOAT | PhysicalType::DOUBLE if plain => Some(Conversion::Float),
        PhysicalType::INT32 | PhysicalType::INT64 => match converted {
            _ if plain => Some(Conversion::Integer { unsigned: false }),
            ConvertedType::INT_8
            | ConvertedType::INT_16
            | ConvertedType::INT_32
            | ConvertedType::INT_64 => Some(Conversion::Integer { unsigned: false }),
            ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64 => Some(Conversion::Integer { unsigned: true }),
            ConvertedType::DECIMAL => Some(decimal()),
            _ => None,
        },
        // Some writers store strings without the UTF8 annotation; such
        // columns are read as text and checked to be UTF-8 value by value.
        PhysicalType::BYTE_ARRAY => match converted {
            _ if plain => Some(Conversion::Text),
            ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON => {
                Some(Conversion::Text)
            }
            _ => None,
        },
        PhysicalType::FIXED_LEN_BYTE_ARRAY
            if converted == ConvertedType::DECIMAL && descr.type_length() <= MAX_DECIMAL_BYTES =>
        {
            Some(decimal())
        }
        _ => None,
    }
}

/// The type of `descr` as Parquet names it, for error messages.
fn type_name(descr: &ColumnDescriptor) -> String {
    let physical = descr.physical_type();
    if descr.max_rep_level() > 0 {
        format!("repeated {physical} (a list or map)")
    } else if descr.converted_type() != ConvertedType::NONE {
        format!("{physical} ({})", descr.converted_type())
    } else if let Some(logical) = descr.logical_type_ref() {
        format!("{physical} ({logical:?})")
    } else {
        physical.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::open;
    use super::*;
    use ::parquet::data_type::DataType;
    use ::parquet::file::properties::WriterProperties;
    use ::parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};
    use ::parquet::schema::parser::parse_message_type;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    /// Writes a Parquet file named `name` with schema `schema` into a fresh
    /// temporary directory; `write_group` writes the columns of row group
    /// `g` for each `g` below `groups`.
    fn write_parquet(
        name: &str,
        schema: &str,
        groups: usize,
        write_group: impl Fn(usize, &mut SerializedRowGroupWriter<'_, File>),
    ) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let schema = Arc::new(parse_message_type(schema).unwrap());
        // Small pages, so that batches also cross page boundaries.
        let properties = WriterProperties::builder()
            .set_data_page_row_count_limit(1000)
            .set_write_batch_size(1000)
            .build();
        let file = File::create(&path).unwrap();
        let mut writer = SerializedFileWriter::new(file, schema, Arc::new(properties)).unwrap();
        for g in 0..groups {
            let mut group = writer.next_row_group().unwrap();
            write_group(g, &mut group);
            group.close().unwrap();
        }
        writer.close().unwrap();
        (dir, path)
    }

    /// Writes the next column of `group`; `def_levels` is `None` for a
    /// required column.
    fn column<T: DataType>(
        group: &mut SerializedRowGroupWriter<'_, File>,
        values: &[T::T],
        def_levels: Option<&[i16]>,
    ) {
        let mut writer = group.next_column().unwrap().unwrap();
        writer
            .typed::<T>()
            .write_batch(values, def_levels, None)
            .unwrap();
        writer.close().unwrap();
    }

    /// Reads every row of `path`.
    fn read_all(path: &Path) -> Result<Vec<Vec<Cell>>, DatasetError> {
        let mut reader = open(path)?;
        let mut row = Row::default();
        let mut rows = Vec::new();
        while reader.read_row(&mut row)? {
            assert_eq!(reader.location().row, rows.len() as u64 + 1);
            rows.push(row.cells().to_vec());
        }
        Ok(rows)
    }

    /// The error of opening `path`, with its directory taken out.
    fn open_error(dir: &tempfile::TempDir, path: &Path) -> String {
        let err = open(path).err().unwrap().to_string();
        err.replace(&format!("{}/", dir.path().display()), "")
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    const ALL_TYPES: &str = "
        message schema {
            REQUIRED INT32 id;
            OPTIONAL DOUBLE score;
            OPTIONAL BYTE_ARRAY name (UTF8);
            OPTIONAL BOOLEAN flag;
            OPTIONAL INT64 count;
            OPTIONAL FLOAT ratio;
            OPTIONAL INT32 price (DECIMAL(9, 2));
            OPTIONAL FIXED_LEN_BYTE_ARRAY (16) amount (DECIMAL(38, 3));
            OPTIONAL INT32 small (INTEGER(32, false));
            OPTIONAL group address {
                OPTIONAL BYTE_ARRAY city (STRING);
            }
        }";

    #[test]
    fn reads_every_supported_type_with_nulls() {
        let (_dir, path) = write_parquet("data.parquet", ALL_TYPES, 1, |_, group| {
            let present = [1, 0, 1];
            column::<Int32Type>(group, &[1, 2, 3], None);
            column::<DoubleType>(group, &[0.5, -1.25], Some(&present));
            column::<ByteArrayType>(group, &["ab".into(), "é".into()], Some(&present));
            column::<BoolType>(group, &[true], Some(&[0, 1, 0]));
            column::<Int64Type>(group, &[i64::MAX, -3], Some(&present));
            column::<FloatType>(group, &[], Some(&[0, 0, 0]));
            column::<Int32Type>(group, &[12345, -5], Some(&present));
            let amount = |v: i128| FixedLenByteArray::from(v.to_be_bytes().to_vec());
            column::<FixedLenByteArrayType>(group, &[amount(-1500), amount(7)], Some(&present));
            column::<Int32Type>(group, &[-1, 5], Some(&present));
            // Nested: 2 = city present, 1 = address present but city null,
            // 0 = address null.
            column::<ByteArrayType>(group, &["Oslo".into()], Some(&[2, 1, 0]));
        });
        let reader = open(&path).unwrap();
        assert_eq!(
            reader.columns(),
            [
                "id",
                "score",
                "name",
                "flag",
                "count",
                "ratio",
                "price",
                "amount",
                "small",
                "address.city"
            ]
        );
        let rows = read_all(&path).unwrap();
        assert_eq!(
            rows[0],
            [
                Cell::Number(1.0),
                Cell::Number(0.5),
                text("ab"),
                Cell::Missing,
                Cell::Number(i64::MAX as f64),
                Cell::Missing,
                Cell::Number(123.45),
                Cell::Number(-1.5),
                Cell::Number(f64::from(u32::MAX)),
                text("Oslo"),
            ]
        );
        let mut second = vec![Cell::Missing; 10];
        second[0] = Cell::Number(2.0);
        second[3] = Cell::Bool(true);
        assert_eq!(rows[1], second);
        assert_eq!(
            rows[2],
            [
                Cell::Number(3.0),
                Cell::Number(-1.25),
                text("é"),
                Cell::Missing,
                Cell::Number(-3.0),
                Cell::Missing,
                Cell::Number(-0.05),
                Cell::Number(0.007),
                Cell::Number(5.0),
                Cell::Missing,
            ]
        );
    }

    #[test]
    fn rows_cross_batches_pages_and_row_groups() {
        let schema = "message schema { REQUIRED INT64 n; OPTIONAL BYTE_ARRAY s (UTF8); OPTIONAL BOOLEAN b; }";
        let group_rows = BATCH_ROWS + 904;
        let (_dir, path) = write_parquet("big.parquet", schema, 2, |g, group| {
            let first = (g * group_rows) as i64;
            let numbers: Vec<i64> = (first..first + group_rows as i64).collect();
            let present: Vec<i16> = numbers.iter().map(|n| i16::from(n % 7 != 0)).collect();
            let strings: Vec<ByteArray> = numbers
                .iter()
                .filter(|n| *n % 7 != 0)
                .map(|n| n.to_string().as_str().into())
                .collect();
            let bools: Vec<bool> = numbers
                .iter()
                .filter(|n| *n % 7 != 0)
                .map(|n| n % 2 == 0)
                .collect();
            column::<Int64Type>(group, &numbers, None);
            column::<ByteArrayType>(group, &strings, Some(&present));
            column::<BoolType>(group, &bools, Some(&present));
        });
        let mut reader = open(&path).unwrap();
        let mut row = Row::default();
        let mut n = 0u64;
        while reader.read_row(&mut row).unwrap() {
            assert_eq!(row.get(0), &Cell::Number(n as f64));
            if n.is_multiple_of(7) {
                assert_eq!(&row.cells()[1..], [Cell::Missing, Cell::Missing]);
            } else {
                assert_eq!(row.get(1), &text(&n.to_string()));
                assert_eq!(row.get(2), &Cell::Bool(n.is_multiple_of(2)));
            }
            n += 1;
            assert_eq!(reader.location().row, n);
        }
        assert_eq!(n, 2 * group_rows as u64);
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(reader.progress(), (size, Some(size)));
        assert_eq!(
            reader.location().to_string(),
            format!("{} row {n}", path.display())
        );
    }

    #[test]
    fn file_without_rows_is_valid() {
        let (_dir, path) = write_parquet(
            "empty.parquet",
            "message schema { OPTIONAL DOUBLE x; }",
            0,
            |_, _| {},
        );
        let reader = open(&path).unwrap();
        assert_eq!(reader.columns(), ["x"]);
        assert_eq!(read_all(&path).unwrap(), Vec::<Vec<Cell>>::new());
    }

    #[test]
    fn unsupported_types_name_the_column() {
        for (field, column, got) in [
            ("OPTIONAL INT32 day (DATE)", "day", "INT32 (DATE)"),
            ("REQUIRED INT96 t", "t", "INT96"),
            ("REPEATED INT32 xs", "xs", "repeated INT32 (a list or map)"),
            (
                "OPTIONAL FIXED_LEN_BYTE_ARRAY (4) f",
                "f",
                "FIXED_LEN_BYTE_ARRAY",
            ),
        ] {
            let schema = format!("message schema {{ REQUIRED INT32 id; {field}; }}");
            let (dir, path) = write_parquet("t.parquet", &schema, 0, |_, _| {});
            assert_eq!(
                open_error(&dir, &path),
                format!(
                    "t.parquet, column {column:?}: unsupported Parquet type {got}: expected a boolean, integer, decimal, float, double or string column"
                )
            );
        }
    }

    #[test]
    fn invalid_utf8_names_row_and_column() {
        let schema = "message schema { REQUIRED BYTE_ARRAY s; }";
        let (dir, path) = write_parquet("t.parquet", schema, 1, |_, group| {
            column::<ByteArrayType>(group, &["ok".into(), b"\xFF".to_vec().into()], None);
        });
        let mut reader = open(&path).unwrap();
        let mut row = Row::default();
        assert!(reader.read_row(&mut row).unwrap());
        assert_eq!(row.get(0), &text("ok"));
        let err = reader.read_row(&mut row).unwrap_err().to_string();
        assert_eq!(
            err.replace(&format!("{}/", dir.path().display()), ""),
            r#"t.parquet row 2, column "s": expected UTF-8 text, got invalid bytes"#
        );
    }

    #[test]
    fn empty_and_corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.parquet");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(
            open_error(&dir, &path),
            "empty.parquet: file is empty (expected a Parquet file)"
        );
        let path = dir.path().join("bad.pq");
        std::fs::write(&path, b"x,y\n1,2\n").unwrap();
        let err = open_error(&dir, &path);
        assert!(err.starts_with("bad.pq: cannot read Parquet: "), "{err}");
    }

    #[test]
    fn big_endian_decimals() {
        assert_eq!(signed_big_endian(&[0xFF, 0x38]), -200);
        assert_eq!(signed_big_endian(&[0x00, 0xC8]), 200);
        assert_eq!(signed_big_endian(&[]), 0);
    }

    /// Throughput check, run by hand:
    /// `cargo test --release --lib -- --ignored --nocapture throughput`.
    /// Writes a 100,000 × 27 file (a third each of doubles, integers and
    /// strings, one value in ten null) and prints how long reading it takes.
    #[test]
    #[ignore = "throughput check, run by hand in release"]
    fn parquet_throughput() {
        let rows = 100_000;
        let fields: String = (0..9)
            .map(|c| {
                format!(
                    "OPTIONAL DOUBLE d{c}; OPTIONAL INT64 i{c}; OPTIONAL BYTE_ARRAY s{c} (UTF8);"
                )
            })
            .collect();
        let schema = format!("message schema {{ {fields} }}");
        let present: Vec<i16> = (0..rows).map(|r| i16::from(r % 10 != 0)).collect();
        let kept = || (0..rows).filter(|r| r % 10 != 0);
        let (_dir, path) = write_parquet("bench.parquet", &schema, 1, |_, group| {
            for c in 0..9 {
                let doubles: Vec<f64> = kept().map(|r| (r * 31 + c) as f64 / 7.0).collect();
                let ints: Vec<i64> = kept().map(|r| (r * c) as i64).collect();
                let strings: Vec<ByteArray> = kept()
                    .map(|r| format!("category_{}", (r + c) % 13).as_str().into())
                    .collect();
                column::<DoubleType>(group, &doubles, Some(&present));
                column::<Int64Type>(group, &ints, Some(&present));
                column::<ByteArrayType>(group, &strings, Some(&present));
            }
        });
        let start = std::time::Instant::now();
        let mut reader = open(&path).unwrap();
        let mut row = Row::default();
        let mut count = 0;
        while reader.read_row(&mut row).unwrap() {
            count += 1;
        }
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(count, rows);
        println!("bench.parquet: {rows} rows × 27 columns in {seconds:.3} s");
    }
}
