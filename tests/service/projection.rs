//! GetProjection pages through the lists that grow with the ledger.

use crate::common::server::{input, TestServer};
use pmm::v1::{self};

/// The expired commitments and warnings grow with the ledger: by default
/// the latest 20 of each come back with their totals, and limit/skip page
/// through the rest, each page in ledger order.
#[tokio::test]
async fn projection_returns_the_latest_expired_and_warnings_and_pages_through_the_rest() {
    let mut s = TestServer::start().await;
    let mut events = Vec::new();
    for i in 0..45 {
        let meta = format!(r#"{{"cid": "c{i}", "text": "task {i}"}}"#);
        events.push(input("commitment_open", "", &meta));
        let end = if i < 30 {
            "commitment_expire"
        } else {
            "commitment_close"
        };
        events.push(input(end, "", &format!(r#"{{"cid": "c{i}"}}"#)));
    }
    s.append_batch(events).await;
    let project = |request: v1::GetProjectionRequest| {
        let mut mind = s.mind.clone();
        async move {
            mind.get_projection(request)
                .await
                .expect("projection")
                .into_inner()
        }
    };
    let cids = |p: &v1::GetProjectionResponse| -> Vec<String> {
        let expired: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&p.self_model.as_ref().expect("self model").expired_json)
                .expect("expired json");
        expired.keys().cloned().collect()
    };
    let warned =
        |p: &v1::GetProjectionResponse| -> Vec<u64> { p.warnings.iter().map(|w| w.eid).collect() };
    let names =
        |range: std::ops::Range<usize>| -> Vec<String> { range.map(|i| format!("c{i}")).collect() };
    // Closes of c30..c44 (ids 62, 64, …, 90) warn: no evidence came first.
    let warning_ids =
        |range: std::ops::Range<u64>| -> Vec<u64> { range.map(|i| 2 * i + 2).collect() };

    let latest = project(v1::GetProjectionRequest::default()).await;
    assert_eq!((latest.expired_total, latest.warnings_total), (30, 15));
    assert_eq!(cids(&latest), names(10..30));
    assert_eq!(warned(&latest), warning_ids(30..45));

    let older = project(v1::GetProjectionRequest {
        expired_skip: 20,
        warnings_limit: Some(4),
        warnings_skip: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(cids(&older), names(0..10));
    assert_eq!(warned(&older), warning_ids(31..35));

    let none = project(v1::GetProjectionRequest {
        expired_limit: Some(0),
        warnings_limit: Some(0),
        ..Default::default()
    })
    .await;
    assert!(cids(&none).is_empty() && none.warnings.is_empty());
    assert_eq!((none.expired_total, none.warnings_total), (30, 15));

    let beyond = project(v1::GetProjectionRequest {
        expired_skip: 1_000,
        ..Default::default()
    })
    .await;
    assert!(cids(&beyond).is_empty());
    s.stop().await;
}
