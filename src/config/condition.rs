//! A rule's `when`: one comparison of a window's report with a number.
//!
//! ```text
//! condition := subject op number
//! subject   := "drift_share"                        share of evaluated features that drifted, 0..1
//!            | "drifted_features"                   how many features drifted
//!            | "feature." name "." test             the test's statistic on that feature
//!            | "feature." name "." test ".p_value"  the test's p-value (p-value tests only)
//!            | "feature." name ".drifted"           1 when its deciding test drifted, else 0
//!            | "metric." quality [ "." read ]         a quality metric of a window's labels
//!            | "metric." key "." stat                 an operational metric's window statistic
//! read      := "drop" | "drop_lower" | "low" | "high" | "degraded" | "estimate"
//! stat      := "count" | "mean" | "total" | "min" | "max" | "p50" | "p95" | "p99"
//! op        := ">=" | ">" | "<=" | "<" | "=="
//! number    := a finite decimal number (`0.5`, `3`, `1e-3`)
//! ```
//!
//! `test` is a test name as in `--tests` (`ks`, `psi`, `wasserstein`, …).
//! Feature names may contain dots: the test is always the last part (before
//! an optional `.p_value`), the name is everything between `feature.` and
//! it. A text feature's descriptor is named `column:descriptor`
//! (`feature.notes:length.ks`), as in the report. Spaces around the
//! operator are optional. Whether the feature exists and the test applies to
//! it is checked against the model's baseline during validation.
//!
//! `quality` is a metric name of the model's `[model.quality]`
//! (`accuracy`, `f1`, `mae`, `rougeL`, `negative_share`, …). Without a
//! read the subject is the metric's value on a window's labels; `drop` is
//! how much worse than the reference it is (reference − value where higher
//! is better, value − reference for errors), `drop_lower` the least drop
//! the confidence interval allows (> 0: worse beyond the noise of the
//! sample, so `metric.accuracy.drop_lower > 0` asks for a significant
//! drop), `low`/`high` the interval's ends, `degraded` 1 when `min`, `max`
//! or `max_drop` is breached, and `estimate` the label-free estimate
//! (accuracy, precision, recall, f1 of binary classifiers with scores).
//! Quality subjects are read only from windows with at least `min_labels`
//! labels. `key` is a key of the records' `metrics` maps (`latency_ms`),
//! or `cost`.
//!
//! A feature rule (`feature = "*"` or a name) writes its `when` without the
//! feature — `psi > 0.2`, `ks.p_value < 0.01`, or `drifted` (its default) —
//! and [`Condition::for_feature`] puts the rule's feature in; `*` stands
//! for each feature in turn.

use crate::detect::TestName;
use crate::quality::Metric;
use crate::window::STREAM_STATS;
use std::fmt;
use std::str::FromStr;

/// A parsed `when`: `subject op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// What is read from the window's report.
    pub subject: Subject,
    /// How it is compared.
    pub op: Op,
    /// What it is compared with.
    pub value: f64,
}

/// A quantity of a window's drift report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Share of evaluated features that drifted.
    DriftShare,
    /// Number of features that drifted.
    DriftedFeatures,
    /// A test's statistic (score or distance) on one feature.
    Statistic { feature: String, test: TestName },
    /// A test's p-value on one feature.
    PValue { feature: String, test: TestName },
    /// 1 when the feature's deciding test drifted, else 0.
    Drifted { feature: String },
    /// A quality metric of a window's labels, read one way.
    Quality { metric: Metric, read: QualityRead },
    /// A statistic (one of [`STREAM_STATS`]) of an operational metric.
    Operational { key: String, stat: &'static str },
}

/// What is read of a quality metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualityRead {
    Value,
    Drop,
    DropLower,
    Low,
    High,
    Degraded,
    Estimate,
}

impl QualityRead {
    const NAMED: [(&'static str, QualityRead); 6] = [
        ("drop", QualityRead::Drop),
        ("drop_lower", QualityRead::DropLower),
        ("low", QualityRead::Low),
        ("high", QualityRead::High),
        ("degraded", QualityRead::Degraded),
        ("estimate", QualityRead::Estimate),
    ];

    fn name(self) -> Option<&'static str> {
        QualityRead::NAMED
            .iter()
            .find(|(_, r)| *r == self)
            .map(|(n, _)| *n)
    }
}

/// The feature name that stands for each feature in a feature rule.
pub const EVERY_FEATURE: &str = "*";

impl Subject {
    /// The feature and test the subject reads, if it reads a test.
    pub fn feature(&self) -> Option<(&str, TestName)> {
        match self {
            Subject::Statistic { feature, test } | Subject::PValue { feature, test } => {
                Some((feature, *test))
            }
            _ => None,
        }
    }

