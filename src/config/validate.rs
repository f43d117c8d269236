//! Raw config → typed [`Config`]. Each section is checked on its own and
//! every problem is recorded with its key path, so that one run of
//! `check-config` shows them all; a typed config comes out only when there
//! were none. Baselines are loaded here, because per-feature overrides and
//! rule subjects must name features that the baseline has.

use super::condition::{EVERY_FEATURE, QualityRead};
use super::duration::parse_duration;
use super::raw::{RawConfig, RawFeature, RawModel, RawNotifier, RawRule, RawServer, RawWindow};
use super::{
    Condition, Config, ConfigError, ConfigErrors, Env, FeatureOverride, FeatureSelector,
    ModelConfig, NotifierConfig, NotifierKind, Retry, RuleConfig, Scope, Secret, ServerConfig,
    Severity, Subject, UnknownFields, Webhook, Window, defaults,
};
use crate::baseline::{Baseline, Profile};
use crate::detect::TestName;
use crate::quality::ESTIMATED;
use crate::schema::Kind;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Validates a raw config into a typed one, or lists every problem.
/// `env` reads environment variables; relative paths are resolved against
/// `base_dir` (the config file's directory).
pub fn validate(raw: RawConfig, env: Env<'_>, base_dir: &Path) -> Result<Config, ConfigErrors> {
    let mut cx = Cx {
        env,
        base_dir,
        errors: Vec::new(),
    };
    if raw.version != defaults::VERSION {
        let msg = format!(
            "version {}: this driftwatch reads version {}",
            raw.version,
            defaults::VERSION
        );
        cx.error("version", msg);
    }
    let server = cx.server(raw.server);
    let baselines: Vec<Option<Baseline>> = (raw.model.iter().enumerate())
        .map(|(i, m)| cx.baseline(i, m))
        .collect();
    cx.unique("model", raw.model.iter().map(|m| m.name.as_str()));
    cx.unique("rule", raw.rule.iter().map(|r| r.name.as_str()));
    cx.unique("notifier", raw.notifier.iter().map(|n| n.name.as_str()));
    let known = Known {
        models: raw
            .model
            .iter()
            .map(|m| m.name.as_str())
            .zip(&baselines)
            .collect(),
        notifiers: raw.notifier.iter().map(|n| n.name.as_str()).collect(),
    };
    let rules: Vec<_> = (raw.rule.iter().enumerate())
        .map(|(i, r)| cx.rule(i, r, &known))
        .collect();
    let notifiers: Vec<_> = (raw.notifier.into_iter().enumerate())
        .map(|(i, n)| cx.notifier(i, n))
        .collect();
    let models: Vec<_> = (raw.model.into_iter().zip(baselines).enumerate())
        .map(|(i, (m, b))| cx.model(i, m, b))
        .collect();
    for (i, rule) in rules.iter().enumerate() {
        let Some(rule) = rule else { continue };
        let model = models.iter().flatten().find(|m| m.name == rule.model);
        for (key, c) in [
            ("when", Some(&rule.when)),
            ("resolve_when", rule.resolve_when.as_ref()),
        ] {
            if let (Some(c), Some(model)) = (c, model)
                && let Err(msg) = quality_subject(c, model)
            {
                cx.error(format!("rule[{i}].{key}"), msg);
            }
        }
    }
    if !cx.errors.is_empty() {
        // Sections were checked in dependency order; report in file order.
        return Err(ConfigErrors::in_file_order(cx.errors));
    }
    let all = "no error was recorded, so every section validated";
    Ok(Config {
        server: server.expect(all),
        models: models.into_iter().collect::<Option<_>>().expect(all),
        rules: rules.into_iter().collect::<Option<_>>().expect(all),
        notifiers: notifiers.into_iter().collect::<Option<_>>().expect(all),
    })
}

/// What a rule may refer to: model names (with their baselines, where they
/// loaded) and notifier names.
struct Known<'a> {
    models: Vec<(&'a str, &'a Option<Baseline>)>,
    notifiers: Vec<&'a str>,
}

