//! `pmm.v1.Ledger`: append, read, subscribe, verify, stats, import, export.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use pmm::v1::{self, ledger_server::Ledger};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::{blocking, convert, mind, status, Gate};
use crate::chain::{ChainFault, ChainFaultReason};
use crate::engine::{verify_stored_chain, Engine, VerifyFault};
use crate::hub::{self, Item, Start};
use crate::store::writer::{AppendBatch, ImportBatch};
use crate::store::{Direction, PageQuery};

/// Default Read page size.
const DEFAULT_PAGE: usize = 100;
/// Default Export chunk size.
const DEFAULT_CHUNK: usize = 1000;
/// Default heartbeat interval of a subscription.
const DEFAULT_HEARTBEAT_MS: u32 = 5000;

/// The Ledger service.
#[derive(Clone, Debug)]
pub struct LedgerService {
    gate: Arc<Gate>,
}

impl LedgerService {
    pub fn new(gate: Arc<Gate>) -> Self {
        LedgerService { gate }
    }

    fn engine(&self) -> Result<Arc<Engine>, Status> {
        self.gate.engine().cloned()
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn fault_code(reason: &ChainFaultReason) -> v1::ChainFault {
    match reason {
        ChainFaultReason::FirstPrevHashNotNull => v1::ChainFault::FirstPrevHashNotNull,
        ChainFaultReason::PrevHashMismatch => v1::ChainFault::PrevHashMismatch,
        ChainFaultReason::HashMismatch => v1::ChainFault::HashMismatch,
        ChainFaultReason::Unhashable(_) => v1::ChainFault::UnreadableRow,
    }
}

/// VerifyChain's answer for the rows up to `last_id`.
fn verify(engine: &Engine, last_id: i64) -> Result<v1::VerifyChainResponse, Status> {
    let result = verify_stored_chain(&engine.store, last_id).map_err(status::store)?;
    let as_of_id = last_id.max(0) as u64;
    let (first_bad_id, fault, reason) = match result.fault {
        None => (None, v1::ChainFault::Unspecified, String::new()),
        Some((id, fault)) => {
            let (code, reason) = match fault {
                VerifyFault::HashMissing => (
                    v1::ChainFault::HashMissing,
                    format!("row {id}: stored hash is NULL"),
                ),
                VerifyFault::Unreadable(reason) => (v1::ChainFault::UnreadableRow, reason),
                VerifyFault::Chain(reason) => {
                    (fault_code(&reason), ChainFault { id, reason }.to_string())
                }
            };
            (Some(id.max(0) as u64), code, reason)
        }
    };
    Ok(v1::VerifyChainResponse {
        ok: first_bad_id.is_none(),
        first_bad_id,
        fault: fault as i32,
        reason,
        checked: result.checked,
        as_of_id,
    })
}

#[tonic::async_trait]
impl Ledger for LedgerService {
    async fn append(
        &self,
        request: Request<v1::AppendRequest>,
    ) -> Result<Response<v1::AppendResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let events = convert::new_events(req.events, &engine.config)?;
        let expected_last_id = req
            .expected_last_id
            .map(|id| convert::id("expected_last_id", id))
            .transpose()?;
        let views = req.views;
        if let Some(v) = &views {
            if v.context.as_ref().is_some_and(|c| c.as_of_id.is_some()) {
                return Err(status::invalid(
                    "views.context.as_of_id",
                    "must be unset (views are as of this write)",
                ));
            }
            if v.metrics.as_ref().is_some_and(|m| m.as_of_id.is_some()) {
                return Err(status::invalid(
                    "views.metrics.as_of_id",
                    "must be unset (views are as of this write)",
                ));
            }
        }
        let context_params = match views.as_ref().and_then(|v| v.context.as_ref()) {
            Some(c) => Some((
                convert::context_params(c, crate::rules::context::MAX_REFLECTIONS)?,
                c.tail,
            )),
            None => None,
        };
        let outcome = engine
            .writer
            .append(AppendBatch {
                events,
                expected_last_id,
                want_snapshot: views.is_some(),
            })
            .await
            .map_err(status::write)?;
        let views = match (views, outcome.snapshot.as_ref()) {
            (Some(v), Some(snapshot)) => Some(v1::AppendViews {
                context: match context_params {
                    Some((params, tail)) => {
                        Some(mind::context_of(&engine, snapshot, &params, tail)?)
                    }
                    None => None,
                },
                metrics: match v.metrics {
                    Some(m) => Some(convert::metrics(snapshot, m.include_diagnosis)?),
                    None => None,
                },
            }),
            _ => None,
        };
        Ok(Response::new(v1::AppendResponse {
            events: outcome
                .events
                .iter()
                .map(|e| v1::AppendedEvent {
                    id: e.row.id.max(0) as u64,
                    ts: e.row.ts.clone(),
                    hash: e.row.hash.clone().unwrap_or_default(),
                    prev_hash: e.row.prev_hash.clone(),
                    deduplicated: e.deduplicated,
                })
                .collect(),
            head: Some(convert::head(&outcome.head)),
            views,
        }))
    }

    async fn read(
        &self,
        request: Request<v1::ReadRequest>,
    ) -> Result<Response<v1::ReadResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let direction = match v1::ReadDirection::try_from(req.direction) {
            Ok(v1::ReadDirection::Unspecified | v1::ReadDirection::Forward) => Direction::Forward,
            Ok(v1::ReadDirection::Backward) => Direction::Backward,
            Err(_) => {
                return Err(status::invalid(
                    "direction",
                    format!("unknown direction {}", req.direction),
                ))
            }
        };
        let start = match req.start_id {
            Some(0) => return Err(status::invalid("start_id", "must be >= 1 (ids start at 1)")),
            Some(id) => convert::id("start_id", id)?,
            None if direction == Direction::Forward => i64::MIN,
            None => i64::MAX,
        };
        let end = req.end_id.map(|id| convert::id("end_id", id)).transpose()?;
        if let (Some(s), Some(e)) = (req.start_id, end) {
            let bad = match direction {
                Direction::Forward => e < s as i64,
                Direction::Backward => e > s as i64,
            };
            if bad {
                return Err(status::invalid(
                    "end_id",
                    format!("{e} is on the wrong side of start_id {s} for this direction"),
                ));
            }
        }
        let kinds = convert::kinds("kinds", req.kinds)?;
        let limit = match req.limit as usize {
            0 => DEFAULT_PAGE,
            n => n.min(engine.config.max_page_size),
        };
        let as_of_id = engine.mind.snapshot().head.last_id;
        let store = engine.store.clone();
        let rows = blocking(move || {
            store
                .page(&PageQuery {
                    start,
                    end,
                    direction,
                    kinds: &kinds,
                    limit,
                })
                .map_err(status::store)
        })
        .await?;
        let next_start_id = (rows.len() == limit)
            .then(|| {
                rows.last().map(|r| match direction {
                    Direction::Forward => r.id + 1,
                    Direction::Backward => r.id - 1,
                })
            })
            .flatten()
            .filter(|id| *id >= 1)
            .map(|id| id as u64);
        Ok(Response::new(v1::ReadResponse {
            events: rows.iter().map(convert::event).collect(),
            next_start_id,
            as_of_id: as_of_id.max(0) as u64,
        }))
    }

