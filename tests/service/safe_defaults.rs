//! Safe defaults: loopback without TLS or tokens by default; a non-loopback
//! address without tokens refused before anything is bound or opened; data
//! folders 0700 and database files 0600 (and an existing file keeps its
//! mode); VERBATIM import only copies into an empty ledger; the transport
//! limit on concurrent streams reported in Stats.

use pmm::v1;
use pmm_client::{ClientError, ImportMode, NewEvent};
use pmm_server::config::Config;
use pmm_server::security::SecurityError;
use pmm_server::server::{self, ServeError};
use tonic::Code;

use crate::common::security::quick;
use crate::common::server::TestServer;

#[test]
fn the_default_is_loopback_without_tls_or_tokens() {
    let config = Config::for_db("unused.db");
    if std::env::var_os("PMM_ADDR").is_none() {
        assert_eq!(config.addr.to_string(), "127.0.0.1:50051");
    }
    assert!(config.tls_cert.is_none() && config.tls_key.is_none());
    if std::env::var_os("PMM_TOKENS").is_none() {
        assert!(config.tokens.is_none());
    }
    assert!(!config.insecure);
}

#[tokio::test]
async fn a_non_loopback_address_without_tokens_is_refused_before_binding() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("data").join("pmm.db");
    let mut config = Config::for_db(&db);
    // Never bound: the refusal comes first.
    config.addr = "0.0.0.0:0".parse().expect("addr");
    config.tokens = None;
    config.insecure = false;
    match server::bind_and_start(config).await {
        Err(ServeError::Security(SecurityError::Exposed { addr })) => {
            assert_eq!(addr.to_string(), "0.0.0.0:0");
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("started on 0.0.0.0 without tokens"),
    }
    assert!(!db.exists() && !db.parent().expect("parent").exists());
}

#[cfg(unix)]
#[tokio::test]
async fn new_data_folders_are_0700_and_database_files_0600() {
    use crate::common::security::mode;
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("data").join("minds").join("pmm.db");
    let mut s = TestServer::start_with(|c| c.db = Some(db.clone())).await;
    s.append("user", "written", "{}").await;
    for folder in [dir.path().join("data"), dir.path().join("data/minds")] {
        assert_eq!(mode(&folder), 0o700, "{}", folder.display());
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", db.display());
        assert_eq!(mode(std::path::Path::new(&file)), 0o600, "{file}");
    }
    s.stop().await;

    // An existing file keeps the mode it was given.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let mut again = TestServer::start_with(|c| c.db = Some(db.clone())).await;
    assert_eq!(again.head().await.last_id, 1);
    assert_eq!(mode(&db), 0o640);
    again.stop().await;
}

/// A row whose hash is made up.
fn forged(id: u64, prev_hash: Option<String>) -> v1::Event {
    v1::Event {
        id,
        ts: "2025-01-01T00:00:00Z".into(),
        kind: "user".into(),
        content: format!("forged {id}"),
        meta: "{}".into(),
        prev_hash,
        hash: format!("{id:064}"),
    }
}

#[tokio::test]
async fn verbatim_import_copies_into_an_empty_ledger_but_never_extends_one() {
    // The case: one VERBATIM row with a bad hash on top of a
    // ledger must not break every later Append.
    let mut s = TestServer::start().await;
    let client = s.client_with(quick()).await.expect("connect");
    let first = client
        .append(NewEvent::new("user", "hello"))
        .await
        .expect("append");
    let err = client
        .import(
            vec![forged(2, Some(first.hash.clone()))],
            ImportMode::Verbatim,
        )
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Some(Code::FailedPrecondition), "{err}");
    assert!(
        err.message().is_some_and(
            |m| m.starts_with("VERBATIM import only copies a ledger into an empty one")
        ),
        "{err}"
    );
    assert_eq!(err.conflict_head().map(|h| h.last_id), Some(1));
    client
        .append(NewEvent::new("user", "still writable"))
        .await
        .expect("appends go on");
    s.stop().await;

    // A broken ledger is copied as it is, in several calls.
    let mut copy = TestServer::start().await;
    let client = copy.client_with(quick()).await.expect("connect");
    client
        .import(vec![forged(1, None), forged(2, None)], ImportMode::Verbatim)
        .await
        .expect("into an empty ledger");
    let done = client
        .import(
            vec![forged(2, None), forged(3, Some("x".into()))],
            ImportMode::Verbatim,
        )
        .await
        .expect("the next batch of the copy");
    assert_eq!((done.imported, done.skipped, done.head.last_id), (1, 1, 3));
    let broken = client
        .append(NewEvent::new("user", "on a broken chain"))
        .await
        .expect_err("a broken copy takes no appends");
    assert!(matches!(
        broken,
        ClientError::Status {
            code: Code::DataLoss,
            ..
        }
    ));
    copy.stop().await;
}

#[tokio::test]
async fn stats_report_the_concurrent_streams_limit() {
    let mut s = TestServer::start_with(|c| c.max_concurrent_streams = 7).await;
    let stats = s.stats().await;
    assert_eq!(stats.limits.expect("limits").max_concurrent_streams, 7);
    s.stop().await;
}
