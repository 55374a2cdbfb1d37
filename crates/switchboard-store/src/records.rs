//! Versioned records.

use switchboard_core::ConversationId;

use crate::backends::store_trait;
use crate::sql::{Row, Tx, args};
use crate::{StoreResult, like_prefix};

/// A small versioned record belonging to a scope (a conversation): a space's layout, a
/// member's roles, a ban, an invite, a join request. The body is the caller's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The scope.
    pub scope: ConversationId,
    /// The key within the scope and kind.
    pub key: String,
    /// The body, encoded by the caller (see `switchboard_format`).
    pub body: String,
    /// The format the body is in.
    pub format: u32,
    /// Starts at 1, grows by one per write.
    pub version: u64,
}

/// What a record write expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Anything: insert or replace.
    Any,
    /// No record: insert only.
    Absent,
    /// This version: replace only if unchanged since read.
    Version(u64),
}

impl Expect {
    /// The version a write makes of a record found at `found` (none: absent), or
    /// `Conflict` when that is not what the writer expected.
    pub fn next_version(self, found: Option<u64>) -> StoreResult<u64> {
        let ok = match self {
            Expect::Any => true,
            Expect::Absent => found.is_none(),
            Expect::Version(v) => found == Some(v),
        };
        if !ok {
            return Err(crate::StoreError::Conflict("record"));
        }
        Ok(found.unwrap_or(0) + 1)
    }
}

store_trait! {
    /// Versioned records per scope, kind and key. Writes that find something other than they
    /// expect fail with `Conflict`.
    pub trait RecordStore {
        /// Reads one record.
        read fn record(&self, scope: ConversationId, kind: &str, key: &str) -> Option<Record>
            [kind = kind.to_owned(), key = key.to_owned()] => get(scope, &kind, &key);
        /// Reads records by key, skipping missing ones.
        read fn records(&self, scope: ConversationId, kind: &str, keys: &[String]) -> Vec<Record>
            [kind = kind.to_owned(), keys = keys.to_vec()] => many(scope, &kind, &keys);
        /// Lists a scope's records of a kind by key, after `after`.
        read fn list_records(&self, scope: ConversationId, kind: &str, after: &str, limit: u32) -> Vec<Record>
            [kind = kind.to_owned(), after = after.to_owned()] => list(scope, &kind, &after, limit);
        /// Finds a record by kind and key in any scope.
        read fn find_record(&self, kind: &str, key: &str) -> Option<Record>
            [kind = kind.to_owned(), key = key.to_owned()] => find(&kind, &key);
        /// Records of a kind in any scope whose key starts with `prefix`, by key.
        read fn search_records(&self, kind: &str, prefix: &str, limit: u32) -> Vec<Record>
            [kind = kind.to_owned(), prefix = prefix.to_owned()] => search(&kind, &prefix, limit);
        /// Writes a record; returns its new version.
        write fn put_record(&self, scope: ConversationId, kind: &str, key: &str, body: String, expect: Expect) -> u64
            [kind = kind.to_owned(), key = key.to_owned()] => put(scope, &kind, &key, &body, expect);
        /// Deletes a record; true when it existed.
        write fn delete_record(&self, scope: ConversationId, kind: &str, key: &str) -> bool
            [kind = kind.to_owned(), key = key.to_owned()] => delete(scope, &kind, &key);
    }
}

const COLS: &str = "scope, key, body, version, format";

fn record(r: &dyn Row) -> StoreResult<Record> {
    let format = r.i64("format")?;
    Ok(Record {
        scope: ConversationId::from_raw(r.i64("scope")?),
        key: r.text("key")?,
        body: r.text("body")?,
        format: u32::try_from(format).map_err(|_| crate::sql::corrupt(format!("record format {format}")))?,
        version: r.u64("version")?,
    })
}

async fn get(tx: &impl Tx, scope: ConversationId, kind: &str, key: &str) -> StoreResult<Option<Record>> {
    let sql = format!("SELECT {COLS} FROM records WHERE scope = ?1 AND kind = ?2 AND key = ?3");
    tx.one(&sql, args![scope.raw(), kind, key], record).await
}

async fn many(tx: &impl Tx, scope: ConversationId, kind: &str, keys: &[String]) -> StoreResult<Vec<Record>> {
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

async fn list(tx: &impl Tx, scope: ConversationId, kind: &str, after: &str, limit: u32) -> StoreResult<Vec<Record>> {
    let c = tx.dialect().bytewise();
    let sql =
        format!("SELECT {COLS} FROM records WHERE scope = ?1 AND kind = ?2 AND key{c} > ?3 ORDER BY key{c} LIMIT ?4");
    tx.all(&sql, args![scope.raw(), kind, after, limit], record).await
}

async fn find(tx: &impl Tx, kind: &str, key: &str) -> StoreResult<Option<Record>> {
    let sql = format!("SELECT {COLS} FROM records WHERE kind = ?1 AND key = ?2 ORDER BY scope LIMIT 1");
    tx.one(&sql, args![kind, key], record).await
}

async fn search(tx: &impl Tx, kind: &str, prefix: &str, limit: u32) -> StoreResult<Vec<Record>> {
    let c = tx.dialect().bytewise();
    let sql = format!(
        "SELECT {COLS} FROM records WHERE kind = ?1 AND key LIKE ?2 ESCAPE '\\' ORDER BY key{c}, scope LIMIT ?3"
    );
    tx.all(&sql, args![kind, &like_prefix(prefix), limit], record).await
}

async fn put(
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
        "INSERT INTO records (scope, kind, key, body, version, format) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (scope, kind, key) DO UPDATE SET body = excluded.body, version = excluded.version, \
         format = excluded.format",
        args![scope.raw(), kind, key, body, version, crate::rows::STORED_FORMAT],
    )
    .await?;
    Ok(version)
}

async fn delete(tx: &impl Tx, scope: ConversationId, kind: &str, key: &str) -> StoreResult<bool> {
    let n = tx
        .exec("DELETE FROM records WHERE scope = ?1 AND kind = ?2 AND key = ?3", args![scope.raw(), kind, key])
        .await?;
    Ok(n > 0)
}
