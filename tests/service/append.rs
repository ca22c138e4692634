//! Append: consecutive ids in one valid chain, and derived views as of the
//! write.

use crate::common::server::{input, TestServer};
use pmm::v1::{self, AppendRequest};

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
