//! Link previews' network side: fetch a page, read its OpenGraph and Twitter-card facts,
//! fetch its image. Safe by default: only public addresses (checked after DNS resolution
//! and for every redirect; see [`guard`]), a time limit on the whole fetch, size limits
//! on what is read, and only HTML pages and images.
//!
//! What to preview, caching and storing the result are the service's business.

mod fetch;
pub mod guard;
pub mod meta;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

pub use guard::Guard;
pub use meta::PageFacts;

/// Why a link got no preview.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnfurlError {
    /// The destination is not public and not on the allowlist.
    #[error("refused: {0}")]
    Refused(String),
    /// Not a link that can be fetched.
    #[error("invalid link: {0}")]
    Invalid(String),
    /// No connection, or it broke.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// Not an HTML page (or, for an image, not an image).
    #[error("unwanted type {0}")]
    Type(String),
    /// More redirects than allowed.
    #[error("more than {0} redirects")]
    Redirects(u32),
    /// The image is larger than allowed.
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    /// The fetch took longer than allowed.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

/// The limits of one fetch.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The whole fetch (every redirect, the body) must end within this.
    pub timeout: Duration,
    /// Connecting to one address must succeed within this.
    pub connect_timeout: Duration,
    /// Bytes of a page read (its head is at the start; the rest is not read).
    pub max_page_bytes: usize,
    /// Largest image fetched; a larger one gets no image.
    pub max_image_bytes: usize,
    /// Redirects followed.
    pub max_redirects: u32,
    /// The User-Agent sent.
    pub user_agent: String,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            max_page_bytes: 512 << 10,
            max_image_bytes: 5 << 20,
            max_redirects: 3,
            user_agent: "Switchboard-LinkPreview/1.0".into(),
        }
    }
}

/// Fetches pages and images within the guard and the limits.
#[derive(Clone)]
pub struct Unfurler {
    guard: Guard,
    limits: Limits,
    tls: Arc<rustls::ClientConfig>,
}

impl Unfurler {
    /// An unfurler trusting the system's root certificates.
    pub fn new(guard: Guard, limits: Limits) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::warn!(error = %e, "a system root certificate could not be read");
        }
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            tracing::warn!("no system root certificates: https links will get no preview");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self { guard, limits, tls: Arc::new(tls) }
    }

    /// The facts of the HTML page at `url` (after redirects, with the final address).
    pub async fn page(&self, url: &str) -> Result<(Url, PageFacts), UnfurlError> {
        let url = Url::parse(url).map_err(|e| UnfurlError::Invalid(e.to_string()))?;
        let limits = &self.limits;
        let html = |m: &str| m == "text/html" || m == "application/xhtml+xml";
        let fetched = self
            .within(fetch::get(&self.guard, &self.tls, limits, url, "text/html", html, limits.max_page_bytes))
            .await?;
        let facts = meta::parse(&fetched.body, &fetched.url);
        Ok((fetched.url, facts))
    }

    /// The bytes and type of the image at `url`.
    pub async fn image(&self, url: &Url) -> Result<(Bytes, String), UnfurlError> {
        let limits = &self.limits;
        let image = |m: &str| m.starts_with("image/");
        let max = limits.max_image_bytes;
        let fetched =
            self.within(fetch::get(&self.guard, &self.tls, limits, url.clone(), "image/*", image, max)).await?;
        if fetched.truncated {
            return Err(UnfurlError::TooLarge(max));
        }
        Ok((fetched.body, fetched.mime))
    }

    async fn within<T>(&self, f: impl std::future::Future<Output = Result<T, UnfurlError>>) -> Result<T, UnfurlError> {
        tokio::time::timeout(self.limits.timeout, f).await.unwrap_or(Err(UnfurlError::Timeout(self.limits.timeout)))
    }
}
