//! Errors the SDK returns: the server's error code and message, or a local failure.

use switchboard_proto::v1 as pb;

/// A failed call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ClientError {
    /// The server's code; `Unavailable` for connection failures, `Internal` for local bugs.
    pub code: pb::ErrorCode,
    /// The message.
    pub message: String,
    /// Retry hint for rate limits.
    pub retry_after_ms: u64,
    /// The field at fault, for invalid_argument.
    pub field: String,
    /// The machine-readable reason, for failed_precondition and resource_exhausted.
    pub reason: String,
}

impl ClientError {
    pub(crate) fn new(code: pb::ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after_ms: 0, field: String::new(), reason: String::new() }
    }

    pub(crate) fn local(message: impl Into<String>) -> Self {
        Self::new(pb::ErrorCode::FailedPrecondition, message)
    }

    pub(crate) fn unavailable(message: impl std::fmt::Display) -> Self {
        Self::new(pb::ErrorCode::Unavailable, message.to_string())
    }

    pub(crate) fn protocol(message: impl std::fmt::Display) -> Self {
        Self::new(pb::ErrorCode::Internal, format!("protocol error: {message}"))
    }
}

impl From<pb::Error> for ClientError {
    fn from(e: pb::Error) -> Self {
        Self {
            code: pb::ErrorCode::try_from(e.code).unwrap_or(pb::ErrorCode::Unspecified),
            message: e.message,
            retry_after_ms: e.retry_after_ms,
            field: e.field,
            reason: e.reason,
        }
    }
}

impl From<tonic::Status> for ClientError {
    fn from(s: tonic::Status) -> Self {
        let code = match s.code() {
            tonic::Code::InvalidArgument => pb::ErrorCode::InvalidArgument,
            tonic::Code::Unauthenticated => pb::ErrorCode::Unauthenticated,
            tonic::Code::PermissionDenied => pb::ErrorCode::PermissionDenied,
            tonic::Code::NotFound => pb::ErrorCode::NotFound,
            tonic::Code::AlreadyExists => pb::ErrorCode::AlreadyExists,
            tonic::Code::FailedPrecondition => pb::ErrorCode::FailedPrecondition,
            tonic::Code::ResourceExhausted => pb::ErrorCode::ResourceExhausted,
            tonic::Code::Unimplemented => pb::ErrorCode::Unimplemented,
            tonic::Code::Unavailable => pb::ErrorCode::Unavailable,
            tonic::Code::DeadlineExceeded => pb::ErrorCode::DeadlineExceeded,
            _ => pb::ErrorCode::Internal,
        };
        let meta = |k: &str| s.metadata().get(k).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            code,
            message: s.message().to_owned(),
            retry_after_ms: meta("retry-after-ms").and_then(|v| v.parse().ok()).unwrap_or(0),
            field: meta("switchboard-field").unwrap_or_default(),
            reason: meta("switchboard-reason").unwrap_or_default(),
        }
    }
}
