//! The fold snapshot through the real server: saved every N appended
//! events, a restart folds only the rows after it and serves the same
//! views as a full rebuild; a damaged snapshot is ignored (full rebuild).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pmm::v1;

use crate::common::server::{input, TestServer};

fn snapshot_path(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push("-snapshot");
    PathBuf::from(path)
}

/// The id the snapshot file covers, if it holds a whole snapshot.
fn saved_id(path: &Path) -> Option<i64> {
    let bytes = std::fs::read(path).ok()?;
    pmm_server::ledger::persist::decode(&bytes)
        .ok()
        .map(|s| s.head.last_id)
}

/// The views a reader sees (context, metrics with diagnosis, projection).
async fn views(server: &mut TestServer) -> Vec<String> {
    let context = server
        .mind
        .get_context(v1::GetContextRequest::default())
        .await
        .expect("context")
        .into_inner();
    let metrics = server
        .mind
        .get_metrics(v1::GetMetricsRequest {
            include_diagnosis: true,
            ..Default::default()
        })
        .await
        .expect("metrics")
        .into_inner();
    let projection = server
        .mind
        .get_projection(v1::GetProjectionRequest::default())
        .await
        .expect("projection")
        .into_inner();
    vec![
        format!("{context:?}"),
        format!("{metrics:?}"),
        format!("{projection:?}"),
        format!("{:?}", server.head().await),
    ]
}

#[tokio::test]
async fn a_restart_starts_from_the_snapshot_and_serves_the_same_views() {
    let mut server = TestServer::start_with(|c| c.snapshot_every = 4).await;
    let kinds = [
        (
            "commitment_open",
            "write docs",
            r#"{"cid": 1, "text": "write docs"}"#,
        ),
        (
            "reflection",
            "I should focus",
            r#"{"telemetry": {"IAS": 0.31, "GAS": 0.72}}"#,
        ),
        ("trait_update", "", r#"{"delta": {"o": 0.013}}"#),
        (
            "autonomy_tick",
            "",
            r#"{"telemetry": {"IAS": 0.4, "GAS": 0.6}}"#,
        ),
        (
            "identity_adopt",
            "",
            r#"{"name": "Echo", "confidence": 0.93}"#,
        ),
    ];
    let event = |i: usize| {
        let (kind, content, meta) = kinds[i % kinds.len()];
        input(kind, &format!("{content} {i}"), meta)
    };
    // One request of N events: one save, at id 4 (none in flight after it).
    server.append_batch((0..4).map(event).collect()).await;
    let path = snapshot_path(&server.db);
    let deadline = Instant::now() + Duration::from_secs(20);
    while saved_id(&path) != Some(4) {
        assert!(Instant::now() < deadline, "no snapshot saved at id 4");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Fewer than N more: not saved.
    for i in 4..6 {
        server.append_batch(vec![event(i)]).await;
    }
    let before = views(&mut server).await;
    let at_4 = std::fs::read(&path).expect("the snapshot at id 4");

    // A graceful stop saves the snapshot at the head: nothing to fold.
    server.stop().await;
    assert_eq!(saved_id(&path), Some(6), "saved at close");
    server.restart().await;
    assert_eq!(server.stats().await.rebuild_events, 0);
    assert_eq!(views(&mut server).await, before);

    // From the one at id 4 (as after a crash): the rows after it folded.
    server.stop().await;
    std::fs::write(&path, &at_4).expect("put back the snapshot at id 4");
    server.restart().await;
    let folded = server.stats().await.rebuild_events;
    assert_eq!(folded, 2, "the restart folds the rows after the snapshot");
    assert_eq!(views(&mut server).await, before);

    // A damaged snapshot: ignored, every row folded, the same views.
    server.stop().await;
    let mut bytes = std::fs::read(&path).expect("snapshot");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, &bytes).expect("damage");
    server.restart().await;
    assert_eq!(server.stats().await.rebuild_events, 6);
    assert_eq!(views(&mut server).await, before);

    // Appends go on from the snapshot's head.
    server.restart().await;
    let id = server.append("user", "after", "{}").await;
    assert_eq!(id, 7);
    assert!(server.verify().await.ok);
}
