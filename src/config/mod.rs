//! The daemon's configuration: TOML as written ([`raw`]), validated into the
//! typed [`Config`] that the daemon runs on. Validation checks everything it
//! can before anything starts — addresses, durations, ranges, names and
//! cross-references, baselines (loaded), secrets (resolved) — and reports
//! every problem at once, each as `path: message` with the path of the key
//! (`rule[0].notify[1]`, `model[2].feature.age.bins`). Environment variables
//! are read through an injected function so tests never touch the process
//! environment. Secrets are [`Secret`]s and never print.

pub mod condition;
pub mod defaults;
pub mod duration;
mod parse;
mod quality;
pub mod raw;
pub mod secret;
mod validate;

/// Overrides for one feature (`[model.feature.<name>]`), validated: each
/// test applies to the feature, each threshold is in its test's range, and
/// bins (numeric and text features only) are 2..=1000. Detection's own
/// type, so a model's config maps onto detection options as it is.
pub use crate::detect::FeatureOptions as FeatureOverride;
pub use condition::{Condition, Op, Subject};
pub use defaults::DEFAULT_TOML;
pub use parse::parse;
pub use quality::{CostConfig, QualityConfig};
pub use secret::Secret;
pub use validate::validate;

use crate::baseline::Baseline;
use crate::stats::correction::Correction;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listeners, storage, ingest auth.
    pub server: ServerConfig,
    /// Monitored models, in file order.
    pub models: Vec<ModelConfig>,
    /// Alert rules, in file order; each names an existing model and notifiers.
    pub rules: Vec<RuleConfig>,
    /// Alert destinations, in file order.
    pub notifiers: Vec<NotifierConfig>,
}

/// `[server]`, validated.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// gRPC ingest listener.
    pub grpc_addr: SocketAddr,
    /// HTTP listener (metrics, health, reports).
    pub http_addr: SocketAddr,
    /// Storage directory, resolved against the config file's directory.
    pub data_dir: PathBuf,
    /// Bearer token that ingest requires, when set.
    pub auth_token: Option<Secret>,
    /// Where people reach the HTTP listener, without a trailing slash: the
    /// base of links in alerts.
    pub external_url: String,
    /// How long window reports and alert transitions are kept.
    pub retention: Duration,
}

/// One monitored model, validated, with its baseline loaded.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// The model's name.
    pub name: String,
    /// The baseline file, resolved.
    pub baseline_path: PathBuf,
    /// The baseline itself: the model's features and their reference profiles.
    pub baseline: Baseline,
    /// How records are grouped into windows.
    pub window: Window,
    /// Fewest records for a window to be judged.
    pub min_samples: u64,
    /// What to do with record fields the baseline lacks.
    pub unknown_fields: UnknownFields,
    /// p-value correction across features.
    pub correction: Correction,
    /// Values a window keeps per numeric column and per text descriptor
    /// (a uniform sample beyond that).
    pub reservoir: usize,
    /// Categories the baseline never saw that a window counts one by one.
    pub max_new_categories: usize,
    /// Per-feature overrides, by feature name (each names a baseline column).
    pub features: BTreeMap<String, FeatureOverride>,
    /// Distinct `metrics` keys the windows follow.
    pub max_metrics: usize,
    /// Quality from delayed labels, when configured.
    pub quality: Option<QualityConfig>,
    /// Cost per record from token counts, when configured.
    pub cost: Option<CostConfig>,
}

/// A tumbling window's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Closes after this many records (≥ 1).
    Records(u64),
    /// Closes after this much time (> 0).
    Duration(Duration),
}

/// What ingest does with a record field its model's baseline lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownFields {
    /// Reject the record, naming the field.
    #[default]
    Reject,
    /// Drop the field and keep the record; ingest counts it
    /// (`Outcome::unknown_ignored`).
    Ignore,
}

/// One alert rule, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleConfig {
    /// The rule's name.
    pub name: String,
    /// The model it watches (exists in [`Config::models`]).
    pub model: String,
    /// What it watches: the whole window, or each feature.
    pub scope: Scope,
    /// When a window breaches. A feature rule's subject names its feature
    /// (`*` for each).
    pub when: Condition,
    /// When a firing alert's window counts as clean; `None`: when `when`
    /// does not hold.
    pub resolve_when: Option<Condition>,
    /// Consecutive breaching windows before it fires (≥ 1).
    pub for_windows: u32,
    /// Clean windows a firing alert keeps firing through; the next clean
    /// one resolves it.
    pub keep_firing_for_windows: u32,
    /// How often a still-firing alert is announced again.
    pub repeat_interval: Duration,
    /// How long a new group of alerts waits before its first notification
    /// (zero for a window rule: it is one alert).
    pub group_wait: Duration,
    /// The least time between two notifications of the group (zero for a
    /// window rule).
    pub group_interval: Duration,
    /// How loud it is.
    pub severity: Severity,
    /// Notifier names (each exists in [`Config::notifiers`]).
    pub notify: Vec<String>,
}

