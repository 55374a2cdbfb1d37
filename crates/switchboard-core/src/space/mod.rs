//! Spaces (communities): their layout (nested folders of channels), roles with parent
//! roles, per-channel overwrites, and the effective permissions of a member — pure
//! functions of a [`SpaceLayout`] and a [`SpaceMember`], checked by the service before
//! every space or channel operation.
//!
//! A space is backed by a conversation of kind `space` whose log carries the space's
//! changes as service messages; each channel is a conversation of kind `space_channel`.

mod access;
mod layout;
mod permissions;

pub use access::{Actor, viewers};
pub use layout::{
    ChannelPlace, EVERYONE_ROLE, Folder, MAX_CHANNELS, MAX_FOLDER_DEPTH, MAX_FOLDERS, MAX_ROLES, Overwrite,
    OverwriteTarget, Role, SpaceLayout, SpaceMember,
};
pub use permissions::Permissions;
