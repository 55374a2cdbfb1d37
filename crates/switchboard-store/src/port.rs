//! Moving an embedded installation to PostgreSQL: every table of the SQLite database is
//! copied into an empty PostgreSQL database in one transaction, then verified (row counts
//! and the head of every conversation's and user's log) before it commits. A failure
//! anywhere leaves the target as empty as it was.
//!
//! The search index is not copied: each engine has its own (FTS5, tsvector), so the target
//! starts without one and the server builds it in the background (see `search`).
//!
//! The copy is by column name, driven by the two schemas rather than a list kept here, so
//! a table or column added by a migration is carried without touching this file: a table
//! or column of the source that the target lacks stops the port before anything is written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::postgres::{PgOptions, PgStore};
use crate::{StoreError, StoreResult};

/// Rows per batch handed from the SQLite reader to the PostgreSQL writer.
const BATCH_ROWS: usize = 2_000;

/// Where a port is, for a progress bar.
#[derive(Debug, Clone)]
pub struct PortProgress<'a> {
    /// The table being copied.
    pub table: &'a str,
    /// Rows copied so far, over all tables.
    pub done: u64,
    /// Rows to copy, over all tables.
    pub total: u64,
}

/// What a finished port copied and checked.
#[derive(Debug, Clone, Default)]
pub struct PortReport {
    /// Rows per table, equal on both sides.
    pub tables: BTreeMap<String, u64>,
    /// Conversations whose sequence head matched.
    pub conversation_heads: u64,
    /// Users whose log head matched.
    pub user_heads: u64,
}

/// A column value as SQLite stores it.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<ValueRef<'_>> for Cell {
    fn from(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        }
    }
}

/// One table of the source: its columns and row count.
#[derive(Debug, Clone)]
struct SourceTable {
    name: String,
    columns: Vec<String>,
    rows: u64,
}

/// Log heads: (id, head) pairs, sorted by id.
type Heads = Vec<(i64, i64)>;

#[derive(Debug, Default)]
struct SourceHeads {
    conversations: Heads,
    conversation_events: Heads,
    users: Heads,
    user_events: Heads,
}

