//! Processing off the request path: previews, blurhash and dimensions of images, with
//! bounded concurrency; a `FileReady` event when done. Files left processing by a restart
//! are picked up again at start. Collection of expired uploads and unused blobs runs here
//! too.

use std::time::Duration;

use bytes::Bytes;
use switchboard_blob::BlobId;
use switchboard_core::event::Event;
use switchboard_core::model::{FileRecord, Thumbnail};
use switchboard_store::FileFacts;

use crate::{ServiceResult, Services};

/// Files picked up again per batch at start.
const RESUME_BATCH: u32 = 1000;
/// Uploads and blobs collected per round.
const COLLECT_BATCH: u32 = 500;

impl Services {
    /// Queues a file for processing; it runs once a worker is free.
    pub(crate) fn queue_processing(&self, file: FileRecord) {
        let services = self.clone();
        tokio::spawn(async move {
            let Ok(_permit) = services.files().workers.acquire().await else { return };
            let started = std::time::Instant::now();
            match services.process(&file).await {
                Ok(()) => {
                    metrics::histogram!("switchboard_file_processing_seconds").record(started.elapsed().as_secs_f64())
                }
                Err(e) => tracing::warn!(file = %file.id, error = %e.message, "file processing failed"),
            }
        });
    }

    async fn process(&self, file: &FileRecord) -> ServiceResult<()> {
        let cfg = &self.config().files;
        let blob = BlobId::parse(&file.sha256).ok_or_else(|| crate::ServiceError::internal("invalid blob id"))?;
        let bytes =
            self.files().blobs.get_bytes(&blob).await.map_err(|e| crate::ServiceError::internal(e.to_string()))?;
        let mime = file.mime.clone();
        let options = switchboard_media::ImageOptions {
            max_pixels: cfg.max_image_pixels,
            ..switchboard_media::ImageOptions::default()
        };
        let public = file.public;
        let max_pixels = cfg.max_image_pixels;
        if switchboard_media::is_probed_av(&mime) {
            let av = tokio::task::spawn_blocking(move || switchboard_media::probe_av(&bytes, &mime))
                .await
                .map_err(|e| crate::ServiceError::internal(format!("probe task: {e}")))?;
            let facts = FileFacts {
                width: av.width,
                height: av.height,
                duration_ms: av.duration_ms,
                waveform: file.waveform.clone(),
                ..FileFacts::default()
            };
            return self.finish_processing(file, facts).await;
        }
        let decoded = tokio::task::spawn_blocking(move || {
            let facts = switchboard_media::process_image(&bytes, &mime, &options)?;
            let avatar =
                if public { Some(switchboard_media::square_preview(&bytes, &mime, 256, max_pixels)?) } else { None };
            Ok::<_, switchboard_media::MediaError>((facts, avatar))
        })
        .await
        .map_err(|e| crate::ServiceError::internal(format!("processing task: {e}")))?;
        let mut facts = FileFacts { waveform: file.waveform.clone(), ..FileFacts::default() };
        match decoded {
            Ok((image, avatar)) => {
                facts.width = Some(image.width);
                facts.height = Some(image.height);
                facts.blurhash = Some(image.blurhash);
                for preview in image.previews.into_iter().chain(avatar) {
                    facts.thumbnails.push(self.store_preview(preview).await?);
                }
            }
            // Unreadable images stay files without previews.
            Err(e) => tracing::info!(file = %file.id, error = %e, "no previews for this file"),
        }
        self.finish_processing(file, facts).await
    }

    /// Stores what processing learned, and tells the uploader and the carrying conversations.
    async fn finish_processing(&self, file: &FileRecord, facts: FileFacts) -> ServiceResult<()> {
        let Some(ready) = self.store().set_file_facts(file.id, facts).await? else { return Ok(()) };
        let mut shared_with: Vec<_> =
            self.store().file_carriers(file.id, 100).await?.into_iter().map(|(c, _)| c).collect();
        shared_with.dedup();
        self.publish(switchboard_bus::Topic::Broadcast, Event::FileReady { file: ready, shared_with });
        Ok(())
    }

    async fn store_preview(&self, p: switchboard_media::Preview) -> ServiceResult<Thumbnail> {
        let id = BlobId::of(&p.bytes);
        let bytes = p.bytes.len() as u64;
        self.claim(&id, bytes).await?;
        self.files()
            .blobs
            .put_bytes(Bytes::from(p.bytes))
            .await
            .map_err(|e| crate::ServiceError::internal(e.to_string()))?;
        Ok(Thumbnail {
            size: p.size,
            width: p.width,
            height: p.height,
            sha256: id.hex(),
            bytes,
            mime: p.mime.to_owned(),
        })
    }

    /// Picks up files a restart left processing, and starts the collector.
    pub(crate) fn start_files(&self) {
        let services = self.clone();
        tokio::spawn(async move {
            match services.store().processing_files(RESUME_BATCH).await {
                Ok(files) => {
                    for f in files {
                        services.queue_processing(f);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not list files left processing"),
            }
        });
        let every = self.config().files.collect_interval_secs;
        if every == 0 {
            return;
        }
        let weak = std::sync::Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(every));
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let services = Services { inner };
                if let Err(e) = services.collect_files().await {
                    tracing::warn!(error = %e.message, "file collection failed");
                }
            }
        });
    }

    /// Removes expired uploads with their parts, then blobs nobody used for the grace
    /// period; returns how many of each went.
    pub async fn collect_files(&self) -> ServiceResult<(u64, u64)> {
        let now = self.now_ms();
        let mut uploads = 0;
        for up in self.store().expired_uploads(now, COLLECT_BATCH).await? {
            self.drop_upload(&up.id).await?;
            uploads += 1;
        }
        let grace = (self.config().files.blob_grace_secs * 1000) as i64;
        let blobs = &self.files().blobs;
        let mut gone = 0;
        for sha in self.store().collectable_blobs(now - grace, COLLECT_BATCH).await? {
            if let Some(id) = BlobId::parse(&sha) {
                blobs.delete(&id).await.map_err(|e| crate::ServiceError::internal(e.to_string()))?;
            }
            self.store().drop_blob(&sha).await?;
            gone += 1;
        }
        let grace = Duration::from_secs(self.config().files.blob_grace_secs);
        let _ = blobs.collect_incoming(grace).await;
        if uploads + gone > 0 {
            tracing::info!(uploads, blobs = gone, "collected expired uploads and unused blobs");
        }
        Ok((uploads, gone))
    }
}
