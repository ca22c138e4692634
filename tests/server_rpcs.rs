//! The remaining RPCs through the real server: health, reflection, reads,
//! stats, embeddings, search, validation of view parameters, import/export,
//! and appending on top of a reference-made ledger.

mod common;

use common::server::{input, TestServer};
use common::{fixtures_root, read_json};
use pmm::v1::{self, AppendRequest};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

#[tokio::test]
async fn health_is_serving_and_reflection_lists_only_public_services() {
    let mut s = TestServer::start().await;
    let mut health = HealthClient::new(s.channel.clone());
    for service in ["", "pmm.v1.Ledger", "pmm.v1.Mind"] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health")
            .into_inner();
        assert_eq!(r.status, 1, "SERVING for {service:?}");
    }
    let mut reflection = ServerReflectionClient::new(s.channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("reflection")
        .into_inner();
    let response = stream.next().await.expect("a response").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        ["grpc.health.v1.Health", "pmm.v1.Ledger", "pmm.v1.Mind"]
    );

    // The same through v1alpha, all that older grpcurl and ghz speak.
    use tonic_reflection::pb::v1alpha as alpha;
    let mut old = alpha::server_reflection_client::ServerReflectionClient::new(s.channel.clone());
    let request = alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut stream = old
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("v1alpha reflection")
        .into_inner();
    let response = stream.next().await.expect("a response").expect("ok");
    let Some(alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("expected a service list");
    };
    let mut old_names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    old_names.sort();
    assert_eq!(old_names, names);
    s.stop().await;
}

#[tokio::test]
async fn read_pages_forward_and_backward_with_a_kinds_filter() {
    let mut s = TestServer::start().await;
    for i in 1..=10 {
        s.append(
            if i % 2 == 0 { "even" } else { "odd" },
            &format!("e{i}"),
            "{}",
        )
        .await;
    }
    let page = s
        .ledger
        .read(v1::ReadRequest {
            start_id: Some(2),
            limit: 3,
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        page.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert_eq!((page.next_start_id, page.as_of_id), (Some(5), 10));
    let back = s
        .ledger
        .read(v1::ReadRequest {
            direction: v1::ReadDirection::Backward as i32,
            kinds: vec!["even".into()],
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        back.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [10, 8, 6, 4, 2]
    );
    assert_eq!(back.next_start_id, None);
    let err = s
        .ledger
        .read(v1::ReadRequest {
            start_id: Some(0),
            ..Default::default()
        })
        .await
        .expect_err("start 0");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("start_id"));
    let err = s
        .ledger
        .get_event(v1::GetEventRequest { id: 99 })
        .await
        .expect_err("missing");
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("last id is 10"), "{}", err.message());
    s.stop().await;
}

#[tokio::test]
async fn stats_count_kinds_and_commits() {
    let mut s = TestServer::start().await;
    s.append("user", "a", "{}").await;
    s.append("user", "b", "{}").await;
    s.append("reflection", "c", "{}").await;
    let stats = s
        .ledger
        .stats(v1::StatsRequest {})
        .await
        .expect("stats")
        .into_inner();
    assert_eq!(stats.event_count, 3);
    assert_eq!(stats.events_by_kind.get("user"), Some(&2));
    assert_eq!(stats.events_by_kind.get("reflection"), Some(&1));
    assert_eq!((stats.appended_events, stats.commits), (3, 3));
    assert_eq!(stats.limits.expect("limits").max_batch_events, 1000);
    s.stop().await;
}

#[tokio::test]
async fn embed_matches_the_fixtures_and_search_ranks_similar_events_first() {
    let mut s = TestServer::start().await;
    let expected = read_json(&fixtures_root().join("tiny/expected.json"));
    for e in expected["embeddings"]
        .as_array()
        .expect("embeddings")
        .iter()
        .take(5)
    {
        let r = s
            .mind
            .embed(v1::EmbedRequest {
                text: e["text"].as_str().expect("text").into(),
            })
            .await
            .expect("embed")
            .into_inner();
        assert_eq!(r.digest, e["digest"].as_str().expect("digest"));
        let want: Vec<f64> = e["vector"]
            .as_array()
            .expect("vector")
            .iter()
            .map(|x| x.as_f64().expect("f64"))
            .collect();
        assert_eq!(r.vector, want);
    }
    s.append("user", "the hash chain keeps the ledger honest", "{}")
        .await;
    s.append("user", "a haiku about persistence and growth", "{}")
        .await;
    s.append("user", "", "{}").await;
    s.append("response", "the hash chain verifies every row", "{}")
        .await;
    let r = s
        .mind
        .search(v1::SearchRequest {
            query: "hash chain ledger".into(),
            top_k: 2,
            kinds: vec![],
        })
        .await
        .expect("search")
        .into_inner();
    assert_eq!(r.scanned, 3, "events with empty content are not searched");
    assert_eq!(r.hits.len(), 2);
    assert_eq!(r.hits[0].event_id, 1);
    assert!(r.hits[0].score >= r.hits[1].score);
    let only = s
        .mind
        .search(v1::SearchRequest {
            query: "hash chain".into(),
            top_k: 5,
            kinds: vec!["response".into()],
        })
        .await
        .expect("search")
        .into_inner();
    assert_eq!(
        only.hits.iter().map(|h| h.event_id).collect::<Vec<_>>(),
        [4]
    );
    let err = s
        .mind
        .search(v1::SearchRequest {
            query: "x".into(),
            top_k: 1000,
            kinds: vec![],
        })
        .await
        .expect_err("top_k");
    assert!(err.message().starts_with("top_k"), "{}", err.message());
    s.stop().await;
}

#[tokio::test]
async fn view_parameters_are_validated() {
    let mut s = TestServer::start().await;
    s.append("user", "a", "{}").await;
    let cases = [
        (
            v1::GetContextRequest {
                n_reflections: Some(101),
                ..Default::default()
            },
            Code::InvalidArgument,
            "n_reflections",
        ),
        (
            v1::GetContextRequest {
                tail: Some(0),
                ..Default::default()
            },
            Code::InvalidArgument,
            "tail",
        ),
        (
            v1::GetContextRequest {
                tail: Some(5000),
                ..Default::default()
            },
            Code::InvalidArgument,
            "tail",
        ),
        (
            v1::GetContextRequest {
                layout: 9,
                ..Default::default()
            },
            Code::InvalidArgument,
            "layout",
        ),
        (
            v1::GetContextRequest {
                as_of_id: Some(7),
                ..Default::default()
            },
            Code::OutOfRange,
            "as_of_id",
        ),
    ];
    for (request, code, field) in cases {
        let err = s.mind.get_context(request).await.expect_err("invalid");
        assert_eq!(err.code(), code, "{field}: {}", err.message());
        assert!(err.message().contains(field), "{field}: {}", err.message());
    }
    s.stop().await;
}

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

#[tokio::test]
async fn full_durability_is_reported_and_commits_persist() {
    let mut s =
        TestServer::start_with(|c| c.durability = pmm_server::config::DurabilityArg::Full).await;
    s.append("user", "durable", "{}").await;
    let stats = s
        .ledger
        .stats(v1::StatsRequest {})
        .await
        .expect("stats")
        .into_inner();
    assert_eq!(stats.durability, v1::Durability::Full as i32);
    s.stop().await;
    // Reopened, the ledger still holds the event and verifies.
    let conn = rusqlite::Connection::open(&s.db).expect("open");
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1);
}

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