/// The validation context: the injected environment, the base directory,
/// and the problems found so far.
struct Cx<'a> {
    env: Env<'a>,
    base_dir: &'a Path,
    errors: Vec<ConfigError>,
}

impl Cx<'_> {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ConfigError {
            path: path.into(),
            message: message.into(),
        });
    }

    /// `Some(value)` when `result` is Ok, else records its error at `path`.
    fn check<T>(&mut self, path: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.error(path, message)).ok()
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        self.base_dir.join(path)
    }

    fn server(&mut self, raw: RawServer) -> Option<ServerConfig> {
        let grpc_addr = self.check("server.grpc_addr", socket_addr(&raw.grpc_addr));
        let http_addr = self.check("server.http_addr", socket_addr(&raw.http_addr));
        let data_dir = self.resolve(&raw.data_dir);
        let auth_token = match (raw.auth_token_file, raw.auth_token_env) {
            (None, None) => Some(None),
            (Some(file), None) => self.secret_file("server.auth_token_file", &file).map(Some),
            (None, Some(var)) => self.secret_env("server.auth_token_env", &var).map(Some),
            (Some(_), Some(_)) => {
                self.error(
                    "server",
                    "expected at most one of auth_token_file or auth_token_env",
                );
                None
            }
        };
        let retention = self.check("server.retention", parse_duration(&raw.retention));
        let external_url = match raw.external_url {
            Some(url) => self.check("server.external_url", external_url(&url)),
            None => http_addr.map(|addr| format!("http://{addr}")),
        };
        Some(ServerConfig {
            grpc_addr: grpc_addr?,
            http_addr: http_addr?,
            data_dir,
            auth_token: auth_token?,
            external_url: external_url?,
            retention: retention?,
        })
    }

    /// Loads a model's baseline, or records why it could not be.
    fn baseline(&mut self, i: usize, raw: &RawModel) -> Option<Baseline> {
        let path = self.resolve(&raw.baseline);
        let loaded = Baseline::load(&path).map_err(|e| e.to_string());
        self.check(&format!("model[{i}].baseline"), loaded)
    }

    /// Records every name that appears twice in a section.
    fn unique<'n>(&mut self, section: &str, names: impl Iterator<Item = &'n str>) {
        let names: Vec<&str> = names.collect();
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() {
                self.error(format!("{section}[{i}].name"), "must not be empty");
            } else if let Some(first) = names[..i].iter().position(|n| n == name) {
                let msg = format!("duplicate {section} name {name:?} (also {section}[{first}])");
                self.error(format!("{section}[{i}].name"), msg);
            }
        }
    }

    fn model(
        &mut self,
        i: usize,
        raw: RawModel,
        baseline: Option<Baseline>,
    ) -> Option<ModelConfig> {
        let at = format!("model[{i}]");
        let window = self.window(&format!("{at}.window"), &raw.window);
        let min_samples = self.check(&format!("{at}.min_samples"), at_least_one(raw.min_samples));
        let unknown_fields = self.check(
            &format!("{at}.unknown_fields"),
            unknown_fields(&raw.unknown_fields),
        );
        let correction = self.check(&format!("{at}.correction"), raw.correction.parse());
        let reservoir = self.check(&format!("{at}.reservoir"), at_least_one(raw.reservoir));
        let max_new_categories = self.check(
            &format!("{at}.max_new_categories"),
            at_least_zero(raw.max_new_categories),
        );
        let features: Vec<Option<(String, FeatureOverride)>> = (raw.feature.iter())
            .map(|(name, f)| {
                let at = format!("{at}.feature.{name}");
                let o = self.feature(&at, name, f, baseline.as_ref())?;
                Some((name.clone(), o))
            })
            .collect();
        let features: Option<BTreeMap<_, _>> = features.into_iter().collect();
        let max_metrics = self.check(&format!("{at}.max_metrics"), at_least_zero(raw.max_metrics));
        let mut report = |path: String, message: String| self.error(path, message);
        let quality = match &raw.quality {
            None => Some(None),
            Some(q) => {
                super::quality::quality(&format!("{at}.quality"), q, baseline.as_ref(), &mut report)
                    .map(Some)
            }
        };
        let cost = match &raw.cost {
            None => Some(None),
            Some(c) => super::quality::cost(&format!("{at}.cost"), c, &mut report).map(Some),
        };
        Some(ModelConfig {
            name: raw.name,
            baseline_path: self.resolve(&raw.baseline),
            baseline: baseline?,
            window: window?,
            min_samples: min_samples?,
            unknown_fields: unknown_fields?,
            correction: correction?,
            reservoir: reservoir?,
            max_new_categories: max_new_categories?,
            features: features?,
            max_metrics: max_metrics?,
            quality: quality?,
            cost: cost?,
        })
    }

    fn window(&mut self, at: &str, raw: &RawWindow) -> Option<Window> {
        match (raw.records, &raw.duration) {
            (Some(n), None) => self
                .check(&format!("{at}.records"), at_least_one(n))
                .map(Window::Records),
            (None, Some(d)) => self
                .check(&format!("{at}.duration"), parse_duration(d))
                .map(Window::Duration),
            _ => {
                self.error(at, "expected exactly one of records or duration");
                None
            }
        }
    }

    fn feature(
        &mut self,
        at: &str,
        name: &str,
        raw: &RawFeature,
        baseline: Option<&Baseline>,
    ) -> Option<FeatureOverride> {
        let kind = match baseline.map(|b| column_kind(b, name)) {
            Some(Err(msg)) => {
                self.error(at, msg);
                None
            }
            Some(Ok(kind)) => Some(kind),
            None => None,
        };
        let tests = match &raw.tests {
            None => Some(None),
            Some(tests) => self.tests(at, tests, kind).map(Some),
        };
        let thresholds = self.thresholds(at, raw);
        let bins = match raw.bins {
            None => Some(None),
            Some(n) => self.check(&format!("{at}.bins"), bins(n, kind)).map(Some),
        };
        Some(FeatureOverride {
            tests: tests?,
            thresholds: thresholds?,
            bins: bins?,
        })
    }

    fn tests(&mut self, at: &str, names: &[String], kind: Option<Kind>) -> Option<Vec<TestName>> {
        if names.is_empty() {
            self.error(format!("{at}.tests"), "expected at least one test");
            return None;
        }
        let tests: Vec<Option<TestName>> = (names.iter().enumerate())
            .map(|(j, t)| self.check(&format!("{at}.tests[{j}]"), test_for(t, kind)))
            .collect();
        tests.into_iter().collect()
    }

    fn thresholds(&mut self, at: &str, raw: &RawFeature) -> Option<HashMap<TestName, f64>> {
        let checked: Vec<Option<(TestName, f64)>> = (raw.thresholds.iter())
            .map(|(t, &v)| self.check(&format!("{at}.thresholds.{t}"), threshold(t, v)))
            .collect();
        checked.into_iter().collect()
    }

    fn rule(&mut self, i: usize, raw: &RawRule, known: &Known<'_>) -> Option<RuleConfig> {
        let at = format!("rule[{i}]");
        let baseline = self.rule_model(&at, raw, known);
        let scope = scope(raw.feature.as_deref());
        let when =
            self.rule_condition(&format!("{at}.when"), &scope, raw.when.as_deref(), baseline);
        let resolve_when = match raw.resolve_when.as_deref() {
            None => Some(None),
            Some(text) => self
                .rule_condition(&format!("{at}.resolve_when"), &scope, Some(text), baseline)
                .map(Some),
        };
        let for_windows = self.check(&format!("{at}.for_windows"), at_least_one(raw.for_windows));
        let keep_firing_for_windows = self.check(
            &format!("{at}.keep_firing_for_windows"),
            at_least_zero(raw.keep_firing_for_windows)
                .and_then(|n| u32::try_from(n).map_err(|_| format!("{n} is too large"))),
        );
        let repeat_interval = self.check(
            &format!("{at}.repeat_interval"),
            parse_duration(&raw.repeat_interval),
        );
        let (group_wait, group_interval) = self.grouping(&at, raw, &scope);
        let severity = self.check(&format!("{at}.severity"), severity(&raw.severity));
        self.rule_notifiers(&at, &raw.notify, known);
        Some(RuleConfig {
            name: raw.name.clone(),
            model: raw.model.clone(),
            scope,
            when: when?,
            resolve_when: resolve_when?,
            for_windows: for_windows?,
            keep_firing_for_windows: keep_firing_for_windows?,
            repeat_interval: repeat_interval?,
            group_wait: group_wait?,
            group_interval: group_interval?,
            severity: severity?,
            notify: raw.notify.clone(),
        })
    }

    /// The baseline of the rule's model: `None` when the model is unknown,
    /// `Some(None)` when it is known but its baseline did not load.
    fn rule_model<'k>(
        &mut self,
        at: &str,
        raw: &RawRule,
        known: &Known<'k>,
    ) -> Option<&'k Baseline> {
        match known.models.iter().find(|(n, _)| *n == raw.model) {
            Some((_, b)) => b.as_ref(),
            None => {
                let names: Vec<&str> = known.models.iter().map(|(n, _)| *n).collect();
                self.error(
                    format!("{at}.model"),
                    unknown_name("model", &raw.model, &names),
                );
                None
            }
        }
    }

    /// `when` or `resolve_when` at `path`: as written for a window rule;
    /// about the rule's feature for a feature rule, `drifted` when left out.
    fn rule_condition(
        &mut self,
        path: &str,
        scope: &Scope,
        text: Option<&str>,
        baseline: Option<&Baseline>,
    ) -> Option<Condition> {
        let parsed = match (scope, text) {
            (Scope::Window, None) => Err("a rule over the whole window needs a condition (or set feature = \"*\" for one alert per feature)".to_owned()),
            (Scope::Window, Some(text)) => text.parse::<Condition>().and_then(|c| match c.subject.feature_name() {
                Some(EVERY_FEATURE) => Err(format!("feature {EVERY_FEATURE:?} stands for each feature only in a feature rule: set feature = \"*\" and write the condition without it")),
                _ => Ok(c),
            }),
            (Scope::Feature(selector), text) => {
                Condition::for_feature(text.unwrap_or("drifted"), selector.as_str())
            }
        };
        self.check(path, parsed.and_then(|c| checked_condition(c, baseline)))
    }

    /// `group_wait` and `group_interval`: for feature rules only.
    fn grouping(
        &mut self,
        at: &str,
        raw: &RawRule,
        scope: &Scope,
    ) -> (Option<Duration>, Option<Duration>) {
        let mut read = |key: &str, text: Option<&str>, default: &str| {
            let path = format!("{at}.{key}");
            match (scope, text) {
                (Scope::Window, None) => Some(Duration::ZERO),
                (Scope::Window, Some(_)) => self.check(
                    &path,
                    Err(format!("{key} groups the alerts of a feature rule; this rule has one alert (set feature = \"*\")")),
                ),
                (Scope::Feature(_), text) => self.check(&path, duration_or_zero(text.unwrap_or(default))),
            }
        };
        (
            read(
                "group_wait",
                raw.group_wait.as_deref(),
                defaults::GROUP_WAIT,
            ),
            read(
                "group_interval",
                raw.group_interval.as_deref(),
                defaults::GROUP_INTERVAL,
            ),
        )
    }

    fn rule_notifiers(&mut self, at: &str, notify: &[String], known: &Known<'_>) {
        for (j, name) in notify.iter().enumerate() {
            if !known.notifiers.contains(&name.as_str()) {
                self.error(
                    format!("{at}.notify[{j}]"),
                    unknown_name("notifier", name, &known.notifiers),
                );
            }
        }
    }

    fn notifier(&mut self, i: usize, raw: RawNotifier) -> Option<NotifierConfig> {
        let at = format!("notifier[{i}]");
        let url = self.url(&at, &raw);
        let kind = self.notifier_kind(&at, &raw);
        let retry = self.retry(&at, &raw);
        let min_gap = self.min_gap(&at, &raw);
        let retrain = raw.kind == "retrain";
        if retrain && raw.send_resolved == Some(true) {
            self.error(
                format!("{at}.send_resolved"),
                "a retraining webhook fires on firing alerts only",
            );
        }
        Some(NotifierConfig {
            name: raw.name,
            url: url?,
            kind: kind?,
            send_resolved: raw.send_resolved.unwrap_or(!retrain),
            retry: retry?,
            min_gap: min_gap?,
        })
    }

    fn notifier_kind(&mut self, at: &str, raw: &RawNotifier) -> Option<NotifierKind> {
        let before = self.errors.len();
        let allowed: &[&str] = match raw.kind.as_str() {
            "webhook" => &["body_template", "headers", "signing_secret"],
            "retrain" => &["body_template", "headers", "signing_secret", "min_interval"],
            "alertmanager" => &["resend_interval"],
            "slack" => &[],
            other => {
                let msg = format!(
                    "unknown notifier kind {other:?}: expected slack, webhook, alertmanager or retrain"
                );
                self.error(format!("{at}.kind"), msg);
                return None;
            }
        };
        for key in kind_specific_keys(raw) {
            let family = key
                .strip_suffix("_file")
                .or(key.strip_suffix("_env"))
                .unwrap_or(key);
            if !allowed.contains(&family) {
                let message = format!("a {} notifier takes no {key}", raw.kind);
                self.error(format!("{at}.{key}"), message);
            }
        }
        let kind = match raw.kind.as_str() {
            "webhook" => self.webhook(at, raw).map(NotifierKind::Webhook),
            "retrain" => {
                let webhook = self.webhook(at, raw);
                let min_interval = self.duration(
                    at,
                    "min_interval",
                    raw.min_interval.as_deref(),
                    defaults::RETRAIN_MIN_INTERVAL,
                );
                webhook
                    .zip(min_interval)
                    .map(|(webhook, min_interval)| NotifierKind::Retrain {
                        webhook,
                        min_interval,
                    })
            }
            "alertmanager" => self
                .duration(
                    at,
                    "resend_interval",
                    raw.resend_interval.as_deref(),
                    defaults::ALERTMANAGER_RESEND_INTERVAL,
                )
                .map(|resend_interval| NotifierKind::Alertmanager { resend_interval }),
            _ => Some(NotifierKind::Slack),
        };
        (self.errors.len() == before).then_some(kind).flatten()
    }

    /// A duration key at `at.key`, `default` when left out.
    fn duration(
        &mut self,
        at: &str,
        key: &str,
        text: Option<&str>,
        default: &str,
    ) -> Option<Duration> {
        self.check(
            &format!("{at}.{key}"),
            parse_duration(text.unwrap_or(default)),
        )
    }

    /// A webhook's template, headers and signing secret.
    fn webhook(&mut self, at: &str, raw: &RawNotifier) -> Option<Webhook> {
        let headers = self.headers(at, &raw.headers);
        let body_template = raw.body_template.clone();
        if let Some(Err(e)) = body_template.as_deref().map(crate::notify::Template::parse) {
            // The message starts with the key's name.
            let message = e.to_string();
            let message = message.strip_prefix("body_template: ").unwrap_or(&message);
            self.error(format!("{at}.body_template"), message.to_string());
        }
        let signing_secret = match (&raw.signing_secret_file, &raw.signing_secret_env) {
            (None, None) => Some(None),
            (Some(file), None) => self
                .secret_file(&format!("{at}.signing_secret_file"), file)
                .map(Some),
            (None, Some(var)) => self
                .secret_env(&format!("{at}.signing_secret_env"), var)
                .map(Some),
            (Some(_), Some(_)) => {
                self.error(
                    at,
                    "expected at most one of signing_secret_file or signing_secret_env",
                );
                None
            }
        };
        Some(Webhook {
            body_template,
            headers: headers?,
            signing_secret: signing_secret?,
        })
    }

    /// `retry = { initial, max }`: both positive, initial ≤ max.
    fn retry(&mut self, at: &str, raw: &RawNotifier) -> Option<Retry> {
        let initial = self.check(
            &format!("{at}.retry.initial"),
            parse_duration(&raw.retry.initial),
        );
        let max = self.check(&format!("{at}.retry.max"), parse_duration(&raw.retry.max));
        let (initial, max) = (initial?, max?);
        if initial > max {
            let message = format!(
                "initial ({}) is longer than max ({})",
                raw.retry.initial, raw.retry.max
            );
            self.error(format!("{at}.retry"), message);
            return None;
        }
        Some(Retry { initial, max })
    }

    /// The least gap between two messages from `max_per_second` (Slack: 1
    /// when left out; others: no limit).
    fn min_gap(&mut self, at: &str, raw: &RawNotifier) -> Option<Duration> {
        let default = if raw.kind == "slack" {
            defaults::SLACK_MAX_PER_SECOND
        } else {
            0.0
        };
        match raw.max_per_second.unwrap_or(default) {
            0.0 => Some(Duration::ZERO),
            rate if rate.is_finite() && rate > 0.0 => Some(Duration::from_secs_f64(1.0 / rate)),
            rate => self.check(
                &format!("{at}.max_per_second"),
                Err(format!(
                    "expected a number > 0 (or 0 for no limit), got {rate}"
                )),
            ),
        }
    }

    fn headers(
        &mut self,
        at: &str,
        raw: &BTreeMap<String, Secret>,
    ) -> Option<Vec<(String, Secret)>> {
        let before = self.errors.len();
        for (name, value) in raw {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                self.error(
                    format!("{at}.headers.{name}"),
                    "not a valid HTTP header name",
                );
            }
            if value.expose().contains(['\r', '\n']) {
                self.error(
                    format!("{at}.headers.{name}"),
                    "the value must not contain a line break",
                );
            }
        }
        let headers = raw.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
        (self.errors.len() == before).then_some(headers)
    }

    /// The notifier's URL from exactly one of `url`, `url_env`, `url_file`.
    fn url(&mut self, at: &str, raw: &RawNotifier) -> Option<Secret> {
        let (path, secret) = match (&raw.url, &raw.url_env, &raw.url_file) {
            (Some(url), None, None) => (format!("{at}.url"), Some(url.clone())),
            (None, Some(var), None) => {
                let path = format!("{at}.url_env");
                let secret = self.secret_env(&path, var);
                (path, secret)
            }
            (None, None, Some(file)) => {
                let path = format!("{at}.url_file");
                let secret = self.secret_file(&path, file);
                (path, secret)
            }
            _ => {
                self.error(at, "expected exactly one of url, url_env or url_file");
                return None;
            }
        };
        let secret = secret?;
        self.check(&path, http_url(&secret)).map(|()| secret)
    }

    /// A secret from an environment variable; errors name the variable only.
    fn secret_env(&mut self, path: &str, var: &str) -> Option<Secret> {
        match (self.env)(var) {
            Some(v) if !v.trim().is_empty() => Some(Secret::new(v.trim())),
            Some(_) => self.check(path, Err(format!("environment variable {var} is empty"))),
            None => self.check(path, Err(format!("environment variable {var} is not set"))),
        }
    }

    /// A secret from a file (surrounding whitespace trimmed); errors name
    /// the file only.
    fn secret_file(&mut self, path: &str, file: &Path) -> Option<Secret> {
        let resolved = self.resolve(file);
        let shown = resolved.display();
        let read = match std::fs::read_to_string(&resolved) {
            Ok(t) if !t.trim().is_empty() => Ok(Secret::new(t.trim())),
            Ok(_) => Err(format!("file {shown} is empty")),
            Err(e) => Err(format!("cannot read {shown}: {e}")),
        };
        self.check(path, read)
    }
}

fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse()
        .map_err(|_| format!("expected IP:PORT such as 127.0.0.1:50051, got {text:?}"))
}

/// A count that must be at least 1 and fit `T`.
fn at_least_zero(n: i64) -> Result<usize, String> {
    usize::try_from(n).map_err(|_| format!("expected a whole number ≥ 0, got {n}"))
}

fn at_least_one<T: TryFrom<i64>>(n: i64) -> Result<T, String> {
    if n < 1 {
        return Err(format!("expected a whole number ≥ 1, got {n}"));
    }
    T::try_from(n).map_err(|_| format!("{n} is too large"))
}

fn unknown_fields(text: &str) -> Result<UnknownFields, String> {
    match text {
        "reject" => Ok(UnknownFields::Reject),
        "ignore" => Ok(UnknownFields::Ignore),
        other => Err(format!("expected \"reject\" or \"ignore\", got {other:?}")),
    }
}

fn severity(text: &str) -> Result<Severity, String> {
    [Severity::Info, Severity::Warning, Severity::Critical]
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| format!("expected info, warning or critical, got {text:?}"))
}

fn unknown_name(what: &str, name: &str, known: &[&str]) -> String {
    let known = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    format!("unknown {what} {name:?} (known: {known})")
}

/// The kind of the baseline column `name`.
fn column_kind(baseline: &Baseline, name: &str) -> Result<Kind, String> {
    match baseline.column(name) {
        Some(c) => Ok(c.profile.kind()),
        None => {
            let names: Vec<&str> = baseline.columns.iter().map(|c| c.name.as_str()).collect();
            Err(format!(
                "no feature {name:?} in the baseline (features: {})",
                names.join(", ")
            ))
        }
    }
}

