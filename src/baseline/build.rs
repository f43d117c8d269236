//! `baseline build`: one streaming pass over a data file that infers each
//! column's kind (unless given) and profiles it, in memory bounded by
//! [`ProfileLimits`] whatever the file's size.
//!
//! A column whose kind is not given is accumulated both ways at once — as
//! numbers while every value parses as one, and as strings (category counts
//! and text descriptors) — so that the kind can be decided at the end
//! without a second pass.

use super::profile::{
    CategoricalAccumulator, EmbeddingAccumulator, NumericAccumulator, ProfileLimits,
    TextAccumulator,
};
use super::quality::{QualityBuildError, QualityBuilder, QualitySpec};
use super::{Baseline, Column, FORMAT_NAME, FORMAT_VERSION, Profile, Source};
use crate::dataset::{self, Cell, Location, Row, RowReader};
use crate::schema::text::{TextMeasure, TextPattern};
use crate::schema::{Kind, KindEvidence, parse_number};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to build a baseline from.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub input: PathBuf,
    pub model: String,
    /// Kinds given by the user, by column name.
    pub kinds: HashMap<String, Kind>,
    /// Columns left out of the baseline.
    pub ignore: HashSet<String>,
    pub limits: ProfileLimits,
    /// Columns to measure the model's quality on (`--label`, …); the label
    /// column is then left out of the profiled columns: it is the ground
    /// truth, which live records do not carry.
    pub quality: Option<QualitySpec>,
    /// Patterns every text column is measured by besides the built-in
    /// descriptors (`--text-pattern NAME=REGEX`).
    pub text_patterns: Vec<TextPattern>,
}

/// Why a baseline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: no rows after the header: a baseline needs data")]
    NoRows { file: String },
    #[error(
        "{file}: --{flag} names column {column:?}, which the file does not have (it has: {have})"
    )]
    UnknownColumn {
        file: String,
        flag: &'static str,
        column: String,
        have: String,
    },
    #[error("{location}, column {column:?}: {problem}")]
    BadValue {
        location: String,
        column: String,
        problem: String,
    },
    #[error("{file}: {source}")]
    Quality {
        file: String,
        source: QualityBuildError,
    },
    #[error("{location}: {source}")]
    QualityRow {
        location: String,
        source: QualityBuildError,
    },
    #[error("--text-pattern: {0}")]
    TextPatterns(String),
    #[error("{file}, column {column:?}: no values, so it cannot be profiled as {kind}")]
    EmptyColumn {
        file: String,
        column: String,
        kind: Kind,
    },
}

/// Observer of progress in bytes: `(done, total)`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>);

/// Builds a baseline from `options.input` in one pass.
pub fn build(options: &BuildOptions, progress: Progress<'_>) -> Result<Baseline, BuildError> {
    let file = file_name(&options.input);
    let mut reader = dataset::open(&options.input)?;
    check_named_columns(&file, reader.columns(), options)?;
    let measure =
        TextMeasure::new(options.text_patterns.clone()).map_err(BuildError::TextPatterns)?;
    let measure = Arc::new(measure);
    let mut columns: Vec<(usize, ColumnBuilder)> = reader
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, name)| !options.ignore.contains(*name) && !is_label(name, options))
        .map(|(i, name)| {
            let kind = options.kinds.get(name).copied();
            (i, ColumnBuilder::new(name, kind, &options.limits, &measure))
        })
        .collect();
    let mut quality = QualityColumns::new(reader.columns(), options);
    let rows = read_all(reader.as_mut(), &mut columns, &mut quality, progress)?;
    if rows == 0 {
        return Err(BuildError::NoRows { file });
    }
    let quality = quality
        .map(|q| q.builder.finish())
        .transpose()
        .map_err(|source| BuildError::Quality {
            file: file.clone(),
            source,
        })?;
    let columns = columns
        .into_iter()
        .map(|(_, b)| b.finish(&file, &options.limits))
        .collect::<Result<_, _>>()?;
    Ok(Baseline {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        model: options.model.clone(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        source: Source {
            file,
            sha256: sha256_file(&options.input)?,
            format: format_name(&options.input)?,
        },
        rows,
        columns,
        quality,
    })
}

fn is_label(column: &str, options: &BuildOptions) -> bool {
    options.quality.as_ref().is_some_and(|q| q.label == column)
}

/// The quality builder and where its columns are in each row.
struct QualityColumns {
    builder: QualityBuilder,
    label: usize,
    prediction: usize,
    score: Option<usize>,
}

