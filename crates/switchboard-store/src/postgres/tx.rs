//! The operations' transaction on PostgreSQL: a pooled client (reads) or a transaction.

use std::cell::Cell;
use std::error::Error;

use bytes::BytesMut;
use tokio_postgres::Client;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::sql::{DbError, DbResult, Dialect, Row, Tx, Value, find_column};
use crate::{StoreError, StoreResult};

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Value<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Bool(v) => v.to_sql(ty, out),
            Value::Text(v) => v.to_sql(ty, out),
            Value::Bytes(v) => v.to_sql(ty, out),
            Value::Ints(v) => v.to_sql(ty, out),
            Value::Texts(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::BOOL
                | Type::TEXT
                | Type::VARCHAR
                | Type::BYTEA
                | Type::INT8_ARRAY
                | Type::TEXT_ARRAY
        )
    }

    to_sql_checked!();
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        match e.code() {
            Some(c) if *c == SqlState::UNIQUE_VIOLATION => DbError::Unique,
            Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => DbError::ForeignKey,
            // The server's own message ("db error" alone says nothing in a log).
            Some(c) => DbError::Other(match e.as_db_error() {
                Some(db) => format!("{} ({}): {}", db.severity(), c.code(), db.message()),
                None => e.to_string(),
            }),
            // No SQLSTATE: the connection broke, or a value did not convert (a bug, not an
            // outage; reported as one would hide it).
            None if is_outage(&e) => {
                tracing::warn!(error = %e, "postgres connection problem");
                DbError::Unavailable
            }
            None => DbError::Other(e.to_string()),
        }
    }
}

/// A failure of the connection rather than of the statement (tokio-postgres tells them
/// apart only by kind: closed, I/O, connect, timeout).
fn is_outage(e: &tokio_postgres::Error) -> bool {
    let io = e.source().is_some_and(|s| s.is::<std::io::Error>());
    let text = e.to_string();
    e.is_closed() || io || text.starts_with("error connecting") || text.starts_with("timeout")
}

fn db(e: tokio_postgres::Error) -> StoreError {
    DbError::from(e).into()
}

struct PgRow<'r> {
    row: &'r tokio_postgres::Row,
    next: Cell<usize>,
}

impl Row for PgRow<'_> {
    fn index(&self, col: &str) -> StoreResult<usize> {
        let cols = self.row.columns();
        find_column(cols.len(), |i| cols.get(i).map(|c| c.name()), &self.next, col)
    }
    fn opt_i64_at(&self, idx: usize) -> StoreResult<Option<i64>> {
        // Literals such as `SELECT 1` are INT4; columns are BIGINT.
        match self.row.columns().get(idx).map(|c| c.type_()) {
            Some(&Type::INT4) => Ok(self.row.try_get::<_, Option<i32>>(idx).map_err(db)?.map(i64::from)),
            _ => self.row.try_get(idx).map_err(db),
        }
    }
    fn opt_text_at(&self, idx: usize) -> StoreResult<Option<String>> {
        self.row.try_get(idx).map_err(db)
    }
    fn bool_at(&self, idx: usize) -> StoreResult<bool> {
        self.row.try_get(idx).map_err(db)
    }
}

fn params<'a>(args: &'a [Value<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Implements [`Tx`] for a client or transaction type; `$prepare` turns the statement's
/// text into a prepared statement (the pool's clients and transactions keep a per-connection
/// cache, so each text is parsed once per connection).
macro_rules! pg_tx {
    ($t:ty, |$c:ident, $sql:ident| $prepare:expr) => {
        impl Tx for $t {
            fn dialect(&self) -> Dialect {
                Dialect::Postgres
            }

            async fn exec(&self, sql: &str, args: &[Value<'_>]) -> DbResult<u64> {
                let ($c, $sql) = (self, dollar_placeholders(sql));
                let statement = $prepare.await?;
                Ok(self.execute(&statement, &params(args)).await?)
            }

            async fn all<T, F>(&self, sql: &str, args: &[Value<'_>], mut f: F) -> StoreResult<Vec<T>>
            where
                F: FnMut(&dyn Row) -> StoreResult<T> + Send,
            {
                let ($c, $sql) = (self, dollar_placeholders(sql));
                let statement = $prepare.await.map_err(db)?;
                let rows = self.query(&statement, &params(args)).await.map_err(db)?;
                rows.iter().map(|row| f(&PgRow { row, next: Cell::new(0) })).collect()
            }

            async fn one<T, F>(&self, sql: &str, args: &[Value<'_>], f: F) -> StoreResult<Option<T>>
            where
                F: FnOnce(&dyn Row) -> StoreResult<T> + Send,
            {
                let ($c, $sql) = (self, dollar_placeholders(sql));
                let statement = $prepare.await.map_err(db)?;
                let rows = self.query(&statement, &params(args)).await.map_err(db)?;
                rows.first().map(|row| f(&PgRow { row, next: Cell::new(0) })).transpose()
            }

            async fn lock_row(&self, table: &'static str, id: i64) -> DbResult<()> {
                self.execute(&format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"), &[&id]).await?;
                Ok(())
            }

            async fn lock_key(&self, key: &str) -> DbResult<()> {
                self.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&key]).await?;
                Ok(())
            }
        }
    };
}

pg_tx!(deadpool_postgres::ClientWrapper, |c, sql| c.prepare_cached(&sql));
pg_tx!(deadpool_postgres::Transaction<'_>, |c, sql| c.prepare_cached(&sql));
// A bare client (tests): no cache.
pg_tx!(Client, |c, sql| c.prepare(&sql));

/// Turns `?1`-style placeholders into PostgreSQL's `$1`.
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::args;

    #[test]
    fn placeholders_become_dollars() {
        let sql = "a = ?1 AND b IN (?12) AND c = '?'";
        assert_eq!(dollar_placeholders(sql), "a = $1 AND b IN ($12) AND c = '?'");
    }

    /// A value read as the wrong type is a bug (`Backend`); only a lost connection is
    /// `Unavailable`.
    #[tokio::test]
    async fn only_a_lost_connection_is_unavailable() {
        let Ok(url) = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") else {
            eprintln!("skipped: SWITCHBOARD_TEST_POSTGRES_URL is not set");
            return;
        };
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
        let task = tokio::spawn(conn);
        let read_as_text = client.one("SELECT CAST(?1 AS BIGINT) AS n", args![5i64], |r| r.text("n")).await;
        assert!(matches!(read_as_text, Err(StoreError::Backend(_))), "{read_as_text:?}");
        let counted = client.one("SELECT CAST(?1 AS BIGINT) AS n", args![5i64], |r| r.i64("n")).await;
        assert_eq!(counted.expect("query"), Some(5));
        let missing = client.one("SELECT 1 AS n", args![], |r| r.i64("m")).await;
        assert!(matches!(missing, Err(StoreError::Backend(_))), "{missing:?}");
        task.abort();
        let _ = task.await;
        let after = client.exec("SELECT 1", args![]).await;
        assert!(matches!(after, Err(DbError::Unavailable)), "{after:?}");
    }
}
