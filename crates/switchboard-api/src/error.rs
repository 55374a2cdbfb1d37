//! The one mapping of error codes to gRPC status codes, HTTP statuses and WebSocket error
//! frames. Internal failures are logged here, once, and reach clients as "internal error".

use http::StatusCode;
use switchboard_core::ErrorCode;
use switchboard_proto::v1 as pb;
use switchboard_service::ServiceError;

/// An error on its way to a client.
#[derive(Debug, Clone)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

impl ApiError {
    /// invalid_argument.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self(ServiceError::invalid(field, message))
    }

    /// A request that could not be decoded.
    pub fn malformed(message: impl std::fmt::Display) -> Self {
        Self(ServiceError::new(ErrorCode::InvalidArgument, format!("malformed request: {message}")))
    }

    /// An unknown method name.
    pub fn unknown_method(method: &str) -> Self {
        let shown: String = method.chars().take(100).collect();
        Self(ServiceError::new(ErrorCode::Unimplemented, format!("unknown method {shown:?}")))
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// Logs server-side failures; called once per failed request at the dispatch boundary.
    pub fn log(&self, method: &str) {
        if matches!(self.0.code, ErrorCode::Internal | ErrorCode::Unavailable) {
            tracing::error!(method, code = %self.0.code, detail = ?self.0.detail, "request failed");
        }
    }

    /// The HTTP status of a code.
    pub fn http_status(&self) -> StatusCode {
        match self.0.code {
            ErrorCode::InvalidArgument | ErrorCode::FailedPrecondition => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::AlreadyExists => StatusCode::CONFLICT,
            ErrorCode::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// The gRPC status, with the retry hint in `retry-after-ms` metadata.
    pub fn grpc_status(&self) -> tonic::Status {
        let code = match self.0.code {
            ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::AlreadyExists => tonic::Code::AlreadyExists,
            ErrorCode::FailedPrecondition => tonic::Code::FailedPrecondition,
            ErrorCode::ResourceExhausted => tonic::Code::ResourceExhausted,
            ErrorCode::Unimplemented => tonic::Code::Unimplemented,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::Internal => tonic::Code::Internal,
            ErrorCode::DeadlineExceeded => tonic::Code::DeadlineExceeded,
        };
        let mut status = tonic::Status::new(code, self.0.message.clone());
        if let Some(ms) = self.0.retry_after_ms
            && let Ok(v) = ms.to_string().parse()
        {
            status.metadata_mut().insert("retry-after-ms", v);
        }
        if let Some(r) = self.0.reason
            && let Ok(v) = r.parse()
        {
            status.metadata_mut().insert("switchboard-reason", v);
        }
        if let Some(f) = self.0.field
            && let Ok(v) = f.parse()
        {
            status.metadata_mut().insert("switchboard-field", v);
        }
        status
    }

    /// The error as a protobuf message (HTTP bodies and WebSocket frames).
    pub fn to_proto(&self) -> pb::Error {
        pb::Error {
            code: code_to_proto(self.0.code) as i32,
            message: self.0.message.clone(),
            field: self.0.field.unwrap_or_default().to_owned(),
            retry_after_ms: self.0.retry_after_ms.unwrap_or(0),
            reason: self.0.reason.unwrap_or_default().to_owned(),
        }
    }
}

fn code_to_proto(code: ErrorCode) -> pb::ErrorCode {
    match code {
        ErrorCode::InvalidArgument => pb::ErrorCode::InvalidArgument,
        ErrorCode::Unauthenticated => pb::ErrorCode::Unauthenticated,
        ErrorCode::PermissionDenied => pb::ErrorCode::PermissionDenied,
        ErrorCode::NotFound => pb::ErrorCode::NotFound,
        ErrorCode::AlreadyExists => pb::ErrorCode::AlreadyExists,
        ErrorCode::FailedPrecondition => pb::ErrorCode::FailedPrecondition,
        ErrorCode::ResourceExhausted => pb::ErrorCode::ResourceExhausted,
        ErrorCode::Unimplemented => pb::ErrorCode::Unimplemented,
        ErrorCode::Unavailable => pb::ErrorCode::Unavailable,
        ErrorCode::Internal => pb::ErrorCode::Internal,
        ErrorCode::DeadlineExceeded => pb::ErrorCode::DeadlineExceeded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_a_distinct_proto_code_and_a_non_success_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let e = ApiError(ServiceError::new(code, "x"));
            assert!(seen.insert(e.to_proto().code));
            assert!(!e.http_status().is_success());
            assert_ne!(e.grpc_status().code(), tonic::Code::Ok);
        }
    }

    #[test]
    fn rate_limit_errors_carry_their_retry_hint_everywhere() {
        let e = ApiError(ServiceError::exhausted("slow down", 250));
        assert_eq!(e.http_status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.to_proto().retry_after_ms, 250);
        assert_eq!(e.grpc_status().metadata().get("retry-after-ms").unwrap(), "250");
    }
}
