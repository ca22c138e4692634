//! A real server on 127.0.0.1:0 over a temporary ledger, and clients for it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pmm::v1::ledger_client::LedgerClient;
use pmm::v1::mind_client::MindClient;
use pmm::v1::minds_client::MindsClient;
use pmm::v1::{self, EventInput};
use pmm_server::config::Config;
use pmm_server::server::{self, Running};
use tonic::transport::Channel;

/// A running server with its temporary folder and connected clients.
pub struct TestServer {
    pub running: Option<Running>,
    pub ledger: LedgerClient<Channel>,
    pub mind: MindClient<Channel>,
    pub minds: MindsClient<Channel>,
    pub channel: Channel,
    pub db: PathBuf,
    config: Config,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// A server over a new empty ledger.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// A server over a new empty ledger, with adjusted configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("data").join("pmm.db");
        Self::start_on(dir, db, adjust).await
    }

    /// A server over a new data directory (`<tmp>/data`, one folder per
    /// mind; `db` is the mind `default`'s file), with adjusted
    /// configuration; backups go to `<tmp>/backups`.
    pub async fn start_minds(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let backups = dir.path().join("backups");
        let db = data.join("default").join("pmm.db");
        Self::start_on(dir, db, move |config| {
            config.db = None;
            config.data_dir = data;
            config.backup_dir = backups;
            adjust(config);
        })
        .await
    }

    /// The temporary folder everything lives in.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    /// A server over a copy of an existing ledger file (left untouched),
    /// with its WAL if it has one (committed rows not yet checkpointed).
    pub async fn start_on_copy(ledger: &Path) -> TestServer {
        Self::start_on_copy_with(ledger, |_| {}).await
    }

    /// A server over a copy of an existing ledger file, with adjusted
    /// configuration.
    pub async fn start_on_copy_with(ledger: &Path, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("pmm.db");
        std::fs::copy(ledger, &db).expect("copy ledger");
        let mut wal = ledger.as_os_str().to_owned();
        wal.push("-wal");
        if Path::new(&wal).exists() {
            std::fs::copy(&wal, dir.path().join("pmm.db-wal")).expect("copy WAL");
        }
        Self::start_on(dir, db, adjust).await
    }

    async fn start_on(
        dir: tempfile::TempDir,
        db: PathBuf,
        adjust: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut config = Config::for_db(&db);
        config.addr = "127.0.0.1:0".parse().expect("addr");
        adjust(&mut config);
        let (running, channel) = Self::serve(config.clone()).await;
        TestServer {
            ledger: LedgerClient::new(channel.clone()).max_decoding_message_size(64 << 20),
            mind: MindClient::new(channel.clone()).max_decoding_message_size(64 << 20),
            minds: MindsClient::new(channel.clone()),
            channel,
            running: Some(running),
            db,
            config,
            _dir: dir,
        }
    }

    /// Starts a server with `config` and connects to it.
    async fn serve(config: Config) -> (Running, Channel) {
        let tls = config.tls_cert.is_some();
        let mut running = server::bind_and_start(config).await.expect("start");
        running.ready().await.expect("ready");
        let endpoint = Channel::from_shared(format!("http://{}", running.addr)).expect("uri");
        // With TLS the plaintext stubs cannot talk to the server: tests
        // then call through `client_with` instead.
        let channel = if tls {
            endpoint.connect_lazy()
        } else {
            endpoint.connect().await.expect("connect")
        };
        (running, channel)
    }

    /// Changes the configuration the next [`TestServer::restart`] uses.
    pub fn reconfigure(&mut self, adjust: impl FnOnce(&mut Config)) {
        adjust(&mut self.config);
    }

    /// Stops the server gracefully and starts a new one on the same ledger
    /// (a new port), reconnecting the clients.
    pub async fn restart(&mut self) {
        self.stop().await;
        let (running, channel) = Self::serve(self.config.clone()).await;
        self.ledger = LedgerClient::new(channel.clone()).max_decoding_message_size(64 << 20);
        self.mind = MindClient::new(channel.clone()).max_decoding_message_size(64 << 20);
        self.minds = MindsClient::new(channel.clone());
        self.channel = channel;
        self.running = Some(running);
    }

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.running.as_ref().expect("running").addr
    }

    /// A typed client of this server (TLS and token as `options` say).
    pub async fn client_with(
        &self,
        options: pmm_client::ConnectOptions,
    ) -> Result<pmm_client::Client, pmm_client::ClientError> {
        pmm_client::Client::connect_with(self.addr().to_string(), options).await
    }

    /// Appends one event, returning its id.
    pub async fn append(&mut self, kind: &str, content: &str, meta: &str) -> u64 {
        self.append_batch(vec![input(kind, content, meta)])
            .await
            .events[0]
            .id
    }

    /// Appends events in one request (no other option set).
    pub async fn append_batch(&mut self, events: Vec<EventInput>) -> v1::AppendResponse {
        self.ledger
            .append(v1::AppendRequest {
                events,
                ..Default::default()
            })
            .await
            .expect("append")
            .into_inner()
    }

    /// VerifyChain over the whole ledger.
    pub async fn verify(&mut self) -> v1::VerifyChainResponse {
        self.ledger
            .verify_chain(v1::VerifyChainRequest {})
            .await
            .expect("verify")
            .into_inner()
    }

    pub async fn head(&mut self) -> v1::LedgerHead {
        self.ledger
            .head(v1::HeadRequest {})
            .await
            .expect("head")
            .into_inner()
    }

    pub async fn stats(&mut self) -> v1::StatsResponse {
        self.ledger
            .stats(v1::StatsRequest {})
            .await
            .expect("stats")
            .into_inner()
    }

    /// Graceful shutdown, waiting for the writer to stop.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shut_down().await.expect("clean shutdown");
        }
    }
}

/// An event input without idempotency key.
/// `message` as a call for the mind `mind` (the `pmm-mind` header).
pub fn for_mind<T>(message: T, mind: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert(pmm::mind::MIND_HEADER, mind.parse().expect("ASCII"));
    request
}

pub fn input(kind: &str, content: &str, meta: &str) -> EventInput {
    EventInput {
        kind: kind.to_string(),
        content: content.to_string(),
        meta: meta.to_string(),
        idempotency_key: String::new(),
    }
}

/// An event input with an idempotency key.
pub fn keyed(kind: &str, content: &str, key: &str) -> EventInput {
    EventInput {
        idempotency_key: key.to_string(),
        ..input(kind, content, "{}")
    }
}
