//! Files: resumable uploads, the files they become, who may read them, signed download
//! links, processing (previews, media facts) and collection of what nobody uses.
//!
//! An upload's bytes arrive in parts (one per request) in the blob store, hashed as they
//! pass; its offset moves in the store only after a part is stored, so a crash loses at
//! most the request in flight. When the last byte arrives the parts become one
//! content-addressed blob (the same bytes are stored once) and a file record.

mod access;
mod processing;
mod uploads;

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::Sha256;
use switchboard_blob::BlobStore;
use switchboard_core::model::{Attachment, Content, Message};
use switchboard_core::{ErrorCode, FileId};

pub use access::{Download, Variant};
pub use uploads::UploadSpec;

use crate::{ServiceError, ServiceResult, Services};

/// The file-related state of the services.
pub(crate) struct Files {
    /// Where the bytes are.
    pub(crate) blobs: BlobStore,
    /// Files processed at once.
    pub(crate) workers: tokio::sync::Semaphore,
    /// The hash of each upload's bytes so far, by upload id, with the offset it covers
    /// (absent after a restart or on another node: then recomputed from the parts).
    pub(crate) hashers: Mutex<HashMap<String, (u64, Sha256)>>,
    /// The key signing download links (shared by the cluster through the store).
    pub(crate) url_key: tokio::sync::OnceCell<[u8; 32]>,
}

impl Files {
    pub(crate) fn new(blobs: BlobStore, workers: usize) -> Self {
        Self {
            blobs,
            workers: tokio::sync::Semaphore::new(workers.max(1)),
            hashers: Mutex::new(HashMap::new()),
            url_key: tokio::sync::OnceCell::new(),
        }
    }
}

/// An error with a machine-readable reason (see docs/API.md, "Files").
pub(crate) fn refused(code: ErrorCode, reason: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::new(code, message).because(reason)
}

impl Services {
    pub(crate) fn files(&self) -> &Files {
        &self.inner.files
    }

    /// The blob store (readiness and the admin commands).
    pub fn blobs(&self) -> &BlobStore {
        &self.inner.files.blobs
    }

    /// Fills in the file records of the attachments of `messages` (as the files are now).
    pub(crate) async fn with_files(&self, messages: &mut [Message]) -> ServiceResult<()> {
        let mut images = Vec::new();
        for m in messages.iter_mut() {
            match &mut m.content {
                Content::Text { attachments, .. } => images.extend(attachments.iter_mut()),
                Content::Sticker(s) => images.push(&mut s.image),
                _ => {}
            }
            images.extend(m.link_previews.iter_mut().filter_map(|p| p.image.as_mut()));
        }
        self.fill_files(images).await
    }

    /// Fills in the file records of attachments that name only their file, in one read.
    pub(crate) async fn fill_files(&self, mut attachments: Vec<&mut Attachment>) -> ServiceResult<()> {
        let mut ids: Vec<FileId> = attachments.iter().map(|a| a.file_id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        ids.sort_unstable();
        ids.dedup();
        let files = self.store().files(&ids).await?;
        for a in attachments.iter_mut() {
            a.file = files.iter().find(|f| f.id == a.file_id).cloned().map(Box::new);
        }
        Ok(())
    }

    /// Fills in the file records of the messages that conversation events carry.
    pub(crate) async fn with_event_files(&self, events: &mut [switchboard_core::event::Event]) -> ServiceResult<()> {
        use switchboard_core::event::Event;
        let mut messages: Vec<Message> = events
            .iter()
            .filter_map(|e| match e {
                Event::Conversation(c) if carried(&c.message).next().is_some() => Some(c.message.clone()),
                _ => None,
            })
            .collect();
        if messages.is_empty() {
            return Ok(());
        }
        self.with_files(&mut messages).await?;
        let mut filled = messages.into_iter();
        for e in events.iter_mut() {
            if let Event::Conversation(c) = e
                && carried(&c.message).next().is_some()
                && let Some(m) = filled.next()
            {
                c.message = m;
            }
        }
        Ok(())
    }

    /// One message with its files filled in.
    pub(crate) async fn with_files_one(&self, mut m: Message) -> ServiceResult<Message> {
        self.with_files(std::slice::from_mut(&mut m)).await?;
        Ok(m)
    }
}

/// The files a message carries: its attachments (or its sticker) and its link previews'
/// images.
fn carried(m: &Message) -> impl Iterator<Item = &Attachment> {
    let attachments: &[Attachment] = match &m.content {
        Content::Text { attachments, .. } => attachments,
        Content::Sticker(s) => std::slice::from_ref(&s.image),
        _ => &[],
    };
    attachments.iter().chain(m.link_previews.iter().filter_map(|p| p.image.as_ref()))
}

/// The file a refusal names when the caller may not see it: not found, never "denied".
pub(crate) fn no_file() -> ServiceError {
    ServiceError::not_found("file")
}
