//! Ids are 1 to 2^53 - 1 and never wrap: Import refuses a larger id naming
//! the bound, an Append after the largest id is refused with the ledger
//! unchanged, and the ledger stays valid across a restart.

use crate::common::server::TestServer;
use pmm::v1;
use pmm_server::chain::event_hash;
use serde_json::json;
use tonic::Code;

const MAX_ID: u64 = (1 << 53) - 1;

/// A correctly hashed row at `id`, linked to `prev_hash`.
fn row(id: u64, prev_hash: Option<String>) -> v1::Event {
    let ts = "2025-09-29T12:00:00+00:00";
    let hash = event_hash(
        id as i64,
        ts,
        "user",
        "imported",
        &json!({}),
        prev_hash.as_deref(),
    )
    .expect("hash");
    v1::Event {
        id,
        ts: ts.into(),
        kind: "user".into(),
        content: "imported".into(),
        meta: "{}".into(),
        prev_hash,
        hash,
    }
}

#[tokio::test]
async fn an_id_above_the_bound_is_refused_and_appends_go_on() {
    let mut s = TestServer::start().await;
    s.append("user", "one", "{}").await;
    let head = s.head().await;
    for id in [MAX_ID + 1, i64::MAX as u64] {
        let err = s
            .ledger
            .import(v1::ImportRequest {
                rows: vec![row(id, head.last_hash.clone())],
                mode: 0,
            })
            .await
            .expect_err("too large");
        assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
        assert!(
            err.message()
                .contains("is above the largest id 9007199254740991"),
            "{}",
            err.message()
        );
        assert_eq!(s.head().await, head, "nothing written");
    }
    assert_eq!(
        s.append("user", "two", "{}").await,
        2,
        "the next id follows"
    );
    s.stop().await;
}

#[tokio::test]
async fn after_the_largest_id_appends_are_refused_and_the_ledger_stays_valid() {
    let mut s = TestServer::start().await;
    s.ledger
        .import(v1::ImportRequest {
            rows: vec![row(MAX_ID, None)],
            mode: 0,
        })
        .await
        .expect("a row at the largest id");
    let head = s.head().await;
    assert_eq!(head.last_id, MAX_ID);
    let err = s
        .ledger
        .append(v1::AppendRequest {
            events: vec![crate::common::server::input("user", "more", "{}")],
            ..Default::default()
        })
        .await
        .expect_err("no id left");
    assert_eq!(err.code(), Code::ResourceExhausted, "{}", err.message());
    assert!(err.message().contains("no id is left"), "{}", err.message());
    assert_eq!(s.head().await, head, "nothing written");
    s.restart().await;
    assert_eq!(s.head().await, head);
    let verified = s.verify().await;
    assert!(verified.ok, "{}", verified.reason);
    s.stop().await;
}
