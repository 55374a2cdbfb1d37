//! ExpressionService handlers.

use switchboard_core::{ConversationId, CustomEmojiId, FileId, StickerId, StickerPackId};
use switchboard_proto::v1 as pb;
use switchboard_service::ServiceResult;

use super::{Ctx, Handlers};
use crate::convert;

fn pack_id(s: &str) -> ServiceResult<StickerPackId> {
    Ok(StickerPackId::parse(s, "pack_id")?)
}

fn space_id(s: &str) -> ServiceResult<ConversationId> {
    Ok(ConversationId::parse(s, "space_id")?)
}

impl super::ExpressionService for Handlers {
    async fn create_sticker_pack(
        ctx: Ctx,
        r: pb::CreateStickerPackRequest,
    ) -> ServiceResult<pb::CreateStickerPackResponse> {
        let p = ctx.principal().await?;
        let space = ConversationId::parse_opt(&r.space_id, "space_id")?;
        let pack = ctx.services.create_sticker_pack(&p, space, &r.name).await?;
        Ok(pb::CreateStickerPackResponse { pack: Some(convert::sticker_pack(&pack)) })
    }

    async fn get_sticker_pack(ctx: Ctx, r: pb::GetStickerPackRequest) -> ServiceResult<pb::GetStickerPackResponse> {
        let p = ctx.principal().await?;
        let pack = ctx.services.sticker_pack(&p, pack_id(&r.pack_id)?).await?;
        Ok(pb::GetStickerPackResponse { pack: Some(convert::sticker_pack(&pack)) })
    }

    async fn list_sticker_packs(
        ctx: Ctx,
        r: pb::ListStickerPacksRequest,
    ) -> ServiceResult<pb::ListStickerPacksResponse> {
        let p = ctx.principal().await?;
        let space = ConversationId::parse_opt(&r.space_id, "space_id")?;
        let packs = ctx.services.sticker_packs(&p, space).await?;
        Ok(pb::ListStickerPacksResponse { packs: packs.iter().map(convert::sticker_pack).collect() })
    }

    async fn rename_sticker_pack(
        ctx: Ctx,
        r: pb::RenameStickerPackRequest,
    ) -> ServiceResult<pb::RenameStickerPackResponse> {
        let p = ctx.principal().await?;
        let pack = ctx.services.rename_sticker_pack(&p, pack_id(&r.pack_id)?, &r.name).await?;
        Ok(pb::RenameStickerPackResponse { pack: Some(convert::sticker_pack(&pack)) })
    }

    async fn add_sticker(ctx: Ctx, r: pb::AddStickerRequest) -> ServiceResult<pb::AddStickerResponse> {
        let p = ctx.principal().await?;
        let file = FileId::parse(&r.file_id, "file_id")?;
        let (pack, sticker) = ctx.services.add_sticker(&p, pack_id(&r.pack_id)?, file, &r.emoji).await?;
        Ok(pb::AddStickerResponse { pack: Some(convert::sticker_pack(&pack)), sticker_id: sticker.to_string() })
    }

    async fn remove_sticker(ctx: Ctx, r: pb::RemoveStickerRequest) -> ServiceResult<pb::RemoveStickerResponse> {
        let p = ctx.principal().await?;
        let sticker = StickerId::parse(&r.sticker_id, "sticker_id")?;
        let pack = ctx.services.remove_sticker(&p, pack_id(&r.pack_id)?, sticker).await?;
        Ok(pb::RemoveStickerResponse { pack: Some(convert::sticker_pack(&pack)) })
    }

    async fn delete_sticker_pack(
        ctx: Ctx,
        r: pb::DeleteStickerPackRequest,
    ) -> ServiceResult<pb::DeleteStickerPackResponse> {
        let p = ctx.principal().await?;
        ctx.services.delete_sticker_pack(&p, pack_id(&r.pack_id)?).await?;
        Ok(pb::DeleteStickerPackResponse {})
    }

    async fn add_custom_emoji(ctx: Ctx, r: pb::AddCustomEmojiRequest) -> ServiceResult<pb::AddCustomEmojiResponse> {
        let p = ctx.principal().await?;
        let file = FileId::parse(&r.file_id, "file_id")?;
        let emoji = ctx.services.add_custom_emoji(&p, space_id(&r.space_id)?, &r.name, file).await?;
        Ok(pb::AddCustomEmojiResponse { emoji: Some(convert::custom_emoji(&emoji)) })
    }

    async fn remove_custom_emoji(
        ctx: Ctx,
        r: pb::RemoveCustomEmojiRequest,
    ) -> ServiceResult<pb::RemoveCustomEmojiResponse> {
        let p = ctx.principal().await?;
        let id = CustomEmojiId::parse(&r.custom_emoji_id, "custom_emoji_id")?;
        ctx.services.remove_custom_emoji(&p, space_id(&r.space_id)?, id).await?;
        Ok(pb::RemoveCustomEmojiResponse {})
    }

    async fn list_custom_emoji(ctx: Ctx, r: pb::ListCustomEmojiRequest) -> ServiceResult<pb::ListCustomEmojiResponse> {
        let p = ctx.principal().await?;
        let emoji = ctx.services.custom_emoji(&p, space_id(&r.space_id)?).await?;
        Ok(pb::ListCustomEmojiResponse { emoji: emoji.iter().map(convert::custom_emoji).collect() })
    }
}
