//! Link previews, off the request path: a sent (or edited) message with links is queued;
//! a worker fetches each link's page through the [`switchboard_unfurl`] guard, re-hosts
//! its image as a public file of the sender, and adds the previews to the message with a
//! `PreviewAdded` event. A full queue, a refused or failing link, or a message edited or
//! deleted meanwhile means no preview, never a failed send.

mod cache;

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use switchboard_core::model::{Attachment, Content, LinkPreview, Message};
use switchboard_core::{ConversationId, MessageId};
use switchboard_unfurl::{Guard, Limits, UnfurlError, Unfurler};
use tokio::sync::{Semaphore, mpsc};
use url::Url;

use cache::{Cached, PreviewCache};

use crate::config::LinkPreviewsConfig;
use crate::{Inner, Principal, ServiceResult, Services, UploadSpec};

/// A message waiting for its previews.
pub(crate) struct Job {
    /// The sender: the owner of the re-hosted images.
    owner: Principal,
    conversation_id: ConversationId,
    message_id: MessageId,
    /// The edit the links are from (`None`: as sent).
    edited_at_ms: Option<i64>,
    urls: Vec<String>,
}

/// The preview state of the services.
pub(crate) struct Previews {
    queue: mpsc::Sender<Job>,
    unfurler: Unfurler,
    cache: PreviewCache,
    max_per_message: usize,
}

impl Previews {
    /// The previews handle and the receiving end of its queue (for [`Services::start_previews`]).
    pub(crate) fn new(cfg: &LinkPreviewsConfig) -> (Self, mpsc::Receiver<Job>) {
        let (queue, rx) = mpsc::channel(cfg.queue.max(1));
        let limits = Limits {
            timeout: Duration::from_millis(cfg.timeout_ms.max(1)),
            connect_timeout: Duration::from_millis(cfg.timeout_ms.clamp(1, 2_000)),
            max_page_bytes: cfg.max_page_bytes.max(1024),
            max_image_bytes: cfg.max_image_bytes,
            max_redirects: cfg.max_redirects,
            user_agent: cfg.user_agent.clone(),
        };
        let cache = PreviewCache::new(Duration::from_secs(cfg.cache_ttl_secs), cfg.cache_per_domain, cfg.cache_domains);
        let unfurler = Unfurler::new(Guard::new(&cfg.allow_hosts), limits);
        (Self { queue, unfurler, cache, max_per_message: cfg.max_per_message }, rx)
    }
}

