//! Stats: counts by kind, commits, limits.

use crate::common::server::TestServer;

#[tokio::test]
async fn stats_count_kinds_and_commits() {
    let mut s = TestServer::start().await;
    s.append("user", "a", "{}").await;
    s.append("user", "b", "{}").await;
    s.append("reflection", "c", "{}").await;
    let stats = s.stats().await;
    assert_eq!(stats.event_count, 3);
    assert_eq!(stats.events_by_kind.get("user"), Some(&2));
    assert_eq!(stats.events_by_kind.get("reflection"), Some(&1));
    assert_eq!((stats.appended_events, stats.commits), (3, 3));
    assert_eq!(stats.limits.expect("limits").max_batch_events, 1000);
    s.stop().await;
}
