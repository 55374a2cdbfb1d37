//! Files, uploads and attachments.

use switchboard_core::model::{Attachment, FileRecord, FileState};
use switchboard_core::{FileId, ValidationError};
use switchboard_proto::v1 as pb;
use switchboard_service::Upload;

/// A file record on the wire, with the paths to download it.
pub fn file(f: &FileRecord) -> pb::File {
    pb::File {
        id: f.id.to_string(),
        owner_id: f.owner_id.to_string(),
        name: f.name.clone(),
        mime: f.mime.clone(),
        size: f.size,
        sha256: f.sha256.clone(),
        width: f.width.unwrap_or(0),
        height: f.height.unwrap_or(0),
        duration_ms: f.duration_ms.unwrap_or(0),
        blurhash: f.blurhash.clone().unwrap_or_default(),
        thumbnails: f
            .thumbnails
            .iter()
            .map(|t| pb::Thumbnail {
                size: t.size.clone(),
                width: t.width,
                height: t.height,
                bytes: t.bytes,
                mime: t.mime.clone(),
                url: format!("/v1/files/{}/thumbnails/{}", f.id, t.size),
            })
            .collect(),
        state: match f.state {
            FileState::Processing => pb::FileState::Processing,
            FileState::Ready => pb::FileState::Ready,
        } as i32,
        public: f.public,
        created_at_ms: f.created_at_ms,
        url: format!("/v1/files/{}", f.id),
        waveform: f.waveform.clone(),
    }
}

/// The wire fields of an avatar: its file id and the path of its square preview.
pub fn avatar(file: Option<FileId>) -> (String, String) {
    match file {
        Some(f) => (f.to_string(), format!("/v1/files/{f}/thumbnails/avatar")),
        None => (String::new(), String::new()),
    }
}

/// An avatar from a request: `""` removes it.
pub fn avatar_from(raw: Option<String>) -> Result<Option<Option<FileId>>, ValidationError> {
    raw.map(|s| FileId::parse_opt(&s, "avatar_file_id")).transpose()
}

/// An upload on the wire.
pub fn upload(u: &Upload, file_record: Option<&FileRecord>) -> pb::Upload {
    pb::Upload {
        id: u.id.clone(),
        url: format!("/v1/uploads/{}", u.id),
        length: u.length,
        offset: u.offset,
        expires_at_ms: u.expires_at_ms,
        file: file_record.map(file),
    }
}

/// An attachment on the wire.
pub fn attachment(a: &Attachment) -> pb::Attachment {
    pb::Attachment {
        file_id: a.file_id.to_string(),
        alt: a.alt.clone(),
        spoiler: a.spoiler,
        file: a.file.as_deref().map(file),
    }
}

/// Attachments from a request (only the file, alt text and spoiler flag are read).
pub fn attachments_from(list: &[pb::Attachment]) -> Result<Vec<Attachment>, ValidationError> {
    list.iter()
        .map(|a| {
            Ok(Attachment {
                file_id: FileId::parse(&a.file_id, "attachments.file_id")?,
                alt: a.alt.clone(),
                spoiler: a.spoiler,
                file: None,
            })
        })
        .collect()
}