impl Services {
    /// Runs the queue's worker: up to `workers` fetches at once; it ends with the services.
    pub(crate) fn start_previews(inner: &Arc<Inner>, mut rx: mpsc::Receiver<Job>) {
        let weak: Weak<Inner> = Arc::downgrade(inner);
        let workers = Arc::new(Semaphore::new(inner.config.link_previews.workers.max(1)));
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let Ok(permit) = workers.clone().acquire_owned().await else { return };
                let Some(inner) = weak.upgrade() else { return };
                let services = Services { inner };
                tokio::spawn(async move {
                    services.add_previews(job).await;
                    drop(permit);
                });
            }
        });
    }

    /// Queues a stored message for its previews, unless they are off, the sender opted
    /// out, or it has no links.
    pub(crate) fn queue_previews(&self, owner: &Principal, m: &Message) {
        let Some(previews) = self.inner.previews.as_ref() else { return };
        let Content::Text { text, entities, .. } = &m.content else { return };
        if m.no_link_preview || m.id.raw() == 0 {
            return;
        }
        let urls = switchboard_core::links::preview_links(text, entities, previews.max_per_message);
        if urls.is_empty() {
            return;
        }
        let job = Job {
            owner: *owner,
            conversation_id: m.conversation_id,
            message_id: m.id,
            edited_at_ms: m.edited_at_ms,
            urls,
        };
        if previews.queue.try_send(job).is_err() {
            metrics::counter!("switchboard_link_previews_total", "outcome" => "queue_full").increment(1);
        }
    }

    async fn add_previews(&self, job: Job) {
        let mut found = Vec::new();
        for url in &job.urls {
            if let Some(p) = self.preview_of(&job.owner, url).await {
                found.push(p);
            }
        }
        if found.is_empty() {
            return;
        }
        let now = self.now_ms();
        match self.store().set_link_previews(job.conversation_id, job.message_id, job.edited_at_ms, found, now).await {
            Ok(Some(mut ev)) => match self.with_files_one(ev.message).await {
                Ok(m) => {
                    ev.message = m;
                    self.publish_conv(ev);
                }
                Err(e) => tracing::warn!(error = %e.message, "link previews: reading the files failed"),
            },
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "link previews: storing them failed"),
        }
    }

    /// The preview of one link: from the cache, or fetched (and then cached).
    async fn preview_of(&self, owner: &Principal, url: &str) -> Option<LinkPreview> {
        let previews = self.inner.previews.as_ref()?;
        let parsed = Url::parse(url).ok()?;
        let site = parsed.host_str()?.to_ascii_lowercase();
        let now = Instant::now();
        match previews.cache.get(&site, url, now) {
            Some(Cached::Preview(p)) => {
                metrics::counter!("switchboard_link_previews_total", "outcome" => "cached").increment(1);
                return Some(p);
            }
            Some(Cached::Nothing) => return None,
            None => {}
        }
        let (page, facts) = match previews.unfurler.page(url).await {
            Ok(found) => found,
            Err(e) => {
                let outcome = outcome(&e);
                metrics::counter!("switchboard_link_previews_total", "outcome" => outcome).increment(1);
                tracing::debug!(site = %site, outcome, error = %e, "link preview not fetched");
                match e {
                    UnfurlError::Unreachable(_) | UnfurlError::Timeout(_) => previews.cache.site_failed(&site, now),
                    _ => previews.cache.put(&site, url, None, now),
                }
                return None;
            }
        };
        if facts.is_empty() {
            previews.cache.put(&site, url, None, now);
            return None;
        }
        let image = match &facts.image {
            Some(src) => self.rehost(owner, &previews.unfurler, src).await,
            None => None,
        };
        let site_name =
            if facts.site_name.is_empty() { page.host_str().unwrap_or_default().to_owned() } else { facts.site_name };
        let p =
            LinkPreview { url: url.to_owned(), site_name, title: facts.title, description: facts.description, image };
        previews.cache.put(&site, url, Some(p.clone()), now);
        metrics::counter!("switchboard_link_previews_total", "outcome" => "fetched").increment(1);
        Some(p)
    }

    /// The page's image, fetched and stored as a public file of `owner`; `None` when it
    /// cannot be had (the preview then goes without it).
    async fn rehost(&self, owner: &Principal, unfurler: &Unfurler, src: &Url) -> Option<Attachment> {
        let (bytes, _) = match unfurler.image(src).await {
            Ok(found) => found,
            Err(e) => {
                tracing::debug!(outcome = outcome(&e), error = %e, "link preview image not fetched");
                return None;
            }
        };
        let sniffed = switchboard_media::sniff(&bytes[..bytes.len().min(switchboard_media::SNIFF_BYTES)]);
        if !switchboard_media::is_processed_image(sniffed) {
            tracing::debug!(mime = sniffed, "link preview image is not an image this server shows");
            return None;
        }
        let name = src.path_segments().and_then(|mut s| s.next_back()).unwrap_or("preview").to_owned();
        match self.store_bytes(owner, &name, bytes).await {
            Ok(file) => Some(Attachment::of(file)),
            Err(e) => {
                tracing::debug!(error = %e.message, "link preview image not stored");
                None
            }
        }
    }

    /// Stores `bytes` as a public file of `owner` through the upload path (type sniffing,
    /// metadata removal, quota, processing).
    async fn store_bytes(
        &self,
        owner: &Principal,
        name: &str,
        bytes: Bytes,
    ) -> ServiceResult<switchboard_core::FileId> {
        let spec =
            UploadSpec { name: name.to_owned(), length: bytes.len() as u64, public: true, ..UploadSpec::default() };
        let up = self.create_upload(owner, spec).await?;
        let body: switchboard_blob::ByteStream = Box::pin(futures_util::stream::once(async move { Ok(bytes) }));
        match self.write_upload(owner, &up.id, 0, body, None).await? {
            (_, Some(file)) => {
                self.until_processed(file.id).await?;
                Ok(file.id)
            }
            (up, None) => {
                self.drop_upload(&up.id).await?;
                Err(crate::ServiceError::internal("the preview image upload did not complete"))
            }
        }
    }
}

impl Services {
    /// Waits (a bounded while) for a re-hosted image's processing, so that the card
    /// carries its dimensions, blurhash and previews; past the bound it goes as it is.
    async fn until_processed(&self, id: switchboard_core::FileId) -> ServiceResult<()> {
        for _ in 0..PROCESSING_POLLS {
            match self.store().file(id).await? {
                Some(f) if f.state == switchboard_core::model::FileState::Processing => {
                    tokio::time::sleep(PROCESSING_POLL).await;
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}

/// How often, and how many times, a re-hosted image's processing is looked at.
const PROCESSING_POLL: Duration = Duration::from_millis(50);
const PROCESSING_POLLS: u32 = 200;

/// The metric label of a failed fetch.
fn outcome(e: &UnfurlError) -> &'static str {
    match e {
        UnfurlError::Refused(_) => "refused",
        UnfurlError::Invalid(_) => "invalid",
        UnfurlError::Unreachable(_) => "unreachable",
        UnfurlError::Status(_) => "status",
        UnfurlError::Type(_) => "not_html",
        UnfurlError::Redirects(_) => "redirects",
        UnfurlError::TooLarge(_) => "too_large",
        UnfurlError::Timeout(_) => "timeout",
    }
}