    /// The feature the subject reads, if it reads one.
    pub fn feature_name(&self) -> Option<&str> {
        match self {
            Subject::Statistic { feature, .. }
            | Subject::PValue { feature, .. }
            | Subject::Drifted { feature } => Some(feature),
            _ => None,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
}

impl Op {
    /// Operators by their spelling, two-character ones first so that `>=`
    /// is not read as `>`.
    const SPELLINGS: [(&'static str, Op); 5] = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];

    /// How the operator is written.
    pub fn as_str(self) -> &'static str {
        Op::SPELLINGS
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(s, _)| s)
    }

    /// Whether `observed op threshold` holds.
    pub fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Op::Ge => observed >= threshold,
            Op::Gt => observed > threshold,
            Op::Le => observed <= threshold,
            Op::Lt => observed < threshold,
            Op::Eq => observed == threshold,
        }
    }
}

impl Condition {
    /// Whether the condition holds for an observed value of its subject.
    pub fn holds(&self, observed: f64) -> bool {
        self.op.holds(observed, self.value)
    }
}

impl Condition {
    /// A feature rule's condition, written without its feature (`psi >
    /// 0.2`, `ks.p_value < 0.01`, `drifted`), about `feature` (or `*`).
    pub fn for_feature(text: &str, feature: &str) -> Result<Condition, String> {
        let text = text.trim();
        if text == "drifted" {
            let subject = Subject::Drifted {
                feature: feature.to_owned(),
            };
            return Ok(Condition {
                subject,
                op: Op::Eq,
                value: 1.0,
            });
        }
        if text.starts_with("feature.") || text.starts_with("drift") {
            return Err(format!(
                "a feature rule's condition names a test of its feature ({feature}): \
                 expected \"drifted\", \"TEST OP NUMBER\" or \"TEST.p_value OP NUMBER\", got {text:?}"
            ));
        }
        format!("feature.{feature}.{text}").parse()
    }
}

impl FromStr for Condition {
    type Err = String;

    fn from_str(text: &str) -> Result<Condition, String> {
        let at = text.find(['<', '>', '=']).ok_or_else(|| {
            format!("expected \"SUBJECT OP NUMBER\" with OP one of >= > <= < ==, got {text:?}")
        })?;
        let (op_text, op) = Op::SPELLINGS
            .into_iter()
            .find(|(s, _)| text[at..].starts_with(s))
            .ok_or_else(|| format!("unknown operator in {text:?}: expected >= > <= < =="))?;
        let subject = text[..at].trim().parse()?;
        let number = text[at + op_text.len()..].trim();
        let value = match number.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => return Err(format!("expected a number after {op_text}, got {number:?}")),
        };
        Ok(Condition { subject, op, value })
    }
}

impl FromStr for Subject {
    type Err = String;

    fn from_str(text: &str) -> Result<Subject, String> {
        match text {
            "drift_share" => return Ok(Subject::DriftShare),
            "drifted_features" => return Ok(Subject::DriftedFeatures),
            _ => {}
        }
        if let Some(rest) = text.strip_prefix("metric.") {
            return metric_subject(rest);
        }
        let unknown = || {
            format!(
                "unknown subject {text:?}: expected drift_share, drifted_features, \
                 feature.<name>.<test>, feature.<name>.<test>.p_value, feature.<name>.drifted, \
                 metric.<quality metric>[.<read>] or metric.<key>.<stat>"
            )
        };
        let rest = text.strip_prefix("feature.").ok_or_else(unknown)?;
        if let Some(feature) = rest.strip_suffix(".drifted").filter(|f| !f.is_empty()) {
            let feature = feature.to_owned();
            return Ok(Subject::Drifted { feature });
        }
        let (rest, p_value) = match rest.strip_suffix(".p_value") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let (feature, test) = rest.rsplit_once('.').ok_or_else(unknown)?;
        if feature.is_empty() {
            return Err(unknown());
        }
        let (feature, test) = (feature.to_owned(), test.parse::<TestName>()?);
        Ok(if p_value {
            Subject::PValue { feature, test }
        } else {
            Subject::Statistic { feature, test }
        })
    }
}

