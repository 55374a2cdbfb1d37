//! Sticker packs and custom emoji: images a community shares, used in messages and
//! reactions.
//!
//! Sticker packs are server-wide (made by administrators) or belong to a space (made by
//! its members with manage_expressions); custom emoji always belong to a space. A space's
//! stickers and emoji are used in that space's channels and threads.

use crate::error::ValidationError;
use crate::ids::{ConversationId, CustomEmojiId, StickerId, StickerPackId, UserId};
use crate::model::Attachment;
use crate::values::ReactionEmoji;

/// A sticker pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickerPack {
    /// Id.
    pub id: StickerPackId,
    /// The space it belongs to; none for a server-wide pack.
    pub space_id: Option<ConversationId>,
    /// Name, 1-64 characters.
    pub name: String,
    /// Its stickers, in order.
    pub stickers: Vec<PackSticker>,
    /// Who made it.
    pub created_by: UserId,
    /// When.
    pub created_at_ms: i64,
    /// Grows by one per change.
    pub version: u64,
}

impl StickerPack {
    /// A sticker of the pack.
    pub fn sticker(&self, id: StickerId) -> Option<&PackSticker> {
        self.stickers.iter().find(|s| s.id == id)
    }
}

/// A sticker of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackSticker {
    /// Id.
    pub id: StickerId,
    /// The Unicode emoji it stands for.
    pub emoji: String,
    /// Its image (a public image file).
    pub image: Attachment,
}

/// A custom emoji of a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomEmoji {
    /// Id.
    pub id: CustomEmojiId,
    /// The space.
    pub space_id: ConversationId,
    /// Its short name, unique in the space (see [`EmojiName`]).
    pub name: String,
    /// Its image (a public image file).
    pub image: Attachment,
    /// Who added it.
    pub created_by: UserId,
    /// When.
    pub created_at_ms: i64,
}

/// A space's custom emoji, kept together so that names stay unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmojiSet {
    /// The emoji, oldest first.
    pub emoji: Vec<CustomEmoji>,
}

impl EmojiSet {
    /// An emoji of the set.
    pub fn get(&self, id: CustomEmojiId) -> Option<&CustomEmoji> {
        self.emoji.iter().find(|e| e.id == id)
    }
}

/// A custom emoji's name: 2-32 characters of `a-z`, `0-9` and `_`, written `:name:` in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmojiName(String);

impl EmojiName {
    /// Parses a name as typed (with or without the colons).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let bare = s.strip_prefix(':').and_then(|s| s.strip_suffix(':')).unwrap_or(s);
        let ok = (2..=32).contains(&bare.len())
            && bare.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(ValidationError::new("name", "must be 2-32 characters of a-z, 0-9 and _"));
        }
        Ok(Self(bare.to_owned()))
    }

    /// The name.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A sticker pack's name: 1-64 characters, not blank.
pub fn pack_name(s: &str) -> Result<String, ValidationError> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > 64 || t.chars().any(char::is_control) {
        return Err(ValidationError::new("name", format!("must be 1-64 characters, got {n}")));
    }
    Ok(t.to_owned())
}

/// The emoji a sticker stands for: one Unicode emoji.
pub fn sticker_emoji(s: &str) -> Result<String, ValidationError> {
    ReactionEmoji::parse(s)
        .map(ReactionEmoji::into_string)
        .map_err(|_| ValidationError::new("emoji", "must be one Unicode emoji"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_names_are_short_lowercase_words() {
        assert_eq!(EmojiName::parse("party_parrot").unwrap().into_string(), "party_parrot");
        assert_eq!(EmojiName::parse(":blob2:").unwrap().into_string(), "blob2");
        for bad in ["", "a", "Party", "has space", "x-y", &"a".repeat(33), "::", "émoji"] {
            assert!(EmojiName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pack_names_and_sticker_emoji() {
        assert_eq!(pack_name("  Cats ").unwrap(), "Cats");
        assert!(pack_name(" ").is_err());
        assert!(pack_name(&"x".repeat(65)).is_err());
        assert_eq!(sticker_emoji("❤").unwrap(), "❤️");
        assert!(sticker_emoji("cat").is_err());
    }
}
