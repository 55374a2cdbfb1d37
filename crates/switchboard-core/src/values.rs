//! Validated values. Parse, don't validate: each `parse` returns the value or a
//! [`ValidationError`], and the rest of the code trusts the type.

use std::collections::BTreeMap;

use crate::error::ValidationError;
use crate::ids::{CustomEmojiId, UserId};
use crate::model::{Entity, EntityKind};

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn bounded(field: &'static str, s: &str, min: usize, max: usize) -> Result<String, ValidationError> {
    let n = char_len(s);
    if n < min || n > max {
        let what = if min == 0 { format!("at most {max} characters") } else { format!("{min}-{max} characters") };
        return Err(ValidationError::new(field, format!("must be {what}, got {n}")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(s.to_owned())
}

/// A reaction emoji: one Unicode emoji (a sequence from the Unicode emoji list, skin tones
/// included), stored in its fully qualified form so that "❤" and "❤️" count as one; or a
/// custom emoji of a space, stored as `custom:<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionEmoji(String);

/// How a custom emoji's reaction key starts.
const CUSTOM_PREFIX: &str = "custom:";

impl ReactionEmoji {
    /// A custom emoji's reaction.
    pub fn custom(id: CustomEmojiId) -> Self {
        Self(format!("{CUSTOM_PREFIX}{id}"))
    }

    /// Exactly one of a Unicode emoji (`emoji`) or a custom emoji (`custom`).
    pub fn either(emoji: &str, custom: Option<CustomEmojiId>) -> Result<Self, ValidationError> {
        match (emoji.is_empty(), custom) {
            (false, None) => Self::parse(emoji),
            (true, Some(id)) => Ok(Self::custom(id)),
            (true, None) => Err(ValidationError::new("emoji", "an emoji or a custom_emoji_id is required")),
            (false, Some(_)) => Err(ValidationError::new("emoji", "give an emoji or a custom_emoji_id, not both")),
        }
    }

    /// The custom emoji this reaction is, if it is one.
    pub fn custom_id(&self) -> Option<CustomEmojiId> {
        split_reaction(&self.0).1
    }

    /// Longest accepted input, in bytes (the longest emoji sequences are about 35).
    const MAX_BYTES: usize = 64;

    /// Parses an emoji as sent.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new("emoji", "must be one Unicode emoji");
        if s.is_empty() || s.len() > Self::MAX_BYTES {
            return Err(bad());
        }
        let found = emojis::get(s).or_else(|| {
            let bare: String = s.chars().filter(|&c| c != '\u{fe0f}').collect();
            emojis::get(&bare).or_else(|| emojis::get(&format!("{bare}\u{fe0f}")))
        });
        let e = found.ok_or_else(bad)?;
        // A skin-tone variant is its own emoji; `get` finds it, and `as_str` gives its form.
        Ok(Self(e.as_str().to_owned()))
    }

    /// The emoji.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The emoji, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A stored reaction key as the API shows it: the Unicode emoji (empty for a custom one)
/// and the custom emoji.
pub fn split_reaction(key: &str) -> (&str, Option<CustomEmojiId>) {
    match key.strip_prefix(CUSTOM_PREFIX).and_then(|id| id.parse::<i64>().ok()) {
        Some(id) => ("", Some(CustomEmojiId::from_raw(id))),
        None => (key, None),
    }
}

/// A username: 3-32 characters of `a-z`, `0-9`, `_` and `.`, starting with a letter.
/// Unique case-insensitively; [`Username::canonical`] is the lowercase form used for lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a username as typed.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let n = s.len();
        if !(3..=32).contains(&n) {
            return Err(ValidationError::new("username", format!("must be 3-32 characters, got {n}")));
        }
        let mut chars = s.chars();
        if !chars.next().is_some_and(|c| c.is_ascii_alphabetic()) {
            return Err(ValidationError::new("username", "must start with a letter"));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            return Err(ValidationError::new("username", "may contain only letters, digits, '_' and '.'"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The username as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form that uniqueness and lookups use.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A password: 8-256 characters. Never logged, never stored in clear.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Parses a new password.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let n = char_len(s);
        if !(8..=256).contains(&n) {
            return Err(ValidationError::new("password", format!("must be 8-256 characters, got {n}")));
        }
        Ok(Self(s.to_owned()))
    }

    /// The password text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Parses the value.
            pub fn parse(s: &str) -> Result<Self, ValidationError> {
                bounded($field, s, $min, $max).map(Self)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Takes the text out.
            pub fn into_string(self) -> String {
                self.0
            }
        }
    };
}

text_value!(
    /// A display name, at most 64 characters.
    DisplayName, "display_name", 0, 64
);
text_value!(
    /// A biography, at most 512 characters.
    Bio, "bio", 0, 512
);
text_value!(
    /// A status text, at most 128 characters.
    StatusText, "status_text", 0, 128
);
text_value!(
    /// A conversation title, 1-128 characters.
    Title, "title", 1, 128
);
text_value!(
    /// A conversation description, at most 1024 characters.
    About, "about", 0, 1024
);
text_value!(
    /// An idempotency key chosen by the client, 1-64 characters.
    ClientKey, "client_key", 1, 64
);
text_value!(
    /// A device name, at most 64 characters.
    DeviceName, "device.name", 0, 64
);
text_value!(
    /// A device platform, at most 32 characters.
    Platform, "device.platform", 0, 32
);

/// Most entities a message may carry.
pub const MAX_ENTITIES: usize = 100;
/// Most metadata entries a message may carry.
pub const MAX_METADATA_ENTRIES: usize = 16;

/// Message text with its entities, checked against the server's length limit: entities lie
/// inside the text, mentions name a user, links have a safe scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText {
    text: String,
    entities: Vec<Entity>,
}

impl MessageText {
    /// Parses the caption of a message with attachments: like [`MessageText::parse`], but
    /// it may be empty (and then has no entities).
    pub fn caption(text: &str, entities: Vec<Entity>, max_chars: usize) -> Result<Self, ValidationError> {
        if text.trim().is_empty() && entities.is_empty() {
            return Ok(Self { text: String::new(), entities });
        }
        Self::parse(text, entities, max_chars)
    }

    /// Parses text of at most `max_chars` characters and its entities.
    pub fn parse(text: &str, entities: Vec<Entity>, max_chars: usize) -> Result<Self, ValidationError> {
        let n = char_len(text);
        if n == 0 || text.trim().is_empty() {
            return Err(ValidationError::new("text", "must not be empty"));
        }
        if n > max_chars {
            return Err(ValidationError::new("text", format!("must be at most {max_chars} characters, got {n}")));
        }
        if entities.len() > MAX_ENTITIES {
            return Err(ValidationError::new("entities", format!("at most {MAX_ENTITIES} entities")));
        }
        for e in &entities {
            let end = e.offset as usize + e.length as usize;
            if e.length == 0 || end > n {
                return Err(ValidationError::new("entities", "an entity lies outside the text"));
            }
            match e.kind {
                EntityKind::Mention if e.user_id.is_none() => {
                    return Err(ValidationError::new("entities", "a mention needs a user_id"));
                }
                EntityKind::MentionRole if e.role_id.is_none() => {
                    return Err(ValidationError::new("entities", "a role mention needs a role_id"));
                }
                EntityKind::CustomEmoji if e.custom_emoji_id.is_none() => {
                    return Err(ValidationError::new("entities", "a custom emoji needs a custom_emoji_id"));
                }
                EntityKind::Link => {
                    let url = e.url.as_deref().unwrap_or("");
                    let ok = ["http://", "https://", "mailto:"].iter().any(|p| url.starts_with(p));
                    if !ok || url.len() > 2048 {
                        return Err(ValidationError::new("entities", "a link needs an http, https or mailto url"));
                    }
                }
                _ => {}
            }
        }
        Ok(Self { text: text.to_owned(), entities })
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The entities.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// Custom emoji shown, without duplicates.
    pub fn custom_emoji(&self) -> Vec<CustomEmojiId> {
        let mut ids: Vec<CustomEmojiId> = self.entities.iter().filter_map(|e| e.custom_emoji_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Users mentioned by name, without duplicates.
    pub fn mentioned_users(&self) -> Vec<UserId> {
        let mut ids: Vec<UserId> = self
            .entities
            .iter()
            .filter_map(|e| match e.kind {
                EntityKind::Mention => e.user_id,
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Roles mentioned, without duplicates.
    pub fn mentioned_roles(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .entities
            .iter()
            .filter_map(|e| match e.kind {
                EntityKind::MentionRole => e.role_id,
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// True when the text mentions everyone (@all).
    pub fn mentions_all(&self) -> bool {
        self.entities.iter().any(|e| e.kind == EntityKind::MentionAll)
    }

    /// Splits into text and entities.
    pub fn into_parts(self) -> (String, Vec<Entity>) {
        (self.text, self.entities)
    }
}

/// Client-defined message metadata: at most 16 entries, keys 1-64 and values at most 1024
/// characters.
pub fn parse_metadata(map: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ValidationError> {
    if map.len() > MAX_METADATA_ENTRIES {
        return Err(ValidationError::new("metadata", format!("at most {MAX_METADATA_ENTRIES} entries")));
    }
    for (k, v) in &map {
        if k.is_empty() || char_len(k) > 64 || char_len(v) > 1024 {
            return Err(ValidationError::new("metadata", "keys must be 1-64 and values at most 1024 characters"));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(kind: EntityKind, offset: u32, length: u32) -> Entity {
        Entity { kind, offset, length, user_id: None, url: None, role_id: None, custom_emoji_id: None }
    }

    #[test]
    fn usernames_follow_the_rules_and_compare_case_insensitively() {
        assert_eq!(Username::parse("Alice_1").unwrap().canonical(), "alice_1");
        for bad in ["al", "1alice", "alice!", "a".repeat(33).as_str(), "al ice"] {
            assert!(Username::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn passwords_need_eight_characters_and_never_print() {
        assert!(Password::parse("short").is_err());
        let p = Password::parse("long enough").unwrap();
        assert_eq!(format!("{p:?}"), "Password(..)");
    }

    #[test]
    fn text_values_count_characters_not_bytes() {
        assert!(Title::parse(&"é".repeat(128)).is_ok());
        assert!(Title::parse(&"é".repeat(129)).is_err());
        assert!(Title::parse("").is_err());
        assert!(Title::parse("a\u{0}b").is_err());
    }

    #[test]
    fn message_text_has_a_configurable_maximum() {
        assert!(MessageText::parse("hello", vec![], 5).is_ok());
        let err = MessageText::parse("hello!", vec![], 5).unwrap_err();
        assert_eq!(err.field, "text");
        assert!(MessageText::parse("   ", vec![], 5).is_err());
    }

    #[test]
    fn entities_must_lie_inside_the_text() {
        assert!(MessageText::parse("hello", vec![entity(EntityKind::Bold, 0, 5)], 100).is_ok());
        assert!(MessageText::parse("hello", vec![entity(EntityKind::Bold, 3, 3)], 100).is_err());
        assert!(MessageText::parse("hello", vec![entity(EntityKind::Bold, 0, 0)], 100).is_err());
    }

    #[test]
    fn mentions_need_a_user_and_links_a_safe_url() {
        assert!(MessageText::parse("@bob", vec![entity(EntityKind::Mention, 0, 4)], 100).is_err());
        let mut link = entity(EntityKind::Link, 0, 4);
        link.url = Some("javascript:alert(1)".into());
        assert!(MessageText::parse("link", vec![link.clone()], 100).is_err());
        link.url = Some("https://example.org".into());
        assert!(MessageText::parse("link", vec![link], 100).is_ok());
    }

    #[test]
    fn mentioned_users_are_deduplicated_and_all_is_detected() {
        let bob = UserId::from_raw(7);
        let mut m = entity(EntityKind::Mention, 0, 2);
        m.user_id = Some(bob);
        let text = MessageText::parse("hi all", vec![m.clone(), m, entity(EntityKind::MentionAll, 3, 3)], 100).unwrap();
        assert_eq!(text.mentioned_users(), vec![bob]);
        assert!(text.mentions_all());
    }

    #[test]
    fn metadata_is_bounded() {
        let mut map = BTreeMap::new();
        map.insert("k".to_owned(), "v".to_owned());
        assert!(parse_metadata(map.clone()).is_ok());
        map.insert(String::new(), "v".to_owned());
        assert!(parse_metadata(map).is_err());
        let many: BTreeMap<_, _> = (0..17).map(|i| (i.to_string(), String::new())).collect();
        assert!(parse_metadata(many).is_err());
    }
}

#[cfg(test)]
mod reaction_tests {
    use super::{ReactionEmoji, split_reaction};
    use crate::ids::CustomEmojiId;

    #[test]
    fn reaction_emoji_are_emoji_in_one_form() {
        for ok in ["👍", "🚀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "1️⃣"] {
            assert_eq!(ReactionEmoji::parse(ok).unwrap().as_str(), ok, "{ok}");
        }
        assert_eq!(ReactionEmoji::parse("❤").unwrap().as_str(), "❤️");
        for bad in ["", "a", "👍👍", ":+1:", "👍 ", "\u{200d}", &"👍".repeat(20)] {
            assert!(ReactionEmoji::parse(bad).is_err(), "{bad:?}");
        }
        // "custom:…" typed as an emoji is no emoji; only `either` with an id makes one.
        assert!(ReactionEmoji::parse("custom:7").is_err());
        let custom = ReactionEmoji::either("", Some(CustomEmojiId::from_raw(7))).unwrap();
        assert_eq!(custom.custom_id(), Some(CustomEmojiId::from_raw(7)));
        assert_eq!(split_reaction(custom.as_str()), ("", Some(CustomEmojiId::from_raw(7))));
        assert_eq!(split_reaction("👍"), ("👍", None));
        assert!(ReactionEmoji::either("👍", Some(CustomEmojiId::from_raw(7))).is_err());
        assert!(ReactionEmoji::either("", None).is_err());
    }
}
