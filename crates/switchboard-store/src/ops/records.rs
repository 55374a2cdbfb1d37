//! Versioned records.

use switchboard_core::ConversationId;

use crate::sql::{Row, Tx, args};
use crate::{Expect, Record, StoreResult, like_prefix};

const COLS: &str = "scope, key, body, version";

fn record(r: &dyn Row) -> StoreResult<Record> {
    Ok(Record {
        scope: ConversationId::from_raw(r.i64("scope")?),
        key: r.text("key")?,
        body: r.text("body")?,
        version: r.u64("version")?,
    })
}

pub(crate) async fn get(tx: &impl Tx, scope: ConversationId, kind: &str, key: &str) -> StoreResult<Option<Record>> {
    let sql = format!("SELECT {COLS} FROM records WHERE scope = ?1 AND kind = ?2 AND key = ?3");
    tx.one(&sql, args![scope.raw(), kind, key], record).await
}

pub(crate) async fn many(tx: &impl Tx, scope: ConversationId, kind: &str, keys: &[String]) -> StoreResult<Vec<Record>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let d = tx.dialect();
    let sql = format!(
        "SELECT {COLS} FROM records WHERE scope = ?1 AND kind = ?2 AND key {} ORDER BY key{}",
        d.any("?3"),
        d.bytewise()
    );
    tx.all(&sql, args![scope.raw(), kind, keys], record).await
}

pub(crate) async fn list(
    tx: &impl Tx,
    scope: ConversationId,
    kind: &str,
    after: &str,
    limit: u32,
) -> StoreResult<Vec<Record>> {
    let c = tx.dialect().bytewise();
    let sql =
        format!("SELECT {COLS} FROM records WHERE scope = ?1 AND kind = ?2 AND key{c} > ?3 ORDER BY key{c} LIMIT ?4");
    tx.all(&sql, args![scope.raw(), kind, after, limit], record).await
}

pub(crate) async fn find(tx: &impl Tx, kind: &str, key: &str) -> StoreResult<Option<Record>> {
    let sql = format!("SELECT {COLS} FROM records WHERE kind = ?1 AND key = ?2 ORDER BY scope LIMIT 1");
    tx.one(&sql, args![kind, key], record).await
}

pub(crate) async fn search(tx: &impl Tx, kind: &str, prefix: &str, limit: u32) -> StoreResult<Vec<Record>> {
    let c = tx.dialect().bytewise();
    let sql = format!(
        "SELECT {COLS} FROM records WHERE kind = ?1 AND key LIKE ?2 ESCAPE '\\' ORDER BY key{c}, scope LIMIT ?3"
    );
    tx.all(&sql, args![kind, &like_prefix(prefix), limit], record).await
}

pub(crate) async fn put(
    tx: &impl Tx,
    scope: ConversationId,
    kind: &str,
    key: &str,
    body: &str,
    expect: Expect,
) -> StoreResult<u64> {
    // Serialise writers of the same key, including inserts of a key not there yet.
    tx.lock_key(&format!("{}/{kind}/{key}", scope.raw())).await?;
    let sql = "SELECT version FROM records WHERE scope = ?1 AND kind = ?2 AND key = ?3";
    let found = tx.one(sql, args![scope.raw(), kind, key], |r| r.u64("version")).await?;
    let version = expect.next_version(found)?;
    tx.exec(
        "INSERT INTO records (scope, kind, key, body, version) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (scope, kind, key) DO UPDATE SET body = excluded.body, version = excluded.version",
        args![scope.raw(), kind, key, body, version],
    )
    .await?;
    Ok(version)
}

pub(crate) async fn delete(tx: &impl Tx, scope: ConversationId, kind: &str, key: &str) -> StoreResult<bool> {
    let n = tx
        .exec("DELETE FROM records WHERE scope = ?1 AND kind = ?2 AND key = ?3", args![scope.raw(), kind, key])
        .await?;
    Ok(n > 0)
}
