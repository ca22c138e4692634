//! Addressing a mind: the `pmm-mind` header. A server of one file (`--db`)
//! serves one mind, `default`: calls without the header or naming it are
//! served, a name outside the documented set is INVALID_ARGUMENT naming the
//! header, any other mind NOT_FOUND for every `pmm.v1` call (Head and
//! Subscribe too), with the ledger untouched; health ignores the header.
//! Servers of a data directory: see `many_minds`.

use crate::common::server::{for_mind, input, TestServer};
use pmm::v1;
use tonic::Code;

#[tokio::test]
async fn one_file_serves_default_and_others_are_not_found() {
    let mut s = TestServer::start().await;
    s.append("user", "hello", "{}").await;

    // Naming the default mind is the same as naming none.
    let head = s
        .ledger
        .head(for_mind(v1::HeadRequest {}, "default"))
        .await
        .expect("default")
        .into_inner();
    assert_eq!(head.last_id, 1);
    let appended = s
        .ledger
        .append(for_mind(
            v1::AppendRequest {
                events: vec![input("user", "again", "{}")],
                ..Default::default()
            },
            "default",
        ))
        .await
        .expect("append to default")
        .into_inner();
    assert_eq!(appended.events[0].id, 2);

    // Another mind: NOT_FOUND naming it, whatever the call.
    let append = s
        .ledger
        .append(for_mind(
            v1::AppendRequest {
                events: vec![input("user", "to alice", "{}")],
                ..Default::default()
            },
            "alice",
        ))
        .await
        .expect_err("no alice");
    assert_eq!(append.code(), Code::NotFound, "{}", append.message());
    assert!(
        append
            .message()
            .starts_with("pmm-mind: no mind named \"alice\"")
            && append.message().contains("--db"),
        "{}",
        append.message()
    );
    // Nor can one be created on it.
    let create = s
        .minds
        .create_mind(v1::CreateMindRequest {
            name: "alice".into(),
        })
        .await
        .expect_err("one file");
    assert_eq!(
        create.code(),
        Code::FailedPrecondition,
        "{}",
        create.message()
    );
    let list = s
        .minds
        .list_minds(v1::ListMindsRequest::default())
        .await
        .expect("list")
        .into_inner();
    let names: Vec<&str> = list.minds.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["default"]);
    let head = s
        .ledger
        .head(for_mind(v1::HeadRequest {}, "alice"))
        .await
        .expect_err("no alice");
    assert_eq!(head.code(), Code::NotFound);
    let subscribe = s
        .ledger
        .subscribe(for_mind(v1::SubscribeRequest::default(), "alice"))
        .await
        .expect_err("no alice");
    assert_eq!(subscribe.code(), Code::NotFound);
    let metrics = s
        .mind
        .get_metrics(for_mind(v1::GetMetricsRequest::default(), "alice"))
        .await
        .expect_err("no alice");
    assert_eq!(metrics.code(), Code::NotFound);

    // A name outside the set: INVALID_ARGUMENT naming the header.
    let bad = s
        .ledger
        .head(for_mind(v1::HeadRequest {}, "Alice/1"))
        .await
        .expect_err("bad name");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        bad.message(),
        "pmm-mind: \"Alice/1\" must start with a-z or 0-9"
    );

    // Health is not about a mind.
    let mut health = tonic_health::pb::health_client::HealthClient::new(s.channel.clone());
    let status = health
        .check(for_mind(
            tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            },
            "alice",
        ))
        .await
        .expect("health")
        .into_inner();
    assert_eq!(status.status, 1);

    // Nothing of the refused calls was written.
    assert_eq!(s.head().await.last_id, 2);
}
