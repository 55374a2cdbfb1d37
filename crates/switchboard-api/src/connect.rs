//! The Connect protocol (connectrpc.com) on the gRPC paths: `POST /switchboard.v1.<Service>/
//! <Method>` with an `application/json` or `application/proto` body is a unary call, and
//! `SyncService/Subscribe` with `application/connect+json` or `application/connect+proto`
//! is a server stream of enveloped events ending in an end-of-stream message; methods
//! marked `NO_SIDE_EFFECTS` in the proto may also be called with GET. Stock Connect
//! clients (connect-es, connect-go, connect-swift, connect-kotlin) work unchanged. The
//! calls go through the same RPC table as every other transport.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream;
use http_body_util::{BodyExt, Limited};
use prost::Message as _;
use serde_json::json;
use switchboard_proto::v1 as pb;
use switchboard_service::{CloseReason, Connection, ServiceError, StreamItem};

use crate::error::ApiError;
use crate::gzip;
use crate::rpc::{self, Caller, Ctx, Input, Output};
use crate::{ApiState, EVENT_SLOT_CONNECT_JSON, EVENT_SLOT_PROTO};

/// Envelope flag: the end-of-stream message.
const END_STREAM: u8 = 0x02;
/// Envelope flag: the message is compressed (gzip, as the stream's headers say).
const COMPRESSED: u8 = 0x01;

