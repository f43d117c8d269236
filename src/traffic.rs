//! Synthetic traffic for any model, made from its baseline alone: records
//! whose values follow the baseline's reference distributions, for load
//! tests, benchmarks and demonstrations. Numbers are drawn by inverse CDF
//! from the reference as the baseline holds it (every value, distinct
//! values with counts, or the quantile summary); categories (and numeric
//! columns of at most [`FEW_VALUES`] distinct values, which detection
//! compares as categories) by their reference counts; texts are words whose
//! length, count, digits and non-ASCII characters follow the text
//! descriptors' references roughly.
//!
//! `drift` moves the traffic away from the baseline: continuous numbers are
//! shifted by `drift` reference standard deviations, and the weights of
//! categories are tilted from the frequent towards the rare ones, so that
//! at `drift` = 1 every feature trips the default rule (normed Wasserstein
//! or Jensen–Shannon ≥ 0.1). The same seed gives the same records.
//!
//! A batch comes in either wire form with the same content: the columnar
//! one is the row one rewritten by [`crate::proto::convert::to_columnar`].

use crate::baseline::profile::mix64;
use crate::baseline::{
    Baseline, CategoricalProfile, Column, NumericProfile, OTHER_CATEGORY, Profile, Reference,
    TextProfile,
};
use crate::detect::rule::FEW_VALUES;
use crate::proto::convert::to_columnar;
use crate::proto::v1::{Record, SendRequest, Value, value};
use std::collections::BTreeMap;

/// The wire form of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Form {
    /// `SendRequest.records`: one `Record` per record.
    Rows,
    /// `SendRequest.columns`: one `Column` per feature.
    Columnar,
}

/// Why traffic cannot be made from a baseline.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrafficError {
    #[error("drift {0}: expected a finite number (0 = like the baseline, 1 = clearly drifted)")]
    Drift(f64),
    #[error("column {column:?}: generating embeddings is not supported yet")]
    Embedding { column: String },
    #[error("column {column:?}: the text profile lacks the {descriptor:?} descriptor")]
    Descriptor {
        column: String,
        descriptor: &'static str,
    },
}

/// A generator of one model's records.
#[derive(Debug, Clone)]
pub struct Traffic {
    model: String,
    columns: Vec<ColumnMaker>,
    seed: u64,
    rng: Rng,
    /// Whether records carry ids.
    ids: bool,
    made: u64,
}

impl Traffic {
    /// Traffic like `baseline`'s reference (`drift` = 0) or moved away from
    /// it, for the model the baseline names, with records without ids.
    pub fn new(baseline: &Baseline, drift: f64, seed: u64) -> Result<Traffic, TrafficError> {
        if !drift.is_finite() {
            return Err(TrafficError::Drift(drift));
        }
        let columns = baseline
            .columns
            .iter()
            .map(|c| ColumnMaker::new(c, drift))
            .collect::<Result<_, _>>()?;
        Ok(Traffic {
            model: baseline.model.clone(),
            columns,
            seed,
            rng: Rng(seed),
            ids: false,
            made: 0,
        })
    }

    /// Batches for the model configured as `model`.
    pub fn for_model(self, model: &str) -> Traffic {
        Traffic {
            model: model.to_owned(),
            ..self
        }
    }

    /// Records with ids: `<seed>-<n>` for the n-th record made.
    pub fn with_ids(self) -> Traffic {
        Traffic { ids: true, ..self }
    }

    /// One record: every baseline column among its features, except the
    /// ones left missing at the column's reference missing rate.
    pub fn record(&mut self) -> Record {
        let mut features = BTreeMap::new();
        for c in &self.columns {
            if c.missing == 0.0 || self.rng.unit() >= c.missing {
                let kind = Some(c.values.make(&mut self.rng));
                features.insert(c.name.clone(), Value { kind });
            }
        }
        self.made += 1;
        let id = if self.ids {
            format!("{}-{}", self.seed, self.made)
        } else {
            String::new()
        };
        Record {
            id,
            features,
            ..Default::default()
        }
    }

    /// A batch of `n` records in `form`.
    pub fn batch(&mut self, form: Form, n: usize) -> SendRequest {
        let rows = SendRequest {
            model: self.model.clone(),
            records: (0..n).map(|_| self.record()).collect(),
            ..Default::default()
        };
        match form {
            Form::Rows => rows,
            Form::Columnar => to_columnar(&rows),
        }
    }
}

