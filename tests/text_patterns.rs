//! LLM text descriptors beyond the built-in shape ones: `json_valid` and the
//! rates of patterns given at `baseline build --text-pattern`, through the
//! real binary (build, report, check-config), and baselines written before
//! them still compared descriptor by descriptor through a live window.

mod support;

use driftwatch::baseline::Baseline;
use driftwatch::detect::{DetectOptions, detect};
use driftwatch::report::read_sample;
use driftwatch::window::{LiveWindow, WindowLimits, WindowShape};
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{build_baseline, check_rule, driftwatch, report_json, stderr};

const REFUSAL: &str = r"refusal=(?i)\bI (cannot|can.t)\b";
const EMAIL: &str = r"email=[\w.+-]+@[\w-]+\.[\w.]+";

/// A chat log of `rows` replies, `refusals` of every 100 of them refusing.
fn replies(dir: &Path, name: &str, rows: usize, refusals: usize) -> PathBuf {
    let mut csv = String::from("prompt,reply\n");
    for i in 0..rows {
        let reply = if i % 100 < refusals {
            "I can't help with that request.".to_owned()
        } else {
            format!("Sure: the answer to question {} is below.", i % 37)
        };
        csv.push_str(&format!("how do I do thing {i} today?,{reply}\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, csv).unwrap();
    path
}

/// The decisive test of `feature` in a report (`driftwatch report --json`).
fn decisive<'r>(report: &'r Value, feature: &str, descriptor: &str) -> &'r Value {
    let features = report["features"].as_array().unwrap();
    let f = features.iter().find(|f| f["name"] == feature).unwrap();
    let tests = f["tests"].as_array().unwrap().iter();
    tests
        .filter(|t| t["descriptor"] == descriptor)
        .find(|t| t["decisive"] == true)
        .unwrap_or_else(|| panic!("no decisive test of {feature}:{descriptor}"))
}

fn patterned_baseline(dir: &Path) -> PathBuf {
    let reference = replies(dir, "reference.csv", 2000, 2);
    let args = ["--kind", "reply=text", "--text-pattern", REFUSAL];
    build_baseline(
        dir,
        &reference,
        &[&args[..], &["--text-pattern", EMAIL]].concat(),
    )
}

#[test]
fn baseline_build_stores_patterns_and_a_window_of_refusals_drifts_on_them() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = patterned_baseline(dir.path());
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    let reply = &b["columns"][1]["profile"]["stats"];
    let names: Vec<&str> = (reply["descriptors"].as_array().unwrap().iter())
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[5..], ["json_valid", "refusal", "email"]);
    assert_eq!(reply["patterns"][0]["name"], "refusal");
    assert_eq!(reply["patterns"][0]["regex"], &REFUSAL["refusal=".len()..]);

    let same = report_json(&baseline, &replies(dir.path(), "same.csv", 500, 2), &[]);
    assert_eq!(decisive(&same, "reply", "refusal")["drifted"], false);
    let refusing = replies(dir.path(), "refusing.csv", 500, 40);
    let report = report_json(&baseline, &refusing, &[]);
    // A 0/1 rate has two distinct values: the default rule compares it as
    // categories (Jensen–Shannon for a reference of over 1000 rows).
    let refusal = decisive(&report, "reply", "refusal");
    assert_eq!(refusal["test"], "jensenshannon");
    assert_eq!(refusal["drifted"], true, "{refusal}");
    let psi = (report["features"][1]["tests"].as_array().unwrap().iter())
        .find(|t| t["descriptor"] == "refusal" && t["test"] == "psi")
        .unwrap();
    assert!(psi["statistic"].as_f64().unwrap() > 0.2, "{psi}");
    assert_eq!(decisive(&report, "reply", "email")["drifted"], false);
}

#[test]
fn a_bad_text_pattern_names_the_flag_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let input = replies(dir.path(), "reference.csv", 10, 0);
    let out = dir.path().join("b.json");
    let build = |patterns: &[&str]| {
        let (input, out) = (input.to_str().unwrap(), out.to_str().unwrap());
        let mut args = vec!["baseline", "build", "--input", input, "--out", out];
        for pattern in patterns {
            args.extend(["--text-pattern", pattern]);
        }
        let run = driftwatch(&args);
        assert_eq!(run.status.code(), Some(1));
        stderr(&run)
    };
    let err = build(&["refusal=(I cannot"]);
    assert!(err.contains("--text-pattern"), "{err}");
    let reason = "pattern \"refusal\": invalid regular expression";
    assert!(err.contains(reason), "{err}");
    assert!(build(&["no-equals-sign"]).contains("NAME=REGEX"));
    let twice = build(&[REFUSAL, REFUSAL]);
    assert!(
        twice.contains("--text-pattern: pattern name \"refusal\" is given twice"),
        "{twice}"
    );
}

#[test]
fn rules_may_name_a_pattern_of_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = patterned_baseline(dir.path());
    let config = |feature| check_rule(&baseline, feature, "jensenshannon >= 0.1");
    let known = config("reply:refusal");
    assert_eq!(known.status.code(), Some(0), "{}", stderr(&known));
    let unknown = config("reply:threat");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("reply:threat"),
        "{}",
        stderr(&unknown)
    );
}

/// `deploy/examples/llm-chat-baseline.json` was built before `json_valid`
/// existed: it loads, and a live window is compared on the five
/// descriptors it holds.
#[test]
fn a_baseline_without_json_valid_still_compares_live_windows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples");
    let baseline = Baseline::load(&root.join("llm-chat-baseline.json")).unwrap();
    let batch = read_sample(&baseline, &root.join("llm-chat.csv")).unwrap();
    let shape = WindowShape::new(&baseline, WindowLimits::default());
    let mut window = LiveWindow::new(&shape, chrono::Utc::now());
    window.absorb(&shape, batch);
    let closed = window.close(&shape, chrono::Utc::now());
    let report = detect(&baseline, &closed.sample, &DetectOptions::default());
    let reply = report.features.iter().find(|f| f.name == "reply").unwrap();
    let descriptors: Vec<&str> = (reply.tests.iter())
        .filter(|t| t.decisive)
        .filter_map(|t| t.descriptor.as_deref())
        .collect();
    assert_eq!(
        descriptors,
        ["length", "words", "non_ascii_share", "digit_share", "empty"]
    );
    assert!(reply.tests.iter().all(|t| t.error.is_none()), "{reply:?}");
    assert_eq!(reply.drifted, Some(false));
}