/// What a rule's alerts are about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One alert over the whole window (`drift_share`, `drifted_features`).
    Window,
    /// One alert per feature: every feature (`feature = "*"`) or the one
    /// named.
    Feature(FeatureSelector),
}

/// Which features a feature rule watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureSelector {
    /// Each feature and text descriptor, one alert each.
    Every,
    /// One feature (or `column:descriptor`).
    Named(String),
}

impl FeatureSelector {
    /// The feature's name, or `*`.
    pub fn as_str(&self) -> &str {
        match self {
            FeatureSelector::Every => condition::EVERY_FEATURE,
            FeatureSelector::Named(name) => name,
        }
    }
}

/// An alert's severity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// The name used in the config and in alerts.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One alert destination, validated, its URL resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifierConfig {
    /// The notifier's name.
    pub name: String,
    /// Where to send: an http(s) URL (for Alertmanager its base URL).
    pub url: Secret,
    /// What to send.
    pub kind: NotifierKind,
    /// Whether resolved alerts are sent too.
    pub send_resolved: bool,
    /// How failed deliveries are retried.
    pub retry: Retry,
    /// The least time between two messages (zero: no limit).
    pub min_gap: Duration,
}

/// `retry = { initial, max }`: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// The first retry's delay bound; it doubles with each retry.
    pub initial: Duration,
    /// The largest delay bound.
    pub max: Duration,
}

/// The kind of a notifier and its kind-specific settings.
#[derive(Debug, Clone, PartialEq)]
pub enum NotifierKind {
    /// A Slack incoming webhook (Block Kit message).
    Slack,
    /// A generic JSON POST.
    Webhook(Webhook),
    /// Prometheus Alertmanager's API.
    Alertmanager {
        /// How often firing alerts are posted again, so that Alertmanager
        /// keeps them active.
        resend_interval: Duration,
    },
    /// A retraining webhook: a POST on firing transitions only, at most
    /// once per `min_interval` per model.
    Retrain {
        /// The request.
        webhook: Webhook,
        /// The least time between two firings for one model.
        min_interval: Duration,
    },
}

/// What a webhook (or retraining webhook) sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The body template, when not the default JSON body.
    pub body_template: Option<String>,
    /// Extra headers, name and (secret) value.
    pub headers: Vec<(String, Secret)>,
    /// The HMAC-SHA256 key of the body's signature header, when set.
    pub signing_secret: Option<Secret>,
}

/// One problem in a config: where (the key's path; empty for the whole
/// file) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}{message}", if .path.is_empty() { "" } else { ": " })]
pub struct ConfigError {
    /// The key's path, e.g. `rule[0].notify[1]`.
    pub path: String,
    /// What was expected and what was got.
    pub message: String,
}

/// Every problem found in a config, in the order of the file's sections.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", lines(.0))]
pub struct ConfigErrors(pub Vec<ConfigError>);

fn lines(errors: &[ConfigError]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// The top-level keys, in the order a config file usually has them.
const SECTIONS: [&str; 5] = ["version", "server", "model", "rule", "notifier"];

impl ConfigErrors {
    /// Sorted by section in [`SECTIONS`] order; the sort is stable, so
    /// errors keep their order within a section (elements in file order).
    fn in_file_order(mut errors: Vec<ConfigError>) -> ConfigErrors {
        let rank = |path: &str| SECTIONS.iter().position(|s| path.starts_with(s));
        errors.sort_by_key(|e| rank(&e.path));
        ConfigErrors(errors)
    }

    fn one(path: impl Into<String>, message: impl Into<String>) -> ConfigErrors {
        ConfigErrors(vec![ConfigError {
            path: path.into(),
            message: message.into(),
        }])
    }
}

/// Reads environment variables for validation (`url_env`,
/// `auth_token_env`); `main` passes the process environment, tests a map.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Parses and validates TOML text; relative paths are resolved against
/// `base_dir`.
pub fn from_toml(text: &str, env: Env<'_>, base_dir: &Path) -> Result<Config, ConfigErrors> {
    validate(parse(text)?, env, base_dir)
}

/// Reads, parses and validates a config file; relative paths in it are
/// resolved against its directory.
pub fn load(path: &Path, env: Env<'_>) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigErrors::one("", format!("cannot read the config file: {e}")))?;
    from_toml(&text, env, path.parent().unwrap_or(Path::new("")))
}

/// The embedded default ([`DEFAULT_TOML`]), validated; its data directory
/// is in the working directory.
pub fn default_config(env: Env<'_>) -> Result<Config, ConfigErrors> {
    from_toml(DEFAULT_TOML, env, Path::new(""))
}

#[cfg(test)]
mod tests;
