//! Request decoding shared by every transport: JSON (with the path of the field at fault)
//! or protobuf, then one check over every string of the request.
//!
//! Decoder errors name Rust types ("struct switchboard.v1.GetHistoryRequest", "untagged
//! enum") and JSON positions; clients get the field and the problem instead. No string
//! field of any request may contain U+0000: PostgreSQL cannot store it, SQLite's LIKE
//! stops at it, and no client has a use for it. The check ([`crate::nul`]) walks the
//! decoded request once, when the raw bytes could hold a NUL at all.

use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::nul::check_strings;
use crate::rpc::Input;

/// Decodes a request body; returns it and whether it came as JSON.
pub(crate) fn request<T: Message + Default + DeserializeOwned + Serialize>(
    input: Input,
) -> Result<(T, bool), ApiError> {
    // Whether the input could hold a NUL at all: the walk over the decoded request runs
    // only then, so the usual request pays one byte scan.
    let (value, json, maybe_nul): (T, bool, bool) = match input {
        Input::Json(v) => {
            let nul = json_has_nul(&v);
            (serde_path_to_error::deserialize(v).map_err(json_error)?, true, nul)
        }
        Input::JsonBytes(b) if b.iter().all(u8::is_ascii_whitespace) => (T::default(), true, false),
        Input::JsonBytes(b) => {
            // A raw NUL is not valid JSON text, so a NUL can only come as the escape.
            let nul = b.windows(6).any(|w| w == b"\\u0000");
            let mut de = serde_json::Deserializer::from_slice(&b);
            let v = serde_path_to_error::deserialize(&mut de).map_err(json_error)?;
            de.end().map_err(|e| ApiError::malformed(problem(&e.to_string())))?;
            (v, true, nul)
        }
        Input::Proto(b) => {
            // Protobuf writes a string's bytes as they are: no zero byte, no NUL.
            let nul = b.contains(&0);
            (T::decode(b).map_err(|e| ApiError::malformed(e.to_string()))?, false, nul)
        }
    };
    if maybe_nul {
        check_strings(&value)?;
    }
    Ok((value, json))
}

/// Whether any string (or key) in a parsed JSON value holds U+0000.
fn json_has_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(json_has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let what = problem(&e.inner().to_string());
    if path.is_empty() || path == "." {
        ApiError::malformed(what)
    } else {
        ApiError::malformed(format!("field {path}: {what}"))
    }
}

/// A decoder message without its JSON position and the Rust type names in it.
pub(crate) fn problem(message: &str) -> String {
    let mut m = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
    .to_owned();
    if m.contains("untagged enum") {
        return "the value does not have any of the accepted shapes".to_owned();
    }
    for (rust, plain) in
        [(", expected struct ", ", expected an object"), (", expected enum ", ", expected an enum name")]
    {
        if let Some(i) = m.find(rust) {
            m.truncate(i);
            m.push_str(plain);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use switchboard_proto::v1 as pb;

    use super::*;

    #[test]
    fn a_nul_is_found_in_every_input_form() {
        let req = pb::SearchUsersRequest { query: "a\0".into(), limit: 0 };
        let proto = bytes::Bytes::from(prost::Message::encode_to_vec(&req));
        assert!(request::<pb::SearchUsersRequest>(Input::Proto(proto)).is_err());
        let json = Input::JsonBytes(bytes::Bytes::from_static(br#"{"query":"a\u0000"}"#));
        assert!(request::<pb::SearchUsersRequest>(json).is_err());
        let value = Input::Json(serde_json::json!({"query": "a\u{0}"}));
        assert!(request::<pb::SearchUsersRequest>(value).is_err());
        let clean = Input::JsonBytes(bytes::Bytes::from_static(br#"{"query":"a\\u0000"}"#));
        assert!(request::<pb::SearchUsersRequest>(clean).is_ok(), "an escaped backslash is no NUL");
    }

    #[test]
    fn decoder_messages_name_fields_not_rust_types() {
        let input = Input::JsonBytes(bytes::Bytes::from_static(br#"{"conversationId": 5, "limit": "x"}"#));
        let e = request::<pb::GetHistoryRequest>(input).unwrap_err();
        let m = &e.0.message;
        assert!(!m.contains("switchboard.v1") && !m.contains("line") && !m.contains("column"), "{m}");
        let input = Input::JsonBytes(bytes::Bytes::from_static(b"[1, 2]"));
        let m = request::<pb::GetHistoryRequest>(input).unwrap_err().0.message;
        assert!(!m.contains("switchboard.v1") && m.contains("expected an object"), "{m}");
        let input = Input::Json(serde_json::json!({"text": {"text": 5}}));
        let m = request::<pb::SendMessageRequest>(input).unwrap_err().0.message;
        assert!(m.starts_with("malformed request: field text.text:"), "{m}");
    }
}
