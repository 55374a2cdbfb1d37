//! The blob store: the bytes of files, addressed by their SHA-256 so that the same bytes
//! are stored once, streamed in and out in bounded memory whatever their size.
//!
//! One implementation over [`object_store`] serves both engines: the data directory
//! (`object_store`'s local file system, the embedded default) and any S3-compatible store
//! (MinIO, Garage, Ceph, AWS) for cluster mode. `tests/conformance.rs` holds both to the
//! same contract.
//!
//! Layout inside the store (or the S3 key prefix): `blobs/ab/cd/<sha256 hex>` for stored
//! blobs, `incoming/<random>` for bytes still arriving (renamed into place once their hash
//! is known and checked; leftovers from a crash are removed by [`BlobStore::collect_incoming`]),
//! `uploads/<upload id>/<part id>` for the parts of a resumable upload (each request's
//! bytes one part, under a random id so that concurrent writers never share one; joined
//! into a blob when the upload completes).

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};

/// Bytes as they stream; errors end the stream.
pub type ByteStream = BoxStream<'static, Result<Bytes, BlobError>>;

/// Parts written to S3 (and buffered in memory) at a time: 8 MiB, above S3's 5 MiB minimum.
const PART_BYTES: usize = 8 << 20;
/// Parts in flight at once per upload: with [`PART_BYTES`], at most ~16 MiB buffered.
const PARTS_IN_FLIGHT: usize = 2;

/// Bytes read from a file per step of a download.
const READ_BYTES: u64 = 256 << 10;

/// The bytes of `range` of `file`, read off the async threads in [`READ_BYTES`] steps.
fn file_stream(file: std::fs::File, range: Range<u64>) -> ByteStream {
    use std::io::{Read, Seek, SeekFrom};
    let state = (Some(file), range.start, range.end);
    futures_util::stream::try_unfold(state, |(file, at, end)| async move {
        let Some(mut file) = file.filter(|_| at < end) else { return Ok(None) };
        let step = (end - at).min(READ_BYTES);
        let (file, buf) = tokio::task::spawn_blocking(move || {
            file.seek(SeekFrom::Start(at))?;
            let mut buf = Vec::with_capacity(step as usize);
            (&mut file).take(step).read_to_end(&mut buf)?;
            Ok::<_, std::io::Error>((file, buf))
        })
        .await
        .map_err(|e| BlobError::Backend(format!("read task: {e}")))?
        .map_err(|e| BlobError::Backend(format!("read: {e}")))?;
        if buf.is_empty() {
            return Err(BlobError::Backend("the blob ended early".into()));
        }
        let next = at + buf.len() as u64;
        Ok(Some((Bytes::from(buf), (Some(file), next, end))))
    })
    .boxed()
}

/// An upload or part id as a key segment: 1-64 ASCII letters and digits (never a path).
fn check_upload_id(id: &str) -> BlobResult<&str> {
    if (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(BlobError::Backend(format!("invalid upload id {id:?}")))
    }
}

/// A blob's address: the SHA-256 of its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub [u8; 32]);

impl BlobId {
    /// The address of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Lower-case hex, 64 characters.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hex characters.
    pub fn parse(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }

    fn key(&self, root: &str) -> Key {
        let h = self.hex();
        Key::from(format!("{root}blobs/{}/{}/{h}", &h[0..2], &h[2..4]))
    }
}

impl std::fmt::Debug for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobId({})", self.hex())
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Why a blob operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// No blob with that address.
    #[error("blob not found")]
    NotFound,
    /// The bytes did not hash to what the writer declared; nothing was stored.
    #[error("checksum mismatch: declared {declared}, received {received}")]
    Mismatch {
        /// What the writer said.
        declared: BlobId,
        /// What arrived.
        received: BlobId,
    },
    /// More bytes than the writer's limit; nothing was stored.
    #[error("more than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The range starts at or beyond the end of the blob.
    #[error("range not satisfiable: the blob has {size} bytes")]
    RangeNotSatisfiable {
        /// The blob's size.
        size: u64,
    },
    /// The stream being stored failed (the client went away, say).
    #[error("the incoming stream failed: {0}")]
    Incoming(String),
    /// The storage failed; the text is for logs.
    #[error("blob storage error: {0}")]
    Backend(String),
}

/// Result of a blob operation.
pub type BlobResult<T> = Result<T, BlobError>;

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound,
            other => BlobError::Backend(other.to_string()),
        }
    }
}

/// A stored blob: its address and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// The SHA-256 of the bytes.
    pub id: BlobId,
    /// Bytes.
    pub size: u64,
    /// False when the same bytes were stored before (this copy was dropped).
    pub new: bool,
}

/// Where an S3-compatible store is and how to sign for it (the `[files.s3]` settings).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct S3Options {
    /// Endpoint URL (`https://s3.eu-west-1.amazonaws.com`, `http://minio:9000`).
    pub endpoint: String,
    /// Bucket (it must exist).
    pub bucket: String,
    /// Region (any value for stores that ignore it).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (`config show` prints ***).
    pub secret_access_key: String,
    /// Key prefix inside the bucket (`switchboard/`), so one bucket can serve several
    /// installations; empty for the bucket's root.
    pub prefix: String,
}