fn fail(what: impl std::fmt::Display) -> StoreError {
    StoreError::FailedPrecondition(what.to_string())
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Copies the SQLite database at `source` (at this build's schema version; no server may
/// be using it) into the empty PostgreSQL database `target`, calling `progress` per batch.
pub async fn port(
    source: &Path,
    target: PgOptions,
    progress: &mut (dyn FnMut(&PortProgress<'_>) + Send),
) -> StoreResult<PortReport> {
    let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| fail(format!("open {}: {e}", source.display())))?;
    let version: u32 = conn
        .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(|e| fail(format!("{} is not a Switchboard database: {e}", source.display())))?;
    if version != crate::sqlite::SCHEMA_VERSION {
        return Err(fail(format!(
            "the embedded database is at schema version {version}, this build at {}: run `switchboard migrate` with this build first",
            crate::sqlite::SCHEMA_VERSION
        )));
    }
    // One snapshot for the plan, the heads and every row.
    conn.execute_batch("BEGIN DEFERRED")?;
    let tables = source_tables(&conn)?;
    let sequences = source_sequences(&conn)?;
    let heads = source_heads(&conn)?;

    let store = PgStore::connect(target).await?;
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let target_columns = target_columns(&tx).await?;
    refuse_unless_empty(&tx, &target_columns).await?;
    for t in &tables {
        let Some(cols) = target_columns.get(&t.name) else {
            return Err(fail(format!("table {} has no counterpart in PostgreSQL", t.name)));
        };
        if let Some(c) = t.columns.iter().find(|c| !cols.contains_key(*c)) {
            return Err(fail(format!("column {}.{c} has no counterpart in PostgreSQL", t.name)));
        }
    }
    let order = insertion_order(&tx, &tables).await?;
    let total: u64 = tables.iter().map(|t| t.rows).sum();
    let mut report = PortReport::default();

    // The reader thread owns the SQLite connection and streams each table's rows in
    // order, a bounded number of batches ahead of the writer.
    let (batches, mut incoming) = tokio::sync::mpsc::channel::<StoreResult<Vec<Vec<Cell>>>>(4);
    let plan: Vec<SourceTable> = order.iter().map(|&i| tables[i].clone()).collect();
    let reader = std::thread::Builder::new()
        .name("port-reader".into())
        .spawn(move || read_tables(conn, &plan, &batches))
        .map_err(|e| StoreError::Backend(format!("spawn reader: {e}")))?;

    let mut done = 0u64;
    for &i in &order {
        let table = &tables[i];
        let cols = &target_columns[&table.name];
        let types: Vec<Type> = table.columns.iter().map(|c| cols[c].0.clone()).collect();
        let copy = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            quote(&table.name),
            table.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
        );
        let sink = tx.copy_in(&copy).await?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        let mut writer = std::pin::pin!(writer);
        progress(&PortProgress { table: &table.name, done, total });
        loop {
            let batch = incoming.recv().await.ok_or_else(|| StoreError::Backend("the reader stopped".into()))??;
            if batch.is_empty() {
                break;
            }
            for row in &batch {
                let values = row
                    .iter()
                    .zip(&table.columns)
                    .zip(&types)
                    .map(|((cell, col), ty)| convert(cell, ty, &table.name, col))
                    .collect::<StoreResult<Vec<_>>>()?;
                let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect();
                writer.as_mut().write(&refs).await?;
            }
            done += batch.len() as u64;
            progress(&PortProgress { table: &table.name, done, total });
        }
        let copied = writer.finish().await?;
        if copied != table.rows {
            return Err(fail(format!("table {}: {copied} rows written, {} read", table.name, table.rows)));
        }
    }
    let _ = reader.join();

    // Ids continue after the highest ever handed out, including deleted rows' ids.
    for (table, cols) in &target_columns {
        for (col, (_, serial)) in cols {
            if !*serial {
                continue;
            }
            let max: Option<i64> =
                tx.query_one(&format!("SELECT max({}) FROM {}", quote(col), quote(table)), &[]).await?.get(0);
            let next = max.unwrap_or(0).max(sequences.get(table).copied().unwrap_or(0));
            if next > 0 {
                tx.execute("SELECT setval(pg_get_serial_sequence($1, $2), $3, true)", &[table, col, &next]).await?;
            }
        }
    }

    // Verify inside the transaction: what commits is what was checked.
    for t in &tables {
        let n: i64 = tx.query_one(&format!("SELECT count(*) FROM {}", quote(&t.name)), &[]).await?.get(0);
        if n as u64 != t.rows {
            return Err(fail(format!("table {}: {n} rows in PostgreSQL, {} in the embedded database", t.name, t.rows)));
        }
        report.tables.insert(t.name.clone(), t.rows);
    }
    let check = |what: &str, source: &Heads, target: Heads| -> StoreResult<u64> {
        if *source != target {
            let first = source.iter().zip(&target).find(|(a, b)| a != b);
            return Err(fail(format!("{what} differ after the copy (first difference: {first:?})")));
        }
        Ok(source.len() as u64)
    };
    report.conversation_heads = check(
        "conversation sequence heads",
        &heads.conversations,
        pg_heads(&tx, "SELECT id, last_seq FROM conversations ORDER BY id").await?,
    )?;
    check(
        "conversation event heads",
        &heads.conversation_events,
        pg_heads(&tx, "SELECT conversation_id, max(seq) FROM conv_events GROUP BY conversation_id ORDER BY 1").await?,
    )?;
    report.user_heads =
        check("user log heads", &heads.users, pg_heads(&tx, "SELECT id, last_user_seq FROM users ORDER BY id").await?)?;
    check(
        "user event heads",
        &heads.user_events,
        pg_heads(&tx, "SELECT user_id, max(seq) FROM user_events GROUP BY user_id ORDER BY 1").await?,
    )?;
    tx.commit().await?;
    // Fresh statistics for the planner, as after any bulk load.
    client.batch_execute("ANALYZE").await?;
    Ok(report)
}

fn source_tables(conn: &Connection) -> StoreResult<Vec<SourceTable>> {
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> 'schema_migrations' AND name NOT LIKE 'message\\_search%' ESCAPE '\\' \
             AND name <> 'search_index' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut tables = Vec::new();
    for name in names {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info({})", quote_literal(&name)))?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {}", quote(&name)), [], |r| r.get(0))?;
        tables.push(SourceTable { name, columns, rows: rows as u64 });
    }
    Ok(tables)
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The highest id each AUTOINCREMENT table ever handed out.
fn source_sequences(conn: &Connection) -> StoreResult<HashMap<String, i64>> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence')",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(HashMap::new());
    }
    Ok(conn
        .prepare("SELECT name, seq FROM sqlite_sequence")?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<_, _>>()?)
}

