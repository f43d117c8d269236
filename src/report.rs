//! The offline `report` command's two ends: reading a current data file
//! into a [`Sample`] shaped by the baseline (with errors that name the
//! file, line and column), and rendering a [`Report`] as a table or JSON.

use crate::baseline::Baseline;
use crate::dataset::{self, Cell, Row};
use crate::detect::{
    ColumnSample, Datum, Report, Sample, Status, TestReport, Values, feature_label,
};
use crate::schema::{Kind, parse_number};
use std::fmt::Write as _;
use std::path::Path;

/// Why a current file could not be read against a baseline.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    #[error("{file}: column {column:?} of the baseline is missing (the file has: {have})")]
    MissingColumn {
        file: String,
        column: String,
        have: String,
    },
    #[error(
        "{location}, column {column:?}: expected {expected} (the column is {kind} in the baseline), got {got}"
    )]
    WrongKind {
        location: String,
        column: String,
        kind: Kind,
        expected: &'static str,
        got: String,
    },
}

/// Reads every row of `path`, keeping the baseline's columns.
pub fn read_sample(baseline: &Baseline, path: &Path) -> Result<Sample, SampleError> {
    let mut reader = dataset::open(path)?;
    let file = path.display().to_string();
    let positions = baseline
        .columns
        .iter()
        .map(|c| {
            reader
                .columns()
                .iter()
                .position(|name| *name == c.name)
                .ok_or_else(|| SampleError::MissingColumn {
                    file: file.clone(),
                    column: c.name.clone(),
                    have: reader.columns().join(", "),
                })
        })
        .collect::<Result<Vec<usize>, _>>()?;
    let mut columns: Vec<ColumnSample> = baseline
        .columns
        .iter()
        .map(|c| ColumnSample::empty(&c.profile))
        .collect();
    let mut row = Row::default();
    let mut rows = 0u64;
    while reader.read_row(&mut row)? {
        rows += 1;
        for ((column, sample), i) in baseline.columns.iter().zip(&mut columns).zip(&positions) {
            add_cell(sample, row.get(*i)).map_err(|(expected, got)| SampleError::WrongKind {
                location: reader.location().to_string(),
                column: column.name.clone(),
                kind: column.profile.kind(),
                expected,
                got,
            })?;
        }
    }
    Ok(Sample { rows, columns })
}

/// Adds one cell to a column's sample; `Err((expected, got))` when it does
/// not fit the column's kind.
fn add_cell(sample: &mut ColumnSample, cell: &Cell) -> Result<(), (&'static str, String)> {
    let mut buffer = String::new();
    let vector: Vec<f32>;
    let datum = if cell.is_missing(matches!(sample.values, Values::Text(_))) {
        Datum::Missing
    } else {
        match &sample.values {
            Values::Numeric(_) => Datum::Number(number(cell)?),
            Values::Categorical(_) => Datum::Label(cell.as_text(&mut buffer)),
            Values::Text(_) => Datum::Text(cell.as_text(&mut buffer)),
            Values::Embedding(e) => {
                vector = embedding(cell, e.centroid.dim())?;
                Datum::Embedding(&vector)
            }
        }
    };
    sample.add(datum, 1);
    Ok(())
}

/// A cell of an embedding column: a JSON array of `dimension` finite
/// numbers (`[0.1, 0.2]`).
fn embedding(cell: &Cell, dimension: usize) -> Result<Vec<f32>, (&'static str, String)> {
    let expected = "a JSON array of finite numbers of the baseline's dimension";
    let text = cell.as_text(&mut String::new()).to_owned();
    match serde_json::from_str::<Vec<f32>>(&text) {
        Ok(v) if v.len() == dimension && v.iter().all(|x| x.is_finite()) => Ok(v),
        _ => Err((expected, text)),
    }
}

fn number(cell: &Cell) -> Result<f64, (&'static str, String)> {
    let expected = "a finite number";
    match cell {
        Cell::Number(x) if x.is_finite() => Ok(*x),
        Cell::Text(s) => parse_number(s).ok_or_else(|| (expected, format!("{s:?}"))),
        other => Err((expected, other.as_text(&mut String::new()).to_owned())),
    }
}

/// The report as a readable table: one row per feature (per descriptor of
/// a text feature; per test when several were asked for), then a summary.
pub fn render_table(report: &Report) -> String {
    let mut lines = vec![
        [
            "feature",
            "kind",
            "test",
            "statistic",
            "p-value",
            "threshold",
            "drifted",
            "psi",
        ]
        .map(String::from),
    ];
    for f in &report.features {
        if f.status == Status::InsufficientData {
            lines.push([
                f.name.clone(),
                f.kind.to_string(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "insufficient data".into(),
                "-".into(),
            ]);
            continue;
        }
        let info: Vec<&TestReport> = f.tests.iter().filter(|t| !t.decisive).collect();
        for t in f.tests.iter().filter(|t| t.decisive) {
            let psi = info
                .iter()
                .find(|i| i.descriptor == t.descriptor)
                .and_then(|i| i.statistic);
            let name = feature_label(&f.name, t.descriptor.as_deref());
            lines.push([
                name,
                f.kind.to_string(),
                t.test.to_string(),
                fmt_num(t.statistic),
                fmt_num(t.p_value_adjusted.or(t.p_value)),
                format!("{}", t.threshold),
                match (t.drifted, &t.error) {
                    (Some(true), _) => "DRIFT".into(),
                    (Some(false), _) => "no".into(),
                    (None, Some(e)) => format!("error: {e}"),
                    (None, None) => "-".into(),
                },
                fmt_num(psi),
            ]);
        }
    }
    let mut out = align(&lines);
    let _ = writeln!(
        out,
        "\nmodel {}: {} of {} features drifted (share {:.3}, threshold {}): dataset {}",
        report.model,
        report.drifted_features,
        report.evaluated_features,
        report.drift_share,
        report.drift_share_threshold,
        if report.drifted {
            "DRIFTED"
        } else {
            "not drifted"
        }
    );
    out
}

fn fmt_num(x: Option<f64>) -> String {
    match x {
        None => "-".into(),
        Some(v) if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
    }
}

fn align(lines: &[[String; 8]]) -> String {
    let widths: Vec<usize> = (0..8)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}
