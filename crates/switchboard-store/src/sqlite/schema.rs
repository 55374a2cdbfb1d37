//! Versioned migrations of the SQLite schema. Each entry runs once, in order, inside a
//! transaction, and is recorded in `schema_migrations`.

use rusqlite::Connection;

use crate::StoreResult;

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The migrations, in order (`migrations/sqlite/NNNN_name.sql`, listed by the build script).
const MIGRATIONS: &[&str] = crate::migrations::SQLITE_MIGRATIONS;

/// Applies every migration not yet applied; returns the resulting version.
pub fn migrate(conn: &mut Connection) -> StoreResult<u32> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    let current: u32 =
        conn.prepare_cached("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")?.query_row([], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as u32 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, CAST(strftime('%s','now') AS INTEGER) * 1000)",
            [version],
        )?;
        tx.commit()?;
        tracing::info!(version, "applied sqlite migration");
    }
    Ok(SCHEMA_VERSION.max(current))
}
