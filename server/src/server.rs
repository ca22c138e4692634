//! Assembles the gRPC server: our two services, standard health, and server
//! reflection (v1 and v1alpha) listing only the public services, behind the
//! token check (`auth`), over TLS when configured (`tls`).
//!
//! The listener is served at once; the ledger is opened and its derived
//! state rebuilt in the background, with health NOT_SERVING and every RPC
//! UNAVAILABLE until that is done.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use pmm::mind::DEFAULT_MIND;
use pmm::v1;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

use crate::api::addressing::MindLayer;
use crate::api::admission::Admission;
use crate::api::gate::Gate;
use crate::api::ledger::LedgerService;
use crate::api::mind::MindService;
use crate::api::minds::MindsService;
use crate::api::undecodable::{RequestTypes, UndecodableLayer};
use crate::auth::{AuthLayer, TokenFileError, Tokens};
use crate::config::Config;
use crate::ledger::condition::Condition;
use crate::ledger::handle::OpenError;
use crate::minds::registry::{MindError, OpenLimits, Registry};
use crate::security::{Security, SecurityError};
use crate::transport::{Connections, StreamCountLayer};

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the ledger {path}: {source}")]
    Open { path: String, source: OpenError },
    #[error("{0}")]
    Mind(MindError),
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
    #[error(transparent)]
    Security(#[from] SecurityError),
}

/// A server started by [`start`].
pub struct Running {
    pub addr: SocketAddr,
    pub gate: Arc<Gate>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
    /// The start-up task, until someone has awaited it.
    ready: Option<JoinHandle<Result<Arc<Registry>, ServeError>>>,
    tokens: Option<Arc<Tokens>>,
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
        if let Some(registry) = self.gate.get() {
            // No call is in flight any more: each open mind's writer
            // finishes what is queued and stops.
            registry.close_all().await;
        }
        served?;
        opened
    }

    /// Reads the tokens file again and puts it in force (`None` without a
    /// tokens file). A file that cannot be used leaves the tokens in force
    /// as they were; either way the outcome is logged.
    pub fn reload_tokens(&self) -> Option<Result<usize, TokenFileError>> {
        self.tokens.as_deref().map(reload_tokens)
    }

    /// The tokens in force, when a tokens file is configured.
    pub fn tokens(&self) -> Option<Arc<Tokens>> {
        self.tokens.clone()
    }

    /// Asks the server to shut down without waiting.
    pub fn trigger_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Reloads `tokens` from its file, logging the outcome (a file that cannot
/// be used leaves the tokens in force as they were).
pub fn reload_tokens(tokens: &Tokens) -> Result<usize, TokenFileError> {
    let result = tokens.reload();
    match &result {
        Ok(n) => tracing::info!(file = %tokens.path().display(), tokens = n, "tokens reloaded"),
        Err(e) => tracing::warn!(
            "tokens not reloaded, the {} in force stay: {e}",
            tokens.current().len()
        ),
    }
    result
}

/// Sets the health of the server as a whole and of each public service.
async fn set_health(reporter: &HealthReporter, status: ServingStatus) {
    for name in [
        "",
        v1::ledger_server::SERVICE_NAME,
        v1::mind_server::SERVICE_NAME,
        v1::minds_server::SERVICE_NAME,
    ] {
        reporter.set_service_status(name, status).await;
    }
}

/// Health follows the ledger's condition: every service SERVING while it
/// can be written; otherwise the server as a whole and `pmm.v1.Ledger`
/// (whose appends are refused) NOT_SERVING, and `pmm.v1.Mind` (reads only)
/// SERVING. Ends when shutdown begins.
async fn follow_condition(
    health: HealthReporter,
    mut condition: watch::Receiver<Condition>,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        let writable = condition.borrow_and_update().is_writable();
        if *stopping.borrow() {
            return;
        }
        show_condition(&health, writable).await;
        tokio::select! {
            changed = condition.changed() => if changed.is_err() { return },
            _ = stopping.changed() => return,
        }
    }
}

/// The health statuses for a ledger that can (or cannot) be written.
async fn show_condition(health: &HealthReporter, writable: bool) {
    if writable {
        set_health(health, ServingStatus::Serving).await;
    } else {
        for name in ["", v1::ledger_server::SERVICE_NAME] {
            health
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        health
            .set_service_status(v1::mind_server::SERVICE_NAME, ServingStatus::Serving)
            .await;
    }
}

/// Listens on `config.addr` (port 0: any free port, see [`Running::addr`])
/// and starts serving there. The exposure, TLS and tokens are checked
/// first: a refusal happens before anything is bound.
pub async fn bind_and_start(config: Config) -> Result<Running, ServeError> {
    config.check()?;
    let security = Security::prepare(&config)?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.addr,
            source,
        })?;
    serve(config, security, listener).await
}

