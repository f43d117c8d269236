//! Runs the real `driftwatch` binary, as a user would, for the CLI tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A file of the bundled loans example.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/loans")
        .join(name)
}

/// A test fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs `driftwatch` with `args`.
pub fn driftwatch<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftwatch"))
        .args(args)
        .output()
        .expect("driftwatch runs")
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Builds a baseline of `input` into `dir`, panicking with stderr on failure.
pub fn build_baseline(dir: &Path, input: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join("baseline.json");
    let mut args: Vec<String> = vec!["baseline".into(), "build".into(), "--input".into()];
    args.push(input.display().to_string());
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = driftwatch(&args);
    assert!(
        run.status.success(),
        "baseline build failed: {}",
        stderr(&run)
    );
    out
}

/// Runs `check-config` on a config (written beside `baseline`) of one
/// model with that baseline and one rule on `feature` when `when`.
pub fn check_rule(baseline: &Path, feature: &str, when: &str) -> Output {
    let text = format!(
        "[[model]]\nname = \"m\"\nbaseline = {baseline:?}\n\n\
         [[rule]]\nname = \"r\"\nmodel = \"m\"\nfeature = \"{feature}\"\nwhen = \"{when}\"\n"
    );
    let path = baseline.with_file_name("driftwatch.toml");
    std::fs::write(&path, text).unwrap();
    driftwatch(&["check-config".as_ref(), path.as_os_str()])
}

/// Runs `report --json` and parses its output, asserting exit status 0.
pub fn report_json(baseline: &Path, input: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<String> = vec!["report".into(), "--json".into(), "--baseline".into()];
    args.push(baseline.display().to_string());
    args.extend(["--input".into(), input.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = driftwatch(&args);
    assert_eq!(
        run.status.code(),
        Some(0),
        "report failed: {}",
        stderr(&run)
    );
    serde_json::from_slice(&run.stdout).expect("report --json prints JSON")
}
