//! HTTP/2 keep-alive: a peer that does not answer pings is dropped; a real
//! client, which answers them, keeps its connection.

use std::time::Duration;

use crate::support::{channel, closed_within, raw, stats_on, Server, PREFACE};

#[tokio::test]
async fn a_peer_that_does_not_answer_pings_is_dropped() {
    let server = Server::start(|s| {
        s.keepalive_interval = Duration::from_millis(300);
        s.keepalive_timeout = Duration::from_millis(300);
        s.idle_timeout = Duration::ZERO;
    })
    .await;
    let client = channel(server.addr).await;
    let before = stats_on(client.clone()).await;
    // Sends the preface, then never reads: its ping answers never come.
    let mut deaf = raw(server.addr, PREFACE).await;
    let closed = closed_within(&mut deaf, Duration::from_secs(5))
        .await
        .expect("dropped by the server");
    assert!(
        closed >= Duration::from_millis(500),
        "dropped after {closed:?}"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The real client's connection is the same one (no reconnection).
    let after = stats_on(client).await;
    assert_eq!(after.connections_accepted, before.connections_accepted + 1);
    server.stop().await;
}
