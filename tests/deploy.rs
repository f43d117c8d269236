//! Checks `deploy/` against the daemon it deploys: every example config and
//! the Kubernetes ConfigMap's `driftwatch.toml` pass the real config
//! validation; the Kubernetes manifests parse, run driftwatch as a hardened
//! native sidecar and are all listed by the kustomization; and every metric
//! the Grafana dashboard and the Prometheus rules query is one a live
//! daemon exports.

// `live` re-exports its HTTP receiver, which these checks do not use.
#[allow(unused_imports)]
mod live;
mod support;

use driftwatch::config;
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every environment variable a config names is set, to a placeholder URL.
fn any_env(name: &str) -> Option<String> {
    Some(format!("https://example.invalid/{name}"))
}

/// The files in `dir` whose names end in `.ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found
}

fn yaml(path: &Path) -> Json {
    serde_yaml_ng::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kubernetes(file: &str) -> Json {
    yaml(&repo().join("deploy/kubernetes").join(file))
}

#[test]
fn every_example_config_validates() {
    let examples = files(&repo().join("deploy/examples"), "toml");
    let names: Vec<_> = examples.iter().filter_map(|p| p.file_name()).collect();
    for expected in [
        "llm-chat.toml",
        "regression.toml",
        "tabular-classifier.toml",
    ] {
        assert!(names.iter().any(|n| *n == expected), "{expected} missing");
    }
    for path in &examples {
        if let Err(errors) = config::load(path, &any_env) {
            panic!("{}:\n{errors}", path.display());
        }
    }
}

#[test]
fn the_llm_example_has_text_features() {
    let path = repo().join("deploy/examples/llm-chat.toml");
    let config = config::load(&path, &any_env).expect("a valid config");
    let baseline = &config.models[0].baseline;
    for name in ["prompt", "reply"] {
        let column = baseline.columns.iter().find(|c| c.name == name).unwrap();
        assert_eq!(
            column.profile.kind(),
            driftwatch::schema::Kind::Text,
            "{name}"
        );
    }
}

/// The ConfigMap's config with its container paths rewritten to a test
/// directory holding what the pod mounts there: the Secret's keys as files,
/// the generated baselines, an empty data directory.
#[test]
fn the_configmap_config_validates_with_the_pods_mounts() {
    let toml = kubernetes("configmap.yaml")["data"]["driftwatch.toml"]
        .as_str()
        .expect("data.driftwatch.toml")
        .to_string();
    config::parse(&toml).expect("the embedded config parses");
    let dir = tempfile::tempdir().unwrap();
    let mounts = [
        ("/etc/driftwatch/secrets", secret_files(dir.path())),
        ("/etc/driftwatch/baselines", baseline_files(dir.path())),
        ("/var/lib/driftwatch", dir.path().join("data")),
    ];
    let mounted = driftwatch_mount_paths();
    let mut rewritten = toml;
    for (container, local) in &mounts {
        assert!(mounted.contains(*container), "{container} is not mounted");
        rewritten = rewritten.replace(container, &local.display().to_string());
    }
    assert!(!rewritten.contains("/etc/driftwatch"), "an unmounted path");
    if let Err(errors) = config::from_toml(&rewritten, &|_| None, dir.path()) {
        panic!("configmap.yaml driftwatch.toml:\n{errors}");
    }
}

/// Writes each `stringData` key of secret.yaml as a file, as a Secret
/// volume does.
fn secret_files(root: &Path) -> PathBuf {
    let dir = root.join("secrets");
    std::fs::create_dir(&dir).unwrap();
    let secret = kubernetes("secret.yaml");
    let data = secret["stringData"].as_object().expect("stringData");
    for (key, value) in data {
        std::fs::write(dir.join(key), value.as_str().unwrap()).unwrap();
    }
    dir
}

/// Copies each `key=file` of the driftwatch-baselines generator to `key`.
fn baseline_files(root: &Path) -> PathBuf {
    let dir = root.join("baselines");
    std::fs::create_dir(&dir).unwrap();
    for entry in generator_files("driftwatch-baselines") {
        let (key, file) = entry.split_once('=').unwrap_or((&entry, &entry));
        let source = repo().join("deploy/kubernetes").join(file);
        std::fs::copy(&source, dir.join(key)).unwrap();
    }
    dir
}

fn generator_files(name: &str) -> Vec<String> {
    let kustomization = kubernetes("kustomization.yaml");
    let generators = kustomization["configMapGenerator"].as_array().unwrap();
    let generator = generators.iter().find(|g| g["name"] == name).unwrap();
    let files = generator["files"].as_array().unwrap();
    files.iter().map(|f| f.as_str().unwrap().into()).collect()
}

#[test]
fn the_kubernetes_baseline_is_the_bundled_example() {
    let copy = read(&repo().join("deploy/kubernetes/baselines/loans.json"));
    assert!(
        copy == read(&repo().join("examples/loans/baseline.json")),
        "deploy/kubernetes/baselines/loans.json differs from examples/loans/baseline.json"
    );
}

#[test]
fn every_manifest_parses_and_is_a_kubernetes_object() {
    let manifests = files(&repo().join("deploy/kubernetes"), "yaml");
    assert!(manifests.len() >= 7, "{manifests:?}");
    for path in &manifests {
        let doc = yaml(path);
        for key in ["apiVersion", "kind"] {
            assert!(doc[key].is_string(), "{}: no {key}", path.display());
        }
    }
}

/// Every listed resource and generator file exists, and every manifest
/// is listed; servicemonitor.yaml is named in a comment, as the
/// alternative to podmonitor.yaml (both would scrape every series twice).
#[test]
fn the_kustomization_lists_every_manifest() {
    let dir = repo().join("deploy/kubernetes");
    let kustomization = kubernetes("kustomization.yaml");
    let listed: BTreeSet<String> = kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    for resource in &listed {
        assert!(
            dir.join(resource).is_file(),
            "{resource} is listed but missing"
        );
    }
    for entry in generator_files("driftwatch-baselines") {
        let file = entry.split_once('=').map_or(entry.as_str(), |(_, f)| f);
        assert!(
            dir.join(file).is_file(),
            "{file} is generated from but missing"
        );
    }
    let text = read(&dir.join("kustomization.yaml"));
    for path in files(&dir, "yaml") {
        let name = path.file_name().unwrap().to_str().unwrap();
        match name {
            "kustomization.yaml" => {}
            "servicemonitor.yaml" => assert!(text.contains("# - servicemonitor.yaml")),
            _ => assert!(listed.contains(name), "{name} is not in resources"),
        }
    }
}

/// The driftwatch container of the Deployment, which must be a native
/// sidecar: an init container, not an app container.
fn driftwatch_container() -> Json {
    let spec = &kubernetes("deployment.yaml")["spec"]["template"]["spec"];
    let app = spec["containers"].as_array().expect("containers");
    assert!(app.iter().all(|c| c["name"] != "driftwatch"));
    let init = spec["initContainers"].as_array().expect("initContainers");
    init.iter()
        .find(|c| c["name"] == "driftwatch")
        .expect("an init container named driftwatch")
        .clone()
}

fn driftwatch_mount_paths() -> BTreeSet<String> {
    let container = driftwatch_container();
    let mounts = container["volumeMounts"].as_array().expect("volumeMounts");
    mounts
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn driftwatch_is_a_hardened_native_sidecar() {
    let container = driftwatch_container();
    assert_eq!(container["restartPolicy"], "Always");
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["runAsNonRoot"], true);
    let resources = &container["resources"];
    assert_eq!(resources["requests"]["memory"], "64Mi");
    assert_eq!(resources["requests"]["cpu"], "50m");
    assert_eq!(resources["limits"]["memory"], "256Mi");
    assert!(driftwatch_mount_paths().contains("/var/lib/driftwatch"));
}

#[test]
fn the_probes_ask_the_http_listener() {
    let container = driftwatch_container();
    let http_port = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["containerPort"] == 9108)
        .expect("port 9108")["name"]
        .clone();
    for (probe, path) in [
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/readyz"),
    ] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert!(get["port"] == http_port || get["port"] == 9108, "{probe}");
    }
}

