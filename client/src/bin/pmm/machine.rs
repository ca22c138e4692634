//! `--json` output: each response as one JSON object (64-bit integers as
//! numbers, absent optional fields as `null`).

use pmm_client::import::ImportProgress;
use pmm_client::v1;
use pmm_client::{AppendOutcome, Head, Identity, IdentityView, Projection};
use serde_json::{json, Map, Value};

/// The enum's name without its prefix, e.g. `HASH_MISMATCH`.
pub fn enum_name(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix).unwrap_or(full).to_string()
}

pub fn fault_name(fault: i32) -> String {
    v1::ChainFault::try_from(fault).map_or_else(
        |_| format!("UNKNOWN_{fault}"),
        |f| enum_name(f.as_str_name(), "CHAIN_FAULT_"),
    )
}

pub fn durability_name(d: i32) -> String {
    v1::Durability::try_from(d).map_or_else(
        |_| format!("UNKNOWN_{d}"),
        |d| enum_name(d.as_str_name(), "DURABILITY_"),
    )
}

pub fn head(h: &Head) -> Value {
    json!({
        "last_id": h.last_id,
        "last_hash": h.last_hash,
        "count": h.count,
        "last_ts": h.last_ts,
    })
}

pub fn appended(outcome: &AppendOutcome) -> Value {
    let events: Vec<Value> = outcome
        .events
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "ts": e.ts,
                "hash": e.hash,
                "prev_hash": e.prev_hash,
                "deduplicated": e.deduplicated,
            })
        })
        .collect();
    let mut obj = match events.as_slice() {
        [one] => one.as_object().cloned().unwrap_or_default(),
        _ => {
            let mut m = Map::new();
            m.insert("events".into(), Value::Array(events));
            m
        }
    };
    obj.insert("head".into(), head(&outcome.head));
    Value::Object(obj)
}

pub fn verify(r: &v1::VerifyChainResponse) -> Value {
    json!({
        "ok": r.ok,
        "first_bad_id": r.first_bad_id,
        "fault": if r.ok { Value::Null } else { Value::from(fault_name(r.fault)) },
        "reason": r.reason,
        "checked": r.checked,
        "as_of_id": r.as_of_id,
    })
}

pub fn stats(s: &v1::StatsResponse) -> Value {
    let mut kinds: Vec<(&String, &u64)> = s.events_by_kind.iter().collect();
    kinds.sort();
    let by_kind: Map<String, Value> = kinds
        .into_iter()
        .map(|(k, v)| (k.clone(), Value::from(*v)))
        .collect();
    let caches: Vec<Value> = s
        .caches
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "hits": c.hits, "misses": c.misses,
                "hit_rate": c.hit_rate, "entries": c.entries, "capacity": c.capacity,
            })
        })
        .collect();
    let limits = s.limits.unwrap_or_default();
    json!({
        "as_of_id": s.as_of_id,
        "event_count": s.event_count,
        "events_by_kind": by_kind,
        "caches": caches,
        "rebuild_micros": s.rebuild_micros,
        "rebuild_events": s.rebuild_events,
        "subscribers": s.subscribers,
        "db_bytes": s.db_bytes,
        "wal_bytes": s.wal_bytes,
        "uptime_seconds": s.uptime_seconds,
        "appended_events": s.appended_events,
        "commits": s.commits,
        "durability": durability_name(s.durability),
        "limits": {
            "max_event_bytes": limits.max_event_bytes,
            "max_batch_events": limits.max_batch_events,
            "max_message_bytes": limits.max_message_bytes,
            "max_page_size": limits.max_page_size,
            "max_subscribers": limits.max_subscribers,
            "max_search_top_k": limits.max_search_top_k,
            "max_n_reflections": limits.max_n_reflections,
            "max_concurrent_streams": limits.max_concurrent_streams,
        },
        "server_version": s.server_version,
        "mind": s.mind,
        "minds": {
            "open": s.open_minds,
            "max_open": s.max_open_minds,
            "open_memory_bytes": s.open_minds_memory_bytes,
            "max_open_memory_bytes": s.max_open_minds_memory_bytes,
            "opened": s.minds_opened,
            "closed": s.minds_closed,
        },
    })
}

