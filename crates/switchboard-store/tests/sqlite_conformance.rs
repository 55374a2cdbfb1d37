//! Runs the store conformance suite against the SQLite backend.

use switchboard_store::sqlite::{SqliteOptions, SqliteStore};

async fn sqlite() -> Option<(SqliteStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(SqliteOptions::new(dir.path().join("test.db"))).unwrap();
    Some((store, dir))
}

switchboard_store::store_conformance!(sqlite());
