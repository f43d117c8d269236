//! `driftwatch demo`: the whole product in one command, on loopback. It
//! generates training data for a loan-approval model (from the bundled
//! example's profile), freezes it into a baseline, starts the daemon with a
//! dataset-drift rule that calls a local webhook, and streams live traffic
//! over gRPC that drifts partway and then returns to normal. Each window's
//! verdict is printed as it is judged, and each notification as the webhook
//! receives it; then the daemon drains and stops.
//!
//! Everything goes through the real interfaces: the baseline builder, the
//! gRPC Ingest service, the HTTP report API and a real HTTP receiver.

use crate::baseline::Baseline;
use crate::baseline::build::{BuildOptions, build};
use crate::baseline::profile::ProfileLimits;
use crate::config;
use crate::daemon::{Daemon, DaemonOptions};
use crate::detect::feature_label;
use crate::proto::v1::ingest_client::IngestClient;
use crate::proto::v1::{Record, SendRequest, value};
use crate::traffic::{Form, Traffic};
use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value as Json;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// The bundled example's baseline: the profile the training data follows.
const EXAMPLE_BASELINE: &str = include_str!("../examples/loans/baseline.json");

/// Rows of generated training data.
const TRAINING_ROWS: usize = 20_000;
/// Records per window, and per streamed window of traffic.
const WINDOW: usize = 1_000;

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Pause between two windows of traffic, so a person can follow.
    pub pace: Duration,
    /// Where the demo's files go; a fresh temporary directory when `None`
    /// (removed at the end).
    pub dir: Option<PathBuf>,
}

/// The traffic of each window: how far it has drifted from training.
const SCHEDULE: [f64; 12] = [0.0, 0.0, 0.0, 0.1, 0.15, 0.2, 0.3, 0.4, 0.4, 0.0, 0.0, 0.0];

/// Runs the demo, printing to `out`.
pub async fn run(out: &mut (impl Write + Send), options: DemoOptions) -> Result<()> {
    let (dir, temporary) = match &options.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("driftwatch-demo-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = demo(out, &dir, options.pace).await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn demo(out: &mut (impl Write + Send), dir: &Path, pace: Duration) -> Result<()> {
    writeln!(
        out,
        "driftwatch demo: a loan-approval model, watched in production\n"
    )?;
    let baseline = train(out, dir)?;
    let (hook, mut alerts) = start_receiver().await?;
    let toml = demo_config(&hook);
    let config = config::from_toml(&toml, &|_| None, dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let daemon = Daemon::start(config, DaemonOptions::default()).await?;
    writeln!(
        out,
        "3. The daemon is serving: gRPC ingest on {}, metrics on http://{}/metrics",
        daemon.grpc_addr, daemon.http_addr
    )?;
    writeln!(
        out,
        "   Rule \"loans-drift\": drift_share >= 0.5 in 2 windows in a row → webhook {hook}\n"
    )?;
    writeln!(
        out,
        "4. Live traffic over gRPC, {} windows of {WINDOW} records; the applicants change from window 4:\n",
        SCHEDULE.len()
    )?;
    writeln!(
        out,
        "   drift share: the share of the 10 features whose distribution moved away from training\n   (normed Wasserstein or Jensen-Shannon distance >= 0.1, Evidently's default rule)\n"
    )?;
    writeln!(
        out,
        "   window  traffic        drift share                most drifted features                          rule"
    )?;
    let streamed = stream(out, &daemon, &baseline, &mut alerts, pace).await;
    daemon.stop();
    daemon.wait().await?;
    streamed?;
    writeln!(
        out,
        "\n5. Stopped cleanly: windows judged, open window saved, notifications delivered."
    )?;
    writeln!(
        out,
        "   Next: `driftwatch serve --config driftwatch.toml` with your own baseline (see README)."
    )?;
    Ok(())
}

/// Generates training data and builds its baseline.
fn train(out: &mut impl Write, dir: &Path) -> Result<Baseline> {
    let example: Baseline =
        serde_json::from_str(EXAMPLE_BASELINE).context("the bundled baseline")?;
    let input = dir.join("train.csv");
    write_training_csv(&example, &input)?;
    writeln!(
        out,
        "1. Training data: {TRAINING_ROWS} generated loan applications → {}",
        input.display()
    )?;
    let options = BuildOptions {
        input,
        model: "loans".into(),
        kinds: example
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.profile.kind()))
            .collect(),
        ignore: Default::default(),
        limits: ProfileLimits::default(),
        quality: None,
        text_patterns: Vec::new(),
    };
    let baseline = build(&options, &mut |_, _| {})?;
    baseline.save(&dir.join("baseline.json"))?;
    let kinds: Vec<String> = baseline
        .columns
        .iter()
        .map(|c| format!("{} ({})", c.name, c.profile.kind()))
        .collect();
    writeln!(out, "2. Baseline frozen from it: {}\n", kinds.join(", "))?;
    Ok(baseline)
}