/// The kind of a rule subject's feature: a column, or a text column's
/// descriptor written `column:descriptor` (numeric): a built-in one or a
/// pattern, as the baseline's profile of the column lists them.
fn subject_kind(baseline: &Baseline, name: &str) -> Result<Kind, String> {
    let descriptor = name.split_once(':').filter(|(column, d)| {
        baseline.column(column).is_some_and(|c| match &c.profile {
            Profile::Text(p) => p.descriptors.iter().any(|x| x.name == *d),
            _ => false,
        })
    });
    match descriptor {
        Some(_) => Ok(Kind::Numeric),
        None => column_kind(baseline, name),
    }
}

/// Checks that a quality subject names one of the model's quality metrics
/// (and, for `estimate`, one the model can estimate).
fn quality_subject(c: &Condition, model: &ModelConfig) -> Result<(), String> {
    let Subject::Quality { metric, read } = &c.subject else {
        return Ok(());
    };
    let Some(quality) = &model.quality else {
        return Err(format!(
            "{} reads the model's quality, and model {:?} has no [model.quality] section",
            c.subject, model.name
        ));
    };
    if *read == QualityRead::Estimate {
        if quality.calibration.is_none() || !ESTIMATED.contains(metric) {
            return Err(format!(
                "{}: the label-free estimate covers accuracy, precision, recall and f1 of a binary classifier with `score` and a baseline built with --score (its calibration)",
                c.subject
            ));
        }
        return Ok(());
    }
    if !quality.metrics.contains(metric) {
        let names: Vec<&str> = quality.metrics.iter().map(|m| m.as_str()).collect();
        return Err(format!(
            "{} is not among model {:?}'s quality metrics ({})",
            c.subject,
            model.name,
            names.join(", ")
        ));
    }
    Ok(())
}