pub fn traits(t: &v1::Traits) -> Value {
    json!({
        "openness": t.openness,
        "conscientiousness": t.conscientiousness,
        "extraversion": t.extraversion,
        "agreeableness": t.agreeableness,
        "neuroticism": t.neuroticism,
    })
}

pub fn identity(i: &Identity) -> Value {
    json!({ "name": i.name, "traits": traits(&i.traits) })
}

pub fn projection(p: &Projection) -> Value {
    let self_model = p.self_model.as_ref().map_or(Value::Null, |m| {
        json!({
            "identity": identity(&m.identity),
            "open": Value::Object(m.open.clone()),
            "expired": Value::Object(m.expired.clone()),
        })
    });
    let warnings: Vec<Value> = p
        .warnings
        .iter()
        .map(|w| {
            json!({
                "kind": w.kind, "content": w.content, "meta": w.meta,
                "eid": w.eid, "reason": w.reason,
            })
        })
        .collect();
    json!({
        "self_model": self_model,
        "warnings": warnings,
        "strict": p.strict,
        "strict_error": p.strict_error,
        "as_of_id": p.as_of_id,
        "expired_total": p.expired_total,
        "warnings_total": p.warnings_total,
    })
}

fn adoption(a: &v1::AdoptionDetail) -> Value {
    json!({
        "tick": a.tick, "name": a.name, "event_id": a.event_id, "confidence": a.confidence,
    })
}

pub fn metrics(m: &v1::GetMetricsResponse) -> Value {
    let diagnosis = m.diagnosis.as_ref().map_or(Value::Null, |d| {
        json!({
            "identity_adopts": d.identity_adopts,
            "identity_adopt_details": d.identity_adopt_details.iter().map(adoption).collect::<Vec<_>>(),
            "identity_adopts_total": d.identity_adopts_total,
            "identity_adopt_details_all": d.identity_adopt_details_all.iter().map(adoption).collect::<Vec<_>>(),
            "autonomy_ticks": d.autonomy_ticks,
            "invariant_violations": d.invariant_violations,
            "identity_reflections": d.identity_reflections,
            "ticks_since_last_adopt": d.ticks_since_last_adopt,
            "expected_stability_bonuses": d.expected_stability_bonuses,
            "expected_flip_flop_penalties": d.expected_flip_flop_penalties,
            "decay_factor": d.decay_factor,
            "expected_ias_before_decay": d.expected_ias_before_decay,
        })
    });
    json!({
        "ias": m.ias,
        "gas": m.gas,
        "stage": stage(Some(&m.stage.clone().unwrap_or_default())),
        "diagnosis": diagnosis,
        "as_of_id": m.as_of_id,
    })
}

pub fn context(c: &v1::GetContextResponse) -> Value {
    let mut v = json!({ "text": c.text, "as_of_id": c.as_of_id });
    if let Some(b) = &c.breakdown {
        v["breakdown"] = breakdown(b);
    }
    v
}

/// `o200k_base` for an encoding.
pub fn encoding_name(e: i32) -> String {
    v1::TokenEncoding::try_from(e).map_or_else(
        |_| format!("UNKNOWN_{e}"),
        |e| enum_name(e.as_str_name(), "TOKEN_ENCODING_").to_lowercase(),
    )
}

/// `commitments` for a section.
pub fn section_name(s: i32) -> String {
    v1::ContextSection::try_from(s).map_or_else(
        |_| format!("unknown_{s}"),
        |s| enum_name(s.as_str_name(), "CONTEXT_SECTION_").to_lowercase(),
    )
}

