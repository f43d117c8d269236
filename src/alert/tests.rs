use super::*;
use crate::config::{Condition, FeatureSelector, Scope};
use crate::detect::{FeatureReport, Report, Status, TestName, TestReport, WindowSpan};
use crate::schema::Kind;
use chrono::{TimeZone, Utc};
use std::time::Duration;

pub(super) fn rule(name: &str, when: &str, for_windows: u32) -> RuleConfig {
    RuleConfig {
        name: name.into(),
        model: "loans".into(),
        scope: Scope::Window,
        when: when.parse().unwrap(),
        resolve_when: None,
        for_windows,
        keep_firing_for_windows: 0,
        repeat_interval: Duration::from_secs(4 * 3600),
        group_wait: Duration::ZERO,
        group_interval: Duration::ZERO,
        severity: Severity::Critical,
        notify: vec!["slack".into(), "hook".into()],
    }
}

/// A rule with one alert per feature, on `when` written without the feature.
pub(super) fn feature_rule(name: &str, when: &str) -> RuleConfig {
    RuleConfig {
        scope: Scope::Feature(FeatureSelector::Every),
        when: Condition::for_feature(when, "*").unwrap(),
        group_wait: Duration::from_secs(30),
        group_interval: Duration::from_secs(300),
        ..rule(name, "drift_share >= 0.5", 1)
    }
}

pub(super) fn test(
    test: TestName,
    statistic: f64,
    p_value: Option<f64>,
    threshold: f64,
) -> TestReport {
    let drifted = match p_value {
        Some(p) => p < threshold,
        None => statistic >= threshold,
    };
    TestReport {
        test,
        descriptor: None,
        statistic: Some(statistic),
        p_value,
        p_value_adjusted: None,
        threshold,
        drifted: Some(drifted),
        decisive: true,
        error: None,
    }
}

pub(super) fn feature(name: &str, tests: Vec<TestReport>) -> FeatureReport {
    let drifted = tests.iter().any(|t| t.drifted == Some(true));
    FeatureReport {
        name: name.into(),
        kind: Kind::Numeric,
        rows: 100,
        missing: 0,
        status: Status::Ok,
        tests,
        drifted: Some(drifted),
    }
}

fn insufficient(name: &str) -> FeatureReport {
    FeatureReport {
        status: Status::InsufficientData,
        tests: Vec::new(),
        drifted: None,
        ..feature(name, Vec::new())
    }
}

/// Window `n` (closing at minute `n`) of model `loans`.
pub(super) fn window(n: u32, features: Vec<FeatureReport>) -> WindowReport {
    let evaluated = features.iter().filter(|f| f.drifted.is_some()).count() as u64;
    let drifted = features.iter().filter(|f| f.drifted == Some(true)).count() as u64;
    let minute = |m: u32| Utc.with_ymd_and_hms(2026, 1, 1, 0, m, 0).unwrap();
    WindowReport {
        performance: Default::default(),
        window: WindowSpan {
            start: minute(n.saturating_sub(1)),
            end: minute(n),
            records: 100,
        },
        report: Report {
            model: "loans".into(),
            rows: 100,
            baseline_rows: 1000,
            features,
            evaluated_features: evaluated,
            drifted_features: drifted,
            drift_share: if evaluated == 0 {
                0.0
            } else {
                drifted as f64 / evaluated as f64
            },
            drift_share_threshold: 0.5,
            drifted: false,
            correction: "none",
        },
    }
}

/// A window in which `income`'s PSI is `psi` (threshold 0.2).
pub(super) fn psi(n: u32, psi: f64) -> WindowReport {
    window(
        n,
        vec![feature("income", vec![test(TestName::Psi, psi, None, 0.2)])],
    )
}

fn statuses(transitions: &[Transition]) -> Vec<AlertStatus> {
    transitions.iter().map(|t| t.status).collect()
}

fn firing(engine: &AlertEngine) -> Vec<bool> {
    engine.states().map(|(.., firing)| firing).collect()
}