/// The blob store. Cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Key prefix ending in `/`, or empty.
    root: String,
    engine: &'static str,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({}, {:?})", self.engine, self.root)
    }
}

impl BlobStore {
    /// Blobs as files under `dir` (created if missing).
    pub fn filesystem(dir: &Path) -> BlobResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| BlobError::Backend(format!("create {}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self { store: Arc::new(fs), root: String::new(), engine: "filesystem" })
    }

    /// Blobs in an S3-compatible bucket. Plain `http://` endpoints are allowed (a store on
    /// the local network); path-style requests, which every S3-compatible store accepts.
    pub fn s3(options: &S3Options) -> BlobResult<Self> {
        let s3 = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&options.endpoint)
            .with_bucket_name(&options.bucket)
            .with_region(if options.region.is_empty() { "us-east-1" } else { &options.region })
            .with_access_key_id(&options.access_key_id)
            .with_secret_access_key(&options.secret_access_key)
            .with_allow_http(options.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()?;
        let root = options.prefix.trim_matches('/');
        let root = if root.is_empty() { String::new() } else { format!("{root}/") };
        Ok(Self { store: Arc::new(s3), root, engine: "s3" })
    }

    /// `filesystem` or `s3`.
    pub fn engine(&self) -> &'static str {
        self.engine
    }

