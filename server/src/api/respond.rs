//! Domain → protobuf: the shapes of responses. Nothing here decides
//! anything; it moves domain values into messages.

use pmm::v1;

use super::admission::WorkFigures;
use crate::chain::{ChainFault, ChainFaultReason};
use crate::config::Limits;
use crate::event::Event;
use crate::ledger::breakdown::{Breakdown, Encoding, Size};
use crate::ledger::handle::LedgerStats;
use crate::ledger::head::Head;
use crate::ledger::history::History;
use crate::ledger::hub::Item;
use crate::ledger::replay::{Verification, VerifyFault};
use crate::ledger::search::SearchResult;
use crate::ledger::sequencer::Appended;
use crate::ledger::snapshot::Snapshot;
use crate::ledger::views::{IdentityView, ProjectionView};
use crate::minds::registry::RegistryFigures;
use crate::rules::metrics::Adoption;
use crate::rules::{ContextError, Section, Stage};
use crate::store::schema::Durability;
use crate::transport::ConnectionReport;

/// An id as the wire carries it (ids are never negative).
fn wire_id(id: i64) -> u64 {
    id.max(0) as u64
}

pub fn event(ev: &Event) -> v1::Event {
    v1::Event {
        id: wire_id(ev.id),
        ts: ev.ts.clone(),
        kind: ev.kind.clone(),
        content: ev.content.clone(),
        meta: ev.meta_text.clone(),
        prev_hash: ev.prev_hash.clone(),
        hash: ev.hash.clone().unwrap_or_default(),
    }
}

pub fn head(h: &Head) -> v1::LedgerHead {
    v1::LedgerHead {
        last_id: wire_id(h.last_id),
        last_hash: h.last_hash.clone(),
        count: h.count,
        last_ts: h.last_ts.clone(),
    }
}

pub fn appended(a: &Appended) -> v1::AppendedEvent {
    v1::AppendedEvent {
        id: wire_id(a.event.id),
        ts: a.event.ts.clone(),
        hash: a.event.hash.clone().unwrap_or_default(),
        prev_hash: a.event.prev_hash.clone(),
        deduplicated: a.deduplicated,
    }
}

/// One message of a subscription.
pub fn subscription_item(item: Item) -> v1::SubscribeResponse {
    use v1::subscribe_response::Item as WireItem;
    let item = match item {
        Item::Event(ev) => WireItem::Event(event(&ev)),
        Item::CaughtUp { position, head: h } => WireItem::CaughtUp(v1::CaughtUp {
            position: wire_id(position),
            head: Some(head(&h)),
        }),
        Item::Heartbeat { position, head: h } => WireItem::Heartbeat(v1::Heartbeat {
            position: wire_id(position),
            head: Some(head(&h)),
        }),
    };
    v1::SubscribeResponse { item: Some(item) }
}

pub fn identity(i: &IdentityView) -> v1::Identity {
    let [o, c, e, a, n] = i.traits;
    v1::Identity {
        name: i.name.clone(),
        traits: Some(v1::Traits {
            openness: o,
            conscientiousness: c,
            extraversion: e,
            agreeableness: a,
            neuroticism: n,
        }),
    }
}

pub fn projection(p: &ProjectionView) -> v1::GetProjectionResponse {
    v1::GetProjectionResponse {
        self_model: p.self_model.as_ref().map(|m| v1::SelfModel {
            identity: Some(identity(&m.identity)),
            open_json: m.open_json.clone(),
            expired_json: m.expired_json.clone(),
        }),
        warnings: p
            .warnings
            .iter()
            .map(|w| v1::ProjectionWarning {
                kind: w.kind.clone(),
                content: w.content.clone(),
                eid: w.eid,
                reason: w.reason.clone(),
                meta: w.meta_json.clone(),
            })
            .collect(),
        strict: p.strict,
        strict_error: p.strict_error.clone(),
        as_of_id: wire_id(p.as_of_id),
        expired_total: p.expired_total,
        warnings_total: p.warnings_total,
    }
}

fn adoption(a: &Adoption, with_confidence: bool) -> v1::AdoptionDetail {
    v1::AdoptionDetail {
        tick: a.tick,
        name: a.name.clone(),
        event_id: wire_id(a.id),
        confidence: with_confidence.then_some(a.confidence),
    }
}

/// A stage as the wire carries it.
fn stage(stage: &Stage) -> v1::Stage {
    v1::Stage {
        name: stage.name.to_string(),
        level: stage.name.trim_start_matches('S').parse().unwrap_or(0),
        snapshot: Some(v1::StageSnapshot {
            ias_mean: stage.ias_mean,
            gas_mean: stage.gas_mean,
            count: stage.count as u32,
            window: crate::rules::stage::STAGE_WINDOW as u32,
        }),
    }
}

