//! Who may read a file, signed download links, and opening a file (or a preview) for
//! download.
//!
//! A file is readable by its uploader, by anyone signed in when it is public (avatars),
//! and by whoever can read a message carrying it: a member of the conversation whose view
//! includes that message (not before their join where history is not shared), as long as
//! the message is not deleted for everyone. This is checked on every download, so access
//! ends when a member leaves or the message goes.

use std::ops::Range;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchboard_blob::{BlobError, BlobId, ByteStream};
use switchboard_core::model::FileRecord;
use switchboard_core::{ConversationId, ErrorCode, FileId, SessionId, UserId};
use switchboard_store::Expect;

use super::{no_file, refused};
use crate::{Principal, ServiceError, ServiceResult, Services};

/// Which bytes of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variant {
    /// The file itself.
    Original,
    /// A preview by its size name (`small`, `large`, `avatar`).
    Thumbnail(String),
}

impl Variant {
    fn tag(&self) -> &str {
        match self {
            Variant::Original => "",
            Variant::Thumbnail(s) => s,
        }
    }
}

/// A file opened for download.
pub struct Download {
    /// The file.
    pub file: FileRecord,
    /// SHA-256 of the bytes of this variant (the entity tag).
    pub sha256: String,
    /// Type of this variant.
    pub mime: String,
    /// Bytes of this variant.
    pub size: u64,
    /// The range served (clamped to the end), or none for the whole.
    pub range: Option<Range<u64>>,
    /// The bytes.
    pub body: ByteStream,
}

/// Conversations checked per file before access is refused.
const MAX_CARRIERS: u32 = 50;
const URL_KEY_KIND: &str = "files.url_key";
const SERVER_SCOPE: ConversationId = ConversationId::from_raw(0);

type HmacSha256 = Hmac<Sha256>;

impl Services {
    /// A file's record, for someone who may read it (not_found otherwise).
    pub async fn file(&self, p: &Principal, id: FileId) -> ServiceResult<FileRecord> {
        let file = self.store().file(id).await?.ok_or_else(no_file)?;
        if !self.may_read(p, &file).await? {
            return Err(no_file());
        }
        Ok(file)
    }

