//! driftwatch against a real Prometheus Alertmanager: the daemon posts its
//! alert to Alertmanager's v2 API, Alertmanager routes it to a webhook, and
//! the webhook payload carries our labels, firing and then resolved. Also
//! the self-checks of the test receiver that stands in for that webhook.
//!
//! Needs the `prometheus-alertmanager` binary; without it the test fails.

mod live;

use driftwatch::proto::v1::Record;
use live::alertmanager::Alertmanager;
use live::*;
use serde_json::{Value as Json, json};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_fires_and_resolves_through_a_real_alertmanager() {
    let receiver = Receiver::start().await;
    let am = Alertmanager::start(&receiver.url()).await;
    let dir = tempfile::tempdir().unwrap();
    let daemon = start(&config_with_alertmanager(dir.path(), &am.url())).await;
    let records = reference_records();
    let shifted: Vec<Record> = records[..1000].iter().map(drifted).collect();
    let mut client = client(&daemon).await;

    send_stream(&mut client, &shifted, 250).await;
    let firing = wait_for_webhook(&receiver, &am, "firing").await;
    assert_eq!(firing["version"], "4", "{firing:#}");
    assert_eq!(firing["receiver"], "hook");
    let alerts = firing["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{firing:#}");
    let alert = &alerts[0];
    assert_eq!(alert["status"], "firing");
    assert_eq!(alert["labels"]["alertname"], "loans-drift", "{alert:#}");
    assert_eq!(alert["labels"]["model"], "loans");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert!(alert["annotations"]["summary"].is_string(), "{alert:#}");

    send_stream(&mut client, &records[1000..2000], 250).await;
    let resolved = wait_for_webhook(&receiver, &am, "resolved").await;
    let after = &resolved["alerts"][0];
    assert_eq!(after["status"], "resolved", "{resolved:#}");
    assert_eq!(after["fingerprint"], alert["fingerprint"]);
    assert_eq!(after["startsAt"], alert["startsAt"]);
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_answers_as_told_and_refuses_connections_while_down() {
    let receiver = Receiver::start().await;
    let ok = post(receiver.addr, r#"{"n":1}"#).unwrap();
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.to_lowercase().contains("connection: close"), "{ok}");

    receiver.set_retry_after(429, 7);
    let throttled = post(receiver.addr, "not json").unwrap();
    assert!(throttled.starts_with("HTTP/1.1 429"), "{throttled}");
    assert!(
        throttled.to_lowercase().contains("retry-after: 7"),
        "{throttled}"
    );
    receiver.set_status(503);
    let unavailable = post(receiver.addr, "{}").unwrap();
    assert!(unavailable.starts_with("HTTP/1.1 503"), "{unavailable}");
    assert!(!unavailable.to_lowercase().contains("retry-after"));
    receiver.set_ok();

    let early = TcpStream::connect(receiver.addr).unwrap();
    // Long enough for the server to accept it: it must be closed, not served.
    tokio::time::sleep(Duration::from_millis(100)).await;
    receiver.go_down().await;
    let refused = TcpStream::connect(receiver.addr).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    let served = send(early, receiver.addr, "{}");
    let answered = served.as_ref().is_ok_and(|s| !s.is_empty());
    assert!(
        !answered,
        "a connection from before go_down was served: {served:?}"
    );

    receiver.come_up().await;
    assert!(
        post(receiver.addr, r#"{"n":2}"#)
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
    let attempts = receiver.wait_for_attempts(4).await;
    let statuses: Vec<u16> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 429, 503, 200]);
    assert_eq!(attempts[1].body, "not json");
    let delivered: Vec<Json> = receiver.deliveries().into_iter().map(|d| d.body).collect();
    assert_eq!(delivered, [json!({"n": 1}), json!({"n": 2})]);
}

/// The loans config of [`config_toml`] with its rule notifying an
/// `alertmanager` notifier at `url`.
fn config_with_alertmanager(data_dir: &Path, url: &str) -> String {
    let toml = config_toml(data_dir, "{ records = 1000 }", 1, None);
    assert!(toml.contains("notify = []"), "{toml}");
    let toml = toml.replace("notify = []", r#"notify = ["am"]"#);
    format!("{toml}\n[[notifier]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"{url}\"\n")
}

/// Waits up to 30 s for a webhook payload with `status` ("firing" or
/// "resolved"), and returns it.
async fn wait_for_webhook(receiver: &Receiver, am: &Alertmanager, status: &str) -> Json {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = receiver.deliveries();
        if let Some(d) = got.iter().find(|d| d.body["status"] == status) {
            return d.body.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {status} payload in 30 s; got {got:#?}\nalertmanager log:\n{}",
            am.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// POSTs `body` to the receiver's hook on a new connection: the whole answer.
fn post(addr: SocketAddr, body: &str) -> io::Result<String> {
    send(TcpStream::connect(addr)?, addr, body)
}

/// POSTs `body` on `stream` as HTTP/1.1 (keep-alive unless the server
/// closes) and reads until the server closes: the whole answer.
fn send(mut stream: TcpStream, addr: SocketAddr, body: &str) -> io::Result<String> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "POST /hook HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}
