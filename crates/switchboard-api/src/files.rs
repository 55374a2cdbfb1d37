//! Files over plain HTTP: resumable uploads with the tus 1.0 protocol at `/v1/uploads/`
//! (core, creation, creation-with-upload, termination, checksum with sha256, expiration),
//! a one-request upload at `POST /v1/files`, and downloads at `GET /v1/files/{id}` (and
//! `/v1/files/{id}/thumbnails/{size}`) with ranges, entity tags and signed links.
//!
//! Bodies stream to the blob store and back: memory per transfer is bounded whatever the
//! file's size.

use std::ops::Range;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use switchboard_core::{ErrorCode, FileId, UserId};
use switchboard_service::{ByteStream, Download, Principal, ServiceError, Upload, UploadSpec, Variant};

use crate::ApiState;
use crate::error::ApiError;
use crate::peer::token_from;
use crate::rpc::{Caller, Ctx};

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";
const OFFSET_OCTETS: &str = "application/offset+octet-stream";

fn name(n: &'static str) -> HeaderName {
    HeaderName::from_static(n)
}

fn value(v: impl ToString) -> HeaderValue {
    HeaderValue::from_str(&v.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The HTTP status of a refusal on these endpoints: the tus statuses where tus has one.
fn status_of(e: &ServiceError) -> StatusCode {
    match e.reason {
        Some("offset_mismatch") => StatusCode::CONFLICT,
        Some("checksum_mismatch") => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
        Some("file_too_large" | "upload_length_exceeded" | "quota_exceeded") => StatusCode::PAYLOAD_TOO_LARGE,
        Some("type_not_allowed") => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("range_not_satisfiable") => StatusCode::RANGE_NOT_SATISFIABLE,
        _ => ApiError(e.clone()).http_status(),
    }
}

/// A refusal: the JSON error body, the status above, and the tus version header.
fn refusal(e: ServiceError) -> Response {
    let status = status_of(&e);
    let err = ApiError(e);
    let mut resp = crate::http::error_response(&err);
    *resp.status_mut() = status;
    tus_headers(resp.headers_mut());
    resp
}

fn tus_headers(h: &mut HeaderMap) {
    h.insert(name("tus-resumable"), HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

async fn principal(state: &ApiState, headers: &HeaderMap) -> Result<(Ctx, Principal), ServiceError> {
    let token = token_from(headers, None).map_err(|e| e.0)?;
    let ctx =
        Ctx { services: state.services.clone(), caller: Caller::Token(token), peer: None, who: Default::default() };
    let p = ctx.principal().await?;
    Ok((ctx, p))
}

fn header_str<'a>(headers: &'a HeaderMap, n: &str) -> Option<&'a str> {
    headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn number(headers: &HeaderMap, n: &'static str) -> Result<Option<u64>, ServiceError> {
    match header_str(headers, n) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| ServiceError::invalid(n, format!("{n} must be a whole number"))),
    }
}

/// Tus requests other than OPTIONS must name the protocol version; the refusal otherwise.
fn check_tus_version(headers: &HeaderMap) -> Result<(), Box<Response>> {
    if header_str(headers, "tus-resumable") == Some(TUS_VERSION) {
        return Ok(());
    }
    let mut resp = (StatusCode::PRECONDITION_FAILED, "Tus-Resumable: 1.0.0 is required\n").into_response();
    resp.headers_mut().insert(name("tus-version"), HeaderValue::from_static(TUS_VERSION));
    tus_headers(resp.headers_mut());
    Err(Box::new(resp))
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs.
fn metadata(headers: &HeaderMap) -> Result<UploadSpec, ServiceError> {
    let mut spec = UploadSpec::default();
    let Some(raw) = header_str(headers, "upload-metadata") else { return Ok(spec) };
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| ServiceError::invalid("upload_metadata", format!("the value of {key} is not base64")))?;
        if key == "waveform" {
            // The amplitudes themselves, one byte each.
            spec.waveform = decoded;
            continue;
        }
        let text = String::from_utf8(decoded)
            .map_err(|_| ServiceError::invalid("upload_metadata", format!("the value of {key} is not UTF-8")))?;
        match key {
            "filename" | "name" => spec.name = text,
            "filetype" | "type" | "mime" => spec.mime = text,
            "sha256" | "checksum" => spec.sha256 = Some(text),
            "public" => spec.public = text.is_empty() || text == "1" || text == "true",
            _ => {}
        }
    }
    Ok(spec)
}

