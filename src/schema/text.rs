//! What a text column is measured by: the built-in descriptors
//! ([`super::TEXT_DESCRIPTORS`]) and the named regular expressions a
//! baseline was built with (`--text-pattern refusal='(?i)\bI cannot\b'`),
//! each a number per text — a pattern's is 1 when it matches anywhere in the
//! text, else 0, so a window's mean of it is the pattern's rate.
//!
//! A [`TextMeasure`] is compiled once per baseline and shared by every
//! record: measuring a text runs each regex once and allocates nothing
//! beyond what the regex engine caches. The measure lists exactly the
//! descriptors a baseline's text profile holds, in its order, so a baseline
//! written before a descriptor existed (`json_valid`) is still compared
//! descriptor by descriptor.

use super::{TEXT_DESCRIPTORS, text_descriptors};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The built-in descriptor that baselines of the first release lack.
pub const JSON_VALID: &str = "json_valid";

/// A named regular expression whose rate a text column is monitored by.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "PatternSource", into = "PatternSource")]
pub struct TextPattern {
    name: String,
    regex: Regex,
}

/// A pattern as a baseline file stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternSource {
    name: String,
    regex: String,
}

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    #[error("expected NAME=REGEX, got {0:?}")]
    NoName(String),
    #[error(
        "pattern name {0:?}: expected letters, digits and `_` only (it is written `column:{0}` in rules)"
    )]
    BadName(String),
    #[error("pattern name {0:?} is a built-in text descriptor's")]
    BuiltinName(String),
    #[error("pattern {name:?}: invalid regular expression: {reason}")]
    BadRegex { name: String, reason: String },
}

impl TextPattern {
    /// A pattern named `name` (letters, digits, `_`; not a built-in
    /// descriptor's name) matching `regex` (the `regex` crate's syntax).
    pub fn new(name: &str, regex: &str) -> Result<TextPattern, PatternError> {
        let well_formed =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return Err(PatternError::BadName(name.into()));
        }
        if TEXT_DESCRIPTORS.contains(&name) {
            return Err(PatternError::BuiltinName(name.into()));
        }
        let regex = Regex::new(regex).map_err(|e| PatternError::BadRegex {
            name: name.into(),
            reason: e.to_string(),
        })?;
        Ok(TextPattern {
            name: name.into(),
            regex,
        })
    }
}

impl FromStr for TextPattern {
    type Err = PatternError;

    /// Reads `NAME=REGEX` (the regex may itself contain `=`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, regex) = s.split_once('=').ok_or(PatternError::NoName(s.into()))?;
        TextPattern::new(name, regex)
    }
}

impl PartialEq for TextPattern {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.regex.as_str() == other.regex.as_str()
    }
}

impl TryFrom<PatternSource> for TextPattern {
    type Error = PatternError;

    fn try_from(source: PatternSource) -> Result<Self, Self::Error> {
        TextPattern::new(&source.name, &source.regex)
    }
}

impl From<TextPattern> for PatternSource {
    fn from(pattern: TextPattern) -> Self {
        PatternSource {
            regex: pattern.regex.as_str().to_owned(),
            name: pattern.name,
        }
    }
}

/// The descriptors of one text column, compiled: which built-ins (every one,
/// or every one but `json_valid` for an older baseline), then the patterns.
#[derive(Debug, Clone, PartialEq)]
pub struct TextMeasure {
    /// How many of [`TEXT_DESCRIPTORS`] it lists, in their order.
    builtins: usize,
    patterns: Vec<TextPattern>,
}

impl TextMeasure {
    /// Every built-in descriptor and then `patterns` (what a baseline is
    /// built with). Pattern names must differ from each other.
    pub fn new(patterns: Vec<TextPattern>) -> Result<TextMeasure, String> {
        if let Some(twice) = (patterns.iter().enumerate())
            .find(|(i, p)| patterns[..*i].iter().any(|q| q.name == p.name))
        {
            return Err(format!("pattern name {:?} is given twice", twice.1.name));
        }
        Ok(TextMeasure {
            builtins: TEXT_DESCRIPTORS.len(),
            patterns,
        })
    }

