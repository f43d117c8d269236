//! Tests of parsing and validation: the issue's example config, every class
//! of error with its exact path, and that secrets never print. Baselines are
//! real (the bundled example, copied into a temporary directory); the
//! environment is a map handed to the validator.

use super::*;
use crate::detect::TestName;
use std::collections::HashMap;
use std::time::Duration;
use tempfile::TempDir;

/// The config of the issue, verbatim.
const EXAMPLE: &str = r#"
[server]
grpc_addr = "127.0.0.1:50051"
http_addr = "127.0.0.1:9108"
data_dir  = "driftwatch-data"
# auth_token_file = "/etc/driftwatch/token"   # if set, ingest needs "authorization: Bearer <token>"

[[model]]
name        = "loans"
baseline    = "loans-baseline.json"     # built by `driftwatch baseline build`
window      = { records = 1000 }        # tumbling by count; or { duration = "5m" }
min_samples = 200                       # below it a window reports "insufficient data"

[[rule]]
name        = "loans-dataset-drift"
model       = "loans"
when        = "drift_share >= 0.5"      # subjects: drift_share, drifted_features,
                                        # feature.<name>.<test>, feature.<name>.<test>.p_value
for_windows = 2                         # consecutive breaching windows before it fires
severity    = "critical"
notify      = ["team-slack", "retrain"]

[[notifier]]
name = "team-slack"
kind = "slack"                          # Slack incoming webhook, Block Kit message
url_env = "SLACK_WEBHOOK_URL"           # or url = "…"

[[notifier]]
name = "retrain"
kind = "webhook"                        # generic JSON POST; body_template for retraining systems
url = "http://127.0.0.1:8080/hooks/retrain"
"#;

const SLACK_URL: &str = "https://hooks.slack.example/services/T000/B000/XXXXSECRET";

/// A temporary config directory holding the example baseline under the
/// name the example config uses.
fn config_dir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans/baseline.json");
    std::fs::copy(example, dir.path().join("loans-baseline.json")).unwrap();
    dir
}

fn env_with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn example_env() -> impl Fn(&str) -> Option<String> {
    env_with(&[("SLACK_WEBHOOK_URL", SLACK_URL)])
}

/// Validates `text` in a fresh config directory with the example env.
fn check(text: &str) -> Result<Config, ConfigErrors> {
    let dir = config_dir();
    from_toml(text, &example_env(), dir.path())
}

