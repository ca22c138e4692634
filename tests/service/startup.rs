//! Start-up: the server listens at once, reports NOT_SERVING and answers
//! UNAVAILABLE while it rebuilds derived state, then serves.

use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::{self};
use pmm_server::config::Config;
use pmm_server::server;
use serde_json::json;
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// Writes a chained ledger of `n` events straight into SQLite.
fn write_ledger(path: &std::path::Path, n: i64) {
    let mut conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, kind TEXT NOT NULL,
         content TEXT NOT NULL, meta TEXT NOT NULL, prev_hash TEXT, hash TEXT);",
    )
    .expect("schema");
    let tx = conn.transaction().expect("tx");
    let mut prev: Option<String> = None;
    {
        let mut insert = tx
            .prepare("INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .expect("insert");
        for id in 1..=n {
            let ts = format!("2025-09-29T12:00:00.{:06}+00:00", id % 1_000_000);
            let (kind, content) = if id % 5 == 0 {
                ("autonomy_tick", String::new())
            } else {
                ("user", format!("message {id}"))
            };
            let meta = json!({"telemetry": {"IAS": 0.5, "GAS": 0.4}, "n": id});
            let hash =
                pmm_server::chain::event_hash(id, &ts, kind, &content, &meta, prev.as_deref())
                    .expect("hash");
            insert
                .execute(rusqlite::params![
                    id,
                    ts,
                    kind,
                    content,
                    meta.to_string(),
                    prev,
                    hash
                ])
                .expect("row");
            prev = Some(hash);
        }
    }
    tx.commit().expect("commit");
}

#[tokio::test]
async fn not_serving_and_unavailable_until_the_rebuild_is_done() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("pmm.db");
    write_ledger(&db, 200_000);
    let mut config = Config::for_db(&db);
    config.addr = "127.0.0.1:0".parse().expect("addr");
    let mut running = server::bind_and_start(config).await.expect("start");
    let channel = Channel::from_shared(format!("http://{}", running.addr))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut health = HealthClient::new(channel.clone());
    let mut ledger = LedgerClient::new(channel);
    let status = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health")
        .into_inner()
        .status;
    let head = ledger.head(v1::HeadRequest {}).await;
    running.ready().await.expect("ready");
    // The rebuild of 200,000 events takes far longer than a local round trip.
    assert_eq!(status, 2, "NOT_SERVING during the rebuild");
    let err = head.expect_err("UNAVAILABLE during the rebuild");
    assert_eq!(err.code(), Code::Unavailable);
    assert!(
        err.message().starts_with("starting up"),
        "{}",
        err.message()
    );
    let status = health
        .check(HealthCheckRequest {
            service: "pmm.v1.Ledger".into(),
        })
        .await
        .expect("health")
        .into_inner()
        .status;
    assert_eq!(status, 1, "SERVING once rebuilt");
    assert_eq!(
        ledger
            .head(v1::HeadRequest {})
            .await
            .expect("head")
            .into_inner()
            .last_id,
        200_000
    );
    running.shut_down().await.expect("shutdown");
}
