//! One damaged row never makes a ledger unreachable: a stored meta that is
//! not JSON, or a column that is not what the schema says, is reported
//! (VerifyChain, Stats) and refuses appends naming the row, while every
//! other row and view is served. A stored `NaN` or `Infinity` (which
//! Python's `json` writes and reads) is read, hashed and folded as Python
//! does.

use crate::common::server::{input, TestServer};
use pmm::v1;
use pmm_server::chain::event_hash;
use tonic::Code;

/// A server over a ledger of `n` appended rows, stopped, then `tamper`ed
/// with in SQLite, then started again.
async fn damaged(n: usize, tamper: &str) -> TestServer {
    let mut s = TestServer::start().await;
    for i in 0..n {
        s.append("user", &format!("message {i}"), r#"{"source": "test"}"#)
            .await;
    }
    s.stop().await;
    let conn = rusqlite::Connection::open(&s.db).expect("open");
    conn.execute_batch(tamper).expect("tamper");
    drop(conn);
    s.restart().await;
    s
}

#[tokio::test]
async fn a_row_whose_meta_is_not_json_is_reported_and_the_rest_served() {
    let mut s = damaged(8, "UPDATE events SET meta = '{not json' WHERE id = 5").await;
    let head = s.head().await;
    assert_eq!(head.last_id, 8, "every row is there");

    let verified = s.verify().await;
    assert!(!verified.ok);
    assert_eq!(verified.first_bad_id, Some(5));
    assert_eq!(verified.fault, v1::ChainFault::UnreadableRow as i32);
    assert!(
        verified.reason.contains("not valid JSON"),
        "{}",
        verified.reason
    );

    let stats = s.stats().await;
    let fault = stats.chain_fault.expect("the fault is reported");
    assert_eq!(
        (fault.id, fault.fault),
        (5, v1::ChainFault::UnreadableRow as i32)
    );

    let err = s
        .ledger
        .append(v1::AppendRequest {
            events: vec![input("user", "more", "{}")],
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::DataLoss);
    assert!(err.message().contains("id 5"), "{}", err.message());
    assert_eq!(s.head().await, head, "nothing written");

    // Reads of everything else are served; the row itself as stored.
    let page = s
        .ledger
        .read(v1::ReadRequest::default())
        .await
        .expect("read")
        .into_inner();
    assert_eq!(page.events.len(), 8);
    assert_eq!(page.events[4].meta, "{not json");
    s.mind
        .get_metrics(v1::GetMetricsRequest::default())
        .await
        .expect("views are served");
    s.stop().await;
}

#[tokio::test]
async fn a_null_where_text_belongs_is_reported_not_fatal() {
    // A table whose NOT NULL constraints were dropped, as a damaged or
    // foreign file may have.
    let mut s = damaged(
        4,
        "PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET sql = replace(sql, 'ts TEXT NOT NULL', 'ts TEXT') WHERE name = 'events';
         PRAGMA writable_schema = OFF;",
    )
    .await;
    s.stop().await;
    let conn = rusqlite::Connection::open(&s.db).expect("open");
    conn.execute("UPDATE events SET ts = NULL WHERE id = 3", [])
        .expect("tamper");
    drop(conn);
    s.restart().await;
    let verified = s.verify().await;
    assert_eq!(verified.first_bad_id, Some(3));
    assert!(
        verified.reason.contains("ts is NULL"),
        "{}",
        verified.reason
    );
    assert_eq!(s.head().await.last_id, 4);
    s.stop().await;
}

#[tokio::test]
async fn python_nan_and_infinity_in_stored_meta_are_read_hashed_and_folded() {
    let mut s = TestServer::start().await;
    // Rows as the reference writes them: meta texts with Python's
    // constants, hashed over `json.dumps` with its default allow_nan.
    let metas = [
        r#"{"telemetry": {"IAS": NaN, "GAS": 0.5}}"#,
        r#"{"delta": {"openness": Infinity}}"#,
        r#"{"x": -Infinity, "y": [NaN]}"#,
    ];
    let mut prev: Option<String> = None;
    let mut rows = Vec::new();
    for (i, meta) in metas.iter().enumerate() {
        let id = i as u64 + 1;
        let ts = "2025-09-29T12:00:00+00:00";
        let kind = if i == 1 {
            "trait_update"
        } else {
            "autonomy_tick"
        };
        let value = pmm::py::json::loads(meta).expect("Python's json reads it");
        let hash = event_hash(id as i64, ts, kind, "", &value, prev.as_deref()).expect("hash");
        rows.push(v1::Event {
            id,
            ts: ts.into(),
            kind: kind.into(),
            content: String::new(),
            meta: (*meta).into(),
            prev_hash: prev.replace(hash.clone()),
            hash,
        });
    }
    s.ledger
        .import(v1::ImportRequest { rows, mode: 0 })
        .await
        .expect("a copy of a reference ledger imports");
    s.restart().await;
    let verified = s.verify().await;
    assert!(verified.ok, "{}", verified.reason);
    assert_eq!(verified.checked, 3);
    // Folded as Python folds: openness + inf, clamped, is 1.0.
    let identity = s
        .mind
        .get_identity(v1::GetIdentityRequest::default())
        .await
        .expect("identity")
        .into_inner();
    assert_eq!(
        identity
            .identity
            .expect("identity")
            .traits
            .expect("traits")
            .openness,
        1.0
    );
    // New events still may not carry them (SPEC §1).
    let err = s
        .ledger
        .append(v1::AppendRequest {
            events: vec![input("user", "x", r#"{"a": NaN}"#)],
            ..Default::default()
        })
        .await
        .expect_err("refused on input");
    assert_eq!(err.code(), Code::InvalidArgument);
    // Appending on top of them keeps one valid chain.
    s.append("user", "after", "{}").await;
    assert!(s.verify().await.ok);
    s.stop().await;
}
