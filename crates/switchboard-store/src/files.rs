//! Files: uploads in progress, stored files with their previews, the blobs they use, and
//! which messages carry them. The bytes live in the blob store; this is what is known of
//! them.
//!
//! Blobs are collected in two steps so that a writer storing the same bytes again never
//! loses them to the collector: [`FileStore::claim_blob`] marks a blob in use before its
//! bytes are moved into place, and the collector first marks an unused blob `deleting`
//! (which a claim then refuses, so the writer waits), deletes its bytes, then its row.

use switchboard_core::model::{FileRecord, FileState, Thumbnail};
use switchboard_core::{ConversationId, FileId, UserId};

use crate::backends::store_trait;
use crate::rows::{self, first_i64};
use crate::sql::{Row, Tx, args, corrupt};
use crate::{StoreError, StoreResult};

/// An upload about to start.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// Its id: random and unguessable (the last segment of its URL).
    pub id: String,
    /// The uploader.
    pub owner_id: UserId,
    /// The name the uploader gave.
    pub name: String,
    /// The type the uploader claimed (kept for reference; the stored type is sniffed).
    pub declared_mime: String,
    /// Bytes to come.
    pub length: u64,
    /// The SHA-256 (hex) the bytes must have, when the uploader declared one.
    pub declared_sha256: Option<String>,
    /// Readable by anyone signed in (an avatar).
    pub public: bool,
    /// A voice note's waveform, as the client computed it (at most 100 amplitudes).
    pub waveform: Vec<u8>,
    /// The owner's quota in bytes (stored files plus unfinished uploads); `None` for none.
    pub quota: Option<u64>,
    /// Now.
    pub now_ms: i64,
    /// When an unfinished upload is given up.
    pub expires_at_ms: i64,
}

/// An upload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Id.
    pub id: String,
    /// The uploader.
    pub owner_id: UserId,
    /// Name.
    pub name: String,
    /// Claimed type.
    pub declared_mime: String,
    /// Total bytes.
    pub length: u64,
    /// Bytes received and stored.
    pub offset: u64,
    /// The names of the parts the received bytes are stored in, in order.
    pub parts: Vec<String>,
    /// Declared SHA-256 (hex).
    pub declared_sha256: Option<String>,
    /// Readable by anyone.
    pub public: bool,
    /// The file it became, once complete.
    pub file_id: Option<FileId>,
    /// The client's waveform for a voice note.
    pub waveform: Vec<u8>,
    /// Start.
    pub created_at_ms: i64,
    /// Expiry.
    pub expires_at_ms: i64,
}

/// What creating an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreatedUpload {
    /// It was created.
    Created(Upload),
    /// The owner's quota does not hold it; they use `used` bytes.
    OverQuota {
        /// Bytes in use (files plus unfinished uploads).
        used: u64,
    },
}

/// A file about to be stored from a completed upload.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// The name.
    pub name: String,
    /// Sniffed type.
    pub mime: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 (hex) of the bytes stored; its blob must be claimed.
    pub sha256: String,
    /// `Processing` when previews are to come.
    pub state: FileState,
    /// Now.
    pub now_ms: i64,
}

/// What processing learned of a file; storing it makes the file ready.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// Pixels.
    pub width: Option<u32>,
    /// Pixels.
    pub height: Option<u32>,
    /// Audio or video length.
    pub duration_ms: Option<u64>,
    /// Placeholder.
    pub blurhash: Option<String>,
    /// Voice-note waveform.
    pub waveform: Vec<u8>,
    /// Previews; their blobs must be claimed.
    pub thumbnails: Vec<Thumbnail>,
}