    async fn get_event(
        &self,
        request: Request<v1::GetEventRequest>,
    ) -> Result<Response<v1::GetEventResponse>, Status> {
        let engine = self.engine()?;
        let id = request.into_inner().id;
        if id == 0 {
            return Err(status::invalid("id", "must be >= 1 (ids start at 1)"));
        }
        let id = convert::id("id", id)?;
        let store = engine.store.clone();
        let row = blocking(move || store.get(id).map_err(status::store)).await?;
        match row {
            Some(row) => Ok(Response::new(v1::GetEventResponse {
                event: Some(convert::event(&row)),
            })),
            None => Err(Status::not_found(format!(
                "no event with id {id} (the ledger's last id is {})",
                engine.mind.snapshot().head.last_id
            ))),
        }
    }

    async fn head(
        &self,
        _request: Request<v1::HeadRequest>,
    ) -> Result<Response<v1::LedgerHead>, Status> {
        let engine = self.engine()?;
        Ok(Response::new(convert::head(&engine.mind.snapshot().head)))
    }

    type SubscribeStream = BoxStream<v1::SubscribeResponse>;

    async fn subscribe(
        &self,
        request: Request<v1::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        use v1::subscribe_request::Start as WireStart;
        let start = match req.start {
            None
            | Some(WireStart::FromStart(_))
            | Some(WireStart::OnlyNew(false))
            | Some(WireStart::AfterId(0)) => Start::FromStart,
            Some(WireStart::OnlyNew(true)) => Start::OnlyNew,
            Some(WireStart::AfterId(id)) => Start::After(convert::id("after_id", id)?),
        };
        let heartbeat = match req.heartbeat_ms.unwrap_or(DEFAULT_HEARTBEAT_MS) {
            0 => None,
            ms => Some(Duration::from_millis(u64::from(ms.clamp(100, 3_600_000)))),
        };
        let spec = hub::Spec {
            start,
            kinds: convert::kinds("kinds", req.kinds)?,
            heartbeat,
        };
        let rx = engine
            .hub
            .subscribe(spec, engine.store.clone(), Arc::clone(&engine.mind))
            .map_err(status::hub)?;
        use v1::subscribe_response::Item as WireItem;
        let stream = ReceiverStream::new(rx).map(|item| {
            let item = match item.map_err(status::hub)? {
                Item::Event(row) => WireItem::Event(convert::event(&row)),
                Item::CaughtUp { position, head } => WireItem::CaughtUp(v1::CaughtUp {
                    position: position.max(0) as u64,
                    head: Some(convert::head(&head)),
                }),
                Item::Heartbeat { position, head } => WireItem::Heartbeat(v1::Heartbeat {
                    position: position.max(0) as u64,
                    head: Some(convert::head(&head)),
                }),
            };
            Ok(v1::SubscribeResponse { item: Some(item) })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn verify_chain(
        &self,
        _request: Request<v1::VerifyChainRequest>,
    ) -> Result<Response<v1::VerifyChainResponse>, Status> {
        let engine = self.engine()?;
        let last_id = engine.mind.snapshot().head.last_id;
        let result = blocking(move || verify(&engine, last_id)).await?;
        Ok(Response::new(result))
    }

    async fn stats(
        &self,
        _request: Request<v1::StatsRequest>,
    ) -> Result<Response<v1::StatsResponse>, Status> {
        let engine = self.engine()?;
        let snapshot = engine.mind.snapshot();
        let store = engine.store.clone();
        let (counts, (db_bytes, wal_bytes)) = blocking(move || {
            let counts = store.counts_by_kind().map_err(status::store)?;
            Ok((counts, store.file_sizes()))
        })
        .await?;
        let c = &engine.caches;
        let caches = vec![
            cache_stats("embeddings", &c.embeddings),
            cache_stats("event_vectors", &c.event_vectors),
            cache_stats("history", &c.history),
            cache_stats("contexts", &c.contexts),
            cache_stats("projections", &c.projections),
        ];
        let cfg = &engine.config;
        Ok(Response::new(v1::StatsResponse {
            as_of_id: snapshot.head.last_id.max(0) as u64,
            event_count: snapshot.head.count,
            events_by_kind: counts.into_iter().collect(),
            caches,
            rebuild_micros: engine.rebuild.duration.as_micros() as u64,
            rebuild_events: engine.rebuild.events,
            subscribers: engine.hub.subscriber_count() as u32,
            db_bytes,
            wal_bytes,
            uptime_seconds: engine.started.elapsed().as_secs(),
            appended_events: engine.writer.stats.appended_events.load(Ordering::Relaxed),
            commits: engine.writer.stats.commits.load(Ordering::Relaxed),
            durability: match cfg.durability {
                crate::config::DurabilityArg::Normal => v1::Durability::Normal as i32,
                crate::config::DurabilityArg::Full => v1::Durability::Full as i32,
            },
            limits: Some(v1::Limits {
                max_event_bytes: cfg.max_event_bytes as u64,
                max_batch_events: cfg.max_batch_events as u32,
                max_message_bytes: cfg.max_message_bytes as u64,
                max_page_size: cfg.max_page_size as u32,
                max_subscribers: cfg.max_subscribers as u32,
                max_search_top_k: cfg.max_search_top_k as u32,
                max_n_reflections: crate::rules::context::MAX_REFLECTIONS as u32,
            }),
            server_version: env!("CARGO_PKG_VERSION").to_string(),
        }))
    }

    async fn import(
        &self,
        request: Request<v1::ImportRequest>,
    ) -> Result<Response<v1::ImportResponse>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let verify = match v1::ImportMode::try_from(req.mode) {
            Ok(v1::ImportMode::Unspecified | v1::ImportMode::Verify) => true,
            Ok(v1::ImportMode::Verbatim) => false,
            Err(_) => {
                return Err(status::invalid(
                    "mode",
                    format!("unknown mode {}", req.mode),
                ))
            }
        };
        let rows = convert::import_rows(req.rows, verify, &engine.config)?;
        let outcome = engine
            .writer
            .import(ImportBatch { rows, verify })
            .await
            .map_err(status::write)?;
        Ok(Response::new(v1::ImportResponse {
            imported: outcome.imported,
            skipped: outcome.skipped,
            head: Some(convert::head(&outcome.head)),
        }))
    }

    type ExportStream = BoxStream<v1::ExportResponse>;

    async fn export(
        &self,
        request: Request<v1::ExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        let engine = self.engine()?;
        let req = request.into_inner();
        let start = match req.start_id {
            Some(0) => return Err(status::invalid("start_id", "must be >= 1 (ids start at 1)")),
            Some(id) => convert::id("start_id", id)?,
            None => i64::MIN,
        };
        let end = match req.end_id {
            Some(id) => convert::id("end_id", id)?,
            None => engine.mind.snapshot().head.last_id,
        };
        if req.start_id.is_some() && end < start {
            return Err(status::invalid(
                "end_id",
                format!("{end} is before start_id {start}"),
            ));
        }
        let chunk = match req.chunk_size as usize {
            0 => DEFAULT_CHUNK,
            n => n.min(engine.config.max_page_size),
        };
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut next = start;
            loop {
                let store = engine.store.clone();
                let from = next;
                let page = blocking(move || {
                    store
                        .page(&PageQuery {
                            start: from,
                            end: Some(end),
                            direction: Direction::Forward,
                            kinds: &[],
                            limit: chunk,
                        })
                        .map_err(status::store)
                })
                .await;
                let rows = match page {
                    Ok(rows) => rows,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                let (full, last) = (rows.len() == chunk, rows.last().map(|r| r.id));
                if !rows.is_empty() {
                    let msg = v1::ExportResponse {
                        rows: rows.iter().map(convert::event).collect(),
                    };
                    if tx.send(Ok(msg)).await.is_err() {
                        return;
                    }
                }
                match last {
                    Some(id) if full && id < end => next = id + 1,
                    _ => return,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

fn cache_stats<K, V>(name: &str, cache: &quick_cache::sync::Cache<K, V>) -> v1::CacheStats
where
    K: Eq + std::hash::Hash + Clone,
    V: Clone,
{
    let (hits, misses) = (cache.hits(), cache.misses());
    let total = hits + misses;
    v1::CacheStats {
        name: name.to_string(),
        hits,
        misses,
        hit_rate: if total == 0 {
            0.0
        } else {
            hits as f64 / total as f64
        },
        entries: cache.len() as u64,
        capacity: cache.capacity(),
    }
}
