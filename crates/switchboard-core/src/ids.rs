//! Typed, opaque ids. Across layers an id is never a bare integer or string.
//!
//! On the wire ids are decimal strings, which leaves room for a later `id@server` form.

use std::fmt;

use crate::error::ValidationError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw id as stored. Only stores call this.
            pub const fn from_raw(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw id, for stores.
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// Parses a wire id; `field` names the request field for the error.
            pub fn parse(s: &str, field: &'static str) -> Result<Self, ValidationError> {
                match s.parse::<i64>() {
                    Ok(v) if v > 0 => Ok(Self(v)),
                    _ => Err(ValidationError::new(field, format!("{s:?} is not a valid id"))),
                }
            }

            /// Parses an optional wire id: the empty string means none.
            pub fn parse_opt(s: &str, field: &'static str) -> Result<Option<Self>, ValidationError> {
                if s.is_empty() { Ok(None) } else { Self::parse(s, field).map(Some) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A user (person or bot).
    UserId
);
id_type!(
    /// A conversation.
    ConversationId
);
id_type!(
    /// A message.
    MessageId
);
id_type!(
    /// A session (one login on one device).
    SessionId
);
id_type!(
    /// A stored file (an upload that completed).
    FileId
);
id_type!(
    /// A sticker pack (server-wide or of a space).
    StickerPackId
);
id_type!(
    /// A sticker within a pack.
    StickerId
);
id_type!(
    /// A custom emoji of a space.
    CustomEmojiId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_wire_form() {
        let id = UserId::parse("42", "user_id").unwrap();
        assert_eq!(id.to_string(), "42");
        assert_eq!(id.raw(), 42);
    }

    #[test]
    fn garbage_zero_and_negative_ids_are_rejected() {
        for bad in ["", "abc", "0", "-1", "1.5", "99999999999999999999"] {
            let err = ConversationId::parse(bad, "conversation_id").unwrap_err();
            assert_eq!(err.field, "conversation_id");
        }
    }

    #[test]
    fn an_empty_optional_id_is_none() {
        assert_eq!(MessageId::parse_opt("", "reply_to").unwrap(), None);
        assert!(MessageId::parse_opt("x", "reply_to").is_err());
    }
}