store_trait! {
    /// Uploads, files, their blobs and the messages carrying them.
    pub trait FileStore {
        /// Starts an upload unless the owner's quota does not hold it.
        write fn create_upload(&self, new: NewUpload) -> CreatedUpload => create_upload(&new);
        /// Reads an upload.
        read fn upload(&self, id: &str) -> Option<Upload> [id = id.to_owned()] => upload(&id);
        /// Records bytes received: moves the offset from `from` to `to`, the bytes now being
        /// in `parts`. `None` when the upload is gone, complete or not at `from` (a
        /// concurrent writer moved it).
        write fn advance_upload(&self, id: &str, from: u64, to: u64, parts: Vec<String>) -> Option<Upload>
            [id = id.to_owned()] => advance(&id, from, to, &parts);
        /// Removes an upload (its file, if any, stays); true when it existed.
        write fn delete_upload(&self, id: &str) -> bool [id = id.to_owned()] => delete_upload(&id);
        /// Uploads whose expiry passed, oldest first.
        read fn expired_uploads(&self, now_ms: i64, limit: u32) -> Vec<Upload> => expired(now_ms, limit);
        /// Marks a blob in use now (inserting it when new). False while the collector is
        /// deleting it: wait for it to finish, then claim again.
        write fn claim_blob(&self, sha256: &str, size: u64, now_ms: i64) -> bool
            [sha = sha256.to_owned()] => claim_blob(&sha, size, now_ms);
        /// Turns a complete upload into a file (its blob claimed), once: a second call
        /// returns the file the first made.
        write fn complete_upload(&self, id: &str, file: NewFile) -> FileRecord
            [id = id.to_owned()] => complete(&id, &file);
        /// Reads a file.
        read fn file(&self, id: FileId) -> Option<FileRecord> => file(id);
        /// Reads files by id, skipping missing ones, in id order.
        read fn files(&self, ids: &[FileId]) -> Vec<FileRecord> [ids = ids.to_vec()] => files(&ids);
        /// Files still processing (after a restart), oldest first.
        read fn processing_files(&self, limit: u32) -> Vec<FileRecord> => processing(limit);
        /// Stores what processing learned and marks the file ready.
        write fn set_file_facts(&self, id: FileId, facts: FileFacts) -> Option<FileRecord>
            => set_facts(id, &facts);
        /// Conversations (and the seq of the message) where a message not deleted for
        /// everyone carries the file, at most `limit`.
        read fn file_carriers(&self, id: FileId, limit: u32) -> Vec<(ConversationId, u64)> => carriers(id, limit);
        /// Bytes a user's files and unfinished uploads take.
        read fn file_usage(&self, owner: UserId, now_ms: i64) -> u64 => usage(owner, now_ms);
        /// Removes a file record and the avatars that use it (its blob is collected once
        /// nothing uses it).
        write fn delete_file(&self, id: FileId) -> bool => delete_file(id);
        /// Blobs to collect: those marked deleting earlier (a collector stopped midway), then
        /// unused ones last used before `before_ms`, now marked deleting.
        write fn collectable_blobs(&self, before_ms: i64, limit: u32) -> Vec<String> => collectable(before_ms, limit);
        /// Forgets a blob marked deleting, once its bytes are gone.
        write fn drop_blob(&self, sha256: &str) -> () [sha = sha256.to_owned()] => drop_blob(&sha);
    }
}

const UPLOAD_COLS: &str = "id, owner_id, name, declared_mime, length, upload_offset, parts, declared_sha256, public, \
     file_id, created_at, expires_at, waveform";
const FILE_COLS: &str = "f.id, f.owner_id, f.name, f.mime, f.size, f.sha256, f.width, f.height, f.duration_ms, \
     f.blurhash, f.waveform, f.state, f.public, f.created_at";

fn upload_row(r: &dyn Row) -> StoreResult<Upload> {
    Ok(Upload {
        id: r.text("id")?,
        owner_id: UserId::from_raw(r.i64("owner_id")?),
        name: r.text("name")?,
        declared_mime: r.text("declared_mime")?,
        length: r.u64("length")?,
        offset: r.u64("upload_offset")?,
        parts: r.text("parts")?.split_whitespace().map(str::to_owned).collect(),
        declared_sha256: r.opt_text("declared_sha256")?,
        public: r.bool("public")?,
        file_id: r.opt_i64("file_id")?.map(FileId::from_raw),
        waveform: unhex(&r.text("waveform")?).ok_or_else(|| corrupt("waveform"))?,
        created_at_ms: r.i64("created_at")?,
        expires_at_ms: r.i64("expires_at")?,
    })
}

