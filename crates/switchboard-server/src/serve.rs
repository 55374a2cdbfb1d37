//! Start-up and the serve loop.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use switchboard_api::{Api, ApiOptions};
use switchboard_bus::LocalBus;
use switchboard_service::Services;
use switchboard_store::sqlite::{SqliteOptions, SqliteStore, Synchronous};
use tokio::net::TcpListener;

use crate::config::{Config, SyncMode};

/// A configured server: store, bus, services and routes, ready to serve.
pub struct App {
    api: Api,
    grace: Duration,
    /// The use cases (for the admin CLI and tests).
    pub services: Services,
}

/// Opens the embedded store of `config`.
pub fn open_store(config: &Config) -> anyhow::Result<SqliteStore> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("create data directory {}", config.data_dir.display()))?;
    let mut opts = SqliteOptions::new(config.database_path());
    opts.synchronous = match config.sqlite.synchronous {
        SyncMode::Full => Synchronous::Full,
        SyncMode::Normal => Synchronous::Normal,
    };
    opts.max_batch = config.sqlite.max_batch;
    opts.readers = config.sqlite.readers;
    SqliteStore::open(opts).with_context(|| format!("open database {}", config.database_path().display()))
}

impl App {
    /// Builds the server from its configuration.
    pub async fn new(config: &Config) -> anyhow::Result<Self> {
        let store = open_store(config)?;
        let services = Services::new(Arc::new(store), Arc::new(LocalBus::new()), config.service.clone());
        let t = &config.transport;
        let options = ApiOptions {
            max_frame_bytes: t.max_frame_bytes,
            ping_interval: Duration::from_secs(t.ping_interval_secs.max(1)),
            idle_timeout: Duration::from_secs(t.idle_timeout_secs.max(2)),
            max_inflight_per_connection: t.max_inflight_per_connection.max(1),
        };
        let api = Api::new(services.clone(), options).await;
        Ok(Self { api, grace: Duration::from_secs(t.shutdown_grace_secs), services })
    }
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
    tracing::info!(%addr, "switchboard listening (gRPC, WebSocket and HTTP)");
    let App { api, grace, .. } = app;
    let router = api.router.clone();
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
    let api = Arc::new(api);
    let drain_api = api.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: draining connections");
        drain_api.drain();
        let _ = drained_tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    let server = tokio::spawn(async move { server.await });
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
