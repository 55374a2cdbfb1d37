//! TLS for every transport: one rustls configuration, the server's name taken from the
//! address.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;

use crate::ClientError;

/// How to trust the server's certificate.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

fn config(roots: RootCertStore) -> Result<ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::local(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Tls {
    /// Trusts the operating system's certificate authorities.
    pub fn system_roots() -> Result<Self, ClientError> {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        Ok(Self { config: Arc::new(config(roots)?) })
    }

    /// Trusts the certificates (authorities, or a self-signed server certificate) of the PEM
    /// text `pem`, and nothing else.
    pub fn with_ca_pem(pem: &[u8]) -> Result<Self, ClientError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            roots
                .add(cert.map_err(|e| ClientError::local(e.to_string()))?)
                .map_err(|e| ClientError::local(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(ClientError::local("no certificate in the PEM text"));
        }
        Ok(Self { config: Arc::new(config(roots)?) })
    }

    /// The configuration without ALPN (for connectors that set it themselves).
    pub(crate) fn plain_config(&self) -> ClientConfig {
        (*self.config).clone()
    }

    /// The configuration offering `alpn` (h2 for gRPC, http/1.1 otherwise).
    pub(crate) fn config(&self, alpn: &[u8]) -> Arc<ClientConfig> {
        let mut c = (*self.config).clone();
        c.alpn_protocols = vec![alpn.to_vec()];
        Arc::new(c)
    }
}

/// The host part of `host:port` (brackets of an IPv6 address removed).
fn host(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// A TLS session to `addr`, its certificate checked for the address's host name (or IP).
pub(crate) async fn connect(
    addr: &str,
    tls: &Tls,
    alpn: &[u8],
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, std::io::Error> {
    let name = ServerName::try_from(host(addr).to_owned())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    tokio_rustls::TlsConnector::from(tls.config(alpn)).connect(name, tcp).await
}