/// `metric.…` after its prefix: a quality metric, read one way, or an
/// operational metric's statistic.
fn metric_subject(rest: &str) -> Result<Subject, String> {
    if let Ok(metric) = rest.parse::<Metric>() {
        let read = QualityRead::Value;
        return Ok(Subject::Quality { metric, read });
    }
    let (name, last) = rest.rsplit_once('.').unwrap_or(("", rest));
    if let Some(&(_, read)) = QualityRead::NAMED.iter().find(|(n, _)| *n == last)
        && let Ok(metric) = name.parse::<Metric>()
    {
        return Ok(Subject::Quality { metric, read });
    }
    match STREAM_STATS.iter().find(|&&s| s == last) {
        Some(&stat) if !name.is_empty() => Ok(Subject::Operational {
            key: name.to_owned(),
            stat,
        }),
        _ => Err(format!(
            "unknown subject \"metric.{rest}\": expected metric.<quality metric> (accuracy, f1, mae, …), \
             metric.<quality metric>.<read> with read one of drop, drop_lower, low, high, degraded, estimate, \
             or metric.<key>.<stat> with stat one of {}",
            STREAM_STATS.join(", ")
        )),
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::DriftShare => f.write_str("drift_share"),
            Subject::DriftedFeatures => f.write_str("drifted_features"),
            Subject::Statistic { feature, test } => write!(f, "feature.{feature}.{test}"),
            Subject::PValue { feature, test } => write!(f, "feature.{feature}.{test}.p_value"),
            Subject::Drifted { feature } => write!(f, "feature.{feature}.drifted"),
            Subject::Quality { metric, read } => match read.name() {
                Some(read) => write!(f, "metric.{metric}.{read}"),
                None => write!(f, "metric.{metric}"),
            },
            Subject::Operational { key, stat } => write!(f, "metric.{key}.{stat}"),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.subject, self.op.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Condition {
        s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn dataset_subjects_and_every_operator() {
        let c = parse("drift_share >= 0.5");
        assert_eq!(
            (c.subject, c.op, c.value),
            (Subject::DriftShare, Op::Ge, 0.5)
        );
        assert_eq!(parse("drifted_features>3").op, Op::Gt);
        assert_eq!(parse("drifted_features <= 3").op, Op::Le);
        assert_eq!(parse("drifted_features < 3").op, Op::Lt);
        assert_eq!(parse("drifted_features == 3").op, Op::Eq);
    }

    #[test]
    fn feature_subjects_take_the_test_from_the_end() {
        let c = parse("feature.income.psi > 0.2");
        assert_eq!(
            c.subject,
            Subject::Statistic {
                feature: "income".into(),
                test: TestName::Psi
            }
        );
        let c = parse("feature.a.b.ks.p_value < 0.01");
        assert_eq!(
            c.subject,
            Subject::PValue {
                feature: "a.b".into(),
                test: TestName::Ks
            }
        );
        assert_eq!(c.to_string(), "feature.a.b.ks.p_value < 0.01");
    }

    #[test]
    fn feature_rules_write_conditions_without_the_feature() {
        let c = Condition::for_feature("psi > 0.2", "*").unwrap();
        assert_eq!(c.to_string(), "feature.*.psi > 0.2");
        let c = Condition::for_feature("drifted", "income").unwrap();
        assert_eq!(c.to_string(), "feature.income.drifted == 1");
        assert_eq!(c.to_string().parse::<Condition>().unwrap(), c);
        let c = Condition::for_feature("ks.p_value < 0.01", "*").unwrap();
        assert!(matches!(c.subject, Subject::PValue { .. }));
        let err = Condition::for_feature("drift_share > 0.5", "*").unwrap_err();
        assert!(err.contains("names a test of its feature (*)"), "{err}");
        assert!(Condition::for_feature("feature.a.psi > 1", "*").is_err());
    }

    #[test]
    fn metric_subjects_read_quality_or_operational_metrics() {
        let c = parse("metric.accuracy < 0.8");
        let accuracy = Metric::Accuracy;
        let read = QualityRead::Value;
        assert_eq!(
            c.subject,
            Subject::Quality {
                metric: accuracy,
                read
            }
        );
        let c = parse("metric.accuracy.drop_lower > 0");
        let read = QualityRead::DropLower;
        assert_eq!(
            c.subject,
            Subject::Quality {
                metric: accuracy,
                read
            }
        );
        assert_eq!(c.to_string(), "metric.accuracy.drop_lower > 0");
        let c = parse("metric.latency.ms.p99 > 2000");
        let (key, stat) = ("latency.ms".to_owned(), "p99");
        assert_eq!(c.subject, Subject::Operational { key, stat });
        assert_eq!(c.to_string().parse::<Condition>().unwrap(), c);
        let err = "metric.latency_ms.p98 > 1"
            .parse::<Condition>()
            .unwrap_err();
        assert!(err.contains("count, mean, total"), "{err}");
        assert!("metric.p99 > 1".parse::<Condition>().is_err());
    }

    #[test]
    fn evaluates_the_comparison() {
        assert!(parse("drift_share >= 0.5").holds(0.5));
        assert!(!parse("drift_share > 0.5").holds(0.5));
        assert!(parse("drift_share < 0.5").holds(0.4));
    }

    #[test]
    fn explains_what_is_wrong() {
        let err = |s: &str| s.parse::<Condition>().unwrap_err();
        assert!(err("drift_share").contains("SUBJECT OP NUMBER"));
        assert!(err("drift_share => 1").contains("unknown operator"));
        assert!(err("drift_share >= x").contains("expected a number after >="));
        assert!(err("drift_share >= inf").contains("expected a number"));
        assert!(err("drift >= 1").contains("unknown subject \"drift\""));
        assert!(err("feature.income >= 1").contains("unknown subject"));
        assert!(err("feature.income.kss >= 1").contains("unknown test \"kss\""));
        assert!(err("feature..ks >= 1").contains("unknown subject"));
    }
}
