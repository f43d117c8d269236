//! Every default of the configuration, in one place: the values a key takes
//! when the file leaves it out, and the embedded default configuration that
//! `driftwatch serve` runs on without `--config`.

/// The config format version this build reads.
pub const VERSION: u32 = 1;
/// Where the gRPC ingest service listens: loopback, so nothing is exposed
/// until the operator says so.
pub const GRPC_ADDR: &str = "127.0.0.1:50051";
/// Where `/metrics`, `/healthz` and the report API listen.
pub const HTTP_ADDR: &str = "127.0.0.1:9108";
/// Where reports, alert state and the outbox are stored.
pub const DATA_DIR: &str = "driftwatch-data";
/// A window closes after this many records when `window` is left out.
pub const WINDOW_RECORDS: i64 = 1000;
/// Below this many records a window reports "insufficient data".
pub const MIN_SAMPLES: i64 = 200;
/// What happens to a record field the baseline does not know.
pub const UNKNOWN_FIELDS: &str = "reject";
/// p-values are not corrected across features, as in Evidently.
pub const CORRECTION: &str = "none";
/// A window keeps up to 10,000 values per numeric column (the baseline's
/// default exact limit, so tests up to that size see every value).
pub const RESERVOIR: i64 = 10_000;
/// A window counts up to 1,000 categories the baseline never saw one by
/// one; the rest together as `__other__`.
pub const MAX_NEW_CATEGORIES: i64 = 1_000;
/// A rule fires on its first breaching window.
pub const FOR_WINDOWS: i64 = 1;
/// A rule's firing alert resolves on its first clean window.
pub const KEEP_FIRING_FOR_WINDOWS: i64 = 0;
/// A firing alert is announced again every 4 hours, as in Alertmanager.
pub const REPEAT_INTERVAL: &str = "4h";
/// A feature rule's new group waits this long for more alerts (Alertmanager's default).
pub const GROUP_WAIT: &str = "30s";
/// The least time between two notifications of one group (Alertmanager's default).
pub const GROUP_INTERVAL: &str = "5m";
/// The first retry of a failed delivery comes after about this long...
pub const RETRY_INITIAL: &str = "1s";
/// ...doubling up to this.
pub const RETRY_MAX: &str = "60s";
/// Slack accepts about one message per second per webhook.
pub const SLACK_MAX_PER_SECOND: f64 = 1.0;
/// A retraining webhook fires at most once a day per model.
pub const RETRAIN_MIN_INTERVAL: &str = "24h";
/// Firing alerts are sent to Alertmanager again every minute (Prometheus's resend delay).
pub const ALERTMANAGER_RESEND_INTERVAL: &str = "1m";
/// Window reports and alert transitions are kept 30 days.
pub const RETENTION: &str = "30d";
/// A rule's severity when it names none.
pub const SEVERITY: &str = "warning";
/// Distinct `metrics` keys a model's windows follow; later new keys are
/// counted and dropped, so a sender cannot grow the label set.
pub const MAX_METRICS: i64 = 32;
/// Quality: the key of the ground truth in an outcome's labels.
pub const QUALITY_LABEL: &str = "label";
/// Quality: the key of the prediction in a record's outputs.
pub const QUALITY_PREDICTION: &str = "prediction";
/// Quality: a window is evaluated once this many of its records are
/// labelled (or at the label ttl).
pub const MIN_LABELS: i64 = 100;
/// Quality: how long a record waits for its label (NannyML and most label
/// pipelines deliver within a week).
pub const LABEL_TTL: &str = "7d";
/// Quality: records waiting for labels, at most (about 100 MB).
pub const MAX_PENDING_LABELS: i64 = 1_000_000;
/// Quality: the confidence level of each metric's interval.
pub const CONFIDENCE: f64 = 0.95;
/// Quality: a feedback rating below this is negative (thumbs: 0 or false).
pub const NEGATIVE_BELOW: f64 = 0.5;
/// Cost: the metrics keys that hold a record's token counts.
pub const TOKENS_IN: &str = "tokens_in";
pub const TOKENS_OUT: &str = "tokens_out";

/// The embedded default configuration (see `driftwatch check-config
/// --print-default`). Its baseline is the bundled example, named by an
/// absolute path so the printed copy checks wherever it is saved; its data
/// directory is relative, so it lands beside the config (or, embedded, in
/// the working directory).
pub const DEFAULT_TOML: &str = concat!(
    r#"# driftwatch's default configuration: what `driftwatch serve` runs on
# without --config. Every key is described in README.md, "Configuration".
version = 1

[server]
grpc_addr = "127.0.0.1:50051"
http_addr = "127.0.0.1:9108"
data_dir  = "driftwatch-data"

[[model]]
name        = "loans"
baseline    = '"#,
    env!("CARGO_MANIFEST_DIR"),
    r#"/examples/loans/baseline.json'
window      = { records = 1000 }
min_samples = 200

[[rule]]
name        = "loans-dataset-drift"
model       = "loans"
when        = "drift_share >= 0.5"
for_windows = 1
severity    = "warning"
notify      = []
"#
);
