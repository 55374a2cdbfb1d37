//! The service's error: an [`ErrorCode`], a message safe to show a client, and for
//! internal failures a detail that is only logged.

use switchboard_core::permissions::{Denied, Refusal};
use switchboard_core::{ErrorCode, ValidationError};
use switchboard_store::StoreError;

/// A failed use case.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServiceError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// Client-facing explanation.
    pub message: String,
    /// The request field at fault, for invalid_argument.
    pub field: Option<&'static str>,
    /// When to retry, for resource_exhausted.
    pub retry_after_ms: Option<u64>,
    /// A machine-readable reason (`edit_window_closed`, `rate_limited`, ...) for the
    /// failed_precondition and resource_exhausted cases a client acts on; docs/API.md
    /// lists them.
    pub reason: Option<&'static str>,
    /// Server-side detail for logs; never sent.
    pub detail: Option<String>,
}

/// Result of a use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// An error with a code and client-facing message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, retry_after_ms: None, reason: None, detail: None }
    }

    /// invalid_argument about `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self { field: Some(field), ..Self::new(ErrorCode::InvalidArgument, message) }
    }

    /// not_found.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// permission_denied.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PermissionDenied, message)
    }

    /// failed_precondition.
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::FailedPrecondition, message)
    }

    /// unauthenticated.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// resource_exhausted with a retry hint.
    pub fn exhausted(message: impl Into<String>, retry_after_ms: u64) -> Self {
        Self { retry_after_ms: Some(retry_after_ms), ..Self::new(ErrorCode::ResourceExhausted, message) }
    }

    /// The same error naming the request field at fault.
    pub fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// The same error with a machine-readable reason.
    pub fn because(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// internal, with a detail for the log.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self { detail: Some(detail.into()), ..Self::new(ErrorCode::Internal, "internal error") }
    }
}

impl From<ValidationError> for ServiceError {
    fn from(e: ValidationError) -> Self {
        Self::invalid(e.field, e.to_string())
    }
}

impl From<Refusal> for ServiceError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Denied(d) => d.into(),
            Refusal::NotNow { reason, message } => Self::precondition(message).because(reason),
        }
    }
}

impl From<Denied> for ServiceError {
    fn from(e: Denied) -> Self {
        Self::denied(e.0)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::AlreadyExists(what) => Self::new(ErrorCode::AlreadyExists, format!("{what} already exists")),
            StoreError::FailedPrecondition(m) => Self::precondition(m),
            StoreError::Denied(d) => d.into(),
            StoreError::Conflict(what) => {
                Self::new(ErrorCode::Unavailable, format!("{what} is being changed concurrently, retry"))
            }
            StoreError::Unavailable => Self::new(ErrorCode::Unavailable, "storage is unavailable, retry later"),
            StoreError::Backend(detail) => Self::internal(detail),
        }
    }
}
