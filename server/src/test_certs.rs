//! Certificates made on the spot for tests and benchmarks (feature
//! `test-certs`): a throw-away CA, a server certificate it signs for the
//! loopback names (127.0.0.1, ::1, localhost), and client certificates for
//! mutual TLS. Never for production: the keys live in memory and in the
//! folder they are written to.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A certificate and its private key, PEM.
#[derive(Clone, Debug)]
pub struct CertPair {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A CA that signs server and client certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// The files [`TestCa::write`] leaves in a folder.
#[derive(Clone, Debug)]
pub struct TestPkiFiles {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Result<TestCa, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(TestCa { issuer })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for 127.0.0.1, ::1 and localhost.
    pub fn server(&self) -> Result<CertPair, rcgen::Error> {
        let names = ["127.0.0.1", "::1", "localhost"].map(str::to_string);
        self.leaf(
            names.to_vec(),
            ExtendedKeyUsagePurpose::ServerAuth,
            "pmm-server",
        )
    }

    /// A client certificate for mutual TLS, named `name`.
    pub fn client(&self, name: &str) -> Result<CertPair, rcgen::Error> {
        self.leaf(Vec::new(), ExtendedKeyUsagePurpose::ClientAuth, name)
    }

    fn leaf(
        &self,
        names: Vec<String>,
        usage: ExtendedKeyUsagePurpose,
        common_name: &str,
    ) -> Result<CertPair, rcgen::Error> {
        let mut params = CertificateParams::new(names)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(CertPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Writes the CA certificate, a server pair and a client pair (named
    /// `client`) into `dir`.
    pub fn write(&self, dir: &Path) -> Result<TestPkiFiles, TestCertError> {
        let server = self.server()?;
        let client = self.client("client")?;
        let files = TestPkiFiles {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        };
        for (path, text) in [
            (&files.ca, self.cert_pem()),
            (&files.server_cert, server.cert_pem),
            (&files.server_key, server.key_pem),
            (&files.client_cert, client.cert_pem),
            (&files.client_key, client.key_pem),
        ] {
            std::fs::write(path, text)?;
        }
        Ok(files)
    }
}

/// Why test certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TestCertError {
    #[error("rcgen: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("writing a certificate: {0}")]
    Io(#[from] std::io::Error),
}
