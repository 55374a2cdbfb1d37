//! The PostgreSQL backend: a connection pool, versioned migrations, and one transaction
//! per operation. Concurrency is PostgreSQL's: a conversation's (or user's) row is the
//! lock that orders its sequence numbers, so any number of nodes can write at once.

mod schema;
mod tls;
mod tx;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::{StoreError, StoreResult};

pub use schema::SCHEMA_VERSION;
pub use tls::PgTls;

/// Options of the PostgreSQL backend.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connection URL, e.g. `postgres://user@host:5432/db`.
    pub url: String,
    /// Schema to use (created if missing); `None` uses the server's search path.
    pub schema: Option<String>,
    /// Pooled connections.
    pub pool_size: usize,
    /// TLS to the server.
    pub tls: PgTls,
}

impl PgOptions {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), schema: None, pool_size: 16, tls: PgTls::Disable }
    }
}

/// The PostgreSQL store. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// Samples the pool into gauges until the last clone is dropped.
    _sampler: std::sync::Arc<Sampler>,
}

/// How often the pool's state is copied into the gauges.
const POOL_SAMPLE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

struct Sampler(tokio::task::JoinHandle<()>);

impl Drop for Sampler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Copies the pool's state into gauges every [`POOL_SAMPLE_INTERVAL`].
async fn sample_pool(pool: Pool) {
    let mut tick = tokio::time::interval(POOL_SAMPLE_INTERVAL);
    loop {
        tick.tick().await;
        let s = pool.status();
        metrics::gauge!("switchboard_store_pool_connections", "state" => "idle").set(s.available as f64);
        metrics::gauge!("switchboard_store_pool_connections", "state" => "in_use")
            .set(s.size.saturating_sub(s.available) as f64);
        metrics::gauge!("switchboard_store_pool_max_connections").set(s.max_size as f64);
        metrics::gauge!("switchboard_store_pool_waiting").set(s.waiting as f64);
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        crate::sql::DbError::from(e).into()
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        tracing::warn!(error = %e, "postgres pool cannot hand out a connection");
        StoreError::Unavailable
    }
}

impl PgStore {
    /// Connects, creates the schema if asked, and applies pending migrations.
    pub async fn connect(options: PgOptions) -> StoreResult<Self> {
        let mut config: tokio_postgres::Config =
            options.url.parse().map_err(|e: tokio_postgres::Error| StoreError::Backend(format!("bad url: {e}")))?;
        if let Some(schema) = &options.schema
            && !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Backend(format!("bad schema name {schema:?}")));
        }
        let tls = tls::client_config(&options.tls)?.map(tokio_postgres_rustls::MakeRustlsConnect::new);
        if tls.is_some() {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
        }
        config.connect_timeout(std::time::Duration::from_secs(5));
        if let Some(schema) = &options.schema {
            match &tls {
                Some(tls) => create_schema(&config, tls.clone(), schema).await?,
                None => create_schema(&config, NoTls, schema).await?,
            }
            config.options(format!("-c search_path={schema}"));
        }
        let recycling = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = match tls {
            Some(tls) => Manager::from_config(config, tls, recycling),
            None => Manager::from_config(config, NoTls, recycling),
        };
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .wait_timeout(Some(std::time::Duration::from_secs(5)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Backend(format!("pool: {e}")))?;
        let sampler = Sampler(tokio::spawn(sample_pool(pool.clone())));
        let store = Self { pool, _sampler: std::sync::Arc::new(sampler) };
        let mut client = store.pool.get().await?;
        schema::migrate(&mut client).await?;
        Ok(store)
    }

    /// Whether the pooled connections are encrypted, as the server reports it.
    pub async fn encrypted(&self) -> StoreResult<bool> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)", &[])
            .await?;
        Ok(row.get(0))
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        Ok(self.pool.get().await?)
    }
}

async fn create_schema<T>(config: &tokio_postgres::Config, tls: T, schema: &str) -> StoreResult<()>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, conn) = config.connect(tls).await?;
    let task = tokio::spawn(conn);
    client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

/// Runs the body (an async block using `$tx: &Transaction`) in a transaction on a pooled
/// connection: commit on `Ok`, roll back on `Err`.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut client = $store.client().await?;
        let txn = client.transaction().await?;
        let result = {
            let $tx: &deadpool_postgres::Transaction<'_> = &txn;
            $body.await
        };
        match result {
            Ok(v) => {
                txn.commit().await?;
                Ok(v)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }};
}
pub(crate) use in_tx;

/// Runs an operation call (`|tx| op(tx, ..)`) the way its mode says (see `backends`).
macro_rules! run {
    (read, $s:ident, |$c:ident| $call:expr) => {{
        let client = $s.client().await?;
        let $c: &deadpool_postgres::ClientWrapper = &client;
        $call.await
    }};
    (write, $s:ident, |$c:ident| $call:expr) => {
        $crate::postgres::in_tx!($s, |$c| $call)
    };
    (write_retried, $s:ident, |$c:ident| $call:expr) => {
        // A unique index fired: another transaction wrote the same key first. Once that one
        // committed, running again finds its row.
        match $crate::postgres::in_tx!($s, |$c| $call) {
            Err($crate::StoreError::AlreadyExists(_)) => $crate::postgres::in_tx!($s, |$c| $call),
            other => other,
        }
    };
    (append, $s:ident, |$c:ident| $call:expr) => {
        $crate::postgres::run!(write_retried, $s, |$c| $call)
    };
}
pub(crate) use run;
