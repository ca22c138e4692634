//! A ledger made by the reference keeps a valid chain when appended to.

use crate::common::fixtures_root;
use crate::common::server::{input, TestServer};
use pmm::v1::{self, AppendRequest};
use tonic::Code;

#[tokio::test]
async fn a_reference_ledger_keeps_its_chain_when_appended_to() {
    let mut s = TestServer::start_on_copy(&fixtures_root().join("tiny/pmm.db")).await;
    let before = s.head().await;
    let id = s
        .append("user", "appended after the reference", r#"{"k": 1}"#)
        .await;
    assert_eq!(id, before.last_id + 1);
    let v = s.verify().await;
    assert!(v.ok, "{v:?}");
    s.stop().await;

    let mut broken =
        TestServer::start_on_copy(&fixtures_root().join("chain_tampered_content/pmm.db")).await;
    let v = broken.verify().await;
    assert!(!v.ok);
    assert_eq!(v.fault, v1::ChainFault::HashMismatch as i32);
    let head = broken.head().await;
    let err = broken
        .ledger
        .append(AppendRequest {
            events: vec![input("user", "x", "")],
            ..Default::default()
        })
        .await
        .expect_err("no writes on a broken chain");
    assert_eq!(err.code(), Code::DataLoss);
    assert_eq!(broken.head().await, head);
    broken.stop().await;
}