/// The expired commitments and warnings grow with the ledger: by default
/// the latest 20 of each come back with their totals, and limit/skip page
/// through the rest, each page in ledger order.
#[tokio::test]
async fn projection_returns_the_latest_expired_and_warnings_and_pages_through_the_rest() {
    let mut s = TestServer::start().await;
    let mut events = Vec::new();
    for i in 0..45 {
        let meta = format!(r#"{{"cid": "c{i}", "text": "task {i}"}}"#);
        events.push(input("commitment_open", "", &meta));
        let end = if i < 30 {
            "commitment_expire"
        } else {
            "commitment_close"
        };
        events.push(input(end, "", &format!(r#"{{"cid": "c{i}"}}"#)));
    }
    s.append_batch(events).await;
    let project = |request: v1::GetProjectionRequest| {
        let mut mind = s.mind.clone();
        async move {
            mind.get_projection(request)
                .await
                .expect("projection")
                .into_inner()
        }
    };
    let cids = |p: &v1::GetProjectionResponse| -> Vec<String> {
        let expired: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&p.self_model.as_ref().expect("self model").expired_json)
                .expect("expired json");
        expired.keys().cloned().collect()
    };
    let warned =
        |p: &v1::GetProjectionResponse| -> Vec<u64> { p.warnings.iter().map(|w| w.eid).collect() };
    let names =
        |range: std::ops::Range<usize>| -> Vec<String> { range.map(|i| format!("c{i}")).collect() };
    // Closes of c30..c44 (ids 62, 64, …, 90) warn: no evidence came first.
    let warning_ids =
        |range: std::ops::Range<u64>| -> Vec<u64> { range.map(|i| 2 * i + 2).collect() };

    let latest = project(v1::GetProjectionRequest::default()).await;
    assert_eq!((latest.expired_total, latest.warnings_total), (30, 15));
    assert_eq!(cids(&latest), names(10..30));
    assert_eq!(warned(&latest), warning_ids(30..45));

    let older = project(v1::GetProjectionRequest {
        expired_skip: 20,
        warnings_limit: Some(4),
        warnings_skip: 10,
        ..Default::default()
    })
    .await;
    assert_eq!(cids(&older), names(0..10));
    assert_eq!(warned(&older), warning_ids(31..35));

    let none = project(v1::GetProjectionRequest {
        expired_limit: Some(0),
        warnings_limit: Some(0),
        ..Default::default()
    })
    .await;
    assert!(cids(&none).is_empty() && none.warnings.is_empty());
    assert_eq!((none.expired_total, none.warnings_total), (30, 15));

    let beyond = project(v1::GetProjectionRequest {
        expired_skip: 1_000,
        ..Default::default()
    })
    .await;
    assert!(cids(&beyond).is_empty());
    s.stop().await;
}