/// How weights are tilted per unit of drift: the most frequent item's
/// weight is multiplied by e^(-TILT/2), the rarest one's by e^(TILT/2).
/// At drift 1 it moves a uniform 5-category column to a Jensen–Shannon
/// distance of about 0.24, a two-category one further.
const TILT: f64 = 2.0;

/// One baseline column's values.
#[derive(Debug, Clone)]
struct ColumnMaker {
    name: String,
    /// The share of records that lack it.
    missing: f64,
    values: Values,
}

#[derive(Debug, Clone)]
enum Values {
    /// A continuous numeric column: its reference, shifted.
    Numbers { reference: InverseCdf, shift: f64 },
    /// A numeric column of few distinct values.
    Discrete { values: Vec<f64>, choice: Choice },
    /// A categorical column.
    Labels { labels: Vec<String>, choice: Choice },
    /// A text column.
    Texts(TextMaker),
}

impl ColumnMaker {
    fn new(column: &Column, drift: f64) -> Result<ColumnMaker, TrafficError> {
        let values = match &column.profile {
            Profile::Numeric(p) => numbers(p, drift),
            Profile::Categorical(p) => labels(p, drift),
            Profile::Text(p) => Values::Texts(TextMaker::new(&column.name, p, drift)?),
            Profile::Embedding(_) => {
                let column = column.name.clone();
                return Err(TrafficError::Embedding { column });
            }
        };
        Ok(ColumnMaker {
            name: column.name.clone(),
            missing: column.missing as f64 / (column.count + column.missing).max(1) as f64,
            values,
        })
    }
}

fn numbers(profile: &NumericProfile, drift: f64) -> Values {
    match &profile.reference {
        Reference::Counts { values, counts } if values.len() as u64 <= FEW_VALUES => {
            Values::Discrete {
                values: values.clone(),
                choice: Choice::tilted(counts, drift),
            }
        }
        reference => Values::Numbers {
            reference: InverseCdf::new(reference),
            shift: drift * profile.std,
        },
    }
}

/// The kept categories, and [`OTHER_CATEGORY`] for the merged rare ones
/// (detection counts it with them).
fn labels(profile: &CategoricalProfile, drift: f64) -> Values {
    let other = (profile.other > 0).then_some((OTHER_CATEGORY, profile.other));
    let (labels, counts): (Vec<String>, Vec<u64>) = (profile.categories.iter())
        .map(|c| (c.value.as_str(), c.count))
        .chain(other)
        .map(|(label, count)| (label.to_owned(), count))
        .unzip();
    Values::Labels {
        labels,
        choice: Choice::tilted(&counts, drift),
    }
}

impl Values {
    fn make(&self, rng: &mut Rng) -> value::Kind {
        match self {
            Values::Numbers { reference, shift } => {
                value::Kind::Number(reference.at(rng.unit()) + shift)
            }
            Values::Discrete { values, choice } => value::Kind::Number(values[choice.pick(rng)]),
            Values::Labels { labels, choice } => {
                value::Kind::Category(labels[choice.pick(rng)].clone())
            }
            Values::Texts(maker) => value::Kind::Text(maker.make(rng)),
        }
    }
}

/// A numeric reference distribution read backwards: the value at a rank.
#[derive(Debug, Clone, PartialEq)]
enum InverseCdf {
    /// Every value, sorted.
    Exact(Vec<f64>),
    /// Distinct values, sorted, with their cumulative counts.
    Counts {
        values: Vec<f64>,
        cumulative: Vec<u64>,
    },
    /// Equally spaced quantiles, interpolated between.
    Quantiles(Vec<f64>),
}

impl InverseCdf {
    fn new(reference: &Reference) -> InverseCdf {
        match reference {
            Reference::Exact { values } => InverseCdf::Exact(values.clone()),
            Reference::Counts { values, counts } => InverseCdf::Counts {
                values: values.clone(),
                cumulative: counts
                    .iter()
                    .scan(0, |sum, &c| {
                        *sum += c;
                        Some(*sum)
                    })
                    .collect(),
            },
            Reference::Quantiles { quantiles, .. } => InverseCdf::Quantiles(quantiles.clone()),
        }
    }

