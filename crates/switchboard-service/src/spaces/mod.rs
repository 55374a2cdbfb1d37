//! Spaces: a conversation of kind `space` (its members and its log of changes) plus a
//! versioned layout record (roles, folders, channels, overwrites, settings) and one record
//! per member with roles or a timeout. Channels are conversations of kind
//! `space_channel`; their membership is derived from the layout — whoever may view a
//! channel is a member of it — and is brought in line after every change that can move
//! it ([`Services::reconcile`]). Reads and writes are checked against the layout itself,
//! so a channel membership that is momentarily stale never grants anything.

mod layout;
mod lifecycle;
mod moderation;
mod roles;
mod state;

pub use roles::SpaceProfilePatch;
pub(crate) use state::{BAN, LAYOUT, json, parse};
pub use state::{BanRecord, ChannelPatch, ChannelView, NewChannel, RolePatch, SpaceMemberView, SpacePatch, SpaceView};
