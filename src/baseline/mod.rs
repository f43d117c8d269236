//! The training baseline: a compact, versioned JSON profile of the reference
//! data a model was trained and validated on, frozen once so that any live
//! sample can be compared with it without the raw training data.
//!
//! Per column it keeps the kind, counts, and for numeric columns the moments,
//! the decile bins (edges and proportions) and the reference distribution in
//! the most exact form that fits: every value (up to `exact_limit`), every
//! distinct value with its count (up to 100 distinct values), or otherwise
//! equally spaced quantiles from a [`sketch::QuantileSketch`]. Categorical
//! columns keep category counts (top K plus `__other__`); text columns keep a
//! numeric profile of each descriptor in [`crate::schema::TEXT_DESCRIPTORS`]
//! and of each pattern the baseline was built with (`--text-pattern`),
//! with the patterns themselves; embedding columns keep their dimension,
//! centroid and a bounded sample of vectors.
//! With a label column, the baseline also holds the model's quality on the
//! reference rows and its score calibration ([`quality`]).

pub mod build;
pub mod profile;
pub mod quality;
pub mod sketch;

use crate::schema::Kind;
use crate::schema::text::{TextMeasure, TextPattern};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// The value of `format` in every baseline file.
pub const FORMAT_NAME: &str = "driftwatch-baseline";
/// The baseline format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// The bucket that holds categories beyond the cardinality cap.
pub const OTHER_CATEGORY: &str = "__other__";

/// A model's training baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The format version, [`FORMAT_VERSION`] for files this build writes.
    pub format_version: u32,
    /// The model this baseline belongs to.
    pub model: String,
    /// When the baseline was built (RFC 3339, UTC).
    pub created_at: String,
    /// The data file it was built from.
    pub source: Source,
    /// Rows read from the source.
    pub rows: u64,
    /// One profile per column, in file order.
    pub columns: Vec<Column>,
    /// The model's quality on these rows (`baseline build --label …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<quality::BaselineQuality>,
}

/// Where a baseline came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The file name (without its directory).
    pub file: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// `csv`, `jsonl` or `parquet`.
    pub format: String,
}

/// The profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// The column name, as in the header.
    pub name: String,
    /// Non-missing values.
    pub count: u64,
    /// Missing (empty or null) values.
    pub missing: u64,
    /// The kind and its statistics (`{"kind": "numeric", "stats": {...}}`).
    pub profile: Profile,
}

/// Kind-specific statistics of a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "stats", rename_all = "lowercase")]
pub enum Profile {
    Numeric(NumericProfile),
    Categorical(CategoricalProfile),
    Text(TextProfile),
    Embedding(EmbeddingProfile),
}

impl Profile {
    /// The column kind this profile describes.
    pub fn kind(&self) -> Kind {
        match self {
            Profile::Numeric(_) => Kind::Numeric,
            Profile::Categorical(_) => Kind::Categorical,
            Profile::Text(_) => Kind::Text,
            Profile::Embedding(_) => Kind::Embedding,
        }
    }
}

/// Statistics of a numeric column (or of one text descriptor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericProfile {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Population standard deviation (ddof = 0), as numpy's `std`.
    pub std: f64,
    /// Distinct values, counted exactly up to a cap.
    pub distinct: Distinct,
    /// Decile bins frozen from the reference.
    pub bins: Bins,
    /// The reference distribution itself.
    pub reference: Reference,
}

/// A distinct-value count that stops at a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distinct {
    /// Distinct values seen, or the cap when `capped`.
    pub count: u64,
    /// True when there were more than `count` distinct values.
    pub capped: bool,
}

/// Quantile bins: a value `x` falls in bin `searchsorted(edges, x, 'right')`,
/// so there are `edges.len() + 1` bins and the outer two are open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bins {
    /// Interior edges: the unique deciles of the reference.
    pub edges: Vec<f64>,
    /// Share of the reference in each bin.
    pub proportions: Vec<f64>,
}

/// The reference distribution of a numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "form", content = "data", rename_all = "lowercase")]
pub enum Reference {
    /// Every value, sorted: tests against it are exact.
    Exact { values: Vec<f64> },
    /// Every distinct value (sorted) with its count: tests are exact.
    Counts { values: Vec<f64>, counts: Vec<u64> },
    /// Quantiles at ranks `i/(m-1)`, `i = 0..m`, of a summary whose rank
    /// error is at most `rank_error` (a share of the rows).
    Quantiles {
        quantiles: Vec<f64>,
        rank_error: f64,
    },
}

/// Statistics of a categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoricalProfile {
    /// Kept categories with their counts, most frequent first.
    pub categories: Vec<CategoryCount>,
    /// Values of categories beyond the cap, merged into [`OTHER_CATEGORY`].
    pub other: u64,
    /// Distinct categories seen (estimated beyond a few thousand).
    pub distinct: u64,
    /// False when the counts are estimates (more distinct values than the
    /// counting table holds).
    pub exact: bool,
}

