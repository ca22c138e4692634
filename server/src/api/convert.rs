//! Protobuf ⇄ domain: validation at the boundary (every bad field gets a
//! status naming it) and the shapes of responses.

use pmm::v1;
use serde_json::{Map, Value};
use tonic::Status;

use super::status::invalid;
use crate::chain::{self, PreparedHash};
use crate::config::Config;
use crate::mind::Snapshot;
use crate::rules::projection::ProjectionPage;
use crate::rules::{ContextParams, Projection};
use crate::store::writer::{ImportRow, NewEvent};
use crate::store::{Head, Row};

/// Longest kind, in bytes.
const MAX_KIND_BYTES: usize = 128;
/// Longest idempotency key, in bytes.
const MAX_KEY_BYTES: usize = 256;
/// Most entries in a kinds filter.
const MAX_KINDS: usize = 64;

pub fn event(row: &Row) -> v1::Event {
    v1::Event {
        id: row.id.max(0) as u64,
        ts: row.ts.clone(),
        kind: row.kind.clone(),
        content: row.content.clone(),
        meta: row.meta.clone(),
        prev_hash: row.prev_hash.clone(),
        hash: row.hash.clone().unwrap_or_default(),
    }
}

pub fn head(h: &Head) -> v1::LedgerHead {
    v1::LedgerHead {
        last_id: h.last_id.max(0) as u64,
        last_hash: h.last_hash.clone(),
        count: h.count,
        last_ts: h.last_ts.clone(),
    }
}

/// An id from the wire (u64) as a row id, refusing what SQLite cannot hold.
pub fn id(field: &str, value: u64) -> Result<i64, Status> {
    i64::try_from(value).map_err(|_| invalid(field, format!("{value} is too large")))
}

/// A kinds filter: at most 64 non-empty kinds.
pub fn kinds(field: &str, kinds: Vec<String>) -> Result<Vec<String>, Status> {
    if kinds.len() > MAX_KINDS {
        return Err(invalid(
            field,
            format!("{} kinds given, at most {MAX_KINDS}", kinds.len()),
        ));
    }
    if let Some(i) = kinds.iter().position(String::is_empty) {
        return Err(invalid(&format!("{field}[{i}]"), "empty kind"));
    }
    Ok(kinds)
}

fn check_kind(field: &str, kind: &str) -> Result<(), Status> {
    if kind.is_empty() {
        return Err(invalid(field, "required (e.g. \"user\")"));
    }
    if kind.len() > MAX_KIND_BYTES {
        return Err(invalid(
            field,
            format!("{} bytes, at most {MAX_KIND_BYTES}", kind.len()),
        ));
    }
    if kind.chars().any(char::is_control) {
        return Err(invalid(field, "contains a control character"));
    }
    Ok(())
}

