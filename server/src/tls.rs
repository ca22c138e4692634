//! TLS for the server (rustls): the certificate chain and private key, and
//! for mutual TLS the CA that client certificates must chain to. Each is a
//! file or the PEM text itself (for an environment variable), read once at
//! start; anything wrong stops the start with the file named.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

/// Longest TLS handshake; a client that takes longer is dropped (so that
/// half-open handshakes cannot pile up).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where PEM comes from: a file, or the text itself (a value that starts
/// with `-----BEGIN`).
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    File(PathBuf),
    Inline(String),
}

impl FromStr for Pem {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Pem, Self::Err> {
        Ok(if s.trim_start().starts_with("-----BEGIN") {
            Pem::Inline(s.to_string())
        } else {
            Pem::File(PathBuf::from(s))
        })
    }
}

/// Names the source, never its text (it may be a private key).
impl fmt::Display for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::File(path) => write!(f, "{}", path.display()),
            Pem::Inline(_) => f.write_str("(PEM text given inline)"),
        }
    }
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Pem {
    fn read(&self, what: &'static str) -> Result<Vec<u8>, TlsError> {
        match self {
            Pem::Inline(text) => Ok(text.clone().into_bytes()),
            Pem::File(path) => std::fs::read(path).map_err(|e| TlsError::Invalid {
                what,
                origin: self.to_string(),
                reason: format!("cannot read it: {e}"),
            }),
        }
    }
}

/// Why the TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS {what} {origin}: {reason}")]
    Invalid {
        what: &'static str,
        origin: String,
        reason: String,
    },
    #[error("TLS (certificate {cert}, key {key}{client_ca}): {reason}")]
    Rejected {
        cert: String,
        key: String,
        client_ca: String,
        reason: String,
    },
}

/// The TLS settings given on the command line.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: Pem,
    pub key: Pem,
    pub client_ca: Option<Pem>,
}

impl TlsFiles {
    /// Reads and checks every file, giving the server's TLS configuration.
    pub fn load(&self) -> Result<ServerTlsConfig, TlsError> {
        let cert = self.cert.read("certificate")?;
        certificates(&cert, "certificate", &self.cert)?;
        let key = self.key.read("private key")?;
        PrivateKeyDer::from_pem_slice(&key).map_err(|e| TlsError::Invalid {
            what: "private key",
            origin: self.key.to_string(),
            reason: format!("no PEM private key found ({e})"),
        })?;
        let mut config = ServerTlsConfig::new()
            .identity(Identity::from_pem(cert, key))
            .timeout(HANDSHAKE_TIMEOUT);
        if let Some(ca) = &self.client_ca {
            let pem = ca.read("client CA")?;
            certificates(&pem, "client CA", ca)?;
            config = config.client_ca_root(Certificate::from_pem(pem));
        }
        // rustls checks the rest (a key that does not match the
        // certificate, a CA it cannot use) when the acceptor is built.
        Server::builder()
            .tls_config(config.clone())
            .map_err(|e| TlsError::Rejected {
                cert: self.cert.to_string(),
                key: self.key.to_string(),
                client_ca: self
                    .client_ca
                    .as_ref()
                    .map_or_else(String::new, |ca| format!(", client CA {ca}")),
                reason: error_chain(&e),
            })?;
        Ok(config)
    }
}

/// At least one PEM certificate, each well-formed.
fn certificates(pem: &[u8], what: &'static str, source: &Pem) -> Result<(), TlsError> {
    let invalid = |reason: String| TlsError::Invalid {
        what,
        origin: source.to_string(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("not PEM certificates ({e})")))?;
    if certs.is_empty() {
        return Err(invalid("no PEM certificate found".to_string()));
    }
    Ok(())
}

/// An error with its causes, `a: b: c`.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> (String, String) {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        (certified.cert.pem(), certified.signing_key.serialize_pem())
    }

    #[test]
    fn pem_sources_are_files_or_inline_text_never_shown() {
        assert_eq!(
            "/etc/pmm/key.pem".parse::<Pem>().unwrap(),
            Pem::File("/etc/pmm/key.pem".into())
        );
        let inline: Pem = "-----BEGIN PRIVATE KEY-----\nsecret".parse().unwrap();
        assert!(matches!(inline, Pem::Inline(_)));
        assert!(!format!("{inline} {inline:?}").contains("secret"));
    }

    #[test]
    fn good_files_load_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed();
        let (other_cert, other_key) = self_signed();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            Pem::File(path)
        };
        let files = |cert: Pem, key: Pem, client_ca: Option<Pem>| TlsFiles {
            cert,
            key,
            client_ca,
        };
        let good_cert = write("cert.pem", &cert);
        let good_key = write("key.pem", &key);
        files(good_cert.clone(), good_key.clone(), Some(good_cert.clone()))
            .load()
            .expect("good files");
        files(good_cert.clone(), Pem::Inline(key.clone()), None)
            .load()
            .expect("inline key");

        let garbage = write("garbage.pem", "not a certificate");
        let missing = Pem::File(dir.path().join("missing.pem"));
        let wrong_key = write("other-cert.pem", &other_cert);
        let mismatched = write("other-key.pem", &other_key);
        let cases = [
            (
                files(garbage.clone(), good_key.clone(), None),
                "garbage.pem",
            ),
            (
                files(missing.clone(), good_key.clone(), None),
                "missing.pem",
            ),
            (
                files(good_cert.clone(), garbage.clone(), None),
                "garbage.pem",
            ),
            (files(good_cert.clone(), wrong_key, None), "other-cert.pem"),
            (files(good_cert.clone(), mismatched, None), "other-key.pem"),
            (
                files(good_cert.clone(), good_key.clone(), Some(garbage)),
                "garbage.pem",
            ),
        ];
        for (files, named) in cases {
            let err = files.load().expect_err("must fail").to_string();
            assert!(err.contains(named), "{err} should name {named}");
        }
    }
}