    /// The share of the reference at or below `x`.
    fn rank_of(&self, x: f64) -> f64 {
        let below = |values: &[f64]| values.partition_point(|&v| v <= x);
        match self {
            InverseCdf::Exact(values) => below(values) as f64 / values.len() as f64,
            InverseCdf::Counts { values, cumulative } => {
                let total = cumulative.last().copied().unwrap_or(0).max(1);
                let n = below(values);
                if n == 0 {
                    0.0
                } else {
                    cumulative[n - 1] as f64 / total as f64
                }
            }
            InverseCdf::Quantiles(q) => {
                below(q).saturating_sub(1) as f64 / (q.len() - 1).max(1) as f64
            }
        }
    }

    /// The value at rank `u` ∈ [0, 1).
    fn at(&self, u: f64) -> f64 {
        match self {
            InverseCdf::Exact(values) => values[index(u, values.len())],
            InverseCdf::Counts { values, cumulative } => {
                let total = cumulative.last().copied().unwrap_or(0);
                let rank = (u * total as f64) as u64;
                values[cumulative
                    .partition_point(|&c| c <= rank)
                    .min(values.len() - 1)]
            }
            InverseCdf::Quantiles(q) => {
                let x = u * (q.len() - 1) as f64;
                let i = (x as usize).min(q.len() - 1);
                let next = q[(i + 1).min(q.len() - 1)];
                q[i] + (x - i as f64) * (next - q[i])
            }
        }
    }
}

/// `floor(u · n)`, kept below `n`.
fn index(u: f64, n: usize) -> usize {
    ((u * n as f64) as usize).min(n - 1)
}

/// A weighted pick among items.
#[derive(Debug, Clone, PartialEq)]
struct Choice {
    cumulative: Vec<f64>,
}

impl Choice {
    /// Weights proportional to `counts`, tilted by `drift`: ranked by count
    /// (the most frequent first, ties in order), the item of rank r among k
    /// has its weight multiplied by e^(drift · TILT · (r/(k−1) − ½)).
    fn tilted(counts: &[u64], drift: f64) -> Choice {
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(counts[i]));
        let last = counts.len().saturating_sub(1).max(1) as f64;
        let mut weights = vec![0.0; counts.len()];
        for (rank, &i) in order.iter().enumerate() {
            let tilt = drift * TILT * (rank as f64 / last - 0.5);
            weights[i] = counts[i] as f64 * tilt.exp();
        }
        let cumulative = weights
            .iter()
            .scan(0.0, |sum, &w| {
                *sum += w;
                Some(*sum)
            })
            .collect();
        Choice { cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let at = rng.unit() * total;
        (self.cumulative.partition_point(|&c| c <= at)).min(self.cumulative.len() - 1)
    }
}

/// Texts shaped by a text column's descriptors.
#[derive(Debug, Clone)]
struct TextMaker {
    length: InverseCdf,
    words: InverseCdf,
    non_ascii_share: InverseCdf,
    /// The share of the reference's texts without a non-ASCII character:
    /// the rank up to which `non_ascii_share` is 0.
    all_ascii: f64,
    digit_share: InverseCdf,
    length_shift: f64,
    words_shift: f64,
}

