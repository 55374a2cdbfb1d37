//! Uploads: creation within the limits, parts written at the expected offset, completion
//! into a file.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use switchboard_blob::{BlobError, BlobId, ByteStream};
use switchboard_core::ErrorCode;
use switchboard_core::model::{FileRecord, FileState};
use switchboard_store::{CreatedUpload, NewFile, NewUpload, StoreError, Upload};

use super::refused;
use crate::{Principal, ServiceError, ServiceResult, Services};

/// What a client says about an upload it starts.
#[derive(Debug, Clone, Default)]
pub struct UploadSpec {
    /// The file's name (a path is cut to its last segment).
    pub name: String,
    /// Total bytes.
    pub length: u64,
    /// The type the client claims (checked against the allowed types now; the stored
    /// type is sniffed from the bytes).
    pub mime: String,
    /// The SHA-256 the bytes must have, 64 hex characters, if declared.
    pub sha256: Option<String>,
    /// An avatar: readable by anyone signed in.
    pub public: bool,
    /// A voice note's waveform as the client computed it: at most 100 amplitudes 0-255.
    pub waveform: Vec<u8>,
}

/// Most amplitudes in a waveform.
const MAX_WAVEFORM: usize = 100;
/// Longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 255;
/// How long a completion waits for the collector to finish deleting the same bytes.
const CLAIM_WAIT: Duration = Duration::from_millis(100);
const CLAIM_TRIES: u32 = 100;

/// The name as stored: its last path segment, without control characters, at most 255
/// characters; `file` when nothing is left.
pub(crate) fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() { "file".to_owned() } else { cleaned }
}

fn upload_gone() -> ServiceError {
    refused(ErrorCode::NotFound, "upload_not_found", "upload not found or expired")
}

fn type_refused(mime: &str) -> ServiceError {
    refused(ErrorCode::InvalidArgument, "type_not_allowed", format!("files of type {mime} are not accepted here"))
        .field("mime")
}

fn mismatch() -> ServiceError {
    refused(ErrorCode::InvalidArgument, "checksum_mismatch", "the bytes do not match the declared SHA-256")
        .field("sha256")
}

fn blob_error(e: BlobError) -> ServiceError {
    match e {
        BlobError::Incoming(m) => ServiceError::new(ErrorCode::Unavailable, format!("the upload stream failed: {m}")),
        other => ServiceError::internal(other.to_string()),
    }
}

