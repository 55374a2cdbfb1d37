//! A space's layout — roles with parent roles, nested folders, channel places with their
//! overwrites, settings — and a member's standing (roles, timeout).

use std::collections::BTreeSet;

use super::Permissions;
use crate::ids::{ConversationId, UserId};

/// The id of the role every member holds.
pub const EVERYONE_ROLE: i64 = 0;

/// A role: a named, ordered set of permissions, inheriting its parents' permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Id, unique in the space; 0 is the everyone role.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Colour as 0xRRGGBB.
    pub colour: u32,
    /// Higher is more senior; the everyone role is 0.
    pub position: i32,
    /// Permissions granted (before inheritance).
    pub permissions: Permissions,
    /// Roles whose permissions this one inherits.
    pub parents: Vec<i64>,
    /// Anyone who may post may mention it; otherwise mentioning it needs mention-everyone.
    pub mentionable: bool,
}

/// A folder of channels and folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Id, unique in the space (shared numbering with roles).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Enclosing folder; 0 = the top level.
    pub parent_id: i64,
    /// Order among its siblings.
    pub position: i32,
}

/// Whom an overwrite concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OverwriteTarget {
    /// Holders of a role (0: everyone).
    Role(i64),
    /// One member.
    Member(UserId),
}

/// Permissions allowed and denied in one channel for a role or a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overwrite {
    /// Whom it concerns.
    pub target: OverwriteTarget,
    /// Granted in the channel.
    pub allow: Permissions,
    /// Taken away in the channel.
    pub deny: Permissions,
}

/// Where a channel sits and how access to it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPlace {
    /// The channel's conversation.
    pub id: ConversationId,
    /// Enclosing folder; 0 = the top level.
    pub folder_id: i64,
    /// Order among its siblings.
    pub position: i32,
    /// Read-only: only members with manage-channels (or an explicit send allow) post.
    pub announcement: bool,
    /// Hidden from everyone but those an overwrite allows to view (and administrators).
    pub private: bool,
    /// Overwrites, applied after the space permissions.
    pub overwrites: Vec<Overwrite>,
}

/// A space's structure and settings: one document, replaced as a whole under a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceLayout {
    /// Discoverable by name and joinable without an invite.
    pub public: bool,
    /// Joining (by invite or publicly) needs an approved request.
    pub require_approval: bool,
    /// The channel new members land in.
    pub default_channel: Option<ConversationId>,
    /// Roles, the everyone role first.
    pub roles: Vec<Role>,
    /// Folders.
    pub folders: Vec<Folder>,
    /// Channels.
    pub channels: Vec<ChannelPlace>,
    /// Next id for a role or folder.
    pub next_id: i64,
}

/// Most roles in a space.
pub const MAX_ROLES: usize = 250;
/// Most folders in a space.
pub const MAX_FOLDERS: usize = 100;
/// Most channels in a space.
pub const MAX_CHANNELS: usize = 500;
/// Deepest folder nesting.
pub const MAX_FOLDER_DEPTH: usize = 5;

impl SpaceLayout {
    /// A new space's layout: the everyone role with the default permissions.
    pub fn new(public: bool) -> Self {
        Self {
            public,
            require_approval: false,
            default_channel: None,
            roles: vec![Role {
                id: EVERYONE_ROLE,
                name: "everyone".into(),
                colour: 0,
                position: 0,
                permissions: Permissions::DEFAULT_EVERYONE,
                parents: Vec::new(),
                mentionable: false,
            }],
            folders: Vec::new(),
            channels: Vec::new(),
            next_id: 1,
        }
    }

    /// Takes the next role or folder id.
    pub fn allocate_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A role by id.
    pub fn role(&self, id: i64) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// A channel's place by id.
    pub fn channel(&self, id: ConversationId) -> Option<&ChannelPlace> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// A folder by id.
    pub fn folder(&self, id: i64) -> Option<&Folder> {
        self.folders.iter().find(|f| f.id == id)
    }

    /// The depth of a folder (top-level folders are 1), or none for an unknown folder or
    /// a cycle.
    pub fn folder_depth(&self, id: i64) -> Option<usize> {
        let mut depth = 0;
        let mut at = id;
        while at != 0 {
            depth += 1;
            if depth > self.folders.len() {
                return None;
            }
            at = self.folder(at)?.parent_id;
        }
        Some(depth)
    }

    /// True when `ancestor` is `id` or encloses it.
    pub fn folder_within(&self, id: i64, ancestor: i64) -> bool {
        let mut at = id;
        for _ in 0..=self.folders.len() {
            if at == ancestor {
                return true;
            }
            match self.folder(at) {
                Some(f) => at = f.parent_id,
                None => return false,
            }
        }
        false
    }

    /// Whether giving `role` these `parents` would make it inherit from itself, directly
    /// or through a chain of parents.
    pub fn parents_cycle(&self, role: i64, parents: &[i64]) -> bool {
        parents.contains(&role) || self.role_closure(parents).contains(&role)
    }

    /// Every role a member holds: the everyone role, the assigned ones that exist, and
    /// their parents, transitively (cycles are harmless).
    pub fn role_closure(&self, assigned: &[i64]) -> BTreeSet<i64> {
        let mut held = BTreeSet::from([EVERYONE_ROLE]);
        let mut stack: Vec<i64> = assigned.to_vec();
        while let Some(id) = stack.pop() {
            if let Some(role) = self.role(id)
                && held.insert(id)
            {
                stack.extend(role.parents.iter().copied());
            }
        }
        held
    }
}

/// A member's standing in a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceMember {
    /// The user.
    pub user_id: UserId,
    /// Assigned roles (the everyone role is implied).
    pub roles: Vec<i64>,
    /// Timed out until this time; 0 = not timed out.
    pub timeout_until_ms: i64,
    /// The member's own name in this space; empty = their display name.
    pub nickname: String,
    /// A title given by the space's managers ("Head of design"); may be empty.
    pub title: String,
    /// The member's status in this space; may be empty.
    pub status: String,
}

impl SpaceMember {
    /// A member with no roles.
    pub fn new(user_id: UserId) -> Self {
        Self {
            user_id,
            roles: Vec::new(),
            timeout_until_ms: 0,
            nickname: String::new(),
            title: String::new(),
            status: String::new(),
        }
    }

    /// True while timed out.
    pub fn timed_out(&self, now_ms: i64) -> bool {
        self.timeout_until_ms > now_ms
    }
}
