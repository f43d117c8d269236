//! A model's delayed labels (`SendOutcomes`): each outcome is checked, then
//! joined to its record through the model's quality tracker, and windows
//! whose labels are in are queued for evaluation beside the closed drift
//! windows. An outcome for an unknown, expired or already labelled id is
//! counted, never an error: labels routinely outlive their records'
//! sampling. A malformed outcome is rejected alone, naming its field.

use super::{Closed, ModelPipeline};
use crate::ingest::MAX_RECORDS;
use crate::ingest::extract::label_value;
use crate::ingest::validate::MAX_REJECTIONS_LISTED;
use crate::proto::v1::{Rejection, SendOutcomesRequest, SendResponse};
use crate::quality::{Label, OUTCOME_RESULTS};
use tokio::sync::mpsc::error::TrySendError;

/// Why an outcome without an id is rejected.
const EMPTY_ID: &str = "is empty: an outcome is joined to the record with the same id";

/// Why a `SendOutcomes` call was refused whole.
#[derive(Debug, thiserror::Error)]
pub enum OutcomesError {
    #[error(
        "model {model:?} has no [model.quality] section, so its outcomes have nothing to join: configure one; nothing of this call was kept"
    )]
    NoQuality { model: String },
    #[error("the request carries no outcomes")]
    Empty,
    #[error(
        "the request carries {got} outcomes, more than the {max} one request may carry: split it"
    )]
    TooLarge { got: usize, max: usize },
    #[error("model {model:?}: driftwatch is shutting down and accepts no more outcomes")]
    ShuttingDown { model: String },
}

impl ModelPipeline {
    /// Joins a batch of outcomes; the response counts the outcomes taken
    /// (joined or counted as late, duplicate or unknown) and lists the
    /// rejected ones.
    pub fn outcomes(&self, request: &SendOutcomesRequest) -> Result<SendResponse, OutcomesError> {
        let (Some(quality), Some(config)) = (&self.quality, &self.config.quality) else {
            return Err(OutcomesError::NoQuality {
                model: self.name.clone(),
            });
        };
        match request.outcomes.len() {
            0 => return Err(OutcomesError::Empty),
            n if n > MAX_RECORDS => {
                return Err(OutcomesError::TooLarge {
                    got: n,
                    max: MAX_RECORDS,
                });
            }
            _ => {}
        }
        if self.stopped() {
            return Err(OutcomesError::ShuttingDown {
                model: self.name.clone(),
            });
        }
        let mut response = SendResponse::default();
        let mut results = [0u64; OUTCOME_RESULTS.len()];
        {
            let mut tracker = quality.lock().expect("no panic while holding quality");
            for (i, outcome) in request.outcomes.iter().enumerate() {
                let label = Label {
                    truth: outcome.labels.get(&config.label).and_then(label_value),
                    feedback: (config.feedback.as_ref())
                        .and_then(|key| outcome.labels.get(key))
                        .and_then(label_value),
                };
                let checked = match outcome.id.is_empty() {
                    true => Err(("id".to_owned(), EMPTY_ID.to_owned())),
                    false => tracker.label(label).map_err(|e| {
                        let field = match e.key.is_empty() {
                            true => "labels".to_owned(),
                            false => format!("labels.{}", e.key),
                        };
                        (field, e.reason)
                    }),
                };
                match checked {
                    Ok(checked) => {
                        results[tracker.join(&outcome.id, checked).index()] += 1;
                        response.accepted += 1;
                    }
                    Err((field, reason)) => {
                        results[OUTCOME_RESULTS.len() - 1] += 1;
                        response.rejected += 1;
                        if response.rejections.len() < MAX_REJECTIONS_LISTED {
                            response.rejections.push(Rejection {
                                record: i as u32,
                                field,
                                reason,
                                batch: 0,
                            });
                        }
                    }
                }
            }
        }
        for (result, n) in OUTCOME_RESULTS.iter().zip(results) {
            (self.metrics.outcomes_total)
                .with_label_values(&[self.name.as_str(), result])
                .inc_by(n);
        }
        self.queue_labelled();
        Ok(response)
    }

    /// Moves the windows whose labels are in to the evaluation queue, while
    /// it has room; the others wait in the tracker for a later call.
    pub(super) fn queue_labelled(&self) {
        let Some(quality) = &self.quality else {
            return;
        };
        loop {
            let next = quality
                .lock()
                .expect("no panic while holding quality")
                .next_ready();
            let Some(window) = next else {
                break;
            };
            let sent = {
                let open = self.open.lock().expect("no panic while holding the window");
                match &open.queue {
                    Some(queue) => queue.try_send(Closed::Labelled(window)),
                    None => Err(TrySendError::Closed(Closed::Labelled(window))),
                }
            };
            if let Err(
                TrySendError::Full(Closed::Labelled(window))
                | TrySendError::Closed(Closed::Labelled(window)),
            ) = sent
            {
                quality
                    .lock()
                    .expect("no panic while holding quality")
                    .put_back(window);
                break;
            }
        }
        self.gauge_labels();
    }

    fn stopped(&self) -> bool {
        let open = self.open.lock().expect("no panic while holding the window");
        open.queue.is_none()
    }
}