#[test]
fn no_breach_no_transition() {
    let mut engine = AlertEngine::new(&[rule("r", "feature.income.psi > 0.3", 1)]);
    assert!(engine.evaluate(&psi(1, 0.25)).is_empty());
    assert_eq!(firing(&engine), [false]);
}

#[test]
fn fires_after_for_windows_consecutive_breaches() {
    let mut engine = AlertEngine::new(&[rule("r", "feature.income.psi > 0.3", 2)]);
    assert!(engine.evaluate(&psi(1, 0.5)).is_empty());
    assert_eq!(firing(&engine), [false]);
    let fired = engine.evaluate(&psi(2, 0.6));
    assert_eq!(statuses(&fired), [AlertStatus::Firing]);
    let t = &fired[0];
    assert_eq!((t.rule.as_str(), t.model.as_str()), ("r", "loans"));
    assert_eq!(t.started_at, psi(2, 0.0).window.end);
    assert_eq!(t.ended_at, None);
    assert_eq!(t.observed, 0.6);
    assert_eq!(t.condition, "feature.income.psi > 0.3");
    assert_eq!(t.notifiers, ["slack", "hook"]);
    assert_eq!(firing(&engine), [true]);
    // Still breaching: already firing, nothing new to say.
    assert!(engine.evaluate(&psi(3, 0.7)).is_empty());
}

#[test]
fn a_clear_window_while_pending_starts_the_count_again() {
    let mut engine = AlertEngine::new(&[rule("r", "feature.income.psi > 0.3", 2)]);
    assert!(engine.evaluate(&psi(1, 0.5)).is_empty());
    assert!(engine.evaluate(&psi(2, 0.1)).is_empty());
    assert!(engine.evaluate(&psi(3, 0.5)).is_empty());
    assert_eq!(
        statuses(&engine.evaluate(&psi(4, 0.5))),
        [AlertStatus::Firing]
    );
}

#[test]
fn resolves_once_after_firing() {
    let mut engine = AlertEngine::new(&[rule("r", "feature.income.psi > 0.3", 1)]);
    let fired = engine.evaluate(&psi(1, 0.5));
    let resolved = engine.evaluate(&psi(2, 0.1));
    assert_eq!(statuses(&resolved), [AlertStatus::Resolved]);
    let t = &resolved[0];
    assert_eq!(t.started_at, fired[0].started_at);
    assert_eq!(t.ended_at, Some(psi(2, 0.0).window.end));
    assert_ne!(t.idempotency_key, fired[0].idempotency_key);
    assert!(engine.evaluate(&psi(3, 0.1)).is_empty());
    assert_eq!(firing(&engine), [false]);
}

#[test]
fn an_unavailable_subject_leaves_the_state_alone() {
    let mut engine = AlertEngine::new(&[
        rule("pending", "feature.income.psi > 0.3", 2),
        rule("firing", "drift_share >= 0.5", 1),
    ]);
    let no_data = || window(2, vec![insufficient("income")]);
    assert_eq!(
        statuses(&engine.evaluate(&psi(1, 0.5))),
        [AlertStatus::Firing]
    );
    // Neither clears the firing rule nor resets the pending one.
    assert!(engine.evaluate(&no_data()).is_empty());
    assert_eq!(firing(&engine), [false, true]);
    let fired = engine.evaluate(&psi(3, 0.5));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].rule, "pending");

    // A test that errored is unavailable too: the PSI rule keeps firing,
    // while the feature, judged not drifted, clears the drift share rule.
    let mut errored = test(TestName::Psi, 0.0, None, 0.2);
    (errored.statistic, errored.drifted) = (None, None);
    errored.error = Some("no values".into());
    let report = window(4, vec![feature("income", vec![errored])]);
    let resolved = engine.evaluate(&report);
    assert_eq!(statuses(&resolved), [AlertStatus::Resolved]);
    assert_eq!(resolved[0].rule, "firing");
    assert_eq!(firing(&engine), [true, false]);
}

