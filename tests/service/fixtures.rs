//! The service answers the fixtures: each fixture's reference-made `pmm.db`
//! is opened in place (a copy), and every RPC view, final and as of every
//! checkpoint, must equal `expected.json`.

use crate::common::server::TestServer;
use crate::common::{diff_outputs, fixture_cases, read_json};
use pmm::v1::{self};
use pmm_server::rules::float_value;
use serde_json::{json, Value};

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON from the server")
}

fn traits(t: Option<v1::Traits>) -> Value {
    let t = t.expect("traits");
    json!({
        "openness": float_value(t.openness),
        "conscientiousness": float_value(t.conscientiousness),
        "extraversion": float_value(t.extraversion),
        "agreeableness": float_value(t.agreeableness),
        "neuroticism": float_value(t.neuroticism),
    })
}

fn identity(i: Option<v1::Identity>) -> Value {
    let i = i.expect("identity");
    json!({"name": i.name, "traits": traits(i.traits)})
}

fn self_model(m: Option<v1::SelfModel>) -> Value {
    match m {
        None => Value::Null,
        Some(m) => json!({
            "identity": identity(m.identity),
            "commitments": {"open": parse(&m.open_json), "expired": parse(&m.expired_json)},
        }),
    }
}

fn diagnosis(d: v1::Diagnosis) -> Value {
    let details = |list: &[v1::AdoptionDetail], all: bool| -> Value {
        list.iter()
            .map(|a| {
                let mut row = vec![json!(a.tick), json!(a.name), json!(a.event_id)];
                if all {
                    row.push(float_value(a.confidence.expect("confidence")));
                }
                Value::Array(row)
            })
            .collect()
    };
    json!({
        "identity_adopts": d.identity_adopts,
        "identity_adopt_details": details(&d.identity_adopt_details, false),
        "identity_adopts_total": d.identity_adopts_total,
        "identity_adopt_details_all": details(&d.identity_adopt_details_all, true),
        "autonomy_ticks": d.autonomy_ticks,
        "invariant_violations": d.invariant_violations,
        "identity_reflections": d.identity_reflections,
        "expected_stability_bonuses": d.expected_stability_bonuses,
        "expected_flip_flop_penalties": d.expected_flip_flop_penalties,
        "decay_factor": float_value(d.decay_factor),
        "ticks_since_last_adopt": d.ticks_since_last_adopt,
        "expected_ias_before_decay": float_value(d.expected_ias_before_decay),
    })
}

/// A projection request for every expired commitment and warning (the
/// fixtures hold fewer than the server's page limit).
fn everything() -> v1::GetProjectionRequest {
    v1::GetProjectionRequest {
        expired_limit: Some(u32::MAX),
        warnings_limit: Some(u32::MAX),
        ..Default::default()
    }
}