impl TextMaker {
    fn new(column: &str, profile: &TextProfile, drift: f64) -> Result<TextMaker, TrafficError> {
        let descriptor = |name: &'static str| {
            (profile.descriptors.iter())
                .find(|d| d.name == name)
                .map(|d| &d.profile)
                .ok_or_else(|| TrafficError::Descriptor {
                    column: column.to_owned(),
                    descriptor: name,
                })
        };
        let (length, words) = (descriptor("length")?, descriptor("words")?);
        let non_ascii_share = InverseCdf::new(&descriptor("non_ascii_share")?.reference);
        Ok(TextMaker {
            length: InverseCdf::new(&length.reference),
            words: InverseCdf::new(&words.reference),
            all_ascii: non_ascii_share.rank_of(0.0),
            non_ascii_share,
            digit_share: InverseCdf::new(&descriptor("digit_share")?.reference),
            length_shift: drift * length.std,
            words_shift: drift * words.std,
        })
    }

    /// A text whose length and word count are drawn at one rank (long
    /// texts have many words). That rank follows from the share of
    /// non-ASCII characters when it is not 0: such characters are mostly
    /// one accented word, so the higher the share, the shorter the text
    /// (drawn independently, the realized shares `k / length` would miss
    /// the reference's). The share of digits is drawn on its own.
    fn make(&self, rng: &mut Rng) -> String {
        let v = rng.unit();
        let non_ascii_share = self.non_ascii_share.at(v);
        let u = if non_ascii_share > 0.0 {
            (1.0 - (v - self.all_ascii) / (1.0 - self.all_ascii)).clamp(0.0, 1.0)
        } else {
            rng.unit()
        };
        let words = (self.words.at(u) + self.words_shift).round().max(0.0) as usize;
        if words == 0 {
            return String::new();
        }
        let length = (self.length.at(u) + self.length_shift).round().max(0.0) as usize;
        let length = length.max(2 * words - 1);
        let letters = length - (words - 1);
        let count = |share: f64| (share * length as f64).round() as usize;
        let non_ascii = if non_ascii_share > 0.0 {
            count(non_ascii_share).clamp(1, letters)
        } else {
            0
        };
        let digits = count(self.digit_share.at(rng.unit())).min(letters - non_ascii);
        spell(rng, words, letters, digits, non_ascii)
    }
}

/// `words` words of `letters` characters in all, single-spaced, of which
/// `digits` ASCII digits and `non_ascii` 'é's at random places, the rest
/// lowercase ASCII letters.
fn spell(rng: &mut Rng, words: usize, letters: usize, digits: usize, non_ascii: usize) -> String {
    let (mut digits, mut non_ascii, mut left) = (digits, non_ascii, letters);
    let mut text = String::with_capacity(letters + words + non_ascii);
    for w in 0..words {
        if w > 0 {
            text.push(' ');
        }
        for _ in 0..letters / words + usize::from(w < letters % words) {
            let r = rng.below(left);
            left -= 1;
            let c = if r < digits {
                digits -= 1;
                char::from(b'0' + rng.below(10) as u8)
            } else if r < digits + non_ascii {
                non_ascii -= 1;
                'é'
            } else {
                char::from(b'a' + rng.below(26) as u8)
            };
            text.push(c);
        }
    }
    text
}