/// The error lines of an invalid config.
fn errors(text: &str) -> Vec<String> {
    match check(text) {
        Ok(_) => panic!("config validated:\n{text}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// The example with one line replaced (the old text must occur once).
fn example_with(old: &str, new: &str) -> String {
    assert_eq!(EXAMPLE.matches(old).count(), 1, "{old:?}");
    EXAMPLE.replace(old, new)
}

/// Asserts that exactly one error has `path` and contains `fragment`.
fn assert_error(text: &str, path: &str, fragment: &str) {
    let errors = errors(text);
    let at: Vec<&String> = errors
        .iter()
        .filter(|e| e.starts_with(&format!("{path}: ")))
        .collect();
    assert!(
        at.len() == 1 && at[0].contains(fragment),
        "want one error at {path} containing {fragment:?}, got {errors:#?}"
    );
}

#[test]
fn the_issue_example_validates_into_typed_values() {
    let dir = config_dir();
    let c = from_toml(EXAMPLE, &example_env(), dir.path()).unwrap();
    assert_eq!(c.server.grpc_addr, "127.0.0.1:50051".parse().unwrap());
    assert_eq!(c.server.http_addr, "127.0.0.1:9108".parse().unwrap());
    assert_eq!(c.server.data_dir, dir.path().join("driftwatch-data"));
    assert_eq!(c.server.auth_token, None);
    let m = &c.models[0];
    assert_eq!(m.name, "loans");
    assert_eq!(m.baseline_path, dir.path().join("loans-baseline.json"));
    assert_eq!(m.baseline.columns.len(), 10);
    assert_eq!(m.window, Window::Records(1000));
    assert_eq!(m.min_samples, 200);
    assert_eq!(m.unknown_fields, UnknownFields::Reject);
    assert_eq!((m.reservoir, m.max_new_categories), (10_000, 1_000));
    let r = &c.rules[0];
    assert_eq!(r.when, "drift_share >= 0.5".parse().unwrap());
    assert_eq!((r.for_windows, r.severity), (2, Severity::Critical));
    assert_eq!(r.notify, ["team-slack", "retrain"]);
    assert_eq!(c.notifiers[0].kind, NotifierKind::Slack);
    assert_eq!(c.notifiers[0].url.expose(), SLACK_URL);
    let webhook = NotifierKind::Webhook(Webhook {
        body_template: None,
        headers: vec![],
        signing_secret: None,
    });
    assert_eq!(c.notifiers[1].kind, webhook);
    assert_eq!(
        c.notifiers[1].url.expose(),
        "http://127.0.0.1:8080/hooks/retrain"
    );
}

#[test]
fn left_out_keys_take_their_defaults() {
    let c = check("[[model]]\nname = \"m\"\nbaseline = \"loans-baseline.json\"\n").unwrap();
    assert_eq!(c.server.grpc_addr.to_string(), defaults::GRPC_ADDR);
    assert_eq!(c.server.http_addr.to_string(), defaults::HTTP_ADDR);
    assert!(c.server.data_dir.ends_with(defaults::DATA_DIR));
    let m = &c.models[0];
    assert_eq!(m.window, Window::Records(1000));
    assert_eq!(m.min_samples, 200);
    assert_eq!(m.correction, Correction::None);
    assert!(m.features.is_empty());
    assert!(c.rules.is_empty() && c.notifiers.is_empty());
}

#[test]
fn duration_windows_overrides_and_feature_subjects() {
    let text = example_with(
        "window      = { records = 1000 }",
        r#"window = { duration = "5m" }
unknown_fields = "ignore"
correction = "bonferroni"
feature.age = { tests = ["ks", "psi"], thresholds = { psi = 0.2, ks = 0.01 }, bins = 20 }
feature.purpose = { tests = ["chi2"] }"#,
    )
    .replace(
        "drift_share >= 0.5",
        "feature.notes:length.ks.p_value < 0.01",
    );
    let c = check(&text).unwrap();
    let m = &c.models[0];
    assert_eq!(m.window, Window::Duration(Duration::from_secs(300)));
    assert_eq!(
        (m.unknown_fields, m.correction),
        (UnknownFields::Ignore, Correction::Bonferroni)
    );
    let age = &m.features["age"];
    assert_eq!(age.tests, Some(vec![TestName::Ks, TestName::Psi]));
    assert_eq!(age.thresholds[&TestName::Psi], 0.2);
    assert_eq!(age.bins, Some(20));
    assert_eq!(m.features["purpose"].tests, Some(vec![TestName::Chi2]));
    let subject = Subject::PValue {
        feature: "notes:length".into(),
        test: TestName::Ks,
    };
    assert_eq!(c.rules[0].when.subject, subject);
}

#[test]
fn server_errors() {
    let bad_addr = example_with("\"127.0.0.1:50051\"", "\"localhost\"");
    assert_error(&bad_addr, "server.grpc_addr", "expected IP:PORT");
    let token_line = "# auth_token_file = \"/etc/driftwatch/token\"";
    let file = example_with(token_line, "auth_token_file = \"/etc/driftwatch/token\"");
    let unreadable = "cannot read /etc/driftwatch/token";
    assert_error(&file, "server.auth_token_file", unreadable);
    let env = example_with(token_line, "auth_token_env = \"DW_TOKEN\"");
    let unset = "environment variable DW_TOKEN is not set";
    assert_error(&env, "server.auth_token_env", unset);
    let both = example_with(
        token_line,
        "auth_token_env = \"T\"\nauth_token_file = \"t\"",
    );
    let one = "at most one of auth_token_file or auth_token_env";
    assert_error(&both, "server", one);
    let version = format!("version = 2\n{EXAMPLE}");
    assert_error(&version, "version", "reads version 1");
}

#[test]
fn model_errors() {
    let model = |old: &str, new: &str| example_with(old, new);
    let window = "window      = { records = 1000 }";
    assert_error(
        &model(window, "window = { records = 10, duration = \"5m\" }"),
        "model[0].window",
        "expected exactly one of records or duration",
    );
    assert_error(
        &model(window, "window = {}"),
        "model[0].window",
        "exactly one",
    );
    assert_error(
        &model(window, "window = { records = 0 }"),
        "model[0].window.records",
        "≥ 1, got 0",
    );
    assert_error(
        &model(window, "window = { duration = \"5x\" }"),
        "model[0].window.duration",
        "expected a duration such as",
    );
    assert_error(
        &model("min_samples = 200", "min_samples = -3"),
        "model[0].min_samples",
        "got -3",
    );
    assert_error(
        &model("min_samples = 200", "min_samples = 200\nreservoir = 0"),
        "model[0].reservoir",
        "expected a whole number ≥ 1, got 0",
    );
    assert_error(
        &model(
            "min_samples = 200",
            "min_samples = 200\nmax_new_categories = -1",
        ),
        "model[0].max_new_categories",
        "expected a whole number ≥ 0, got -1",
    );
    assert_error(
        &model(window, "unknown_fields = \"drop\""),
        "model[0].unknown_fields",
        "expected \"reject\" or \"ignore\", got \"drop\"",
    );
    assert_error(
        &model(window, "correction = \"holm\""),
        "model[0].correction",
        "unknown correction \"holm\"",
    );
    assert_error(
        &model("\"loans-baseline.json\"", "\"missing.json\""),
        "model[0].baseline",
        "missing.json",
    );
}

#[test]
fn feature_override_errors() {
    let with = |feature: &str| {
        example_with(
            "min_samples = 200 ",
            &format!("min_samples = 200\n{feature}\n"),
        )
    };
    assert_error(
        &with("feature.agee = { bins = 20 }"),
        "model[0].feature.agee",
        "no feature \"agee\" in the baseline (features: age, income,",
    );
    assert_error(
        &with("feature.age = { bins = 1 }"),
        "model[0].feature.age.bins",
        "from 2 to 1000, got 1",
    );
    assert_error(
        &with("feature.purpose = { bins = 10 }"),
        "model[0].feature.purpose.bins",
        "categorical",
    );
    let tests = with("feature.age = { tests = [\"ks\", \"kss\", \"chi2\"] }");
    assert_error(
        &tests,
        "model[0].feature.age.tests[1]",
        "unknown test \"kss\"",
    );
    assert_error(
        &tests,
        "model[0].feature.age.tests[2]",
        "chi2 does not apply to a numeric feature",
    );
    assert_error(
        &with("feature.age = { tests = [] }"),
        "model[0].feature.age.tests",
        "at least one",
    );
    let thresholds = with("feature.age = { thresholds = { ks = 2.0, psi = -1.0 } }");
    assert_error(
        &thresholds,
        "model[0].feature.age.thresholds.ks",
        "in (0, 1), got 2",
    );
    assert_error(
        &thresholds,
        "model[0].feature.age.thresholds.psi",
        "≥ 0, got -1",
    );
}

#[test]
fn rule_errors() {
    let rule = |old: &str, new: &str| example_with(old, new);
    assert_error(
        &rule("model       = \"loans\"", "model = \"cars\""),
        "rule[0].model",
        "unknown model \"cars\" (known: loans)",
    );
    let when = "\"drift_share >= 0.5\"";
    assert_error(
        &rule(when, "\"drift_share >= 1.5\""),
        "rule[0].when",
        "expected a number in [0, 1], got 1.5",
    );
    assert_error(
        &rule(when, "\"drift_share\""),
        "rule[0].when",
        "SUBJECT OP NUMBER",
    );
    assert_error(
        &rule(when, "\"feature.agee.ks > 1\""),
        "rule[0].when",
        "no feature \"agee\"",
    );
    assert_error(
        &rule(when, "\"feature.age.chi2 > 1\""),
        "rule[0].when",
        "chi2 does not apply to a numeric",
    );
    assert_error(
        &rule(when, "\"feature.age.psi.p_value < 0.1\""),
        "rule[0].when",
        "psi has no p-value",
    );
    assert_error(
        &rule(when, "\"drifted_features >= -1\""),
        "rule[0].when",
        "a count",
    );
    assert_error(
        &rule("for_windows = 2 ", "for_windows = 0 "),
        "rule[0].for_windows",
        "≥ 1, got 0",
    );
    assert_error(
        &rule("\"critical\"", "\"loud\""),
        "rule[0].severity",
        "expected info, warning or critical",
    );
    let errors = errors(&rule("\"retrain\"]", "\"pager\"]"));
    assert_eq!(
        errors,
        ["rule[0].notify[1]: unknown notifier \"pager\" (known: team-slack, retrain)"]
    );
}

#[test]
fn names_must_be_unique_and_non_empty() {
    let twice =
        format!("{EXAMPLE}\n[[model]]\nname = \"loans\"\nbaseline = \"loans-baseline.json\"\n");
    assert_error(
        &twice,
        "model[1].name",
        "duplicate model name \"loans\" (also model[0])",
    );
    let slack = example_with("name = \"team-slack\"", "name = \"retrain\"");
    assert_error(
        &slack,
        "notifier[1].name",
        "duplicate notifier name \"retrain\" (also notifier[0])",
    );
    let empty = example_with("name        = \"loans-dataset-drift\"", "name = \"\"");
    assert_error(&empty, "rule[0].name", "must not be empty");
}

#[test]
fn notifier_errors() {
    let n = |old: &str, new: &str| example_with(old, new);
    let url_env = "url_env = \"SLACK_WEBHOOK_URL\"";
    assert_error(
        &n(url_env, ""),
        "notifier[0]",
        "expected exactly one of url, url_env or url_file",
    );
    assert_error(
        &n(url_env, "url_env = \"SLACK_URL\"\nurl_file = \"f\""),
        "notifier[0]",
        "exactly one of url, url_env or url_file",
    );
    assert_error(
        &n(url_env, "url_env = \"NOPE\""),
        "notifier[0].url_env",
        "environment variable NOPE is not set",
    );
    assert_error(
        &n(url_env, "url_file = \"hook.url\""),
        "notifier[0].url_file",
        "cannot read ",
    );
    assert_error(
        &n("kind = \"slack\"", "kind = \"pagerduty\""),
        "notifier[0].kind",
        "unknown notifier kind \"pagerduty\"",
    );
    assert_error(
        &n(
            "kind = \"slack\"",
            "kind = \"slack\"\nbody_template = \"{}\"",
        ),
        "notifier[0].body_template",
        "a slack notifier takes no body_template",
    );
    assert_error(
        &n(
            "kind = \"webhook\"",
            "kind = \"webhook\"\nbody_template = '{\"model\": \"{{modell}}\"}'",
        ),
        "notifier[1].body_template",
        "unknown field \"modell\"",
    );
    let headers = n(
        "kind = \"webhook\"",
        "kind = \"webhook\"\nheaders = { \"Bad Name\" = \"x\" }",
    );
    assert_error(
        &headers,
        "notifier[1].headers.Bad Name",
        "not a valid HTTP header name",
    );
    assert_error(
        &n(
            "url = \"http://127.0.0.1:8080/hooks/retrain\"",
            "url = \"ftp://x\"",
        ),
        "notifier[1].url",
        "expected an http:// or https:// URL",
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = EXAMPLE
        .replace("\"127.0.0.1:9108\"", "\"nope\"")
        .replace("{ records = 1000 }", "{ records = 0 }")
        .replace("for_windows = 2 ", "for_windows = 0 ")
        .replace("\"retrain\"]", "\"pager\"]")
        .replace("kind = \"webhook\"", "kind = \"email\"");
    let errors = errors(&text);
    let paths: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "server.http_addr",
            "model[0].window.records",
            "rule[0].for_windows",
            "rule[0].notify[1]",
            "notifier[1].kind",
        ]
    );
}

#[test]
fn unknown_keys_are_rejected_with_their_path_and_line() {
    let typo = example_with("min_samples = 200 ", "min_sample = 200 ");
    let errors = errors(&typo);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("model[0].min_sample: unknown field `min_sample`, expected one of"),
        "{}",
        errors[0]
    );
    assert!(errors[0].ends_with("(line 12, column 1)"), "{}", errors[0]);
    let nested = example_with("{ records = 1000 }", "{ record = 1000 }");
    assert!(errors_of(&nested).starts_with("model[0].window.record: unknown field `record`"));
    let top = format!("[serve]\nport = 1\n{EXAMPLE}");
    assert!(
        errors_of(&top).starts_with("serve: unknown field `serve`"),
        "{}",
        errors_of(&top)
    );
}

fn errors_of(text: &str) -> String {
    errors(text).join("\n")
}

#[test]
fn wrong_types_name_the_key() {
    let text = example_with("min_samples = 200 ", "min_samples = \"many\" ");
    let e = errors_of(&text);
    assert!(
        e.starts_with("model[0].min_samples: invalid type: string"),
        "{e}"
    );
}

#[test]
fn syntax_errors_give_line_and_column_without_the_source_line() {
    let text = example_with(
        "url = \"http://127.0.0.1:8080/hooks/retrain\"",
        "url = \"https://hooks.example/SECRET-IN-LINE\" oops",
    );
    let e = errors_of(&text);
    assert!(e.contains("(line 31, column"), "{e}");
    assert!(!e.contains("SECRET-IN-LINE"), "{e}");
}

#[test]
fn secrets_never_print() {
    let dir = config_dir();
    std::fs::write(dir.path().join("token"), "TOKEN-SECRET\n").unwrap();
    std::fs::write(
        dir.path().join("hook.url"),
        "https://hooks.example/FILE-SECRET\n",
    )
    .unwrap();
    let text = example_with("# auth_token_file", "auth_token_file")
        .replace("/etc/driftwatch/token", "token")
        .replace(
            "url = \"http://127.0.0.1:8080/hooks/retrain\"",
            "url_file = \"hook.url\"\nheaders = { Authorization = \"Bearer HEADER-SECRET\" }",
        );
    let c = from_toml(&text, &example_env(), dir.path()).unwrap();
    assert_eq!(
        c.server.auth_token.as_ref().unwrap().expose(),
        "TOKEN-SECRET"
    );
    assert_eq!(
        c.notifiers[1].url.expose(),
        "https://hooks.example/FILE-SECRET"
    );
    let debug = format!("{c:?}");
    for secret in ["TOKEN-SECRET", "FILE-SECRET", "HEADER-SECRET", "XXXXSECRET"] {
        assert!(!debug.contains(secret), "{secret} in Debug output");
    }
    let raw = format!("{:?}", parse(&text).unwrap());
    assert!(!raw.contains("HEADER-SECRET"), "{raw}");
}

#[test]
fn secrets_never_appear_in_errors() {
    let text = example_with(
        "url = \"http://127.0.0.1:8080/hooks/retrain\"",
        "url = \"ftp://INLINE-SECRET\"",
    );
    let env = env_with(&[("SLACK_WEBHOOK_URL", "not a url ENV-SECRET")]);
    let dir = config_dir();
    let e = from_toml(&text, &env, dir.path()).unwrap_err().to_string();
    assert!(e.contains("notifier[0].url_env: expected an http"), "{e}");
    assert!(e.contains("notifier[1].url: expected an http"), "{e}");
    assert!(
        !e.contains("INLINE-SECRET") && !e.contains("ENV-SECRET"),
        "{e}"
    );
}

#[test]
fn the_environment_is_read_through_the_injected_function() {
    let env = env_with(&[("SLACK_WEBHOOK_URL", "  https://other.example/hook \n")]);
    let dir = config_dir();
    let c = from_toml(EXAMPLE, &env, dir.path()).unwrap();
    assert_eq!(c.notifiers[0].url.expose(), "https://other.example/hook");
    let empty = env_with(&[("SLACK_WEBHOOK_URL", " ")]);
    let e = from_toml(EXAMPLE, &empty, dir.path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "notifier[0].url_env: environment variable SLACK_WEBHOOK_URL is empty"
    );
}

#[test]
fn the_embedded_default_validates_without_environment() {
    let c = default_config(&|_| None).unwrap();
    assert_eq!(c.server.grpc_addr.to_string(), defaults::GRPC_ADDR);
    assert_eq!(c.server.http_addr.to_string(), defaults::HTTP_ADDR);
    assert!(c.server.grpc_addr.ip().is_loopback() && c.server.http_addr.ip().is_loopback());
    assert_eq!(c.server.data_dir, Path::new(defaults::DATA_DIR));
    assert!(c.models[0].baseline_path.is_absolute());
    assert_eq!(c.rules[0].when.subject, Subject::DriftShare);
    assert!(c.notifiers.is_empty());
}

#[test]
fn load_resolves_paths_against_the_file_and_reports_unreadable_files() {
    let dir = config_dir();
    let file = dir.path().join("driftwatch.toml");
    std::fs::write(&file, EXAMPLE).unwrap();
    let c = load(&file, &example_env()).unwrap();
    assert_eq!(
        c.models[0].baseline_path,
        dir.path().join("loans-baseline.json")
    );
    let e = load(&dir.path().join("none.toml"), &example_env()).unwrap_err();
    assert!(
        e.to_string().starts_with("cannot read the config file: "),
        "{e}"
    );
}

/// README.md, whose "Configuration" section documents every key.
const README: &str = include_str!("../../README.md");

/// The field names of a serde struct: derive(Deserialize) hands them to
/// `deserialize_struct`, which this deserializer records and then stops.
fn field_names<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
    let mut fields = Vec::new();
    let _ = T::deserialize(FieldsProbe(&mut fields));
    assert!(!fields.is_empty(), "not a struct");
    fields
}

