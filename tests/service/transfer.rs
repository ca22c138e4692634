//! Export and Import: identical rows both ways, resumable, conflicts refused.

use crate::common::fixtures_root;
use crate::common::server::TestServer;
use pmm::v1::{self};
use tokio_stream::StreamExt;
use tonic::Code;

async fn export_all(s: &mut TestServer) -> Vec<v1::Event> {
    let mut stream = s
        .ledger
        .export(v1::ExportRequest {
            chunk_size: 7,
            ..Default::default()
        })
        .await
        .expect("export")
        .into_inner();
    let mut rows = Vec::new();
    while let Some(chunk) = stream.next().await {
        rows.extend(chunk.expect("chunk").rows);
    }
    rows
}

#[tokio::test]
async fn export_then_import_gives_identical_rows_and_import_is_resumable() {
    let mut source = TestServer::start_on_copy(&fixtures_root().join("small/pmm.db")).await;
    let rows = export_all(&mut source).await;
    assert_eq!(rows.len(), 200);
    let mut target = TestServer::start().await;
    let first = target
        .ledger
        .import(v1::ImportRequest {
            rows: rows[..120].to_vec(),
            mode: 0,
        })
        .await
        .expect("import")
        .into_inner();
    assert_eq!((first.imported, first.skipped), (120, 0));
    // Resuming with overlap skips what is stored identically.
    let second = target
        .ledger
        .import(v1::ImportRequest {
            rows: rows[100..].to_vec(),
            mode: 0,
        })
        .await
        .expect("resume")
        .into_inner();
    assert_eq!((second.imported, second.skipped), (80, 20));
    assert_eq!(export_all(&mut target).await, rows);
    // A conflicting row is refused with the head, and nothing is written.
    let mut changed = rows[199].clone();
    changed.content.push('!');
    let err = target
        .ledger
        .import(v1::ImportRequest {
            rows: vec![changed],
            mode: 0,
        })
        .await
        .expect_err("conflict");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("content"), "{}", err.message());
    assert_eq!(
        err.metadata()
            .get(pmm::TRAILER_LAST_ID)
            .and_then(|v| v.to_str().ok()),
        Some("200")
    );
    let source_metrics = source
        .mind
        .get_metrics(v1::GetMetricsRequest::default())
        .await
        .expect("m")
        .into_inner();
    let target_metrics = target
        .mind
        .get_metrics(v1::GetMetricsRequest::default())
        .await
        .expect("m")
        .into_inner();
    assert_eq!(source_metrics, target_metrics);
    source.stop().await;
    target.stop().await;
}