impl QualityColumns {
    /// None without `--label` (its columns were checked to exist).
    fn new(have: &[String], options: &BuildOptions) -> Option<QualityColumns> {
        let spec = options.quality.clone()?;
        let at = |name: &str| have.iter().position(|c| c == name).expect("checked");
        Some(QualityColumns {
            label: at(&spec.label),
            prediction: at(&spec.prediction),
            score: spec.score.as_deref().map(at),
            builder: QualityBuilder::new(spec),
        })
    }

    fn add(&mut self, row: &Row) -> Result<(), QualityBuildError> {
        let score = self.score.map(|i| row.get(i));
        self.builder
            .add(row.get(self.label), row.get(self.prediction), score)
    }
}

/// Rows read before the columns are folded in parallel.
const CHUNK_ROWS: usize = 4096;

/// Reads every row, a chunk at a time; each chunk is folded into the
/// column builders on all cores, the columns split between threads.
fn read_all(
    reader: &mut dyn RowReader,
    columns: &mut [(usize, ColumnBuilder)],
    quality: &mut Option<QualityColumns>,
    progress: Progress<'_>,
) -> Result<u64, BuildError> {
    let mut chunk: Vec<Row> = (0..CHUNK_ROWS).map(|_| Row::default()).collect();
    let mut locations: Vec<Location> = Vec::with_capacity(CHUNK_ROWS);
    let mut rows = 0u64;
    loop {
        locations.clear();
        while locations.len() < CHUNK_ROWS && reader.read_row(&mut chunk[locations.len()])? {
            locations.push(reader.location());
        }
        fold_chunk(&chunk[..locations.len()], columns).map_err(|(row, column, problem)| {
            BuildError::BadValue {
                location: locations[row].to_string(),
                column,
                problem,
            }
        })?;
        if let Some(quality) = quality.as_mut() {
            for (row, location) in chunk.iter().zip(&locations) {
                quality.add(row).map_err(|source| BuildError::QualityRow {
                    location: location.to_string(),
                    source,
                })?;
            }
        }
        rows += locations.len() as u64;
        let (done, total) = reader.progress();
        progress(done, total);
        if locations.len() < CHUNK_ROWS {
            return Ok(rows);
        }
    }
}