fn write_training_csv(example: &Baseline, path: &Path) -> Result<()> {
    let mut traffic = Traffic::new(example, 0.0, 2026)?;
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(example.columns.iter().map(|c| c.name.as_str()))?;
    for _ in 0..TRAINING_ROWS {
        let record = traffic.record();
        writer.write_record(example.columns.iter().map(|c| cell(&record, &c.name)))?;
    }
    writer.flush()?;
    Ok(())
}

/// A record's value of a column as a CSV field (empty when missing).
fn cell(record: &Record, column: &str) -> String {
    match record.features.get(column).and_then(|v| v.kind.as_ref()) {
        Some(value::Kind::Number(x)) => x.to_string(),
        Some(value::Kind::Category(s) | value::Kind::Text(s)) => s.clone(),
        Some(value::Kind::Flag(b)) => b.to_string(),
        Some(value::Kind::Embedding(e)) => serde_json::to_string(&e.values).unwrap_or_default(),
        None => String::new(),
    }
}

fn demo_config(hook: &str) -> String {
    format!(
        r#"
[server]
grpc_addr = "127.0.0.1:0"
http_addr = "127.0.0.1:0"
data_dir = "data"

[[model]]
name = "loans"
baseline = "baseline.json"
window = {{ records = {WINDOW} }}
min_samples = 200

[[rule]]
name = "loans-drift"
model = "loans"
when = "drift_share >= 0.5"
for_windows = 2
severity = "critical"
notify = ["retrain"]

[[notifier]]
name = "retrain"
kind = "webhook"
url = "{hook}"
"#
    )
}

/// Starts a local webhook receiver; each notification's JSON arrives on
/// the returned channel.
async fn start_receiver() -> Result<(String, mpsc::UnboundedReceiver<Json>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route("/hooks/retrain", post(receive))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks/retrain", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, rx))
}

async fn receive(State(tx): State<mpsc::UnboundedSender<Json>>, body: Bytes) -> &'static str {
    let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Json::Null));
    "ok"
}

/// Streams every window of the schedule and prints each verdict and each
/// notification.
async fn stream(
    out: &mut (impl Write + Send),
    daemon: &Daemon,
    baseline: &Baseline,
    alerts: &mut mpsc::UnboundedReceiver<Json>,
    pace: Duration,
) -> Result<()> {
    let mut client = IngestClient::connect(format!("http://{}", daemon.grpc_addr)).await?;
    let http = reqwest::Client::new();
    let base = format!("http://{}", daemon.http_addr);
    for (i, &drift) in SCHEDULE.iter().enumerate() {
        let mut traffic = Traffic::new(baseline, drift, 100 + i as u64)?.for_model("loans");
        let batches: Vec<SendRequest> = (0..WINDOW / 250)
            .map(|_| traffic.batch(Form::Rows, 250))
            .collect();
        let sent = client
            .send_stream(tokio_stream::iter(batches))
            .await?
            .into_inner();
        if sent.accepted != WINDOW as u64 {
            bail!(
                "the daemon accepted {} of {WINDOW} records: {:?}",
                sent.accepted,
                sent.rejections
            );
        }
        let report = wait_for_window(&http, &base, i as u64 + 1).await?;
        let firing = firing(&http, &base).await?;
        writeln!(out, "{}", window_line(i + 1, drift, &report, firing))?;
        tokio::time::sleep(pace.max(Duration::from_millis(200))).await;
        while let Ok(alert) = alerts.try_recv() {
            writeln!(out, "{}", alert_line(&alert))?;
        }
    }
    Ok(())
}

