//! The transport of a [`Client`](crate::Client): the endpoint (timeouts,
//! HTTP/2 keep-alive, TLS with a CA file or the system's roots, a client
//! certificate for mutual TLS) and the metadata added to every call: the
//! bearer token and the `pmm-mind` header.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pmm::mind::{check_mind_name, MIND_HEADER};
use pmm::token::{AUTHORIZATION, BEARER_PREFIX};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::error::{causes, ClientError};

/// How to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Longest wait for the TCP connection (default 5 s).
    pub connect_timeout: Duration,
    /// Longest wait for each unary call (default 30 s; `None` = no limit).
    /// Streaming calls (Subscribe, Export) are not limited.
    pub request_timeout: Option<Duration>,
    /// Largest message sent or received (default 64 MiB; the server's own
    /// limit, `Stats.limits.max_message_bytes`, may be smaller).
    pub max_message_bytes: usize,
    /// Connect on first use instead of in `connect` (default false): then
    /// `connect` never fails for an unreachable server.
    pub lazy: bool,
    /// TLS: a CA file, a client certificate and key (mutual TLS). Setting
    /// any (or an `https://` address) connects with TLS.
    pub tls: TlsOptions,
    /// Sent as `authorization: Bearer …` with every call (default none).
    pub token: Option<Token>,
    /// HTTP/2 keep-alive pings (default every 30 s, also idle; 10 s to
    /// answer).
    pub keep_alive: KeepAlive,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Some(Duration::from_secs(30)),
            max_message_bytes: 64 * 1024 * 1024,
            lazy: false,
            tls: TlsOptions::default(),
            token: None,
            keep_alive: KeepAlive::default(),
        }
    }
}

/// A channel whose every call carries the token and the mind header, if
/// any (see [`Authorization`]).
pub type AuthChannel = InterceptedService<Channel, Authorization>;

/// A bearer token, sent as `authorization: Bearer TOKEN`. Never shown by
/// `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    header: MetadataValue<Ascii>,
}

impl Token {
    /// A token as `pmm token new` printed it.
    pub fn new(token: &str) -> Result<Token, ClientError> {
        let invalid = |reason: &str| ClientError::invalid("token", reason);
        if token.is_empty() {
            return Err(invalid("empty"));
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains spaces or control characters"));
        }
        if !token.is_ascii() {
            return Err(invalid("not printable ASCII"));
        }
        let mut header = MetadataValue::try_from(format!("{BEARER_PREFIX}{token}"))
            .map_err(|_| invalid("not printable ASCII"))?;
        header.set_sensitive(true);
        Ok(Token { header })
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

/// Adds the token (`authorization: Bearer …`) and the mind
/// (`pmm-mind: NAME`) to every call; nothing for either one not set.
#[derive(Clone, Debug, Default)]
pub struct Authorization {
    token: Option<Token>,
    mind: Option<MindHeader>,
}

impl Authorization {
    pub fn new(token: Option<Token>) -> Self {
        Authorization { token, mind: None }
    }

    /// The same token, naming `mind` in every call (`None`: no header, the
    /// server's mind `default`).
    pub fn with_mind(&self, mind: Option<MindHeader>) -> Self {
        Authorization {
            token: self.token.clone(),
            mind,
        }
    }

    /// The mind named in every call, if any.
    pub fn mind(&self) -> Option<&MindHeader> {
        self.mind.as_ref()
    }
}

impl Interceptor for Authorization {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.token {
            request
                .metadata_mut()
                .insert(AUTHORIZATION, token.header.clone());
        }
        if let Some(mind) = &self.mind {
            request
                .metadata_mut()
                .insert(MIND_HEADER, mind.header.clone());
        }
        Ok(request)
    }
}

/// A mind's name, checked against the allowed set
/// ([`pmm::mind::check_mind_name`]), ready to send as the `pmm-mind`
/// header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MindHeader {
    name: String,
    header: MetadataValue<Ascii>,
}