impl Services {
    /// Starts an upload; refused before any byte is sent when the size is over the
    /// maximum, the quota does not hold it or the claimed type is not accepted.
    pub async fn create_upload(&self, p: &Principal, spec: UploadSpec) -> ServiceResult<Upload> {
        let cfg = &self.config().files;
        if spec.length > cfg.max_file_bytes {
            return Err(refused(
                ErrorCode::InvalidArgument,
                "file_too_large",
                format!("files are limited to {} bytes, this one has {}", cfg.max_file_bytes, spec.length),
            )
            .field("length"));
        }
        let mime = spec.mime.trim().to_ascii_lowercase();
        if !mime.is_empty() && !cfg.type_allowed(&mime) {
            return Err(type_refused(&mime));
        }
        if spec.waveform.len() > MAX_WAVEFORM {
            return Err(ServiceError::invalid("waveform", format!("at most {MAX_WAVEFORM} amplitudes")));
        }
        let sha256 = match spec.sha256.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                BlobId::parse(&s.to_ascii_lowercase())
                    .ok_or_else(|| ServiceError::invalid("sha256", "must be 64 hexadecimal characters"))?
                    .hex(),
            ),
        };
        let now = self.now_ms();
        let new = NewUpload {
            id: format!("{:032x}", rand::random::<u128>()),
            owner_id: p.user_id,
            name: clean_name(&spec.name),
            declared_mime: mime,
            length: spec.length,
            declared_sha256: sha256,
            public: spec.public,
            waveform: spec.waveform,
            quota: Some(cfg.quota_bytes).filter(|q| *q > 0),
            now_ms: now,
            expires_at_ms: now + (cfg.upload_expiry_secs * 1000) as i64,
        };
        match self.store().create_upload(new).await? {
            CreatedUpload::Created(u) => {
                metrics::counter!("switchboard_uploads_started_total").increment(1);
                Ok(u)
            }
            // No retry hint: waiting does not free space.
            CreatedUpload::OverQuota { used } => Err(ServiceError::new(
                ErrorCode::ResourceExhausted,
                format!("your files take {used} of your {} bytes; this one does not fit", cfg.quota_bytes),
            )
            .because("quota_exceeded")),
        }
    }

    /// The caller's upload: not_found for anyone else's, or once it expired.
    pub async fn upload_status(&self, p: &Principal, id: &str) -> ServiceResult<Upload> {
        let u = self.store().upload(id).await?.filter(|u| u.owner_id == p.user_id).ok_or_else(upload_gone)?;
        if u.file_id.is_none() && u.expires_at_ms <= self.now_ms() {
            return Err(upload_gone());
        }
        Ok(u)
    }

    /// Writes bytes at `offset` (which must be where the upload is); `checksum` is the
    /// SHA-256 the bytes of this request must have. Bytes that arrive before the stream
    /// fails are kept. Returns the upload and, once the last byte is in, its file.
    pub async fn write_upload(
        &self,
        p: &Principal,
        id: &str,
        offset: u64,
        body: ByteStream,
        checksum: Option<[u8; 32]>,
    ) -> ServiceResult<(Upload, Option<FileRecord>)> {
        let up = self.upload_status(p, id).await?;
        if let Some(file_id) = up.file_id {
            if offset == up.length {
                let file = self.store().file(file_id).await?;
                return Ok((up, file));
            }
            return Err(offset_mismatch(up.offset));
        }
        if offset != up.offset {
            return Err(offset_mismatch(up.offset));
        }
        // The hash so far, taken out so that a concurrent request on this node recomputes
        // its own rather than sharing one.
        let cached = self.files().hashers.lock().expect("hashers poisoned").remove(id);
        let mut hasher = match cached {
            Some((at, h)) if at == up.offset => h,
            _ => self.hash_parts(&up).await?,
        };
        let part = format!("{:016x}", rand::random::<u64>());
        let mut this = checksum.map(|_| Sha256::new());
        let room = up.length - up.offset;
        let written = self
            .files()
            .blobs
            .put_part(id, &part, body, room, |chunk: &Bytes| {
                hasher.update(chunk);
                if let Some(h) = this.as_mut() {
                    h.update(chunk);
                }
            })
            .await;
        let (n, broke) = match written {
            Ok(w) => w,
            Err(BlobError::TooLarge { .. }) => {
                return Err(refused(
                    ErrorCode::InvalidArgument,
                    "upload_length_exceeded",
                    format!("the upload has room for {room} more bytes"),
                ));
            }
            Err(e) => return Err(blob_error(e)),
        };
        if let (Some(want), Some(h)) = (checksum, this) {
            let got: [u8; 32] = h.finalize().into();
            if got != want || broke.is_some() {
                let _ = self.files().blobs.delete_part(id, &part).await;
                return Err(mismatch().field("upload_checksum"));
            }
        }
        if n == 0 {
            let _ = self.files().blobs.delete_part(id, &part).await;
            self.files().hashers.lock().expect("hashers poisoned").insert(id.to_owned(), (up.offset, hasher));
            return match broke {
                Some(e) => Err(blob_error(e)),
                None => Ok((up, None)),
            };
        }
        let mut parts = up.parts.clone();
        parts.push(part);
        let to = up.offset + n;
        let moved = self.store().advance_upload(id, up.offset, to, parts).await?;
        let up = moved.ok_or_else(|| offset_mismatch(up.offset))?;
        if let Some(e) = broke {
            self.files().hashers.lock().expect("hashers poisoned").insert(id.to_owned(), (to, hasher));
            return Err(blob_error(e));
        }
        if up.offset < up.length {
            self.files().hashers.lock().expect("hashers poisoned").insert(id.to_owned(), (to, hasher));
            return Ok((up, None));
        }
        let file = self.complete(&up, BlobId(hasher.finalize().into())).await?;
        let up = self.store().upload(id).await?.unwrap_or(up);
        Ok((up, Some(file)))
    }

    /// Ends an upload and removes its bytes (tus termination); a completed upload's file stays.
    pub async fn cancel_upload(&self, p: &Principal, id: &str) -> ServiceResult<()> {
        let up = self.upload_status(p, id).await?;
        self.drop_upload(&up.id).await
    }

    pub(crate) async fn drop_upload(&self, id: &str) -> ServiceResult<()> {
        self.files().hashers.lock().expect("hashers poisoned").remove(id);
        self.files().blobs.delete_parts(id).await.map_err(blob_error)?;
        self.store().delete_upload(id).await?;
        Ok(())
    }

    /// The hash of the parts stored so far (after a restart, or on another node).
    async fn hash_parts(&self, up: &Upload) -> ServiceResult<Sha256> {
        let mut hasher = Sha256::new();
        let mut stream = self.files().blobs.parts(&up.id, &up.parts).map_err(blob_error)?;
        while let Some(chunk) = stream.next().await {
            hasher.update(chunk.map_err(blob_error)?);
        }
        Ok(hasher)
    }

    /// Turns a complete upload into a file: checks the declared hash and the type, removes
    /// image metadata, stores the blob and the record, and starts processing.
    async fn complete(&self, up: &Upload, sha: BlobId) -> ServiceResult<FileRecord> {
        let cfg = &self.config().files;
        if up.declared_sha256.as_deref().is_some_and(|d| d != sha.hex()) {
            self.drop_upload(&up.id).await?;
            return Err(mismatch());
        }
        let blobs = &self.files().blobs;
        let head = self.head_of(up).await?;
        let mime = switchboard_media::sniff(&head).to_owned();
        if !cfg.type_allowed(&mime) {
            self.drop_upload(&up.id).await?;
            return Err(type_refused(&mime));
        }
        let image = switchboard_media::is_processed_image(&mime) && up.length <= cfg.max_processed_bytes;
        // Images lose their metadata: the cleaned bytes are stored in place of the parts.
        let cleaned = if image {
            let bytes = self.read_parts(up).await?;
            if let Err(e) = switchboard_media::check_dimensions(&bytes, &mime, cfg.max_image_pixels) {
                self.drop_upload(&up.id).await?;
                let reason = match e {
                    switchboard_media::MediaError::TooManyPixels { .. } => "image_too_large",
                    switchboard_media::MediaError::Unreadable(_) => "image_unreadable",
                };
                return Err(refused(ErrorCode::InvalidArgument, reason, e.to_string()));
            }
            switchboard_media::strip_metadata(&bytes, &mime).ok().flatten()
        } else {
            None
        };
        let (stored_sha, size) = match cleaned {
            Some(clean) => {
                let (id, size) = (BlobId::of(&clean), clean.len() as u64);
                self.claim(&id, size).await?;
                blobs.put_bytes(Bytes::from(clean)).await.map_err(blob_error)?;
                blobs.delete_parts(&up.id).await.map_err(blob_error)?;
                (id, size)
            }
            None => {
                self.claim(&sha, up.length).await?;
                blobs.join_parts(&up.id, &up.parts, sha, up.length).await.map_err(blob_error)?;
                (sha, up.length)
            }
        };
        let av = switchboard_media::is_probed_av(&mime) && up.length <= cfg.max_processed_bytes;
        let state = if image || av { FileState::Processing } else { FileState::Ready };
        let new = NewFile {
            name: up.name.clone(),
            mime: mime.clone(),
            size,
            sha256: stored_sha.hex(),
            state,
            now_ms: self.now_ms(),
        };
        let file = match self.store().complete_upload(&up.id, new.clone()).await {
            Err(StoreError::Conflict(_)) => {
                self.claim(&stored_sha, size).await?;
                self.store().complete_upload(&up.id, new).await?
            }
            other => other?,
        };
        self.files().hashers.lock().expect("hashers poisoned").remove(&up.id);
        metrics::counter!("switchboard_files_stored_total").increment(1);
        metrics::counter!("switchboard_file_bytes_stored_total").increment(size);
        if file.state == FileState::Processing {
            self.queue_processing(file.clone());
        }
        Ok(file)
    }

    /// Marks a blob in use before its bytes are put in place, waiting while the collector
    /// is deleting the same bytes.
    pub(crate) async fn claim(&self, id: &BlobId, size: u64) -> ServiceResult<()> {
        for _ in 0..CLAIM_TRIES {
            if self.store().claim_blob(&id.hex(), size, self.now_ms()).await? {
                return Ok(());
            }
            tokio::time::sleep(CLAIM_WAIT).await;
        }
        Err(ServiceError::new(ErrorCode::Unavailable, "the file store is busy; try again"))
    }

    /// The first bytes of an upload, for sniffing its type.
    async fn head_of(&self, up: &Upload) -> ServiceResult<Vec<u8>> {
        let mut head = Vec::with_capacity(switchboard_media::SNIFF_BYTES);
        let mut stream = self.files().blobs.parts(&up.id, &up.parts).map_err(blob_error)?;
        while head.len() < switchboard_media::SNIFF_BYTES
            && let Some(chunk) = stream.next().await
        {
            let chunk = chunk.map_err(blob_error)?;
            let take = chunk.len().min(switchboard_media::SNIFF_BYTES - head.len());
            head.extend_from_slice(&chunk[..take]);
        }
        Ok(head)
    }

    /// All the bytes of an upload (images up to `max_processed_bytes` only).
    async fn read_parts(&self, up: &Upload) -> ServiceResult<Vec<u8>> {
        let mut out = Vec::with_capacity(up.length as usize);
        let mut stream = self.files().blobs.parts(&up.id, &up.parts).map_err(blob_error)?;
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(blob_error)?);
        }
        Ok(out)
    }
}

fn offset_mismatch(at: u64) -> ServiceError {
    refused(ErrorCode::FailedPrecondition, "offset_mismatch", format!("the upload is at offset {at}"))
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(".hidden"), "hidden");
        assert_eq!(clean_name(&"x".repeat(300)).chars().count(), 255);
    }
}