/// Starts serving on `listener` and opens the ledger in the background.
pub async fn start(config: Config, listener: TcpListener) -> Result<Running, ServeError> {
    config.check()?;
    let security = Security::prepare(&config)?;
    serve(config, security, listener).await
}

async fn serve(
    config: Config,
    security: Security,
    listener: TcpListener,
) -> Result<Running, ServeError> {
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

    let connections = Connections::new(config.connections);
    let limits = config.limits();
    let admission = Arc::new(Admission::new(limits.work));
    let limit = limits.max_message_bytes;
    let ledger = v1::ledger_server::LedgerServer::new(
        LedgerService::new(Arc::clone(&gate), limits, Arc::clone(&admission))
            .with_connections(connections.clone()),
    )
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    let mind = v1::mind_server::MindServer::new(MindService::new(
        Arc::clone(&gate),
        limits,
        Arc::clone(&admission),
    ))
    .max_decoding_message_size(limit)
    .max_encoding_message_size(limit);
    let minds = v1::minds_server::MindsServer::new(MindsService::new(
        Arc::clone(&gate),
        config.backup_dir.clone(),
    ));

    // Set when shutdown begins: health stops following the ledger then.
    let stopping = Arc::new(watch::Sender::new(false));
    let ready = {
        let stopping = Arc::clone(&stopping);
        let gate = Arc::clone(&gate);
        let health = health.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let layout = config.layout();
            let path = layout
                .db_path(DEFAULT_MIND)
                .unwrap_or_default()
                .display()
                .to_string();
            let template = config.ledger(PathBuf::new());
            let registry = Registry::new(
                layout,
                template,
                OpenLimits {
                    max_open_minds: config.max_open_minds,
                    max_open_memory: config.max_open_memory,
                },
                config.create_minds_on_append,
                Arc::clone(&gate.progress),
            );
            let ledger = registry.open_default().await.map_err(|e| match e {
                MindError::Open { source, .. } => ServeError::Open { path, source },
                other => ServeError::Mind(other),
            })?;
            gate.open(Arc::clone(&registry));
            // Shown before start-up counts as done, so that health is
            // current once `ready` returns; then followed.
            if !*stopping.borrow() {
                show_condition(&health, ledger.condition().get().is_writable()).await;
            }
            tokio::spawn(follow_condition(
                health.clone(),
                ledger.condition().watch(),
                stopping.subscribe(),
            ));
            tracing::info!("serving");
            Ok(registry)
        })
    };

    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let on_shutdown = {
        let gate = Arc::clone(&gate);
        async move {
            let _ = shutdown_rx.await;
            tracing::info!("shutting down: finishing in-flight calls");
            stopping.send_replace(true);
            set_health(&health, ServingStatus::NotServing).await;
            if let Some(registry) = gate.get() {
                registry.end_subscriptions();
            }
        }
    };
    let mut builder = Server::builder();
    if let Some(tls) = security.tls {
        builder = builder.tls_config(tls)?;
    }
    let auth = AuthLayer::new(security.tokens.clone());
    let max_concurrent_streams = config.max_concurrent_streams;
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
        let undecodable = UndecodableLayer::new(RequestTypes::from_descriptor_sets(&[
            v1::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ]));
        let settings = connections.settings();
        builder
            .max_concurrent_streams(max_concurrent_streams)
            .http2_keepalive_interval(settings.keepalive_interval())
            .http2_keepalive_timeout(settings.keepalive_timeout())
            .layer(trace)
            .layer(StreamCountLayer)
            .layer(auth)
            .layer(MindLayer)
            .layer(undecodable)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(ledger)
            .add_service(mind)
            .add_service(minds)
            // Limits, timeouts and TCP_NODELAY: see transport/.
            .serve_with_incoming_shutdown(connections.incoming(listener), on_shutdown)
            .await?;
        Ok(())
    });
    Ok(Running {
        addr,
        gate,
        shutdown: Some(shutdown_tx),
        task,
        ready: Some(ready),
        tokens: security.tokens,
    })
}
