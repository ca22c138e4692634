//! Subscriptions: catch-up, the caught_up marker, live events under
//! concurrent appends with no gap and no duplicate, kinds filters, slow
//! subscribers, and a clean end on shutdown.

use std::time::Duration;

use crate::common::server::{input, TestServer};
use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::subscribe_request::Start;
use pmm::v1::subscribe_response::Item;
use pmm::v1::{self, AppendRequest, SubscribeRequest};
use tonic::{Code, Streaming};

/// Waits for the next stream item, failing the test after 10 s.
async fn next(stream: &mut Streaming<v1::SubscribeResponse>) -> Item {
    let message = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("stream item within 10 s")
        .expect("stream status")
        .expect("stream not ended");
    message.item.expect("item")
}

/// Reads items until `n` events arrived (skipping heartbeats), returning
/// their ids and whether caught_up was seen on the way.
async fn events(stream: &mut Streaming<v1::SubscribeResponse>, n: usize) -> (Vec<u64>, bool) {
    let mut ids = Vec::new();
    let mut caught_up = false;
    while ids.len() < n {
        match next(stream).await {
            Item::Event(e) => ids.push(e.id),
            Item::CaughtUp(_) => caught_up = true,
            Item::Heartbeat(_) => {}
        }
    }
    (ids, caught_up)
}

async fn append_many(mut ledger: LedgerClient<tonic::transport::Channel>, writer: usize, n: usize) {
    for i in 0..n {
        let kind = if i % 3 == 0 { "reflection" } else { "user" };
        ledger
            .append(AppendRequest {
                events: vec![input(kind, &format!("writer {writer} event {i}"), "{}")],
                ..Default::default()
            })
            .await
            .expect("append");
    }
}

