//! `pmm.v1.Mind`: the derived views, served from the published snapshot
//! (no SQLite, no rescans), plus embeddings and search.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use pmm::v1::{self, mind_server::Mind};
use tonic::{Request, Response, Status};

use super::{blocking, convert, status, Gate};
use crate::engine::Engine;
use crate::mind::Snapshot;
use crate::rules::embedding::{cosine, digest};
use crate::rules::ContextParams;
use crate::store::{Row, StoreError};

/// Default number of search hits.
const DEFAULT_TOP_K: usize = 10;
/// Code points of content shown in a search hit.
const EXCERPT_CHARS: usize = 200;

/// The Mind service.
#[derive(Clone, Debug)]
pub struct MindService {
    gate: Arc<Gate>,
}

impl MindService {
    pub fn new(gate: Arc<Gate>) -> Self {
        MindService { gate }
    }

    fn engine(&self) -> Result<Arc<Engine>, Status> {
        self.gate.engine().cloned()
    }
}

fn as_of(field: &str, value: Option<u64>) -> Result<Option<i64>, Status> {
    value.map(|v| convert::id(field, v)).transpose()
}

/// The snapshot a read asks for: current, or as of a past id (replayed off
/// the async runtime and cached).
async fn snapshot(engine: &Arc<Engine>, as_of_id: Option<i64>) -> Result<Arc<Snapshot>, Status> {
    match as_of_id {
        None => Ok(engine.mind.snapshot()),
        Some(id) => {
            let engine = Arc::clone(engine);
            blocking(move || engine.snapshot_as_of(Some(id)).map_err(status::as_of)).await
        }
    }
}

/// A context block from a snapshot, cached by head and parameters: an
/// interaction asks for the same block several times per head, and a tail
/// block costs a replay of the tail window.
pub fn context_of(
    engine: &Engine,
    snapshot: &Snapshot,
    params: &ContextParams,
    tail: Option<u64>,
) -> Result<v1::GetContextResponse, Status> {
    let tail = match tail {
        None => None,
        Some(0) => {
            return Err(status::invalid(
                "tail",
                "must be >= 1 (unset = the whole ledger)",
            ))
        }
        Some(n) => {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n > engine.config.max_tail {
                return Err(status::invalid(
                    "tail",
                    format!(
                        "{n} rows is above the window of {} rows kept (--max-tail)",
                        engine.config.max_tail
                    ),
                ));
            }
            Some(n)
        }
    };
    let key = (snapshot.as_of_id(), *params, tail);
    let text = engine.caches.contexts.get_or_insert_with(&key, || {
        snapshot
            .state
            .context(params, tail)
            .map(Arc::new)
            .map_err(status::context)
    })?;
    Ok(v1::GetContextResponse {
        text: (*text).clone(),
        as_of_id: snapshot.as_of_id().max(0) as u64,
    })
}

/// A search candidate, ordered by score then by id (newer wins ties).
struct Hit {
    score: f64,
    row: Row,
}

impl PartialEq for Hit {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hit {
    /// Reversed, so the heap's top is the weakest hit kept.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other
            .score
            .total_cmp(&self.score)
            .then_with(|| other.row.id.cmp(&self.row.id))
    }
}

fn excerpt(content: &str) -> String {
    match content.char_indices().nth(EXCERPT_CHARS) {
        Some((i, _)) => format!("{}…", &content[..i]),
        None => content.to_string(),
    }
}

/// Scans every row up to `last_id` and keeps the `top_k` most similar.
fn search(
    engine: &Engine,
    query: &str,
    top_k: usize,
    kinds: &[String],
    last_id: i64,
) -> Result<(Vec<Hit>, u64), StoreError> {
    let q = engine.embed(query);
    let mut heap: BinaryHeap<Hit> = BinaryHeap::with_capacity(top_k + 1);
    let mut scanned = 0u64;
    engine.store.for_each(i64::MIN, last_id, |row: Row| {
        if row.content.is_empty() || !(kinds.is_empty() || kinds.contains(&row.kind)) {
            return Ok::<(), StoreError>(());
        }
        scanned += 1;
        let v = match engine.caches.event_vectors.get(&row.id) {
            Some(v) => v,
            None => {
                let v = engine.embed_uncached(&row.content);
                engine.caches.event_vectors.insert(row.id, Arc::clone(&v));
                v
            }
        };
        heap.push(Hit {
            score: cosine(&q[..], &v[..]),
            row,
        });
        if heap.len() > top_k {
            heap.pop();
        }
        Ok(())
    })?;
    let mut hits = heap.into_vec();
    hits.sort();
    Ok((hits, scanned))
}

