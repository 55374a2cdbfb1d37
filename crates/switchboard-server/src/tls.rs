//! TLS on the listener: rustls, with the certificate and key reloaded when their files
//! change or on SIGHUP, without dropping a connection.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::TlsConfig;

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes finished but not yet taken by the server.
const READY_QUEUE: usize = 128;

/// The certificate in use, swapped whole when the files change.
pub struct Certificates {
    cert_file: PathBuf,
    key_file: PathBuf,
    current: RwLock<(Arc<ServerConfig>, Option<SystemTime>)>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn load(cert_file: &Path, key_file: &Path) -> anyhow::Result<ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("tls.cert_file: read {}", cert_file.display()))?;
    if chain.is_empty() {
        anyhow::bail!("tls.cert_file: {} holds no certificate", cert_file.display());
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .with_context(|| format!("tls.key_file: read a private key from {}", key_file.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("tls: the certificate and key do not form a pair")?;
    // gRPC needs HTTP/2; browsers' WebSockets ride HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

impl Certificates {
    /// Loads the pair `config` names; an error names the file at fault.
    pub fn load(config: &TlsConfig) -> anyhow::Result<Arc<Self>> {
        let server = load(&config.cert_file, &config.key_file)?;
        let stamp = newest(&config.cert_file, &config.key_file);
        Ok(Arc::new(Self {
            cert_file: config.cert_file.clone(),
            key_file: config.key_file.clone(),
            current: RwLock::new((Arc::new(server), stamp)),
        }))
    }

    fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current.read().unwrap_or_else(|e| e.into_inner()).0.clone())
    }

    /// Loads the files again; on failure keeps the pair in use and says why.
    pub fn reload(&self) -> anyhow::Result<()> {
        let server = load(&self.cert_file, &self.key_file)?;
        let stamp = newest(&self.cert_file, &self.key_file);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = (Arc::new(server), stamp);
        metrics::counter!("switchboard_tls_reloads_total").increment(1);
        tracing::info!(cert = %self.cert_file.display(), "TLS certificate reloaded");
        Ok(())
    }

    fn changed(&self) -> bool {
        let seen = self.current.read().unwrap_or_else(|e| e.into_inner()).1;
        newest(&self.cert_file, &self.key_file) != seen
    }

    /// Reloads on SIGHUP and, every `every` (unless zero), when a file changed.
    pub fn watch(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut tick = (!every.is_zero()).then(|| tokio::time::interval(every));
            loop {
                let poll = async {
                    match &mut tick {
                        Some(t) => {
                            t.tick().await;
                        }
                        None => std::future::pending().await,
                    }
                };
                #[cfg(unix)]
                let signal = async {
                    match &mut hup {
                        Some(h) => h.recv().await,
                        None => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let signal = std::future::pending::<Option<()>>();
                let forced = tokio::select! {
                    _ = poll => false,
                    _ = signal => true,
                };
                if (forced || this.changed())
                    && let Err(e) = this.reload()
                {
                    metrics::counter!("switchboard_tls_reload_failures_total").increment(1);
                    tracing::error!(error = %format!("{e:#}"), "TLS certificate not reloaded; keeping the one in use");
                }
            }
        })
    }
}

fn newest(a: &Path, b: &Path) -> Option<SystemTime> {
    modified(a).max(modified(b))
}

/// A listener whose connections are TLS sessions. TCP connections are accepted and their
/// handshakes run in the background, each with a deadline, so a slow or silent client
/// never holds up the others.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Serves TLS with `certs` on the bound `listener`.
    pub fn new(listener: TcpListener, certs: Arc<Certificates>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = tokio::spawn(accept_loop(listener, certs, tx));
        Ok(Self { ready, local, acceptor })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    certs: Arc<Certificates>,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = certs.acceptor();
        let ready = ready.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let _ = ready.send((stream, peer)).await;
                }
                Ok(Err(e)) => {
                    metrics::counter!("switchboard_tls_handshake_failures_total").increment(1);
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                }
                Err(_) => {
                    metrics::counter!("switchboard_tls_handshake_failures_total").increment(1);
                    tracing::debug!(%peer, "TLS handshake timed out");
                }
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
