//! Spaces (communities): their layout (nested folders of channels), roles with parent
//! roles, per-channel overwrites, and the effective permissions of a member — pure
//! functions of a [`SpaceLayout`] and a [`SpaceMember`], checked by the service before
//! every space or channel operation.
//!
//! A space is backed by a conversation of kind `space` whose log carries the space's
//! changes as service messages; each channel is a conversation of kind `space_channel`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{ConversationId, UserId};
use crate::permissions::Denied;

/// A set of space permissions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Permissions(u64);

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = $bit:expr, $wire:literal;)*) => {
        impl Permissions {
            $($(#[$doc])* pub const $name: Permissions = Permissions(1 << $bit);)*
            /// Every permission, with its wire name.
            pub const NAMED: &'static [(Permissions, &'static str)] = &[$((Permissions::$name, $wire)),*];
        }
    };
}

permissions! {
    /// See a channel and read its history.
    VIEW = 0, "view";
    /// Post in a channel.
    SEND = 1, "send";
    /// Post in threads and start them.
    SEND_IN_THREADS = 2, "send_in_threads";
    /// Delete others' messages and pin.
    MANAGE_MESSAGES = 3, "manage_messages";
    /// Use @all.
    MENTION_EVERYONE = 4, "mention_everyone";
    /// Create, edit, move and delete folders and channels, and set overwrites.
    MANAGE_CHANNELS = 5, "manage_channels";
    /// Create, edit and assign roles below one's own highest role.
    MANAGE_ROLES = 6, "manage_roles";
    /// Edit the space's name, about and settings.
    MANAGE_SPACE = 7, "manage_space";
    /// Remove members below one's own highest role, time them out, decide join requests.
    KICK = 8, "kick";
    /// Ban and unban.
    BAN = 9, "ban";
    /// Create invites (and see and revoke them).
    CREATE_INVITES = 10, "create_invites";
    /// Manage webhooks.
    MANAGE_WEBHOOKS = 11, "manage_webhooks";
    /// Every permission in every channel; overwrites do not apply.
    ADMINISTRATOR = 12, "administrator";
}

impl Permissions {
    /// No permission.
    pub const NONE: Permissions = Permissions(0);
    /// Every permission.
    pub const ALL: Permissions = Permissions((1 << 13) - 1);
    /// What the everyone role of a new space grants.
    pub const DEFAULT_EVERYONE: Permissions =
        Permissions(Self::VIEW.0 | Self::SEND.0 | Self::SEND_IN_THREADS.0 | Self::CREATE_INVITES.0);
    /// What a timed-out member keeps.
    pub const WHILE_TIMED_OUT: Permissions = Self::VIEW;

    /// The stored form.
    pub fn bits(self) -> u64 {
        self.0
    }

    /// From a stored form; unknown bits are dropped.
    pub fn from_bits(bits: u64) -> Self {
        Self(bits & Self::ALL.0)
    }

    /// True when every permission of `other` is in `self`.
    pub fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets.
    pub fn union(self, other: Permissions) -> Self {
        Self(self.0 | other.0)
    }

    /// `self` without `other`.
    pub fn without(self, other: Permissions) -> Self {
        Self(self.0 & !other.0)
    }

    /// Only what both have.
    pub fn intersect(self, other: Permissions) -> Self {
        Self(self.0 & other.0)
    }

    /// The wire names of the permissions in this set.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED.iter().filter(|(p, _)| self.contains(*p)).map(|(_, n)| *n).collect()
    }

    /// Parses one wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMED.iter().find(|(_, n)| *n == name).map(|(p, _)| *p)
    }

    /// Requires `needed`, or says which is missing.
    pub fn require(self, needed: Permissions) -> Result<(), Denied> {
        match Self::NAMED.iter().find(|(p, _)| needed.contains(*p) && !self.contains(*p)) {
            None => Ok(()),
            Some((_, name)) => Err(Denied(missing_message(name))),
        }
    }
}