/// `Upload-Checksum: sha256 <base64>` (only sha256 is supported).
fn request_checksum(headers: &HeaderMap) -> Result<Option<[u8; 32]>, ServiceError> {
    let Some(raw) = header_str(headers, "upload-checksum") else { return Ok(None) };
    let (algo, encoded) = raw.split_once(' ').unwrap_or((raw, ""));
    if !algo.eq_ignore_ascii_case("sha256") {
        return Err(ServiceError::invalid(
            "upload_checksum",
            format!("checksum algorithm {algo:?} is not supported; use sha256"),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ServiceError::invalid("upload_checksum", "the checksum is not base64"))?;
    bytes.try_into().map(Some).map_err(|_| ServiceError::invalid("upload_checksum", "a sha256 checksum has 32 bytes"))
}

/// Writes a request body into an upload in a task of its own: when the client goes away
/// the server drops the request's future, but the bytes that did arrive must still be
/// stored and the offset moved, so that the upload resumes from there.
async fn write_detached(
    state: &ApiState,
    p: Principal,
    id: String,
    offset: u64,
    body: Body,
    checksum: Option<[u8; 32]>,
) -> Result<(Upload, Option<switchboard_core::model::FileRecord>), ServiceError> {
    let services = state.services.clone();
    let task = tokio::spawn(async move { services.write_upload(&p, &id, offset, body_stream(body), checksum).await });
    task.await.map_err(|e| ServiceError::internal(format!("upload task: {e}")))?
}

fn body_stream(body: Body) -> ByteStream {
    body.into_data_stream().map_err(|e| switchboard_service::BlobError::Incoming(e.to_string())).boxed()
}

fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
}

fn upload_headers(h: &mut HeaderMap, up: &Upload) {
    h.insert(name("upload-offset"), value(up.offset));
    h.insert(name("upload-length"), value(up.length));
    if up.file_id.is_none() {
        h.insert(name("upload-expires"), value(http_date(up.expires_at_ms)));
    }
    if let Some(f) = up.file_id {
        h.insert(name("switchboard-file-id"), value(f));
    }
    tus_headers(h);
}

/// `OPTIONS /v1/uploads/`: what this tus server supports.
pub(crate) async fn tus_options(State(state): State<ApiState>) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(name("tus-version"), HeaderValue::from_static(TUS_VERSION));
    h.insert(name("tus-extension"), HeaderValue::from_static(TUS_EXTENSIONS));
    h.insert(name("tus-checksum-algorithm"), HeaderValue::from_static("sha256"));
    h.insert(name("tus-max-size"), value(state.services.config().files.max_file_bytes));
    tus_headers(h);
    resp
}

/// `POST /v1/uploads/`: creates an upload (`Upload-Length`, `Upload-Metadata`), with its
/// first bytes when the body has any (creation-with-upload).
pub(crate) async fn tus_create(State(state): State<ApiState>, headers: HeaderMap, body: Body) -> Response {
    if let Err(resp) = check_tus_version(&headers) {
        return *resp;
    }
    let result = async {
        let (_, p) = principal(&state, &headers).await?;
        if header_str(&headers, "upload-defer-length").is_some() {
            return Err(ServiceError::invalid("upload_defer_length", "the upload length must be given at creation"));
        }
        let length = number(&headers, "upload-length")?
            .ok_or_else(|| ServiceError::invalid("upload_length", "Upload-Length is required"))?;
        let mut spec = metadata(&headers)?;
        spec.length = length;
        let up = state.services.create_upload(&p, spec).await?;
        let has_body = header_str(&headers, "content-type") == Some(OFFSET_OCTETS)
            && number(&headers, "content-length")?.is_none_or(|n| n > 0);
        if !has_body {
            return Ok((up, None));
        }
        let checksum = request_checksum(&headers)?;
        write_detached(&state, p, up.id, 0, body, checksum).await
    }
    .await;
    match result {
        Ok((up, _)) => {
            let mut resp = StatusCode::CREATED.into_response();
            resp.headers_mut().insert(header::LOCATION, value(format!("/v1/uploads/{}", up.id)));
            upload_headers(resp.headers_mut(), &up);
            resp
        }
        Err(e) => refusal(e),
    }
}

/// `HEAD /v1/uploads/{id}`: where the upload is.
pub(crate) async fn tus_head(State(state): State<ApiState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(resp) = check_tus_version(&headers) {
        return *resp;
    }
    let result = async {
        let (_, p) = principal(&state, &headers).await?;
        state.services.upload_status(&p, &id).await
    }
    .await;
    match result {
        Ok(up) => {
            let mut resp = StatusCode::OK.into_response();
            upload_headers(resp.headers_mut(), &up);
            resp
        }
        Err(e) => {
            // HEAD responses have no body.
            let mut resp = status_of(&e).into_response();
            tus_headers(resp.headers_mut());
            resp
        }
    }
}

