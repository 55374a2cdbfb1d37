//! Spaces, roles, channels, invites and threads on the wire.

use switchboard_core::UserId;
use switchboard_core::space::{ChannelPlace, Folder, Overwrite, OverwriteTarget, Permissions, Role, SpaceMember};
use switchboard_proto::v1 as pb;
use switchboard_service::{ChannelView, Invite, ServiceError, ServiceResult, SpaceMemberView, SpaceView, ThreadView};

use super::conversation;

/// Wire permission numbers follow `Permissions::NAMED` order, from 1.
pub fn permissions(p: Permissions) -> Vec<i32> {
    Permissions::NAMED.iter().enumerate().filter(|(_, (q, _))| p.contains(*q)).map(|(i, _)| i as i32 + 1).collect()
}

/// Permissions from the wire; unknown numbers are refused.
pub fn permissions_from(v: &[i32], field: &'static str) -> ServiceResult<Permissions> {
    v.iter().try_fold(Permissions::NONE, |acc, n| {
        let idx = usize::try_from(*n - 1).ok().filter(|i| *i < Permissions::NAMED.len());
        let idx = idx.ok_or_else(|| ServiceError::invalid(field, format!("unknown permission {n}")))?;
        Ok(acc.union(Permissions::NAMED[idx].0))
    })
}

fn opt_id(id: i64) -> String {
    if id == 0 { String::new() } else { id.to_string() }
}

/// Parses an optional small id ("" = 0).
pub fn small_id(s: &str, field: &'static str) -> ServiceResult<i64> {
    if s.is_empty() {
        return Ok(0);
    }
    s.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| ServiceError::invalid(field, "not an id"))
}

/// A role on the wire.
pub fn role_pb(r: &Role) -> pb::Role {
    pb::Role {
        id: r.id.to_string(),
        name: r.name.clone(),
        colour: r.colour,
        position: r.position,
        permissions: permissions(r.permissions),
        parent_ids: r.parents.iter().map(ToString::to_string).collect(),
        mentionable: r.mentionable,
    }
}

/// A folder on the wire.
pub fn folder_pb(f: &Folder) -> pb::Folder {
    pb::Folder { id: f.id.to_string(), name: f.name.clone(), parent_id: opt_id(f.parent_id), position: f.position }
}

/// An overwrite target on the wire.
pub fn target_pb(t: OverwriteTarget) -> pb::OverwriteTarget {
    use pb::overwrite_target::Target;
    pb::OverwriteTarget {
        target: Some(match t {
            OverwriteTarget::Role(r) => Target::RoleId(r.to_string()),
            OverwriteTarget::Member(u) => Target::UserId(u.to_string()),
        }),
    }
}

/// An overwrite target from the wire.
pub fn target_from(t: Option<&pb::OverwriteTarget>) -> ServiceResult<OverwriteTarget> {
    use pb::overwrite_target::Target;
    match t.and_then(|t| t.target.as_ref()) {
        Some(Target::RoleId(r)) => Ok(OverwriteTarget::Role(small_id(r, "target.role_id")?)),
        Some(Target::UserId(u)) => Ok(OverwriteTarget::Member(UserId::parse(u, "target.user_id")?)),
        None => Err(ServiceError::invalid("target", "give role_id or user_id")),
    }
}

fn overwrite_pb(o: &Overwrite) -> pb::Overwrite {
    pb::Overwrite { target: Some(target_pb(o.target)), allow: permissions(o.allow), deny: permissions(o.deny) }
}

/// A channel on the wire; overwrites only for those who manage channels.
pub fn channel_pb(c: &ChannelView, me: UserId) -> pb::Channel {
    let place: &ChannelPlace = &c.place;
    let manages = c.permissions.contains(Permissions::MANAGE_CHANNELS);
    pb::Channel {
        conversation: Some(conversation(&c.conversation, me)),
        folder_id: opt_id(place.folder_id),
        position: place.position,
        announcement: place.announcement,
        private: place.private,
        overwrites: if manages { place.overwrites.iter().map(overwrite_pb).collect() } else { Vec::new() },
        my_permissions: permissions(c.permissions),
    }
}

/// A space on the wire.
pub fn space_pb(v: &SpaceView, me: UserId) -> pb::Space {
    let mut roles: Vec<&Role> = v.layout.roles.iter().collect();
    roles.sort_by_key(|r| std::cmp::Reverse(r.position));
    let joined = v.me.is_some();
    let (avatar_file_id, avatar_url) = super::avatar(v.space.avatar);
    pb::Space {
        avatar_file_id,
        avatar_url,
        id: v.space.id.to_string(),
        name: v.space.title.clone(),
        about: v.space.about.clone(),
        owner_id: v.space.owner_id.to_string(),
        member_count: v.space.member_count,
        public: v.layout.public,
        require_approval: v.layout.require_approval,
        default_channel_id: v.layout.default_channel.map(|c| c.to_string()).unwrap_or_default(),
        roles: if joined { roles.into_iter().map(role_pb).collect() } else { Vec::new() },
        folders: if joined { v.layout.folders.iter().map(folder_pb).collect() } else { Vec::new() },
        channels: v.channels.iter().map(|c| channel_pb(c, me)).collect(),
        my_permissions: permissions(v.permissions),
        my_role_ids: v.me.as_ref().map(|m| m.roles.iter().map(ToString::to_string).collect()).unwrap_or_default(),
        joined,
        created_at_ms: v.space.created_at_ms,
    }
}

/// A member on the wire.
pub fn space_member_pb(m: &SpaceMember, joined_at_ms: i64) -> pb::SpaceMember {
    pb::SpaceMember {
        user_id: m.user_id.to_string(),
        role_ids: m.roles.iter().map(ToString::to_string).collect(),
        joined_at_ms,
        timeout_until_ms: m.timeout_until_ms,
        nickname: m.nickname.clone(),
        title: m.title.clone(),
        status: m.status.clone(),
    }
}

/// A member view on the wire.
pub fn member_view_pb(m: &SpaceMemberView) -> pb::SpaceMember {
    space_member_pb(&m.member, m.joined_at_ms)
}

/// An invite on the wire.
pub fn invite_pb(i: &Invite) -> pb::Invite {
    pb::Invite {
        code: i.code.clone(),
        conversation_id: i.conversation_id.to_string(),
        channel_id: i.record.channel_id.map(|c| c.to_string()).unwrap_or_default(),
        creator_id: i.record.creator_id.to_string(),
        created_at_ms: i.record.created_at_ms,
        expires_at_ms: i.record.expires_at_ms,
        max_uses: i.record.max_uses,
        uses: i.record.uses,
    }
}

/// A thread on the wire.
pub fn thread_pb(t: &ThreadView, me: UserId) -> pb::Thread {
    pb::Thread {
        conversation: Some(conversation(&t.conversation, me)),
        reply_count: t.summary.reply_count,
        following: t.following,
    }
}