fn source_heads(conn: &Connection) -> StoreResult<SourceHeads> {
    let heads = |sql: &str| -> StoreResult<Heads> {
        Ok(conn.prepare(sql)?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?)
    };
    Ok(SourceHeads {
        conversations: heads("SELECT id, last_seq FROM conversations ORDER BY id")?,
        conversation_events: heads(
            "SELECT conversation_id, max(seq) FROM conv_events GROUP BY conversation_id ORDER BY 1",
        )?,
        users: heads("SELECT id, last_user_seq FROM users ORDER BY id")?,
        user_events: heads("SELECT user_id, max(seq) FROM user_events GROUP BY user_id ORDER BY 1")?,
    })
}

async fn pg_heads(tx: &deadpool_postgres::Transaction<'_>, sql: &str) -> StoreResult<Heads> {
    Ok(tx.query(sql, &[]).await?.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Every table of the target with its columns: (type, whether it is a serial id).
type TargetColumns = BTreeMap<String, BTreeMap<String, (Type, bool)>>;

async fn target_columns(tx: &deadpool_postgres::Transaction<'_>) -> StoreResult<TargetColumns> {
    let rows = tx
        .query(
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text, COALESCE(c.column_default, '') \
             FROM information_schema.columns c JOIN information_schema.tables t \
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
               AND c.table_name <> 'schema_migrations' AND c.table_name NOT IN ('message_search', 'search_index')",
            &[],
        )
        .await?;
    let mut out = TargetColumns::new();
    for r in rows {
        let (table, column, data_type, default): (String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let ty = match data_type.as_str() {
            "bigint" => Type::INT8,
            "integer" => Type::INT4,
            "smallint" => Type::INT2,
            "boolean" => Type::BOOL,
            "text" => Type::TEXT,
            "bytea" => Type::BYTEA,
            "double precision" => Type::FLOAT8,
            other => return Err(fail(format!("column {table}.{column} has type {other}, which the port cannot fill"))),
        };
        out.entry(table).or_default().insert(column, (ty, default.starts_with("nextval(")));
    }
    Ok(out)
}

async fn refuse_unless_empty(tx: &deadpool_postgres::Transaction<'_>, tables: &TargetColumns) -> StoreResult<()> {
    for table in tables.keys() {
        let any: bool = tx.query_one(&format!("SELECT EXISTS (SELECT 1 FROM {})", quote(table)), &[]).await?.get(0);
        if any {
            return Err(fail(format!(
                "the PostgreSQL database is not empty (table {table} has rows): the port writes only into an empty one"
            )));
        }
    }
    Ok(())
}

/// The tables in an order that satisfies the target's foreign keys: referenced first.
async fn insertion_order(tx: &deadpool_postgres::Transaction<'_>, tables: &[SourceTable]) -> StoreResult<Vec<usize>> {
    let edges = tx
        .query(
            "SELECT (SELECT relname::text FROM pg_class WHERE oid = c.conrelid), \
                    (SELECT relname::text FROM pg_class WHERE oid = c.confrelid) \
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
             WHERE c.contype = 'f' AND n.nspname = current_schema()",
            &[],
        )
        .await?;
    let mut needs: HashMap<String, BTreeSet<String>> = HashMap::new();
    for e in edges {
        let (from, to): (String, String) = (e.get(0), e.get(1));
        if from != to {
            needs.entry(from).or_default().insert(to);
        }
    }
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut order = Vec::new();
    while order.len() < tables.len() {
        let before = order.len();
        for (i, t) in tables.iter().enumerate() {
            if placed.contains(&t.name) {
                continue;
            }
            let ready = needs
                .get(&t.name)
                .is_none_or(|deps| deps.iter().all(|d| placed.contains(d) || !tables.iter().any(|t| &t.name == d)));
            if ready {
                placed.insert(t.name.clone());
                order.push(i);
            }
        }
        if order.len() == before {
            return Err(fail("the PostgreSQL schema's foreign keys form a cycle"));
        }
    }
    Ok(order)
}

fn read_tables(conn: Connection, plan: &[SourceTable], out: &tokio::sync::mpsc::Sender<StoreResult<Vec<Vec<Cell>>>>) {
    let result = (|| -> StoreResult<()> {
        for t in plan {
            let sql = format!(
                "SELECT {} FROM {}",
                t.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
                quote(&t.name)
            );
            let mut st = conn.prepare(&sql)?;
            let mut rows = st.query([])?;
            let mut batch = Vec::with_capacity(BATCH_ROWS);
            while let Some(row) = rows.next()? {
                batch
                    .push((0..t.columns.len()).map(|i| row.get_ref(i).map(Cell::from)).collect::<Result<Vec<_>, _>>()?);
                if batch.len() == BATCH_ROWS && out.blocking_send(Ok(std::mem::take(&mut batch))).is_err() {
                    return Ok(());
                }
            }
            if !batch.is_empty() && out.blocking_send(Ok(batch)).is_err() {
                return Ok(());
            }
            // The end of the table.
            if out.blocking_send(Ok(Vec::new())).is_err() {
                return Ok(());
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = out.blocking_send(Err(e));
    }
}

/// A SQLite value as the PostgreSQL column's type, or why it cannot be.
fn convert(cell: &Cell, ty: &Type, table: &str, column: &str) -> StoreResult<Box<dyn ToSql + Sync + Send>> {
    let mismatch = || fail(format!("{table}.{column}: the value {cell:?} does not fit the PostgreSQL type {ty}"));
    let is = |t: &Type| ty == t;
    Ok(match cell {
        Cell::Null if is(&Type::INT8) => Box::new(None::<i64>),
        Cell::Null if is(&Type::INT4) => Box::new(None::<i32>),
        Cell::Null if is(&Type::INT2) => Box::new(None::<i16>),
        Cell::Null if is(&Type::BOOL) => Box::new(None::<bool>),
        Cell::Null if is(&Type::TEXT) => Box::new(None::<String>),
        Cell::Null if is(&Type::BYTEA) => Box::new(None::<Vec<u8>>),
        Cell::Null => Box::new(None::<f64>),
        Cell::Int(i) if is(&Type::INT8) => Box::new(*i),
        Cell::Int(i) if is(&Type::INT4) => Box::new(i32::try_from(*i).map_err(|_| mismatch())?),
        Cell::Int(i) if is(&Type::INT2) => Box::new(i16::try_from(*i).map_err(|_| mismatch())?),
        Cell::Int(i @ (0 | 1)) if is(&Type::BOOL) => Box::new(*i == 1),
        Cell::Int(i) if is(&Type::FLOAT8) => Box::new(*i as f64),
        Cell::Real(f) if is(&Type::FLOAT8) => Box::new(*f),
        Cell::Text(t) if is(&Type::TEXT) => Box::new(t.clone()),
        Cell::Blob(b) if is(&Type::BYTEA) => Box::new(b.clone()),
        _ => return Err(mismatch()),
    })
}