/// `PATCH /v1/uploads/{id}`: bytes at `Upload-Offset`.
pub(crate) async fn tus_patch(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(resp) = check_tus_version(&headers) {
        return *resp;
    }
    if header_str(&headers, "content-type") != Some(OFFSET_OCTETS) {
        let e = ServiceError::invalid("content_type", format!("PATCH bodies must be {OFFSET_OCTETS}"));
        let mut resp = refusal(e);
        *resp.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return resp;
    }
    let result = async {
        let (_, p) = principal(&state, &headers).await?;
        let offset = number(&headers, "upload-offset")?
            .ok_or_else(|| ServiceError::invalid("upload_offset", "Upload-Offset is required"))?;
        let checksum = request_checksum(&headers)?;
        write_detached(&state, p, id, offset, body, checksum).await
    }
    .await;
    match result {
        Ok((up, _)) => {
            let mut resp = StatusCode::NO_CONTENT.into_response();
            upload_headers(resp.headers_mut(), &up);
            resp
        }
        Err(e) => refusal(e),
    }
}

/// `DELETE /v1/uploads/{id}`: termination.
pub(crate) async fn tus_delete(State(state): State<ApiState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(resp) = check_tus_version(&headers) {
        return *resp;
    }
    let result = async {
        let (_, p) = principal(&state, &headers).await?;
        state.services.cancel_upload(&p, &id).await
    }
    .await;
    match result {
        Ok(()) => {
            let mut resp = StatusCode::NO_CONTENT.into_response();
            tus_headers(resp.headers_mut());
            resp
        }
        Err(e) => refusal(e),
    }
}

/// Query of the one-request upload.
#[derive(Debug, Deserialize)]
pub(crate) struct OneShot {
    #[serde(default)]
    name: String,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    public: bool,
    /// Amplitudes 0-255, comma-separated.
    #[serde(default)]
    waveform: String,
}

/// `POST /v1/files?name=..`: a whole file in one request (`Content-Length` required); the
/// answer is its record as JSON.
pub(crate) async fn upload_once(
    State(state): State<ApiState>,
    Query(q): Query<OneShot>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let (_, p) = principal(&state, &headers).await?;
        let length = number(&headers, "content-length")?.ok_or_else(|| {
            ServiceError::invalid("content_length", "Content-Length is required (use tus for streams of unknown size)")
        })?;
        let spec = UploadSpec {
            name: q.name,
            length,
            mime: header_str(&headers, "content-type").unwrap_or("").split(';').next().unwrap_or("").to_owned(),
            sha256: Some(q.sha256).filter(|s| !s.is_empty()),
            public: q.public,
            waveform: q
                .waveform
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse::<u8>())
                .collect::<Result<_, _>>()
                .map_err(|_| ServiceError::invalid("waveform", "give amplitudes 0-255, separated by commas"))?,
        };
        let up = state.services.create_upload(&p, spec).await?;
        let (up, file) = write_detached(&state, p, up.id.clone(), 0, body, None).await?;
        match file {
            Some(f) => Ok(f),
            None => {
                let _ = state.services.cancel_upload(&p, &up.id).await;
                Err(ServiceError::invalid("body", format!("the body ended after {} of {} bytes", up.offset, up.length)))
            }
        }
    }
    .await;
    match result {
        Ok(f) => {
            let json = serde_json::to_value(crate::convert::file(&f)).unwrap_or_default();
            let mut resp = (StatusCode::CREATED, axum::Json(json)).into_response();
            resp.headers_mut().insert(header::LOCATION, value(format!("/v1/files/{}", f.id)));
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => refusal(e),
    }
}

/// A signed link's query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Signed {
    user: Option<String>,
    expires: Option<i64>,
    signature: Option<String>,
}

/// `GET /v1/files/{id}`.
pub(crate) async fn download(
    state: State<ApiState>,
    Path(id): Path<String>,
    q: Query<Signed>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    serve(state, id, Variant::Original, q, method, headers).await
}

/// `GET /v1/files/{id}/thumbnails/{size}`.
pub(crate) async fn download_thumbnail(
    state: State<ApiState>,
    Path((id, size)): Path<(String, String)>,
    q: Query<Signed>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    serve(state, id, Variant::Thumbnail(size), q, method, headers).await
}

/// A single `bytes=` range against `size`: `a-b`, `a-` or `-n`. Several ranges, or one
/// that does not parse, are ignored (the whole file is sent), as RFC 9110 allows.
fn parse_range(raw: &str, size: u64) -> Option<Range<u64>> {
    let spec = raw.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // The last n bytes.
        let n: u64 = b.parse().ok().filter(|n| *n > 0)?;
        return Some(size.saturating_sub(n)..size.max(1));
    }
    let start: u64 = a.parse().ok()?;
    let end = if b.is_empty() { u64::MAX } else { b.parse::<u64>().ok()?.saturating_add(1) };
    if end <= start {
        return None;
    }
    Some(start..end)
}

