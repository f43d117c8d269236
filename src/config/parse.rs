//! TOML text → [`RawConfig`]. The document is parsed once, then each
//! section — and each element of `[[model]]`, `[[rule]]` and `[[notifier]]`
//! — is deserialized on its own, so that a misspelt key in one model does
//! not hide a wrong type in a notifier: shape errors (unknown keys, wrong
//! types) come together, each with its key path, line and column. Messages
//! are the toml crate's without its source excerpt, which could show a
//! secret written on the offending line.

use super::raw::RawConfig;
use super::{ConfigError, ConfigErrors, SECTIONS};
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// Parses TOML into the raw config, or lists every shape error. A syntax
/// error stops there: what follows it cannot be read reliably.
pub fn parse(text: &str) -> Result<RawConfig, ConfigErrors> {
    let root = DeTable::parse(text).map_err(|e| ConfigErrors(vec![error(text, "", &e)]))?;
    let mut p = Parser {
        text,
        errors: Vec::new(),
    };
    let mut raw = RawConfig::default();
    for (key, value) in root.into_inner() {
        match key.get_ref().as_ref() {
            "version" => raw.version = p.one("version", value).unwrap_or(raw.version),
            "server" => raw.server = p.one("server", value).unwrap_or_default(),
            "model" => raw.model = p.many("model", value),
            "rule" => raw.rule = p.many("rule", value),
            "notifier" => raw.notifier = p.many("notifier", value),
            other => p.unknown(other, key.span()),
        }
    }
    match p.errors.is_empty() {
        true => Ok(raw),
        false => Err(ConfigErrors::in_file_order(p.errors)),
    }
}

struct Parser<'t> {
    text: &'t str,
    errors: Vec<ConfigError>,
}

impl Parser<'_> {
    /// Deserializes one value at `path`, recording its error (with the
    /// path inside it) on failure.
    fn one<T: DeserializeOwned>(&mut self, path: &str, value: Spanned<DeValue<'_>>) -> Option<T> {
        let de = ValueDeserializer::from(value);
        serde_path_to_error::deserialize(de)
            .map_err(|e| {
                let path = join(path, &e.path().to_string());
                self.errors.push(error(self.text, &path, e.inner()));
            })
            .ok()
    }

    /// Deserializes an array of tables element by element.
    fn many<T: DeserializeOwned>(&mut self, name: &str, value: Spanned<DeValue<'_>>) -> Vec<T> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Array(items) => (items.into_iter().enumerate())
                .filter_map(|(i, item)| self.one(&format!("{name}[{i}]"), item))
                .collect(),
            // Not an array: let serde say what it expected.
            other => self
                .one(name, Spanned::new(span, other))
                .unwrap_or_default(),
        }
    }

    fn unknown(&mut self, key: &str, span: std::ops::Range<usize>) {
        let (line, column) = line_column(self.text, span.start);
        let expected = SECTIONS.map(|s| format!("`{s}`")).join(", ");
        self.errors.push(ConfigError {
            path: key.to_owned(),
            message: format!(
                "unknown field `{key}`, expected one of {expected} (line {line}, column {column})"
            ),
        });
    }
}

/// `outer` and serde_path_to_error's path inside it (`.` when empty).
fn join(outer: &str, inner: &str) -> String {
    match inner {
        "." => outer.to_owned(),
        _ if outer.is_empty() || inner.starts_with('[') => format!("{outer}{inner}"),
        _ => format!("{outer}.{inner}"),
    }
}

fn error(text: &str, path: &str, e: &toml::de::Error) -> ConfigError {
    let message = match e.span().map(|s| line_column(text, s.start)) {
        Some((line, column)) => format!("{} (line {line}, column {column})", e.message()),
        None => e.message().to_owned(),
    };
    ConfigError {
        path: path.to_owned(),
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}