impl MindHeader {
    /// `name` as a header; a name outside the allowed set (1 to 64
    /// characters of `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or
    /// a digit) is [`ClientError::InvalidInput`] saying what is wrong, e.g.
    /// `mind name "Alice": must start with a-z or 0-9`.
    pub fn new(name: &str) -> Result<MindHeader, ClientError> {
        let invalid = |reason: String| ClientError::invalid(format!("mind name {name:?}"), reason);
        check_mind_name(name).map_err(invalid)?;
        let header = MetadataValue::try_from(name)
            .map_err(|_| invalid("not printable ASCII".to_string()))?;
        Ok(MindHeader {
            name: name.to_string(),
            header,
        })
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// TLS settings: how the server's certificate is checked, and our own
/// certificate for mutual TLS. Any of them (or an `https://` address) turns
/// TLS on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// CA certificate(s), PEM, that the server's certificate must chain to
    /// (default: the system's trusted roots).
    pub ca_file: Option<PathBuf>,
    /// Our certificate chain, PEM, for mutual TLS (with `key_file`).
    pub cert_file: Option<PathBuf>,
    /// Our private key, PEM, for mutual TLS (with `cert_file`).
    pub key_file: Option<PathBuf>,
    /// The name the server's certificate must carry (default: the
    /// address's host).
    pub domain: Option<String>,
}

impl TlsOptions {
    fn is_set(&self) -> bool {
        self.ca_file.is_some()
            || self.cert_file.is_some()
            || self.key_file.is_some()
            || self.domain.is_some()
    }

    /// Reads the files into a tonic TLS configuration.
    fn config(&self) -> Result<ClientTlsConfig, ClientError> {
        let mut config = ClientTlsConfig::new();
        config = match &self.ca_file {
            Some(path) => config.ca_certificate(Certificate::from_pem(read_pem(path, "CA")?)),
            None => config.with_native_roots(),
        };
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => {
                let identity = Identity::from_pem(
                    read_pem(cert, "certificate")?,
                    read_pem(key, "private key")?,
                );
                config = config.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err(ClientError::invalid(
                    "TLS client certificate",
                    "give both the certificate and its key",
                ))
            }
        }
        if let Some(domain) = &self.domain {
            config = config.domain_name(domain.clone());
        }
        Ok(config)
    }
}

fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>, ClientError> {
    let text = std::fs::read(path).map_err(|e| {
        ClientError::invalid(format!("TLS {what} {}", path.display()), e.to_string())
    })?;
    if !text.windows(10).any(|w| w == b"-----BEGIN") {
        return Err(ClientError::invalid(
            format!("TLS {what} {}", path.display()),
            "not a PEM file",
        ));
    }
    Ok(text)
}

/// HTTP/2 keep-alive: a ping every `interval` (also while no call is in
/// flight, when `while_idle`), the connection taken for dead when a ping
/// is not answered within `timeout`. Finds a dead connection (a server
/// gone without a word, a NAT that forgot the flow) before a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive {
    /// Default 30 s; `None` = no pings.
    pub interval: Option<Duration>,
    /// Default 10 s.
    pub timeout: Duration,
    /// Default true.
    pub while_idle: bool,
}

impl Default for KeepAlive {
    fn default() -> Self {
        KeepAlive {
            interval: Some(Duration::from_secs(30)),
            timeout: Duration::from_secs(10),
            while_idle: true,
        }
    }
}

/// Adds `http://` to an address without a scheme.
pub(crate) fn normalize_addr(addr: &str) -> String {
    let addr = addr.trim();
    if addr.contains("://") {
        addr.to_string()
    } else {
        format!("http://{addr}")
    }
}

/// The address with its scheme: `https://` when TLS options are given and
/// the address has none; else as [`normalize_addr`].
pub fn address(addr: &str, tls: &TlsOptions) -> String {
    if tls.is_set() && !addr.contains("://") {
        format!("https://{}", addr.trim())
    } else {
        normalize_addr(addr)
    }
}