#[test]
fn p_value_subject_reads_the_raw_p_value() {
    let mut engine = AlertEngine::new(&[rule("r", "feature.age.ks.p_value < 0.01", 1)]);
    let mut ks = test(TestName::Ks, 0.4, Some(0.001), 0.05);
    ks.p_value_adjusted = Some(0.02);
    let fired = engine.evaluate(&window(1, vec![feature("age", vec![ks])]));
    assert_eq!(statuses(&fired), [AlertStatus::Firing]);
    assert_eq!(fired[0].observed, 0.001);
    // The feature list shows the p-value that decided drift.
    assert_eq!(fired[0].features[0].p_value, Some(0.02));
}

#[test]
fn text_descriptor_subject_is_column_colon_descriptor() {
    let mut engine = AlertEngine::new(&[rule("r", "feature.notes:length.psi >= 0.2", 1)]);
    let described = |descriptor: &str, psi| TestReport {
        descriptor: Some(descriptor.into()),
        ..test(TestName::Psi, psi, None, 0.2)
    };
    let notes = FeatureReport {
        kind: Kind::Text,
        ..feature(
            "notes",
            vec![described("words", 0.9), described("length", 0.25)],
        )
    };
    let fired = engine.evaluate(&window(1, vec![notes]));
    assert_eq!(statuses(&fired), [AlertStatus::Firing]);
    assert_eq!(fired[0].observed, 0.25);
    let names: Vec<&str> = fired[0].features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["notes:words", "notes:length"]);
}

#[test]
fn only_rules_of_the_reports_model_move() {
    let mut other = rule("other", "drift_share >= 0.5", 1);
    other.model = "fraud".into();
    let mut engine = AlertEngine::new(&[other]);
    assert!(engine.evaluate(&psi(1, 0.9)).is_empty());
    assert_eq!(firing(&engine), [false]);
}

#[test]
fn features_list_drifted_deciding_tests_most_drifted_first() {
    let mut engine = AlertEngine::new(&[rule("r", "drifted_features >= 1", 1)]);
    let info_only = TestReport {
        decisive: false,
        ..test(TestName::Psi, 9.0, None, 0.1)
    };
    let report = window(
        1,
        vec![
            feature("a", vec![test(TestName::Psi, 0.3, None, 0.2)]),
            feature("b", vec![test(TestName::Ks, 0.5, Some(0.0001), 0.05)]),
            feature("c", vec![test(TestName::Psi, 0.1, None, 0.2), info_only]),
        ],
    );
    let fired = engine.evaluate(&report);
    let names: Vec<&str> = fired[0].features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    let a = &fired[0].features[1];
    assert_eq!(
        (a.test, a.statistic, a.threshold),
        (TestName::Psi, Some(0.3), 0.2)
    );
}

#[test]
fn idempotency_key_is_stable_per_transition() {
    let fire = || AlertEngine::new(&[rule("r", "drift_share >= 0.5", 1)]).evaluate(&psi(1, 0.9));
    let (a, b) = (fire(), fire());
    assert_eq!(a[0].idempotency_key, b[0].idempotency_key);
    assert_eq!(a[0].idempotency_key.len(), 32);
    let mut later = AlertEngine::new(&[rule("r", "drift_share >= 0.5", 1)]);
    let c = later.evaluate(&psi(2, 0.9));
    assert_ne!(a[0].idempotency_key, c[0].idempotency_key);
}

#[test]
fn serializes_as_the_webhook_body() {
    let mut engine = AlertEngine::new(&[rule("r", "drift_share >= 0.5", 1)]);
    let fired = engine.evaluate(&psi(1, 0.9));
    let json = serde_json::to_value(&fired[0]).unwrap();
    assert_eq!(json["status"], "firing");
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["started_at"], "2026-01-01T00:01:00Z");
    assert_eq!(json["window"]["records"], 100);
    assert_eq!(json["features"][0]["test"], "psi");
    assert!(json.get("ended_at").is_none());
    assert!(json.get("notifiers").is_none());
    assert_eq!(json["summary"]["drifted_features"], 1);
    let back: Transition = serde_json::from_value(json).unwrap();
    assert_eq!(
        Transition {
            notifiers: fired[0].notifiers.clone(),
            ..back
        },
        fired[0]
    );
}

