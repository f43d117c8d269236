use super::*;
use crate::config;
use crate::detect::{Report, WindowSpan};
use std::path::Path;

/// The loans model with one rule over drift_share notifying a webhook that
/// nobody listens on (deliveries are not what these tests look at).
fn config(data_dir: &Path) -> Config {
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans/baseline.json");
    let toml = format!(
        r#"
[server]
data_dir = '{}'
[[model]]
name = "loans"
baseline = '{}'
[[rule]]
name = "drift"
model = "loans"
when = "drift_share >= 0.5"
notify = ["hook"]
[[notifier]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:9/hook"
"#,
        data_dir.display(),
        baseline.display()
    );
    config::from_toml(&toml, &|_| None, Path::new("/")).unwrap()
}

/// A window in which `share` of 4 judged features drifted; its report is
/// padded over several database pages, so that storing it needs new ones.
fn window(share: f64) -> WindowReport {
    let now = Utc::now();
    WindowReport {
        performance: Default::default(),
        window: WindowSpan {
            start: now,
            end: now,
            records: 1000,
        },
        report: Report {
            model: "loans".into(),
            rows: 1000,
            baseline_rows: 1000,
            features: Vec::new(),
            evaluated_features: 4,
            drifted_features: (share * 4.0) as u64,
            drift_share: share,
            drift_share_threshold: 0.5,
            drifted: share >= 0.5,
            correction: "x".repeat(20_000).leak(),
        },
    }
}

#[tokio::test]
async fn a_full_disk_delays_notifications_and_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let db = Db::open(dir.path()).unwrap();
    let (mut alerting, _) = Alerting::start(&config, db.clone(), Metrics::new())
        .await
        .unwrap();
    db.simulate_full_disk(true);
    alerting.on_report(&window(1.0)).await;
    alerting.on_report(&window(0.0)).await;
    assert_eq!(alerting.unsaved.len(), 2, "both windows wait");
    assert!(db.outbox_stats().unwrap().is_empty());
    alerting.on_tick().await;
    assert_eq!(alerting.unsaved.len(), 2, "still full");

    db.simulate_full_disk(false);
    alerting.on_tick().await;
    assert!(alerting.unsaved.is_empty());
    let since = Utc::now() - TimeDelta::hours(1);
    let told: Vec<String> = (db.transitions_since(None, since, 10).unwrap().into_iter())
        .map(|t| t.status)
        .collect();
    assert_eq!(told, ["firing", "resolved"], "in order");
    assert_eq!(db.reports_since("loans", since, 10).unwrap().len(), 2);
    let depth: u64 = db.outbox_stats().unwrap().iter().map(|s| s.depth).sum();
    assert!(depth <= 2, "{depth}");
    assert!(db.state("alerts/loans").unwrap().is_some());
}
