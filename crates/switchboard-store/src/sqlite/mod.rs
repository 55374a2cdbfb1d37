//! The SQLite backend: one file in WAL mode, a writer thread that commits in groups, and a
//! small pool of reader connections. The operations run on its connections.

pub mod backup;
mod engine;
mod schema;
mod tx;

pub use engine::{SqliteOptions, SqliteStore, Synchronous};
pub use schema::SCHEMA_VERSION;
pub(crate) use tx::ready;

/// Runs an operation call (`|conn| op(conn, ..)`) the way its mode says (see `backends`).
macro_rules! run {
    (read, $s:ident, |$c:ident| $call:expr) => {
        $s.read(move |$c| $crate::sqlite::ready($call)).await
    };
    (write, $s:ident, |$c:ident| $call:expr) => {
        $s.write(move |$c| $crate::sqlite::ready($call)).await
    };
    (write_retried, $s:ident, |$c:ident| $call:expr) => {
        // One writer: no race to retry.
        $s.write(move |$c| $crate::sqlite::ready($call)).await
    };
    (append, $s:ident, |$c:ident| $call:expr) => {
        $s.write_checked_first(move |$c| $crate::sqlite::ready($call)).await
    };
}
pub(crate) use run;