/// A test name that applies to a feature of `kind` (when known).
fn test_for(name: &str, kind: Option<Kind>) -> Result<TestName, String> {
    let test: TestName = name.parse()?;
    match kind {
        Some(k) if !test.applies_to(k) => {
            let article = if k == Kind::Embedding { "an" } else { "a" };
            Err(format!(
                "test {test} does not apply to {article} {k} feature"
            ))
        }
        _ => Ok(test),
    }
}

fn threshold(name: &str, value: f64) -> Result<(TestName, f64), String> {
    let test: TestName = name.parse()?;
    let ok = if test.is_p_value() {
        value > 0.0 && value < 1.0
    } else {
        value.is_finite() && value >= 0.0
    };
    match (ok, test.is_p_value()) {
        (true, _) => Ok((test, value)),
        (false, true) => Err(format!(
            "{test} decides by p-value: expected a threshold in (0, 1), got {value}"
        )),
        (false, false) => Err(format!(
            "{test} is a distance: expected a threshold ≥ 0, got {value}"
        )),
    }
}

fn bins(n: i64, kind: Option<Kind>) -> Result<usize, String> {
    if let Some(k @ (Kind::Categorical | Kind::Embedding)) = kind {
        return Err(format!(
            "bins apply to numeric and text features; this one is {k}"
        ));
    }
    match usize::try_from(n) {
        Ok(n) if (2..=1000).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 2 to 1000, got {n}")),
    }
}