fn missing_message(name: &str) -> &'static str {
    match name {
        "view" => "you need the view permission",
        "send" => "you need the send permission in this channel",
        "send_in_threads" => "you need the send-in-threads permission",
        "manage_messages" => "you need the manage-messages permission",
        "mention_everyone" => "you need the mention-everyone permission to mention @all",
        "manage_channels" => "you need the manage-channels permission",
        "manage_roles" => "you need the manage-roles permission",
        "manage_space" => "you need the manage-space permission",
        "kick" => "you need the kick permission",
        "ban" => "you need the ban permission",
        "create_invites" => "you need the create-invites permission",
        "manage_webhooks" => "you need the manage-webhooks permission",
        _ => "you need the administrator permission",
    }
}

/// The id of the role every member holds.
pub const EVERYONE_ROLE: i64 = 0;

/// A role: a named, ordered set of permissions, inheriting its parents' permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub parents: Vec<i64>,
}

/// A folder of channels and folders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OverwriteTarget {
    /// Holders of a role (0: everyone).
    Role(i64),
    /// One member.
    Member(UserId),
}

/// Permissions allowed and denied in one channel for a role or a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overwrite {
    /// Whom it concerns.
    pub target: OverwriteTarget,
    /// Granted in the channel.
    pub allow: Permissions,
    /// Taken away in the channel.
    pub deny: Permissions,
}

/// Where a channel sits and how access to it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub overwrites: Vec<Overwrite>,
}

/// A space's structure and settings: one document, replaced as a whole under a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceMember {
    /// The user.
    pub user_id: UserId,
    /// Assigned roles (the everyone role is implied).
    #[serde(default)]
    pub roles: Vec<i64>,
    /// Timed out until this time; 0 = not timed out.
    #[serde(default)]
    pub timeout_until_ms: i64,
}

impl SpaceMember {
    /// A member with no roles.
    pub fn new(user_id: UserId) -> Self {
        Self { user_id, roles: Vec::new(), timeout_until_ms: 0 }
    }

    /// True while timed out.
    pub fn timed_out(&self, now_ms: i64) -> bool {
        self.timeout_until_ms > now_ms
    }
}

/// Who is asking, for the permission functions.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The space's layout.
    pub layout: &'a SpaceLayout,
    /// The space's owner.
    pub owner: UserId,
    /// The member (none: not a member).
    pub member: Option<&'a SpaceMember>,
    /// Now, for timeouts.
    pub now_ms: i64,
}

