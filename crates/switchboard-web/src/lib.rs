//! The web client at `/`. Its files (clients/web: the page, the app's ES modules, the
//! vendored libraries; clients/typescript: the SDK and its generated types) are embedded
//! in the binary at build time, or read from a directory that replaces them. They are
//! loaded once at start-up: each gets an ETag and, when it shrinks, a gzip copy (made on
//! first use).
//!
//! Every file is served at `/assets/<build>/<path>`, where `<build>` is a digest of all of
//! them, with `Cache-Control: immutable` (a new build has a new prefix). The page itself
//! (`index.html`, with `{{assets}}` replaced by that prefix and `{{importmap}}` by the
//! import map) answers `/` and every path the API does not own, so deep links such as
//! `/c/42` and `/invite/AbC` open the app; it is revalidated on each load (`no-cache` with
//! its ETag) and carries the Content-Security-Policy. Top-level files (`favicon.svg`) are
//! also served at their own path.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use sha2::{Digest, Sha256};

#[derive(rust_embed::Embed)]
#[folder = "../../clients/web/"]
#[include = "index.html"]
#[include = "*.svg"]
#[include = "app/**"]
#[include = "vendor/**"]
struct ClientFiles;

#[derive(rust_embed::Embed)]
#[folder = "../../clients/typescript/"]
#[prefix = "sdk/"]
#[include = "src/*.js"]
#[include = "gen/**/*.js"]
struct SdkFiles;

/// Paths the API owns: never answered with the page.
const RESERVED: &[&str] = &["/v1/", "/switchboard.", "/grpc.", "/assets/", "/metrics", "/healthz", "/readyz"];

/// Files at least this large are offered gzipped (when that saves a tenth or more).
const GZIP_FROM: usize = 512;

struct Asset {
    body: Bytes,
    /// Worth compressing (text, large enough).
    compressible: bool,
    /// The gzip copy, made on the first request that accepts it; None when it would not
    /// save a tenth.
    gzip: OnceLock<Option<Bytes>>,
    etag: HeaderValue,
    content_type: HeaderValue,
}

impl Asset {
    fn new(path: &str, body: Bytes) -> Self {
        let digest = Sha256::digest(&body);
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex(&digest[..12]))).expect("hex is a header value");
        let content_type = HeaderValue::from_static(content_type(path));
        let compressible = body.len() >= GZIP_FROM && compressible(path);
        Self { body, compressible, gzip: OnceLock::new(), etag, content_type }
    }

    fn gzipped(&self) -> Option<&Bytes> {
        if !self.compressible {
            return None;
        }
        self.gzip.get_or_init(|| gzip(&self.body).filter(|g| g.len() * 10 <= self.body.len() * 9)).as_ref()
    }
}

/// The loaded client, ready to serve.
pub struct WebClient {
    assets: HashMap<String, Asset>,
    page: Asset,
    prefix: String,
    csp: HeaderValue,
}

impl WebClient {
    /// The client built into the binary.
    pub fn embedded() -> anyhow::Result<Self> {
        let mut files = Vec::new();
        for path in ClientFiles::iter().chain(SdkFiles::iter()) {
            let file = ClientFiles::get(&path).or_else(|| SdkFiles::get(&path)).context("an embedded file vanished")?;
            files.push((path.into_owned(), Bytes::from(file.data.into_owned())));
        }
        Self::from_files(files)
    }

