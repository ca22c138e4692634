//! VerifyChain finds the first tampered row of a long ledger.

use crate::common::server::{input, TestServer};
use pmm::v1::{self};

/// VerifyChain over several thousand rows (hashing is split across
/// threads in batches) finds the first tampered row, not a later one.
#[tokio::test]
async fn verify_chain_reports_the_first_tampered_row_of_a_long_ledger() {
    let mut s = TestServer::start().await;
    for b in 0..50 {
        let events = (0..100)
            .map(|i| input("user", &format!("event {b}.{i}"), r#"{"n": 1.5}"#))
            .collect();
        s.append_batch(events).await;
    }
    let v = s.verify().await;
    assert!(v.ok, "{v:?}");
    assert_eq!((v.checked, v.as_of_id), (5000, 5000));
    s.stop().await;
    let conn = rusqlite::Connection::open(&s.db).expect("open");
    conn.execute(
        "UPDATE events SET content = 'edited' WHERE id IN (3500, 4700)",
        [],
    )
    .expect("tamper");
    drop(conn);
    let mut t = TestServer::start_on_copy(&s.db).await;
    let v = t.verify().await;
    assert!(!v.ok);
    assert_eq!(
        (v.first_bad_id, v.fault, v.checked),
        (Some(3500), v1::ChainFault::HashMismatch as i32, 3500)
    );
    assert!(v.reason.contains("3500"), "{}", v.reason);
    t.stop().await;
}
