//! Idempotency keys: a retry returns the originals and writes nothing.

use crate::common::server::{keyed, TestServer};
use pmm::v1::AppendRequest;
use tonic::Code;

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
