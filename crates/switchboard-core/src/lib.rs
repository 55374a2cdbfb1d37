//! Switchboard's domain: typed ids, validated values, the model of users, sessions,
//! conversations and messages, the events of the sync logs, and the permission rules.
//!
//! Nothing here does I/O or knows a framework; every other crate builds on these types.

pub mod error;
pub mod event;
pub mod expressions;
pub mod ids;
pub mod links;
pub mod model;
pub mod permissions;
pub mod privacy;
pub mod search;
pub mod space;
pub mod values;

pub use error::{ErrorCode, ValidationError};
pub use ids::{ConversationId, CustomEmojiId, FileId, MessageId, SessionId, StickerId, StickerPackId, UserId};
