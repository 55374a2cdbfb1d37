//! Format 1 of the records: space layouts and members, invites, join requests and
//! policies, bans, runtime settings.

use serde::{Deserialize, Serialize};
use switchboard_core::space as sp;
use switchboard_core::{ConversationId, UserId};

use crate::Stored;

fn cid(v: i64) -> ConversationId {
    ConversationId::from_raw(v)
}

fn uid(v: i64) -> UserId {
    UserId::from_raw(v)
}

// ---- space records ---------------------------------------------------------------------

/// A role.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub colour: u32,
    pub position: i32,
    pub permissions: u64,
    #[serde(default)]
    pub parents: Vec<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mentionable: bool,
}

/// A folder.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    pub id: i64,
    pub name: String,
    pub parent_id: i64,
    pub position: i32,
}

/// Whom an overwrite concerns.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OverwriteTarget {
    Role(i64),
    Member(i64),
}

/// A channel's overwrite.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overwrite {
    pub target: OverwriteTarget,
    pub allow: u64,
    pub deny: u64,
}

/// A channel's place.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPlace {
    pub id: i64,
    pub folder_id: i64,
    pub position: i32,
    pub announcement: bool,
    pub private: bool,
    #[serde(default)]
    pub overwrites: Vec<Overwrite>,
}

/// A space's layout record.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceLayout {
    pub public: bool,
    pub require_approval: bool,
    pub default_channel: Option<i64>,
    pub roles: Vec<Role>,
    pub folders: Vec<Folder>,
    pub channels: Vec<ChannelPlace>,
    pub next_id: i64,
}

fn perms(bits: u64) -> sp::Permissions {
    sp::Permissions::from_bits_retain(bits)
}

impl Stored for sp::SpaceLayout {
    const WHAT: &'static str = "space layout";
    type V1 = SpaceLayout;

    fn to_v1(&self) -> SpaceLayout {
        SpaceLayout {
            public: self.public,
            require_approval: self.require_approval,
            default_channel: self.default_channel.map(ConversationId::raw),
            roles: self
                .roles
                .iter()
                .map(|r| Role {
                    id: r.id,
                    name: r.name.clone(),
                    colour: r.colour,
                    position: r.position,
                    permissions: r.permissions.bits(),
                    parents: r.parents.clone(),
                    mentionable: r.mentionable,
                })
                .collect(),
            folders: self
                .folders
                .iter()
                .map(|f| Folder { id: f.id, name: f.name.clone(), parent_id: f.parent_id, position: f.position })
                .collect(),
            channels: self
                .channels
                .iter()
                .map(|c| ChannelPlace {
                    id: c.id.raw(),
                    folder_id: c.folder_id,
                    position: c.position,
                    announcement: c.announcement,
                    private: c.private,
                    overwrites: c
                        .overwrites
                        .iter()
                        .map(|o| Overwrite {
                            target: match o.target {
                                sp::OverwriteTarget::Role(r) => OverwriteTarget::Role(r),
                                sp::OverwriteTarget::Member(u) => OverwriteTarget::Member(u.raw()),
                            },
                            allow: o.allow.bits(),
                            deny: o.deny.bits(),
                        })
                        .collect(),
                })
                .collect(),
            next_id: self.next_id,
        }
    }

    fn from_v1(v: SpaceLayout) -> Self {
        Self {
            public: v.public,
            require_approval: v.require_approval,
            default_channel: v.default_channel.map(cid),
            roles: v
                .roles
                .into_iter()
                .map(|r| sp::Role {
                    id: r.id,
                    name: r.name,
                    colour: r.colour,
                    position: r.position,
                    permissions: perms(r.permissions),
                    parents: r.parents,
                    mentionable: r.mentionable,
                })
                .collect(),
            folders: v
                .folders
                .into_iter()
                .map(|f| sp::Folder { id: f.id, name: f.name, parent_id: f.parent_id, position: f.position })
                .collect(),
            channels: v
                .channels
                .into_iter()
                .map(|c| sp::ChannelPlace {
                    id: cid(c.id),
                    folder_id: c.folder_id,
                    position: c.position,
                    announcement: c.announcement,
                    private: c.private,
                    overwrites: c
                        .overwrites
                        .into_iter()
                        .map(|o| sp::Overwrite {
                            target: match o.target {
                                OverwriteTarget::Role(r) => sp::OverwriteTarget::Role(r),
                                OverwriteTarget::Member(u) => sp::OverwriteTarget::Member(uid(u)),
                            },
                            allow: perms(o.allow),
                            deny: perms(o.deny),
                        })
                        .collect(),
                })
                .collect(),
            next_id: v.next_id,
        }
    }
}

/// A member's standing in a space.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceMember {
    pub user_id: i64,
    #[serde(default)]
    pub roles: Vec<i64>,
    #[serde(default)]
    pub timeout_until_ms: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nickname: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
}

impl Stored for sp::SpaceMember {
    const WHAT: &'static str = "space member";
    type V1 = SpaceMember;

    fn to_v1(&self) -> SpaceMember {
        SpaceMember {
            user_id: self.user_id.raw(),
            roles: self.roles.clone(),
            timeout_until_ms: self.timeout_until_ms,
            nickname: self.nickname.clone(),
            title: self.title.clone(),
            status: self.status.clone(),
        }
    }

    fn from_v1(v: SpaceMember) -> Self {
        Self {
            user_id: uid(v.user_id),
            roles: v.roles,
            timeout_until_ms: v.timeout_until_ms,
            nickname: v.nickname,
            title: v.title,
            status: v.status,
        }
    }
}

/// An invite record (the code is the record's key).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRecord {
    pub channel_id: Option<i64>,
    pub creator_id: i64,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub max_uses: u32,
    pub uses: u32,
}

/// A pending join request record (the asker is the record's key).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub message: String,
    pub created_at_ms: i64,
}

/// A group's or channel's join policy record.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub require_approval: bool,
}

/// A ban record (the banned user is the record's key).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanRecord {
    pub reason: String,
    pub banned_by: i64,
    pub created_at_ms: i64,
}

/// A token bucket.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

/// The runtime settings an administrator overrode (server-wide record); unset fields
/// follow the configuration.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_per_address: Option<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_logins_per_account: Option<RateLimit>,
}