/// Every field of an outputs object, asked of the server through its RPCs.
async fn outputs_via_rpc(s: &mut TestServer, as_of: u64, is_final: bool) -> Value {
    let as_of_id = Some(as_of);
    let p = s
        .mind
        .get_projection(v1::GetProjectionRequest {
            strict: false,
            as_of_id,
            ..everything()
        })
        .await
        .expect("projection")
        .into_inner();
    assert_eq!(p.as_of_id, as_of);
    assert_eq!(p.warnings_total as usize, p.warnings.len());
    let strict = s
        .mind
        .get_projection(v1::GetProjectionRequest {
            strict: true,
            as_of_id,
            ..everything()
        })
        .await
        .expect("strict")
        .into_inner();
    let ident = s
        .mind
        .get_identity(v1::GetIdentityRequest { as_of_id })
        .await
        .expect("identity")
        .into_inner();
    let d = s
        .mind
        .get_directives(v1::GetDirectivesRequest {
            active_only: false,
            as_of_id,
        })
        .await
        .expect("directives")
        .into_inner();
    let m = s
        .mind
        .get_metrics(v1::GetMetricsRequest {
            include_diagnosis: true,
            as_of_id,
        })
        .await
        .expect("metrics")
        .into_inner();
    let context = |layout: v1::ContextLayout,
                   n: Option<u32>,
                   budgets: Option<(u32, u32)>,
                   tail: Option<u64>| v1::GetContextRequest {
        layout: layout as i32,
        n_reflections: n,
        max_commitment_chars: budgets.map(|b| b.0),
        max_reflection_chars: budgets.map(|b| b.1),
        tail,
        as_of_id,
        ..Default::default()
    };
    let text = |req| {
        let mut mind = s.mind.clone();
        async move {
            mind.get_context(req)
                .await
                .expect("context")
                .into_inner()
                .text
        }
    };
    let standard = text(context(v1::ContextLayout::Standard, None, None, None)).await;
    let compact = text(context(v1::ContextLayout::Compact, None, None, None)).await;
    let tail = text(context(
        v1::ContextLayout::Unspecified,
        None,
        None,
        Some(1000),
    ))
    .await;
    let budget = text(context(
        v1::ContextLayout::Standard,
        Some(5),
        Some((100, 150)),
        None,
    ))
    .await;
    let stage = m.stage.expect("stage");
    let snap = stage.snapshot.expect("snapshot");
    let mut out = json!({
        "self_model": self_model(p.self_model),
        "projection_warnings": p.warnings.iter().map(|w| json!({"kind": w.kind, "content": w.content, "meta": parse(&w.meta)})).collect::<Vec<_>>(),
        "self_model_strict": self_model(strict.self_model),
        "strict_error": strict.strict_error,
        "identity": identity(ident.identity),
        "directives": d.directives.iter().map(|r| json!({
            "content": r.content, "first_seen_ts": r.first_seen_ts, "last_seen_ts": r.last_seen_ts,
            "first_seen_id": r.first_seen_id, "last_seen_id": r.last_seen_id, "seen_count": r.seen_count,
            "sources": r.sources, "last_origin_eid": r.last_origin_eid,
        })).collect::<Vec<_>>(),
        "directives_active": d.active.iter().map(|r| json!({
            "content": r.content, "seen_count": r.seen_count, "recent_hits": r.recent_hits,
            "score": float_value(r.score), "first_seen_id": r.first_seen_id, "last_seen_id": r.last_seen_id,
            "sources": r.sources,
        })).collect::<Vec<_>>(),
        "metrics": {"ias": float_value(m.ias), "gas": float_value(m.gas)},
        "diagnose": diagnosis(m.diagnosis.expect("diagnosis")),
        "stage": {"stage": stage.name, "snapshot": {
            "IAS_mean": float_value(snap.ias_mean), "GAS_mean": float_value(snap.gas_mean),
            "count": snap.count, "window": snap.window}},
        "context": standard,
        "context_compact": compact,
        "context_tail": tail,
        "context_budget": budget,
    });
    if is_final {
        let v = s.verify().await;
        out["chain_ok"] = json!(v.ok);
        let head = s.head().await;
        out["after_id"] = json!(head.last_id);
        out["event_count"] = json!(head.count);
    }
    out
}

#[tokio::test]
async fn every_rpc_view_equals_the_fixtures_final_and_at_checkpoints() {
    let mut failures = Vec::new();
    for case in fixture_cases() {
        let db = case.join("pmm.db");
        if !db.is_file() {
            continue;
        }
        let expected = read_json(&case.join("expected.json"));
        let mut s = TestServer::start_on_copy(&db).await;
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut targets = vec![(expected["final"].clone(), true)];
        targets.extend(
            expected["checkpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| (c.clone(), false)),
        );
        for (mut target, is_final) in targets {
            let after_id = target["after_id"].as_u64().expect("after_id");
            let actual = outputs_via_rpc(&mut s, after_id, is_final).await;
            if !is_final {
                for key in ["after_id", "event_count", "chain_ok"] {
                    target.as_object_mut().map(|o| o.remove(key));
                }
            }
            failures.extend(diff_outputs(
                &target,
                &actual,
                &format!("{name} via RPC as of {after_id}"),
            ));
        }
        s.stop().await;
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
