//! A model's columns: what kind each one is (numeric, categorical, free
//! text or embedding) and how that kind is inferred from the values of a
//! data file (an embedding column is only ever named with `--kind`).
//!
//! The inference rule, applied to the non-empty values of a column:
//! numeric when every one parses as a finite number (integers included,
//! however few distinct values); otherwise text when the mean length exceeds
//! 64 characters, or when more than half of the values contain whitespace
//! and the distinct values exceed half of them; otherwise categorical. So
//! `New York` or `40K - 60K €` stay categories while prompts and replies of
//! an LLM are text. A user overrides the rule per column with `--kind`.
//!
//! A text column is monitored through numeric descriptors of each value:
//! the built-in ones ([`TEXT_DESCRIPTORS`]) and the baseline's patterns
//! ([`text`]).

pub mod text;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kind of a column, which decides how it is profiled and tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Finite real numbers.
    Numeric,
    /// A finite set of labels.
    Categorical,
    /// Free text, monitored through numeric descriptors.
    Text,
    /// Vectors of one dimension (a prompt's embedding), compared by their
    /// centroid and by MMD; never inferred, only given with `--kind`.
    Embedding,
}

impl Kind {
    /// The lowercase name used in the CLI and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Numeric => "numeric",
            Kind::Categorical => "categorical",
            Kind::Text => "text",
            Kind::Embedding => "embedding",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "numeric" => Ok(Kind::Numeric),
            "categorical" => Ok(Kind::Categorical),
            "text" => Ok(Kind::Text),
            "embedding" => Ok(Kind::Embedding),
            other => Err(format!(
                "unknown kind {other:?}: expected numeric, categorical, text or embedding"
            )),
        }
    }
}

/// Mean length, in characters, above which a column is text.
pub const TEXT_MEAN_CHARS: f64 = 64.0;

/// The evidence about one column's kind gathered in a streaming pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindEvidence {
    /// Non-empty values seen.
    pub values: u64,
    /// Whether every non-empty value so far was a finite number.
    pub all_numeric: bool,
    /// Total length in characters of the values read as strings.
    pub chars: u64,
    /// Values containing whitespace.
    pub with_whitespace: u64,
    /// Distinct values (exact or estimated).
    pub distinct: u64,
}

impl KindEvidence {
    /// Applies the inference rule. A column with no values is numeric only
    /// when nothing contradicts it; an all-empty column is categorical.
    pub fn infer(&self) -> Kind {
        if self.values == 0 {
            return Kind::Categorical;
        }
        if self.all_numeric {
            return Kind::Numeric;
        }
        let n = self.values as f64;
        let mean_chars = self.chars as f64 / n;
        let spaced = self.with_whitespace as f64 > n / 2.0;
        if mean_chars > TEXT_MEAN_CHARS || (spaced && self.distinct as f64 > n / 2.0) {
            Kind::Text
        } else {
            Kind::Categorical
        }
    }
}

