//! `driftwatch check-config` as an operator runs it: the real binary on a
//! good and a bad file, exit codes, one line per problem, and the embedded
//! default (`--print-default`) passing its own check.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SECRET_URL: &str = "https://hooks.slack.example/services/T0/B0/CLI-SECRET";

/// A config directory with the example baseline under the name the
/// configs below use.
fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans/baseline.json");
    std::fs::copy(example, dir.path().join("loans-baseline.json")).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `driftwatch ARGS` with `SLACK_WEBHOOK_URL` set for the child only.
fn driftwatch(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(args)
        .env("SLACK_WEBHOOK_URL", SECRET_URL)
        .output()
        .expect("driftwatch runs")
}

fn check(file: &Path) -> Output {
    driftwatch(&["check-config".as_ref(), file.as_os_str()])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const GOOD: &str = r#"
[server]
grpc_addr = "127.0.0.1:50051"
http_addr = "127.0.0.1:9108"
data_dir  = "driftwatch-data"

[[model]]
name        = "loans"
baseline    = "loans-baseline.json"
window      = { duration = "5m" }
min_samples = 200

[[rule]]
name        = "loans-dataset-drift"
model       = "loans"
when        = "drift_share >= 0.5"
for_windows = 2
severity    = "critical"
notify      = ["team-slack", "retrain"]

[[notifier]]
name = "team-slack"
kind = "slack"
url_env = "SLACK_WEBHOOK_URL"

[[notifier]]
name = "retrain"
kind = "webhook"
url = "http://127.0.0.1:8080/hooks/retrain"
"#;

#[test]
fn a_good_file_is_ok_with_its_counts() {
    let dir = config_dir();
    let file = write(dir.path(), "driftwatch.toml", GOOD);
    let out = check(&file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let want = format!("{}: ok (1 models, 1 rules, 2 notifiers)\n", file.display());
    assert_eq!(text(&out.stdout), want);
}

#[test]
fn a_bad_file_lists_every_problem_and_exits_1() {
    let dir = config_dir();
    let bad = GOOD
        .replace("\"5m\"", "\"5 minutes\"")
        .replace("\"retrain\"]", "\"pager\"]")
        .replace(
            "url_env = \"SLACK_WEBHOOK_URL\"",
            "url = \"ftp://INLINE-SECRET\"",
        );
    let file = write(dir.path(), "bad.toml", &bad);
    let out = check(&file);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let shown = file.display();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines[0].starts_with(&format!(
        "{shown}: model[0].window.duration: expected a duration"
    )));
    assert_eq!(
        lines[1],
        format!(
            "{shown}: rule[0].notify[1]: unknown notifier \"pager\" (known: team-slack, retrain)"
        )
    );
    assert!(lines[2].starts_with(&format!("{shown}: notifier[0].url: expected an http")));
    assert!(!stderr.contains("INLINE-SECRET") && !stderr.contains("CLI-SECRET"));
    assert!(out.stdout.is_empty());
}

#[test]
fn syntax_errors_and_unreadable_files_exit_1() {
    let dir = config_dir();
    let file = write(dir.path(), "broken.toml", "[server]\ngrpc_addr = \n");
    let out = check(&file);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("(line 2, column"),
        "{}",
        text(&out.stderr)
    );
    let out = check(&dir.path().join("absent.toml"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read the config file"));
    let usage = driftwatch(&["check-config".as_ref()]);
    assert_eq!(usage.status.code(), Some(1));
}

#[test]
fn the_printed_default_passes_check_config_wherever_it_is_saved() {
    let out = driftwatch(&["check-config".as_ref(), "--print-default".as_ref()]);
    assert_eq!(out.status.code(), Some(0));
    let default = text(&out.stdout);
    assert!(default.contains("grpc_addr = \"127.0.0.1:50051\""));
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "default.toml", &default);
    let out = check(&file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with(": ok (1 models, 1 rules, 0 notifiers)\n"));
}
