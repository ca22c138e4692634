//! TLS and mutual TLS through the Rust client: round trips (unary and a
//! stream), and clean failures for a plaintext client, a client that does
//! not trust the server's CA, and (mutual TLS) a client without a
//! certificate or with one from another CA. Bad certificate files stop the
//! start, naming the file.

use std::time::Duration;

use pmm_client::{
    Client, ClientError, ConnectOptions, ContextOptions, NewEvent, Start, SubItem, SubscribeSpec,
    TlsOptions,
};
use pmm_server::config::Config;
use pmm_server::server;
use pmm_server::test_certs::TestCa;
use pmm_server::tls::Pem;
use tokio_stream::StreamExt;

use crate::common::security::{quick, Security};
use crate::common::server::TestServer;

/// Appends, reads a view, and follows a subscription to its first event.
async fn round_trip(client: &Client) {
    let appended = client
        .append(NewEvent::new("identity_adopt", "Echo"))
        .await
        .expect("append over TLS");
    assert_eq!(appended.id, 1);
    let context = client
        .get_context(&ContextOptions::default())
        .await
        .expect("context over TLS");
    assert!(context.text.contains("Identity: Echo"), "{}", context.text);
    let mut sub = Box::pin(client.subscribe(SubscribeSpec::new(Start::FromStart)));
    let first = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an item in time")
        .expect("an item")
        .expect("ok");
    assert!(
        matches!(first, SubItem::Event(ref e) if e.id == 1),
        "{first:?}"
    );
}

/// A call (or the connection before it) fails, within the client's bounds.
async fn fails(s: &TestServer, options: ConnectOptions) -> ClientError {
    let attempt = async {
        let client = s.client_with(options).await?;
        client.head().await.map(|_| ())
    };
    tokio::time::timeout(Duration::from_secs(20), attempt)
        .await
        .expect("fails in time, without hanging")
        .expect_err("must fail")
}

#[tokio::test]
async fn tls_round_trip_through_the_rust_client() {
    let sec = Security::new();
    let mut s = TestServer::start_with(|c| sec.tls(c)).await;
    let client = s.client_with(sec.tls_client(false)).await.expect("connect");
    round_trip(&client).await;
    // The same through an explicit https:// address.
    let https = Client::connect_with(format!("https://{}", s.addr()), sec.tls_client(false))
        .await
        .expect("connect https://");
    assert_eq!(https.head().await.expect("head").last_id, 1);
    s.stop().await;
}

#[tokio::test]
async fn mutual_tls_admits_only_clients_with_a_certificate_of_the_ca() {
    let sec = Security::new();
    let mut s = TestServer::start_with(|c| sec.mtls(c)).await;
    let client = s.client_with(sec.tls_client(true)).await.expect("connect");
    round_trip(&client).await;

    let without = fails(&s, sec.tls_client(false)).await;
    assert!(
        without.is_transient() || without.code().is_some(),
        "{without}"
    );

    let other = TestCa::new("another CA").expect("CA");
    let dir = tempfile::tempdir().expect("dir");
    let stranger = other.write(dir.path()).expect("files");
    let foreign = ConnectOptions {
        tls: TlsOptions {
            ca_file: Some(sec.pki.ca.clone()),
            cert_file: Some(stranger.client_cert),
            key_file: Some(stranger.client_key),
            domain: None,
        },
        ..quick()
    };
    fails(&s, foreign).await;
    // The server still serves its own clients.
    assert_eq!(client.head().await.expect("head").last_id, 1);
    s.stop().await;
}

#[tokio::test]
async fn a_plaintext_client_against_a_tls_server_fails_cleanly() {
    let sec = Security::new();
    let mut s = TestServer::start_with(|c| sec.tls(c)).await;
    let err = fails(&s, quick()).await;
    assert!(
        matches!(
            err,
            ClientError::Connect { .. } | ClientError::Status { .. }
        ),
        "{err:?}"
    );
    let client = s.client_with(sec.tls_client(false)).await.expect("connect");
    assert_eq!(client.head().await.expect("head").last_id, 0);
    s.stop().await;
}

#[tokio::test]
async fn a_tls_client_without_the_right_ca_fails_cleanly() {
    let sec = Security::new();
    let mut s = TestServer::start_with(|c| sec.tls(c)).await;
    let other = tempfile::tempdir().expect("dir");
    let wrong = TestCa::new("not the server's CA")
        .expect("CA")
        .write(other.path())
        .expect("files");
    let err = fails(
        &s,
        ConnectOptions {
            tls: TlsOptions {
                ca_file: Some(wrong.ca),
                ..TlsOptions::default()
            },
            ..quick()
        },
    )
    .await;
    assert!(err.to_string().contains("certificate"), "{err}");
    // The system's roots do not know a throw-away CA either.
    let err = fails(
        &s,
        ConnectOptions {
            tls: TlsOptions {
                domain: Some("localhost".into()),
                ..TlsOptions::default()
            },
            ..quick()
        },
    )
    .await;
    assert!(err.to_string().contains("certificate"), "{err}");
    s.stop().await;
}

/// Makes one TLS setting bad.
type Spoil<'a> = Box<dyn Fn(&mut Config) + 'a>;

#[tokio::test]
async fn bad_certificate_files_stop_the_start_naming_the_file() {
    let sec = Security::new();
    let dir = tempfile::tempdir().expect("dir");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not PEM").expect("write");
    let missing = dir.path().join("missing.pem");
    let cases: [(Spoil<'_>, &std::path::Path); 3] = [
        (
            Box::new(|c: &mut Config| c.tls_cert = Some(Pem::File(missing.clone()))),
            &missing,
        ),
        (
            Box::new(|c: &mut Config| c.tls_key = Some(Pem::File(garbage.clone()))),
            &garbage,
        ),
        (
            Box::new(|c: &mut Config| c.tls_client_ca = Some(Pem::File(garbage.clone()))),
            &garbage,
        ),
    ];
    for (spoil, named) in cases {
        let db = dir.path().join("pmm.db");
        let mut config = Config::for_db(&db);
        config.addr = "127.0.0.1:0".parse().expect("addr");
        sec.tls(&mut config);
        spoil(&mut config);
        let err = match server::bind_and_start(config).await {
            Ok(_) => panic!("started with a bad {}", named.display()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&named.display().to_string()),
            "{err} should name {}",
            named.display()
        );
        assert!(!db.exists(), "nothing opened before the refusal");
    }
}