/// Whether a request with this content type speaks Connect (rather than gRPC).
pub(crate) fn is_connect(headers: &HeaderMap) -> bool {
    let ct = content_type(headers);
    !ct.starts_with("application/grpc")
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A Connect error body: the code's name, the message, and our `Error` as a detail so
/// that the field and retry hint survive.
fn error_json(e: &ApiError) -> serde_json::Value {
    let detail = base64::engine::general_purpose::STANDARD_NO_PAD.encode(e.to_proto().encode_to_vec());
    json!({
        "code": e.code().as_str(),
        "message": e.0.message,
        "details": [{ "type": "switchboard.v1.Error", "value": detail }],
    })
}

fn unary_error(e: &ApiError) -> Response {
    let mut resp = (e.http_status(), axum::Json(error_json(e))).into_response();
    if let Some(ms) = e.0.retry_after_ms
        && let Ok(v) = HeaderValue::from_str(&ms.div_ceil(1000).max(1).to_string())
    {
        resp.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    resp
}

/// The client's deadline, `Connect-Timeout-Ms` (a positive number of at most 10 digits).
fn deadline(headers: &HeaderMap) -> Result<Option<tokio::time::Instant>, ApiError> {
    let Some(v) = headers.get("connect-timeout-ms") else { return Ok(None) };
    let digits = v.to_str().unwrap_or_default();
    let ms: Option<u64> = if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        None
    } else {
        digits.parse().ok()
    };
    match ms {
        Some(ms) if ms > 0 => Ok(Some(tokio::time::Instant::now() + std::time::Duration::from_millis(ms))),
        _ => Err(ApiError::invalid(
            "connect-timeout-ms",
            "Connect-Timeout-Ms is a positive number of milliseconds of at most 10 digits",
        )),
    }
}

fn deadline_passed() -> ApiError {
    ApiError(ServiceError::new(
        switchboard_core::ErrorCode::DeadlineExceeded,
        "the deadline the client set (Connect-Timeout-Ms) passed",
    ))
}

/// Runs `call`, cut short at `deadline` if there is one.
async fn within<T>(
    deadline: Option<tokio::time::Instant>,
    call: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    match deadline {
        Some(at) => tokio::time::timeout_at(at, call).await.unwrap_or_else(|_| Err(deadline_passed())),
        None => call.await,
    }
}

/// A 404 for a path that names no method (and is not gRPC).
pub(crate) fn not_found(method: &str) -> Response {
    let shown: String = method.chars().take(100).collect();
    (StatusCode::NOT_FOUND, format!("no method {shown:?}\n")).into_response()
}

/// Serves a Connect request for `method` ("Service/Method").
pub(crate) async fn handle(state: ApiState, method: String, req: Request) -> Response {
    let get = req.method() == http::Method::GET;
    if get && switchboard_proto::SIDE_EFFECT_FREE.binary_search(&method.as_str()).is_err() {
        let text = "only methods without side effects may be called with GET; this one takes POST\n";
        return (StatusCode::METHOD_NOT_ALLOWED, [(http::header::ALLOW, "POST")], text).into_response();
    }
    if !get && req.method() != http::Method::POST {
        let text = "Connect calls are POST requests (GET for methods without side effects)\n";
        return (StatusCode::METHOD_NOT_ALLOWED, text).into_response();
    }
    let (parts, body) = req.into_parts();
    if let Some(v) = parts.headers.get("connect-protocol-version")
        && v.as_bytes() != b"1"
    {
        return unary_error(&ApiError::invalid(
            "connect-protocol-version",
            "only Connect protocol version 1 is spoken",
        ));
    }
    let ct = content_type(&parts.headers);
    let streaming = method == rpc::SUBSCRIBE;
    // A unary body is compressed as a whole (Content-Encoding); a stream compresses each
    // message (Connect-Content-Encoding, with the envelope's flag).
    let declared = |header| gzip::declared(&parts.headers, header);
    let identity = Ok(gzip::Encoding::Identity);
    let (body_encoding, message_encoding) = if streaming {
        (identity, declared("connect-content-encoding"))
    } else {
        (declared("content-encoding"), identity)
    };
    let (body_encoding, message_encoding) = match (body_encoding, message_encoding) {
        (Ok(b), Ok(m)) => (b, m),
        (Err(e), _) | (_, Err(e)) => return unary_error(&e),
    };
    let token = match crate::peer::token_from(&parts.headers, None) {
        Ok(t) => t,
        Err(e) => return unary_error(&e),
    };
    let deadline = match deadline(&parts.headers) {
        Ok(d) => d,
        Err(e) => return unary_error(&e),
    };
    let peer = crate::peer::client_ip(&parts.headers, &parts.extensions, &state.options);
    let max = state.options.max_frame_bytes;
    let (input, json) = if get {
        match get_message(&parts.uri, max) {
            Ok(call) => call,
            Err(e) => return unary_error(&e),
        }
    } else {
        let Ok(bytes) = Limited::new(body, max).collect().await.map(|c| c.to_bytes()) else {
            return unary_error(&ApiError::invalid("body", format!("request bodies are limited to {max} bytes")));
        };
        let bytes = match body_encoding {
            gzip::Encoding::Gzip => match gzip::decompress(&bytes, max) {
                Ok(b) => b,
                Err(e) => return unary_error(&e),
            },
            gzip::Encoding::Identity => bytes,
        };
        if streaming {
            let json = match ct.as_str() {
                "application/connect+json" => true,
                "application/connect+proto" => false,
                _ => return unsupported(&ct),
            };
            let stream = Stream {
                json,
                deadline,
                compressed_request: message_encoding == gzip::Encoding::Gzip,
                compress_events: gzip::accepted(&parts.headers, "connect-accept-encoding"),
                max,
            };
            return subscribe(state, token, bytes, stream).await;
        }
        match ct.as_str() {
            "application/json" => (Input::JsonBytes(bytes), true),
            "application/proto" => (Input::Proto(bytes), false),
            _ => return unsupported(&ct),
        }
    };
    let ctx = Ctx { services: state.services.clone(), caller: Caller::Token(token), peer, who: Default::default() };
    let mut resp = match within(deadline, rpc::dispatch(ctx, "connect", &method, input)).await {
        Ok(Output::Json(v)) if json => (StatusCode::OK, axum::Json(v)).into_response(),
        Ok(Output::Proto(b)) if !json => {
            ([(http::header::CONTENT_TYPE, HeaderValue::from_static("application/proto"))], b).into_response()
        }
        Ok(_) => unary_error(&ApiError(ServiceError::internal("format mismatch"))),
        Err(e) => unary_error(&e),
    };
    resp.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if resp.status() == StatusCode::OK && gzip::accepted(&parts.headers, "accept-encoding") {
        resp = compressed(resp).await;
    }
    resp
}

/// A GET call's message, from the query: `encoding` (json or proto), `message` (base64url
/// when `base64=1`), optional `compression` (gzip) and `connect` (v1).
fn get_message(uri: &http::Uri, max: usize) -> Result<(Input, bool), ApiError> {
    use axum::extract::Query;
    let Query(q) = Query::<std::collections::HashMap<String, String>>::try_from_uri(uri)
        .map_err(|e| ApiError::invalid("query", format!("the query does not parse: {e}")))?;
    if q.get("connect").is_some_and(|v| v != "v1") {
        return Err(ApiError::invalid("connect", "only Connect protocol version 1 (connect=v1) is spoken"));
    }
    let json = match q.get("encoding").map(String::as_str) {
        Some("json") => true,
        Some("proto") => false,
        _ => {
            return Err(ApiError::invalid(
                "encoding",
                "a GET call names its encoding: encoding=json or encoding=proto",
            ));
        }
    };
    let message = q.get("message").map(String::as_str).unwrap_or_default();
    if message.len() > max {
        return Err(ApiError::invalid("message", format!("request messages are limited to {max} bytes")));
    }
    let mut bytes = if q.get("base64").is_some_and(|v| v == "1") {
        let raw = message.trim_end_matches('=');
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw);
        Bytes::from(decoded.map_err(|e| ApiError::invalid("message", format!("message is not base64url: {e}")))?)
    } else {
        Bytes::copy_from_slice(message.as_bytes())
    };
    match q.get("compression").map(String::as_str) {
        None | Some("" | "identity") => {}
        Some("gzip") => bytes = gzip::decompress(&bytes, max)?,
        Some(other) => {
            let shown: String = other.chars().take(40).collect();
            return Err(ApiError(ServiceError::new(
                switchboard_core::ErrorCode::Unimplemented,
                format!("compression {shown:?} is not supported: use gzip or identity"),
            )));
        }
    }
    Ok((if json { Input::JsonBytes(bytes) } else { Input::Proto(bytes) }, json))
}

