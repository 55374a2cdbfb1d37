//! One guarded GET: the address checked by the [`Guard`], a fresh connection to exactly
//! the checked addresses (plain or TLS), redirects followed by hand so that each hop is
//! checked again, and the body read up to a limit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use url::Url;

use crate::{Guard, Limits, UnfurlError};

/// A fetched body.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// Where it came from after redirects.
    pub(crate) url: Url,
    /// Its type (lower case, without parameters).
    pub(crate) mime: String,
    /// Its first bytes, up to the limit.
    pub(crate) body: Bytes,
    /// True when the body went on past the limit.
    pub(crate) truncated: bool,
}

/// Fetches `url`, following redirects; `accept` says which types are wanted (others are
/// refused without reading the body).
pub(crate) async fn get(
    guard: &Guard,
    tls: &Arc<rustls::ClientConfig>,
    limits: &Limits,
    url: Url,
    accept: &str,
    wanted: impl Fn(&str) -> bool,
    max_bytes: usize,
) -> Result<Fetched, UnfurlError> {
    let mut url = url;
    for _ in 0..=limits.max_redirects {
        let (scheme, host, port) = target(&url)?;
        let addrs = guard.resolve(&host, port).await?;
        let stream = connect(&addrs, limits.connect_timeout).await?;
        let resp = match scheme {
            Scheme::Http => request(TokioIo::new(stream), &url, &host, accept, &limits.user_agent).await?,
            Scheme::Https => {
                let name = rustls_pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                    .map_err(|_| UnfurlError::Invalid(format!("{host} is not a valid TLS name")))?;
                let tls = tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, stream)
                    .await
                    .map_err(|e| UnfurlError::Unreachable(format!("TLS with {host}: {e}")))?;
                request(TokioIo::new(tls), &url, &host, accept, &limits.user_agent).await?
            }
        };
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| UnfurlError::Status(status.as_u16()))?;
            url = url.join(location).map_err(|e| UnfurlError::Invalid(format!("redirect to {location}: {e}")))?;
            continue;
        }
        if !status.is_success() {
            return Err(UnfurlError::Status(status.as_u16()));
        }
        let mime = resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !wanted(&mime) {
            return Err(UnfurlError::Type(if mime.is_empty() { "none".into() } else { mime }));
        }
        let (body, truncated) = read_body(resp.into_body(), max_bytes).await?;
        return Ok(Fetched { url, mime, body, truncated });
    }
    Err(UnfurlError::Redirects(limits.max_redirects))
}

enum Scheme {
    Http,
    Https,
}

/// The scheme, host (as the URL spells it) and port of a fetchable URL.
fn target(url: &Url) -> Result<(Scheme, String, u16), UnfurlError> {
    let scheme = match url.scheme() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => return Err(UnfurlError::Invalid(format!("{other} links are not previewed"))),
    };
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| UnfurlError::Invalid("no host".into()))?;
    let port = url.port_or_known_default().ok_or_else(|| UnfurlError::Invalid("no port".into()))?;
    Ok((scheme, host.to_owned(), port))
}

async fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, UnfurlError> {
    let mut last = String::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => return Ok(s),
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => last = format!("{addr}: connect timed out"),
        }
    }
    Err(UnfurlError::Unreachable(last))
}

async fn request<T>(
    io: TokioIo<T>,
    url: &Url,
    host: &str,
    accept: &str,
    agent: &str,
) -> Result<http::Response<hyper::body::Incoming>, UnfurlError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
        .await
        .map_err(|e| UnfurlError::Unreachable(format!("{host}: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "preview connection ended");
        }
    });
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let req = http::Request::get(path)
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, agent)
        .header(http::header::ACCEPT, accept)
        .body(Empty::new())
        .map_err(|e| UnfurlError::Invalid(e.to_string()))?;
    sender.send_request(req).await.map_err(|e| UnfurlError::Unreachable(format!("{host}: {e}")))
}

/// Up to `max` bytes of the body, and whether there was more.
async fn read_body(mut body: hyper::body::Incoming, max: usize) -> Result<(Bytes, bool), UnfurlError> {
    let mut out = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| UnfurlError::Unreachable(format!("the body broke off: {e}")))?;
        if let Ok(data) = frame.into_data() {
            let room = max - out.len();
            if data.len() >= room {
                let more = data.len() > room;
                out.extend_from_slice(&data[..room]);
                return Ok((out.freeze(), more || body.frame().await.is_some()));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok((out.freeze(), false))
}
