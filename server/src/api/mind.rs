//! `pmm.v1.Mind`: the derived views, served from the published snapshot
//! (no SQLite, no rescans), plus embeddings and search.

use std::sync::Arc;

use pmm::v1::{self, mind_server};
use tonic::{Request, Response, Status};

use super::admission::{Admission, Work};
use super::error::Error;
use super::gate::{blocking, mind_and_request, Gate};
use super::respond;
use super::validate::{AsOf, ContextQuery, Validate};
use crate::config::Limits;
use crate::ledger::breakdown::CachedContext;
use crate::ledger::handle::Ledger;
use crate::ledger::snapshot::Snapshot;
use crate::ledger::views;
use crate::rules::embedding::digest;

/// The Mind service.
#[derive(Clone, Debug)]
pub struct MindService {
    gate: Arc<Gate>,
    limits: Limits,
    admission: Arc<Admission>,
}

/// A context block of a snapshot, built here (the views of an Append, which
/// has been written already and must not be refused now).
pub async fn context(
    ledger: &Ledger,
    snapshot: &Snapshot,
    query: &ContextQuery,
) -> Result<v1::GetContextResponse, Error> {
    let cached = ledger.context(snapshot, &query.params, query.tail)?;
    context_response(cached, snapshot, query).await
}

/// The answer for a block, with its breakdown when asked: counted off the
/// async runtime the first time (it may load the tokenizer), a lookup in
/// the cached block after that.
async fn context_response(
    cached: Arc<CachedContext>,
    snapshot: &Snapshot,
    query: &ContextQuery,
) -> Result<v1::GetContextResponse, Error> {
    let breakdown = match query.breakdown {
        None => None,
        Some(encoding) => Some(match cached.cached_breakdown(encoding) {
            Some(b) => b,
            None => {
                let cached = Arc::clone(&cached);
                blocking(move || Ok(cached.breakdown(encoding)?)).await?
            }
        }),
    };
    Ok(v1::GetContextResponse {
        text: cached.block.text.clone(),
        as_of_id: snapshot.as_of_id().max(0) as u64,
        breakdown: breakdown.map(|b| respond::breakdown(&b)),
    })
}

impl MindService {
    pub fn new(gate: Arc<Gate>, limits: Limits, admission: Arc<Admission>) -> Self {
        MindService {
            gate,
            limits,
            admission,
        }
    }

    /// The snapshot a read asks for: current or cached, else rebuilt off the
    /// async runtime under admission, stopping if the caller goes away.
    async fn snapshot(&self, ledger: &Arc<Ledger>, as_of: AsOf) -> Result<Arc<Snapshot>, Error> {
        if let Some(snapshot) = ledger.snapshot_at_hand(as_of.0)? {
            return Ok(snapshot);
        }
        let Some(id) = as_of.0 else {
            return Ok(ledger.snapshot());
        };
        let ledger = Arc::clone(ledger);
        self.admission
            .run(Work::Replay, move |cancel| {
                Ok(ledger.rebuild_as_of(id, cancel)?)
            })
            .await
    }

    /// The open mind the call is for and the validated request.
    async fn open<R: Validate>(
        &self,
        request: Request<R>,
    ) -> Result<(Arc<Ledger>, R::Valid), Error> {
        mind_and_request(&self.gate, &self.limits, request, false).await
    }

    async fn serve_projection(
        &self,
        request: Request<v1::GetProjectionRequest>,
    ) -> Result<v1::GetProjectionResponse, Error> {
        let (ledger, q) = self.open(request).await?;
        let s = self.snapshot(&ledger, q.as_of).await?;
        Ok(respond::projection(
            &ledger.projection(&s, q.strict, &q.page),
        ))
    }

    async fn serve_identity(
        &self,
        request: Request<v1::GetIdentityRequest>,
    ) -> Result<v1::GetIdentityResponse, Error> {
        let (ledger, as_of) = self.open(request).await?;
        let s = self.snapshot(&ledger, as_of).await?;
        Ok(v1::GetIdentityResponse {
            identity: Some(respond::identity(&views::identity(
                &s.state.whole.projection,
            ))),
            as_of_id: s.as_of_id().max(0) as u64,
        })
    }

    async fn serve_directives(
        &self,
        request: Request<v1::GetDirectivesRequest>,
    ) -> Result<v1::GetDirectivesResponse, Error> {
        let (ledger, q) = self.open(request).await?;
        let s = self.snapshot(&ledger, q.as_of).await?;
        Ok(respond::directives(&s, q.active_only))
    }

