//! Versioned records in PostgreSQL.

use async_trait::async_trait;
use switchboard_core::ConversationId;
use tokio_postgres::Row;

use super::{PgStore, in_tx};
use crate::{Expect, Record, RecordStore, StoreResult, like_prefix};

const COLS: &str = "scope, key, body, version";

fn record(r: &Row) -> StoreResult<Record> {
    Ok(Record {
        scope: ConversationId::from_raw(r.try_get(0)?),
        key: r.try_get(1)?,
        body: r.try_get(2)?,
        version: r.try_get::<_, i64>(3)? as u64,
    })
}

#[async_trait]
impl RecordStore for PgStore {
    async fn record(&self, scope: ConversationId, kind: &str, key: &str) -> StoreResult<Option<Record>> {
        let client = self.client().await?;
        let sql = format!("SELECT {COLS} FROM records WHERE scope = $1 AND kind = $2 AND key = $3");
        client.query_opt(&sql, &[&scope.raw(), &kind, &key]).await?.as_ref().map(record).transpose()
    }

    async fn records(&self, scope: ConversationId, kind: &str, keys: &[String]) -> StoreResult<Vec<Record>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {COLS} FROM records WHERE scope = $1 AND kind = $2 AND key = ANY($3) ORDER BY key COLLATE \"C\""
        );
        client.query(&sql, &[&scope.raw(), &kind, &keys]).await?.iter().map(record).collect()
    }

    async fn list_records(
        &self,
        scope: ConversationId,
        kind: &str,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<Record>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {COLS} FROM records WHERE scope = $1 AND kind = $2 AND key COLLATE \"C\" > $3 \
             ORDER BY key COLLATE \"C\" LIMIT $4"
        );
        client.query(&sql, &[&scope.raw(), &kind, &after, &i64::from(limit)]).await?.iter().map(record).collect()
    }

    async fn find_record(&self, kind: &str, key: &str) -> StoreResult<Option<Record>> {
        let client = self.client().await?;
        let sql = format!("SELECT {COLS} FROM records WHERE kind = $1 AND key = $2 ORDER BY scope LIMIT 1");
        client.query_opt(&sql, &[&kind, &key]).await?.as_ref().map(record).transpose()
    }

    async fn search_records(&self, kind: &str, prefix: &str, limit: u32) -> StoreResult<Vec<Record>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {COLS} FROM records WHERE kind = $1 AND key LIKE $2 ORDER BY key COLLATE \"C\", scope LIMIT $3"
        );
        client.query(&sql, &[&kind, &like_prefix(prefix), &i64::from(limit)]).await?.iter().map(record).collect()
    }

    async fn put_record(
        &self,
        scope: ConversationId,
        kind: &str,
        key: &str,
        body: String,
        expect: Expect,
    ) -> StoreResult<u64> {
        in_tx!(self, |tx| async {
            // Serialise writers of the same key, including inserts of a key not there yet.
            let lock = format!("{}/{kind}/{key}", scope.raw());
            tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&lock]).await?;
            let found: Option<i64> = tx
                .query_opt(
                    "SELECT version FROM records WHERE scope = $1 AND kind = $2 AND key = $3",
                    &[&scope.raw(), &kind, &key],
                )
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
            let found = found.map(|v| v as u64);
            let version = expect.next_version(found)?;
            tx.execute(
                "INSERT INTO records (scope, kind, key, body, version) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (scope, kind, key) DO UPDATE SET body = excluded.body, version = excluded.version",
                &[&scope.raw(), &kind, &key, &body, &(version as i64)],
            )
            .await?;
            Ok(version)
        })
    }

    async fn delete_record(&self, scope: ConversationId, kind: &str, key: &str) -> StoreResult<bool> {
        let client = self.client().await?;
        let n = client
            .execute("DELETE FROM records WHERE scope = $1 AND kind = $2 AND key = $3", &[&scope.raw(), &kind, &key])
            .await?;
        Ok(n > 0)
    }
}
