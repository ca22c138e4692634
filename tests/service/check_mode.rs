//! The check mode: the incremental state equals a rebuild from SQLite.

use crate::common::server::{input, TestServer};

/// The check mode rebuilds all derived state from SQLite every N appended
/// events and compares it with the incremental state: after a varied mix of
/// appends (single, batched, retried) every check must agree.
#[tokio::test]
async fn check_mode_finds_incremental_state_equal_to_a_rebuild() {
    use std::sync::atomic::Ordering;
    let mut s = TestServer::start_with(|c| c.verify_folds_every = 7).await;
    let mix = [
        ("identity_adopt", "Echo", r#"{"confidence": 0.95}"#),
        (
            "commitment_open",
            "ship it",
            r#"{"cid": "c1", "text": "Ship it. Today."}"#,
        ),
        (
            "autonomy_tick",
            "",
            r#"{"telemetry": {"IAS": 0.4, "GAS": 0.3}}"#,
        ),
        ("reflection", "my name is Echo; identity holds", "{}"),
        (
            "trait_update",
            "",
            r#"{"delta": {"o": 0.1, "openness": -0.02}}"#,
        ),
        (
            "autonomy_directive",
            "Be  concise.",
            r#"{"source": "reflection", "origin_eid": "3"}"#,
        ),
        ("commitment_close", "", r#"{"cid": "c1"}"#),
    ];
    for round in 0..6 {
        let events: Vec<_> = mix.iter().map(|(k, c, m)| input(k, c, m)).collect();
        s.append_batch(events).await;
        s.append("user", &format!("round {round}"), "{}").await;
    }
    let ledger = s
        .running
        .as_ref()
        .and_then(|r| r.gate.get())
        .and_then(|minds| minds.default_mind())
        .expect("ledger");
    let stats = ledger.sequencer_stats();
    assert!(
        stats.fold_checks.load(Ordering::Relaxed) >= 5,
        "the check ran"
    );
    assert_eq!(stats.fold_mismatches.load(Ordering::Relaxed), 0);
    assert!(s.verify().await.ok);
    s.stop().await;
}