/// The kind-specific keys a notifier sets, by name.
fn kind_specific_keys(raw: &RawNotifier) -> Vec<&'static str> {
    let set = [
        ("body_template", raw.body_template.is_some()),
        ("headers", !raw.headers.is_empty()),
        ("signing_secret_file", raw.signing_secret_file.is_some()),
        ("signing_secret_env", raw.signing_secret_env.is_some()),
        ("min_interval", raw.min_interval.is_some()),
        ("resend_interval", raw.resend_interval.is_some()),
    ];
    set.into_iter()
        .filter(|(_, s)| *s)
        .map(|(k, _)| k)
        .collect()
}

/// A rule's scope from its `feature` key.
fn scope(feature: Option<&str>) -> Scope {
    match feature {
        None => Scope::Window,
        Some(EVERY_FEATURE) => Scope::Feature(FeatureSelector::Every),
        Some(name) => Scope::Feature(FeatureSelector::Named(name.to_owned())),
    }
}

/// A duration that may be zero (`"0s"`), such as a group wait.
fn duration_or_zero(text: &str) -> Result<Duration, String> {
    match text.trim_start_matches('0') {
        "" | "s" | "ms" | "m" | "h" | "d" if text.starts_with('0') => Ok(Duration::ZERO),
        _ => parse_duration(text),
    }
}