/// One category and how often it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryCount {
    pub value: String,
    pub count: u64,
}

/// Statistics of a free-text column: one numeric profile per descriptor of
/// its [`TextMeasure`] (the built-in descriptors, then the patterns the
/// baseline was built with), in the measure's order. A file written before
/// `json_valid` existed lacks it and keeps being measured without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TextProfileFields", into = "TextProfileFields")]
pub struct TextProfile {
    pub descriptors: Vec<Descriptor>,
    /// Compiled once when the profile is built or read, shared by every
    /// sample of the column.
    measure: Arc<TextMeasure>,
}

/// A text profile as the file holds it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextProfileFields {
    descriptors: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    patterns: Vec<TextPattern>,
}

impl TextProfile {
    /// The profile of `descriptors`, which are `measure`'s, in its order.
    pub fn new(descriptors: Vec<Descriptor>, measure: Arc<TextMeasure>) -> TextProfile {
        TextProfile {
            descriptors,
            measure,
        }
    }

    /// What the column's texts are measured by.
    pub fn measure(&self) -> &Arc<TextMeasure> {
        &self.measure
    }
}

impl TryFrom<TextProfileFields> for TextProfile {
    type Error = String;

    fn try_from(fields: TextProfileFields) -> Result<Self, Self::Error> {
        let names = fields.descriptors.iter().map(|d| d.name.as_str());
        let measure = TextMeasure::of_descriptors(names, fields.patterns)?;
        Ok(TextProfile::new(fields.descriptors, Arc::new(measure)))
    }
}

impl From<TextProfile> for TextProfileFields {
    fn from(profile: TextProfile) -> Self {
        TextProfileFields {
            descriptors: profile.descriptors,
            patterns: profile.measure.patterns().to_vec(),
        }
    }
}

/// The profile of one text descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    pub name: String,
    pub profile: NumericProfile,
}

/// Statistics of an embedding column: the dimension every vector has, the
/// mean of every reference vector, and a uniform sample of them (at most
/// `--embedding-sample`) for the MMD test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EmbeddingFields", into = "EmbeddingFields")]
pub struct EmbeddingProfile {
    centroid: Vec<f64>,
    /// The sampled vectors, row after row.
    sample: Vec<f32>,
}

/// An embedding profile as the file holds it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbeddingFields {
    dimension: usize,
    centroid: Vec<f64>,
    sample: Vec<Vec<f32>>,
}

impl EmbeddingProfile {
    /// The profile of vectors whose mean is `centroid` (of their dimension,
    /// at least 1), sampled as `sample` (row after row); else why not.
    pub fn new(centroid: Vec<f64>, sample: Vec<f32>) -> Result<EmbeddingProfile, String> {
        let dimension = centroid.len();
        if dimension == 0 || sample.is_empty() || !sample.len().is_multiple_of(dimension) {
            return Err(format!(
                "an embedding profile needs a centroid of dimension ≥ 1 and sampled vectors of that dimension, got dimension {dimension} and {} sampled components",
                sample.len()
            ));
        }
        Ok(EmbeddingProfile { centroid, sample })
    }

    /// The dimension of every vector.
    pub fn dimension(&self) -> usize {
        self.centroid.len()
    }

    /// The mean of every reference vector.
    pub fn centroid(&self) -> &[f64] {
        &self.centroid
    }

    /// The sampled reference vectors.
    pub fn sample(&self) -> std::slice::ChunksExact<'_, f32> {
        self.sample.chunks_exact(self.dimension())
    }
}

impl TryFrom<EmbeddingFields> for EmbeddingProfile {
    type Error = String;

    fn try_from(fields: EmbeddingFields) -> Result<Self, Self::Error> {
        let dimension = fields.dimension;
        if fields.centroid.len() != dimension || fields.sample.iter().any(|r| r.len() != dimension)
        {
            return Err(format!(
                "an embedding profile of dimension {dimension} holds vectors of another dimension"
            ));
        }
        EmbeddingProfile::new(fields.centroid, fields.sample.concat())
    }
}

impl From<EmbeddingProfile> for EmbeddingFields {
    fn from(profile: EmbeddingProfile) -> Self {
        EmbeddingFields {
            dimension: profile.dimension(),
            sample: profile.sample().map(<[f32]>::to_vec).collect(),
            centroid: profile.centroid,
        }
    }
}

/// Why a baseline file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a driftwatch baseline: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "{path}: baseline format version {found}, this driftwatch reads version {FORMAT_VERSION}: rebuild it with `driftwatch baseline build`"
    )]
    Version { path: String, found: u64 },
}