/// The dashboard's query expressions: every `expr` in its panels.
fn dashboard() -> Json {
    let path = repo().join("deploy/grafana/driftwatch.json");
    serde_json::from_str(&read(&path)).expect("the dashboard is JSON")
}

fn exprs(value: &Json, found: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            for (key, v) in map {
                match v.as_str() {
                    Some(expr) if key == "expr" => found.push(expr.to_string()),
                    _ => exprs(v, found),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| exprs(v, found)),
        _ => {}
    }
}

#[test]
fn the_dashboard_has_its_variables() {
    let dashboard = dashboard();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 36);
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let variable = |name: &str| variables.iter().find(|v| v["name"] == name).unwrap();
    assert_eq!(variable("datasource")["type"], "datasource");
    assert_eq!(
        variable("model")["definition"],
        "label_values(driftwatch_records_total, model)"
    );
    let mut found = Vec::new();
    exprs(&dashboard["panels"], &mut found);
    assert!(found.len() >= 10, "{found:?}");
}

/// The `driftwatch_*` names in `text`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("driftwatch_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

/// The metric names a live daemon exports, with a notifier so that the
/// notifier series exist, and a p-value test (KS on `age`; the loans
/// baseline is too large for one by default) so that p-value series do.
async fn exported() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let hook = Some("http://127.0.0.1:9/hook");
    let toml = live::config_toml(dir.path(), "{ records = 1000 }", 1, hook);
    let model = "min_samples = 200\n";
    assert!(toml.contains(model));
    let ks = "feature.age = { tests = [\"wasserstein\", \"ks\"] }\n";
    let toml = toml.replacen(model, &format!("{model}{ks}"), 1);
    let toml = format!("{toml}{}", scored_model(dir.path()));
    let daemon = live::start(&toml).await;
    send_scored_window(&daemon).await;
    let (status, body) = live::get(daemon.http_addr, "/metrics");
    daemon.stop();
    daemon.wait().await.unwrap();
    assert_eq!(status, 200);
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

