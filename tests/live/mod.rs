//! What the daemon's integration tests share: a config for the bundled
//! loans example, live traffic made of the example's own reference rows
//! (drifted on demand), a real HTTP receiver for notifications
//! (`receiver`), a real Prometheus Alertmanager and Prometheus
//! (`alertmanager`, `prometheus`, on `tool`), the
//! daemon as a separate process (`served`), and plain HTTP/1.0 scrapes of
//! the daemon's endpoints.
#![allow(dead_code)]

pub mod alertmanager;
pub mod prometheus;
pub mod receiver;
pub mod served;
pub mod tool;

// Not every test binary that shares this module receives notifications.
#[allow(unused_imports)]
pub use receiver::Receiver;

use driftwatch::baseline::Baseline;
use driftwatch::config;
use driftwatch::daemon::{Daemon, DaemonOptions};
use driftwatch::proto::v1::ingest_client::IngestClient;
use driftwatch::proto::v1::{Record, SendRequest, SendResponse, Value, value};
use driftwatch::schema::Kind;
use serde_json::Value as Json;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// A config of the end-to-end Prometheus stack, `tests/fixtures/stack/NAME`,
/// shared with the Python client's end-to-end test.
pub fn stack_config(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/stack")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bundled example's baseline.
pub fn baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans/baseline.json")
}

/// A config for the loans model on loopback port 0, with data in
/// `data_dir`, `window` as TOML (`{ records = 1000 }`), one rule over
/// `drift_share >= 0.5`, and a webhook notifier posting to `hook` when given.
pub fn config_toml(data_dir: &Path, window: &str, for_windows: u32, hook: Option<&str>) -> String {
    let notifier = hook.map_or(String::new(), |url| {
        format!("\n[[notifier]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{url}\"\n")
    });
    let notify = if hook.is_some() { "[\"hook\"]" } else { "[]" };
    let rule = format!(
        r#"
[[rule]]
name = "loans-drift"
model = "loans"
when = "drift_share >= 0.5"
for_windows = {for_windows}
severity = "critical"
notify = {notify}
{notifier}"#
    );
    model_toml(data_dir, window, &rule)
}

/// The server on loopback port 0 with data in `data_dir`, the loans model
/// with `window` as TOML, then `rest` (rules and notifiers).
pub fn model_toml(data_dir: &Path, window: &str, rest: &str) -> String {
    format!(
        r#"
[server]
grpc_addr = "127.0.0.1:0"
http_addr = "127.0.0.1:0"
data_dir = '{data}'

[[model]]
name = "loans"
baseline = '{baseline}'
window = {window}
min_samples = 200
{rest}"#,
        data = data_dir.display(),
        baseline = baseline_path().display(),
    )
}

/// Starts the daemon on `toml`.
pub async fn start(toml: &str) -> Daemon {
    let config =
        config::from_toml(toml, &|_| None, Path::new("/")).expect("the test config is valid");
    Daemon::start(config, DaemonOptions::default())
        .await
        .expect("the daemon starts")
}

/// A gRPC client of a daemon.
pub async fn client(daemon: &Daemon) -> IngestClient<Channel> {
    IngestClient::connect(format!("http://{}", daemon.grpc_addr))
        .await
        .expect("the daemon accepts connections")
}

/// The example's reference rows as records, in file order.
pub fn reference_records() -> Vec<Record> {
    let baseline = Baseline::load(&baseline_path()).expect("the example baseline loads");
    let csv_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans/reference.csv");
    let mut reader = csv::Reader::from_path(csv_path).expect("the example data opens");
    let headers = reader.headers().expect("a header").clone();
    let kinds: Vec<Kind> = headers
        .iter()
        .map(|h| {
            let column = baseline
                .columns
                .iter()
                .find(|c| c.name == h)
                .expect("a baseline column");
            column.profile.kind()
        })
        .collect();
    reader
        .records()
        .map(|row| {
            let row = row.expect("a valid row");
            let mut record = Record::default();
            for ((name, cell), kind) in headers.iter().zip(row.iter()).zip(&kinds) {
                if let Some(value) = value_of(cell, *kind) {
                    record.features.insert(name.to_string(), value);
                }
            }
            record
        })
        .collect()
}

fn value_of(cell: &str, kind: Kind) -> Option<Value> {
    let kind = match kind {
        _ if cell.is_empty() => return None,
        Kind::Numeric => value::Kind::Number(cell.parse().expect("a number")),
        Kind::Categorical => value::Kind::Category(cell.into()),
        Kind::Text => value::Kind::Text(cell.into()),
        Kind::Embedding => value::Kind::Embedding(driftwatch::proto::v1::Embedding {
            values: serde_json::from_str(cell).expect("a JSON array of numbers"),
        }),
    };
    Some(Value { kind: Some(kind) })
}

/// A number value.
pub fn number(x: f64) -> Value {
    Value {
        kind: Some(value::Kind::Number(x)),
    }
}

/// The record as traffic after a shift in the population: older, richer
/// applicants borrowing more, for other purposes.
pub fn drifted(record: &Record) -> Record {
    let mut record = record.clone();
    for (name, shift) in [
        ("age", 1.4),
        ("income", 2.5),
        ("loan_amount", 3.0),
        ("score", 0.5),
    ] {
        if let Some(Value {
            kind: Some(value::Kind::Number(x)),
        }) = record.features.get_mut(name)
        {
            *x *= shift;
        }
    }
    record.features.insert(
        "purpose".into(),
        Value {
            kind: Some(value::Kind::Category("vacation".into())),
        },
    );
    record.features.insert("term".into(), number(120.0));
    record
}

/// Sends `records` over one `SendStream` call, in batches of `batch`.
pub async fn send_stream(
    client: &mut IngestClient<Channel>,
    records: &[Record],
    batch: usize,
) -> SendResponse {
    let requests: Vec<SendRequest> = records
        .chunks(batch)
        .map(|chunk| SendRequest {
            model: "loans".into(),
            records: chunk.to_vec(),
            ..Default::default()
        })
        .collect();
    client
        .send_stream(tokio_stream::iter(requests))
        .await
        .expect("the stream is accepted")
        .into_inner()
}

/// `GET path` over HTTP/1.0: the status code and the body.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("the HTTP listener accepts");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a complete response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, body.to_string())
}

/// The value of one series in `/metrics` (`name{labels}` exactly as
/// exposed, labels sorted by name), if it exists.
pub fn metric(addr: SocketAddr, series: &str) -> Option<f64> {
    let (_, text) = get(addr, "/metrics");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Waits until `series` reaches at least `value`, for up to 20 s.
pub async fn wait_for_metric(addr: SocketAddr, series: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = metric(addr, series);
        if now.is_some_and(|v| v >= value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{series} is {now:?}, expected ≥ {value}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The latest window report of the loans model.
pub fn latest_report(addr: SocketAddr) -> Json {
    let (status, body) = get(addr, "/api/v1/models/loans/report");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a JSON report")
}
