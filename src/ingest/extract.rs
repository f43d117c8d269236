//! What a batch's accepted records give beyond the drift sample, in either
//! wire form: each record's id, prediction and score for quality (see
//! [`crate::quality`]), and the values of every `metrics` key — with a
//! derived `cost` when prices are configured — for the window's
//! operational streams. Runs after validation, on the accepted records
//! only, so a rejected record adds nothing anywhere.

use super::columnar::{ColumnReader, text_at};
use super::validate::Given as Wire;
use crate::config::CostConfig;
use crate::proto::v1::{Record, Section, SendRequest, Value};
use crate::quality::{Given, Observed};

/// The metrics key of the derived cost per record.
pub const COST_KEY: &str = "cost";

/// Which keys to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtractKeys {
    /// Quality's prediction and score keys in `outputs`; `None` when the
    /// model has no quality section.
    pub quality: Option<(String, Option<String>)>,
    pub cost: Option<CostConfig>,
}

/// A batch's extras.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras<'a> {
    /// One per accepted record, in order, when quality is configured.
    pub observed: Vec<Observed<'a>>,
    /// The values of each `metrics` key over the accepted records.
    pub metrics: Vec<(&'a str, Vec<f64>)>,
}

impl<'a> Extras<'a> {
    fn push_metric(&mut self, key: &'a str, x: f64) {
        match self.metrics.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(x),
            None => self.metrics.push((key, vec![x])),
        }
    }

    fn push_cost(&mut self, cost: &CostConfig, tokens: (Option<f64>, Option<f64>)) {
        if tokens.0.is_some() || tokens.1.is_some() {
            let (tin, tout) = (tokens.0.unwrap_or(0.0), tokens.1.unwrap_or(0.0));
            let x = tin * cost.input_per_token + tout * cost.output_per_token;
            self.push_metric(COST_KEY, x);
        }
    }
}

/// The extras of `request`'s records not listed in `rejected_rows`
/// (ascending, as validation lists them).
pub fn extract<'a>(
    keys: &ExtractKeys,
    request: &'a SendRequest,
    rejected_rows: &[u32],
) -> Extras<'a> {
    let mut extras = Extras::default();
    if request.records.is_empty() {
        columnar(keys, request, rejected_rows, &mut extras);
    } else {
        let accepted = (request.records.iter().enumerate())
            .filter(|(i, _)| rejected_rows.binary_search(&(*i as u32)).is_err())
            .map(|(_, r)| r);
        for record in accepted {
            row(keys, record, &mut extras);
        }
    }
    extras
}

fn row<'a>(keys: &ExtractKeys, record: &'a Record, extras: &mut Extras<'a>) {
    if let Some((prediction, score)) = &keys.quality {
        let output = |key: &str| {
            record
                .outputs
                .get(key)
                .and_then(|v| quality_value(Wire::of(v)))
        };
        extras.observed.push(Observed {
            id: &record.id,
            prediction: output(prediction),
            score: score.as_deref().and_then(output).and_then(number),
        });
    }
    for (key, &x) in &record.metrics {
        extras.push_metric(key, x);
    }
    if let Some(cost) = &keys.cost {
        let tokens = |key: &str| record.metrics.get(key).copied();
        extras.push_cost(cost, (tokens(&cost.tokens_in), tokens(&cost.tokens_out)));
    }
}