#[test]
fn keep_firing_for_windows_rides_out_clean_windows() {
    let mut keep = rule("r", "feature.income.psi > 0.3", 1);
    keep.keep_firing_for_windows = 2;
    let mut engine = AlertEngine::new(&[keep]);
    let mut told = Vec::new();
    // Flapping: breach, clean, breach, clean, clean, clean.
    for (n, value) in [0.9, 0.1, 0.9, 0.1, 0.1, 0.1].into_iter().enumerate() {
        told.extend(statuses(&engine.evaluate(&psi(n as u32 + 1, value))));
    }
    assert_eq!(told, [AlertStatus::Firing, AlertStatus::Resolved]);
    assert_eq!(firing(&engine), [false]);
}

#[test]
fn resolve_when_is_a_separate_exit_threshold() {
    let mut hysteresis = rule("r", "feature.income.psi > 0.3", 1);
    hysteresis.resolve_when = Some("feature.income.psi < 0.1".parse().unwrap());
    let mut engine = AlertEngine::new(&[hysteresis]);
    assert_eq!(
        statuses(&engine.evaluate(&psi(1, 0.5))),
        [AlertStatus::Firing]
    );
    // Below the firing threshold but above the exit one: still firing.
    assert!(engine.evaluate(&psi(2, 0.2)).is_empty());
    assert_eq!(firing(&engine), [true]);
    let resolved = engine.evaluate(&psi(3, 0.05));
    assert_eq!(statuses(&resolved), [AlertStatus::Resolved]);
    assert_eq!(resolved[0].observed, 0.05);
}

#[test]
fn a_feature_rule_has_one_alert_per_feature() {
    let mut engine = AlertEngine::new(&[feature_rule("each", "drifted")]);
    let report = |n, a: f64, b: f64| {
        window(
            n,
            vec![
                feature("a", vec![test(TestName::Psi, a, None, 0.2)]),
                feature("b", vec![test(TestName::Psi, b, None, 0.2)]),
                insufficient("c"),
            ],
        )
    };
    let fired = engine.evaluate(&report(1, 0.5, 0.6));
    let features: Vec<_> = fired.iter().map(|t| t.feature.as_deref()).collect();
    assert_eq!(features, [Some("a"), Some("b")]);
    assert_eq!(fired[0].features.len(), 1);
    assert_ne!(fired[0].idempotency_key, fired[1].idempotency_key);
    let resolved = engine.evaluate(&report(2, 0.1, 0.6));
    assert_eq!(statuses(&resolved), [AlertStatus::Resolved]);
    assert_eq!(resolved[0].feature.as_deref(), Some("a"));
    let active: Vec<_> = engine.active().into_iter().map(|a| a.feature).collect();
    assert_eq!(active, [Some("b".to_owned())]);
}

#[test]
fn a_feature_rule_reads_its_test_on_each_feature() {
    let mut engine = AlertEngine::new(&[feature_rule("psi", "psi > 0.4")]);
    let fired = engine.evaluate(&window(
        1,
        vec![
            feature("a", vec![test(TestName::Psi, 0.3, None, 0.2)]),
            feature("b", vec![test(TestName::Psi, 0.5, None, 0.2)]),
        ],
    ));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].feature.as_deref(), Some("b"));
    assert_eq!(fired[0].condition, "feature.*.psi > 0.4");
}

#[test]
fn states_survive_save_and_restore() {
    let rules = [
        rule("r", "drift_share >= 0.5", 1),
        feature_rule("each", "drifted"),
    ];
    let mut engine = AlertEngine::new(&rules);
    assert_eq!(engine.evaluate(&psi(1, 0.9)).len(), 2);
    let saved = engine.save("loans");
    let mut restarted = AlertEngine::new(&rules);
    restarted.restore("loans", &saved).unwrap();
    assert_eq!(restarted.active(), engine.active());
    // Still firing after the restart: no second announcement.
    assert!(restarted.evaluate(&psi(2, 0.9)).is_empty());
    assert_eq!(statuses(&restarted.evaluate(&psi(3, 0.1))).len(), 2);
    assert!(restarted.restore("loans", "not json").is_err());
}