impl Actor<'_> {
    fn is_owner(&self) -> bool {
        self.member.is_some_and(|m| m.user_id == self.owner)
    }

    /// Space-wide permissions: everything for the owner and administrators; the union of
    /// the held roles' permissions otherwise; only viewing while timed out; none for a
    /// non-member.
    pub fn space_permissions(&self) -> Permissions {
        let Some(m) = self.member else { return Permissions::NONE };
        if self.is_owner() {
            return Permissions::ALL;
        }
        let base = self.base(m);
        if base.contains(Permissions::ADMINISTRATOR) {
            return Permissions::ALL;
        }
        if m.timed_out(self.now_ms) { base.intersect(Permissions::WHILE_TIMED_OUT) } else { base }
    }

    fn base(&self, m: &SpaceMember) -> Permissions {
        self.layout
            .role_closure(&m.roles)
            .iter()
            .filter_map(|id| self.layout.role(*id))
            .fold(Permissions::NONE, |acc, r| acc.union(r.permissions))
    }

    /// Permissions in one channel. After the space permissions: a private channel takes
    /// view away and an announcement channel takes send away (unless the member manages
    /// channels); then the everyone overwrite, the held roles' overwrites (denies, then
    /// allows) and the member's own overwrite apply. Without view nothing is left; a
    /// timeout leaves only view. The owner and administrators have everything.
    pub fn channel_permissions(&self, channel: &ChannelPlace) -> Permissions {
        let Some(m) = self.member else { return Permissions::NONE };
        if self.is_owner() {
            return Permissions::ALL;
        }
        let base = self.base(m);
        if base.contains(Permissions::ADMINISTRATOR) {
            return Permissions::ALL;
        }
        let mut p = base;
        if channel.private {
            p = p.without(Permissions::VIEW);
        }
        if channel.announcement && !base.contains(Permissions::MANAGE_CHANNELS) {
            p = p.without(Permissions::SEND);
        }
        let held = self.layout.role_closure(&m.roles);
        let find = |t: OverwriteTarget| channel.overwrites.iter().find(|o| o.target == t);
        if let Some(o) = find(OverwriteTarget::Role(EVERYONE_ROLE)) {
            p = p.without(o.deny).union(o.allow);
        }
        let (mut deny, mut allow) = (Permissions::NONE, Permissions::NONE);
        for o in &channel.overwrites {
            if let OverwriteTarget::Role(id) = o.target
                && id != EVERYONE_ROLE
                && held.contains(&id)
            {
                deny = deny.union(o.deny);
                allow = allow.union(o.allow);
            }
        }
        p = p.without(deny).union(allow);
        if let Some(o) = find(OverwriteTarget::Member(m.user_id)) {
            p = p.without(o.deny).union(o.allow);
        }
        if !p.contains(Permissions::VIEW) {
            return Permissions::NONE;
        }
        if m.timed_out(self.now_ms) { p.intersect(Permissions::WHILE_TIMED_OUT) } else { p }
    }

    /// The position of the member's most senior role (the owner outranks everyone; a
    /// non-member ranks below the everyone role).
    pub fn rank(&self) -> i64 {
        match self.member {
            None => -1,
            Some(_) if self.is_owner() => i64::MAX,
            Some(m) => rank_of(self.layout, m),
        }
    }

    /// Requires space-wide permissions.
    pub fn require(&self, needed: Permissions) -> Result<(), Denied> {
        self.member.ok_or(Denied("you are not a member of this space"))?;
        self.space_permissions().require(needed)
    }

    /// Requires permissions in a channel; a channel the member cannot view is reported as
    /// such.
    pub fn require_in(&self, channel: &ChannelPlace, needed: Permissions) -> Result<(), Denied> {
        self.member.ok_or(Denied("you are not a member of this space"))?;
        self.channel_permissions(channel).require(needed.union(Permissions::VIEW))
    }

    /// Managing a role: manage-roles, and the role must rank below the actor (the
    /// everyone role is at the bottom, so any role manager may edit it).
    pub fn can_manage_role(&self, role_position: i32) -> Result<(), Denied> {
        self.require(Permissions::MANAGE_ROLES)?;
        if i64::from(role_position) >= self.rank() {
            return Err(Denied("you can only manage roles below your highest role"));
        }
        Ok(())
    }

    /// Granting permissions through a role or an overwrite: only those the actor has.
    pub fn can_grant(&self, granted: Permissions) -> Result<(), Denied> {
        if !self.space_permissions().contains(granted) {
            return Err(Denied("you cannot grant permissions you do not have"));
        }
        Ok(())
    }

    /// Acting on another member (kick, ban, time out, assign roles): the permission, and
    /// the target must rank below the actor; nobody acts on the owner or on themselves.
    pub fn can_act_on(&self, needed: Permissions, target: &SpaceMember) -> Result<(), Denied> {
        self.require(needed)?;
        if self.member.is_some_and(|m| m.user_id == target.user_id) {
            return Err(Denied("you cannot do this to yourself"));
        }
        if target.user_id == self.owner {
            return Err(Denied("nobody can do this to the owner"));
        }
        if rank_of(self.layout, target) >= self.rank() {
            return Err(Denied("the member's highest role is not below yours"));
        }
        Ok(())
    }
}

fn rank_of(layout: &SpaceLayout, m: &SpaceMember) -> i64 {
    layout
        .role_closure(&m.roles)
        .iter()
        .filter_map(|id| layout.role(*id))
        .map(|r| i64::from(r.position))
        .max()
        .unwrap_or(0)
}