struct FieldsProbe<'a>(&'a mut Vec<&'static str>);

#[derive(Debug, thiserror::Error)]
#[error("probe stops here")]
struct Stop;

impl serde::de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> serde::Deserializer<'de> for FieldsProbe<'_> {
    type Error = Stop;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        self.0.extend(fields);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[test]
fn the_readme_table_lists_every_key() {
    use raw::*;
    let sections = [
        ("", field_names::<RawConfig>()),
        ("server.", field_names::<RawServer>()),
        ("model.", field_names::<RawModel>()),
        ("model.window.", field_names::<RawWindow>()),
        ("model.feature.NAME.", field_names::<RawFeature>()),
        ("model.quality.", field_names::<RawQuality>()),
        ("model.cost.", field_names::<RawCost>()),
        ("rule.", field_names::<RawRule>()),
        ("notifier.", field_names::<RawNotifier>()),
    ];
    let tables = ["server", "model", "rule", "notifier"];
    for (prefix, fields) in sections {
        for field in fields
            .into_iter()
            .filter(|f| !prefix.is_empty() || !tables.contains(f))
        {
            let row = format!("| `{prefix}{field}` |");
            assert!(README.contains(&row), "README.md lacks a row {row}");
        }
    }
}

#[test]
fn the_readme_example_config_validates() {
    let section = &README[README.find("## Configuration").unwrap()..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let c = check(example).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (c.models.len(), c.rules.len(), c.notifiers.len()),
        (1, 2, 2)
    );
    assert!(matches!(c.notifiers[1].kind, NotifierKind::Retrain { .. }));
}

#[test]
fn alertmanager_is_a_reserved_kind_with_a_base_url() {
    let text = example_with("kind = \"slack\"", "kind = \"alertmanager\"");
    let env = env_with(&[("SLACK_WEBHOOK_URL", "http://alertmanager:9093")]);
    let dir = config_dir();
    let c = from_toml(&text, &env, dir.path()).unwrap();
    let resend_interval = Duration::from_secs(60);
    assert_eq!(
        c.notifiers[0].kind,
        NotifierKind::Alertmanager { resend_interval }
    );
    assert_eq!(c.notifiers[0].url.expose(), "http://alertmanager:9093");
}

#[test]
fn an_unloadable_baseline_is_one_error_not_one_per_override() {
    let text = example_with("\"loans-baseline.json\"", "\"missing.json\"").replace(
        "min_samples = 200 ",
        "min_samples = 200\nfeature.age = { bins = 20 }\n",
    );
    let errors = errors(&text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("model[0].baseline: "));
}

#[test]
fn shape_errors_in_different_sections_come_together() {
    let text = example_with("min_samples = 200 ", "min_sample = 200 ")
        .replace("for_windows = 2 ", "for_windows = \"two\" ")
        .replace("kind = \"webhook\"", "kind = \"webhook\"\nretries = 3");
    let errors = errors(&text);
    let paths: Vec<&str> = errors
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "model[0].min_sample",
            "rule[0].for_windows",
            "notifier[1].retries"
        ],
        "{errors:#?}"
    );
    assert!(errors[1].contains("invalid type: string \"two\", expected i64 (line 19"));
}