#[tokio::test]
async fn catch_up_then_live_under_concurrent_appends_without_gap_or_duplicate() {
    let mut s = TestServer::start().await;
    for i in 0..50 {
        s.append("user", &format!("before {i}"), "{}").await;
    }
    let mut stream = s
        .ledger
        .subscribe(SubscribeRequest {
            start: Some(Start::FromStart(true)),
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    // Concurrent writers while the subscriber is still catching up.
    let writers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(append_many(s.ledger.clone(), w, 50)))
        .collect();
    let (ids, caught_up) = events(&mut stream, 250).await;
    for w in writers {
        w.await.expect("writer");
    }
    assert!(
        caught_up,
        "the caught_up marker comes between catch-up and live"
    );
    assert_eq!(
        ids,
        (1..=250).collect::<Vec<u64>>(),
        "every event once, in id order"
    );
    s.stop().await;
}

#[tokio::test]
async fn caught_up_marks_the_position_and_kinds_filter_applies() {
    let mut s = TestServer::start().await;
    s.append("user", "a", "{}").await;
    s.append("reflection", "b", "{}").await;
    s.append("user", "c", "{}").await;
    let mut stream = s
        .ledger
        .subscribe(SubscribeRequest {
            start: Some(Start::AfterId(1)),
            kinds: vec!["user".into()],
            heartbeat_ms: Some(0),
        })
        .await
        .expect("subscribe")
        .into_inner();
    match next(&mut stream).await {
        Item::Event(e) => assert_eq!((e.id, e.kind.as_str()), (3, "user")),
        other => panic!("expected event 3, got {other:?}"),
    }
    match next(&mut stream).await {
        Item::CaughtUp(c) => {
            assert_eq!(c.position, 3);
            assert_eq!(c.head.expect("head").last_id, 3);
        }
        other => panic!("expected caught_up, got {other:?}"),
    }
    s.append("reflection", "filtered out", "{}").await;
    s.append("user", "live", "{}").await;
    match next(&mut stream).await {
        Item::Event(e) => assert_eq!((e.id, e.content.as_str()), (5, "live")),
        other => panic!("expected live event 5, got {other:?}"),
    }
    s.stop().await;
}

#[tokio::test]
async fn only_new_and_heartbeats_carry_the_head() {
    let mut s = TestServer::start().await;
    s.append("user", "old", "{}").await;
    let mut stream = s
        .ledger
        .subscribe(SubscribeRequest {
            start: Some(Start::OnlyNew(true)),
            heartbeat_ms: Some(100),
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    assert!(matches!(next(&mut stream).await, Item::CaughtUp(c) if c.position == 1));
    match next(&mut stream).await {
        Item::Heartbeat(h) => assert_eq!((h.position, h.head.expect("head").last_id), (1, 1)),
        other => panic!("expected a heartbeat, got {other:?}"),
    }
    s.append("user", "new", "{}").await;
    let (ids, _) = events(&mut stream, 1).await;
    assert_eq!(ids, [2]);
    s.stop().await;
}

#[tokio::test]
async fn after_id_beyond_the_head_is_out_of_range() {
    let mut s = TestServer::start().await;
    s.append("user", "a", "{}").await;
    let err = s
        .ledger
        .subscribe(SubscribeRequest {
            start: Some(Start::AfterId(5)),
            ..Default::default()
        })
        .await
        .expect_err("beyond head");
    assert_eq!(err.code(), Code::OutOfRange);
    s.stop().await;
}

/// A subscriber that reads nothing while thousands of events are appended
/// (far beyond the live buffer) neither blocks the writers nor misses an
/// event: it falls back to SQLite and catches up.
#[tokio::test]
async fn a_slow_subscriber_neither_blocks_appends_nor_loses_events() {
    let mut s = TestServer::start_with(|c| c.subscriber_buffer = 16).await;
    let mut stream = s
        .ledger
        .subscribe(SubscribeRequest {
            start: Some(Start::OnlyNew(true)),
            heartbeat_ms: Some(0),
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    assert!(matches!(next(&mut stream).await, Item::CaughtUp(_)));
    let total = 3000;
    let batch: Vec<_> = (0..100)
        .map(|i| input("user", &format!("bulk {i}"), "{}"))
        .collect();
    tokio::time::timeout(Duration::from_secs(30), async {
        for _ in 0..total / 100 {
            s.ledger
                .append(AppendRequest {
                    events: batch.clone(),
                    ..Default::default()
                })
                .await
                .expect("append");
        }
    })
    .await
    .expect("appends are not held up by a subscriber that reads nothing");
    let (ids, _) = events(&mut stream, total).await;
    assert_eq!(ids, (1..=total as u64).collect::<Vec<_>>());
    s.stop().await;
}

#[tokio::test]
async fn shutdown_ends_subscriptions_with_unavailable() {
    let mut s = TestServer::start().await;
    s.append("user", "a", "{}").await;
    let mut stream = s
        .ledger
        .subscribe(SubscribeRequest {
            start: Some(Start::FromStart(true)),
            heartbeat_ms: Some(0),
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    let (ids, _) = events(&mut stream, 1).await;
    assert_eq!(ids, [1]);
    assert!(matches!(next(&mut stream).await, Item::CaughtUp(_)));
    tokio::time::timeout(Duration::from_secs(10), s.stop())
        .await
        .expect("shutdown completes with a subscriber open");
    let end = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("stream ends");
    match end {
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        Ok(other) => panic!("expected UNAVAILABLE, got {other:?}"),
    }
}

/// Subscriptions beyond `--max-subscribers` are refused with
/// RESOURCE_EXHAUSTED naming the limit; once one ends, a new one is taken.
#[tokio::test]
async fn subscriptions_beyond_the_limit_are_refused_until_one_ends() {
    let s = TestServer::start_with(|c| c.max_subscribers = 2).await;
    let subscribe = |mut ledger: LedgerClient<tonic::transport::Channel>| async move {
        ledger
            .subscribe(SubscribeRequest {
                heartbeat_ms: Some(0),
                ..Default::default()
            })
            .await
    };
    let first = subscribe(s.ledger.clone()).await.expect("first");
    let _second = subscribe(s.ledger.clone()).await.expect("second");
    let refused = subscribe(s.ledger.clone()).await.expect_err("third");
    assert_eq!(
        refused.code(),
        Code::ResourceExhausted,
        "{}",
        refused.message()
    );
    assert!(refused.message().contains('2'), "{}", refused.message());
    drop(first);
    // The hub notices the dropped stream at its next send or check.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match subscribe(s.ledger.clone()).await {
            Ok(_) => break,
            Err(e) if e.code() == Code::ResourceExhausted => {
                assert!(std::time::Instant::now() < deadline, "never freed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}