    /// The measure whose descriptors are `names`, in that order: the
    /// built-ins (`json_valid` may be absent), then `patterns`; else why not.
    pub fn of_descriptors<'a>(
        names: impl IntoIterator<Item = &'a str>,
        patterns: Vec<TextPattern>,
    ) -> Result<TextMeasure, String> {
        let names: Vec<&str> = names.into_iter().collect();
        let mut measure = TextMeasure::new(patterns)?;
        if !names.contains(&JSON_VALID) {
            measure.builtins -= 1;
        }
        if measure.names().eq(names.iter().copied()) {
            Ok(measure)
        } else {
            let expected: Vec<&str> = measure.names().collect();
            Err(format!(
                "text descriptors {names:?} are not the built-in ones followed by the patterns ({expected:?})"
            ))
        }
    }

    /// The descriptors' names, in measuring order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let builtins = TEXT_DESCRIPTORS[..self.builtins].iter().copied();
        builtins.chain(self.patterns.iter().map(|p| p.name.as_str()))
    }

    /// The number of descriptors.
    pub fn len(&self) -> usize {
        self.builtins + self.patterns.len()
    }

    /// Whether there are no descriptors (never, for a real measure).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The patterns measured.
    pub fn patterns(&self) -> &[TextPattern] {
        &self.patterns
    }

    /// Measures `text`: hands each descriptor's value, in order, to `add`
    /// with the sink of the same place in `sinks` (one per descriptor).
    pub fn measure_into<T>(&self, text: &str, sinks: &mut [T], mut add: impl FnMut(&mut T, f64)) {
        let builtins = text_descriptors(text);
        let patterns = (self.patterns.iter()).map(|p| f64::from(u8::from(p.regex.is_match(text))));
        let values = builtins[..self.builtins].iter().copied().chain(patterns);
        for (sink, x) in sinks.iter_mut().zip(values) {
            add(sink, x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(measure: &TextMeasure, text: &str) -> Vec<f64> {
        let mut values = vec![f64::NAN; measure.len()];
        measure.measure_into(text, &mut values, |v, x| *v = x);
        values
    }

    fn refusal() -> TextPattern {
        r"refusal=(?i)\bI (cannot|can.t)\b".parse().unwrap()
    }

    #[test]
    fn patterns_are_rates_after_the_builtins() {
        let email: TextPattern = r"email=[\w.+-]+@[\w-]+\.[\w.]+".parse().unwrap();
        let measure = TextMeasure::new(vec![refusal(), email]).unwrap();
        let names: Vec<&str> = measure.names().collect();
        assert_eq!(names[5..], [JSON_VALID, "refusal", "email"]);
        let values = measured(&measure, "Sorry, i can't: write to a.b@c.org");
        assert_eq!(values[..2], [34.0, 6.0]);
        assert_eq!(values[5..], [0.0, 1.0, 1.0]);
        assert_eq!(measured(&measure, r#"{"a": 1}"#)[5..], [1.0, 0.0, 0.0]);
    }

    #[test]
    fn an_old_profile_without_json_valid_is_measured_without_it() {
        let old =
            TextMeasure::of_descriptors(TEXT_DESCRIPTORS[..5].iter().copied(), vec![]).unwrap();
        assert_eq!(old.len(), 5);
        assert_eq!(measured(&old, "[1]").len(), 5);
        let names = ["length", "words", "non_ascii_share", "digit_share", "empty"];
        let with = names.iter().copied().chain([JSON_VALID, "refusal"]);
        let measure = TextMeasure::of_descriptors(with, vec![refusal()]).unwrap();
        assert_eq!(measure, TextMeasure::new(vec![refusal()]).unwrap());
        let err = TextMeasure::of_descriptors(names.iter().copied(), vec![refusal()]).unwrap_err();
        assert!(err.contains("refusal"), "{err}");
    }

    #[test]
    fn bad_patterns_say_what_is_wrong() {
        let err = |s: &str| s.parse::<TextPattern>().unwrap_err().to_string();
        assert!(err("refusal").contains("NAME=REGEX"));
        assert!(err("a:b=x").contains("letters, digits"));
        assert!(err("length=x").contains("built-in"));
        let bad = err("refusal=(unclosed");
        assert!(
            bad.starts_with("pattern \"refusal\": invalid regular expression"),
            "{bad}"
        );
        let twice = TextMeasure::new(vec![refusal(), refusal()]).unwrap_err();
        assert!(twice.contains("given twice"), "{twice}");
    }

    #[test]
    fn a_pattern_round_trips_through_json() {
        let json = serde_json::to_string(&refusal()).unwrap();
        assert_eq!(
            json,
            r#"{"name":"refusal","regex":"(?i)\\bI (cannot|can.t)\\b"}"#
        );
        let back: TextPattern = serde_json::from_str(&json).unwrap();
        assert_eq!(back, refusal());
        let bad = serde_json::from_str::<TextPattern>(r#"{"name":"x","regex":"("}"#);
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("invalid regular expression")
        );
    }
}
