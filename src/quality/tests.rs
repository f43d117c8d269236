use super::*;
use crate::stats::quality::classification;
use chrono::{TimeZone, Utc};
use std::time::Duration;

const SECOND: i64 = 1_000_000_000;

pub(super) fn config(min_labels: u64) -> QualityConfig {
    QualityConfig {
        task: Some(Task::Binary),
        label: "label".into(),
        prediction: "prediction".into(),
        score: None,
        positive: "1".into(),
        metrics: vec![Metric::Accuracy, Metric::F1],
        feedback: Some("thumbs".into()),
        negative_below: 0.5,
        min_labels,
        label_ttl: Duration::from_secs(60),
        max_pending: 1000,
        confidence: 0.95,
        reference: BTreeMap::from([(Metric::Accuracy, 0.9)]),
        min: BTreeMap::new(),
        max: BTreeMap::new(),
        max_drop: BTreeMap::from([(Metric::Accuracy, 0.05)]),
        calibration: None,
    }
}

pub(super) fn span(n: i64) -> WindowSpan {
    WindowSpan {
        start: Utc.timestamp_opt(n * 60, 0).unwrap(),
        end: Utc.timestamp_opt(n * 60 + 60, 0).unwrap(),
        records: 10,
    }
}

/// Observes records `r{from}`..`r{to}` predicting class `predicted`.
pub(super) fn observe(
    tracker: &mut QualityTracker,
    ids: std::ops::Range<u32>,
    predicted: &str,
    at: i64,
) {
    for i in ids {
        let id = format!("r{i}");
        let record = Observed {
            id: &id,
            prediction: Some(Given::Text(predicted)),
            score: None,
        };
        tracker.observe(at, record).unwrap();
    }
}

pub(super) fn label(tracker: &mut QualityTracker, id: &str, truth: &str) -> Joined {
    let given = Label {
        truth: Some(Given::Text(truth)),
        feedback: None,
    };
    let checked = tracker.label(given).unwrap();
    tracker.join(id, checked)
}

#[test]
fn labels_out_of_order_duplicated_unknown_and_late_are_told_apart() {
    let mut tracker = QualityTracker::new(&config(3), 100);
    observe(&mut tracker, 0..4, "1", 0);
    assert!(
        tracker.close_window(span(0)).is_none(),
        "no scores: no estimate"
    );
    observe(&mut tracker, 4..8, "0", SECOND);
    // Labels of the second window arrive first, one of them twice.
    assert_eq!(label(&mut tracker, "r5", "0"), Joined::Joined);
    assert_eq!(label(&mut tracker, "r5", "1"), Joined::Duplicate);
    assert_eq!(label(&mut tracker, "nobody", "1"), Joined::Unknown);
    assert_eq!(label(&mut tracker, "r2", "1"), Joined::Joined);
    assert_eq!(label(&mut tracker, "r0", "0"), Joined::Joined);
    assert!(tracker.next_ready().is_none(), "2 of 3 labels");
    assert_eq!(label(&mut tracker, "r3", "1"), Joined::Joined);
    let first = tracker
        .next_ready()
        .expect("the first window has its 3 labels");
    assert_eq!((first.seq, first.records, first.labelled), (0, 4, 3));
    // The first window is judged: a fourth label comes too late for it.
    assert_eq!(label(&mut tracker, "r1", "1"), Joined::Late);
    let report = evaluate(&config(3), &first);
    assert_eq!(report.status, QualityStatus::Ok);
    let accuracy = report.metric(Metric::Accuracy).unwrap();
    assert_eq!(accuracy.value, Some(2.0 / 3.0));
    assert!((accuracy.drop.unwrap() - (0.9 - 2.0 / 3.0)).abs() < 1e-15);
    assert_eq!(accuracy.degraded, Some(true));
    assert!(accuracy.low.unwrap() < 2.0 / 3.0 && accuracy.high.unwrap() > 0.9);
    assert!(
        accuracy.drop_lower.unwrap() < 0.0,
        "3 labels cannot show a significant drop"
    );
    // The second window is still open: it waits for its close.
    assert!(tracker.next_ready().is_none());
    tracker.close_window(span(1));
    assert!(
        tracker.next_ready().is_none(),
        "1 of 3 labels, 3 records waiting"
    );
}

#[test]
fn at_the_ttl_a_window_is_judged_with_the_labels_it_has() {
    let mut tracker = QualityTracker::new(&config(100), 100);
    observe(&mut tracker, 0..10, "1", 0);
    tracker.close_window(span(0));
    for i in 0..4 {
        label(&mut tracker, &format!("r{i}"), "1");
    }
    tracker.expire(59 * SECOND);
    assert!(tracker.next_ready().is_none(), "records wait for 60 s");
    tracker.expire(61 * SECOND);
    assert_eq!(tracker.dropped(), (6, 0));
    let window = tracker.next_ready().expect("nothing waits any more");
    let report = evaluate(&config(100), &window);
    assert_eq!(
        (report.status, report.labelled),
        (QualityStatus::InsufficientLabels, 4)
    );
    assert_eq!(report.metric(Metric::Accuracy).unwrap().value, Some(1.0));
    assert_eq!(label(&mut tracker, "r5", "1"), Joined::Unknown, "expired");
}