fn columnar<'a>(
    keys: &ExtractKeys,
    request: &'a SendRequest,
    rejected_rows: &[u32],
    extras: &mut Extras<'a>,
) {
    let rows = request.row_count as usize;
    let reader = |section: Section, name: &str| {
        (request.columns.iter())
            .find(|c| c.section == section as i32 && c.name == name)
            .and_then(|c| ColumnReader::new(c, rows))
    };
    let accepted = || (0..rows).filter(|&r| rejected_rows.binary_search(&(r as u32)).is_err());
    if let Some((prediction, score)) = &keys.quality {
        let prediction = reader(Section::Outputs, prediction);
        let score = score.as_deref().and_then(|s| reader(Section::Outputs, s));
        for r in accepted() {
            extras.observed.push(Observed {
                id: request.ids.as_ref().map_or("", |ids| text_at(ids, r)),
                prediction: prediction.as_ref().and_then(|c| quality_value(c.get(r))),
                score: score
                    .as_ref()
                    .and_then(|c| quality_value(c.get(r)))
                    .and_then(number),
            });
        }
    }
    let metrics = request
        .columns
        .iter()
        .filter(|c| c.section == Section::Metrics as i32);
    for column in metrics {
        let Some(values) = ColumnReader::new(column, rows) else {
            continue;
        };
        for r in accepted() {
            if let Wire::Number(x) = values.get(r) {
                extras.push_metric(&column.name, x);
            }
        }
    }
    if let Some(cost) = &keys.cost {
        let (tin, tout) = (
            reader(Section::Metrics, &cost.tokens_in),
            reader(Section::Metrics, &cost.tokens_out),
        );
        let at = |c: &Option<ColumnReader<'_>>, r| {
            c.as_ref().and_then(|c| number(quality_value(c.get(r))?))
        };
        for r in accepted() {
            extras.push_cost(cost, (at(&tin, r), at(&tout, r)));
        }
    }
}

/// A wire value as quality reads it; `None` for a null, and for an
/// embedding, which is no prediction or label quality compares.
fn quality_value(given: Wire<'_>) -> Option<Given<'_>> {
    match given {
        Wire::Null | Wire::Embedding(_) => None,
        Wire::Number(x) => Some(Given::Number(x)),
        Wire::Category(s) | Wire::Text(s) => Some(Given::Text(s)),
        Wire::Flag(b) => Some(Given::Flag(b)),
    }
}

fn number(given: Given<'_>) -> Option<f64> {
    match given {
        Given::Number(x) => Some(x),
        _ => None,
    }
}

/// A proto `Value` (an outcome's label) as quality reads it.
pub fn label_value(value: &Value) -> Option<Given<'_>> {
    quality_value(Wire::of(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::testing::{number, record, rows, to_columnar};

    fn keys() -> ExtractKeys {
        ExtractKeys {
            quality: Some(("age".into(), None)),
            cost: Some(CostConfig {
                input_per_token: 0.5,
                output_per_token: 2.0,
                tokens_in: "tokens_in".into(),
                tokens_out: "tokens_out".into(),
            }),
        }
    }

    fn records() -> Vec<Record> {
        (0..4)
            .map(|i| {
                let mut r = record(&[], &[("age", number(f64::from(i)))]);
                r.id = format!("r{i}");
                r.metrics.insert("tokens_in".into(), 10.0);
                if i % 2 == 0 {
                    r.metrics.insert("tokens_out".into(), 3.0);
                }
                r
            })
            .collect()
    }

    #[test]
    fn both_forms_give_the_same_extras_of_the_accepted_records() {
        let request = rows(records());
        let row_form = extract(&keys(), &request, &[1]);
        let columnar_request = to_columnar(&request);
        let columnar = extract(&keys(), &columnar_request, &[1]);
        let ids: Vec<&str> = row_form.observed.iter().map(|o| o.id).collect();
        assert_eq!(ids, ["r0", "r2", "r3"]);
        assert_eq!(row_form.observed[1].prediction, Some(Given::Number(2.0)));
        let cost = row_form
            .metrics
            .iter()
            .find(|(k, _)| *k == COST_KEY)
            .unwrap();
        assert_eq!(cost.1, [11.0, 11.0, 5.0]);
        fn sorted(mut e: Extras<'_>) -> Extras<'_> {
            e.metrics.sort_by_key(|(k, _)| *k);
            e
        }
        assert_eq!(sorted(row_form), sorted(columnar));
    }
}