/// The endpoint `Client::connect_with` connects to: `addr` with its
/// scheme (see [`address`]), timeouts, keep-alive, TLS when `https://`.
pub fn endpoint(addr: &str, options: &ConnectOptions) -> Result<Endpoint, ClientError> {
    let addr = address(addr, &options.tls);
    let (tls, keep_alive) = (&options.tls, options.keep_alive);
    let invalid = |reason: String| ClientError::InvalidAddress {
        addr: addr.to_string(),
        reason,
    };
    let mut endpoint = Endpoint::from_shared(addr.clone())
        .map_err(|e| invalid(causes(&e)))?
        .connect_timeout(options.connect_timeout)
        .tcp_nodelay(true)
        .keep_alive_timeout(keep_alive.timeout)
        .keep_alive_while_idle(keep_alive.while_idle);
    if let Some(interval) = keep_alive.interval {
        endpoint = endpoint.http2_keep_alive_interval(interval);
    }
    match endpoint.uri().scheme_str() {
        Some("https") => endpoint
            .tls_config(tls.config()?)
            .map_err(|e| invalid(causes(&e))),
        _ if tls.is_set() => Err(invalid(
            "TLS options were given for a plaintext (http://) address; use https://".to_string(),
        )),
        _ => Ok(endpoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_never_shown_and_must_be_one_word() {
        let token = Token::new("pmm_abc").unwrap();
        assert_eq!(format!("{token:?}"), "Token(…)");
        assert_eq!(token.header, "Bearer pmm_abc");
        for bad in ["", "a b", "tab\t", "é"] {
            assert!(Token::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_mind_header_is_a_name_of_the_allowed_set() {
        let alice = MindHeader::new("alice").unwrap();
        assert_eq!(alice.name(), "alice");
        assert_eq!(alice.header, "alice");
        let err = MindHeader::new("Alice").unwrap_err();
        assert!(matches!(err, ClientError::InvalidInput { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "mind name \"Alice\": must start with a-z or 0-9"
        );
        assert!(MindHeader::new("").is_err());
        assert!(MindHeader::new("a/b").is_err());
        assert!(MindHeader::new(&"x".repeat(65)).is_err());
    }

    #[test]
    fn the_interceptor_sets_the_token_and_the_mind() {
        let auth = Authorization::new(Some(Token::new("t").unwrap()));
        let mut with_mind = auth.with_mind(Some(MindHeader::new("alice").unwrap()));
        let request = with_mind.call(tonic::Request::new(())).unwrap();
        assert_eq!(request.metadata().get(MIND_HEADER).unwrap(), "alice");
        assert_eq!(request.metadata().get(AUTHORIZATION).unwrap(), "Bearer t");
        let mut without = auth.with_mind(None);
        let request = without.call(tonic::Request::new(())).unwrap();
        assert!(request.metadata().get(MIND_HEADER).is_none());
        assert_eq!(request.metadata().get(AUTHORIZATION).unwrap(), "Bearer t");
    }

    #[test]
    fn tls_options_choose_https() {
        let tls = TlsOptions {
            ca_file: Some("ca.pem".into()),
            ..Default::default()
        };
        assert_eq!(address(" h:1", &tls), "https://h:1");
        assert_eq!(address("http://h:1", &tls), "http://h:1");
        assert_eq!(address("h:1", &TlsOptions::default()), "http://h:1");
        let options = ConnectOptions {
            tls,
            ..Default::default()
        };
        let err = endpoint("http://h:1", &options).unwrap_err();
        assert!(err.to_string().contains("use https://"), "{err}");
        let err = endpoint("h:1", &options).unwrap_err();
        assert!(err.to_string().starts_with("TLS CA ca.pem: "), "{err}");
    }
}