impl Baseline {
    /// Reads and checks a baseline file. A file of another format version
    /// gets a version error rather than a confusing field error.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: shown.clone(),
            source,
        })?;
        // Only a file that fails to parse is probed for its version, so
        // the common case parses once.
        let baseline: Baseline = serde_json::from_str(&text).map_err(|source| {
            check_version(&shown, &text)
                .err()
                .unwrap_or(BaselineError::Parse {
                    path: shown.clone(),
                    source,
                })
        })?;
        check_header(
            &shown,
            Some(&baseline.format),
            Some(baseline.format_version.into()),
        )?;
        Ok(baseline)
    }

    /// Writes the baseline as JSON (through a temporary file and a rename,
    /// so a crash never leaves half a baseline).
    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let shown = path.display().to_string();
        let io = |source| BaselineError::Io {
            path: shown.clone(),
            source,
        };
        let json = serde_json::to_vec(self).expect("a baseline always serializes");
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The profile of the column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Deserialize)]
struct VersionProbe {
    format: Option<String>,
    format_version: Option<u64>,
}

fn check_version(path: &str, text: &str) -> Result<(), BaselineError> {
    let probe: VersionProbe =
        serde_json::from_str(text).map_err(|source| BaselineError::Parse {
            path: path.into(),
            source,
        })?;
    check_header(path, probe.format.as_deref(), probe.format_version)
}

fn check_header(
    path: &str,
    format: Option<&str>,
    version: Option<u64>,
) -> Result<(), BaselineError> {
    let parse = |msg: &str| BaselineError::Parse {
        path: path.into(),
        source: serde::de::Error::custom(msg),
    };
    if format != Some(FORMAT_NAME) {
        return Err(parse("expected \"format\": \"driftwatch-baseline\""));
    }
    match version {
        Some(v) if v == u64::from(FORMAT_VERSION) => Ok(()),
        Some(found) => Err(BaselineError::Version {
            path: path.into(),
            found,
        }),
        None => Err(parse("missing \"format_version\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::profile::{CategoricalAccumulator, NumericAccumulator, ProfileLimits};
    use super::*;

    fn sample_baseline() -> Baseline {
        let limits = ProfileLimits::default();
        let mut numeric = NumericAccumulator::new(&limits);
        // Values whose shortest decimal form needs all 17 digits.
        for i in 0..20_000 {
            numeric.add((i as f64 * 0.1).sin() / 3.0);
        }
        let mut categories = CategoricalAccumulator::new(&limits);
        for v in ["a", "b", "a", "New York"] {
            categories.add(v);
        }
        let column = |name: &str, profile| Column {
            name: name.into(),
            count: 20_000,
            missing: 0,
            profile,
        };
        Baseline {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            model: "m".into(),
            created_at: "2026-11-29T00:00:00Z".into(),
            source: Source {
                file: "x.csv".into(),
                sha256: "0".repeat(64),
                format: "csv".into(),
            },
            rows: 20_000,
            columns: vec![
                column("x", Profile::Numeric(numeric.finish(&limits).unwrap())),
                column("c", Profile::Categorical(categories.finish(&limits))),
            ],
            quality: None,
        }
    }

    #[test]
    fn save_and_load_round_trip_every_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        let baseline = sample_baseline();
        baseline.save(&path).unwrap();
        assert_eq!(Baseline::load(&path).unwrap(), baseline);
    }

    #[test]
    fn an_embedding_profile_round_trips_and_checks_its_dimension() {
        let sample = vec![0.0, 1.0, 1.0, -3.0];
        let profile = Profile::Embedding(EmbeddingProfile::new(vec![0.5, -1.0], sample).unwrap());
        let json = serde_json::to_string(&profile).unwrap();
        let stats = r#""dimension":2,"centroid":[0.5,-1.0],"sample":[[0.0,1.0],[1.0,-3.0]]"#;
        assert_eq!(
            json,
            format!(r#"{{"kind":"embedding","stats":{{{stats}}}}}"#)
        );
        assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), profile);
        let bad = json.replace("[1.0,-3.0]", "[1.0]");
        let err = serde_json::from_str::<Profile>(&bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dimension 2 holds vectors of another"),
            "{err}"
        );
    }

    #[test]
    fn another_format_or_version_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(
            &path,
            r#"{"format": "driftwatch-baseline", "format_version": 2, "new": 1}"#,
        )
        .unwrap();
        let err = Baseline::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("format version 2") && err.contains("rebuild"),
            "{err}"
        );
        std::fs::write(&path, r#"{"hello": "world"}"#).unwrap();
        let err = Baseline::load(&path).unwrap_err().to_string();
        assert!(err.contains("not a driftwatch baseline"), "{err}");
    }
}