#[test]
fn a_section_of_the_wrong_shape_says_what_was_expected() {
    let e = errors_of("model = \"loans\"\n");
    assert!(
        e.starts_with("model: invalid type: string \"loans\", expected a sequence"),
        "{e}"
    );
    let e = errors_of("server = 5\n");
    assert!(
        e.starts_with("server: invalid type: integer `5`, expected struct RawServer"),
        "{e}"
    );
}

#[test]
fn alerting_defaults_follow_alertmanager() {
    let c = check(EXAMPLE).unwrap();
    let r = &c.rules[0];
    assert_eq!(r.scope, Scope::Window);
    assert_eq!(
        (r.keep_firing_for_windows, r.resolve_when.clone()),
        (0, None)
    );
    assert_eq!(r.repeat_interval, Duration::from_secs(4 * 3600));
    assert_eq!(
        (r.group_wait, r.group_interval),
        (Duration::ZERO, Duration::ZERO)
    );
    let (slack, hook) = (&c.notifiers[0], &c.notifiers[1]);
    assert!(slack.send_resolved && hook.send_resolved);
    let retry = Retry {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
    assert_eq!((slack.retry, hook.retry), (retry, retry));
    assert_eq!(slack.min_gap, Duration::from_secs(1), "Slack: 1 message/s");
    assert_eq!(hook.min_gap, Duration::ZERO);
    assert_eq!(c.server.retention, Duration::from_secs(30 * 86_400));
    assert_eq!(c.server.external_url, "http://127.0.0.1:9108");
}

#[test]
fn feature_rules_take_a_condition_without_the_feature_and_group() {
    let text = example_with(
        "when        = \"drift_share >= 0.5\"",
        "feature = \"*\"\nwhen = \"psi > 0.2\"\nresolve_when = \"psi < 0.1\"\nkeep_firing_for_windows = 3\ngroup_wait = \"0s\"",
    );
    let c = check(&text).unwrap();
    let r = &c.rules[0];
    assert_eq!(r.scope, Scope::Feature(FeatureSelector::Every));
    assert_eq!(r.when.to_string(), "feature.*.psi > 0.2");
    assert_eq!(
        r.resolve_when.as_ref().unwrap().to_string(),
        "feature.*.psi < 0.1"
    );
    assert_eq!(r.keep_firing_for_windows, 3);
    assert_eq!(
        (r.group_wait, r.group_interval),
        (Duration::ZERO, Duration::from_secs(300))
    );
    let drifted = example_with(
        "when        = \"drift_share >= 0.5\"",
        "feature = \"income\"",
    );
    let c = check(&drifted).unwrap();
    assert_eq!(c.rules[0].when.to_string(), "feature.income.drifted == 1");
}

#[test]
fn alerting_mistakes_name_the_key() {
    let rule_with =
        |line: &str| example_with("for_windows = 2 ", &format!("{line}\nfor_windows = 2 "));
    assert_error(
        &rule_with("group_wait = \"1m\""),
        "rule[0].group_wait",
        "feature rule",
    );
    assert_error(
        &rule_with("repeat_interval = \"soon\""),
        "rule[0].repeat_interval",
        "expected a duration",
    );
    assert_error(
        &rule_with("keep_firing_for_windows = -1"),
        "rule[0].keep_firing_for_windows",
        "≥ 0",
    );
    assert_error(
        &rule_with("resolve_when = \"feature.*.psi < 0.1\""),
        "rule[0].resolve_when",
        "feature rule",
    );
    let unknown = example_with("when        = \"drift_share >= 0.5\"", "feature = \"nope\"");
    assert_error(&unknown, "rule[0].when", "no feature \"nope\"");
    let window_rule = example_with("when        = \"drift_share >= 0.5\"", "");
    assert_error(&window_rule, "rule[0].when", "needs a condition");
    let hook_with = |line: &str| format!("{EXAMPLE}{line}\n");
    assert_error(
        &hook_with("retry = { initial = \"1m\", max = \"1s\" }"),
        "notifier[1].retry",
        "longer than max",
    );
    assert_error(
        &hook_with("max_per_second = -1.0"),
        "notifier[1].max_per_second",
        "> 0",
    );
    assert_error(
        &hook_with("min_interval = \"1h\""),
        "notifier[1].min_interval",
        "a webhook notifier takes no min_interval",
    );
    assert_error(
        &hook_with("signing_secret_env = \"NOPE\""),
        "notifier[1].signing_secret_env",
        "NOPE is not set",
    );
}

#[test]
fn retrain_notifiers_fire_once_per_min_interval_and_never_resolved() {
    let text = example_with("kind = \"webhook\" ", "kind = \"retrain\" ");
    let c = check(&text).unwrap();
    let retrain = &c.notifiers[1];
    assert!(!retrain.send_resolved);
    let NotifierKind::Retrain { min_interval, .. } = &retrain.kind else {
        panic!("{:?}", retrain.kind);
    };
    assert_eq!(*min_interval, Duration::from_secs(86_400));
    assert_error(
        &format!("{text}send_resolved = true\n"),
        "notifier[1].send_resolved",
        "firing alerts only",
    );
}

/// The example with `[model.quality]` holding `quality`, and the dataset
/// rule's condition replaced by `when`.
fn with_quality(quality: &str, when: &str) -> String {
    let section = format!(
        "min_samples = 200\ncost = {{ input_per_token = 0.001 }}\n[model.quality]\n{quality}\n"
    );
    example_with("min_samples = 200 ", &section).replace("drift_share >= 0.5", when)
}

#[test]
fn quality_takes_its_task_metrics_and_references() {
    let text = with_quality(
        "task = \"binary\"\nmetrics = [\"accuracy\", \"f1\"]\nbaseline = { accuracy = 0.9 }\nmax_drop = { accuracy = 0.05 }",
        "metric.accuracy.drop_lower > 0",
    );
    let c = check(&text).unwrap_or_else(|e| panic!("{e}"));
    let q = c.models[0].quality.as_ref().unwrap();
    assert_eq!(q.task, Some(crate::quality::Task::Binary));
    assert_eq!((q.min_labels, q.max_pending), (100, 1_000_000));
    assert_eq!(q.label_ttl, Duration::from_secs(7 * 86_400));
    assert_eq!(q.reference[&crate::quality::Metric::Accuracy], 0.9);
    let cost = c.models[0].cost.as_ref().unwrap();
    assert_eq!(
        (cost.input_per_token, cost.tokens_out.as_str()),
        (0.001, "tokens_out")
    );
    let latency = with_quality("task = \"regression\"", "metric.latency_ms.p99 > 2000");
    assert!(check(&latency).is_ok());
}

#[test]
fn quality_problems_name_their_keys() {
    // The example baseline has no quality section to take the task from.
    assert_error(
        &with_quality("min_labels = 10", "drift_share >= 0.5"),
        "model[0].quality.task",
        "expected binary, multiclass, regression or generation",
    );
    assert_error(
        &with_quality(
            "task = \"regression\"\nmetrics = [\"f1\"]",
            "drift_share >= 0.5",
        ),
        "model[0].quality.metrics[0]",
        "f1 does not apply to task regression",
    );
    assert_error(
        &with_quality(
            "task = \"binary\"\nmetrics = [\"roc_auc\"]",
            "drift_share >= 0.5",
        ),
        "model[0].quality.metrics[0]",
        "needs scores",
    );
    assert_error(
        &with_quality("task = \"binary\"\nmin_labels = 0", "drift_share >= 0.5"),
        "model[0].quality.min_labels",
        "at least 1",
    );
    assert_error(
        &with_quality(
            "task = \"binary\"\nmin = { mae = 1.0 }",
            "drift_share >= 0.5",
        ),
        "model[0].quality.min.mae",
        "not among the model's quality metrics",
    );
    assert_error(
        &with_quality("task = \"binary\"", "metric.mae > 3"),
        "rule[0].when",
        "metric.mae is not among model \"loans\"'s quality metrics",
    );
    assert_error(
        &with_quality("task = \"binary\"", "metric.accuracy.estimate < 0.8"),
        "rule[0].when",
        "label-free estimate",
    );
    let no_quality = example_with("drift_share >= 0.5", "metric.accuracy < 0.8");
    assert_error(
        &no_quality,
        "rule[0].when",
        "has no [model.quality] section",
    );
}
