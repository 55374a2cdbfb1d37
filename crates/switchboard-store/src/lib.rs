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
//! cargo feature (`sqlite`, `postgres`; both on by default); without either the crate is the
//! traits and the conformance suite.

pub mod conformance;
mod error;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod migrations {
    //! The migration scripts of each dialect (see `build.rs`).
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod ops;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod traits;

pub use error::{StoreError, StoreResult};
pub use traits::*;