/// Waits until `n` windows have been judged; returns the latest report.
async fn wait_for_window(http: &reqwest::Client, base: &str, n: u64) -> Result<Json> {
    let evaluated = "driftwatch_windows_evaluated_total{model=\"loans\"}";
    for _ in 0..500 {
        if metric(http, base, evaluated).await? >= n as f64 {
            let url = format!("{base}/api/v1/models/loans/report");
            let body = http.get(url).send().await?.text().await?;
            return Ok(serde_json::from_str(&body)?);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("window {n} was not judged within 10 s")
}

async fn firing(http: &reqwest::Client, base: &str) -> Result<bool> {
    let series =
        "driftwatch_alert_firing{model=\"loans\",rule=\"loans-drift\",severity=\"critical\"}";
    Ok(metric(http, base, series).await? == 1.0)
}

/// One series' value from `/metrics`.
async fn metric(http: &reqwest::Client, base: &str, series: &str) -> Result<f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .with_context(|| format!("{series} is not in /metrics"))
}

fn window_line(n: usize, drift: f64, report: &Json, firing: bool) -> String {
    let share = report["drift_share"].as_f64().unwrap_or(f64::NAN);
    let filled = (share * 20.0).round() as usize;
    let bar: String = "█".repeat(filled) + &"░".repeat(20 - filled.min(20));
    let traffic = if drift == 0.0 {
        "like training".to_string()
    } else {
        format!("drift {drift:.2}")
    };
    let rule = match (firing, share >= 0.5) {
        (true, _) => "FIRING",
        (false, true) => "breached (fires on 2 in a row)",
        (false, false) => "ok",
    };
    format!(
        "   {n:>6}  {traffic:<13}  {share:.2} {bar}  {:<45}  {rule}",
        top_features(report)
    )
}

/// The three features whose deciding score is furthest past its
/// threshold (a text feature by its most drifted descriptor).
fn top_features(report: &Json) -> String {
    let mut scored: Vec<(f64, String)> = Vec::new();
    for feature in report["features"].as_array().into_iter().flatten() {
        let tests = feature["tests"].as_array().into_iter().flatten();
        let worst = tests
            .filter(|t| t["decisive"] == true && t["drifted"] == true)
            .filter_map(|t| Some((t["statistic"].as_f64()? / t["threshold"].as_f64()?, t)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((ratio, test)) = worst {
            let name = feature_label(
                feature["name"].as_str().unwrap_or("?"),
                test["descriptor"].as_str(),
            );
            let statistic = test["statistic"].as_f64().unwrap_or(f64::NAN);
            scored.push((ratio, format!("{name} {statistic:.2}")));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let names: Vec<String> = scored.into_iter().take(3).map(|(_, s)| s).collect();
    if names.is_empty() {
        "—".into()
    } else {
        names.join(", ")
    }
}

fn alert_line(alert: &Json) -> String {
    let status = alert["status"].as_str().unwrap_or("?").to_uppercase();
    let mut line = format!(
        "   >>> webhook received: {status} {} ({}) on model {}",
        alert["rule"].as_str().unwrap_or("?"),
        alert["severity"].as_str().unwrap_or("?"),
        alert["model"].as_str().unwrap_or("?"),
    );
    let features: Vec<String> = alert["features"]
        .as_array()
        .into_iter()
        .flatten()
        .take(3)
        .map(|f| {
            format!(
                "{} {} {:.2}",
                f["name"].as_str().unwrap_or("?"),
                f["test"].as_str().unwrap_or("?"),
                f["statistic"].as_f64().unwrap_or(f64::NAN)
            )
        })
        .collect();
    if !features.is_empty() {
        let _ = write!(line, ": {}", features.join(", "));
    }
    line
}
