//! The configuration as written: serde structs that mirror the TOML file
//! key for key, with `deny_unknown_fields` so that a misspelt key is an
//! error rather than a silently ignored setting. Values stay as written
//! (strings, signed integers) so that [`super::validate`] can check every
//! one and report all problems at once with their paths; only the shape
//! is enforced here. Defaults come from [`super::defaults`].

use super::defaults;
use super::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A whole config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// The config format version; only 1 exists.
    pub version: u32,
    /// The daemon's listeners, storage and ingest authentication.
    pub server: RawServer,
    /// The monitored models (`[[model]]`).
    pub model: Vec<RawModel>,
    /// Alert rules over the models' window reports (`[[rule]]`).
    pub rule: Vec<RawRule>,
    /// Where alerts are sent (`[[notifier]]`).
    pub notifier: Vec<RawNotifier>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            version: defaults::VERSION,
            server: RawServer::default(),
            model: Vec::new(),
            rule: Vec::new(),
            notifier: Vec::new(),
        }
    }
}

/// `[server]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    /// gRPC ingest listener, `IP:PORT`.
    pub grpc_addr: String,
    /// HTTP listener (metrics, health, reports), `IP:PORT`.
    pub http_addr: String,
    /// The URL people reach the HTTP listener at, for links in alerts;
    /// `http://<http_addr>` when not set.
    pub external_url: Option<String>,
    /// How long window reports and alert transitions are kept.
    pub retention: String,
    /// Directory for reports, alert state and the outbox; relative to the
    /// config file's directory.
    pub data_dir: PathBuf,
    /// File holding the bearer token that ingest requires; none = no auth.
    pub auth_token_file: Option<PathBuf>,
    /// Environment variable holding that token (instead of a file).
    pub auth_token_env: Option<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            grpc_addr: defaults::GRPC_ADDR.to_owned(),
            http_addr: defaults::HTTP_ADDR.to_owned(),
            external_url: None,
            retention: defaults::RETENTION.to_owned(),
            data_dir: PathBuf::from(defaults::DATA_DIR),
            auth_token_file: None,
            auth_token_env: None,
        }
    }
}

/// `[[model]]`: one monitored model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// The model's name, as clients send it and rules name it.
    pub name: String,
    /// Its baseline file (`driftwatch baseline build`); relative to the
    /// config file's directory.
    pub baseline: PathBuf,
    /// How records are grouped into windows.
    #[serde(default)]
    pub window: RawWindow,
    /// Fewest records for a window to be judged.
    #[serde(default = "min_samples")]
    pub min_samples: i64,
    /// `reject` or `ignore` a record field the baseline does not know.
    #[serde(default = "unknown_fields")]
    pub unknown_fields: String,
    /// p-value correction across features: `none`, `bonferroni` or `bh`.
    #[serde(default = "correction")]
    pub correction: String,
    /// Values a window keeps per numeric column and text descriptor.
    #[serde(default = "reservoir")]
    pub reservoir: i64,
    /// Categories the baseline never saw that a window counts one by one.
    #[serde(default = "max_new_categories")]
    pub max_new_categories: i64,
    /// Per-feature overrides, by feature name (`[model.feature.age]`).
    #[serde(default)]
    pub feature: BTreeMap<String, RawFeature>,
    /// Distinct `metrics` keys (latency_ms, tokens_out, …) the windows
    /// follow.
    #[serde(default = "max_metrics")]
    pub max_metrics: i64,
    /// Model quality from delayed labels (`[model.quality]`).
    pub quality: Option<RawQuality>,
    /// Cost per inference from token counts (`[model.cost]`).
    pub cost: Option<RawCost>,
}