fn dimension(v: Option<i64>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

fn file_row(r: &dyn Row) -> StoreResult<FileRecord> {
    let state = r.text("state")?;
    let waveform = r.text("waveform")?;
    Ok(FileRecord {
        id: FileId::from_raw(r.i64("id")?),
        owner_id: UserId::from_raw(r.i64("owner_id")?),
        name: r.text("name")?,
        mime: r.text("mime")?,
        size: r.u64("size")?,
        sha256: r.text("sha256")?,
        width: dimension(r.opt_i64("width")?),
        height: dimension(r.opt_i64("height")?),
        duration_ms: r.opt_i64("duration_ms")?.map(|d| d.max(0) as u64),
        blurhash: r.opt_text("blurhash")?,
        waveform: unhex(&waveform).ok_or_else(|| corrupt("waveform"))?,
        thumbnails: Vec::new(),
        state: FileState::from_name(&state).ok_or_else(|| corrupt(format!("file state {state}")))?,
        public: r.bool("public")?,
        created_at_ms: r.i64("created_at")?,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Files with their thumbnails.
async fn with_thumbnails(tx: &impl Tx, mut files: Vec<FileRecord>) -> StoreResult<Vec<FileRecord>> {
    if files.is_empty() {
        return Ok(files);
    }
    let ids: Vec<i64> = files.iter().map(|f| f.id.raw()).collect();
    let sql = format!(
        "SELECT file_id, size, width, height, sha256, bytes, mime FROM thumbnails WHERE file_id {} \
         ORDER BY file_id, bytes",
        tx.dialect().any("?1")
    );
    let thumbs = tx
        .all(&sql, args![ids.as_slice()], |r| {
            Ok((
                r.i64("file_id")?,
                Thumbnail {
                    size: r.text("size")?,
                    width: r.u64("width")? as u32,
                    height: r.u64("height")? as u32,
                    sha256: r.text("sha256")?,
                    bytes: r.u64("bytes")?,
                    mime: r.text("mime")?,
                },
            ))
        })
        .await?;
    for (file_id, t) in thumbs {
        if let Some(f) = files.iter_mut().find(|f| f.id.raw() == file_id) {
            f.thumbnails.push(t);
        }
    }
    Ok(files)
}

async fn usage(tx: &impl Tx, owner: UserId, now_ms: i64) -> StoreResult<u64> {
    let files = tx
        .one(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS n FROM files WHERE owner_id = ?1",
            args![owner.raw()],
            first_i64,
        )
        .await?
        .unwrap_or(0);
    let pending = tx
        .one(
            "SELECT CAST(COALESCE(SUM(length), 0) AS BIGINT) AS n FROM uploads WHERE owner_id = ?1 AND file_id IS NULL \
             AND expires_at > ?2",
            args![owner.raw(), now_ms],
            first_i64,
        )
        .await?
        .unwrap_or(0);
    Ok((files.max(0) + pending.max(0)) as u64)
}

async fn create_upload(tx: &impl Tx, new: &NewUpload) -> StoreResult<CreatedUpload> {
    if let Some(quota) = new.quota {
        // Concurrent uploads of one owner queue here, so the sum they check is exact.
        tx.lock_row("users", new.owner_id.raw()).await?;
        let used = usage(tx, new.owner_id, new.now_ms).await?;
        if used.saturating_add(new.length) > quota {
            return Ok(CreatedUpload::OverQuota { used });
        }
    }
    let waveform = hex(&new.waveform);
    let sql = format!(
        "INSERT INTO uploads (id, owner_id, name, declared_mime, length, declared_sha256, public, created_at, \
         expires_at, waveform) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING {UPLOAD_COLS}"
    );
    let a = args![
        &new.id,
        new.owner_id.raw(),
        &new.name,
        &new.declared_mime,
        new.length,
        new.declared_sha256.as_ref(),
        new.public,
        new.now_ms,
        new.expires_at_ms,
        &waveform,
    ];
    let created = tx.one(&sql, a, upload_row).await.map_err(|e| match e {
        StoreError::NotFound(_) => StoreError::NotFound("user"),
        e => e,
    })?;
    created.map(CreatedUpload::Created).ok_or_else(|| corrupt("INSERT .. RETURNING gave no row"))
}

async fn upload(tx: &impl Tx, id: &str) -> StoreResult<Option<Upload>> {
    tx.one(&format!("SELECT {UPLOAD_COLS} FROM uploads WHERE id = ?1"), args![id], upload_row).await
}

async fn advance(tx: &impl Tx, id: &str, from: u64, to: u64, parts: &[String]) -> StoreResult<Option<Upload>> {
    let parts = parts.join(" ");
    let sql = format!(
        "UPDATE uploads SET upload_offset = ?3, parts = ?4 WHERE id = ?1 AND upload_offset = ?2 \
         AND file_id IS NULL AND ?3 <= length RETURNING {UPLOAD_COLS}"
    );
    tx.one(&sql, args![id, from, to, &parts], upload_row).await
}

async fn delete_upload(tx: &impl Tx, id: &str) -> StoreResult<bool> {
    Ok(tx.exec("DELETE FROM uploads WHERE id = ?1", args![id]).await? > 0)
}

async fn expired(tx: &impl Tx, now_ms: i64, limit: u32) -> StoreResult<Vec<Upload>> {
    let sql = format!("SELECT {UPLOAD_COLS} FROM uploads WHERE expires_at < ?1 ORDER BY expires_at LIMIT ?2");
    tx.all(&sql, args![now_ms, limit], upload_row).await
}

async fn claim_blob(tx: &impl Tx, sha: &str, size: u64, now_ms: i64) -> StoreResult<bool> {
    let claimed = tx
        .one(
            "INSERT INTO blobs (sha256, size, used_at) VALUES (?1, ?2, ?3) ON CONFLICT (sha256) \
             DO UPDATE SET used_at = excluded.used_at WHERE NOT blobs.deleting RETURNING size",
            args![sha, size, now_ms],
            first_i64,
        )
        .await?;
    Ok(claimed.is_some())
}

async fn complete(tx: &impl Tx, id: &str, new: &NewFile) -> StoreResult<FileRecord> {
    let up = upload(tx, id).await?.ok_or(StoreError::NotFound("upload"))?;
    if let Some(done) = up.file_id {
        return file(tx, done).await?.ok_or(StoreError::NotFound("file"));
    }
    let live = tx
        .exec("UPDATE blobs SET used_at = ?2 WHERE sha256 = ?1 AND NOT deleting", args![&new.sha256, new.now_ms])
        .await?;
    if live == 0 {
        return Err(StoreError::Conflict("blob"));
    }
    let sql = format!(
        "INSERT INTO files (owner_id, name, mime, size, sha256, state, public, created_at, waveform) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING {}",
        FILE_COLS.replace("f.", "")
    );
    let waveform = hex(&up.waveform);
    let a = args![
        up.owner_id.raw(),
        &new.name,
        &new.mime,
        new.size,
        &new.sha256,
        new.state.name(),
        up.public,
        new.now_ms,
        &waveform,
    ];
    let f = tx.one(&sql, a, file_row).await?.ok_or_else(|| corrupt("INSERT .. RETURNING gave no row"))?;
    tx.exec("UPDATE uploads SET file_id = ?2, upload_offset = length WHERE id = ?1", args![id, f.id.raw()]).await?;
    Ok(f)
}

async fn file(tx: &impl Tx, id: FileId) -> StoreResult<Option<FileRecord>> {
    Ok(files(tx, &[id]).await?.pop())
}

async fn files(tx: &impl Tx, ids: &[FileId]) -> StoreResult<Vec<FileRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<i64> = ids.iter().map(|f| f.raw()).collect();
    let sql = format!("SELECT {FILE_COLS} FROM files f WHERE f.id {} ORDER BY f.id", tx.dialect().any("?1"));
    let found = tx.all(&sql, args![raw.as_slice()], file_row).await?;
    with_thumbnails(tx, found).await
}

async fn processing(tx: &impl Tx, limit: u32) -> StoreResult<Vec<FileRecord>> {
    let sql = format!("SELECT {FILE_COLS} FROM files f WHERE f.state = 'processing' ORDER BY f.id LIMIT ?1");
    let found = tx.all(&sql, args![limit], file_row).await?;
    with_thumbnails(tx, found).await
}

async fn set_facts(tx: &impl Tx, id: FileId, facts: &FileFacts) -> StoreResult<Option<FileRecord>> {
    let changed = tx
        .exec(
            "UPDATE files SET width = ?2, height = ?3, duration_ms = ?4, blurhash = ?5, waveform = ?6, \
             state = 'ready' WHERE id = ?1",
            args![
                id.raw(),
                facts.width,
                facts.height,
                facts.duration_ms,
                facts.blurhash.as_ref(),
                &hex(&facts.waveform),
            ],
        )
        .await?;
    if changed == 0 {
        return Ok(None);
    }
    tx.exec("DELETE FROM thumbnails WHERE file_id = ?1", args![id.raw()]).await?;
    for t in &facts.thumbnails {
        tx.exec(
            "INSERT INTO thumbnails (file_id, size, width, height, sha256, bytes, mime) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            args![id.raw(), &t.size, t.width, t.height, &t.sha256, t.bytes, &t.mime],
        )
        .await?;
    }
    file(tx, id).await
}

async fn carriers(tx: &impl Tx, id: FileId, limit: u32) -> StoreResult<Vec<(ConversationId, u64)>> {
    tx.all(
        "SELECT mf.conversation_id, mf.seq FROM message_files mf JOIN messages msg \
         ON msg.conversation_id = mf.conversation_id AND msg.seq = mf.seq \
         WHERE mf.file_id = ?1 AND msg.kind = ?2 ORDER BY mf.conversation_id, mf.seq LIMIT ?3",
        args![id.raw(), rows::KIND_TEXT, limit],
        |r| Ok((ConversationId::from_raw(r.i64("conversation_id")?), r.u64("seq")?)),
    )
    .await
}

async fn delete_file(tx: &impl Tx, id: FileId) -> StoreResult<bool> {
    tx.exec("UPDATE users SET avatar_file_id = NULL WHERE avatar_file_id = ?1", args![id.raw()]).await?;
    tx.exec("UPDATE conversations SET avatar_file_id = NULL WHERE avatar_file_id = ?1", args![id.raw()]).await?;
    tx.exec("DELETE FROM thumbnails WHERE file_id = ?1", args![id.raw()]).await?;
    Ok(tx.exec("DELETE FROM files WHERE id = ?1", args![id.raw()]).await? > 0)
}

async fn collectable(tx: &impl Tx, before_ms: i64, limit: u32) -> StoreResult<Vec<String>> {
    let text = |r: &dyn Row| r.text("sha256");
    let mut out =
        tx.all("SELECT sha256 FROM blobs WHERE deleting ORDER BY sha256 LIMIT ?1", args![limit], text).await?;
    let room = limit.saturating_sub(out.len() as u32);
    if room > 0 {
        let marked = tx
            .all(
                "UPDATE blobs SET deleting = TRUE WHERE sha256 IN (SELECT b.sha256 FROM blobs b \
                 WHERE NOT b.deleting AND b.used_at < ?1 \
                 AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256) \
                 AND NOT EXISTS (SELECT 1 FROM thumbnails t WHERE t.sha256 = b.sha256) LIMIT ?2) RETURNING sha256",
                args![before_ms, room],
                text,
            )
            .await?;
        out.extend(marked);
    }
    Ok(out)
}

async fn drop_blob(tx: &impl Tx, sha: &str) -> StoreResult<()> {
    tx.exec("DELETE FROM blobs WHERE sha256 = ?1 AND deleting", args![sha]).await?;
    Ok(())
}

/// Records that the message at `seq` carries these files (in the message's transaction).
pub(crate) async fn carry(tx: &impl Tx, id: ConversationId, seq: u64, files: &[FileId]) -> StoreResult<()> {
    for f in files {
        tx.exec(
            "INSERT INTO message_files (file_id, conversation_id, seq) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            args![f.raw(), id.raw(), seq],
        )
        .await?;
    }
    Ok(())
}