/// A rule's condition with its number in range for its subject, and its
/// feature and test checked against the model's baseline (when it loaded).
fn checked_condition(c: Condition, baseline: Option<&Baseline>) -> Result<Condition, String> {
    let share = matches!(c.subject, Subject::DriftShare | Subject::PValue { .. });
    if share && !(0.0..=1.0).contains(&c.value) {
        return Err(format!(
            "{} is a share: expected a number in [0, 1], got {}",
            c.subject, c.value
        ));
    }
    if c.subject == Subject::DriftedFeatures && c.value < 0.0 {
        return Err(format!(
            "drifted_features is a count: expected a number ≥ 0, got {}",
            c.value
        ));
    }
    let named = c.subject.feature_name().filter(|f| *f != EVERY_FEATURE);
    if let (Some(feature), Some(b)) = (named, baseline) {
        let kind = subject_kind(b, feature)?;
        if let Some((_, test)) = c.subject.feature() {
            test_for(test.as_str(), Some(kind))?;
        }
    }
    if let Subject::PValue { feature, test } = &c.subject
        && !test.is_p_value()
    {
        return Err(format!(
            "{test} has no p-value (it is a distance): use feature.{feature}.{test}"
        ));
    }
    Ok(c)
}

/// `server.external_url`: an http(s) URL, kept without a trailing slash.
fn external_url(url: &str) -> Result<String, String> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(url.trim_end_matches('/').to_owned()),
        _ => Err(format!("expected an http:// or https:// URL, got {url:?}")),
    }
}

/// HTTP token characters (RFC 9110), the only ones allowed in a header name.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks a URL's scheme without ever putting the URL in the message.
fn http_url(url: &Secret) -> Result<(), String> {
    let u = url.expose();
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(
            "expected an http:// or https:// URL (the value is a secret and is not shown)"
                .to_owned(),
        ),
    }
}