/// Folds `rows` into the builders; on a bad value, the first failing
/// `(row index, column, problem)`.
fn fold_chunk(
    rows: &[Row],
    columns: &mut [(usize, ColumnBuilder)],
) -> Result<(), (usize, String, String)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = columns.len().div_ceil(threads).max(1);
    let failures = std::thread::scope(|scope| {
        let handles: Vec<_> = columns
            .chunks_mut(per_thread)
            .map(|group| scope.spawn(move || fold_group(rows, group)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("folding a column does not panic").err())
            .collect::<Vec<_>>()
    });
    match failures.into_iter().min_by_key(|f| f.0) {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

fn fold_group(
    rows: &[Row],
    group: &mut [(usize, ColumnBuilder)],
) -> Result<(), (usize, String, String)> {
    for (i, builder) in group.iter_mut() {
        for (r, row) in rows.iter().enumerate() {
            builder
                .add(row.get(*i))
                .map_err(|got| (r, builder.name.clone(), got))?;
        }
    }
    Ok(())
}

fn check_named_columns(
    file: &str,
    have: &[String],
    options: &BuildOptions,
) -> Result<(), BuildError> {
    let named = options
        .kinds
        .keys()
        .map(|c| ("kind", c))
        .chain(options.ignore.iter().map(|c| ("ignore", c)))
        .chain(options.quality.iter().flat_map(|q| {
            [("label", &q.label), ("prediction", &q.prediction)]
                .into_iter()
                .chain(q.score.iter().map(|s| ("score", s)))
        }));
    for (flag, column) in named {
        if !have.contains(column) {
            return Err(BuildError::UnknownColumn {
                file: file.into(),
                flag,
                column: column.clone(),
                have: have.join(", "),
            });
        }
    }
    Ok(())
}

/// One column being profiled: the accumulators of every kind it may still
/// turn out to be.
struct ColumnBuilder {
    name: String,
    forced: Option<Kind>,
    missing: u64,
    evidence: KindEvidence,
    numeric: Option<NumericAccumulator>,
    categorical: Option<CategoricalAccumulator>,
    text: Option<TextAccumulator>,
    embedding: Option<EmbeddingAccumulator>,
    scratch: String,
}

impl ColumnBuilder {
    fn new(
        name: &str,
        forced: Option<Kind>,
        limits: &ProfileLimits,
        measure: &Arc<TextMeasure>,
    ) -> Self {
        let may_be = |k: Kind| forced.is_none() || forced == Some(k);
        Self {
            name: name.into(),
            forced,
            missing: 0,
            evidence: KindEvidence {
                all_numeric: true,
                ..KindEvidence::default()
            },
            numeric: may_be(Kind::Numeric).then(|| NumericAccumulator::new(limits)),
            categorical: may_be(Kind::Categorical).then(|| CategoricalAccumulator::new(limits)),
            text: may_be(Kind::Text).then(|| TextAccumulator::new(limits, measure.clone())),
            embedding: (forced == Some(Kind::Embedding)).then(|| EmbeddingAccumulator::new(limits)),
            scratch: String::new(),
        }
    }

    /// Adds one cell; else what is wrong with it (a forced-numeric column
    /// given a value that is not a finite number, an embedding column given
    /// anything but a vector like its first).
    fn add(&mut self, cell: &Cell) -> Result<(), String> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = self.add_value(cell, &mut scratch);
        self.scratch = scratch;
        result
    }

    fn add_value(&mut self, cell: &Cell, scratch: &mut String) -> Result<(), String> {
        if cell.is_missing(self.forced == Some(Kind::Text)) {
            self.missing += 1;
            return Ok(());
        }
        if let Some(acc) = &mut self.embedding {
            self.evidence.values += 1;
            return add_embedding(acc, cell, scratch);
        }
        let number = match cell {
            Cell::Number(x) => x.is_finite().then_some(*x),
            Cell::Text(s) => parse_number(s),
            _ => None,
        };
        let text = cell.as_text(scratch);
        self.evidence.values += 1;
        match (number, &mut self.numeric) {
            (Some(x), Some(acc)) => acc.add(x),
            (None, Some(_)) if self.forced == Some(Kind::Numeric) => {
                return Err(format!(
                    "expected a finite number (the column is numeric), got {text:?}"
                ));
            }
            (None, _) => {
                self.evidence.all_numeric = false;
                self.numeric = None;
            }
            (Some(_), None) => {}
        }
        self.evidence.chars += text.chars().count() as u64;
        self.evidence.with_whitespace += u64::from(text.contains(char::is_whitespace));
        if let Some(acc) = &mut self.categorical {
            acc.add(text);
        }
        if let Some(acc) = &mut self.text {
            acc.add(text);
        }
        Ok(())
    }

    fn finish(mut self, file: &str, limits: &ProfileLimits) -> Result<Column, BuildError> {
        if let Some(acc) = &self.categorical {
            self.evidence.distinct = acc.distinct();
        }
        let kind = self.forced.unwrap_or_else(|| self.evidence.infer());
        let empty = || BuildError::EmptyColumn {
            file: file.into(),
            column: self.name.clone(),
            kind,
        };
        let profile = match kind {
            Kind::Numeric => Profile::Numeric(
                self.numeric
                    .as_ref()
                    .and_then(|a| a.finish(limits))
                    .ok_or_else(empty)?,
            ),
            Kind::Text => Profile::Text(
                self.text
                    .as_ref()
                    .and_then(|a| a.finish())
                    .ok_or_else(empty)?,
            ),
            Kind::Embedding => Profile::Embedding(
                self.embedding
                    .as_ref()
                    .and_then(|a| a.finish())
                    .ok_or_else(empty)?,
            ),
            Kind::Categorical => Profile::Categorical(
                self.categorical
                    .as_ref()
                    .expect("kept while categorical is possible")
                    .finish(limits),
            ),
        };
        Ok(Column {
            name: self.name,
            count: self.evidence.values,
            missing: self.missing,
            profile,
        })
    }
}

/// Adds a cell of an embedding column: a JSON array of numbers (a CSV
/// field `[0.1, 0.2]`, a JSON Lines string or array).
fn add_embedding(
    acc: &mut EmbeddingAccumulator,
    cell: &Cell,
    scratch: &mut String,
) -> Result<(), String> {
    let text = cell.as_text(scratch);
    let vector: Vec<f32> = serde_json::from_str(text).map_err(|_| {
        format!("expected a JSON array of numbers (the column is an embedding), got {text:?}")
    })?;
    acc.add(&vector)
        .map_err(|reason| format!("expected a vector like the column's first: {reason}"))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn format_name(path: &Path) -> Result<String, BuildError> {
    Ok(match dataset::Format::from_path(path)? {
        dataset::Format::Csv => "csv",
        dataset::Format::JsonLines => "jsonl",
        dataset::Format::Parquet => "parquet",
    }
    .into())
}

fn sha256_file(path: &Path) -> Result<String, BuildError> {
    let io = |source| BuildError::Io {
        file: path.display().to_string(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
