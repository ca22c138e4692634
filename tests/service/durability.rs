//! Durability: FULL is reported and commits persist; the WAL is
//! checkpointed in the background; a shutdown under load keeps every
//! acknowledged append.

use crate::common::server::{input, TestServer};
use pmm::v1::{self, AppendRequest};

#[tokio::test]
async fn full_durability_is_reported_and_commits_persist() {
    let mut s =
        TestServer::start_with(|c| c.durability = pmm_server::store::schema::Durability::Full)
            .await;
    s.append("user", "durable", "{}").await;
    let stats = s.stats().await;
    assert_eq!(stats.durability, v1::Durability::Full as i32);
    s.stop().await;
    // Reopened, the ledger still holds the event and verifies.
    let conn = rusqlite::Connection::open(&s.db).expect("open");
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1);
}

/// Commits only append to the WAL (the writer's automatic checkpoint is
/// off); the checkpoint thread copies them into the database file soon
/// after, with no other connection involved.
#[tokio::test]
async fn the_wal_is_checkpointed_into_the_database_in_the_background() {
    let mut s = TestServer::start().await;
    let db_size = |s: &TestServer| std::fs::metadata(&s.db).map(|m| m.len()).unwrap_or(0);
    let before = db_size(&s);
    let content = "x".repeat(1_000);
    for _ in 0..10 {
        let events = (0..100).map(|_| input("user", &content, "{}")).collect();
        s.append_batch(events).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while db_size(&s) < before + 1_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "database file still {} bytes (was {before})",
            db_size(&s)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let v = s.verify().await;
    assert!(v.ok && v.checked == 1_000, "{v:?}");
    s.stop().await;
}

/// Shutting down while writers keep appending: every append acknowledged
/// before the shutdown is stored once the ledger is reopened, and the chain
/// is whole; the rest fail (UNAVAILABLE or a closed connection) rather than
/// hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_load_keeps_every_acknowledged_append() {
    let mut s = TestServer::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..8u32 {
        let mut ledger = s.ledger.clone();
        tasks.spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                let events = vec![input("user", &format!("w{writer} #{i}"), "{}")];
                let request = AppendRequest {
                    events,
                    ..Default::default()
                };
                let answer = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    ledger.append(request),
                )
                .await
                .expect("an append must not hang across a shutdown");
                match answer {
                    Ok(r) => acknowledged.extend(r.into_inner().events.iter().map(|e| e.id)),
                    Err(_) => break,
                }
            }
            acknowledged
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    s.stop().await;
    let mut acknowledged = Vec::new();
    while let Some(done) = tasks.join_next().await {
        acknowledged.extend(done.expect("writer task"));
    }
    assert!(!acknowledged.is_empty());
    let mut reopened = TestServer::start_on_copy(&s.db).await;
    let head = reopened.head().await;
    let v = reopened.verify().await;
    assert!(v.ok, "{v:?}");
    for id in acknowledged {
        assert!(
            id <= head.last_id,
            "acknowledged #{id} beyond the stored head {head:?}"
        );
    }
    assert_eq!(v.checked, head.last_id);
    reopened.stop().await;
}