/// GetMetrics from a snapshot (the stage fails on junk telemetry).
pub fn metrics(
    s: &Snapshot,
    include_diagnosis: bool,
) -> Result<v1::GetMetricsResponse, ContextError> {
    let folds = &s.state.whole;
    let scores = folds.metrics.scores();
    let stage = folds.stage.stage()?;
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
        stage: Some(self::stage(&stage)),
        diagnosis,
        as_of_id: wire_id(s.as_of_id()),
    })
}

/// GetMetricsHistory.
pub fn metrics_history(h: &History) -> v1::GetMetricsHistoryResponse {
    v1::GetMetricsHistoryResponse {
        points: h
            .points
            .iter()
            .map(|p| v1::MetricsPoint {
                as_of_id: wire_id(p.as_of_id),
                event_count: p.event_count,
                ias: p.scores.ias,
                gas: p.scores.gas,
                stage: p.stage.as_ref().ok().map(stage),
                stage_error: p.stage.as_ref().err().map(|e| e.to_string()),
            })
            .collect(),
        as_of_id: wire_id(h.as_of_id),
    }
}

pub fn token_encoding(e: Encoding) -> v1::TokenEncoding {
    match e {
        Encoding::O200kBase => v1::TokenEncoding::O200kBase,
        Encoding::Cl100kBase => v1::TokenEncoding::Cl100kBase,
    }
}

fn context_section(s: Section) -> v1::ContextSection {
    match s {
        Section::Header => v1::ContextSection::Header,
        Section::Identity => v1::ContextSection::Identity,
        Section::Traits => v1::ContextSection::Traits,
        Section::Guidance => v1::ContextSection::Guidance,
        Section::Metrics => v1::ContextSection::Metrics,
        Section::Commitments => v1::ContextSection::Commitments,
        Section::Reflections => v1::ContextSection::Reflections,
        Section::Footer => v1::ContextSection::Footer,
    }
}

/// A context block's breakdown.
pub fn breakdown(b: &Breakdown) -> v1::ContextBreakdown {
    let Size {
        bytes,
        chars,
        tokens,
        ..
    } = b.total;
    v1::ContextBreakdown {
        encoding: token_encoding(b.encoding) as i32,
        sections: b
            .sections
            .iter()
            .map(|(section, size)| v1::ContextSectionSize {
                section: context_section(*section) as i32,
                bytes: size.bytes,
                chars: size.chars,
                tokens: size.tokens,
                lines: size.lines,
            })
            .collect(),
        bytes,
        chars,
        tokens,
    }
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
                first_seen_id: wire_id(r.first_seen_id),
                last_seen_id: wire_id(r.last_seen_id),
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
            first_seen_id: wire_id(r.first_seen_id),
            last_seen_id: wire_id(r.last_seen_id),
            sources: sources(&r.sources),
        })
        .collect();
    v1::GetDirectivesResponse {
        directives: all,
        active,
        as_of_id: wire_id(s.as_of_id()),
    }
}

fn fault_code(reason: &ChainFaultReason) -> v1::ChainFault {
    match reason {
        ChainFaultReason::FirstPrevHashNotNull => v1::ChainFault::FirstPrevHashNotNull,
        ChainFaultReason::PrevHashMismatch => v1::ChainFault::PrevHashMismatch,
        ChainFaultReason::HashMismatch => v1::ChainFault::HashMismatch,
        ChainFaultReason::HashMissing => v1::ChainFault::HashMissing,
        ChainFaultReason::Unhashable(_) | ChainFaultReason::Unreadable(_) => {
            v1::ChainFault::UnreadableRow
        }
    }
}

/// VerifyChain's answer for the rows up to `last_id`.
pub fn verification(result: Verification, last_id: i64) -> v1::VerifyChainResponse {
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
            (Some(wire_id(id)), code, reason)
        }
    };
    v1::VerifyChainResponse {
        ok: first_bad_id.is_none(),
        first_bad_id,
        fault: fault as i32,
        reason,
        checked: result.checked,
        as_of_id: wire_id(last_id),
    }
}

pub fn search(result: SearchResult, last_id: i64) -> v1::SearchResponse {
    v1::SearchResponse {
        hits: result
            .hits
            .into_iter()
            .map(|h| {
                let excerpt = h.excerpt();
                v1::SearchHit {
                    event_id: wire_id(h.event.id),
                    kind: h.event.kind,
                    score: h.score,
                    excerpt,
                    ts: h.event.ts,
                }
            })
            .collect(),
        scanned: result.scanned,
        as_of_id: wire_id(last_id),
    }
}