    /// The records of those of `ids` the caller may read.
    pub async fn readable_files(&self, p: &Principal, ids: &[FileId]) -> ServiceResult<Vec<FileRecord>> {
        let mut out = Vec::new();
        for f in self.store().files(ids).await? {
            if self.may_read(p, &f).await? {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Whether `p` may read `file` now.
    pub(crate) async fn may_read(&self, p: &Principal, file: &FileRecord) -> ServiceResult<bool> {
        if file.owner_id == p.user_id || file.public {
            return Ok(true);
        }
        for (conv, seq) in self.store().file_carriers(file.id, MAX_CARRIERS).await? {
            match self.readable(p, conv).await {
                Ok(from) if seq >= from => return Ok(true),
                Ok(_) => {}
                Err(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::PermissionDenied) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Checks that a file may be an avatar: the caller's own, public, an image the server
    /// makes previews of (its square `avatar` preview).
    pub(crate) async fn check_avatar(&self, p: &Principal, id: FileId) -> ServiceResult<()> {
        self.check_public_image(p, id, "avatar_file_id", "avatar_not_public_image", "an avatar").await
    }

    /// Checks that a file is the caller's own public image (an avatar, a sticker, a custom
    /// emoji); refuses with `reason`, naming `field` and saying what `what` must be.
    pub(crate) async fn check_public_image(
        &self,
        p: &Principal,
        id: FileId,
        field: &'static str,
        reason: &'static str,
        what: &str,
    ) -> ServiceResult<()> {
        let file = self.store().file(id).await?.filter(|f| f.owner_id == p.user_id).ok_or_else(no_file)?;
        if !file.public || !switchboard_media::is_processed_image(&file.mime) {
            let message = format!("{what} is a JPEG, PNG, WebP or GIF image uploaded with public = true");
            return Err(refused(ErrorCode::InvalidArgument, reason, &message).field(field));
        }
        Ok(())
    }

    /// Removes one of the caller's files; its bytes go once nothing else uses them.
    /// Messages carrying it show it as missing.
    pub async fn delete_file(&self, p: &Principal, id: FileId) -> ServiceResult<()> {
        let file = self.store().file(id).await?.filter(|f| f.owner_id == p.user_id).ok_or_else(no_file)?;
        self.store().delete_file(file.id).await?;
        Ok(())
    }

    /// A download link for `variant` of a file the caller may read, good until the
    /// returned time (ms) and only for the caller: it works where no header can be sent
    /// (`<img src>`), and access is checked again when it is used.
    pub async fn download_url(&self, p: &Principal, id: FileId, variant: Variant) -> ServiceResult<(String, i64)> {
        let file = self.file(p, id).await?;
        if let Variant::Thumbnail(size) = &variant
            && !file.thumbnails.iter().any(|t| &t.size == size)
        {
            return Err(ServiceError::not_found("thumbnail"));
        }
        let expires = self.now_ms() + (self.config().files.download_url_ttl_secs * 1000) as i64;
        let sig = self.sign(id, &variant, p.user_id, expires).await?;
        let path = match &variant {
            Variant::Original => format!("/v1/files/{id}"),
            Variant::Thumbnail(size) => format!("/v1/files/{id}/thumbnails/{size}"),
        };
        Ok((format!("{path}?user={}&expires={expires}&signature={sig}", p.user_id), expires))
    }

    /// The caller a signed link speaks for, once its signature and expiry check out.
    pub async fn link_principal(
        &self,
        id: FileId,
        variant: &Variant,
        user: UserId,
        expires_ms: i64,
        signature: &str,
    ) -> ServiceResult<Principal> {
        let denied = || refused(ErrorCode::Unauthenticated, "link_invalid", "the download link is invalid or expired");
        if expires_ms < self.now_ms() {
            return Err(denied());
        }
        let want = self.sign(id, variant, user, expires_ms).await?;
        if !same_secret(want.as_bytes(), signature.as_bytes()) {
            return Err(denied());
        }
        let u = self.store().user(user).await?.filter(|u| !u.disabled && !u.deleted).ok_or_else(denied)?;
        Ok(Principal {
            user_id: u.id,
            // A link is no session's: nothing that needs one is reachable through it.
            session_id: SessionId::from_raw(0),
            bot: u.bot,
            admin: u.admin,
            access_expires_at_ms: expires_ms,
        })
    }

    async fn sign(&self, id: FileId, variant: &Variant, user: UserId, expires_ms: i64) -> ServiceResult<String> {
        use base64::Engine as _;
        let key = self.url_key().await?;
        let mut mac = HmacSha256::new_from_slice(&key).map_err(|e| ServiceError::internal(e.to_string()))?;
        mac.update(format!("{id}\n{}\n{user}\n{expires_ms}", variant.tag()).as_bytes());
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The link-signing key: made once and kept in the store, so every node signs alike.
    async fn url_key(&self) -> ServiceResult<[u8; 32]> {
        let key = self
            .files()
            .url_key
            .get_or_try_init(|| async {
                let parse = |body: &str| BlobId::parse(body).map(|b| b.0);
                if let Some(r) = self.store().record(SERVER_SCOPE, URL_KEY_KIND, "").await?
                    && let Some(k) = parse(&r.body)
                {
                    return Ok(k);
                }
                let fresh: [u8; 32] = rand::random();
                let body = BlobId(fresh).hex();
                match self.store().put_record(SERVER_SCOPE, URL_KEY_KIND, "", body, Expect::Absent).await {
                    Ok(_) => Ok(fresh),
                    // Another node made it first.
                    Err(switchboard_store::StoreError::Conflict(_)) => {
                        let r = self.store().record(SERVER_SCOPE, URL_KEY_KIND, "").await?;
                        r.and_then(|r| parse(&r.body))
                            .ok_or_else(|| ServiceError::internal("the link key record is unreadable"))
                    }
                    Err(e) => Err(e.into()),
                }
            })
            .await?;
        Ok(*key)
    }

    /// Opens `variant` of a file the caller may read, whole or a range of it.
    pub async fn open_file(
        &self,
        p: &Principal,
        id: FileId,
        variant: &Variant,
        range: Option<Range<u64>>,
    ) -> ServiceResult<Download> {
        let file = self.file(p, id).await?;
        let (sha256, mime, size) = match variant {
            Variant::Original => (file.sha256.clone(), file.mime.clone(), file.size),
            Variant::Thumbnail(s) => {
                let t = file
                    .thumbnails
                    .iter()
                    .find(|t| &t.size == s)
                    .ok_or_else(|| ServiceError::not_found("thumbnail"))?;
                (t.sha256.clone(), t.mime.clone(), t.bytes)
            }
        };
        let blob = BlobId::parse(&sha256).ok_or_else(|| ServiceError::internal("a file names an invalid blob"))?;
        if let Some(r) = &range
            && (r.start >= size || r.start >= r.end)
        {
            return Err(refused(
                ErrorCode::InvalidArgument,
                "range_not_satisfiable",
                format!("the range starts at or after the end ({size} bytes)"),
            ));
        }
        let body = match self.files().blobs.get(&blob, range.clone()).await {
            Ok(b) => b,
            Err(BlobError::NotFound) => {
                return Err(ServiceError::internal(format!("blob {blob} of file {id} is missing")));
            }
            Err(e) => return Err(ServiceError::internal(e.to_string())),
        };
        let range = range.map(|r| r.start..r.end.min(size));
        metrics::counter!("switchboard_file_downloads_total").increment(1);
        Ok(Download { file, sha256, mime, size, range, body })
    }
}

/// Compares secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
