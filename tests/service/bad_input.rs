//! Bad input is refused precisely (the field named, the right code) and
//! leaves the ledger exactly as it was.

use crate::common::server::{input, keyed, TestServer};
use pmm::v1::{self, AppendRequest};
use tonic::Code;

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
async fn view_parameters_are_validated() {
    let mut s = TestServer::start().await;
    s.append("user", "a", "{}").await;
    let cases = [
        (
            v1::GetContextRequest {
                n_reflections: Some(101),
                ..Default::default()
            },
            Code::InvalidArgument,
            "n_reflections",
        ),
        (
            v1::GetContextRequest {
                tail: Some(0),
                ..Default::default()
            },
            Code::InvalidArgument,
            "tail",
        ),
        (
            v1::GetContextRequest {
                tail: Some(5000),
                ..Default::default()
            },
            Code::InvalidArgument,
            "tail",
        ),
        (
            v1::GetContextRequest {
                layout: 9,
                ..Default::default()
            },
            Code::InvalidArgument,
            "layout",
        ),
        (
            v1::GetContextRequest {
                as_of_id: Some(7),
                ..Default::default()
            },
            Code::OutOfRange,
            "as_of_id",
        ),
    ];
    for (request, code, field) in cases {
        let err = s.mind.get_context(request).await.expect_err("invalid");
        assert_eq!(err.code(), code, "{field}: {}", err.message());
        assert!(err.message().contains(field), "{field}: {}", err.message());
    }
    s.stop().await;
}
