//! Assembles the gRPC server: our two services, standard health, and server
//! reflection (v1 and v1alpha) listing only the public services.
//!
//! The listener is served at once; the ledger is opened and its derived
//! state rebuilt in the background, with health NOT_SERVING and every RPC
//! UNAVAILABLE until that is done.

use std::net::SocketAddr;
use std::sync::Arc;

use pmm::v1;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

use crate::api::admission::Admission;
use crate::api::gate::Gate;
use crate::api::ledger::LedgerService;
use crate::api::mind::MindService;
use crate::config::Config;
use crate::ledger::handle::{Ledger, OpenError};

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the ledger {path}: {source}")]
    Open { path: String, source: OpenError },
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("start-up task failed: {0}")]
    Join(String),
    #[error("bad settings: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A server started by [`start`].
pub struct Running {
    pub addr: SocketAddr,
    pub gate: Arc<Gate>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
    /// The start-up task, until someone has awaited it.
    ready: Option<JoinHandle<Result<Arc<Ledger>, ServeError>>>,
}

impl Running {
    /// Waits until the ledger is open and its derived state rebuilt.
    pub async fn ready(&mut self) -> Result<(), ServeError> {
        match self.ready.take() {
            Some(task) => task
                .await
                .map_err(|e| ServeError::Join(e.to_string()))?
                .map(|_| ()),
            None => Ok(()),
        }
    }

    /// Graceful shutdown: stop accepting, end subscriptions, let in-flight
    /// calls (appends included) finish, then stop the writer.
    pub async fn shut_down(mut self) -> Result<(), ServeError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.wait().await
    }

    /// Waits for the server to stop (after [`Running::trigger_shutdown`] or
    /// a start-up failure).
    pub async fn wait(self) -> Result<(), ServeError> {
        let served = self
            .task
            .await
            .map_err(|e| ServeError::Join(e.to_string()))?;
        let opened = match self.ready {
            Some(task) => task
                .await
                .map_err(|e| ServeError::Join(e.to_string()))?
                .map(|_| ()),
            None => Ok(()),
        };
        if let Some(ledger) = self.gate.get() {
            // No call is in flight any more: the writer finishes what is
            // queued and stops.
            ledger.stop_writer().await;
        }
        served?;
        opened
    }

    /// Asks the server to shut down without waiting.
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Sets the health of the server as a whole and of each public service.
async fn set_health(reporter: &HealthReporter, status: ServingStatus) {
    for name in [
        "",
        v1::ledger_server::SERVICE_NAME,
        v1::mind_server::SERVICE_NAME,
    ] {
        reporter.set_service_status(name, status).await;
    }
}

/// Listens on `config.addr` (port 0: any free port, see [`Running::addr`])
/// and starts serving there.
pub async fn bind_and_start(config: Config) -> Result<Running, ServeError> {
    config.check()?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.addr,
            source,
        })?;
    start(config, listener).await
}

/// Starts serving on `listener` and opens the ledger in the background.
pub async fn start(config: Config, listener: TcpListener) -> Result<Running, ServeError> {
    config.check()?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Join(e.to_string()))?;
    let gate = Gate::new();
    let (health, health_service) = tonic_health::server::health_reporter();
    set_health(&health, ServingStatus::NotServing).await;

    let reflection = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .include_reflection_service(false);
        for name in v1::SERVICE_NAMES {
            builder = builder.with_service_name(name);
        }
        builder.with_service_name("grpc.health.v1.Health")
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let limits = config.limits();
    let admission = Arc::new(Admission::new(limits.work));
    let limit = limits.max_message_bytes;
    let ledger = v1::ledger_server::LedgerServer::new(LedgerService::new(
        Arc::clone(&gate),
        limits,
        Arc::clone(&admission),
    ))
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    let mind = v1::mind_server::MindServer::new(MindService::new(
        Arc::clone(&gate),
        limits,
        Arc::clone(&admission),
    ))
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);

    let ready = {
        let gate = Arc::clone(&gate);
        let health = health.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let path = config.db.display().to_string();
            let opener = Arc::clone(&gate);
            let ledger_config = config.ledger();
            let ledger =
                tokio::task::spawn_blocking(move || Ledger::open(ledger_config, &opener.progress))
                    .await
                    .map_err(|e| ServeError::Join(e.to_string()))?
                    .map_err(|source| ServeError::Open { path, source })?;
            let ledger = Arc::new(ledger);
            gate.open(Arc::clone(&ledger));
            set_health(&health, ServingStatus::Serving).await;
            tracing::info!("serving");
            Ok(ledger)
        })
    };

    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let on_shutdown = {
        let gate = Arc::clone(&gate);
        async move {
            let _ = shutdown_rx.await;
            tracing::info!("shutting down: finishing in-flight calls");
            set_health(&health, ServingStatus::NotServing).await;
            if let Some(ledger) = gate.get() {
                ledger.shut_down();
            }
        }
    };
    let task = tokio::spawn(async move {
        // One line per request at debug (path and latency; `PMM_LOG=
        // info,tower_http=debug`), failures at warn.
        let trace = TraceLayer::new_for_grpc()
            .on_request(())
            .on_eos(())
            .on_response(
                DefaultOnResponse::new()
                    .level(Level::DEBUG)
                    .latency_unit(LatencyUnit::Micros),
            )
            .on_failure(DefaultOnFailure::new().level(Level::WARN));
        Server::builder()
            .layer(trace)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(ledger)
            .add_service(mind)
            // Small responses must not wait for Nagle's algorithm.
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                on_shutdown,
            )
            .await?;
        Ok(())
    });
    Ok(Running {
        addr,
        gate,
        shutdown: Some(shutdown_tx),
        task,
        ready: Some(ready),
    })
}