/// A second model, `scored`: a binary classifier whose baseline (built
/// here with `--label --prediction --score`) carries its quality and score
/// calibration, so that every quality series exists, in windows of 10.
fn scored_model(dir: &Path) -> String {
    let csv = dir.join("scored.csv");
    let rows: String = (0..200)
        .map(|i| {
            let s = f64::from(i) / 200.0;
            format!("{s},{},{}\n", u8::from(s >= 0.5), u8::from(i % 3 != 0))
        })
        .collect();
    std::fs::write(&csv, format!("score,prediction,label\n{rows}")).unwrap();
    let flags = [
        "--label",
        "label",
        "--prediction",
        "prediction",
        "--score",
        "score",
    ];
    let baseline = support::build_baseline(dir, &csv, &flags);
    format!(
        "\n[[model]]\nname = \"scored\"\nbaseline = '{}'\nwindow = {{ records = 10 }}\n\
         cost = {{ input_per_token = 0.001 }}\n[model.quality]\nscore = \"score\"\n",
        baseline.display()
    )
}

/// Sends one window of `scored` records with operational metrics, and
/// waits for it to be judged.
async fn send_scored_window(daemon: &driftwatch::daemon::Daemon) {
    use driftwatch::proto::v1::{Record, SendRequest};
    let records = (0..10)
        .map(|i| {
            let mut r = Record {
                id: format!("r{i}"),
                ..Default::default()
            };
            r.outputs.insert("score".into(), live::number(0.5));
            r.outputs.insert("prediction".into(), live::number(1.0));
            r.metrics.insert("tokens_in".into(), f64::from(i));
            r
        })
        .collect();
    let request = SendRequest {
        model: "scored".into(),
        records,
        ..Default::default()
    };
    let mut client = live::client(daemon).await;
    client.send(request).await.unwrap();
    let judged = "driftwatch_windows_evaluated_total{model=\"scored\"}";
    live::wait_for_metric(daemon.http_addr, judged, 1.0).await;
}

fn rule_exprs() -> Vec<String> {
    let rules = yaml(&repo().join("alerts/driftwatch.rules.yml"));
    let mut found = Vec::new();
    exprs(&rules, &mut found);
    assert!(!found.is_empty());
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_queried_metric_is_exported() {
    let exported = exported().await;
    let mut queries = Vec::new();
    exprs(&dashboard(), &mut queries);
    let dashboard_names = metric_names(&queries.join("\n"));
    let rule_names = metric_names(&rule_exprs().join("\n"));
    for (source, names) in [("dashboard", dashboard_names), ("rules", rule_names)] {
        assert!(!names.is_empty(), "{source} queries no metric");
        let missing: Vec<_> = names.difference(&exported).collect();
        assert!(
            missing.is_empty(),
            "{source} queries {missing:?}, not exported"
        );
    }
}

/// The metric names in the first column of README.md's metric table.
fn documented_metrics() -> BTreeSet<String> {
    read(&repo().join("README.md"))
        .lines()
        .filter_map(|line| line.strip_prefix("| `driftwatch_"))
        .filter_map(|rest| rest.split('`').next())
        .map(|name| format!("driftwatch_{name}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_documents_exactly_the_exported_metrics() {
    let exported = exported().await;
    let documented = documented_metrics();
    assert!(documented.len() >= 10, "{documented:?}");
    let undocumented: Vec<_> = exported.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "exported but not in README.md's metric table: {undocumented:?}"
    );
    let stale: Vec<_> = documented.difference(&exported).collect();
    assert!(stale.is_empty(), "in README.md but not exported: {stale:?}");
}
