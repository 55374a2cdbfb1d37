//! The operations' transaction on SQLite: the writer's (or a reader's) connection. Every
//! call runs to completion before it returns, so an operation's future is ready on its
//! first poll ([`ready`]).

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, Statement};

use crate::sql::{DbError, DbResult, Dialect, Row, Tx, Value, find_column};
use crate::{StoreError, StoreResult};

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Value::Bool(v) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(v))),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            // Lists travel as JSON arrays for `json_each` (see `Dialect::any`).
            Value::Ints(v) => ToSqlOutput::from(serde_json::to_string(v).unwrap_or_default()),
            Value::Texts(v) => ToSqlOutput::from(serde_json::to_string(v).unwrap_or_default()),
        })
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            match f.extended_code {
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return DbError::Unique;
                }
                rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return DbError::ForeignKey,
                _ => {}
            }
        }
        DbError::Other(e.to_string())
    }
}

fn db(e: rusqlite::Error) -> StoreError {
    DbError::from(e).into()
}

struct SqliteRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    next: Cell<usize>,
}

impl Row for SqliteRow<'_, '_> {
    fn index(&self, col: &str) -> StoreResult<usize> {
        let stmt = self.row.as_ref();
        find_column(stmt.column_count(), |i| stmt.column_name(i).ok(), &self.next, col)
    }
    fn opt_i64_at(&self, idx: usize) -> StoreResult<Option<i64>> {
        self.row.get(idx).map_err(db)
    }
    fn opt_text_at(&self, idx: usize) -> StoreResult<Option<String>> {
        self.row.get(idx).map_err(db)
    }
    fn bool_at(&self, idx: usize) -> StoreResult<bool> {
        self.row.get(idx).map_err(db)
    }
}

/// Runs `f` on each row of `stmt`, stopping after `limit` rows.
fn each(
    stmt: &mut Statement<'_>,
    args: &[Value<'_>],
    limit: usize,
    mut f: impl FnMut(&dyn Row) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter())).map_err(db)?;
    let mut n = 0;
    while n < limit
        && let Some(row) = rows.next().map_err(db)?
    {
        f(&SqliteRow { row, next: Cell::new(0) })?;
        n += 1;
    }
    Ok(())
}

impl Tx for Connection {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn exec(&self, sql: &str, args: &[Value<'_>]) -> DbResult<u64> {
        let n = self.prepare_cached(sql)?.execute(rusqlite::params_from_iter(args.iter()))?;
        Ok(n as u64)
    }

    async fn all<T, F>(&self, sql: &str, args: &[Value<'_>], mut f: F) -> StoreResult<Vec<T>>
    where
        F: FnMut(&dyn Row) -> StoreResult<T> + Send,
    {
        let mut stmt = self.prepare_cached(sql).map_err(db)?;
        let mut out = Vec::new();
        each(&mut stmt, args, usize::MAX, |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    async fn one<T, F>(&self, sql: &str, args: &[Value<'_>], f: F) -> StoreResult<Option<T>>
    where
        F: FnOnce(&dyn Row) -> StoreResult<T> + Send,
    {
        let mut stmt = self.prepare_cached(sql).map_err(db)?;
        let (mut f, mut out) = (Some(f), None);
        each(&mut stmt, args, 1, |r| {
            if let Some(f) = f.take() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    async fn lock_row(&self, _table: &'static str, _id: i64) -> DbResult<()> {
        // One writer at a time: every write transaction holds the whole database.
        Ok(())
    }

    async fn lock_key(&self, _key: &str) -> DbResult<()> {
        Ok(())
    }
}

/// The result of an operation run on a connection. Its calls never suspend, so it is ready
/// on the first poll; were it not, the operation fails rather than block the writer.
pub(crate) fn ready<T>(op: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    let op = pin!(op);
    match op.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(StoreError::Backend("a storage operation suspended on SQLite".into())),
    }
}
