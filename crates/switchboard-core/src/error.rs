//! The one error-code enum of the API, and the error a value parser returns.
//!
//! Every layer has its own error type; each maps to exactly one [`ErrorCode`], and the API
//! crate maps the code to gRPC, HTTP and WebSocket in one place.

use std::fmt;

/// What kind of failure a request met; the vocabulary shared by every transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed or a field is out of range.
    InvalidArgument,
    /// Missing, unknown, expired or revoked credentials.
    Unauthenticated,
    /// The caller may not do this.
    PermissionDenied,
    /// The object does not exist or is not visible to the caller.
    NotFound,
    /// The object to create exists already.
    AlreadyExists,
    /// The state of the system does not allow this now.
    FailedPrecondition,
    /// A rate limit or quota was hit.
    ResourceExhausted,
    /// The operation is not implemented.
    Unimplemented,
    /// Temporarily unable to serve.
    Unavailable,
    /// A server-side failure.
    Internal,
    /// The client's deadline passed before the call finished.
    DeadlineExceeded,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 11] = [
        Self::InvalidArgument,
        Self::Unauthenticated,
        Self::PermissionDenied,
        Self::NotFound,
        Self::AlreadyExists,
        Self::FailedPrecondition,
        Self::ResourceExhausted,
        Self::Unimplemented,
        Self::Unavailable,
        Self::Internal,
        Self::DeadlineExceeded,
    ];

    /// The snake_case name used in JSON bodies, logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::FailedPrecondition => "failed_precondition",
            Self::ResourceExhausted => "resource_exhausted",
            Self::Unimplemented => "unimplemented",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::DeadlineExceeded => "deadline_exceeded",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value failed its parser: which field, and why, in words a client can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The request field at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ValidationError {
    /// A validation error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_distinct_name() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
