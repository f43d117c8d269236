use super::*;
use crate::alert::AlertEngine;
use crate::alert::tests::{feature, feature_rule, psi, rule, test, window};
use crate::detect::{TestName, WindowReport};
use chrono::TimeZone;

fn at(second: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::seconds(second)
}

/// Feature `a` and `b` with these PSIs, in window `n`.
fn two(n: u32, a: f64, b: f64) -> WindowReport {
    window(
        n,
        vec![
            feature("a", vec![test(TestName::Psi, a, None, 0.2)]),
            feature("b", vec![test(TestName::Psi, b, None, 0.2)]),
        ],
    )
}

/// Runs `report` through the engine and the groups at `now`.
fn add(engine: &mut AlertEngine, groups: &mut Groups, report: &WindowReport, now: DateTime<Utc>) {
    for t in engine.evaluate(report) {
        groups.add(t, now);
    }
}

#[test]
fn a_window_rule_is_told_at_once_as_its_transition() {
    let rules = [rule("r", "drift_share >= 0.5", 1)];
    let (mut engine, mut groups) = (AlertEngine::new(&rules), Groups::new(&rules));
    let fired = engine.evaluate(&psi(1, 0.9));
    groups.add(fired[0].clone(), at(0));
    let notices = groups.due(at(0));
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].notification, fired[0]);
    assert!(notices[0].fired);
    assert!(groups.due(at(1)).is_empty());
    assert_eq!(groups.firing().count(), 1);
}

#[test]
fn feature_alerts_are_grouped_after_group_wait() {
    let rules = [feature_rule("each", "drifted")];
    let (mut engine, mut groups) = (AlertEngine::new(&rules), Groups::new(&rules));
    add(&mut engine, &mut groups, &two(1, 0.5, 0.1), at(0));
    add(&mut engine, &mut groups, &two(2, 0.5, 0.6), at(10));
    assert!(groups.due(at(29)).is_empty(), "group_wait is 30 s");
    let notices = groups.due(at(30));
    assert_eq!(notices.len(), 1, "one notification for both features");
    let n = &notices[0].notification;
    assert_eq!(n.status, AlertStatus::Firing);
    let features: Vec<&str> = n.alerts.iter().map(|a| a.feature.as_str()).collect();
    assert_eq!(features, ["a", "b"]);
    assert_eq!(n.features.len(), 2);
    assert_eq!(n.window.end, two(2, 0.0, 0.0).window.end);
}

#[test]
fn changes_wait_for_group_interval_and_resolutions_are_told() {
    let rules = [feature_rule("each", "drifted")];
    let (mut engine, mut groups) = (AlertEngine::new(&rules), Groups::new(&rules));
    add(&mut engine, &mut groups, &two(1, 0.5, 0.1), at(0));
    assert_eq!(groups.due(at(30)).len(), 1);
    add(&mut engine, &mut groups, &two(2, 0.1, 0.1), at(60));
    assert!(groups.due(at(329)).is_empty(), "group_interval is 5 min");
    let notices = groups.due(at(330));
    let n = &notices[0].notification;
    assert_eq!(n.status, AlertStatus::Resolved);
    assert_eq!(n.alerts[0].status, AlertStatus::Resolved);
    assert!(!notices[0].fired);
    assert_eq!(groups.firing().count(), 0);
    assert!(groups.due(at(100_000)).is_empty(), "an empty group is gone");
}

#[test]
fn an_alert_resolved_before_it_was_told_is_never_told() {
    let rules = [feature_rule("each", "drifted")];
    let (mut engine, mut groups) = (AlertEngine::new(&rules), Groups::new(&rules));
    add(&mut engine, &mut groups, &two(1, 0.5, 0.1), at(0));
    add(&mut engine, &mut groups, &two(2, 0.1, 0.1), at(5));
    assert!(groups.due(at(60)).is_empty());
}

#[test]
fn a_firing_group_is_repeated_every_repeat_interval() {
    let mut r = rule("r", "drift_share >= 0.5", 1);
    r.repeat_interval = std::time::Duration::from_secs(3600);
    let rules = [r];
    let (mut engine, mut groups) = (AlertEngine::new(&rules), Groups::new(&rules));
    add(&mut engine, &mut groups, &psi(1, 0.9), at(0));
    let first = groups.due(at(0)).remove(0).notification;
    assert!(groups.due(at(3599)).is_empty());
    let again = groups.due(at(3600));
    assert_eq!(again.len(), 1);
    let repeat = &again[0].notification;
    assert!(repeat.repeat && !again[0].fired);
    assert_ne!(repeat.idempotency_key, first.idempotency_key);
    assert!(groups.due(at(3601)).is_empty());
    assert_eq!(groups.due(at(7200)).len(), 1);
}

#[test]
fn groups_survive_save_and_restore() {
    let rules = [feature_rule("each", "drifted")];
    let (mut engine, mut groups) = (AlertEngine::new(&rules), Groups::new(&rules));
    add(&mut engine, &mut groups, &two(1, 0.5, 0.1), at(0));
    let saved = groups.save("loans");
    let mut restarted = Groups::new(&rules);
    restarted.restore("loans", &saved).unwrap();
    // The wait that began before the restart ends on time after it.
    assert!(restarted.due(at(29)).is_empty());
    assert_eq!(restarted.due(at(30)).len(), 1);
    let mut unknown = Groups::new(&[rule("r", "drift_share >= 0.5", 1)]);
    unknown.restore("loans", &saved).unwrap();
    assert!(
        unknown.due(at(30)).is_empty(),
        "groups of removed rules are dropped"
    );
}
