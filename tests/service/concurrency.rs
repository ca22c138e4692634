//! Concurrent writes: optimistic concurrency (`expected_last_id`) and many
//! writers at once forming one chain with every acknowledged event.

use crate::common::server::{input, TestServer};
use pmm::v1::{self, AppendRequest};
use tonic::Code;

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