/// `[model.quality]`: the model's quality from labels that arrive later.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuality {
    /// `binary`, `multiclass`, `regression` or `generation`; the baseline's
    /// when it has a quality section; none for feedback alone.
    pub task: Option<String>,
    /// The key of the ground truth in an outcome's labels.
    #[serde(default = "quality_label")]
    pub label: String,
    /// The key of the prediction in a record's outputs.
    #[serde(default = "quality_prediction")]
    pub prediction: String,
    /// The key of the positive-class probability in a record's outputs.
    pub score: Option<String>,
    /// Binary: the positive class.
    pub positive: Option<String>,
    /// The metrics computed per window; the task's usual ones when left out.
    pub metrics: Option<Vec<String>>,
    /// The key of a human rating (number, or thumbs up/down as a flag) in
    /// an outcome's labels.
    pub feedback: Option<String>,
    /// A rating below this is negative.
    #[serde(default = "negative_below")]
    pub negative_below: f64,
    /// Labelled records at which a window is evaluated.
    #[serde(default = "min_labels")]
    pub min_labels: i64,
    /// How long a record waits for its label.
    #[serde(default = "label_ttl")]
    pub label_ttl: String,
    /// Records waiting for labels, at most; the oldest are evicted beyond.
    #[serde(default = "max_pending")]
    pub max_pending: i64,
    /// Confidence level of each metric's interval.
    #[serde(default = "confidence")]
    pub confidence: f64,
    /// Reference values by metric, over the baseline file's.
    #[serde(default)]
    pub baseline: BTreeMap<String, f64>,
    /// Lowest acceptable value by metric (metrics where higher is better).
    #[serde(default)]
    pub min: BTreeMap<String, f64>,
    /// Highest acceptable value by metric (errors, log loss, negative share).
    #[serde(default)]
    pub max: BTreeMap<String, f64>,
    /// Largest acceptable drop from the reference value, by metric.
    #[serde(default)]
    pub max_drop: BTreeMap<String, f64>,
}

/// `[model.cost]`: prices that turn token counts into a cost per record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// Price of one input token.
    #[serde(default)]
    pub input_per_token: f64,
    /// Price of one output token.
    #[serde(default)]
    pub output_per_token: f64,
    /// The metrics key of the input token count.
    #[serde(default = "tokens_in")]
    pub tokens_in: String,
    /// The metrics key of the output token count.
    #[serde(default = "tokens_out")]
    pub tokens_out: String,
}

/// `window = { records = N }` or `window = { duration = "5m" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    /// Tumbling windows of this many records.
    pub records: Option<i64>,
    /// Tumbling windows of this long.
    pub duration: Option<String>,
}

impl Default for RawWindow {
    fn default() -> Self {
        RawWindow {
            records: Some(defaults::WINDOW_RECORDS),
            duration: None,
        }
    }
}

/// `[model.feature.NAME]`: overrides for one feature.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeature {
    /// Tests to run on this feature instead of the default rule.
    pub tests: Option<Vec<String>>,
    /// Threshold per test name.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// Number of bins for the binned tests of a numeric feature.
    pub bins: Option<i64>,
}

/// `[[rule]]`: when to alert.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// The rule's name, unique.
    pub name: String,
    /// The model whose windows it watches.
    pub model: String,
    /// `"*"` for one alert per feature, or one feature's name; none for a
    /// rule over the whole window.
    pub feature: Option<String>,
    /// The condition, `SUBJECT OP NUMBER` (see [`super::condition`]); a
    /// feature rule's defaults to `drifted`.
    pub when: Option<String>,
    /// The condition under which a firing alert counts a window as clean,
    /// when not simply `when` failing (an exit threshold).
    pub resolve_when: Option<String>,
    /// Consecutive breaching windows before it fires.
    #[serde(default = "for_windows")]
    pub for_windows: i64,
    /// Clean windows a firing alert keeps firing through before it resolves.
    #[serde(default = "keep_firing_for_windows")]
    pub keep_firing_for_windows: i64,
    /// How often a still-firing alert is announced again.
    #[serde(default = "repeat_interval")]
    pub repeat_interval: String,
    /// Feature rules: how long a new group of alerts waits for more before
    /// its first notification.
    pub group_wait: Option<String>,
    /// Feature rules: the least time between two notifications of a group.
    pub group_interval: Option<String>,
    /// `info`, `warning` or `critical`.
    #[serde(default = "severity")]
    pub severity: String,
    /// Notifier names to send to when it fires or resolves.
    #[serde(default)]
    pub notify: Vec<String>,
}