    /// A client read from `dir` instead (its `index.html` and everything under it).
    pub fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        let mut files = Vec::new();
        read_dir(dir, dir, &mut files).with_context(|| format!("web.dir: reading {}", dir.display()))?;
        Self::from_files(files)
    }

    fn from_files(mut files: Vec<(String, Bytes)>) -> anyhow::Result<Self> {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut build = Sha256::new();
        for (path, body) in &files {
            build.update((path.len() as u64).to_le_bytes());
            build.update(path.as_bytes());
            build.update((body.len() as u64).to_le_bytes());
            build.update(body);
        }
        let prefix = format!("/assets/{}/", hex(&build.finalize()[..8]));
        let template = files
            .iter()
            .find(|(p, _)| p == "index.html")
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .context("the web client has no index.html")?;
        let importmap = match files.iter().find(|(p, _)| p == "vendor/importmap.json") {
            Some((_, b)) => import_map(b, &prefix)?,
            None => String::new(),
        };
        let page = template.replace("{{importmap}}", &importmap).replace("{{assets}}", &prefix);
        let csp = csp(&page)?;
        let page = Asset::new("index.html", Bytes::from(page));
        let assets = files
            .into_iter()
            .filter(|(p, _)| p != "index.html")
            .map(|(p, b)| {
                let asset = Asset::new(&p, b);
                (p, asset)
            })
            .collect();
        Ok(Self { assets, page, prefix, csp })
    }

    /// Where the assets of this build are served (`/assets/<build>/`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The routes: a fallback for every path the API does not own.
    pub fn router(self) -> Router {
        let client = Arc::new(self);
        Router::new().fallback(move |req: Request| {
            let client = client.clone();
            async move { client.serve(&req) }
        })
    }

    fn serve(&self, req: &Request) -> Response {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")]).into_response();
        }
        let path = req.uri().path();
        let head = req.method() == Method::HEAD;
        if let Some(rest) = path.strip_prefix(&self.prefix) {
            return match self.assets.get(rest) {
                Some(a) => respond(a, req.headers(), head, "public, max-age=31536000, immutable", None),
                None => not_found(),
            };
        }
        if RESERVED.iter().any(|r| path.starts_with(r)) {
            return not_found();
        }
        let top = path.trim_start_matches('/');
        if !top.is_empty()
            && !top.contains('/')
            && top != "index.html"
            && let Some(a) = self.assets.get(top)
        {
            return respond(a, req.headers(), head, "no-cache", None);
        }
        respond(&self.page, req.headers(), head, "no-cache", Some(&self.csp))
    }
}

fn respond(a: &Asset, headers: &HeaderMap, head: bool, cache: &'static str, csp: Option<&HeaderValue>) -> Response {
    let mut h = HeaderMap::new();
    h.insert(header::ETAG, a.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(csp) = csp {
        h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if fresh(headers, &a.etag) {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(header::CONTENT_TYPE, a.content_type.clone());
    let body = match a.gzipped().filter(|_| accepts_gzip(headers)) {
        Some(g) => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            g.clone()
        }
        _ => a.body.clone(),
    };
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let body = if head { Body::empty() } else { Body::from(body) };
    (StatusCode::OK, h, body).into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "not found\n").into_response()
}

/// `If-None-Match` names this tag (or `*`).
fn fresh(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(v) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else { return false };
    let etag = etag.to_str().unwrap_or_default();
    v.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == "*" || t == etag)
}

/// `Accept-Encoding` lists gzip with a non-zero weight.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or_default().trim();
            let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.trim().parse::<f32>().ok());
            (name.eq_ignore_ascii_case("gzip") || name == "*") && q.is_none_or(|q| q > 0.0)
        },
    )
}

/// The import map of vendor/importmap.json with every address under the build's prefix.
fn import_map(json: &[u8], prefix: &str) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct ImportMap {
        imports: std::collections::BTreeMap<String, String>,
    }
    let map: ImportMap = serde_json::from_slice(json).context("vendor/importmap.json")?;
    let imports: std::collections::BTreeMap<_, _> =
        map.imports.into_iter().map(|(k, v)| (k, format!("{prefix}{v}"))).collect();
    let json = serde_json::json!({ "imports": imports });
    Ok(format!("<script type=\"importmap\">{json}</script>"))
}

/// The page's policy: scripts only from this origin plus the page's inline import map (by
/// its hash), no inline styles in markup, images also from blob:/data: (thumbnails,
/// blurhash placeholders), connections only to this origin (HTTP and WebSocket).
fn csp(page: &str) -> anyhow::Result<HeaderValue> {
    let mut hashes = String::new();
    let mut rest = page;
    while let Some(start) = rest.find("<script type=\"importmap\">") {
        let body = &rest[start + "<script type=\"importmap\">".len()..];
        let end = body.find("</script>").context("an import map is not closed")?;
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        hashes.push_str(&format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
        rest = &body[end..];
    }
    let policy = format!(
        "default-src 'self'; script-src 'self'{hashes}; style-src 'self'; img-src 'self' blob: data:; \
         media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).context("the Content-Security-Policy is not a header value")
}

fn read_dir(root: &Path, dir: &Path, out: &mut Vec<(String, Bytes)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            read_dir(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push((rel, Bytes::from(std::fs::read(&path)?)));
        }
    }
    Ok(())
}

fn gzip(body: &[u8]) -> Option<Bytes> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(body).ok()?;
    enc.finish().ok().map(Bytes::from)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn extension(path: &str) -> &str {
    path.rsplit_once('.').map(|(_, e)| e).unwrap_or_default()
}

fn content_type(path: &str) -> &'static str {
    match extension(path) {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn compressible(path: &str) -> bool {
    matches!(extension(path), "html" | "js" | "mjs" | "css" | "json" | "map" | "webmanifest" | "svg" | "txt")
}

#[cfg(test)]
mod tests;