    /// Stores the bytes of `data`, hashing them as they pass, in bounded memory. With
    /// `declared`, bytes that hash otherwise are refused ([`BlobError::Mismatch`]); more
    /// than `limit` bytes are refused ([`BlobError::TooLarge`]) as soon as they arrive.
    /// Either way nothing is stored. Bytes stored before are kept once.
    pub async fn put(&self, mut data: ByteStream, declared: Option<BlobId>, limit: u64) -> BlobResult<Stored> {
        let incoming = Key::from(format!("{}incoming/{:032x}", self.root, rand::random::<u128>()));
        let upload = self.store.put_multipart(&incoming).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let failed = loop {
            let chunk = match data.next().await {
                None => break None,
                Some(Ok(c)) => c,
                Some(Err(e)) => break Some(e),
            };
            size += chunk.len() as u64;
            if size > limit {
                break Some(BlobError::TooLarge { limit });
            }
            hasher.update(&chunk);
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                break Some(e.into());
            }
            writer.put(chunk);
        };
        if let Some(e) = failed {
            let _ = writer.abort().await;
            return Err(e);
        }
        let id = BlobId(hasher.finalize().into());
        if let Some(declared) = declared.filter(|d| *d != id) {
            let _ = writer.abort().await;
            return Err(BlobError::Mismatch { declared, received: id });
        }
        writer.finish().await?;
        let target = id.key(&self.root);
        let new = match self.store.head(&target).await {
            Ok(_) => false,
            Err(object_store::Error::NotFound { .. }) => true,
            Err(e) => {
                let _ = self.store.delete(&incoming).await;
                return Err(e.into());
            }
        };
        if new {
            // Content-addressed: a concurrent writer of the same bytes renames the same
            // bytes onto the same key, so the race is harmless.
            self.store.rename(&incoming, &target).await?;
        } else {
            self.store.delete(&incoming).await?;
        }
        Ok(Stored { id, size, new })
    }

    /// Stores one part of a resumable upload: the bytes of `data` up to `limit` (more is
    /// [`BlobError::TooLarge`], and nothing is kept). When the stream fails midway (the
    /// client went away) the bytes that did arrive are kept: the result is then the count
    /// kept and the stream's error. `each` sees every chunk stored, in order. Writing a part
    /// again replaces it.
    pub async fn put_part(
        &self,
        upload: &str,
        part: &str,
        mut data: ByteStream,
        limit: u64,
        mut each: impl FnMut(&Bytes) + Send,
    ) -> BlobResult<(u64, Option<BlobError>)> {
        let key = self.part_key(upload, part)?;
        let upload = self.store.put_multipart(&key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut size = 0u64;
        let mut broke = None;
        loop {
            let chunk = match data.next().await {
                None => break,
                Some(Ok(c)) => c,
                Some(Err(e)) => {
                    broke = Some(e);
                    break;
                }
            };
            if size + chunk.len() as u64 > limit {
                let _ = writer.abort().await;
                return Err(BlobError::TooLarge { limit });
            }
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(e.into());
            }
            size += chunk.len() as u64;
            each(&chunk);
            writer.put(chunk);
        }
        writer.finish().await?;
        Ok((size, broke))
    }

    /// The bytes of an upload's `parts`, in order, streamed.
    pub fn parts(&self, upload: &str, parts: &[String]) -> BlobResult<ByteStream> {
        let keys = parts.iter().map(|p| self.part_key(upload, p)).collect::<BlobResult<Vec<_>>>()?;
        let store = self.store.clone();
        Ok(futures_util::stream::iter(keys)
            .then(move |key| {
                let store = store.clone();
                async move { store.get(&key).await.map(|g| g.into_stream().map_err(BlobError::from)) }
            })
            .map_err(BlobError::from)
            .try_flatten()
            .boxed())
    }

    /// Joins an upload's `parts` into the blob `id` (a single part is moved into place;
    /// several are copied through, checked against `id`) and removes every part.
    pub async fn join_parts(&self, upload: &str, parts: &[String], id: BlobId, size: u64) -> BlobResult<Stored> {
        let target = id.key(&self.root);
        let exists = self.size(&id).await?.is_some();
        let stored = if exists {
            Stored { id, size, new: false }
        } else if let [only] = parts {
            self.store.rename(&self.part_key(upload, only)?, &target).await?;
            Stored { id, size, new: true }
        } else if parts.is_empty() {
            self.put_bytes(Bytes::new()).await?
        } else {
            self.put(self.parts(upload, parts)?, Some(id), size).await?
        };
        self.delete_parts(upload).await?;
        Ok(stored)
    }

    /// Removes every part of an upload.
    pub async fn delete_parts(&self, upload: &str) -> BlobResult<()> {
        let prefix = Key::from(format!("{}uploads/{}", self.root, check_upload_id(upload)?));
        let keys: Vec<Key> = self.store.list(Some(&prefix)).map_ok(|m| m.location).try_collect().await?;
        for key in &keys {
            match self.store.delete(key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Removes one part (a request whose bytes were refused).
    pub async fn delete_part(&self, upload: &str, part: &str) -> BlobResult<()> {
        match self.store.delete(&self.part_key(upload, part)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn part_key(&self, upload: &str, part: &str) -> BlobResult<Key> {
        Ok(Key::from(format!("{}uploads/{}/{}", self.root, check_upload_id(upload)?, check_upload_id(part)?)))
    }

    /// Stores `bytes` (a convenience for small blobs).
    pub async fn put_bytes(&self, bytes: Bytes) -> BlobResult<Stored> {
        let limit = bytes.len() as u64;
        self.put(futures_util::stream::once(async move { Ok(bytes) }).boxed(), None, limit).await
    }

    /// The blob's size, or `None` when it is not stored.
    pub async fn size(&self, id: &BlobId) -> BlobResult<Option<u64>> {
        match self.store.head(&id.key(&self.root)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The blob's bytes, or those of `range` (clamped to the end; a range starting at or
    /// after the end is [`BlobError::RangeNotSatisfiable`]), streamed.
    pub async fn get(&self, id: &BlobId, range: Option<Range<u64>>) -> BlobResult<ByteStream> {
        let key = id.key(&self.root);
        let range = match range {
            None => None,
            Some(r) => {
                let size = self.size(id).await?.ok_or(BlobError::NotFound)?;
                if r.start >= size || r.start >= r.end {
                    return Err(BlobError::RangeNotSatisfiable { size });
                }
                Some(GetRange::Bounded(r.start..r.end.min(size)))
            }
        };
        let got = self.store.get_opts(&key, GetOptions { range, ..GetOptions::default() }).await?;
        match got.payload {
            // object_store reads files 8 KiB per blocking task; larger reads keep a
            // download at disk speed.
            object_store::GetResultPayload::File(file, _) => Ok(file_stream(file, got.range)),
            object_store::GetResultPayload::Stream(s) => Ok(s.map_err(BlobError::from).boxed()),
        }
    }

    /// Reads a whole blob into memory (a convenience for small blobs and tests).
    pub async fn get_bytes(&self, id: &BlobId) -> BlobResult<Vec<u8>> {
        let mut out = Vec::new();
        let mut s = self.get(id, None).await?;
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    /// Removes a blob; removing one that is not there is not an error.
    pub async fn delete(&self, id: &BlobId) -> BlobResult<()> {
        match self.store.delete(&id.key(&self.root)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every stored blob, for the collector of unreferenced blobs.
    pub fn list(&self) -> BoxStream<'static, BlobResult<BlobId>> {
        let prefix = Key::from(format!("{}blobs", self.root));
        let store = self.store.clone();
        futures_util::stream::once(async move { store.list(Some(&prefix)) })
            .flatten()
            .filter_map(|m| async move {
                match m {
                    Ok(meta) => meta.location.filename().and_then(BlobId::parse).map(Ok),
                    Err(e) => Some(Err(e.into())),
                }
            })
            .boxed()
    }

    /// Removes incoming bytes older than `age` (left by a crash mid-write); returns how
    /// many were removed.
    pub async fn collect_incoming(&self, age: Duration) -> BlobResult<u64> {
        let prefix = Key::from(format!("{}incoming", self.root));
        let cutoff = SystemTime::now() - age;
        let stale: Vec<Key> = self
            .store
            .list(Some(&prefix))
            .try_filter_map(|m| async move { Ok((SystemTime::from(m.last_modified) < cutoff).then_some(m.location)) })
            .try_collect()
            .await?;
        for key in &stale {
            match self.store.delete(key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(stale.len() as u64)
    }

    /// Whether the store answers (for readiness).
    pub async fn check(&self) -> BlobResult<()> {
        let prefix = Key::from(format!("{}blobs", self.root));
        let mut listing = self.store.list(Some(&prefix));
        match listing.next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.into()),
        }
    }
}
