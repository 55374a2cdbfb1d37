//! TLS to PostgreSQL with rustls.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::{StoreError, StoreResult};

/// How the connection to PostgreSQL is protected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PgTls {
    /// Plain TCP.
    #[default]
    Disable,
    /// Encrypted; the server's certificate is not checked (libpq's `sslmode=require`):
    /// protects against eavesdropping, not against an active attacker.
    Require,
    /// Encrypted; certificate chain and host name are checked against the certificate
    /// authorities in `ca_file` (PEM), or the system's roots when `None`.
    VerifyFull {
        /// Trusted certificate authorities.
        ca_file: Option<PathBuf>,
    },
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration for `tls`; `None` for plain TCP.
pub(crate) fn client_config(tls: &PgTls) -> StoreResult<Option<ClientConfig>> {
    let bad = |e: String| StoreError::Backend(format!("postgres TLS: {e}"));
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?;
    Ok(match tls {
        PgTls::Disable => None,
        PgTls::Require => Some(
            builder.dangerous().with_custom_certificate_verifier(Arc::new(Unchecked(provider()))).with_no_client_auth(),
        ),
        PgTls::VerifyFull { ca_file } => {
            let mut roots = RootCertStore::empty();
            match ca_file {
                Some(path) => {
                    let certs = CertificateDer::pem_file_iter(path)
                        .map_err(|e| bad(format!("read {}: {e}", path.display())))?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| bad(format!("read {}: {e}", path.display())))?;
                    if certs.is_empty() {
                        return Err(bad(format!("{} holds no certificate", path.display())));
                    }
                    for c in certs {
                        roots.add(c).map_err(|e| bad(format!("{}: {e}", path.display())))?;
                    }
                }
                None => {
                    let found = rustls_native_certs::load_native_certs();
                    roots.add_parsable_certificates(found.certs);
                }
            }
            Some(builder.with_root_certificates(roots).with_no_client_auth())
        }
    })
}

/// Accepts any certificate but still checks the handshake's signatures (so the session
/// is encrypted to whoever holds the certificate's key).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
