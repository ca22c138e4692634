//! Tokens with roles: a missing or unknown token is UNAUTHENTICATED, a role
//! too low PERMISSION_DENIED (and nothing is written), health stays open,
//! reflection needs a token, a token is admitted only by its own text, and
//! a revoked token is refused after a reload.

use pmm::token::Role;
use pmm::v1;
use pmm_client::{Client, ClientError, ImportMode, NewEvent};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::ServerReflectionRequest;

use crate::common::security::{quick, with_token, Security, ADMIN, READER, WRITER};
use crate::common::server::TestServer;

async fn client(s: &TestServer, token: Option<&str>) -> Client {
    let options = match token {
        Some(token) => with_token(quick(), token),
        None => quick(),
    };
    s.client_with(options).await.expect("connect")
}

/// The code and message of a refused call.
fn refused<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (Code, String) {
    let err = result.expect_err("must be refused");
    (
        err.code().expect("a status"),
        err.message().unwrap_or_default().to_string(),
    )
}

async fn started(sec: &Security) -> TestServer {
    TestServer::start_with(|c| sec.tokens(c)).await
}

#[tokio::test]
async fn missing_and_unknown_tokens_are_unauthenticated_but_health_is_open() {
    let sec = Security::new();
    let mut s = started(&sec).await;
    assert_eq!(
        refused(client(&s, None).await.head().await),
        (
            Code::Unauthenticated,
            "missing authorization: Bearer token".to_string()
        )
    );
    assert_eq!(
        refused(
            client(&s, Some("pmm_not-a-listed-token"))
                .await
                .head()
                .await
        ),
        (Code::Unauthenticated, "unknown token".to_string())
    );
    let mut health = HealthClient::new(s.channel.clone());
    let status = health
        .check(HealthCheckRequest {
            service: "pmm.v1.Ledger".into(),
        })
        .await
        .expect("health without a token")
        .into_inner()
        .status;
    assert_eq!(status, 1, "SERVING");

    // Reflection takes any valid token, and none is refused.
    let list = |token: Option<&str>| {
        let mut request = tonic::Request::new(tokio_stream::iter(vec![ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        }]));
        if let Some(token) = token {
            let value = format!("Bearer {token}").parse().expect("metadata");
            request.metadata_mut().insert("authorization", value);
        }
        let mut reflection = ServerReflectionClient::new(s.channel.clone());
        async move { reflection.server_reflection_info(request).await.map(|_| ()) }
    };
    let status = list(None).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    list(Some(READER))
        .await
        .expect("a reader may list services");
    s.stop().await;
}

#[tokio::test]
async fn a_readers_append_and_a_writers_import_are_denied_with_the_head_unchanged() {
    let sec = Security::new();
    let mut s = started(&sec).await;
    let (reader, writer, admin) = (
        client(&s, Some(READER)).await,
        client(&s, Some(WRITER)).await,
        client(&s, Some(ADMIN)).await,
    );
    writer
        .append(NewEvent::new("user", "hello"))
        .await
        .expect("a writer appends");
    let head = reader.head().await.expect("a reader reads");
    assert_eq!(head.last_id, 1);

    assert_eq!(
        refused(reader.append(NewEvent::new("user", "no")).await),
        (
            Code::PermissionDenied,
            "this call needs role writer; token 'reader' has role reader".to_string()
        )
    );
    let rows: Vec<v1::Event> = admin
        .export(Default::default())
        .await
        .expect("export")
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flat_map(|chunk| chunk.expect("chunk"))
        .collect();
    assert_eq!(
        refused(writer.import(rows.clone(), ImportMode::Verify).await),
        (
            Code::PermissionDenied,
            "this call needs role admin; token 'writer' has role writer".to_string()
        )
    );
    assert_eq!(reader.head().await.expect("head"), head, "nothing written");
    let done = admin
        .import(rows, ImportMode::Verify)
        .await
        .expect("an admin imports");
    assert_eq!((done.imported, done.skipped), (0, 1));
    // Reads of every kind are a reader's.
    reader.stats().await.expect("Stats");
    reader.verify_chain().await.expect("VerifyChain");
    reader
        .get_metrics(&Default::default())
        .await
        .expect("GetMetrics");
    s.stop().await;
}

#[tokio::test]
async fn a_token_is_admitted_by_its_own_text_only() {
    let sec = Security::new();
    sec.write_tokens(&[("only", Role::Admin, "pmm_the-listed-token")]);
    let mut s = started(&sec).await;
    client(&s, Some("pmm_the-listed-token"))
        .await
        .head()
        .await
        .expect("the listed token");
    let digest = pmm::token::digest_hex("pmm_the-listed-token");
    for other in [digest.as_str(), "pmm_the-listed-token2", READER] {
        assert_eq!(
            refused(client(&s, Some(other)).await.head().await).0,
            Code::Unauthenticated,
            "{other}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn a_revoked_token_is_refused_after_a_reload_and_a_bad_file_changes_nothing() {
    let sec = Security::new();
    let mut s = started(&sec).await;
    let writer = client(&s, Some(WRITER)).await;
    writer.head().await.expect("admitted");

    // A broken file: the tokens in force stay.
    std::fs::write(&sec.tokens, "writer writer not-a-digest\n").expect("write");
    let running = s.running.as_ref().expect("running");
    assert!(running.reload_tokens().expect("a tokens file").is_err());
    writer.head().await.expect("still admitted");

    sec.write_tokens(&[("reader", Role::Reader, READER)]);
    assert_eq!(
        running.reload_tokens().expect("a tokens file").ok(),
        Some(1)
    );
    assert_eq!(
        refused(writer.head().await),
        (Code::Unauthenticated, "unknown token".to_string()),
        "revoked on the same connection"
    );
    client(&s, Some(READER))
        .await
        .head()
        .await
        .expect("the others stay");
    s.stop().await;
}

#[tokio::test]
async fn tokens_and_tls_together() {
    let sec = Security::new();
    let mut s = TestServer::start_with(|c| {
        sec.mtls(c);
        sec.tokens(c);
    })
    .await;
    let writer = s
        .client_with(with_token(sec.tls_client(true), WRITER))
        .await
        .expect("connect");
    writer
        .append(NewEvent::new("user", "over mTLS with a token"))
        .await
        .expect("append");
    let anonymous = s.client_with(sec.tls_client(true)).await.expect("connect");
    assert_eq!(refused(anonymous.head().await).0, Code::Unauthenticated);
    s.stop().await;
}