/// A successful unary response, gzipped when it is worth it.
async fn compressed(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = body.collect().await.map(|c| c.to_bytes()) else {
        return unary_error(&ApiError(ServiceError::internal("response body")));
    };
    if bytes.len() < gzip::MIN_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts.headers.insert(http::header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(gzip::compress(&bytes)))
}

fn unsupported(ct: &str) -> Response {
    let shown: String = ct.chars().take(100).collect();
    (
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("content type {shown:?}: use application/json or application/proto (streams: application/connect+json or application/connect+proto)\n"),
    )
        .into_response()
}

fn envelope(flags: u8, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(5 + payload.len());
    b.put_u8(flags);
    b.put_u32(payload.len() as u32);
    b.put_slice(payload);
    b.freeze()
}

/// The end-of-stream message, with the error that ended the stream if any.
fn end_stream(error: Option<&ApiError>) -> Bytes {
    let body = match error {
        Some(e) => json!({ "error": error_json(e) }),
        None => json!({}),
    };
    envelope(END_STREAM, body.to_string().as_bytes())
}

/// Why a stream ended, as the error its end-of-stream message carries.
fn close_error(reason: CloseReason) -> ApiError {
    use switchboard_core::ErrorCode as C;
    let (code, text) = match reason {
        CloseReason::SlowConsumer => (C::ResourceExhausted, "slow_consumer: reconnect and catch up"),
        CloseReason::SessionEnded(_) => (C::Unauthenticated, "session_ended"),
        CloseReason::Shutdown => (C::Unavailable, "server_shutdown: reconnect"),
        CloseReason::TokenExpired => (C::Unauthenticated, "token_expired: refresh the token and reconnect"),
    };
    ApiError(ServiceError::new(code, text))
}

