//! Fixture conformance: every value of every `expected.json` under
//! `PMM_FIXTURES` (default `../shared/fixtures`), final and at every
//! checkpoint, read from `events.jsonl` and again from `pmm.db`; then the
//! incremental state against a full rebuild after every single event.

mod common;

use std::sync::Arc;

use common::{case_sources, diff_outputs, first_difference, fixture_cases, load_events, read_json};
use pmm_server::rules::embedding::{cosine, digest, embed};
use pmm_server::rules::{Fold, State};
use serde_json::{json, Value};

/// Every expected outputs object of a case, sorted by `after_id`.
fn expected_outputs(expected: &Value) -> Vec<Value> {
    let mut all = vec![expected["final"].clone()];
    if let Some(checkpoints) = expected["checkpoints"].as_array() {
        all.extend(checkpoints.iter().cloned());
    }
    all.sort_by_key(|o| o["after_id"].as_i64().unwrap_or(0));
    all
}

#[test]
fn outputs_match_every_fixture_at_every_checkpoint() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in fixture_cases() {
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let expected = read_json(&case.join("expected.json"));
        let targets = expected_outputs(&expected);
        for source in case_sources(&case) {
            let label = source
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let events = load_events(&source);
            let mut state = State::default();
            let mut next = events.iter().peekable();
            for target in &targets {
                let after_id = target["after_id"].as_i64().expect("after_id");
                while let Some(ev) = next.next_if(|ev| ev.id <= after_id) {
                    state.apply(ev);
                }
                let actual = state.outputs().expect("outputs");
                failures.extend(diff_outputs(
                    target,
                    &actual,
                    &format!("{name} [{label} after_id={after_id}]"),
                ));
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A fold snapshot at every checkpoint, read back, plus the rows after it
/// equals a full rebuild (from `events.jsonl` and from `pmm.db`).
#[test]
fn snapshot_then_replay_equals_a_full_rebuild_at_every_checkpoint() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in fixture_cases() {
        let expected = read_json(&case.join("expected.json"));
        let mut cuts: Vec<i64> = expected_outputs(&expected)
            .iter()
            .filter_map(|o| o["after_id"].as_i64())
            .collect();
        cuts.push(1);
        for source in case_sources(&case) {
            let events = load_events(&source);
            let (diffs, n) = common::snapshot::snapshot_replay_differences(
                &events,
                &cuts,
                &source.display().to_string(),
            );
            failures.extend(diffs);
            compared += n;
        }
    }
    assert!(compared > 0);
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn embeddings_and_cosines_match_every_fixture() {
    let mut failures = Vec::new();
    for case in fixture_cases() {
        let expected = read_json(&case.join("expected.json"));
        for (i, e) in expected["embeddings"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let text = e["text"].as_str().expect("text");
            let vector = embed(text);
            let actual: Value = vector
                .iter()
                .map(|x| pmm_server::rules::float_value(*x))
                .collect();
            if let Some(d) = first_difference(
                &e["vector"],
                &actual,
                &format!("{}: embeddings[{i}]", case.display()),
            ) {
                failures.push(d);
            }
            if digest(&vector) != e["digest"].as_str().unwrap_or_default() {
                failures.push(format!(
                    "{}: embeddings[{i}].digest {} != {}",
                    case.display(),
                    digest(&vector),
                    e["digest"]
                ));
            }
        }
        for (i, c) in expected["cosine"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let value = cosine(
                &embed(c["a"].as_str().unwrap_or_default()),
                &embed(c["b"].as_str().unwrap_or_default()),
            );
            if let Some(d) = first_difference(
                &c["value"],
                &pmm_server::rules::float_value(value),
                &format!("{}: cosine[{i}]", case.display()),
            ) {
                failures.push(d);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn chain_verdict_matches_every_fixture() {
    for case in fixture_cases() {
        let expected = read_json(&case.join("expected.json"));
        for source in case_sources(&case) {
            let events = load_events(&source);
            let verdict = pmm_server::chain::verify_chain(&events);
            assert_eq!(
                json!(verdict.is_ok()),
                expected["final"]["chain_ok"],
                "{}: {verdict:?}",
                source.display()
            );
        }
    }
}

/// Applies the events one at a time to a state that is cloned (as the
/// server publishes snapshots) before each step, and checks after every
/// single event that it equals a fresh fold of that prefix.
#[test]
fn incremental_state_equals_full_rebuild_after_every_event() {
    for case in fixture_cases() {
        let events: Vec<Arc<_>> = load_events(&case.join("events.jsonl"))
            .into_iter()
            .map(Arc::new)
            .collect();
        let mut incremental = State::default();
        let mut published_outputs = incremental.outputs().expect("outputs");
        for (n, ev) in events.iter().enumerate() {
            let published = incremental.clone();
            incremental.apply_shared(Arc::clone(ev));
            let mut rebuilt = State::default();
            for ev in &events[..=n] {
                rebuilt.apply_shared(Arc::clone(ev));
            }
            let (a, b) = (
                incremental.outputs().expect("outputs"),
                rebuilt.outputs().expect("outputs"),
            );
            let diffs = diff_outputs(&b, &a, &format!("{} after event {}", case.display(), ev.id));
            assert!(diffs.is_empty(), "{}", diffs.join("\n"));
            // The snapshot taken before this step must not have moved.
            let still = published.outputs().expect("outputs");
            let moved = diff_outputs(
                &published_outputs,
                &still,
                &format!("{} snapshot before event {}", case.display(), ev.id),
            );
            assert!(moved.is_empty(), "{}", moved.join("\n"));
            assert_eq!(published.event_count(), n as u64);
            published_outputs = a;
        }
    }
}
