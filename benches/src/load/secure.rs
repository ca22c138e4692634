//! A spawned server with TLS and tokens, for measuring what they cost:
//! a throw-away CA and server certificate, a tokens file admitting one
//! writer token, all in a temporary folder removed on drop; the server's
//! flags and the client's credentials to match.

use std::path::PathBuf;

use pmm::token::{file_line, Role};
use pmm_client::{TlsOptions, Token};
use pmm_server::test_certs::{TestCa, TestPkiFiles};

use super::conn::Credentials;
use super::LoadError;

/// The files of a TLS + token set-up, deleted on drop.
#[derive(Debug)]
pub struct SecureSetup {
    dir: PathBuf,
    files: TestPkiFiles,
    tokens: PathBuf,
    token: String,
}

impl SecureSetup {
    /// Makes the certificates and the token in a new folder under the
    /// system's temporary folder.
    pub fn create() -> Result<SecureSetup, LoadError> {
        let dir = std::env::temp_dir().join(format!("pmm-load-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let failed = |e: &dyn std::fmt::Display| LoadError::Spawn(format!("TLS set-up: {e}"));
        let ca = TestCa::new("pmm-load test CA").map_err(|e| failed(&e))?;
        let files = ca.write(&dir).map_err(|e| failed(&e))?;
        let token = pmm::token::generate().map_err(|e| failed(&e))?;
        let tokens = dir.join("tokens");
        std::fs::write(&tokens, file_line("pmm-load", Role::Writer, &token) + "\n")?;
        Ok(SecureSetup {
            dir,
            files,
            tokens,
            token,
        })
    }

    /// The server's flags: TLS with the server certificate, the tokens file.
    pub fn server_args(&self) -> Vec<String> {
        [
            "--tls-cert",
            &self.files.server_cert.display().to_string(),
            "--tls-key",
            &self.files.server_key.display().to_string(),
            "--tokens",
            &self.tokens.display().to_string(),
        ]
        .map(str::to_string)
        .to_vec()
    }

    /// The client's side: the CA, the token.
    pub fn credentials(&self) -> Result<Credentials, LoadError> {
        Ok(Credentials {
            tls: TlsOptions {
                ca_file: Some(self.files.ca.clone()),
                ..TlsOptions::default()
            },
            token: Some(Token::new(&self.token).map_err(|e| LoadError::Spawn(e.to_string()))?),
            mind: None,
        })
    }
}

impl Drop for SecureSetup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
