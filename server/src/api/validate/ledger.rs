//! `pmm.v1.Ledger` requests → domain requests.

use std::collections::HashSet;
use std::time::Duration;

use pmm::v1;

use super::mind::{context_query, ContextQuery};
use super::{
    batch_len, id, invalid, kind, kinds, meta, page_size, row_id, stored_meta, within_event_bytes,
    RequestError, Validate,
};
use crate::chain::PreparedHash;
use crate::config::Limits;
use crate::event::{Event, ParsedMeta};
use crate::ledger::hub::{Spec, Start};
use crate::ledger::sequencer::{AppendBatch, ImportBatch, ImportMode, NewEvent};
use crate::store::{Direction, PageQuery};

/// Longest idempotency key, in bytes.
const MAX_KEY_BYTES: usize = 256;
/// Longest imported `ts`, in bytes.
const MAX_TS_BYTES: usize = 256;
/// Longest imported `hash` or `prev_hash`, in bytes (a hash is 64).
const MAX_HASH_BYTES: usize = 128;
/// Default Read page size.
pub const DEFAULT_PAGE: usize = 100;
/// Default Export chunk size.
pub const DEFAULT_CHUNK: usize = 1000;
/// Default heartbeat interval of a subscription.
const DEFAULT_HEARTBEAT_MS: u32 = 5000;

/// An Append: the batch, and the views wanted as of the write.
#[derive(Debug)]
pub struct AppendCommand {
    pub batch: AppendBatch,
    pub views: Option<ViewsWanted>,
}

/// Derived views to compute as of an Append's write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewsWanted {
    pub context: Option<ContextQuery>,
    /// `Some(include_diagnosis)` when metrics are wanted.
    pub metrics: Option<bool>,
}

impl Validate for v1::AppendRequest {
    type Valid = AppendCommand;

    fn validate(self, limits: &Limits) -> Result<AppendCommand, RequestError> {
        let events = new_events(self.events, limits)?;
        let expected_last_id = self
            .expected_last_id
            .map(|v| id("expected_last_id", v))
            .transpose()?;
        let views = self.views.map(|v| views(v, limits)).transpose()?;
        Ok(AppendCommand {
            batch: AppendBatch {
                events,
                expected_last_id,
                want_snapshot: views.is_some(),
            },
            views,
        })
    }
}

fn views(v: v1::AppendViewsRequest, limits: &Limits) -> Result<ViewsWanted, RequestError> {
    let context = match v.context {
        Some(c) if c.as_of_id.is_some() => {
            return Err(invalid(
                "views.context.as_of_id",
                "must be unset (views are as of this write)",
            ))
        }
        Some(c) => Some(context_query(&c, limits).map_err(|e| e.within("views.context"))?),
        None => None,
    };
    let metrics = match v.metrics {
        Some(m) if m.as_of_id.is_some() => {
            return Err(invalid(
                "views.metrics.as_of_id",
                "must be unset (views are as of this write)",
            ))
        }
        Some(m) => Some(m.include_diagnosis),
        None => None,
    };
    Ok(ViewsWanted { context, metrics })
}

/// The events of an Append, each checked and its hash prepared.
fn new_events(inputs: Vec<v1::EventInput>, limits: &Limits) -> Result<Vec<NewEvent>, RequestError> {
    batch_len("events", inputs.len(), limits)?;
    let mut keys = HashSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        kind(&format!("events[{i}].kind"), &input.kind)?;
        within_event_bytes(
            &format!("events[{i}]"),
            input.kind.len() + input.content.len() + input.meta.len(),
            limits,
        )?;
        let meta_field = format!("events[{i}].meta");
        let (meta_text, meta) = meta(&meta_field, input.meta)?;
        // Hashing what does not depend on the chain here, on the request's
        // own task, keeps it off the single writer.
        let hash = PreparedHash::new(&input.kind, &input.content, &meta)
            .map_err(|e| invalid(&meta_field, e))?;
        let idempotency_key = match input.idempotency_key {
            k if k.is_empty() => None,
            k if k.len() > MAX_KEY_BYTES => {
                return Err(invalid(
                    format!("events[{i}].idempotency_key"),
                    format!("{} bytes, at most {MAX_KEY_BYTES}", k.len()),
                ))
            }
            k => {
                if !keys.insert(k.clone()) {
                    return Err(invalid(
                        format!("events[{i}].idempotency_key"),
                        "repeated within the request",
                    ));
                }
                Some(k)
            }
        };
        out.push(NewEvent {
            kind: input.kind,
            content: input.content,
            meta_text,
            meta,
            hash,
            idempotency_key,
        });
    }
    Ok(out)
}

impl Validate for v1::ReadRequest {
    type Valid = PageQuery;

    fn validate(self, limits: &Limits) -> Result<PageQuery, RequestError> {
        let direction = match v1::ReadDirection::try_from(self.direction) {
            Ok(v1::ReadDirection::Unspecified | v1::ReadDirection::Forward) => Direction::Forward,
            Ok(v1::ReadDirection::Backward) => Direction::Backward,
            Err(_) => {
                return Err(invalid(
                    "direction",
                    format!("unknown direction {}", self.direction),
                ))
            }
        };
        let start = match self.start_id {
            Some(v) => row_id("start_id", v)?,
            None if direction == Direction::Forward => i64::MIN,
            None => i64::MAX,
        };
        let end = self.end_id.map(|v| id("end_id", v)).transpose()?;
        if let (Some(_), Some(e)) = (self.start_id, end) {
            let wrong_side = match direction {
                Direction::Forward => e < start,
                Direction::Backward => e > start,
            };
            if wrong_side {
                return Err(invalid(
                    "end_id",
                    format!("{e} is on the wrong side of start_id {start} for this direction"),
                ));
            }
        }
        Ok(PageQuery {
            start,
            end,
            direction,
            kinds: kinds("kinds", self.kinds)?,
            limit: page_size(self.limit, DEFAULT_PAGE, limits),
            max_bytes: limits.max_page_bytes,
        })
    }
}

