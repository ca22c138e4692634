//! Read and GetEvent: paging forward and backward, kinds filters, NOT_FOUND.

use crate::common::server::TestServer;
use pmm::v1::{self};
use tonic::Code;

#[tokio::test]
async fn read_pages_forward_and_backward_with_a_kinds_filter() {
    let mut s = TestServer::start().await;
    for i in 1..=10 {
        s.append(
            if i % 2 == 0 { "even" } else { "odd" },
            &format!("e{i}"),
            "{}",
        )
        .await;
    }
    let page = s
        .ledger
        .read(v1::ReadRequest {
            start_id: Some(2),
            limit: 3,
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        page.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert_eq!((page.next_start_id, page.as_of_id), (Some(5), 10));
    let back = s
        .ledger
        .read(v1::ReadRequest {
            direction: v1::ReadDirection::Backward as i32,
            kinds: vec!["even".into()],
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        back.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [10, 8, 6, 4, 2]
    );
    assert_eq!(back.next_start_id, None);
    let err = s
        .ledger
        .read(v1::ReadRequest {
            start_id: Some(0),
            ..Default::default()
        })
        .await
        .expect_err("start 0");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("start_id"));
    let err = s
        .ledger
        .get_event(v1::GetEventRequest { id: 99 })
        .await
        .expect_err("missing");
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("last id is 10"), "{}", err.message());
    s.stop().await;
}
