//! WebSocket frame shapes. Binary frames are `ClientFrame`/`ServerFrame` protobuf; text
//! frames carry the same fields as JSON with the body inline:
//! `{"id":"1","method":"MessageService/SendMessage","body":{...}}` in, and
//! `{"response":{"id":"1","body":{...}}}`, `{"response":{"id":"1","error":{...}}}`,
//! `{"event":{...}}` or `{"error":{...}}` out.

use axum::extract::ws::Message;
use bytes::Bytes;
use prost::Message as _;
use serde_json::{Value, json};
use switchboard_core::UserId;
use switchboard_proto::v1 as pb;
use switchboard_service::{ServiceError, SharedEvent};

use crate::error::ApiError;
use crate::rpc::{Input, Output};
use crate::{EVENT_SLOT_WS_BINARY, EVENT_SLOT_WS_JSON, convert};

/// A parsed request frame.
pub(super) struct Request {
    pub id: String,
    pub method: String,
    pub input: Input,
    pub json: bool,
}

/// A frame that could not be parsed: the request id if known, the error, the format.
/// Boxed: the error path is rare and the tuple is large.
pub(super) type Malformed = Box<(Option<String>, ApiError, bool)>;

fn too_large(len: usize, max: usize, json: bool) -> Malformed {
    let e = ServiceError::invalid("frame", format!("frame of {len} bytes exceeds the limit of {max} bytes"));
    Box::new((None, ApiError(e), json))
}

fn check_id(id: String, json: bool) -> Result<String, Malformed> {
    if id.is_empty() || id.len() > 64 {
        return Err(Box::new((None, ApiError::invalid("id", "a request id of 1-64 characters is required"), json)));
    }
    Ok(id)
}

pub(super) fn parse_text(text: &str, max: usize) -> Result<Request, Malformed> {
    if text.len() > max {
        return Err(too_large(text.len(), max, true));
    }
    let mut v: Value = serde_json::from_str(text)
        .map_err(|e| Box::new((None, ApiError::malformed(crate::decode::problem(&e.to_string())), true)))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| Box::new((None, ApiError::malformed("a frame must be a JSON object"), true)))?;
    let id = match obj.remove("id") {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let id = check_id(id, true)?;
    let Some(Value::String(method)) = obj.remove("method") else {
        return Err(Box::new((Some(id), ApiError::invalid("method", "a method name is required"), true)));
    };
    let body = obj.remove("body").unwrap_or_else(|| json!({}));
    Ok(Request { id, method, input: Input::Json(body), json: true })
}

pub(super) fn parse_binary(bytes: Bytes, max: usize) -> Result<Request, Malformed> {
    if bytes.len() > max {
        return Err(too_large(bytes.len(), max, false));
    }
    let f = pb::ClientFrame::decode(bytes).map_err(|e| Box::new((None, ApiError::malformed(e.to_string()), false)))?;
    let id = check_id(f.id, false)?;
    Ok(Request { id, method: f.method, input: Input::Proto(f.body.into()), json: false })
}

/// Encodes a response body in the request's format.
pub(super) fn encode_output<T: prost::Message + serde::Serialize>(value: &T, json: bool) -> Result<Output, ApiError> {
    if json {
        serde_json::to_value(value).map(Output::Json).map_err(|e| ApiError(ServiceError::internal(e.to_string())))
    } else {
        Ok(Output::Proto(value.encode_to_vec()))
    }
}

fn error_json(e: &ApiError) -> Value {
    serde_json::to_value(e.to_proto()).unwrap_or_else(|_| json!({"code": "ERROR_CODE_INTERNAL"}))
}

fn text(v: &Value) -> Message {
    Message::Text(v.to_string().into())
}

/// The response frame for request `id`.
pub(super) fn response(id: &str, result: Result<Output, ApiError>, json: bool) -> Message {
    if json {
        let inner = match result {
            Ok(Output::Json(body)) => json!({"id": id, "body": body}),
            Ok(Output::Proto(_)) => {
                json!({"id": id, "error": error_json(&ApiError(ServiceError::internal("format mismatch")))})
            }
            Err(e) => json!({"id": id, "error": error_json(&e)}),
        };
        return text(&json!({ "response": inner }));
    }
    let result = match result {
        Ok(Output::Proto(body)) => pb::response_frame::Result::Body(body),
        Ok(Output::Json(_)) => {
            pb::response_frame::Result::Error(ApiError(ServiceError::internal("format mismatch")).to_proto())
        }
        Err(e) => pb::response_frame::Result::Error(e.to_proto()),
    };
    let frame = pb::ServerFrame {
        kind: Some(pb::server_frame::Kind::Response(pb::ResponseFrame { id: id.to_owned(), result: Some(result) })),
    };
    Message::Binary(frame.encode_to_vec().into())
}

/// A frame-level error (no usable request id).
pub(super) fn frame_error(e: &ApiError, json: bool) -> Message {
    if json {
        return text(&json!({ "error": error_json(e) }));
    }
    let frame = pb::ServerFrame { kind: Some(pb::server_frame::Kind::Error(e.to_proto())) };
    Message::Binary(frame.encode_to_vec().into())
}

/// An event frame, encoded once per format and shared by every recipient.
pub(super) fn event(ev: &SharedEvent, json: bool, viewer: UserId) -> Message {
    if json {
        let bytes = ev.encoded(EVENT_SLOT_WS_JSON, viewer, |e| {
            let v = json!({ "event": convert::event(e, Some(viewer)) });
            Bytes::from(v.to_string())
        });
        // The bytes were produced from a String just above, so they are UTF-8.
        match axum::extract::ws::Utf8Bytes::try_from(bytes) {
            Ok(t) => Message::Text(t),
            Err(_) => Message::Text("{}".into()),
        }
    } else {
        let bytes = ev.encoded(EVENT_SLOT_WS_BINARY, viewer, |e| {
            let frame = pb::ServerFrame { kind: Some(pb::server_frame::Kind::Event(convert::event(e, Some(viewer)))) };
            Bytes::from(frame.encode_to_vec())
        });
        Message::Binary(bytes)
    }
}
