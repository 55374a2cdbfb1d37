//! The SQLite backend: one file in WAL mode, a writer thread that commits in groups, and a
//! small pool of reader connections.

mod conversations;
mod engine;
mod events;
mod messages;
mod records;
mod rows;
mod schema;
mod sessions;
mod users;

pub use engine::{SqliteOptions, SqliteStore, Synchronous};
pub use schema::SCHEMA_VERSION;
