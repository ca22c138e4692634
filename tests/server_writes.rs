//! Appends through the real server: batches, optimistic concurrency,
//! idempotent retries, and bad input that must leave the ledger unchanged.

mod common;

use common::server::{input, TestServer};
use pmm::v1::{self, AppendRequest};
use tonic::Code;

fn keyed(kind: &str, content: &str, key: &str) -> v1::EventInput {
    v1::EventInput {
        idempotency_key: key.to_string(),
        ..input(kind, content, "{}")
    }
}

#[tokio::test]
async fn batch_gets_consecutive_ids_and_a_valid_chain() {
    let mut s = TestServer::start().await;
    let first = s.append("user", "hello", r#"{"b": 1, "a": 2.50}"#).await;
    assert_eq!(first, 1);
    let r = s
        .append_batch(vec![
            input("response", "hi", ""),
            input("reflection", "I am", r#"{"x": [1, 2]}"#),
        ])
        .await;
    let ids: Vec<u64> = r.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(
        r.events[1].prev_hash.as_deref(),
        Some(r.events[0].hash.as_str())
    );
    assert_eq!(r.head.as_ref().map(|h| h.last_id), Some(3));
    // The meta text is stored exactly as sent, and the chain verifies.
    let ev = s
        .ledger
        .get_event(v1::GetEventRequest { id: 1 })
        .await
        .expect("get")
        .into_inner()
        .event
        .expect("event");
    assert_eq!(ev.meta, r#"{"b": 1, "a": 2.50}"#);
    assert_eq!(
        s.ledger
            .get_event(v1::GetEventRequest { id: 2 })
            .await
            .expect("get")
            .into_inner()
            .event
            .expect("event")
            .meta,
        "{}"
    );
    let v = s.verify().await;
    assert!(v.ok, "{v:?}");
    assert_eq!(v.checked, 3);
    s.stop().await;
}

#[tokio::test]
async fn expected_last_id_mismatch_is_aborted_with_the_head() {
    let mut s = TestServer::start().await;
    s.append("user", "one", "{}").await;
    let ok = s
        .ledger
        .append(AppendRequest {
            events: vec![input("user", "two", "")],
            expected_last_id: Some(1),
            ..Default::default()
        })
        .await;
    assert!(ok.is_ok());
    let err = s
        .ledger
        .append(AppendRequest {
            events: vec![input("user", "stale", "")],
            expected_last_id: Some(1),
            ..Default::default()
        })
        .await
        .expect_err("stale write must fail");
    assert_eq!(err.code(), Code::Aborted);
    assert!(
        err.message() == "expected_last_id: expected 1, ledger last id is 2",
        "{}",
        err.message()
    );
    assert_eq!(
        err.metadata()
            .get(pmm::TRAILER_LAST_ID)
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert!(err.metadata().get(pmm::TRAILER_LAST_HASH).is_some());
    // 0 means "the ledger must be empty".
    let err = s
        .ledger
        .append(AppendRequest {
            events: vec![input("user", "x", "")],
            expected_last_id: Some(0),
            ..Default::default()
        })
        .await
        .expect_err("not empty");
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(s.head().await.last_id, 2);
    s.stop().await;
}

#[tokio::test]
async fn idempotent_retry_returns_the_original_and_writes_nothing() {
    let mut s = TestServer::start().await;
    let request = AppendRequest {
        events: vec![keyed("user", "hi", "k1"), keyed("user", "there", "k2")],
        ..Default::default()
    };
    let first = s
        .ledger
        .append(request.clone())
        .await
        .expect("first")
        .into_inner();
    s.append("user", "other", "{}").await;
    let retry = s.ledger.append(request).await.expect("retry").into_inner();
    assert_eq!(retry.events.len(), 2);
    for (a, b) in first.events.iter().zip(&retry.events) {
        assert_eq!((a.id, &a.ts, &a.hash), (b.id, &b.ts, &b.hash));
        assert!(b.deduplicated && !a.deduplicated);
    }
    assert_eq!(s.head().await.last_id, 3);
    // Some keys known, some new: refused, nothing written.
    let err = s
        .ledger
        .append(AppendRequest {
            events: vec![keyed("user", "hi", "k1"), keyed("user", "new", "k3")],
            ..Default::default()
        })
        .await
        .expect_err("partial retry");
    assert_eq!(err.code(), Code::AlreadyExists);
    assert!(err.message().contains("k1"), "{}", err.message());
    assert_eq!(s.head().await.last_id, 3);
    s.stop().await;
}

/// Each bad request gets a precise status naming the field, and the ledger
/// is exactly as it was.
#[tokio::test]
async fn bad_input_is_refused_precisely_and_writes_nothing() {
    let mut s = TestServer::start_with(|c| {
        c.max_event_bytes = 1000;
        c.max_batch_events = 3;
    })
    .await;
    s.append("user", "before", "{}").await;
    let head = s.head().await;
    let cases: Vec<(Vec<v1::EventInput>, Code, &str)> = vec![
        (vec![], Code::InvalidArgument, "events"),
        (
            vec![input("", "x", "")],
            Code::InvalidArgument,
            "events[0].kind",
        ),
        (
            vec![input("user", "ok", ""), input("user", "x", "{not json")],
            Code::InvalidArgument,
            "events[1].meta: not valid JSON",
        ),
        (
            vec![input("user", "x", "[1, 2]")],
            Code::InvalidArgument,
            "events[0].meta: not a JSON object",
        ),
        (
            vec![input("user", "x", r#"{"a": NaN}"#)],
            Code::InvalidArgument,
            "events[0].meta",
        ),
        (
            vec![input("user", "x", r#"{"a": 1e400}"#)],
            Code::InvalidArgument,
            "events[0].meta",
        ),
        (
            vec![input("bad\nkind", "x", "")],
            Code::InvalidArgument,
            "events[0].kind",
        ),
        (
            vec![input("user", &"x".repeat(2000), "")],
            Code::ResourceExhausted,
            "max_event_bytes 1000",
        ),
        (
            vec![
                input("a", "", ""),
                input("b", "", ""),
                input("c", "", ""),
                input("d", "", ""),
            ],
            Code::ResourceExhausted,
            "max_batch_events 3",
        ),
        (
            vec![keyed("user", "a", "same"), keyed("user", "b", "same")],
            Code::InvalidArgument,
            "events[1].idempotency_key",
        ),
    ];
    for (events, code, needle) in cases {
        let err = s
            .ledger
            .append(AppendRequest {
                events,
                ..Default::default()
            })
            .await
            .expect_err("bad input must be refused");
        assert_eq!(err.code(), code, "{needle}: {}", err.message());
        assert!(
            err.message().contains(needle),
            "expected {needle:?} in {:?}",
            err.message()
        );
        assert_eq!(s.head().await, head, "nothing may be written ({needle})");
    }
    // Views with as_of_id are refused too.
    let err = s
        .ledger
        .append(AppendRequest {
            events: vec![input("user", "x", "")],
            views: Some(v1::AppendViewsRequest {
                context: Some(v1::GetContextRequest {
                    as_of_id: Some(1),
                    ..Default::default()
                }),
                metrics: None,
            }),
            ..Default::default()
        })
        .await
        .expect_err("views as_of");
    assert!(
        err.message().starts_with("views.context.as_of_id"),
        "{}",
        err.message()
    );
    assert_eq!(s.head().await, head);
    s.stop().await;
}

#[tokio::test]
async fn append_returns_views_as_of_its_write() {
    let mut s = TestServer::start().await;
    s.append("identity_adopt", "Echo", r#"{"confidence": 0.95}"#)
        .await;
    let r = s
        .ledger
        .append(AppendRequest {
            events: vec![input(
                "reflection",
                "my name is Echo and I reflect on identity",
                "",
            )],
            views: Some(v1::AppendViewsRequest {
                context: Some(v1::GetContextRequest::default()),
                metrics: Some(v1::GetMetricsRequest {
                    include_diagnosis: true,
                    as_of_id: None,
                }),
            }),
            ..Default::default()
        })
        .await
        .expect("append")
        .into_inner();
    let views = r.views.expect("views");
    let context = views.context.expect("context");
    assert_eq!(context.as_of_id, 2);
    assert!(context.text.contains("Identity: Echo"), "{}", context.text);
    assert!(context.text.contains("my name is Echo"), "{}", context.text);
    let metrics = views.metrics.expect("metrics");
    assert_eq!(
        metrics.diagnosis.expect("diagnosis").identity_reflections,
        1
    );
    // The same as a separate read.
    let read = s
        .mind
        .get_context(v1::GetContextRequest::default())
        .await
        .expect("context")
        .into_inner();
    assert_eq!(read.text, context.text);
    s.stop().await;
}

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
    let engine = s
        .running
        .as_ref()
        .and_then(|r| r.gate.get())
        .expect("engine")
        .clone();
    let stats = &engine.writer.stats;
    assert!(
        stats.fold_checks.load(Ordering::Relaxed) >= 5,
        "the check ran"
    );
    assert_eq!(stats.fold_mismatches.load(Ordering::Relaxed), 0);
    assert!(s.verify().await.ok);
    s.stop().await;
}

/// Many writers at once on a multi-threaded runtime: single appends and
/// batches large enough to be committed under `block_in_place`, from
/// several connections. Every acknowledged event is stored exactly once at
/// the id it was given, and the ledger is one valid chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_form_one_chain_with_every_acknowledged_event() {
    let mut s = TestServer::start().await;
    let addr = s.running.as_ref().expect("running").addr;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..24u32 {
        let channel = if writer % 3 == 0 {
            tonic::transport::Channel::from_shared(format!("http://{addr}"))
                .expect("uri")
                .connect()
                .await
                .expect("connect")
        } else {
            s.channel.clone()
        };
        tasks.spawn(async move {
            let mut ledger = v1::ledger_client::LedgerClient::new(channel);
            let mut acknowledged = Vec::new();
            for round in 0..12u32 {
                let size = if writer % 4 == 0 && round % 3 == 0 {
                    80
                } else {
                    1
                };
                let contents: Vec<String> = (0..size)
                    .map(|i| format!("w{writer} r{round} e{i}"))
                    .collect();
                let events = contents.iter().map(|c| input("user", c, "{}")).collect();
                let r = ledger
                    .append(AppendRequest {
                        events,
                        ..Default::default()
                    })
                    .await
                    .expect("append")
                    .into_inner();
                assert_eq!(r.events.len(), contents.len());
                acknowledged.extend(r.events.iter().map(|e| e.id).zip(contents));
            }
            acknowledged
        });
    }
    let mut acknowledged = Vec::new();
    while let Some(done) = tasks.join_next().await {
        acknowledged.extend(done.expect("writer task"));
    }
    acknowledged.sort();
    let expected_count = 24 * 12 + 6 * 4 * 79;
    assert_eq!(acknowledged.len(), expected_count);
    let ids: Vec<u64> = acknowledged.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (1..=expected_count as u64).collect::<Vec<_>>());
    for (id, content) in acknowledged.iter().step_by(97) {
        let stored = s
            .ledger
            .get_event(v1::GetEventRequest { id: *id })
            .await
            .expect("get")
            .into_inner()
            .event
            .expect("event");
        assert_eq!(&stored.content, content);
    }
    let v = s.verify().await;
    assert!(v.ok, "{v:?}");
    assert_eq!(v.checked, expected_count as u64);
    s.stop().await;
}

/// Commits only append to the WAL (the writer's automatic checkpoint is
/// off); the checkpoint thread copies them into the database file soon
/// after, with no other connection involved.
#[tokio::test]
async fn the_wal_is_checkpointed_into_the_database_in_the_background() {
    let mut s = TestServer::start().await;
    let db_size = |s: &TestServer| std::fs::metadata(&s.db).map(|m| m.len()).unwrap_or(0);
    let before = db_size(&s);
    let content = "x".repeat(1_000);
    for _ in 0..10 {
        let events = (0..100).map(|_| input("user", &content, "{}")).collect();
        s.append_batch(events).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while db_size(&s) < before + 1_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "database file still {} bytes (was {before})",
            db_size(&s)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let v = s.verify().await;
    assert!(v.ok && v.checked == 1_000, "{v:?}");
    s.stop().await;
}

/// Shutting down while writers keep appending: every append acknowledged
/// before the shutdown is stored once the ledger is reopened, and the chain
/// is whole; the rest fail (UNAVAILABLE or a closed connection) rather than
/// hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_load_keeps_every_acknowledged_append() {
    let mut s = TestServer::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..8u32 {
        let mut ledger = s.ledger.clone();
        tasks.spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                let events = vec![input("user", &format!("w{writer} #{i}"), "{}")];
                let request = AppendRequest {
                    events,
                    ..Default::default()
                };
                let answer = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    ledger.append(request),
                )
                .await
                .expect("an append must not hang across a shutdown");
                match answer {
                    Ok(r) => acknowledged.extend(r.into_inner().events.iter().map(|e| e.id)),
                    Err(_) => break,
                }
            }
            acknowledged
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    s.stop().await;
    let mut acknowledged = Vec::new();
    while let Some(done) = tasks.join_next().await {
        acknowledged.extend(done.expect("writer task"));
    }
    assert!(!acknowledged.is_empty());
    let mut reopened = TestServer::start_on_copy(&s.db).await;
    let head = reopened.head().await;
    let v = reopened.verify().await;
    assert!(v.ok, "{v:?}");
    for id in acknowledged {
        assert!(
            id <= head.last_id,
            "acknowledged #{id} beyond the stored head {head:?}"
        );
    }
    assert_eq!(v.checked, head.last_id);
    reopened.stop().await;
}