pub fn breakdown(b: &v1::ContextBreakdown) -> Value {
    let sections: Vec<Value> = b
        .sections
        .iter()
        .map(|s| {
            json!({
                "section": section_name(s.section), "lines": s.lines,
                "bytes": s.bytes, "chars": s.chars, "tokens": s.tokens,
            })
        })
        .collect();
    json!({
        "encoding": encoding_name(b.encoding),
        "sections": sections,
        "bytes": b.bytes,
        "chars": b.chars,
        "tokens": b.tokens,
    })
}

pub fn identity_view(v: &IdentityView) -> Value {
    json!({ "identity": identity(&v.identity), "as_of_id": v.as_of_id })
}

pub fn directives(d: &v1::GetDirectivesResponse) -> Value {
    let all: Vec<Value> = d
        .directives
        .iter()
        .map(|r| {
            json!({
                "content": r.content, "first_seen_ts": r.first_seen_ts,
                "last_seen_ts": r.last_seen_ts, "first_seen_id": r.first_seen_id,
                "last_seen_id": r.last_seen_id, "seen_count": r.seen_count,
                "sources": r.sources, "last_origin_eid": r.last_origin_eid,
            })
        })
        .collect();
    let active: Vec<Value> = d
        .active
        .iter()
        .map(|r| {
            json!({
                "content": r.content, "seen_count": r.seen_count,
                "recent_hits": r.recent_hits, "score": r.score,
                "first_seen_id": r.first_seen_id, "last_seen_id": r.last_seen_id,
                "sources": r.sources,
            })
        })
        .collect();
    json!({ "directives": all, "active": active, "as_of_id": d.as_of_id })
}

pub fn embedding(e: &v1::EmbedResponse) -> Value {
    json!({ "vector": e.vector, "digest": e.digest })
}

fn stage(stage: Option<&v1::Stage>) -> Value {
    match stage {
        None => Value::Null,
        Some(stage) => {
            let snap = stage.snapshot.unwrap_or_default();
            json!({
                "name": stage.name,
                "level": stage.level,
                "snapshot": {
                    "ias_mean": snap.ias_mean, "gas_mean": snap.gas_mean,
                    "count": snap.count, "window": snap.window,
                },
            })
        }
    }
}

pub fn history(h: &v1::GetMetricsHistoryResponse) -> Value {
    let points: Vec<Value> = h
        .points
        .iter()
        .map(|p| {
            json!({
                "as_of_id": p.as_of_id, "event_count": p.event_count,
                "ias": p.ias, "gas": p.gas,
                "stage": stage(p.stage.as_ref()), "stage_error": p.stage_error,
            })
        })
        .collect();
    json!({ "points": points, "as_of_id": h.as_of_id })
}

pub fn search(r: &v1::SearchResponse) -> Value {
    let hits: Vec<Value> = r
        .hits
        .iter()
        .map(|h| {
            json!({
                "event_id": h.event_id, "kind": h.kind, "score": h.score,
                "excerpt": h.excerpt, "ts": h.ts,
            })
        })
        .collect();
    json!({ "hits": hits, "scanned": r.scanned, "as_of_id": r.as_of_id })
}

pub fn import(p: &ImportProgress) -> Value {
    json!({
        "rows": p.rows_done,
        "imported": p.imported,
        "skipped": p.skipped,
        "passed_over": p.passed_over,
        "batches": p.batches,
        "head": head(&p.head),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_lose_their_prefix() {
        assert_eq!(
            fault_name(v1::ChainFault::HashMismatch as i32),
            "HASH_MISMATCH"
        );
        assert_eq!(fault_name(99), "UNKNOWN_99");
        assert_eq!(durability_name(v1::Durability::Full as i32), "FULL");
    }

    #[test]
    fn verify_reports_null_fault_when_ok() {
        let ok = v1::VerifyChainResponse {
            ok: true,
            checked: 3,
            as_of_id: 3,
            ..Default::default()
        };
        assert_eq!(
            verify(&ok).to_string(),
            r#"{"ok":true,"first_bad_id":null,"fault":null,"reason":"","checked":3,"as_of_id":3}"#
        );
    }
}
