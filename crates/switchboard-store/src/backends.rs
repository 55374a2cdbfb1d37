//! `store_trait!`: declares a store trait and implements it for every enabled backend from
//! one table. Each row is a trait method (with its documentation), how it runs, and the
//! operation it calls — an `async fn` of the area's module over [`Tx`](crate::sql::Tx),
//! which gets the connection or transaction as its first argument:
//! - `read`: on a reader connection (SQLite) or a pooled client outside a transaction;
//! - `write`: in its own transaction (SQLite: a savepoint inside the writer's group commit);
//! - `append`: like `write`, for operations that check everything before their first change
//!   (SQLite: no savepoint) and may lose a unique-key race on PostgreSQL (retried once; the
//!   retry finds the winner's row);
//! - `write_retried`: like `write`, retried once on PostgreSQL after a unique-key race.
//!
//! Values the trait borrows are copied before the call (`[name = expr]`), since an SQLite
//! write runs on the writer thread.

/// Declares a store trait and implements it for every enabled backend (see the module).
macro_rules! store_trait {
    (
        $(#[$tm:meta])*
        pub trait $trait:ident {
            $(
                $(#[$mm:meta])*
                $mode:ident fn $name:ident(&self $(, $p:ident : $t:ty)* $(,)?) -> $ret:ty
                    $([$($o:ident = $oe:expr),* $(,)?])?
                    => $($op:ident)::+ ($($a:expr),* $(,)?);
            )*
        }
    ) => {
            $(#[$tm])*
            #[async_trait::async_trait]
            pub trait $trait: Send + Sync {
                $(
                    $(#[$mm])*
                    async fn $name(&self $(, $p: $t)*) -> $crate::StoreResult<$ret>;
                )*
            }

            #[cfg(feature = "sqlite")]
            #[async_trait::async_trait]
            impl $trait for crate::sqlite::SqliteStore {
                $(
                    async fn $name(&self $(, $p: $t)*) -> $crate::StoreResult<$ret> {
                        $($(let $o = $oe;)*)?
                        crate::sqlite::run!($mode, self, |conn| $($op)::+(conn, $($a),*))
                    }
                )*
            }

            #[cfg(feature = "postgres")]
            #[async_trait::async_trait]
            impl $trait for crate::postgres::PgStore {
                $(
                    async fn $name(&self $(, $p: $t)*) -> $crate::StoreResult<$ret> {
                        $($(let $o = $oe;)*)?
                        crate::postgres::run!($mode, self, |tx| $($op)::+(tx, $($a),*))
                    }
                )*
            }
    };
}
pub(crate) use store_trait;
