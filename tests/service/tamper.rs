//! The tamper matrix: a ledger edited behind the server's back is caught at
//! the first bad row — edits to any column, a deleted or inserted row, an
//! unreadable meta — and rows cut off its end, or the whole file emptied,
//! by the head anchor kept beside it: appends are refused until an operator
//! accepts the file as it is (`--accept-anchor`).

use std::path::{Path, PathBuf};

use crate::common::server::{input, TestServer};
use pmm::v1;
use tonic::Code;

/// A server over a ledger of 20 appended rows, stopped (so that its final
/// checkpoint has written the anchor).
async fn ledger_of_20() -> TestServer {
    let mut s = TestServer::start().await;
    for i in 1..=20 {
        s.append("user", &format!("message {i}"), &format!(r#"{{"n": {i}}}"#))
            .await;
    }
    s.stop().await;
    let anchor = anchor_path(&s.db);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !anchor.exists() {
        assert!(std::time::Instant::now() < deadline, "no anchor written");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    s
}

fn anchor_path(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push("-anchor");
    PathBuf::from(path)
}

fn tamper(db: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch(sql).expect("tamper");
}

async fn appended(s: &mut TestServer) -> Result<v1::AppendResponse, tonic::Status> {
    s.ledger
        .append(v1::AppendRequest {
            events: vec![input("user", "after tampering", "{}")],
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn every_edit_is_found_at_its_first_bad_row() {
    let cases: &[(&str, u64, v1::ChainFault)] = &[
        (
            "UPDATE events SET content = 'edited' WHERE id = 7",
            7,
            v1::ChainFault::HashMismatch,
        ),
        (
            r#"UPDATE events SET meta = '{"n": 80}' WHERE id = 8"#,
            8,
            v1::ChainFault::HashMismatch,
        ),
        (
            "UPDATE events SET ts = '2020-01-01T00:00:00+00:00' WHERE id = 3",
            3,
            v1::ChainFault::HashMismatch,
        ),
        (
            "UPDATE events SET kind = 'response' WHERE id = 4",
            4,
            v1::ChainFault::HashMismatch,
        ),
        (
            "UPDATE events SET hash = substr(hash, 2) || '0' WHERE id = 9",
            9,
            v1::ChainFault::HashMismatch,
        ),
        (
            "UPDATE events SET prev_hash = NULL WHERE id = 10",
            10,
            v1::ChainFault::PrevHashMismatch,
        ),
        (
            "UPDATE events SET hash = NULL WHERE id = 11",
            11,
            v1::ChainFault::HashMissing,
        ),
        (
            "DELETE FROM events WHERE id = 12",
            13,
            v1::ChainFault::PrevHashMismatch,
        ),
        (
            "INSERT INTO events (id, ts, kind, content, meta, prev_hash, hash)
             SELECT 21, ts, kind, 'inserted', meta, hash, hash FROM events WHERE id = 20",
            21,
            v1::ChainFault::HashMismatch,
        ),
        (
            "UPDATE events SET meta = '{not json' WHERE id = 5",
            5,
            v1::ChainFault::UnreadableRow,
        ),
    ];
    for (sql, first_bad, fault) in cases {
        let mut s = ledger_of_20().await;
        tamper(&s.db, sql);
        s.restart().await;
        let verified = s.verify().await;
        assert_eq!(
            verified.first_bad_id,
            Some(*first_bad),
            "{sql}: {}",
            verified.reason
        );
        assert_eq!(verified.fault, *fault as i32, "{sql}: {}", verified.reason);
        let err = appended(&mut s).await.expect_err(sql);
        assert_eq!(err.code(), Code::DataLoss, "{sql}: {}", err.message());
        s.stop().await;
    }
}

#[tokio::test]
async fn rows_cut_off_the_end_are_caught_by_the_anchor() {
    let mut s = ledger_of_20().await;
    tamper(&s.db, "DELETE FROM events WHERE id >= 19");
    s.restart().await;
    // The chain of what is left verifies: only the anchor tells.
    assert!(s.verify().await.ok);
    let err = appended(&mut s).await.expect_err("refused");
    assert_eq!(err.code(), Code::DataLoss);
    assert!(err.message().contains("truncated"), "{}", err.message());
    assert!(
        err.message().contains("--accept-anchor"),
        "{}",
        err.message()
    );
    let stats = s.stats().await;
    assert!(stats.condition.contains("row 20"), "{}", stats.condition);
    // Health: the server and the Ledger service are not serving, reads are.
    let mut health = tonic_health::pb::health_client::HealthClient::new(s.channel.clone());
    for (service, serving) in [("", false), ("pmm.v1.Ledger", false), ("pmm.v1.Mind", true)] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health")
            .into_inner()
            .status;
        assert_eq!(status == 1, serving, "{service:?}");
    }
    assert_eq!(s.head().await.last_id, 18, "reads are served");
    s.stop().await;
}

#[tokio::test]
async fn an_emptied_file_is_not_an_empty_ledger_until_accepted() {
    let mut s = ledger_of_20().await;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = s.db.as_os_str().to_owned();
        path.push(suffix);
        if suffix.is_empty() {
            std::fs::write(&path, b"").expect("empty the file");
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    s.restart().await;
    assert_eq!(s.head().await.last_id, 0);
    let err = appended(&mut s).await.expect_err("refused");
    assert_eq!(err.code(), Code::DataLoss);
    assert!(err.message().contains("truncated"), "{}", err.message());
    s.stop().await;

    // The operator accepts the file as it is: appends go on, and the next
    // start finds it consistent.
    s.reconfigure(|c| c.accept_anchor = true);
    s.restart().await;
    assert_eq!(appended(&mut s).await.expect("accepted").events[0].id, 1);
    s.stop().await;
    s.reconfigure(|c| c.accept_anchor = false);
    s.restart().await;
    assert_eq!(appended(&mut s).await.expect("consistent").events[0].id, 2);
    s.stop().await;
}
