//! Versioned records in SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use switchboard_core::ConversationId;

use super::SqliteStore;
use crate::{Expect, Record, RecordStore, StoreResult, like_prefix};

const COLS: &str = "scope, key, body, version";

fn record(r: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record { scope: ConversationId::from_raw(r.get(0)?), key: r.get(1)?, body: r.get(2)?, version: r.get(3)? })
}

fn current(conn: &Connection, scope: i64, kind: &str, key: &str) -> StoreResult<Option<u64>> {
    Ok(conn
        .prepare_cached("SELECT version FROM records WHERE scope = ?1 AND kind = ?2 AND key = ?3")?
        .query_row(params![scope, kind, key], |r| r.get(0))
        .optional()?)
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn record(&self, scope: ConversationId, kind: &str, key: &str) -> StoreResult<Option<Record>> {
        let (kind, key) = (kind.to_owned(), key.to_owned());
        self.read(move |conn| {
            let sql = format!("SELECT {COLS} FROM records WHERE scope = ?1 AND kind = ?2 AND key = ?3");
            Ok(conn.prepare_cached(&sql)?.query_row(params![scope.raw(), kind, key], record).optional()?)
        })
        .await
    }

    async fn records(&self, scope: ConversationId, kind: &str, keys: &[String]) -> StoreResult<Vec<Record>> {
        let (kind, keys) = (kind.to_owned(), keys.to_vec());
        self.read(move |conn| {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT {COLS} FROM records WHERE scope = {} AND kind = ?1 AND key IN ({}) ORDER BY key",
                scope.raw(),
                (0..keys.len()).map(|i| format!("?{}", i + 2)).collect::<Vec<_>>().join(",")
            );
            let mut stmt = conn.prepare(&sql)?;
            let args = std::iter::once(&kind).chain(keys.iter());
            let v = stmt.query_map(params_from_iter(args), record)?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn list_records(
        &self,
        scope: ConversationId,
        kind: &str,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<Record>> {
        let (kind, after) = (kind.to_owned(), after.to_owned());
        self.read(move |conn| {
            let sql =
                format!("SELECT {COLS} FROM records WHERE scope = ?1 AND kind = ?2 AND key > ?3 ORDER BY key LIMIT ?4");
            let mut stmt = conn.prepare_cached(&sql)?;
            let v = stmt.query_map(params![scope.raw(), kind, after, limit], record)?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn find_record(&self, kind: &str, key: &str) -> StoreResult<Option<Record>> {
        let (kind, key) = (kind.to_owned(), key.to_owned());
        self.read(move |conn| {
            let sql = format!("SELECT {COLS} FROM records WHERE kind = ?1 AND key = ?2 ORDER BY scope LIMIT 1");
            Ok(conn.prepare_cached(&sql)?.query_row(params![kind, key], record).optional()?)
        })
        .await
    }

    async fn search_records(&self, kind: &str, prefix: &str, limit: u32) -> StoreResult<Vec<Record>> {
        let (kind, pattern) = (kind.to_owned(), like_prefix(prefix));
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COLS} FROM records WHERE kind = ?1 AND key LIKE ?2 ESCAPE '\\' ORDER BY key, scope LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let v = stmt.query_map(params![kind, pattern, limit], record)?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn put_record(
        &self,
        scope: ConversationId,
        kind: &str,
        key: &str,
        body: String,
        expect: Expect,
    ) -> StoreResult<u64> {
        let (kind, key) = (kind.to_owned(), key.to_owned());
        self.write(move |conn| {
            let found = current(conn, scope.raw(), &kind, &key)?;
            let version = expect.next_version(found)?;
            conn.prepare_cached(
                "INSERT INTO records (scope, kind, key, body, version) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (scope, kind, key) DO UPDATE SET body = excluded.body, version = excluded.version",
            )?
            .execute(params![scope.raw(), kind, key, body, version])?;
            Ok(version)
        })
        .await
    }

    async fn delete_record(&self, scope: ConversationId, kind: &str, key: &str) -> StoreResult<bool> {
        let (kind, key) = (kind.to_owned(), key.to_owned());
        self.write(move |conn| {
            let n = conn
                .prepare_cached("DELETE FROM records WHERE scope = ?1 AND kind = ?2 AND key = ?3")?
                .execute(params![scope.raw(), kind, key])?;
            Ok(n > 0)
        })
        .await
    }
}
