//! TLS and tokens for the service tests: a throw-away CA with server and
//! client certificates, a tokens file, and the options that go with them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use pmm::token::{file_line, Role};
use pmm_client::{ConnectOptions, TlsOptions, Token};
use pmm_server::config::Config;
use pmm_server::test_certs::{TestCa, TestPkiFiles};
use pmm_server::tls::Pem;

/// The tokens the tests hand out, one per role.
pub const READER: &str = "pmm_reader-token-0123456789abcdef";
pub const WRITER: &str = "pmm_writer-token-0123456789abcdef";
pub const ADMIN: &str = "pmm_admin-token-0123456789abcdef";

/// Certificates and a tokens file in a temporary folder.
pub struct Security {
    pub dir: tempfile::TempDir,
    pub pki: TestPkiFiles,
    pub tokens: PathBuf,
}

impl Security {
    /// A CA, a server and a client certificate, and a tokens file with one
    /// token per role (`reader`, `writer`, `admin`).
    pub fn new() -> Security {
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = TestCa::new("pmm test CA")
            .expect("CA")
            .write(dir.path())
            .expect("certificates");
        let tokens = dir.path().join("tokens");
        let security = Security { dir, pki, tokens };
        security.write_tokens(&[
            ("reader", Role::Reader, READER),
            ("writer", Role::Writer, WRITER),
            ("admin", Role::Admin, ADMIN),
        ]);
        security
    }

    /// Rewrites the tokens file (the server sees it on reload).
    pub fn write_tokens(&self, tokens: &[(&str, Role, &str)]) {
        let mut text = String::from("# name role sha256\n");
        for (name, role, token) in tokens {
            text.push_str(&file_line(name, *role, token));
            text.push('\n');
        }
        std::fs::write(&self.tokens, text).expect("tokens file");
    }

    /// Server flags: TLS with the server certificate.
    pub fn tls(&self, config: &mut Config) {
        config.tls_cert = Some(Pem::File(self.pki.server_cert.clone()));
        config.tls_key = Some(Pem::File(self.pki.server_key.clone()));
    }

    /// Server flags: mutual TLS (client certificates signed by the CA).
    pub fn mtls(&self, config: &mut Config) {
        self.tls(config);
        config.tls_client_ca = Some(Pem::File(self.pki.ca.clone()));
    }

    /// Server flags: the tokens file.
    pub fn tokens(&self, config: &mut Config) {
        config.tokens = Some(self.tokens.clone());
    }

    /// Client options trusting this CA, with a client certificate when
    /// `with_cert`.
    pub fn tls_client(&self, with_cert: bool) -> ConnectOptions {
        ConnectOptions {
            tls: TlsOptions {
                ca_file: Some(self.pki.ca.clone()),
                cert_file: with_cert.then(|| self.pki.client_cert.clone()),
                key_file: with_cert.then(|| self.pki.client_key.clone()),
                domain: None,
            },
            ..quick()
        }
    }
}

/// Options that give up quickly (a refused handshake must not hang).
pub fn quick() -> ConnectOptions {
    ConnectOptions {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Some(Duration::from_secs(10)),
        ..ConnectOptions::default()
    }
}

/// `options` sending `token`.
pub fn with_token(options: ConnectOptions, token: &str) -> ConnectOptions {
    ConnectOptions {
        token: Some(Token::new(token).expect("token")),
        ..options
    }
}

/// A file's permission bits.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}