pub fn stats(
    s: LedgerStats,
    limits: &Limits,
    work: &[WorkFigures],
    connections: Option<&ConnectionReport>,
    minds: (&str, RegistryFigures),
) -> v1::StatsResponse {
    let (mind, figures) = minds;
    let open_limits = figures.limits;
    let settings = connections.map(|c| c.settings);
    let counted = connections.map(|c| c.figures).unwrap_or_default();
    let ms = |d: Option<std::time::Duration>| d.map_or(0, |d| d.as_millis() as u64);
    v1::StatsResponse {
        as_of_id: wire_id(s.head.last_id),
        event_count: s.head.count,
        events_by_kind: s.events_by_kind.into_iter().collect(),
        caches: s
            .caches
            .into_iter()
            .map(|c| {
                let total = c.hits + c.misses;
                v1::CacheStats {
                    name: c.name.to_string(),
                    hits: c.hits,
                    misses: c.misses,
                    hit_rate: if total == 0 {
                        0.0
                    } else {
                        c.hits as f64 / total as f64
                    },
                    entries: c.entries,
                    capacity: c.capacity,
                }
            })
            .collect(),
        rebuild_micros: s.rebuild.duration.as_micros() as u64,
        rebuild_events: s.rebuild.events,
        subscribers: s.subscribers as u32,
        live_window_rows: s.live_window.0 as u64,
        live_window_bytes: s.live_window.1 as u64,
        condition: s.condition.to_string(),
        chain_fault: s.chain_fault.map(|f| v1::ChainFaultInfo {
            id: wire_id(f.id),
            fault: fault_code(&f.reason) as i32,
            reason: f.to_string(),
        }),
        db_bytes: s.db_bytes,
        wal_bytes: s.wal_bytes,
        uptime_seconds: s.uptime.as_secs(),
        appended_events: s.appended_events,
        commits: s.commits,
        durability: match s.durability {
            Durability::Normal => v1::Durability::Normal as i32,
            Durability::Full => v1::Durability::Full as i32,
        },
        limits: Some(v1::Limits {
            max_event_bytes: limits.max_event_bytes as u64,
            max_batch_events: limits.max_batch_events as u32,
            max_message_bytes: limits.max_message_bytes as u64,
            max_page_size: limits.max_page_size as u32,
            max_page_bytes: limits.max_page_bytes as u64,
            subscriber_buffer: limits.subscriber_buffer as u32,
            subscriber_buffer_bytes: limits.subscriber_buffer_bytes as u64,
            subscriber_in_flight_bytes: limits.subscriber_in_flight_bytes as u64,
            max_tail: limits.max_tail as u32,
            max_tail_bytes: limits.max_tail_bytes as u64,
            max_subscribers: limits.max_subscribers as u32,
            max_search_top_k: limits.max_search_top_k as u32,
            max_n_reflections: limits.max_n_reflections as u32,
            max_concurrent_verify: limits.work.verify as u32,
            max_concurrent_search: limits.work.search as u32,
            max_concurrent_replays: limits.work.replay as u32,
            max_concurrent_tail_contexts: limits.work.tail_context as u32,
            max_concurrent_exports: limits.work.export as u32,
            max_concurrent_streams: limits.max_concurrent_streams,
            max_connections: settings
                .map_or(0, |c| c.max_connections.min(u32::MAX as usize) as u32),
            handshake_timeout_ms: ms(settings.and_then(|c| c.handshake_timeout())),
            idle_timeout_ms: ms(settings.and_then(|c| c.idle_timeout())),
            keepalive_interval_ms: ms(settings.and_then(|c| c.keepalive_interval())),
            keepalive_timeout_ms: ms(settings.and_then(|c| c.keepalive_timeout())),
            tcp_keepalive_ms: ms(settings.and_then(|c| c.tcp_keepalive())),
        }),
        work: work
            .iter()
            .map(|w| v1::WorkStats {
                name: w.name.to_string(),
                limit: w.limit as u32,
                running: w.running as u32,
                admitted: w.admitted,
                refused: w.refused,
                cancelled: w.cancelled,
            })
            .collect(),
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        connections_open: counted.open,
        connections_accepted: counted.accepted,
        connections_refused: counted.refused,
        connections_closed_idle: counted.closed_idle,
        connections_closed_handshake: counted.closed_handshake,
        accept_errors: counted.accept_errors,
        open_files_limit: connections.and_then(|c| c.open_files_limit).unwrap_or(0),
        mind: mind.to_string(),
        open_minds: figures.open,
        max_open_minds: open_limits.map_or(0, |l| l.max_open_minds as u64),
        open_minds_memory_bytes: figures.open_memory_bytes,
        max_open_minds_memory_bytes: open_limits.map_or(0, |l| l.max_open_memory),
        minds_opened: figures.opened,
        minds_closed: figures.closed,
    }
}
