//! Connections: several HTTP/2 channels to one server, each carrying the
//! pmm services (through [`pmm_client::Client`]) and the standard health
//! service (the no-op baseline). Every pmm call carries the token, if any,
//! and the `pmm-mind` header of [`Credentials::mind`] unless the call
//! names its own mind (the unary scenarios spread over many minds do).

use std::time::{Duration, Instant};

use pmm_client::connect::{endpoint, Authorization};
use pmm_client::v1;
use pmm_client::v1::ledger_client::LedgerClient;
use pmm_client::v1::mind_client::MindClient;
use pmm_client::{Client, ConnectOptions, TlsOptions, Token};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use super::LoadError;

/// The stubs of one channel.
#[derive(Clone, Debug)]
pub struct Conn {
    /// The typed client (for anything not on the measured path).
    pub client: Client,
    /// The generated `Ledger` stub of the same channel (with the token and
    /// the mind).
    pub ledger: LedgerClient<LoadChannel>,
    /// The generated `Mind` stub of the same channel (with the token and
    /// the mind).
    pub mind: MindClient<LoadChannel>,
    /// `grpc.health.v1.Health` on the same channel.
    pub health: HealthClient<Channel>,
}

/// How to reach a server that wants TLS or a token.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// TLS (a CA file; a client certificate for mutual TLS).
    pub tls: TlsOptions,
    /// Sent with every pmm call (health needs none).
    pub token: Option<Token>,
    /// The `pmm-mind` header of every pmm call that does not name its own
    /// (`None`: no header, the mind `default`).
    pub mind: Option<String>,
}

/// A channel whose calls carry the token and the mind.
pub type LoadChannel = InterceptedService<Channel, CallHeaders>;

/// Adds the token (through the client's [`Authorization`]) and, unless the
/// call already has one, the `pmm-mind` header.
#[derive(Clone, Debug, Default)]
pub struct CallHeaders {
    auth: Authorization,
    mind: Option<MetadataValue<Ascii>>,
}

impl CallHeaders {
    /// For `credentials`; fails on a mind name outside the allowed set.
    pub fn new(credentials: &Credentials) -> Result<CallHeaders, LoadError> {
        let mind = match &credentials.mind {
            Some(name) => Some(super::minds::header_value(name)?),
            None => None,
        };
        Ok(CallHeaders {
            auth: Authorization::new(credentials.token.clone()),
            mind,
        })
    }
}

impl Interceptor for CallHeaders {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = self.auth.call(request)?;
        if let Some(mind) = &self.mind {
            if !request.metadata().contains_key(pmm::mind::MIND_HEADER) {
                request
                    .metadata_mut()
                    .insert(pmm::mind::MIND_HEADER, mind.clone());
            }
        }
        Ok(request)
    }
}

impl Credentials {
    /// `plaintext`, `tls` or `mtls`, with `+token` when a token is sent.
    pub fn describe(&self, addr: &str) -> String {
        let tls = self.tls != TlsOptions::default() || addr.trim().starts_with("https://");
        let transport = match (tls, self.tls.cert_file.is_some()) {
            (false, _) => "plaintext",
            (true, false) => "tls",
            (true, true) => "mtls",
        };
        match self.token {
            Some(_) => format!("{transport}+token"),
            None => transport.to_string(),
        }
    }
}

impl Conn {
    /// Opens one plaintext channel to `addr`, without a token.
    pub async fn open(addr: &str) -> Result<Conn, LoadError> {
        Conn::open_with(addr, &Credentials::default()).await
    }

    /// Opens one channel to `addr` (the same transport settings as
    /// `Client::connect`: TCP_NODELAY, 5 s connect timeout, keep-alive, TLS;
    /// no per-call timeout, so that long calls such as VerifyChain are not
    /// cut short).
    pub async fn open_with(addr: &str, credentials: &Credentials) -> Result<Conn, LoadError> {
        let options = ConnectOptions {
            request_timeout: None,
            tls: credentials.tls.clone(),
            token: credentials.token.clone(),
            ..ConnectOptions::default()
        };
        let endpoint = endpoint(addr, &options).map_err(|e| LoadError::Connect(e.to_string()))?;
        let uri = endpoint.uri().to_string();
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| LoadError::Connect(format!("{uri}: {e}")))?;
        let client = Client::from_channel(channel.clone(), &options);
        let headers = CallHeaders::new(credentials)?;
        let max = options.max_message_bytes;
        Ok(Conn {
            ledger: LedgerClient::with_interceptor(channel.clone(), headers.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            mind: MindClient::with_interceptor(channel.clone(), headers)
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
            health: HealthClient::new(channel),
            client,
        })
    }

    /// The server's Stats.
    pub async fn stats(&self) -> Result<v1::StatsResponse, LoadError> {
        let response = self
            .ledger
            .clone()
            .stats(v1::StatsRequest {})
            .await
            .map_err(|e| LoadError::Rpc("Stats", e.message().to_string()))?;
        Ok(response.into_inner())
    }

    /// Whether the server reports SERVING (overall status, service `""`).
    pub async fn serving(&self) -> Result<bool, tonic::Status> {
        let response = self
            .health
            .clone()
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await?;
        Ok(response.into_inner().status == ServingStatus::Serving as i32)
    }
}

/// `n` channels to `addr`.
pub async fn open_many(
    addr: &str,
    credentials: &Credentials,
    n: usize,
) -> Result<Vec<Conn>, LoadError> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        conns.push(Conn::open_with(addr, credentials).await?);
    }
    Ok(conns)
}

/// Waits until the server at `addr` accepts connections and reports
/// SERVING, polling every `poll`; gives up after `timeout`.
pub async fn wait_serving(
    addr: &str,
    credentials: &Credentials,
    poll: Duration,
    timeout: Duration,
) -> Result<(), LoadError> {
    let deadline = Instant::now() + timeout;
    let mut conn: Option<Conn> = None;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        if conn.is_none() {
            match Conn::open_with(addr, credentials).await {
                Ok(c) => conn = Some(c),
                Err(e) => last = e.to_string(),
            }
        }
        if let Some(c) = &conn {
            match c.serving().await {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    // Open but not writable (read-only file, damage, an
                    // anchor the ledger does not match): it will not change.
                    if let Ok(stats) = c.stats().await {
                        let fault = stats.chain_fault.map(|f| f.reason);
                        if stats.condition != "writable" || fault.is_some() {
                            return Err(LoadError::NotServing(format!(
                                "{addr} serves its ledger read-only: {}{}",
                                stats.condition,
                                fault.map(|f| format!("; {f}")).unwrap_or_default()
                            )));
                        }
                    }
                    last = "NOT_SERVING".to_string()
                }
                Err(e) => last = format!("health check: {}", e.message()),
            }
        }
        tokio::time::sleep(poll).await;
    }
    Err(LoadError::NotServing(format!(
        "{addr} not SERVING after {timeout:?} ({last})"
    )))
}
