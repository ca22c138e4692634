//! What the server reads and checks before it binds: whether the address
//! may be exposed as configured, the TLS files, the tokens file. Any
//! problem stops the start before a port is opened.

use std::net::SocketAddr;
use std::sync::Arc;

use tonic::transport::ServerTlsConfig;

use crate::auth::{TokenFileError, Tokens};
use crate::config::Config;
use crate::tls::{TlsError, TlsFiles};

/// Why the server refuses to start as configured.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error(
        "refusing to listen on {addr}: it is not a loopback address and no tokens are \
         configured, so anyone who reaches it could read and write the ledger; give \
         --tokens FILE (see SECURITY.md), or --insecure to accept that"
    )]
    Exposed { addr: SocketAddr },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Tokens(#[from] TokenFileError),
}

/// The TLS configuration and tokens in force.
#[derive(Clone, Debug, Default)]
pub struct Security {
    pub tls: Option<ServerTlsConfig>,
    pub tokens: Option<Arc<Tokens>>,
}

impl Security {
    /// Checks the exposure, then reads the TLS and tokens files.
    pub fn prepare(config: &Config) -> Result<Security, SecurityError> {
        check_exposure(config)?;
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(
                TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: config.tls_client_ca.clone(),
                }
                .load()?,
            ),
            _ => None,
        };
        let tokens = match &config.tokens {
            Some(path) => {
                let tokens = Tokens::load(path)?;
                let n = tokens.current().len();
                if n == 0 {
                    tracing::warn!(
                        file = %path.display(),
                        "the tokens file lists no token: every call but health is refused"
                    );
                } else {
                    tracing::info!(file = %path.display(), tokens = n, "tokens required");
                }
                Some(Arc::new(tokens))
            }
            None => None,
        };
        Ok(Security { tls, tokens })
    }
}

/// A non-loopback address needs tokens, or `--insecure` (then a warning
/// at every start).
pub fn check_exposure(config: &Config) -> Result<(), SecurityError> {
    let addr = config.addr;
    if addr.ip().to_canonical().is_loopback() {
        return Ok(());
    }
    match (&config.tokens, config.insecure) {
        (None, false) => Err(SecurityError::Exposed { addr }),
        (None, true) => {
            tracing::warn!(
                %addr,
                "--insecure: listening on a non-loopback address without tokens; \
                 anyone who reaches it can read and write the ledger"
            );
            Ok(())
        }
        (Some(_), _) => {
            if config.tls_cert.is_none() {
                tracing::warn!(
                    %addr,
                    "listening on a non-loopback address without TLS: tokens and \
                     events cross the network in clear text"
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(addr: &str) -> Config {
        let mut config = Config::for_db("unused.db");
        config.addr = addr.parse().unwrap();
        config.tokens = None;
        config.insecure = false;
        config
    }

    #[test]
    fn only_loopback_is_open_without_tokens() {
        for addr in [
            "127.0.0.1:0",
            "127.0.0.2:50051",
            "[::1]:0",
            "[::ffff:127.0.0.1]:0",
        ] {
            assert!(check_exposure(&config(addr)).is_ok(), "{addr}");
        }
        for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.1:50051"] {
            let err = check_exposure(&config(addr)).expect_err(addr).to_string();
            assert!(
                err.starts_with(&format!("refusing to listen on {addr}")),
                "{err}"
            );
        }
        let mut insecure = config("0.0.0.0:0");
        insecure.insecure = true;
        assert!(check_exposure(&insecure).is_ok());
        let mut tokens = config("0.0.0.0:0");
        tokens.tokens = Some("tokens".into());
        assert!(check_exposure(&tokens).is_ok());
    }
}