/// `[[notifier]]`: where alerts go.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotifier {
    /// The notifier's name, unique; rules refer to it.
    pub name: String,
    /// `slack`, `webhook`, `alertmanager` or `retrain`.
    pub kind: String,
    /// The URL itself (a secret: it never prints).
    pub url: Option<Secret>,
    /// Environment variable holding the URL.
    pub url_env: Option<String>,
    /// File holding the URL; relative to the config file's directory.
    pub url_file: Option<PathBuf>,
    /// Webhook and retrain only: the request body template.
    pub body_template: Option<String>,
    /// Webhook and retrain only: extra request headers (values are secrets).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Webhook and retrain only: file holding the HMAC-SHA256 signing secret.
    pub signing_secret_file: Option<PathBuf>,
    /// Webhook and retrain only: environment variable holding it.
    pub signing_secret_env: Option<String>,
    /// Whether resolved alerts are sent too (not for retrain).
    pub send_resolved: Option<bool>,
    /// Delivery retries: `{ initial = "1s", max = "60s" }`.
    #[serde(default)]
    pub retry: RawRetry,
    /// Most messages per second (0: no limit); Slack defaults to 1.
    pub max_per_second: Option<f64>,
    /// Retrain only: the least time between two firings for one model.
    pub min_interval: Option<String>,
    /// Alertmanager only: how often firing alerts are sent again.
    pub resend_interval: Option<String>,
}

/// `retry = { initial = "1s", max = "60s" }`: exponential backoff bounds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRetry {
    /// The wait before the first retry (before jitter); it doubles.
    pub initial: String,
    /// The longest wait between two attempts (before jitter).
    pub max: String,
}

impl Default for RawRetry {
    fn default() -> Self {
        RawRetry {
            initial: defaults::RETRY_INITIAL.to_owned(),
            max: defaults::RETRY_MAX.to_owned(),
        }
    }
}

// serde's `default = "..."` takes a function path: these point it at
// `defaults`, the one place that holds the values.
fn min_samples() -> i64 {
    defaults::MIN_SAMPLES
}
fn unknown_fields() -> String {
    defaults::UNKNOWN_FIELDS.to_owned()
}
fn correction() -> String {
    defaults::CORRECTION.to_owned()
}
fn reservoir() -> i64 {
    defaults::RESERVOIR
}
fn max_new_categories() -> i64 {
    defaults::MAX_NEW_CATEGORIES
}
fn for_windows() -> i64 {
    defaults::FOR_WINDOWS
}
fn keep_firing_for_windows() -> i64 {
    defaults::KEEP_FIRING_FOR_WINDOWS
}
fn repeat_interval() -> String {
    defaults::REPEAT_INTERVAL.to_owned()
}
fn severity() -> String {
    defaults::SEVERITY.to_owned()
}
fn max_metrics() -> i64 {
    defaults::MAX_METRICS
}
fn quality_label() -> String {
    defaults::QUALITY_LABEL.to_owned()
}
fn quality_prediction() -> String {
    defaults::QUALITY_PREDICTION.to_owned()
}
fn negative_below() -> f64 {
    defaults::NEGATIVE_BELOW
}
fn min_labels() -> i64 {
    defaults::MIN_LABELS
}
fn label_ttl() -> String {
    defaults::LABEL_TTL.to_owned()
}
fn max_pending() -> i64 {
    defaults::MAX_PENDING_LABELS
}
fn confidence() -> f64 {
    defaults::CONFIDENCE
}
fn tokens_in() -> String {
    defaults::TOKENS_IN.to_owned()
}
fn tokens_out() -> String {
    defaults::TOKENS_OUT.to_owned()
}