/// Parses a meta text: empty means `{}`; it must be a JSON object. (The
/// callers also check that canonical JSON can write it: no NaN/Infinity,
/// no overflowing number.)
pub fn meta(field: &str, text: &str) -> Result<(String, Value), Status> {
    let text = if text.is_empty() { "{}" } else { text };
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid(field, format!("not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(invalid(field, "not a JSON object"));
    }
    Ok((text.to_string(), value))
}

fn check_size(field: &str, bytes: usize, limit: usize) -> Result<(), Status> {
    if bytes > limit {
        return Err(Status::resource_exhausted(format!(
            "{field}: {bytes} bytes exceeds max_event_bytes {limit}"
        )));
    }
    Ok(())
}

fn check_batch(field: &str, n: usize, limit: usize) -> Result<(), Status> {
    if n == 0 {
        return Err(invalid(field, "at least one is required"));
    }
    if n > limit {
        return Err(Status::resource_exhausted(format!(
            "{field}: {n} given exceeds max_batch_events {limit}"
        )));
    }
    Ok(())
}

/// Validates the events of an Append.
pub fn new_events(inputs: Vec<v1::EventInput>, config: &Config) -> Result<Vec<NewEvent>, Status> {
    check_batch("events", inputs.len(), config.max_batch_events)?;
    let mut keys = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        check_kind(&format!("events[{i}].kind"), &input.kind)?;
        check_size(
            &format!("events[{i}]"),
            input.kind.len() + input.content.len() + input.meta.len(),
            config.max_event_bytes,
        )?;
        let meta_field = format!("events[{i}].meta");
        let (meta_text, meta) = meta(&meta_field, &input.meta)?;
        // Hashing what does not depend on the chain here, on the request's
        // own task, keeps it off the single writer.
        let hash = PreparedHash::new(&input.kind, &input.content, &meta)
            .map_err(|e| invalid(&meta_field, e))?;
        let key = match input.idempotency_key {
            k if k.is_empty() => None,
            k if k.len() > MAX_KEY_BYTES => {
                return Err(invalid(
                    &format!("events[{i}].idempotency_key"),
                    format!("{} bytes, at most {MAX_KEY_BYTES}", k.len()),
                ))
            }
            k => {
                if !keys.insert(k.clone()) {
                    return Err(invalid(
                        &format!("events[{i}].idempotency_key"),
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
            idempotency_key: key,
        });
    }
    Ok(out)
}

/// Validates the rows of an Import (ids strictly increasing; in verify mode
/// links within the request are checked here, the link to the ledger and
/// the hashes by the writer).
pub fn import_rows(
    rows: Vec<v1::Event>,
    verify: bool,
    config: &Config,
) -> Result<Vec<ImportRow>, Status> {
    check_batch("rows", rows.len(), config.max_batch_events)?;
    let mut out: Vec<ImportRow> = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        let field = format!("rows[{i}]");
        if r.id == 0 {
            return Err(invalid(&format!("{field}.id"), "must be >= 1"));
        }
        let row_id = id(&format!("{field}.id"), r.id)?;
        if let Some(prev) = out.last() {
            if row_id <= prev.row.id {
                return Err(invalid(
                    &format!("{field}.id"),
                    format!("{row_id} is not after {}", prev.row.id),
                ));
            }
            if verify && r.prev_hash != prev.row.hash {
                return Err(invalid(
                    &format!("{field}.prev_hash"),
                    "does not equal the previous row's hash",
                ));
            }
        }
        check_kind(&format!("{field}.kind"), &r.kind)?;
        check_size(
            &field,
            r.kind.len() + r.content.len() + r.meta.len(),
            config.max_event_bytes,
        )?;
        let (_, meta) = meta(&format!("{field}.meta"), &r.meta)?;
        chain::canonical_json(&meta).map_err(|e| invalid(&format!("{field}.meta"), e))?;
        out.push(ImportRow {
            row: Row {
                id: row_id,
                ts: r.ts,
                kind: r.kind,
                content: r.content,
                // Stored exactly as given (an empty text is stored as `{}`).
                meta: if r.meta.is_empty() {
                    "{}".to_string()
                } else {
                    r.meta
                },
                prev_hash: r.prev_hash,
                hash: (!r.hash.is_empty()).then_some(r.hash),
            },
            meta,
        });
    }
    Ok(out)
}

/// Context parameters from a request, defaults filled in.
pub fn context_params(
    req: &v1::GetContextRequest,
    max_reflections: usize,
) -> Result<ContextParams, Status> {
    let defaults = ContextParams::default();
    let compact = match v1::ContextLayout::try_from(req.layout) {
        Ok(v1::ContextLayout::Unspecified | v1::ContextLayout::Standard) => false,
        Ok(v1::ContextLayout::Compact) => true,
        Err(_) => return Err(invalid("layout", format!("unknown layout {}", req.layout))),
    };
    let n_reflections = req
        .n_reflections
        .map_or(defaults.n_reflections, |n| n as usize);
    if n_reflections > max_reflections {
        return Err(invalid(
            "n_reflections",
            format!("{n_reflections} is above the maximum of {max_reflections}"),
        ));
    }
    Ok(ContextParams {
        n_reflections,
        max_commitment_chars: req
            .max_commitment_chars
            .map_or(defaults.max_commitment_chars, |n| n as usize),
        max_reflection_chars: req
            .max_reflection_chars
            .map_or(defaults.max_reflection_chars, |n| n as usize),
        compact,
    })
}

pub fn traits(p: &Projection) -> v1::Traits {
    let t = p.traits();
    v1::Traits {
        openness: t[0],
        conscientiousness: t[1],
        extraversion: t[2],
        agreeableness: t[3],
        neuroticism: t[4],
    }
}

pub fn identity(p: &Projection) -> v1::Identity {
    let name = match p.name() {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(crate::pyfmt::py_str(other)),
    };
    v1::Identity {
        name,
        traits: Some(traits(p)),
    }
}

/// What a GetProjection returns of the lists that grow with the ledger when
/// it does not say.
const DEFAULT_PROJECTION_LIMIT: u32 = 20;

/// The parts of the expired commitments and warnings a GetProjection asks
/// for (defaults applied, limits capped at the page size).
pub fn projection_page(req: &v1::GetProjectionRequest, config: &Config) -> ProjectionPage {
    let limit = |asked: Option<u32>| {
        (asked.unwrap_or(DEFAULT_PROJECTION_LIMIT) as usize).min(config.max_page_size)
    };
    let skip = |asked: u64| usize::try_from(asked).unwrap_or(usize::MAX);
    ProjectionPage {
        expired_skip: skip(req.expired_skip),
        expired_limit: limit(req.expired_limit),
        warnings_skip: skip(req.warnings_skip),
        warnings_limit: limit(req.warnings_limit),
    }
}

pub fn self_model(p: &Projection, page: &ProjectionPage) -> v1::SelfModel {
    v1::SelfModel {
        identity: Some(identity(p)),
        open_json: p.open_json().to_string(),
        expired_json: p
            .expired_page_json(page.expired_skip, page.expired_limit)
            .to_string(),
    }
}

pub fn warnings(p: &Projection, page: &ProjectionPage) -> Vec<v1::ProjectionWarning> {
    p.warnings_page(page.warnings_skip, page.warnings_limit)
        .iter()
        .map(|w| {
            let meta = w.get("meta").cloned().unwrap_or(Value::Object(Map::new()));
            v1::ProjectionWarning {
                kind: w["kind"].as_str().unwrap_or_default().to_string(),
                content: w["content"].as_str().unwrap_or_default().to_string(),
                eid: meta["eid"].as_u64().unwrap_or(0),
                reason: meta["reason"].as_str().unwrap_or_default().to_string(),
                meta: meta.to_string(),
            }
        })
        .collect()
}

fn adoption(a: &crate::rules::metrics::Adoption, with_confidence: bool) -> v1::AdoptionDetail {
    v1::AdoptionDetail {
        tick: a.tick,
        name: a.name.clone(),
        event_id: a.id.max(0) as u64,
        confidence: with_confidence.then_some(a.confidence),
    }
}

/// GetMetrics from a snapshot.
pub fn metrics(s: &Snapshot, include_diagnosis: bool) -> Result<v1::GetMetricsResponse, Status> {
    let folds = &s.state.whole;
    let scores = folds.metrics.scores();
    let stage = folds
        .stage
        .stage()
        .map_err(|e| super::status::context(e.into()))?;
    let level = stage.name.trim_start_matches('S').parse().unwrap_or(0);
    let diagnosis = include_diagnosis.then(|| {
        let d = folds.metrics.diagnosis();
        v1::Diagnosis {
            identity_adopts: d.valid_adoptions.len() as u64,
            identity_adopt_details: d
                .valid_adoptions
                .iter()
                .map(|a| adoption(a, false))
                .collect(),
            identity_adopts_total: d.all_adoptions.len() as u64,
            identity_adopt_details_all: d.all_adoptions.iter().map(|a| adoption(a, true)).collect(),
            autonomy_ticks: d.autonomy_ticks,
            invariant_violations: d.invariant_violations,
            identity_reflections: d.identity_reflections,
            ticks_since_last_adopt: d.ticks_since_last_adopt,
            expected_stability_bonuses: d.expected_stability_bonuses,
            expected_flip_flop_penalties: d.expected_flip_flop_penalties,
            decay_factor: d.decay_factor,
            expected_ias_before_decay: d.expected_ias_before_decay,
        }
    });
    Ok(v1::GetMetricsResponse {
        ias: scores.ias,
        gas: scores.gas,
        stage: Some(v1::Stage {
            name: stage.name.to_string(),
            level,
            snapshot: Some(v1::StageSnapshot {
                ias_mean: stage.ias_mean,
                gas_mean: stage.gas_mean,
                count: stage.count as u32,
                window: crate::rules::stage::STAGE_WINDOW as u32,
            }),
        }),
        diagnosis,
        as_of_id: s.as_of_id().max(0) as u64,
    })
}

/// GetDirectives from a snapshot.
pub fn directives(s: &Snapshot, active_only: bool) -> v1::GetDirectivesResponse {
    let d = &s.state.directives;
    let sources = |set: &imbl::OrdSet<String>| set.iter().cloned().collect::<Vec<_>>();
    let all = if active_only {
        Vec::new()
    } else {
        d.all()
            .map(|r| v1::Directive {
                content: r.content.clone(),
                first_seen_ts: r.first_seen_ts.clone(),
                last_seen_ts: r.last_seen_ts.clone(),
                first_seen_id: r.first_seen_id.max(0) as u64,
                last_seen_id: r.last_seen_id.max(0) as u64,
                seen_count: r.seen_count,
                sources: sources(&r.sources),
                last_origin_eid: r
                    .last_origin_eid
                    .as_ref()
                    .and_then(|n| n.to_string().parse().ok()),
            })
            .collect()
    };
    let active = d
        .active()
        .map(|r| v1::ActiveDirective {
            content: r.content.clone(),
            seen_count: r.seen_count,
            recent_hits: r.recent_hits,
            score: (r.seen_count + 2 * r.recent_hits) as f64,
            first_seen_id: r.first_seen_id.max(0) as u64,
            last_seen_id: r.last_seen_id.max(0) as u64,
            sources: sources(&r.sources),
        })
        .collect();
    v1::GetDirectivesResponse {
        directives: all,
        active,
        as_of_id: s.as_of_id().max(0) as u64,
    }
}
