//! Start-up and the serve loop.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::serve::ListenerExt;
use switchboard_api::{Api, ApiOptions, Cors};
use switchboard_bus::{Bus, LocalBus, NatsBus};
use switchboard_service::Services;
use switchboard_store::Store;
#[cfg(feature = "postgres")]
use switchboard_store::postgres::{PgOptions, PgStore};
#[cfg(feature = "sqlite")]
use switchboard_store::sqlite::{SqliteOptions, SqliteStore, Synchronous};
use tokio::net::TcpListener;

use crate::config::Config;
#[cfg(feature = "sqlite")]
use crate::datadir::Access;
use crate::datadir::DataDirLock;

/// A configured server: store, bus, services and routes, ready to serve.
pub struct App {
    api: Api,
    grace: Duration,
    /// The use cases (for the admin CLI and tests).
    pub services: Services,
    /// Keeps `restore` and `port` away from the embedded database while this runs.
    _data_dir: Option<DataDirLock>,
    /// TLS on the listener, when configured, and how often to look for a new certificate.
    tls: Option<(Arc<crate::tls::Certificates>, Duration)>,
    /// The separate metrics address, bound at start-up, when configured.
    metrics: Option<TcpListener>,
}

pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the embedded SQLite store of `config`.
#[cfg(feature = "sqlite")]
pub fn open_sqlite(config: &Config) -> anyhow::Result<SqliteStore> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("create data directory {}", config.data_dir.display()))?;
    let mut opts = SqliteOptions::new(config.database_path());
    opts.synchronous = match config.sqlite.synchronous {
        crate::config::SyncMode::Full => Synchronous::Full,
        crate::config::SyncMode::Normal => Synchronous::Normal,
    };
    opts.max_batch = config.sqlite.max_batch;
    opts.readers = config.sqlite.readers;
    opts.checkpoint_interval = std::time::Duration::from_millis(config.sqlite.checkpoint_interval_ms);
    SqliteStore::open(opts).with_context(|| format!("open database {}", config.database_path().display()))
}

/// Connects to the PostgreSQL store of `config`, retrying for a while so that nodes can
/// start before their database.
#[cfg(feature = "postgres")]
pub async fn open_postgres(config: &Config) -> anyhow::Result<PgStore> {
    let opts = pg_options(config, &config.store);
    let mut attempt = 0;
    loop {
        match PgStore::connect(opts.clone()).await {
            Ok(store) => return Ok(store),
            // Only an unreachable server is worth waiting for: a malformed URL, a refused
            // password or a bad schema name stays wrong, so it fails at once.
            Err(e) if attempt < 30 && matches!(e, switchboard_store::StoreError::Unavailable) => {
                attempt += 1;
                tracing::warn!(error = %e, attempt, "PostgreSQL not reachable yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e).context("connect to PostgreSQL"),
        }
    }
}

/// The PostgreSQL options of `config` for the database at `url`.
#[cfg(feature = "postgres")]
pub(crate) fn pg_options(config: &Config, url: &str) -> PgOptions {
    use crate::config::PgTls as Mode;
    use switchboard_store::postgres::PgTls;
    let mut opts = PgOptions::new(url);
    opts.schema = Some(config.postgres.schema.clone()).filter(|s| !s.is_empty());
    opts.pool_size = config.postgres.pool_size;
    opts.tls = match config.postgres.tls {
        Mode::Disable => PgTls::Disable,
        Mode::Require => PgTls::Require,
        Mode::VerifyFull => PgTls::VerifyFull {
            ca_file: Some(config.postgres.tls_ca_file.clone()).filter(|p| !p.as_os_str().is_empty()),
        },
    };
    opts
}

/// Opens the store `config` names; for the embedded store, with the data directory's
/// shared lock, to be held while the store is in use.
pub async fn open_store(config: &Config) -> anyhow::Result<(Arc<dyn Store>, Option<DataDirLock>)> {
    match config.store.as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            let lock = crate::datadir::lock(&config.data_dir, Access::Shared)?;
            Ok((Arc::new(open_sqlite(config)?), Some(lock)))
        }
        #[cfg(feature = "postgres")]
        url if is_postgres(url) => Ok((Arc::new(open_postgres(config).await?), None)),
        #[cfg(not(feature = "sqlite"))]
        "sqlite" => bail!("this build has no embedded store (built without the `sqlite` feature)"),
        #[cfg(not(feature = "postgres"))]
        url if is_postgres(url) => bail!("this build has no PostgreSQL store (built without the `postgres` feature)"),
        other => bail!("unknown store {other:?}: use \"sqlite\" or a postgres:// URL"),
    }
}

/// Opens the blob store `config` names: the data directory's `files` or an S3 bucket.
pub fn open_blobs(config: &Config) -> anyhow::Result<switchboard_service::BlobStore> {
    let f = &config.files;
    let store = match f.storage.as_str() {
        "s3" => switchboard_service::BlobStore::s3(&f.s3),
        _ => switchboard_service::BlobStore::filesystem(&config.data_dir.join("files")),
    };
    store.map_err(|e| anyhow::anyhow!("files.storage: {e}"))
}

/// Connects the bus `config` names.
pub async fn open_bus(config: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    match config.bus.as_str() {
        "local" => Ok(Arc::new(LocalBus::new())),
        url if url.starts_with("nats://") || url.starts_with("tls://") => {
            let ca = Some(config.nats.tls_ca_file.as_path()).filter(|p| !p.as_os_str().is_empty());
            Ok(Arc::new(NatsBus::connect_with(url, &config.nats.prefix, ca).await?))
        }
        other => bail!("unknown bus {other:?}: use \"local\" or a nats:// (or tls://) URL"),
    }
}

