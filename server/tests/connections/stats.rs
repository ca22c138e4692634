//! The connection lines of Stats: the defaults in force and the counters.

use crate::support::{stats, Server};

#[tokio::test]
async fn stats_report_the_connection_limits_and_counters() {
    let server = Server::start(|_| {}).await;
    let stats = stats(server.addr).await;
    let limits = stats.limits.expect("limits");
    assert_eq!(limits.max_connections, 10_000);
    assert_eq!(limits.handshake_timeout_ms, 10_000);
    assert_eq!(limits.idle_timeout_ms, 300_000);
    assert_eq!(limits.keepalive_interval_ms, 0);
    assert_eq!(limits.tcp_keepalive_ms, 60_000);
    assert_eq!(limits.keepalive_timeout_ms, 20_000);
    assert_eq!((stats.connections_open, stats.connections_accepted), (1, 1));
    assert_eq!(stats.connections_refused, 0);
    assert_eq!(stats.accept_errors, 0);
    assert!(stats.open_files_limit > 0);
    server.stop().await;
}