impl Validate for v1::GetEventRequest {
    type Valid = i64;

    fn validate(self, _: &Limits) -> Result<i64, RequestError> {
        row_id("id", self.id)
    }
}

impl Validate for v1::SubscribeRequest {
    type Valid = Spec;

    fn validate(self, _: &Limits) -> Result<Spec, RequestError> {
        use v1::subscribe_request::Start as WireStart;
        let start = match self.start {
            None
            | Some(WireStart::FromStart(_))
            | Some(WireStart::OnlyNew(false))
            | Some(WireStart::AfterId(0)) => Start::FromStart,
            Some(WireStart::OnlyNew(true)) => Start::OnlyNew,
            Some(WireStart::AfterId(v)) => Start::After(id("after_id", v)?),
        };
        let heartbeat = match self.heartbeat_ms.unwrap_or(DEFAULT_HEARTBEAT_MS) {
            0 => None,
            ms => Some(Duration::from_millis(u64::from(ms.clamp(100, 3_600_000)))),
        };
        Ok(Spec {
            start,
            kinds: kinds("kinds", self.kinds)?,
            heartbeat,
        })
    }
}

impl Validate for v1::ImportRequest {
    type Valid = ImportBatch;

    /// Ids strictly increasing; in verify mode the links within the request
    /// are checked here, the link to the ledger and the hashes by the
    /// sequencer (against the stored chain).
    fn validate(self, limits: &Limits) -> Result<ImportBatch, RequestError> {
        let mode = match v1::ImportMode::try_from(self.mode) {
            Ok(v1::ImportMode::Unspecified | v1::ImportMode::Verify) => ImportMode::Verify,
            Ok(v1::ImportMode::Verbatim) => ImportMode::Verbatim,
            Err(_) => return Err(invalid("mode", format!("unknown mode {}", self.mode))),
        };
        batch_len("rows", self.rows.len(), limits)?;
        let mut rows: Vec<Event> = Vec::with_capacity(self.rows.len());
        for (i, r) in self.rows.into_iter().enumerate() {
            let field = format!("rows[{i}]");
            let row_id = row_id(&format!("{field}.id"), r.id)?;
            if let Some(prev) = rows.last() {
                if row_id <= prev.id {
                    return Err(invalid(
                        format!("{field}.id"),
                        format!("{row_id} is not after {}", prev.id),
                    ));
                }
                if mode == ImportMode::Verify && r.prev_hash != prev.hash {
                    return Err(invalid(
                        format!("{field}.prev_hash"),
                        "does not equal the previous row's hash",
                    ));
                }
            }
            kind(&format!("{field}.kind"), &r.kind)?;
            within_event_bytes(
                &field,
                r.kind.len() + r.content.len() + r.meta.len(),
                limits,
            )?;
            // What a stored row adds beyond kind, content and meta stays
            // small, so that every row fits a page (see `config::ROW_ROOM`).
            short_text(&format!("{field}.ts"), &r.ts, MAX_TS_BYTES)?;
            short_text(&format!("{field}.hash"), &r.hash, MAX_HASH_BYTES)?;
            if let Some(prev_hash) = &r.prev_hash {
                short_text(&format!("{field}.prev_hash"), prev_hash, MAX_HASH_BYTES)?;
            }
            let meta_field = format!("{field}.meta");
            // Stored exactly as given (an empty text is stored as `{}`), and
            // read as Python's `json` reads it: a copied ledger may hold
            // `NaN` or `Infinity`, which new events may not.
            let (meta_text, meta) = stored_meta(&meta_field, r.meta)?;
            rows.push(Event {
                id: row_id,
                ts: r.ts,
                kind: r.kind,
                content: r.content,
                meta_text,
                prev_hash: r.prev_hash,
                hash: (!r.hash.is_empty()).then_some(r.hash),
                parsed: ParsedMeta::given(meta),
            });
        }
        Ok(ImportBatch { rows, mode })
    }
}

/// An Export, validated: the range (`end` unset = the head at the start of
/// the call) and the chunk size in rows and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportQuery {
    pub start: i64,
    pub end: Option<i64>,
    pub chunk: usize,
    pub max_bytes: usize,
}

impl Validate for v1::ExportRequest {
    type Valid = ExportQuery;

    fn validate(self, limits: &Limits) -> Result<ExportQuery, RequestError> {
        let start = self.start_id.map(|v| row_id("start_id", v)).transpose()?;
        let end = self.end_id.map(|v| id("end_id", v)).transpose()?;
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                return Err(invalid("end_id", format!("{e} is before start_id {s}")));
            }
        }
        Ok(ExportQuery {
            start: start.unwrap_or(i64::MIN),
            end,
            chunk: page_size(self.chunk_size, DEFAULT_CHUNK, limits),
            max_bytes: limits.max_page_bytes,
        })
    }
}

/// A text of at most `max` bytes.
fn short_text(field: &str, text: &str, max: usize) -> Result<(), RequestError> {
    if text.len() > max {
        return Err(invalid(
            field,
            format!("{} bytes, at most {max}", text.len()),
        ));
    }
    Ok(())
}