/// Which members may view which channels: for every channel, the ids of the given
/// members whose channel permissions include view.
pub fn viewers(
    layout: &SpaceLayout,
    owner: UserId,
    members: &[SpaceMember],
    now_ms: i64,
) -> BTreeMap<ConversationId, Vec<UserId>> {
    layout
        .channels
        .iter()
        .map(|c| {
            let ids = members
                .iter()
                .filter(|m| {
                    Actor { layout, owner, member: Some(m), now_ms }.channel_permissions(c).contains(Permissions::VIEW)
                })
                .map(|m| m.user_id)
                .collect();
            (c.id, ids)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: UserId = UserId::from_raw(1);
    const NOW: i64 = 1_000_000;

    fn layout() -> SpaceLayout {
        let mut l = SpaceLayout::new(false);
        l.roles.push(Role {
            id: 1,
            name: "moderator".into(),
            colour: 0xff0000,
            position: 10,
            permissions: Permissions::KICK.union(Permissions::MANAGE_MESSAGES),
            parents: vec![2],
        });
        l.roles.push(Role {
            id: 2,
            name: "helper".into(),
            colour: 0,
            position: 5,
            permissions: Permissions::CREATE_INVITES.union(Permissions::MENTION_EVERYONE),
            parents: vec![],
        });
        l.roles.push(Role {
            id: 3,
            name: "admin".into(),
            colour: 0,
            position: 20,
            permissions: Permissions::ADMINISTRATOR,
            parents: vec![],
        });
        l.channels.push(place(100));
        l.next_id = 4;
        l
    }

    fn place(id: i64) -> ChannelPlace {
        ChannelPlace {
            id: ConversationId::from_raw(id),
            folder_id: 0,
            position: 0,
            announcement: false,
            private: false,
            overwrites: vec![],
        }
    }

    fn member(id: i64, roles: &[i64]) -> SpaceMember {
        SpaceMember { user_id: UserId::from_raw(id), roles: roles.to_vec(), timeout_until_ms: 0 }
    }

    fn actor<'a>(l: &'a SpaceLayout, m: Option<&'a SpaceMember>) -> Actor<'a> {
        Actor { layout: l, owner: OWNER, member: m, now_ms: NOW }
    }

    #[test]
    fn permission_names_round_trip_and_all_covers_every_named_bit() {
        let mut all = Permissions::NONE;
        for (p, name) in Permissions::NAMED {
            assert_eq!(Permissions::from_name(name), Some(*p));
            all = all.union(*p);
        }
        assert_eq!(all, Permissions::ALL);
        assert_eq!(Permissions::from_name("nope"), None);
        assert_eq!(Permissions::from_bits(u64::MAX), Permissions::ALL);
        for bits in 0..(1u64 << 13) {
            let p = Permissions::from_bits(bits);
            let back = p.names().iter().fold(Permissions::NONE, |a, n| a.union(Permissions::from_name(n).unwrap()));
            assert_eq!(back, p);
        }
    }

    #[test]
    fn require_names_the_first_missing_permission() {
        let p = Permissions::VIEW.union(Permissions::SEND);
        assert!(p.require(Permissions::VIEW).is_ok());
        assert!(p.require(Permissions::NONE).is_ok());
        assert_eq!(p.require(Permissions::BAN).unwrap_err().0, "you need the ban permission");
        for (q, _) in Permissions::NAMED {
            assert!(Permissions::NONE.require(*q).is_err());
            assert!(Permissions::ALL.require(*q).is_ok());
        }
    }

    #[test]
    fn role_closure_includes_everyone_parents_transitively_and_survives_cycles() {
        let mut l = layout();
        assert_eq!(l.role_closure(&[]), BTreeSet::from([0]));
        assert_eq!(l.role_closure(&[1]), BTreeSet::from([0, 1, 2]));
        assert_eq!(l.role_closure(&[99]), BTreeSet::from([0]));
        l.roles[2].parents = vec![1];
        assert_eq!(l.role_closure(&[2]), BTreeSet::from([0, 1, 2]));
    }

    #[test]
    fn space_permissions_per_kind_of_member() {
        let l = layout();
        let owner = member(1, &[]);
        let plain = member(2, &[]);
        let moderator = member(3, &[1]);
        let admin = member(4, &[3]);
        assert_eq!(actor(&l, Some(&owner)).space_permissions(), Permissions::ALL);
        assert_eq!(actor(&l, Some(&plain)).space_permissions(), Permissions::DEFAULT_EVERYONE);
        let m = actor(&l, Some(&moderator)).space_permissions();
        assert!(m.contains(Permissions::KICK) && m.contains(Permissions::MENTION_EVERYONE), "inherits the parent");
        assert!(!m.contains(Permissions::BAN));
        assert_eq!(actor(&l, Some(&admin)).space_permissions(), Permissions::ALL);
        assert_eq!(actor(&l, None).space_permissions(), Permissions::NONE);
    }

    #[test]
    fn a_timeout_leaves_only_view_until_it_ends() {
        let l = layout();
        let mut m = member(3, &[1]);
        m.timeout_until_ms = NOW + 1;
        assert_eq!(actor(&l, Some(&m)).space_permissions(), Permissions::VIEW);
        assert_eq!(actor(&l, Some(&m)).channel_permissions(&l.channels[0]), Permissions::VIEW);
        m.timeout_until_ms = NOW;
        assert!(actor(&l, Some(&m)).space_permissions().contains(Permissions::KICK));
    }

    /// Every combination of everyone/role/member overwrites for one permission: the
    /// member's own overwrite wins over roles, roles win over everyone, allow wins over
    /// deny at the same level.
    #[test]
    fn overwrite_precedence_exhaustively() {
        let states = [None, Some(true), Some(false)]; // allow, deny
        let p = Permissions::SEND;
        for base in [false, true] {
            for everyone in states {
                for role_allow in [false, true] {
                    for role_deny in [false, true] {
                        for own in states {
                            let mut l = layout();
                            l.roles[0].permissions = if base { Permissions::VIEW.union(p) } else { Permissions::VIEW };
                            let mut c = place(100);
                            let ow = |t, s: Option<bool>| Overwrite {
                                target: t,
                                allow: if s == Some(true) { p } else { Permissions::NONE },
                                deny: if s == Some(false) { p } else { Permissions::NONE },
                            };
                            c.overwrites.push(ow(OverwriteTarget::Role(0), everyone));
                            c.overwrites.push(Overwrite {
                                target: OverwriteTarget::Role(2),
                                allow: if role_allow { p } else { Permissions::NONE },
                                deny: if role_deny { p } else { Permissions::NONE },
                            });
                            c.overwrites.push(ow(OverwriteTarget::Member(UserId::from_raw(3)), own));
                            let m = member(3, &[1]);
                            let got = actor(&l, Some(&m)).channel_permissions(&c).contains(p);
                            let mut want = base;
                            if let Some(a) = everyone {
                                want = a;
                            }
                            if role_deny {
                                want = false;
                            }
                            if role_allow {
                                want = true;
                            }
                            if let Some(a) = own {
                                want = a;
                            }
                            assert_eq!(
                                got, want,
                                "base {base} everyone {everyone:?} role +{role_allow} -{role_deny} own {own:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn private_and_announcement_channels() {
        let l = layout();
        let plain = member(2, &[]);
        let helper = member(5, &[2]);
        let mut c = place(100);
        c.private = true;
        assert_eq!(actor(&l, Some(&plain)).channel_permissions(&c), Permissions::NONE);
        c.overwrites.push(Overwrite {
            target: OverwriteTarget::Role(2),
            allow: Permissions::VIEW,
            deny: Permissions::NONE,
        });
        assert_eq!(actor(&l, Some(&plain)).channel_permissions(&c), Permissions::NONE);
        assert!(actor(&l, Some(&helper)).channel_permissions(&c).contains(Permissions::VIEW.union(Permissions::SEND)));
        assert_eq!(actor(&l, Some(&member(4, &[3]))).channel_permissions(&c), Permissions::ALL, "administrator");
        assert_eq!(actor(&l, Some(&member(1, &[]))).channel_permissions(&c), Permissions::ALL, "owner");

        let mut a = place(101);
        a.announcement = true;
        let pp = actor(&l, Some(&plain)).channel_permissions(&a);
        assert!(pp.contains(Permissions::VIEW) && !pp.contains(Permissions::SEND));
        a.overwrites.push(Overwrite {
            target: OverwriteTarget::Member(helper.user_id),
            allow: Permissions::SEND,
            deny: Permissions::NONE,
        });
        assert!(actor(&l, Some(&helper)).channel_permissions(&a).contains(Permissions::SEND));
        let mut l2 = layout();
        l2.roles[2].permissions = Permissions::MANAGE_CHANNELS;
        assert!(actor(&l2, Some(&helper)).channel_permissions(&place(101)).contains(Permissions::SEND));
        let mut a2 = place(101);
        a2.announcement = true;
        assert!(
            actor(&l2, Some(&helper)).channel_permissions(&a2).contains(Permissions::SEND),
            "channel managers post"
        );
    }

    #[test]
    fn without_view_nothing_is_left_in_a_channel() {
        let l = layout();
        let mut c = place(100);
        c.overwrites.push(Overwrite {
            target: OverwriteTarget::Member(UserId::from_raw(2)),
            allow: Permissions::SEND,
            deny: Permissions::VIEW,
        });
        assert_eq!(actor(&l, Some(&member(2, &[]))).channel_permissions(&c), Permissions::NONE);
        assert!(actor(&l, Some(&member(2, &[]))).require_in(&c, Permissions::SEND).is_err());
        assert!(actor(&l, None).require_in(&c, Permissions::NONE).is_err());
    }

    #[test]
    fn ranks_guard_roles_and_moderation() {
        let l = layout();
        let owner = member(1, &[]);
        let plain = member(2, &[]);
        let moderator = member(3, &[1]);
        let helper = member(5, &[2]);
        let admin = member(4, &[3]);
        assert_eq!(actor(&l, Some(&owner)).rank(), i64::MAX);
        assert_eq!(actor(&l, Some(&plain)).rank(), 0);
        assert_eq!(actor(&l, Some(&moderator)).rank(), 10);
        assert_eq!(actor(&l, None).rank(), -1);

        assert!(actor(&l, Some(&moderator)).can_act_on(Permissions::KICK, &helper).is_ok());
        assert!(actor(&l, Some(&moderator)).can_act_on(Permissions::KICK, &admin).is_err(), "outranked");
        assert!(actor(&l, Some(&moderator)).can_act_on(Permissions::BAN, &helper).is_err(), "no ban");
        assert!(actor(&l, Some(&moderator)).can_act_on(Permissions::KICK, &moderator).is_err(), "self");
        assert!(actor(&l, Some(&admin)).can_act_on(Permissions::BAN, &owner).is_err(), "owner");
        assert!(actor(&l, Some(&owner)).can_act_on(Permissions::BAN, &admin).is_ok());
        assert!(actor(&l, Some(&plain)).can_act_on(Permissions::KICK, &member(6, &[])).is_err());
        let peer = member(7, &[1]);
        assert!(actor(&l, Some(&moderator)).can_act_on(Permissions::KICK, &peer).is_err(), "same rank");

        assert!(actor(&l, Some(&admin)).can_manage_role(10).is_ok());
        assert!(actor(&l, Some(&admin)).can_manage_role(20).is_err(), "own rank");
        assert!(actor(&l, Some(&moderator)).can_manage_role(0).is_err(), "no manage-roles");
        assert!(actor(&l, Some(&owner)).can_manage_role(i32::MAX).is_ok());
        assert!(actor(&l, Some(&moderator)).can_grant(Permissions::KICK).is_ok());
        assert!(actor(&l, Some(&moderator)).can_grant(Permissions::BAN).is_err());
    }

    #[test]
    fn folders_know_their_depth_and_ancestry() {
        let mut l = layout();
        l.folders.push(Folder { id: 10, name: "a".into(), parent_id: 0, position: 0 });
        l.folders.push(Folder { id: 11, name: "b".into(), parent_id: 10, position: 0 });
        assert_eq!(l.folder_depth(0), Some(0));
        assert_eq!(l.folder_depth(11), Some(2));
        assert_eq!(l.folder_depth(99), None);
        assert!(l.folder_within(11, 10));
        assert!(!l.folder_within(10, 11));
        l.folders[0].parent_id = 11;
        assert_eq!(l.folder_depth(11), None, "cycle");
    }

    #[test]
    fn viewers_follow_channel_permissions() {
        let mut l = layout();
        let mut private = place(101);
        private.private = true;
        private.overwrites.push(Overwrite {
            target: OverwriteTarget::Role(1),
            allow: Permissions::VIEW,
            deny: Permissions::NONE,
        });
        l.channels.push(private);
        let members = [member(1, &[]), member(2, &[]), member(3, &[1])];
        let v = viewers(&l, OWNER, &members, NOW);
        let ids = |c: i64| v[&ConversationId::from_raw(c)].iter().map(|u| u.raw()).collect::<Vec<_>>();
        assert_eq!(ids(100), vec![1, 2, 3]);
        assert_eq!(ids(101), vec![1, 3]);
    }
}
