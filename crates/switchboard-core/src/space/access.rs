//! Effective permissions: pure functions of a layout, the owner and a member.

use std::collections::BTreeMap;

use super::{ChannelPlace, EVERYONE_ROLE, OverwriteTarget, Permissions, SpaceLayout, SpaceMember};
use crate::ids::{ConversationId, UserId};
use crate::permissions::Denied;

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
        let (m, base) = match self.restricted() {
            Ok(found) => found,
            Err(all_or_none) => return all_or_none,
        };
        if m.timed_out(self.now_ms) { base.intersect(Permissions::WHILE_TIMED_OUT) } else { base }
    }

    /// The member and their roles' permissions, or the final answer for those the roles
    /// do not restrict: nothing for a non-member, everything for the owner and
    /// administrators.
    fn restricted(&self) -> Result<(&SpaceMember, Permissions), Permissions> {
        let m = self.member.ok_or(Permissions::NONE)?;
        if self.is_owner() {
            return Err(Permissions::ALL);
        }
        let base = self.base(m);
        if base.contains(Permissions::ADMINISTRATOR) {
            return Err(Permissions::ALL);
        }
        Ok((m, base))
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
        let (m, base) = match self.restricted() {
            Ok(found) => found,
            Err(all_or_none) => return all_or_none,
        };
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
    use std::collections::BTreeSet;

    use super::*;
    use crate::space::{Folder, Overwrite, Role};

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
            mentionable: false,
        });
        l.roles.push(Role {
            id: 2,
            name: "helper".into(),
            colour: 0,
            position: 5,
            permissions: Permissions::CREATE_INVITES.union(Permissions::MENTION_EVERYONE),
            parents: vec![],
            mentionable: false,
        });
        l.roles.push(Role {
            id: 3,
            name: "admin".into(),
            colour: 0,
            position: 20,
            permissions: Permissions::ADMINISTRATOR,
            parents: vec![],
            mentionable: false,
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
        SpaceMember { roles: roles.to_vec(), ..SpaceMember::new(UserId::from_raw(id)) }
    }

    fn actor<'a>(l: &'a SpaceLayout, m: Option<&'a SpaceMember>) -> Actor<'a> {
        Actor { layout: l, owner: OWNER, member: m, now_ms: NOW }
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
