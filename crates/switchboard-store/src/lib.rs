//! Storage for Switchboard: one trait per aggregate, an SQLite backend, and the
//! conformance suite every backend must pass (`store_conformance!`).
//!
//! Every mutating method is atomic: it either commits entirely or not at all, and it
//! returns only after its transaction committed. Events that a change produces (messages in
//! a conversation log, entries in users' logs) are written in the same transaction.

mod columns;
pub mod conformance;
mod error;
pub mod postgres;
pub mod sqlite;
mod traits;

pub use error::{StoreError, StoreResult};
pub use traits::*;
