//! FileService handlers.

use switchboard_core::FileId;
use switchboard_proto::v1 as pb;
use switchboard_service::{ServiceError, ServiceResult, UploadSpec, Variant};

use super::{Ctx, Handlers};
use crate::convert;

/// Most ids per GetFiles call.
const MAX_FILES: usize = 100;

fn file_id(s: &str) -> ServiceResult<FileId> {
    Ok(FileId::parse(s, "file_id")?)
}

impl super::FileService for Handlers {
    async fn create_upload(ctx: Ctx, r: pb::CreateUploadRequest) -> ServiceResult<pb::CreateUploadResponse> {
        let p = ctx.principal().await?;
        let spec = UploadSpec {
            name: r.name,
            length: r.length,
            mime: r.mime,
            sha256: Some(r.sha256).filter(|s| !s.is_empty()),
            public: r.public,
            waveform: r.waveform,
        };
        let up = ctx.services.create_upload(&p, spec).await?;
        Ok(pb::CreateUploadResponse { upload: Some(convert::upload(&up, None)) })
    }

    async fn get_upload(ctx: Ctx, r: pb::GetUploadRequest) -> ServiceResult<pb::GetUploadResponse> {
        let p = ctx.principal().await?;
        let up = ctx.services.upload_status(&p, &r.upload_id).await?;
        let file = match up.file_id {
            Some(id) => Some(ctx.services.file(&p, id).await?),
            None => None,
        };
        Ok(pb::GetUploadResponse { upload: Some(convert::upload(&up, file.as_ref())) })
    }

    async fn cancel_upload(ctx: Ctx, r: pb::CancelUploadRequest) -> ServiceResult<pb::CancelUploadResponse> {
        let p = ctx.principal().await?;
        ctx.services.cancel_upload(&p, &r.upload_id).await?;
        Ok(pb::CancelUploadResponse {})
    }

    async fn get_files(ctx: Ctx, r: pb::GetFilesRequest) -> ServiceResult<pb::GetFilesResponse> {
        let p = ctx.principal().await?;
        if r.file_ids.len() > MAX_FILES {
            return Err(ServiceError::invalid("file_ids", format!("at most {MAX_FILES} ids")));
        }
        let ids = convert::ids(&r.file_ids, "file_ids", FileId::parse)?;
        let files = ctx.services.readable_files(&p, &ids).await?;
        Ok(pb::GetFilesResponse { files: files.iter().map(convert::file).collect() })
    }

    async fn get_download_url(ctx: Ctx, r: pb::GetDownloadUrlRequest) -> ServiceResult<pb::GetDownloadUrlResponse> {
        let p = ctx.principal().await?;
        let variant = if r.thumbnail.is_empty() { Variant::Original } else { Variant::Thumbnail(r.thumbnail) };
        let (url, expires_at_ms) = ctx.services.download_url(&p, file_id(&r.file_id)?, variant).await?;
        Ok(pb::GetDownloadUrlResponse { url, expires_at_ms })
    }

    async fn delete_file(ctx: Ctx, r: pb::DeleteFileRequest) -> ServiceResult<pb::DeleteFileResponse> {
        let p = ctx.principal().await?;
        ctx.services.delete_file(&p, file_id(&r.file_id)?).await?;
        Ok(pb::DeleteFileResponse {})
    }
}
