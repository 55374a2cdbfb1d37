//! The store's error type; each variant maps to one API error code in the service.

use switchboard_core::permissions::Denied;

/// Why a store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The addressed object does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken.
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// The state does not allow the change.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A versioned record changed since it was read; read again and retry.
    #[error("{0} changed concurrently")]
    Conflict(&'static str),
    /// A permission rule checked inside the transaction refused the change.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The database failed; the text is for logs only.
    #[error("database error: {0}")]
    Backend(String),
    /// The database is shutting down or unreachable.
    #[error("store unavailable")]
    Unavailable,
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        crate::sql::DbError::from(e).into()
    }
}
