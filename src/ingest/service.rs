//! The tonic `Ingest` service: the network face of ingest. It checks the
//! bearer token, finds the batch's model and hands the batch to the model's
//! pipeline; everything a batch means is decided there. Whole-request
//! problems become gRPC statuses: a bad token UNAUTHENTICATED, an unknown
//! model NOT_FOUND (naming the known ones), a malformed batch
//! INVALID_ARGUMENT, overload RESOURCE_EXHAUSTED, shutdown UNAVAILABLE.
//! `SendOutcomes` (delayed labels) goes to the model's quality: a model
//! without a `[model.quality]` section answers FAILED_PRECONDITION.

use super::validate::Outcome;
use crate::config::Secret;
use crate::pipeline::{IngestError, ModelPipeline, OutcomesError};
use crate::proto::v1::ingest_server::Ingest;
use crate::proto::v1::{SendOutcomesRequest, SendRequest, SendResponse};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::watch;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status, Streaming};

/// The Ingest service of a daemon.
pub struct IngestService {
    models: Arc<BTreeMap<String, Arc<ModelPipeline>>>,
    token: Option<Secret>,
    stopping: watch::Receiver<bool>,
}

impl IngestService {
    /// Serves `models`; with `token`, every call must carry
    /// `authorization: Bearer <token>`. Open streams end when `stopping`
    /// turns true.
    pub fn new(
        models: Arc<BTreeMap<String, Arc<ModelPipeline>>>,
        token: Option<Secret>,
        stopping: watch::Receiver<bool>,
    ) -> IngestService {
        IngestService {
            models,
            token,
            stopping,
        }
    }

    fn authorize(&self, metadata: &MetadataMap) -> Result<(), Status> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let given = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
            Some(given) if same(given.as_bytes(), token.expose().as_bytes()) => Ok(()),
            Some(_) => Err(Status::unauthenticated(
                "the bearer token is not the configured one",
            )),
            None => Err(Status::unauthenticated(
                "missing `authorization: Bearer <token>` metadata: this daemon requires a token",
            )),
        }
    }

    fn model(&self, name: &str) -> Result<&ModelPipeline, Status> {
        let model = self.models.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
            Status::not_found(format!(
                "unknown model {name:?}: this daemon monitors {}",
                known.join(", ")
            ))
        })?;
        Ok(model)
    }

    fn handle(&self, request: &SendRequest) -> Result<Outcome, Status> {
        self.model(&request.model)?
            .ingest(request)
            .map_err(|e| match e {
                IngestError::Request(_) => Status::invalid_argument(e.to_string()),
                IngestError::Overloaded { .. } => Status::resource_exhausted(e.to_string()),
                IngestError::ShuttingDown { .. } => Status::unavailable(e.to_string()),
            })
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

#[tonic::async_trait]
impl Ingest for IngestService {
    async fn send(&self, request: Request<SendRequest>) -> Result<Response<SendResponse>, Status> {
        self.authorize(request.metadata())?;
        let outcome = self.handle(request.get_ref())?;
        Ok(Response::new(outcome.into()))
    }

    async fn send_stream(
        &self,
        request: Request<Streaming<SendRequest>>,
    ) -> Result<Response<SendResponse>, Status> {
        self.authorize(request.metadata())?;
        let mut stream = request.into_inner();
        let mut stopping = self.stopping.clone();
        let mut summary = Outcome::default();
        let mut batch = 0u32;
        loop {
            let message = tokio::select! {
                message = stream.message() => message,
                () = crate::daemon::stopped(&mut stopping) => {
                    return Err(Status::unavailable(format!(
                        "driftwatch is shutting down; {} records of this stream were accepted before it",
                        summary.accepted
                    )));
                }
            };
            let Some(request) = message.map_err(|e| within_stream(e, batch, &summary))? else {
                break;
            };
            let outcome = self
                .handle(&request)
                .map_err(|e| within_stream(e, batch, &summary))?;
            summary.merge(batch, outcome);
            batch += 1;
        }
        Ok(Response::new(summary.into()))
    }

    /// Delayed labels, joined to the model's sampled records.
    async fn send_outcomes(
        &self,
        request: Request<SendOutcomesRequest>,
    ) -> Result<Response<SendResponse>, Status> {
        self.authorize(request.metadata())?;
        let request = request.get_ref();
        let model = self.model(&request.model)?;
        let response = model.outcomes(request).map_err(|e| match e {
            OutcomesError::NoQuality { .. } => Status::failed_precondition(e.to_string()),
            OutcomesError::Empty | OutcomesError::TooLarge { .. } => {
                Status::invalid_argument(e.to_string())
            }
            OutcomesError::ShuttingDown { .. } => Status::unavailable(e.to_string()),
        })?;
        Ok(Response::new(response))
    }
}

/// A status that ends a stream, saying which batch caused it and that the
/// batches before it were kept.
fn within_stream(status: Status, batch: u32, summary: &Outcome) -> Status {
    Status::new(
        status.code(),
        format!(
            "batch {batch} of the stream: {}; the {} records accepted from the batches before it are kept",
            status.message(),
            summary.accepted
        ),
    )
}