/// Types a browser would run or render as a page: sent as opaque attachments.
fn active(mime: &str) -> bool {
    matches!(
        mime,
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/javascript"
            | "application/javascript"
            | "application/x-shockwave-flash"
    ) || !(mime.starts_with("image/")
        || mime.starts_with("video/")
        || mime.starts_with("audio/")
        || mime == "text/plain"
        || mime == "application/pdf")
}

fn disposition(inline: bool, filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(filename, percent_encoding::NON_ALPHANUMERIC);
    let kind = if inline { "inline" } else { "attachment" };
    value(format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
}

async fn serve(
    State(state): State<ApiState>,
    id: String,
    variant: Variant,
    Query(q): Query<Signed>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let file_id = FileId::parse(&id, "file_id")?;
        let p = match (&q.user, q.expires, &q.signature) {
            (Some(user), Some(expires), Some(sig)) => {
                let user = UserId::parse(user, "user")?;
                state.services.link_principal(file_id, &variant, user, expires, sig).await?
            }
            _ => principal(&state, &headers).await?.1,
        };
        // The record first: the range is checked against the size of this variant.
        let record = state.services.file(&p, file_id).await?;
        let size = match &variant {
            Variant::Original => record.size,
            Variant::Thumbnail(s) => record
                .thumbnails
                .iter()
                .find(|t| &t.size == s)
                .map(|t| t.bytes)
                .ok_or_else(|| ServiceError::not_found("thumbnail"))?,
        };
        let etag = match &variant {
            Variant::Original => format!("\"{}\"", record.sha256),
            Variant::Thumbnail(s) => {
                format!("\"{}\"", record.thumbnails.iter().find(|t| &t.size == s).map_or("", |t| t.sha256.as_str()))
            }
        };
        if header_str(&headers, "if-none-match")
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
        {
            return Ok(Served::NotModified(etag));
        }
        let if_range_ok = header_str(&headers, "if-range").is_none_or(|v| v == etag);
        let range = header_str(&headers, "range").filter(|_| if_range_ok).and_then(|r| parse_range(r, size));
        if let Some(r) = &range
            && r.start >= size
        {
            return Ok(Served::Unsatisfiable(size));
        }
        let d = state.services.open_file(&p, file_id, &variant, range).await?;
        Ok(Served::Body(Box::new(d), etag))
    }
    .await;
    match result {
        Ok(Served::NotModified(etag)) => {
            let mut resp = StatusCode::NOT_MODIFIED.into_response();
            resp.headers_mut().insert(header::ETAG, value(etag));
            resp
        }
        Ok(Served::Body(d, etag)) => respond(*d, etag, method == Method::HEAD),
        Ok(Served::Unsatisfiable(size)) => {
            let e =
                ServiceError::new(ErrorCode::InvalidArgument, format!("the range starts after the end ({size} bytes)"))
                    .because("range_not_satisfiable");
            let mut resp = crate::http::error_response(&ApiError(e));
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            resp.headers_mut().insert(header::CONTENT_RANGE, value(format!("bytes */{size}")));
            resp
        }
        Err(e) => {
            let mut resp = crate::http::error_response(&ApiError(e));
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
    }
}

enum Served {
    NotModified(String),
    Body(Box<Download>, String),
    Unsatisfiable(u64),
}

fn respond(d: Download, etag: String, head: bool) -> Response {
    let inline = !active(&d.mime);
    let content_type = if inline { d.mime.clone() } else { "application/octet-stream".to_owned() };
    let (status, length) = match &d.range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, d.size),
    };
    let body = if head { Body::empty() } else { Body::from_stream(d.body) };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, value(content_type));
    h.insert(header::CONTENT_LENGTH, value(length));
    h.insert(header::ETAG, value(etag));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // A file id's bytes never change; only its reader's access can.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    h.insert(name("x-content-type-options"), HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CONTENT_DISPOSITION, disposition(inline, &d.file.name));
    if let Some(r) = &d.range {
        h.insert(header::CONTENT_RANGE, value(format!("bytes {}-{}/{}", r.start, r.end - 1, d.size)));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_rfc_9110_says() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some(0..100));
        assert_eq!(parse_range("bytes=900-", 1000), Some(900..u64::MAX));
        assert_eq!(parse_range("bytes=-100", 1000), Some(900..1000));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some(990..2001));
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        // Past the end: parsed, then refused with 416 by the caller.
        assert_eq!(parse_range("bytes=2000-", 1000), Some(2000..u64::MAX));
        assert_eq!(parse_range("bytes=-0", 1000), None);
    }

    #[test]
    fn active_content_is_never_inline() {
        for m in ["text/html", "image/svg+xml", "application/javascript", "application/x-msdownload"] {
            assert!(active(m), "{m}");
        }
        for m in ["image/jpeg", "video/mp4", "audio/ogg", "text/plain", "application/pdf"] {
            assert!(!active(m), "{m}");
        }
    }
}
