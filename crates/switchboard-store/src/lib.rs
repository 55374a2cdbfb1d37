//! Storage for Switchboard: one trait per aggregate, the SQLite and PostgreSQL backends, and
//! the conformance suite every backend must pass (`store_conformance!`).
//!
//! Every mutating method is atomic: it either commits entirely or not at all, and it
//! returns only after its transaction committed. Events that a change produces (messages in
//! a conversation log, entries in users' logs) are written in the same transaction.
//!
//! Each operation is written once (`ops`) over a small transaction interface (`sql`); the
//! backends provide that interface, their engine (SQLite's writer thread and readers,
//! PostgreSQL's pool) and their migrations (`migrations/<dialect>/*.sql`). Each backend is a
//! cargo feature (`sqlite`, `postgres`; both on by default).

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("switchboard-store needs at least one backend: enable the `sqlite` or `postgres` feature");

pub mod conformance;
mod error;
mod ops;
#[cfg(feature = "postgres")]
pub mod postgres;
mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod traits;

pub use error::{StoreError, StoreResult};
pub use traits::*;
