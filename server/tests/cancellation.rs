//! Abandoned work stops: VerifyChain calls whose clients gave up (a 1 ms
//! deadline) stop within a batch, so the server uses almost no CPU once the
//! last client has failed; calls beyond the admission limit are refused at
//! once, saying when to retry.

mod support;

use std::time::Duration;

use pmm::v1;
use support::{write_ledger, Server};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_chain_calls_given_up_by_their_clients_stop() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("pmm.db");
    write_ledger(&db, 100_000);
    let server = Server::spawn(&db, &[]).await;
    let ledger = server.ledger().await;

    let calls: Vec<_> = (0..50)
        .map(|_| {
            let mut ledger = ledger.clone();
            tokio::spawn(async move {
                let mut request = tonic::Request::new(v1::VerifyChainRequest {});
                request.set_timeout(Duration::from_millis(1));
                ledger.verify_chain(request).await
            })
        })
        .collect();
    let mut codes = Vec::new();
    for call in calls {
        codes.push(call.await.expect("task").expect_err("given up").code());
    }
    assert!(
        codes.iter().all(|c| matches!(
            c,
            Code::DeadlineExceeded | Code::ResourceExhausted | Code::Cancelled
        )),
        "{codes:?}"
    );
    // The server stops what its clients gave up: a full verification of
    // 100k rows costs more than a second here.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = server.cpu();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let spent = server.cpu() - before;
    assert!(
        spent < Duration::from_millis(300),
        "{spent:?} of CPU after the clients left"
    );

    let stats = ledger
        .clone()
        .stats(v1::StatsRequest {})
        .await
        .expect("stats")
        .into_inner();
    let verify = stats
        .work
        .iter()
        .find(|w| w.name == "verify_chain")
        .expect("verify_chain work");
    assert_eq!(verify.running, 0);
    assert!(verify.refused >= 1, "{verify:?}");
    assert!(verify.cancelled >= 1, "{verify:?}");
    assert_eq!(stats.limits.expect("limits").max_concurrent_verify, 2);

    // With its clients gone, a verification still runs to the end.
    let result = ledger
        .clone()
        .verify_chain(v1::VerifyChainRequest {})
        .await
        .expect("verify")
        .into_inner();
    assert!(result.ok, "{}", result.reason);
    assert_eq!(result.checked, 100_000);
}
