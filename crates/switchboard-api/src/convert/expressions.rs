//! Sticker packs and custom emoji on the wire.

use switchboard_core::expressions::{CustomEmoji, StickerPack};
use switchboard_proto::v1 as pb;

/// A sticker pack on the wire.
pub fn sticker_pack(p: &StickerPack) -> pb::StickerPack {
    pb::StickerPack {
        id: p.id.to_string(),
        space_id: p.space_id.map(|s| s.to_string()).unwrap_or_default(),
        name: p.name.clone(),
        stickers: p
            .stickers
            .iter()
            .map(|s| pb::PackSticker {
                id: s.id.to_string(),
                emoji: s.emoji.clone(),
                file_id: s.image.file_id.to_string(),
                file: s.image.file.as_deref().map(super::file),
            })
            .collect(),
        created_by: p.created_by.to_string(),
        created_at_ms: p.created_at_ms,
        version: p.version,
    }
}

/// A custom emoji on the wire.
pub fn custom_emoji(e: &CustomEmoji) -> pb::CustomEmoji {
    pb::CustomEmoji {
        id: e.id.to_string(),
        space_id: e.space_id.to_string(),
        name: e.name.clone(),
        file_id: e.image.file_id.to_string(),
        file: e.image.file.as_deref().map(super::file),
        created_by: e.created_by.to_string(),
        created_at_ms: e.created_at_ms,
    }
}