impl App {
    /// Builds the server from its configuration.
    pub async fn new(config: &Config) -> anyhow::Result<Self> {
        Self::with_clock(config, Arc::new(switchboard_service::clock::SystemClock)).await
    }

    /// As [`App::new`], telling time by `clock` (tests move it forward instead of sleeping).
    pub async fn with_clock(
        config: &Config,
        clock: Arc<dyn switchboard_service::clock::Clock>,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        // The recorder first, so that what the store and bus record while starting counts.
        let _ = switchboard_api::metrics::prometheus();
        // A certificate that does not load stops start-up before anything else is opened.
        let tls = if config.tls.cert_file.as_os_str().is_empty() {
            None
        } else {
            Some((crate::tls::Certificates::load(&config.tls)?, Duration::from_secs(config.tls.reload_secs)))
        };
        let (store, data_dir) = open_store(config).await?;
        let bus = open_bus(config).await?;
        tracing::info!(store = store_kind(config), bus = bus_kind(config), files = %config.files.storage, "storage and bus ready");
        let blobs = open_blobs(config)?;
        if config.bus != "local" && config.files.storage != "s3" {
            tracing::warn!(
                "files.storage is the data directory while nodes share a bus: files uploaded to one node are \
                 not readable on another unless the directory is shared; use files.storage = \"s3\""
            );
        }
        let services = Services::with_clock(store, bus, blobs, config.service.clone(), clock)?;
        let t = &config.transport;
        let options = ApiOptions {
            max_frame_bytes: t.max_frame_bytes,
            // Config::validate refused values these could not work with.
            ping_interval: Duration::from_secs(t.ping_interval_secs),
            idle_timeout: Duration::from_secs(t.idle_timeout_secs),
            max_inflight_per_connection: t.max_inflight_per_connection,
            write_timeout: Duration::from_secs(t.write_timeout_secs),
            client_address_header: Some(t.client_address_header.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()),
            cors: Cors::parse(&t.cors_origins).map_err(|e| anyhow::anyhow!("transport.cors_origins: {e}"))?,
            metrics_token: Some(t.metrics_token.clone()).filter(|s| !s.is_empty()),
            metrics_on_main: t.metrics_listen.is_empty(),
            web: web_client(&config.web)?,
        };
        let metrics = if t.metrics_listen.is_empty() {
            None
        } else {
            Some(
                TcpListener::bind(&t.metrics_listen)
                    .await
                    .with_context(|| format!("transport.metrics_listen: listen on {}", t.metrics_listen))?,
            )
        };
        let api = Api::new(services.clone(), options).await;
        Ok(Self { api, grace: Duration::from_secs(t.shutdown_grace_secs), services, _data_dir: data_dir, tls, metrics })
    }
}

/// The web client's routes, or None when it is off.
fn web_client(web: &crate::config::WebConfig) -> anyhow::Result<Option<axum::Router>> {
    if !web.enabled {
        return Ok(None);
    }
    let client = if web.dir.as_os_str().is_empty() {
        switchboard_web::WebClient::embedded()?
    } else {
        switchboard_web::WebClient::from_dir(&web.dir)?
    };
    tracing::info!(assets = client.prefix(), from = %if web.dir.as_os_str().is_empty() { "built in".into() } else { web.dir.display().to_string() }, "web client at /");
    Ok(Some(client.router()))
}

fn store_kind(config: &Config) -> &'static str {
    if is_postgres(&config.store) { "postgres" } else { "sqlite" }
}

fn bus_kind(config: &Config) -> &'static str {
    if config.bus == "local" { "local" } else { "nats" }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains: readiness fails,
/// live connections are closed with a going-away reason, and in-flight requests get
/// the configured grace period to finish.
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let App { api, grace, _data_dir, tls, metrics, .. } = app;
    let router = api.router.clone();
    let _metrics = match metrics {
        Some(listener) => {
            tracing::info!(addr = %listener.local_addr()?, "metrics listening (HTTP, /metrics only)");
            let server = axum::serve(listener, api.metrics_router.clone());
            Some(AbortOnDrop(tokio::spawn(async move {
                if let Err(e) = server.await {
                    tracing::error!(error = %e, "metrics listener failed");
                }
            })))
        }
        None => None,
    };
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
    let api = Arc::new(api);
    let drain_api = api.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: draining connections");
        drain_api.drain();
        let _ = drained_tx.send(());
    };
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let (server, _watch) = match tls {
        Some((certs, every)) => {
            tracing::info!(%addr, "switchboard listening with TLS (gRPC, WebSocket and HTTPS)");
            let watch = certs.watch(every);
            let listener = crate::tls::TlsListener::new(listener, certs)?.tap_io(|_| {});
            let server = axum::serve(listener, service).with_graceful_shutdown(signal);
            (tokio::spawn(async move { server.await }), Some(AbortOnDrop(watch)))
        }
        None => {
            tracing::info!(%addr, "switchboard listening (gRPC, WebSocket and HTTP)");
            // No Nagle: a gRPC reply is several small writes, and waiting for the peer's
            // delayed ACK between them adds ~40 ms to every call.
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
            });
            let server = axum::serve(listener, service).with_graceful_shutdown(signal);
            (tokio::spawn(async move { server.await }), None)
        }
    };
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => return r.context("server task")?.context("serve"),
        _ = drained_rx => {}
    }
    match tokio::time::timeout(grace, &mut server).await {
        Ok(r) => r.context("server task")?.context("serve"),
        Err(_) => {
            tracing::warn!(?grace, "grace period over; closing remaining connections");
            server.abort();
            Ok(())
        }
    }
}

/// Stops a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
