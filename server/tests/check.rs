//! `pmm-server --check` and damaged files: a healthy ledger is reported
//! healthy; a damaged index is found by the server (health NOT_SERVING,
//! DATA_LOSS naming the remedy) and rebuilt by `--check`, after which the
//! server serves it again; a broken chain is reported with its first bad row.

mod support;

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Output};

use pmm::v1;
use support::{write_ledger, Server};
use tonic::Code;

fn check(db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pmm-server"))
        .arg("--check")
        .arg("--db")
        .arg(db)
        .output()
        .expect("run pmm-server --check")
}

/// Overwrites the kind index's root page with garbage.
fn damage_the_kind_index(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open");
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("page size");
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'idx_events_kind_id'",
            [],
            |r| r.get(0),
        )
        .expect("the kind index");
    drop(conn);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(db)
        .expect("open file");
    let at = ((root - 1) * page_size) as u64;
    file.seek(SeekFrom::Start(at)).expect("seek");
    file.write_all(&vec![0xA5; page_size as usize])
        .expect("damage");
    file.sync_all().expect("sync");
}

#[test]
fn a_healthy_ledger_is_reported_healthy() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("pmm.db");
    write_ledger(&db, 500);
    let out = check(&db);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("SQLite integrity: ok"), "{report}");
    assert!(
        report.contains("hash chain: verified, 500 rows"),
        "{report}"
    );
    assert!(report.contains("verdict: healthy"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_index_is_reported_by_the_server_and_rebuilt_by_check() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("pmm.db");
    write_ledger(&db, 5000);
    damage_the_kind_index(&db);

    // The server opens it (its rebuild reads rows by id) and finds the
    // damage when a read uses the index: DATA_LOSS naming the remedy, and
    // health no longer SERVING.
    let server = Server::spawn(&db, &[]).await;
    let mut ledger = server.ledger().await;
    let read = ledger
        .read(v1::ReadRequest {
            kinds: vec!["autonomy_tick".into()],
            limit: 5000,
            ..Default::default()
        })
        .await;
    let err = match read {
        Ok(page) => panic!(
            "the index is damaged, yet {} rows came back",
            page.into_inner().events.len()
        ),
        Err(e) => e,
    };
    assert_eq!(err.code(), Code::DataLoss, "{}", err.message());
    assert!(
        err.message().contains("pmm-server --check"),
        "{}",
        err.message()
    );
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel().await);
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health")
        .into_inner()
        .status;
    assert_eq!(status, 2, "NOT_SERVING");
    drop(server);

    let out = check(&db);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("built them again; ok now"), "{report}");
    assert!(
        report.contains("hash chain: verified, 5000 rows"),
        "{report}"
    );

    let server = Server::spawn(&db, &[]).await;
    let page = server
        .ledger()
        .await
        .read(v1::ReadRequest {
            kinds: vec!["autonomy_tick".into()],
            limit: 5000,
            ..Default::default()
        })
        .await
        .expect("served again")
        .into_inner();
    assert_eq!(page.events.len(), 1000);
}

#[test]
fn a_broken_chain_is_reported_with_its_first_bad_row() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("pmm.db");
    write_ledger(&db, 300);
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute("UPDATE events SET content = 'edited' WHERE id = 123", [])
        .expect("tamper");
    drop(conn);
    let out = check(&db);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert!(report.contains("broken at row 123"), "{report}");
    assert!(report.contains("NOT healthy"), "{report}");
}
