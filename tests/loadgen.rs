//! `loadgen` against a real daemon started in-process on 127.0.0.1:0: both
//! wire forms over several streams are accepted whole, the bearer token
//! gets through, and a refused stream is an error naming the stream.

use driftwatch::daemon::{Daemon, DaemonOptions};
use driftwatch::loadgen::{LoadgenArgs, LoadgenError, run};
use driftwatch::traffic::Form;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn loans_baseline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/loans/baseline.json")
}

async fn daemon(dir: &Path) -> Daemon {
    let toml = format!(
        r#"
        [server]
        grpc_addr = "127.0.0.1:0"
        http_addr = "127.0.0.1:0"
        data_dir = "data"
        auth_token_env = "TOKEN"
        [[model]]
        name = "loans"
        baseline = '{}'
        window = {{ records = 1000000 }}
        "#,
        loans_baseline().display()
    );
    let env = |name: &str| (name == "TOKEN").then(|| "s3cret".to_string());
    let config = driftwatch::config::from_toml(&toml, &env, dir).unwrap();
    Daemon::start(config, DaemonOptions::default())
        .await
        .unwrap()
}

fn args(daemon: &Daemon, form: Form) -> LoadgenArgs {
    LoadgenArgs {
        addr: format!("http://{}", daemon.grpc_addr),
        model: None,
        baseline: loans_baseline(),
        form,
        batch: 300,
        records: Some(2000),
        duration: Duration::from_secs(10),
        streams: 3,
        drift: 0.5,
        token: Some("s3cret".into()),
        ids: true,
        seed: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_forms_are_taken_whole_over_several_streams() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(dir.path()).await;
    for form in [Form::Rows, Form::Columnar] {
        let summary = run(&args(&daemon, form)).await.unwrap();
        // 2000 records are 7 batches of 300, shared 3, 2, 2.
        assert_eq!(summary.batches, 7, "{form:?}");
        assert_eq!((summary.accepted, summary.rejected), (2100, 0), "{form:?}");
        assert!(summary.records_per_second() > 0.0);
        assert!(summary.to_string().contains("accepted 2100, rejected 0"));
    }
    daemon.stop();
    daemon.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_stream_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = daemon(dir.path()).await;
    let wrong_token = LoadgenArgs {
        token: Some("guess".into()),
        ..args(&daemon, Form::Rows)
    };
    let err = run(&wrong_token).await.unwrap_err();
    assert!(
        matches!(
            &err,
            LoadgenError::Status {
                stream: 0,
                code: tonic::Code::Unauthenticated,
                ..
            }
        ),
        "{err}"
    );
    let unknown = LoadgenArgs {
        model: Some("cars".into()),
        ..args(&daemon, Form::Columnar)
    };
    let err = run(&unknown).await.unwrap_err().to_string();
    assert!(
        err.contains("NotFound") && err.contains("\"cars\""),
        "{err}"
    );
    daemon.stop();
    daemon.wait().await.unwrap();
}
