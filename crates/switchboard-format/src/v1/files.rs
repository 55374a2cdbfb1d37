//! Format 1 of files as messages and bus events carry them: attachments, file records
//! and their thumbnails.

use serde::{Deserialize, Serialize};
use switchboard_core::model as md;
use switchboard_core::{FileId, UserId};

/// A file a message carries; `file` (the record as it was when the message was sent) only
/// on the bus, never stored.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub file_id: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alt: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spoiler: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Box<File>>,
}

impl From<&md::Attachment> for Attachment {
    fn from(a: &md::Attachment) -> Self {
        Self {
            file_id: a.file_id.raw(),
            alt: a.alt.clone(),
            spoiler: a.spoiler,
            file: a.file.as_deref().map(|f| Box::new(f.into())),
        }
    }
}

impl From<Attachment> for md::Attachment {
    fn from(a: Attachment) -> Self {
        Self {
            file_id: FileId::from_raw(a.file_id),
            alt: a.alt,
            spoiler: a.spoiler,
            file: a.file.map(|f| Box::new((*f).into())),
        }
    }
}

/// A preview image of a file.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thumbnail {
    pub size: String,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    pub bytes: u64,
    pub mime: String,
}

/// A stored file's record (on the bus).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    pub id: i64,
    pub owner_id: i64,
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub sha256: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    pub blurhash: Option<String>,
    pub waveform: Vec<u8>,
    pub thumbnails: Vec<Thumbnail>,
    pub ready: bool,
    pub public: bool,
    pub created_at_ms: i64,
}

impl From<&md::FileRecord> for File {
    fn from(f: &md::FileRecord) -> Self {
        Self {
            id: f.id.raw(),
            owner_id: f.owner_id.raw(),
            name: f.name.clone(),
            mime: f.mime.clone(),
            size: f.size,
            sha256: f.sha256.clone(),
            width: f.width,
            height: f.height,
            duration_ms: f.duration_ms,
            blurhash: f.blurhash.clone(),
            waveform: f.waveform.clone(),
            thumbnails: f
                .thumbnails
                .iter()
                .map(|t| Thumbnail {
                    size: t.size.clone(),
                    width: t.width,
                    height: t.height,
                    sha256: t.sha256.clone(),
                    bytes: t.bytes,
                    mime: t.mime.clone(),
                })
                .collect(),
            ready: f.state == md::FileState::Ready,
            public: f.public,
            created_at_ms: f.created_at_ms,
        }
    }
}

impl From<File> for md::FileRecord {
    fn from(f: File) -> Self {
        Self {
            id: FileId::from_raw(f.id),
            owner_id: UserId::from_raw(f.owner_id),
            name: f.name,
            mime: f.mime,
            size: f.size,
            sha256: f.sha256,
            width: f.width,
            height: f.height,
            duration_ms: f.duration_ms,
            blurhash: f.blurhash,
            waveform: f.waveform,
            thumbnails: f
                .thumbnails
                .into_iter()
                .map(|t| md::Thumbnail {
                    size: t.size,
                    width: t.width,
                    height: t.height,
                    sha256: t.sha256,
                    bytes: t.bytes,
                    mime: t.mime,
                })
                .collect(),
            state: if f.ready { md::FileState::Ready } else { md::FileState::Processing },
            public: f.public,
            created_at_ms: f.created_at_ms,
        }
    }
}
