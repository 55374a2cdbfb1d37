//! What the storage operations (one module per aggregate) are written against: a
//! transaction that runs one SQL text with arguments, rows read by column name, and the few
//! places where the two dialects differ. The SQLite backend implements it on its
//! connection (every call completes at once), the PostgreSQL backend on a pooled client or
//! a transaction.
//!
//! SQL is written once, with `?1`-style placeholders (the PostgreSQL backend turns them
//! into `$1`), in the subset both engines accept: `ON CONFLICT DO NOTHING` rather than
//! `INSERT OR IGNORE`, `COUNT(*) FILTER (WHERE ..)`, `CAST(?1 AS BIGINT)`, boolean columns
//! tested bare. Where no common form exists, [`Dialect`] supplies the fragment.

use std::cell::Cell;
use std::future::Future;

use crate::{StoreError, StoreResult};

/// A value bound to a placeholder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// SQL NULL.
    Null,
    /// A BIGINT (or SQLite INTEGER).
    Int(i64),
    /// A BOOLEAN (SQLite stores 0 or 1).
    Bool(bool),
    /// TEXT.
    Text(&'a str),
    /// BYTEA / BLOB.
    Bytes(&'a [u8]),
    /// A list of BIGINTs for [`Dialect::any`].
    Ints(&'a [i64]),
    /// A list of TEXTs for [`Dialect::any`].
    Texts(&'a [String]),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<u64> for Value<'_> {
    /// Sequence numbers and counts: stored as BIGINT; none reaches 2^63.
    fn from(v: u64) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Value<'_> {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Bytes(v)
    }
}

impl<'a> From<&'a Vec<u8>> for Value<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}

impl<'a> From<&'a [i64]> for Value<'a> {
    fn from(v: &'a [i64]) -> Self {
        Value::Ints(v)
    }
}

impl<'a> From<&'a [String]> for Value<'a> {
    fn from(v: &'a [String]) -> Self {
        Value::Texts(v)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The arguments of one statement: `args![a, b, c]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        &[$($crate::sql::Value::from($v)),*]
    };
}
pub(crate) use args;

/// Why the database refused or failed a statement, the same for both engines.
#[derive(Debug)]
pub(crate) enum DbError {
    /// A unique index already holds the value.
    Unique,
    /// A foreign key points nowhere: the referenced row does not exist.
    ForeignKey,
    /// The database cannot be reached or is shutting down.
    Unavailable,
    /// Anything else; the text is for logs.
    Other(String),
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unique => StoreError::AlreadyExists("record"),
            DbError::ForeignKey => StoreError::NotFound("referenced row"),
            DbError::Unavailable => StoreError::Unavailable,
            DbError::Other(m) => StoreError::Backend(m),
        }
    }
}

/// A statement's outcome.
pub(crate) type DbResult<T> = Result<T, DbError>;

/// Maps a unique violation to `err`, leaving other failures as they are.
pub(crate) fn taken(err: StoreError) -> impl FnOnce(DbError) -> StoreError {
    move |e| match e {
        DbError::Unique => err,
        e => e.into(),
    }
}

/// The SQL dialect of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite 3.4x.
    Sqlite,
    /// PostgreSQL 13 or later.
    Postgres,
}

impl Dialect {
    /// `<expr> <this>` is true when the expression equals one of the list bound at
    /// placeholder `p` (a [`Value::Ints`] or [`Value::Texts`]).
    pub(crate) fn any(self, p: &str) -> String {
        match self {
            Dialect::Sqlite => format!("IN (SELECT value FROM json_each({p}))"),
            Dialect::Postgres => format!("= ANY({p})"),
        }
    }

    /// A collation that orders text by bytes (SQLite's default; PostgreSQL's follows the
    /// locale otherwise).
    pub(crate) fn bytewise(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }
}

/// One result row; columns are read by name through the methods on `dyn Row`.
pub(crate) trait Row {
    /// The index of a column by name.
    fn index(&self, col: &str) -> StoreResult<usize>;
    /// An integer column.
    fn opt_i64_at(&self, idx: usize) -> StoreResult<Option<i64>>;
    /// A text column.
    fn opt_text_at(&self, idx: usize) -> StoreResult<Option<String>>;
    /// A boolean column.
    fn bool_at(&self, idx: usize) -> StoreResult<bool>;
}

impl dyn Row + '_ {
    /// A NOT NULL integer column.
    pub(crate) fn i64(&self, col: &str) -> StoreResult<i64> {
        self.opt_i64(col)?.ok_or_else(|| corrupt(format!("{col} is NULL")))
    }
    /// A nullable integer column.
    pub(crate) fn opt_i64(&self, col: &str) -> StoreResult<Option<i64>> {
        self.opt_i64_at(self.index(col)?)
    }
    /// A NOT NULL integer column holding a sequence number or count.
    pub(crate) fn u64(&self, col: &str) -> StoreResult<u64> {
        Ok(self.i64(col)?.max(0) as u64)
    }
    /// A NOT NULL text column.
    pub(crate) fn text(&self, col: &str) -> StoreResult<String> {
        self.opt_text(col)?.ok_or_else(|| corrupt(format!("{col} is NULL")))
    }
    /// A nullable text column.
    pub(crate) fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        self.opt_text_at(self.index(col)?)
    }
    /// A NOT NULL boolean column.
    pub(crate) fn bool(&self, col: &str) -> StoreResult<bool> {
        self.bool_at(self.index(col)?)
    }
}

/// A stored value that cannot be what was written.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

/// Finds a column among `n` whose names `name` gives, starting after the one found last:
/// decoders read columns mostly in select order, so most lookups compare one name.
pub(crate) fn find_column<'n>(
    n: usize,
    name: impl Fn(usize) -> Option<&'n str>,
    next: &Cell<usize>,
    col: &str,
) -> StoreResult<usize> {
    let start = next.get().min(n);
    let found = (start..n).chain(0..start).find(|&i| name(i) == Some(col));
    match found {
        Some(i) => {
            next.set(i + 1);
            Ok(i)
        }
        None => Err(StoreError::Backend(format!("no column {col} in the result"))),
    }
}

/// A transaction (or, for reads, a plain connection) the operations run in. Its futures
/// complete on their first poll in the SQLite backend.
pub(crate) trait Tx {
    /// The dialect.
    fn dialect(&self) -> Dialect;

    /// Runs a statement; returns how many rows it changed.
    fn exec(&self, sql: &str, args: &[Value<'_>]) -> impl Future<Output = DbResult<u64>>;

    /// Runs a query and decodes each row with `f`.
    fn all<T, F>(&self, sql: &str, args: &[Value<'_>], f: F) -> impl Future<Output = StoreResult<Vec<T>>>
    where
        F: FnMut(&dyn Row) -> StoreResult<T> + Send;

    /// Runs a query and decodes its first row, if any, with `f`.
    fn one<T, F>(&self, sql: &str, args: &[Value<'_>], f: F) -> impl Future<Output = StoreResult<Option<T>>>
    where
        F: FnOnce(&dyn Row) -> StoreResult<T> + Send;

    /// Makes concurrent transactions that lock the same `(table, id)` row wait for this one
    /// (`SELECT .. FOR UPDATE`); a no-op where one writer runs at a time.
    fn lock_row(&self, table: &'static str, id: i64) -> impl Future<Output = DbResult<()>>;

    /// Makes concurrent transactions that take the same key wait for this one, whether or
    /// not a row for it exists yet; a no-op where one writer runs at a time.
    fn lock_key(&self, key: &str) -> impl Future<Output = DbResult<()>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_from_the_last_one_on() {
        let names = ["a", "b", "c"];
        let name = |i: usize| names.get(i).copied();
        let next = Cell::new(0);
        assert_eq!(find_column(3, name, &next, "b").unwrap(), 1);
        assert_eq!(find_column(3, name, &next, "c").unwrap(), 2);
        assert_eq!(find_column(3, name, &next, "a").unwrap(), 0);
        assert!(find_column(3, name, &next, "d").is_err());
    }
}