#[tonic::async_trait]
impl Mind for MindService {
    async fn get_projection(
        &self,
        request: Request<v1::GetProjectionRequest>,
    ) -> Result<Response<v1::GetProjectionResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let s = snapshot(&engine, as_of("as_of_id", req.as_of_id)?).await?;
        let page = convert::projection_page(&req, &engine.config);
        let key = (s.as_of_id(), req.strict, page);
        let response = engine.caches.projections.get_or_insert_with(&key, || {
            let (projection, strict_error) = if req.strict {
                (&s.state.strict, s.state.strict.strict_error())
            } else {
                (&s.state.whole.projection, None)
            };
            let failed = strict_error.is_some();
            Ok::<_, Status>(Arc::new(v1::GetProjectionResponse {
                self_model: (!failed).then(|| convert::self_model(projection, &page)),
                warnings: convert::warnings(projection, &page),
                strict: req.strict,
                strict_error,
                as_of_id: s.as_of_id().max(0) as u64,
                expired_total: if failed {
                    0
                } else {
                    projection.expired_count() as u64
                },
                warnings_total: projection.warnings().len() as u64,
            }))
        })?;
        Ok(Response::new((*response).clone()))
    }

    async fn get_identity(
        &self,
        request: Request<v1::GetIdentityRequest>,
    ) -> Result<Response<v1::GetIdentityResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let s = snapshot(&engine, as_of("as_of_id", req.as_of_id)?).await?;
        Ok(Response::new(v1::GetIdentityResponse {
            identity: Some(convert::identity(&s.state.whole.projection)),
            as_of_id: s.as_of_id().max(0) as u64,
        }))
    }

    async fn get_directives(
        &self,
        request: Request<v1::GetDirectivesRequest>,
    ) -> Result<Response<v1::GetDirectivesResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let s = snapshot(&engine, as_of("as_of_id", req.as_of_id)?).await?;
        Ok(Response::new(convert::directives(&s, req.active_only)))
    }

    async fn get_metrics(
        &self,
        request: Request<v1::GetMetricsRequest>,
    ) -> Result<Response<v1::GetMetricsResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let s = snapshot(&engine, as_of("as_of_id", req.as_of_id)?).await?;
        Ok(Response::new(convert::metrics(&s, req.include_diagnosis)?))
    }

    async fn get_context(
        &self,
        request: Request<v1::GetContextRequest>,
    ) -> Result<Response<v1::GetContextResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let params = convert::context_params(&req, crate::rules::context::MAX_REFLECTIONS)?;
        let s = snapshot(&engine, as_of("as_of_id", req.as_of_id)?).await?;
        Ok(Response::new(context_of(&engine, &s, &params, req.tail)?))
    }

    async fn embed(
        &self,
        request: Request<v1::EmbedRequest>,
    ) -> Result<Response<v1::EmbedResponse>, Status> {
        let engine = self.engine()?;
        let text = request.into_inner().text;
        if text.len() > engine.config.max_event_bytes {
            return Err(status::invalid(
                "text",
                format!(
                    "{} bytes exceeds max_event_bytes {}",
                    text.len(),
                    engine.config.max_event_bytes
                ),
            ));
        }
        let vector = engine.embed(&text);
        Ok(Response::new(v1::EmbedResponse {
            digest: digest(&vector[..]),
            vector: vector.to_vec(),
        }))
    }

    async fn search(
        &self,
        request: Request<v1::SearchRequest>,
    ) -> Result<Response<v1::SearchResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        if req.query.len() > engine.config.max_event_bytes {
            return Err(status::invalid(
                "query",
                format!(
                    "{} bytes exceeds max_event_bytes {}",
                    req.query.len(),
                    engine.config.max_event_bytes
                ),
            ));
        }
        let top_k = match req.top_k as usize {
            0 => DEFAULT_TOP_K,
            k if k > engine.config.max_search_top_k => {
                return Err(status::invalid(
                    "top_k",
                    format!(
                        "{k} is above the maximum of {}",
                        engine.config.max_search_top_k
                    ),
                ))
            }
            k => k,
        };
        let kinds = convert::kinds("kinds", req.kinds)?;
        let last_id = engine.mind.snapshot().head.last_id;
        let query = req.query;
        let (hits, scanned) = blocking(move || {
            search(&engine, &query, top_k, &kinds, last_id).map_err(status::store)
        })
        .await?;
        Ok(Response::new(v1::SearchResponse {
            hits: hits
                .into_iter()
                .map(|h| v1::SearchHit {
                    event_id: h.row.id.max(0) as u64,
                    kind: h.row.kind,
                    score: h.score,
                    excerpt: excerpt(&h.row.content),
                    ts: h.row.ts,
                })
                .collect(),
            scanned,
            as_of_id: last_id.max(0) as u64,
        }))
    }
}
