//! The connection limit: connections beyond it are closed at once, and a
//! freed slot serves a new client.

use std::time::Duration;

use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::HeadRequest;

use crate::support::{channel, closed_within, raw, stats, Server, PREFACE};

const LIMIT: usize = 20;
const OPENED: usize = 25;

#[tokio::test]
async fn connections_beyond_the_limit_are_refused_at_once_and_a_freed_slot_serves_a_client() {
    let server = Server::start(|s| {
        s.max_connections = LIMIT;
        s.idle_timeout = Duration::ZERO;
    })
    .await;
    let mut watching = tokio::task::JoinSet::new();
    for _ in 0..OPENED {
        let mut stream = raw(server.addr, PREFACE).await;
        watching.spawn(async move {
            let closed = closed_within(&mut stream, Duration::from_secs(1)).await;
            (closed, stream)
        });
    }
    let mut open = Vec::new();
    let mut refused = 0;
    while let Some(joined) = watching.join_next().await {
        match joined.expect("watcher") {
            (Some(after), _) => {
                assert!(after < Duration::from_millis(500), "closed after {after:?}");
                refused += 1;
            }
            (None, stream) => open.push(stream),
        }
    }
    assert_eq!((open.len(), refused), (LIMIT, OPENED - LIMIT));

    open.truncate(LIMIT - 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = channel(server.addr).await;
    let head = LedgerClient::new(client.clone())
        .head(HeadRequest {})
        .await
        .expect("a freed slot serves a new client");
    assert_eq!(head.into_inner().count, 0);
    let stats = stats(server.addr).await;
    assert_eq!(
        stats.connections_refused,
        (OPENED - LIMIT) as u64,
        "{stats:?}"
    );
    assert_eq!(stats.connections_open, LIMIT as u64, "{stats:?}");
    assert_eq!(stats.limits.expect("limits").max_connections, LIMIT as u32);
    drop((open, client));
    server.stop().await;
}