#[test]
fn a_full_buffer_evicts_the_oldest_and_its_window_stops_waiting() {
    let mut small = config(2);
    small.max_pending = 3;
    let mut tracker = QualityTracker::new(&small, 100);
    observe(&mut tracker, 0..2, "1", 0);
    tracker.close_window(span(0));
    label(&mut tracker, "r0", "1");
    observe(&mut tracker, 2..5, "1", SECOND);
    // r0 (labelled) and r1 (waiting) were evicted for r3 and r4.
    assert_eq!(tracker.dropped(), (0, 1));
    let window = tracker
        .next_ready()
        .expect("window 0 can get no more labels");
    assert_eq!((window.records, window.labelled), (2, 1));
}

#[test]
fn metrics_equal_the_classification_functions_on_the_same_pairs() {
    let mut tracker = QualityTracker::new(&config(10), 1000);
    let truths = ["1", "0", "1", "1", "0", "0", "1", "0", "1", "1"];
    let predictions = ["1", "0", "0", "1", "1", "0", "1", "0", "0", "1"];
    for (i, p) in predictions.iter().enumerate() {
        observe(&mut tracker, i as u32..i as u32 + 1, p, 0);
    }
    tracker.close_window(span(0));
    for (i, t) in truths.iter().enumerate().rev() {
        label(&mut tracker, &format!("r{i}"), t);
    }
    let window = tracker.next_ready().unwrap();
    let report = evaluate(&config(10), &window);
    let bits = |v: &[&str]| v.iter().map(|s| u8::from(*s == "1")).collect::<Vec<_>>();
    let (t, p) = (bits(&truths), bits(&predictions));
    let f1 = classification::binary_scores(&t, &p, &1).unwrap().f1;
    assert_eq!(report.metric(Metric::F1).unwrap().value, Some(f1));
    assert_eq!(
        report.metric(Metric::Accuracy).unwrap().value,
        Some(classification::accuracy(&t, &p).unwrap())
    );
}

#[test]
fn feedback_and_bad_labels() {
    let mut tracker = QualityTracker::new(&config(2), 100);
    let thumbs = |up: bool| Label {
        truth: None,
        feedback: Some(Given::Flag(up)),
    };
    let checked = tracker.label(thumbs(false)).unwrap();
    assert_eq!((checked.truth, checked.feedback), (None, Some((0.0, true))));
    let nan = Label {
        truth: Some(Given::Number(f64::NAN)),
        feedback: None,
    };
    let e = tracker.label(nan).unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.reason.as_str()),
        ("label", "NaN is not a finite number")
    );
    let none = Label {
        truth: None,
        feedback: None,
    };
    let e = tracker.label(none).unwrap_err();
    assert!(
        e.key.is_empty() && e.reason.contains("\"label\" or \"thumbs\""),
        "{e:?}"
    );
    let mut feedback_only = config(1);
    feedback_only.task = None;
    feedback_only.metrics = vec![Metric::MeanRating, Metric::NegativeShare];
    let mut tracker = QualityTracker::new(&feedback_only, 100);
    let record = Observed {
        id: "a",
        prediction: None,
        score: None,
    };
    tracker.observe(0, record).unwrap();
    tracker.close_window(span(0));
    let checked = tracker.label(thumbs(false)).unwrap();
    tracker.join("a", checked);
    let report = evaluate(&feedback_only, &tracker.next_ready().unwrap());
    assert_eq!(
        report.metric(Metric::NegativeShare).unwrap().value,
        Some(1.0)
    );
    assert_eq!(report.metric(Metric::MeanRating).unwrap().value, Some(0.0));
}

#[test]
fn records_without_a_usable_prediction_are_skipped_with_the_reason() {
    let mut tracker = QualityTracker::new(&config(1), 100);
    let missing = Observed {
        id: "a",
        prediction: None,
        score: None,
    };
    assert_eq!(tracker.observe(0, missing), Err("no_prediction"));
    let mut scored = config(1);
    scored.score = Some("score".into());
    let mut tracker = QualityTracker::new(&scored, 100);
    let out_of_range = Observed {
        id: "a",
        prediction: Some(Given::Number(1.0)),
        score: Some(1.5),
    };
    assert_eq!(tracker.observe(0, out_of_range), Err("bad_score"));
    assert_eq!(tracker.pending(), 0);
}