/// Parses a text cell as a number the way the inference rule reads it:
/// Rust's float syntax (integers, decimals, exponents) after trimming
/// surrounding spaces, finite values only.
pub fn parse_number(text: &str) -> Option<f64> {
    let v: f64 = text.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// Writes a number as the text a category is compared by: its shortest
/// form that reads back the same (`3` for 3.0, `0.1`), as Rust's `Display`
/// writes it. Every reader that turns a number into a label goes through it.
pub fn number_label(x: f64, buffer: &mut String) -> &str {
    use std::fmt::Write as _;
    buffer.clear();
    let _ = write!(buffer, "{x}");
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(values: &[&str]) -> KindEvidence {
        let mut distinct: Vec<&str> = values.to_vec();
        distinct.sort();
        distinct.dedup();
        KindEvidence {
            values: values.len() as u64,
            all_numeric: values.iter().all(|v| parse_number(v).is_some()),
            chars: values.iter().map(|v| v.chars().count() as u64).sum(),
            with_whitespace: values
                .iter()
                .filter(|v| v.contains(char::is_whitespace))
                .count() as u64,
            distinct: distinct.len() as u64,
        }
    }

    #[test]
    fn integers_are_numeric_however_few_values() {
        assert_eq!(evidence(&["0", "1", "1", "0"]).infer(), Kind::Numeric);
        assert_eq!(evidence(&["1e3", " 2.5", "-7"]).infer(), Kind::Numeric);
    }

    #[test]
    fn non_finite_or_words_are_not_numeric() {
        assert_eq!(evidence(&["1", "inf"]).infer(), Kind::Categorical);
        assert_eq!(evidence(&["1", "NaN"]).infer(), Kind::Categorical);
    }

    #[test]
    fn spaced_repeated_labels_stay_categorical() {
        let v = [
            "New York",
            "New York",
            "San Jose",
            "40K - 60K €",
            "New York",
            "San Jose",
        ];
        assert_eq!(evidence(&v).infer(), Kind::Categorical);
    }

    #[test]
    fn spaced_mostly_distinct_values_are_text() {
        let v = ["how do I reset it", "what is drift", "hello there", "ok"];
        assert_eq!(evidence(&v).infer(), Kind::Text);
    }

    #[test]
    fn long_values_are_text() {
        let long = "x".repeat(65);
        assert_eq!(evidence(&[&long, &long]).infer(), Kind::Text);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in [
            Kind::Numeric,
            Kind::Categorical,
            Kind::Text,
            Kind::Embedding,
        ] {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        assert!("number".parse::<Kind>().unwrap_err().contains("numeric"));
    }
}

/// The built-in numeric descriptors of a text column, in order; a baseline
/// may add its own patterns after them ([`text::TextMeasure`]).
pub const TEXT_DESCRIPTORS: [&str; 6] = [
    "length",
    "words",
    "non_ascii_share",
    "digit_share",
    "empty",
    text::JSON_VALID,
];

/// Measures one text value: length in characters, word count (runs of
/// non-whitespace), share of non-ASCII characters, share of ASCII digits,
/// 1 for an empty (or all-whitespace) value, 0 otherwise, and 1 when the
/// value (surrounding whitespace aside) is a JSON object or array, 0
/// otherwise (a bare JSON number or string is not structured output).
/// Shares of an empty value are 0.
pub fn text_descriptors(text: &str) -> [f64; 6] {
    let (mut chars, mut non_ascii, mut digits) = (0u64, 0u64, 0u64);
    for c in text.chars() {
        chars += 1;
        non_ascii += u64::from(!c.is_ascii());
        digits += u64::from(c.is_ascii_digit());
    }
    let words = text.split_whitespace().count() as f64;
    let share = |k: u64| {
        if chars == 0 {
            0.0
        } else {
            k as f64 / chars as f64
        }
    };
    let empty = if words == 0.0 { 1.0 } else { 0.0 };
    let json = f64::from(u8::from(is_json_document(text)));
    [
        chars as f64,
        words,
        share(non_ascii),
        share(digits),
        empty,
        json,
    ]
}

/// Whether `text` is one JSON object or array. Only a text that starts like
/// one is parsed, and parsing builds nothing.
fn is_json_document(text: &str) -> bool {
    let trimmed = text.trim_start();
    (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

#[cfg(test)]
mod descriptor_tests {
    use super::*;

    #[test]
    fn descriptors_of_a_reply() {
        assert_eq!(
            text_descriptors("héllo 42"),
            [8.0, 2.0, 0.125, 0.25, 0.0, 0.0]
        );
        assert_eq!(text_descriptors("  "), [2.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        assert_eq!(text_descriptors(""), [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn json_valid_wants_one_object_or_array() {
        let json_valid = |t: &str| text_descriptors(t)[5];
        for valid in [r#" {"a": [1, "x"]} "#, "[]", "[1,\n2]"] {
            assert_eq!(json_valid(valid), 1.0, "{valid}");
        }
        for invalid in ["42", r#""x""#, "{\"a\": 1", "{} {}", "```json\n{}\n```", ""] {
            assert_eq!(json_valid(invalid), 0.0, "{invalid}");
        }
    }
}