    async fn serve_metrics(
        &self,
        request: Request<v1::GetMetricsRequest>,
    ) -> Result<v1::GetMetricsResponse, Error> {
        let (ledger, q) = self.open(request).await?;
        let s = self.snapshot(&ledger, q.as_of).await?;
        Ok(respond::metrics(&s, q.include_diagnosis)?)
    }

    async fn serve_context(
        &self,
        request: Request<v1::GetContextRequest>,
    ) -> Result<v1::GetContextResponse, Error> {
        let (ledger, q) = self.open(request).await?;
        let s = self.snapshot(&ledger, q.as_of).await?;
        let cached = match ledger.cached_context(&s, &q.params, q.tail) {
            Some(cached) => cached,
            // The whole ledger's block is a few microseconds of formatting.
            None if q.tail.is_none() => ledger.context(&s, &q.params, None)?,
            None => {
                let (ledger, s) = (Arc::clone(&ledger), Arc::clone(&s));
                self.admission
                    .run(Work::TailContext, move |_| {
                        Ok(ledger.context(&s, &q.params, q.tail)?)
                    })
                    .await?
            }
        };
        context_response(cached, &s, &q).await
    }

    /// A history is a replay of the ledger up to `to_id`: admitted as one
    /// (`--max-concurrent-replays`), stopped if its caller goes away.
    async fn serve_metrics_history(
        &self,
        request: Request<v1::GetMetricsHistoryRequest>,
    ) -> Result<v1::GetMetricsHistoryResponse, Error> {
        let (ledger, query) = self.open(request).await?;
        let history = self
            .admission
            .run(Work::Replay, move |cancel| {
                Ok(ledger.metrics_history(&query, cancel)?)
            })
            .await?;
        Ok(respond::metrics_history(&history))
    }

    async fn serve_embed(
        &self,
        request: Request<v1::EmbedRequest>,
    ) -> Result<v1::EmbedResponse, Error> {
        let (ledger, text) = self.open(request).await?;
        let vector = ledger.embed(&text);
        Ok(v1::EmbedResponse {
            digest: digest(&vector[..]),
            vector: vector.to_vec(),
        })
    }

    async fn serve_search(
        &self,
        request: Request<v1::SearchRequest>,
    ) -> Result<v1::SearchResponse, Error> {
        let (ledger, query) = self.open(request).await?;
        let last_id = ledger.head().last_id;
        let result = self
            .admission
            .run(Work::Search, move |cancel| {
                Ok(ledger.search(&query, last_id, cancel)?)
            })
            .await?;
        Ok(respond::search(result, last_id))
    }
}

#[tonic::async_trait]
impl mind_server::Mind for MindService {
    async fn get_projection(
        &self,
        request: Request<v1::GetProjectionRequest>,
    ) -> Result<Response<v1::GetProjectionResponse>, Status> {
        Ok(Response::new(self.serve_projection(request).await?))
    }

    async fn get_identity(
        &self,
        request: Request<v1::GetIdentityRequest>,
    ) -> Result<Response<v1::GetIdentityResponse>, Status> {
        Ok(Response::new(self.serve_identity(request).await?))
    }

    async fn get_directives(
        &self,
        request: Request<v1::GetDirectivesRequest>,
    ) -> Result<Response<v1::GetDirectivesResponse>, Status> {
        Ok(Response::new(self.serve_directives(request).await?))
    }

    async fn get_metrics(
        &self,
        request: Request<v1::GetMetricsRequest>,
    ) -> Result<Response<v1::GetMetricsResponse>, Status> {
        Ok(Response::new(self.serve_metrics(request).await?))
    }

    async fn get_context(
        &self,
        request: Request<v1::GetContextRequest>,
    ) -> Result<Response<v1::GetContextResponse>, Status> {
        Ok(Response::new(self.serve_context(request).await?))
    }

    async fn get_metrics_history(
        &self,
        request: Request<v1::GetMetricsHistoryRequest>,
    ) -> Result<Response<v1::GetMetricsHistoryResponse>, Status> {
        Ok(Response::new(self.serve_metrics_history(request).await?))
    }

    async fn embed(
        &self,
        request: Request<v1::EmbedRequest>,
    ) -> Result<Response<v1::EmbedResponse>, Status> {
        Ok(Response::new(self.serve_embed(request).await?))
    }

    async fn search(
        &self,
        request: Request<v1::SearchRequest>,
    ) -> Result<Response<v1::SearchResponse>, Status> {
        Ok(Response::new(self.serve_search(request).await?))
    }
}