/// How a stream was asked for.
#[derive(Clone, Copy)]
struct Stream {
    /// JSON (else binary protobuf) messages.
    json: bool,
    /// The client's deadline.
    deadline: Option<tokio::time::Instant>,
    /// The request message may be gzipped (Connect-Content-Encoding: gzip).
    compressed_request: bool,
    /// The client accepts gzipped messages (Connect-Accept-Encoding).
    compress_events: bool,
    /// The frame limit, also for an inflated request message.
    max: usize,
}

/// The one enveloped request message of a stream.
fn request_message(bytes: &Bytes, s: Stream) -> Result<Bytes, ApiError> {
    if bytes.len() < 5 {
        return Err(ApiError::malformed("a Connect stream request starts with a 5-byte envelope"));
    }
    let len = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
    if bytes.len() != 5 + len {
        return Err(ApiError::malformed("the envelope's length does not match the body"));
    }
    let message = bytes.slice(5..);
    if bytes[0] & COMPRESSED == 0 {
        return Ok(message);
    }
    if !s.compressed_request {
        return Err(ApiError::malformed("a compressed message in a stream without Connect-Content-Encoding"));
    }
    gzip::decompress(&message, s.max)
}

async fn subscribe(state: ApiState, token: Option<String>, bytes: Bytes, stream_options: Stream) -> Response {
    let Stream { json, deadline, compress_events, .. } = stream_options;
    let ct = if json { "application/connect+json" } else { "application/connect+proto" };
    let started = within(deadline, open_stream(&state, token, bytes, stream_options)).await;
    let body = match started {
        Err(e) => Body::from(end_stream(Some(&e))),
        Ok((conn, events)) => {
            let viewer = conn.principal().user_id;
            let s = stream::unfold(Some((conn, events)), move |st| async move {
                let (mut conn, mut events) = st?;
                let expiry = async {
                    match deadline {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                let item = tokio::select! {
                    item = events.next() => item,
                    reason = conn.closed() => Some(StreamItem::Close(reason)),
                    () = expiry => return Some((Ok(end_stream(Some(&deadline_passed()))), None)),
                };
                let frame = match item {
                    Some(StreamItem::Event(ev)) => {
                        let payload = if json {
                            ev.encoded(EVENT_SLOT_CONNECT_JSON, viewer, |e| {
                                Bytes::from(
                                    serde_json::to_vec(&crate::convert::event(e, Some(viewer))).unwrap_or_default(),
                                )
                            })
                        } else {
                            ev.encoded(EVENT_SLOT_PROTO, viewer, |e| {
                                Bytes::from(crate::convert::event(e, Some(viewer)).encode_to_vec())
                            })
                        };
                        let frame = if compress_events && payload.len() >= gzip::MIN_BYTES {
                            envelope(COMPRESSED, &gzip::compress(&payload))
                        } else {
                            envelope(0, &payload)
                        };
                        return Some((Ok::<_, std::convert::Infallible>(frame), Some((conn, events))));
                    }
                    Some(StreamItem::Close(reason)) => end_stream(Some(&close_error(reason))),
                    None => end_stream(None),
                };
                Some((Ok(frame), None))
            });
            Body::from_stream(s)
        }
    };
    let mut resp = Response::new(body);
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if compress_events {
        resp.headers_mut().insert("connect-content-encoding", HeaderValue::from_static("gzip"));
    }
    resp
}

async fn open_stream(
    state: &ApiState,
    token: Option<String>,
    bytes: Bytes,
    s: Stream,
) -> Result<(Connection, switchboard_service::EventStream), ApiError> {
    let json = s.json;
    let message = request_message(&bytes, s)?;
    let input = if json { Input::JsonBytes(message) } else { Input::Proto(message) };
    let (body, _) = crate::decode::request::<pb::SubscribeRequest>(input)?;
    let principal = state.services.authenticate(&token.unwrap_or_default()).await?;
    let pos = rpc::positions_from(body.user_seq, &body.positions)?;
    let conn = Connection::open(state.services.hub().clone(), principal)?;
    let events = state.services.subscribe(&conn, pos, body.live_only).await?;
    Ok((conn, events))
}