/// SplitMix64: small, fast and good enough for synthetic data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// A uniform number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        index(self.unit(), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{DetectOptions, Report, Sample, detect};
    use crate::ingest::validate::validate_into;
    use crate::ingest::{ModelSchema, UnknownFields};
    use std::path::Path;
    use std::sync::OnceLock;

    fn loans() -> &'static Baseline {
        static LOANS: OnceLock<Baseline> = OnceLock::new();
        LOANS.get_or_init(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans/baseline.json");
            Baseline::load(&path).unwrap()
        })
    }

    /// The sample a batch validates to, all of it accepted.
    fn validated(baseline: &Baseline, request: &SendRequest) -> Sample {
        let schema = ModelSchema::new(baseline, UnknownFields::Reject);
        let mut sample = schema.empty_sample();
        let outcome = validate_into(&schema, request, &mut sample).unwrap();
        assert_eq!(outcome.rejected, 0, "{:?}", outcome.rejections);
        sample
    }

    fn report(drift: f64) -> Report {
        let mut traffic = Traffic::new(loans(), drift, 7).unwrap();
        let sample = validated(loans(), &traffic.batch(Form::Rows, 4000));
        detect(loans(), &sample, &DetectOptions::default())
    }

    /// Each feature's deciding score, for failure messages.
    fn scores(report: &Report) -> Vec<(&str, Option<f64>)> {
        (report.features.iter())
            .flat_map(|f| f.tests.iter().map(move |t| (f, t)))
            .filter(|(_, t)| t.decisive)
            .map(|(f, t)| (f.name.as_str(), t.statistic))
            .collect()
    }

    #[test]
    fn traffic_without_drift_is_not_drifted() {
        let report = report(0.0);
        assert_eq!(report.evaluated_features, 10);
        assert_eq!(report.drifted_features, 0, "{:?}", scores(&report));
    }

    #[test]
    fn traffic_at_drift_one_drifts_in_every_feature() {
        let report = report(1.0);
        assert_eq!(report.drifted_features, 10, "{:?}", scores(&report));
        assert!(report.drifted);
    }

    #[test]
    fn both_forms_validate_to_the_same_sample() {
        // The small test baseline has a text column with missing values.
        for baseline in [loans(), crate::ingest::testing::baseline()] {
            let mut traffic = Traffic::new(baseline, 0.5, 3).unwrap().with_ids();
            let rows = traffic.batch(Form::Rows, 300);
            let mut traffic = Traffic::new(baseline, 0.5, 3).unwrap().with_ids();
            let columnar = traffic.batch(Form::Columnar, 300);
            assert_eq!(columnar, to_columnar(&rows));
            assert_eq!(validated(baseline, &rows), validated(baseline, &columnar));
        }
    }

    #[test]
    fn records_follow_the_seed_and_carry_ids_when_asked() {
        let batch = |seed| {
            Traffic::new(loans(), 0.0, seed)
                .unwrap()
                .batch(Form::Rows, 20)
        };
        assert_eq!(batch(1), batch(1));
        assert_ne!(batch(1), batch(2));
        let mut traffic = Traffic::new(loans(), 0.0, 9).unwrap().with_ids();
        let ids: Vec<String> = (0..2).map(|_| traffic.record().id).collect();
        assert_eq!(ids, ["9-1", "9-2"]);
        assert!(batch(1).records.iter().all(|r| r.id.is_empty()));
        let mut named = Traffic::new(loans(), 0.0, 1).unwrap().for_model("other");
        assert_eq!(named.batch(Form::Columnar, 1).model, "other");
    }

    #[test]
    fn a_non_finite_drift_is_refused() {
        let err = Traffic::new(loans(), f64::INFINITY, 1).unwrap_err();
        assert_eq!(err, TrafficError::Drift(f64::INFINITY));
    }

    #[test]
    fn every_reference_form_is_read_backwards() {
        let exact = InverseCdf::new(&Reference::Exact {
            values: vec![1.0, 2.0, 4.0, 8.0],
        });
        assert_eq!([0.0, 0.3, 0.99].map(|u| exact.at(u)), [1.0, 2.0, 8.0]);
        let counts = InverseCdf::new(&Reference::Counts {
            values: vec![0.0, 1.0],
            counts: vec![3, 1],
        });
        assert_eq!([0.0, 0.74, 0.75].map(|u| counts.at(u)), [0.0, 0.0, 1.0]);
        let quantiles = InverseCdf::new(&Reference::Quantiles {
            quantiles: vec![0.0, 10.0, 30.0],
            rank_error: 0.0,
        });
        assert_eq!([0.0, 0.25, 0.75].map(|u| quantiles.at(u)), [0.0, 5.0, 20.0]);
        assert_eq!(
            [
                exact.rank_of(2.0),
                counts.rank_of(0.0),
                quantiles.rank_of(10.0)
            ],
            [0.5, 0.75, 0.5]
        );
    }

    #[test]
    fn drift_tilts_weights_from_frequent_to_rare_items() {
        let share = |c: &Choice, i: usize| {
            let before = if i == 0 { 0.0 } else { c.cumulative[i - 1] };
            (c.cumulative[i] - before) / c.cumulative.last().unwrap()
        };
        let still = Choice::tilted(&[30, 10], 0.0);
        assert_eq!((share(&still, 0), share(&still, 1)), (0.75, 0.25));
        let tilted = Choice::tilted(&[30, 10], 1.0);
        // 30/e against 10·e.
        let rare = 10.0 * 1f64.exp() / (30.0 / 1f64.exp() + 10.0 * 1f64.exp());
        assert!((share(&tilted, 1) - rare).abs() < 1e-12);
    }

    #[test]
    fn texts_have_the_words_and_length_drawn() {
        let mut rng = Rng(5);
        let text = spell(&mut rng, 3, 10, 2, 1);
        assert_eq!(crate::schema::text_descriptors(&text)[..2], [12.0, 3.0]);
        assert_eq!(text.chars().filter(char::is_ascii_digit).count(), 2);
        assert_eq!(text.chars().filter(|c| !c.is_ascii()).count(), 1);
    }
}
