//! Format 1 of sticker packs, custom emoji and sticker messages.

use serde::{Deserialize, Serialize};
use switchboard_core::expressions as ex;
use switchboard_core::model as md;
use switchboard_core::{ConversationId, CustomEmojiId, FileId, StickerId, StickerPackId, UserId};

use super::files::Attachment;
use crate::Stored;

/// A sticker as a message carries it.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sticker {
    pub pack_id: i64,
    pub sticker_id: i64,
    pub emoji: String,
    pub image: Attachment,
}

impl From<&md::Sticker> for Sticker {
    fn from(s: &md::Sticker) -> Self {
        Self {
            pack_id: s.pack_id.raw(),
            sticker_id: s.sticker_id.raw(),
            emoji: s.emoji.clone(),
            image: (&s.image).into(),
        }
    }
}

impl From<Sticker> for md::Sticker {
    fn from(s: Sticker) -> Self {
        Self {
            pack_id: StickerPackId::from_raw(s.pack_id),
            sticker_id: StickerId::from_raw(s.sticker_id),
            emoji: s.emoji,
            image: s.image.into(),
        }
    }
}

/// A sticker of a pack.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackSticker {
    pub id: i64,
    pub emoji: String,
    pub file_id: i64,
}

/// A sticker pack record (its id is the record's key, its space the record's scope).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickerPack {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<i64>,
    pub name: String,
    pub stickers: Vec<PackSticker>,
    pub created_by: i64,
    pub created_at_ms: i64,
}

impl Stored for ex::StickerPack {
    const WHAT: &'static str = "sticker pack";
    type V1 = StickerPack;

    fn to_v1(&self) -> StickerPack {
        StickerPack {
            id: self.id.raw(),
            space_id: self.space_id.map(ConversationId::raw),
            name: self.name.clone(),
            stickers: self
                .stickers
                .iter()
                .map(|s| PackSticker { id: s.id.raw(), emoji: s.emoji.clone(), file_id: s.image.file_id.raw() })
                .collect(),
            created_by: self.created_by.raw(),
            created_at_ms: self.created_at_ms,
        }
    }

    /// The version is the record's, set by the reader.
    fn from_v1(v: StickerPack) -> Self {
        Self {
            id: StickerPackId::from_raw(v.id),
            space_id: v.space_id.map(ConversationId::from_raw),
            name: v.name,
            stickers: v
                .stickers
                .into_iter()
                .map(|s| ex::PackSticker {
                    id: StickerId::from_raw(s.id),
                    emoji: s.emoji,
                    image: md::Attachment::of(FileId::from_raw(s.file_id)),
                })
                .collect(),
            created_by: UserId::from_raw(v.created_by),
            created_at_ms: v.created_at_ms,
            version: 0,
        }
    }
}

/// A custom emoji.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomEmoji {
    pub id: i64,
    pub space_id: i64,
    pub name: String,
    pub file_id: i64,
    pub created_by: i64,
    pub created_at_ms: i64,
}

/// A space's custom emoji (one record per space).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmojiSet {
    pub emoji: Vec<CustomEmoji>,
}

impl Stored for ex::EmojiSet {
    const WHAT: &'static str = "custom emoji";
    type V1 = EmojiSet;

    fn to_v1(&self) -> EmojiSet {
        EmojiSet {
            emoji: self
                .emoji
                .iter()
                .map(|e| CustomEmoji {
                    id: e.id.raw(),
                    space_id: e.space_id.raw(),
                    name: e.name.clone(),
                    file_id: e.image.file_id.raw(),
                    created_by: e.created_by.raw(),
                    created_at_ms: e.created_at_ms,
                })
                .collect(),
        }
    }

    fn from_v1(v: EmojiSet) -> Self {
        Self {
            emoji: v
                .emoji
                .into_iter()
                .map(|e| ex::CustomEmoji {
                    id: CustomEmojiId::from_raw(e.id),
                    space_id: ConversationId::from_raw(e.space_id),
                    name: e.name,
                    image: md::Attachment::of(FileId::from_raw(e.file_id)),
                    created_by: UserId::from_raw(e.created_by),
                    created_at_ms: e.created_at_ms,
                })
                .collect(),
        }
    }
}
