//! Versioned migrations of the PostgreSQL schema, applied under an advisory lock so that
//! nodes starting together do not race.

use crate::StoreResult;

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The migrations, in order (`migrations/postgres/NNNN_name.sql`, listed by the build script).
const MIGRATIONS: &[&str] = crate::migrations::POSTGRES_MIGRATIONS;

/// A fixed key for the migration advisory lock.
const LOCK_KEY: i64 = 0x5357_4254_4348_0001;

/// Applies every migration not yet applied; returns the resulting version.
pub async fn migrate(client: &mut tokio_postgres::Client) -> StoreResult<u32> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY]).await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await?;
    let current: i64 = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await?.get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        tx.batch_execute(sql).await?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&version]).await?;
        tracing::info!(version, "applied postgres migration");
    }
    tx.commit().await?;
    Ok(SCHEMA_VERSION.max(current as u32))
}
