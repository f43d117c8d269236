//! The join buffer's memory with 10 million outstanding unlabelled ids (as a
//! sidecar sees when labels stop arriving): it holds its capacity and no
//! more, counts every eviction, and its resident memory stays within what
//! the capacity allows. In its own test binary, so that the process's RSS
//! is this test's alone.

use chrono::{TimeZone, Utc};
use driftwatch::config::QualityConfig;
use driftwatch::detect::WindowSpan;
use driftwatch::quality::{Given, Metric, Observed, QualityTracker, Task};
use std::time::Duration;

/// Resident memory of this process, in bytes (Linux).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// A binary classifier's quality with scores, as a sidecar runs it.
fn config(capacity: usize) -> QualityConfig {
    QualityConfig {
        task: Some(Task::Binary),
        label: "label".into(),
        prediction: "prediction".into(),
        score: Some("score".into()),
        positive: "1".into(),
        metrics: vec![Metric::Accuracy],
        feedback: None,
        negative_below: 0.5,
        min_labels: 100,
        label_ttl: Duration::from_secs(7 * 86_400),
        max_pending: capacity,
        confidence: 0.95,
        reference: Default::default(),
        min: Default::default(),
        max: Default::default(),
        max_drop: Default::default(),
        calibration: None,
    }
}

#[test]
fn ten_million_outstanding_ids_hold_the_capacity_and_count_the_rest() {
    const IDS: u64 = 10_000_000;
    const CAPACITY: usize = 1_000_000;
    let before = rss();
    // The daemon's own path: every record observed with its prediction and
    // score, a window closing every 1,000 records, no label ever arriving.
    let mut tracker = QualityTracker::new(&config(CAPACITY), 10_000);
    let mut id = String::new();
    for i in 0..IDS {
        use std::fmt::Write as _;
        id.clear();
        write!(id, "req-{i:016x}").unwrap();
        let record = Observed {
            id: &id,
            prediction: Some(Given::Number((i % 2) as f64)),
            score: Some(0.5),
        };
        tracker.observe(i as i64, record).expect("a usable record");
        if i % 1000 == 999 {
            let at = Utc.timestamp_opt(i as i64, 0).unwrap();
            let span = WindowSpan {
                start: at,
                end: at,
                records: 1000,
            };
            tracker.close_window(span);
        }
    }
    let grown = rss().saturating_sub(before);
    assert_eq!(tracker.pending(), CAPACITY);
    assert_eq!(tracker.dropped(), (0, IDS - CAPACITY as u64));
    assert!(
        tracker.next_ready().is_none(),
        "unlabelled windows are not judged"
    );
    let per_entry = grown as f64 / CAPACITY as f64;
    println!(
        "10,000,000 ids, capacity 1,000,000: RSS grew {:.1} MiB ({per_entry:.0} bytes per held record), {} evicted",
        grown as f64 / 1048576.0,
        tracker.dropped().1
    );
    // Bounded by the capacity: the index, the ring of pending predictions
    // and the windows' bookkeeping, with their growth slack.
    assert!(per_entry < 160.0, "{per_entry} bytes per record");
}
