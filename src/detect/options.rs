//! How to decide drift: the global [`DetectOptions`] (tests, thresholds,
//! correction, minimum sample, dataset share), per-feature
//! [`FeatureOptions`] overrides on top of them, and the resolved
//! [`FeatureView`] each feature's tests read. The offline `report` command
//! fills the global options from its flags; the daemon fills them from a
//! model's configuration (`DetectOptions::from(&ModelConfig)`).

use super::TestName;
use crate::config::ModelConfig;
use crate::stats::correction::Correction;
use std::collections::HashMap;

/// How to decide drift.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectOptions {
    /// Tests to run on every feature they apply to; `None` = the default rule.
    pub tests: Option<Vec<TestName>>,
    /// Threshold overrides per test.
    pub thresholds: HashMap<TestName, f64>,
    /// Overrides by feature (column) name; a text column's apply to all its
    /// descriptors.
    pub features: HashMap<String, FeatureOptions>,
    /// Correction of the deciding p-values across features.
    pub correction: Correction,
    /// Features with fewer current values are "insufficient data".
    pub min_samples: u64,
    /// Share of drifted features at which the dataset is drifted.
    pub drift_share: f64,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            tests: None,
            thresholds: HashMap::new(),
            features: HashMap::new(),
            correction: Correction::None,
            min_samples: 1,
            drift_share: 0.5,
        }
    }
}

/// Overrides for one feature; what is unset falls back to the global
/// options. (The daemon's config calls this `FeatureOverride`.)
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureOptions {
    /// Tests to run instead of the global list or the default rule (those
    /// that do not apply to the feature's kind are skipped).
    pub tests: Option<Vec<TestName>>,
    /// Threshold per test, over the global one.
    pub thresholds: HashMap<TestName, f64>,
    /// Quantile bins of the reference for the binned tests (PSI, and
    /// Jensen–Shannon, KL, Hellinger on numeric values) instead of the
    /// baseline's frozen deciles; categorical features bin by category and
    /// ignore it. The config accepts 2..=1000.
    pub bins: Option<usize>,
}

/// The options one feature's tests run under: its overrides over the
/// global options.
#[derive(Debug, Clone, Copy)]
pub struct FeatureView<'a> {
    global: &'a DetectOptions,
    overrides: Option<&'a FeatureOptions>,
}

impl DetectOptions {
    /// The options of the feature (column) named `name`.
    pub fn feature(&self, name: &str) -> FeatureView<'_> {
        FeatureView {
            global: self,
            overrides: self.features.get(name),
        }
    }
}

impl<'a> FeatureView<'a> {
    /// The tests to run; `None` = the default rule.
    pub fn tests(&self) -> Option<&'a [TestName]> {
        let own = self.overrides.and_then(|o| o.tests.as_deref());
        own.or(self.global.tests.as_deref())
    }

    /// The threshold of `test`: the feature's, else the global one, else
    /// the test's default.
    pub fn threshold(&self, test: TestName) -> f64 {
        let own = self.overrides.and_then(|o| o.thresholds.get(&test));
        own.or_else(|| self.global.thresholds.get(&test))
            .copied()
            .unwrap_or_else(|| test.default_threshold())
    }

    /// The number of bins to re-bin the reference into; `None` = the
    /// baseline's frozen bins.
    pub fn bins(&self) -> Option<usize> {
        self.overrides.and_then(|o| o.bins)
    }
}

/// A model's detection settings from the daemon's config: its minimum
/// sample, correction and feature overrides; tests and thresholds are set
/// per feature only, and the dataset share keeps its default.
impl From<&ModelConfig> for DetectOptions {
    fn from(model: &ModelConfig) -> Self {
        Self {
            features: model.features.clone().into_iter().collect(),
            correction: model.correction,
            min_samples: model.min_samples,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::from_toml;

    fn age_override() -> HashMap<String, FeatureOptions> {
        HashMap::from([(
            "age".to_owned(),
            FeatureOptions {
                tests: Some(vec![TestName::Psi]),
                thresholds: HashMap::from([(TestName::Psi, 0.2)]),
                bins: Some(20),
            },
        )])
    }

    #[test]
    fn a_feature_override_wins_over_the_global_option_and_the_default() {
        let options = DetectOptions {
            thresholds: HashMap::from([(TestName::Psi, 0.3), (TestName::Ks, 0.01)]),
            features: age_override(),
            ..DetectOptions::default()
        };
        let age = options.feature("age");
        assert_eq!(age.tests(), Some(&[TestName::Psi][..]));
        assert_eq!(age.threshold(TestName::Psi), 0.2);
        assert_eq!(age.threshold(TestName::Ks), 0.01);
        assert_eq!(age.threshold(TestName::Wasserstein), 0.1);
        assert_eq!(age.bins(), Some(20));
        let income = options.feature("income");
        assert_eq!(income.tests(), None);
        assert_eq!(income.threshold(TestName::Psi), 0.3);
        assert_eq!(income.bins(), None);
    }

    #[test]
    fn a_model_config_maps_to_its_options() {
        let toml = format!(
            r#"
            version = 1
            [server]
            [[model]]
            name = "loans"
            baseline = "{}/examples/loans/baseline.json"
            window = {{ records = 100 }}
            min_samples = 30
            correction = "bh"
            [model.feature.age]
            tests = ["psi"]
            thresholds = {{ psi = 0.2 }}
            bins = 20
            "#,
            env!("CARGO_MANIFEST_DIR")
        );
        let config = from_toml(&toml, &|_| None, std::path::Path::new("")).unwrap();
        let want = DetectOptions {
            features: age_override(),
            correction: Correction::BenjaminiHochberg,
            min_samples: 30,
            ..DetectOptions::default()
        };
        assert_eq!(DetectOptions::from(&config.models[0]), want);
    }
}
