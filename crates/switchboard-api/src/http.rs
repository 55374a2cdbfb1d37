//! Plain HTTP: `POST /v1/rpc/<Service>/<Method>` with a JSON body for every unary call, and
//! the operational endpoints `/healthz`, `/readyz` and `/metrics`.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};

use crate::ApiState;
use crate::error::ApiError;
use crate::peer::token_from;
use crate::rpc::{self, Caller, Ctx, Input, Output};

/// An error as an HTTP response: the mapped status, the `Error` message as JSON, and
/// `Retry-After` for rate limits.
pub fn error_response(e: &ApiError) -> Response {
    let mut resp = (e.http_status(), Json(e.to_proto())).into_response();
    if let Some(ms) = e.0.retry_after_ms {
        let secs = ms.div_ceil(1000).max(1);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
    }
    resp
}

/// Marks a response as never to be stored by caches (tokens, account data).
pub(crate) fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `POST /v1/rpc/<Service>/<Method>`. Responses are never cacheable: they carry tokens
/// and account data.
pub(crate) async fn rpc(
    state: State<ApiState>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Body,
) -> Response {
    no_store(rpc_call(state, path, headers, extensions, body).await)
}

async fn rpc_call(
    State(state): State<ApiState>,
    Path((service, method)): Path<(String, String)>,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Body,
) -> Response {
    let max = state.options.max_frame_bytes;
    let bytes = match Limited::new(body, max).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return error_response(&ApiError::invalid("body", format!("request bodies are limited to {max} bytes")));
        }
    };
    let token = match token_from(&headers, None) {
        Ok(t) => t,
        Err(e) => return error_response(&e),
    };
    let peer = crate::peer::client_ip(&headers, &extensions, &state.options);
    let ctx = Ctx { services: state.services.clone(), caller: Caller::Token(token), peer, who: Default::default() };
    let method = format!("{service}/{method}");
    if method == rpc::SUBSCRIBE {
        let e = ApiError(switchboard_service::ServiceError::new(
            switchboard_core::ErrorCode::Unimplemented,
            "Subscribe streams over gRPC or WebSocket; over HTTP use SyncService/GetDifference",
        ));
        return error_response(&e);
    }
    match rpc::dispatch(ctx, "http", &method, Input::JsonBytes(bytes)).await {
        Ok(Output::Json(v)) => (StatusCode::OK, Json(v)).into_response(),
        Ok(Output::Proto(_)) => {
            error_response(&ApiError(switchboard_service::ServiceError::internal("format mismatch")))
        }
        Err(e) => error_response(&e),
    }
}

pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// Compares secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) async fn readyz(State(state): State<ApiState>) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response();
    }
    match state.services.ready().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            ApiError(e).log("readyz");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

pub(crate) async fn metrics(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.options.metrics_token {
        let given = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !same_secret(given.as_bytes(), token.as_bytes()) {
            let mut resp = (StatusCode::UNAUTHORIZED, "metrics need the configured bearer token\n").into_response();
            resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    }
    let mut resp = crate::metrics::render(&state.metrics).into_response();
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    resp
}
