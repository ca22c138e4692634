//! The idle timeout: a connection with nothing in progress is closed; a
//! live Subscribe stream keeps its connection open.

use std::time::Duration;

use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::subscribe_request::Start;
use pmm::v1::subscribe_response::Item;
use pmm::v1::{self, EventInput, SubscribeRequest};
use tonic::Streaming;

use crate::support::{channel, closed_within, raw, stats, stats_on, Server, PREFACE};

const IDLE: Duration = Duration::from_millis(500);

async fn next(stream: &mut Streaming<v1::SubscribeResponse>) -> Item {
    tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("an item within 5 s")
        .expect("stream status")
        .and_then(|m| m.item)
        .expect("an item")
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let server = Server::start(|s| s.idle_timeout = IDLE).await;
    // A raw HTTP/2 connection that never opens a stream.
    let mut idle = raw(server.addr, PREFACE).await;
    let closed = closed_within(&mut idle, Duration::from_secs(5))
        .await
        .expect("closed by the server");
    assert!(
        closed >= IDLE - Duration::from_millis(100),
        "closed after {closed:?}"
    );
    // A gRPC client's connection, idle after one call.
    let used = channel(server.addr).await;
    stats_on(used.clone()).await;
    tokio::time::sleep(IDLE * 3).await;
    let stats = stats(server.addr).await;
    assert_eq!(stats.connections_closed_idle, 2, "{stats:?}");
    assert_eq!(stats.connections_open, 1, "only the Stats call's own");
    server.stop().await;
}

#[tokio::test]
async fn a_live_subscription_keeps_its_connection_open_past_the_idle_timeout() {
    let server = Server::start(|s| s.idle_timeout = IDLE).await;
    let subscriber = channel(server.addr).await;
    let mut stream = LedgerClient::new(subscriber.clone())
        .subscribe(SubscribeRequest {
            start: Some(Start::OnlyNew(true)),
            kinds: Vec::new(),
            heartbeat_ms: Some(0),
        })
        .await
        .expect("subscribe")
        .into_inner();
    assert!(matches!(next(&mut stream).await, Item::CaughtUp(_)));
    tokio::time::sleep(IDLE * 3).await;
    let writer = channel(server.addr).await;
    LedgerClient::new(writer)
        .append(v1::AppendRequest {
            events: vec![EventInput {
                kind: "user".into(),
                content: "still there?".into(),
                meta: "{}".into(),
                idempotency_key: String::new(),
            }],
            ..Default::default()
        })
        .await
        .expect("append");
    match next(&mut stream).await {
        Item::Event(e) => assert_eq!(e.content, "still there?"),
        other => panic!("expected the event, got {other:?}"),
    }
    // Stats on the subscriber's own connection: it was never replaced.
    let stats = stats_on(subscriber).await;
    assert_eq!(stats.connections_accepted, 2, "{stats:?}");
    assert_eq!(stats.connections_closed_idle, 0, "{stats:?}");
    server.stop().await;
}
