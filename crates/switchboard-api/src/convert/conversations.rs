//! Conversations and members on the wire.

use switchboard_core::UserId;
use switchboard_core::model::{AdminRights, Conversation, ConversationKind, Member, MemberRole, MemberSettings};
use switchboard_core::permissions::effective_rights;
use switchboard_proto::v1 as pb;
use switchboard_service::ConversationView;

use super::message;

/// A kind on the wire.
pub fn kind(k: ConversationKind) -> pb::ConversationKind {
    match k {
        ConversationKind::Direct => pb::ConversationKind::Direct,
        ConversationKind::Group => pb::ConversationKind::Group,
        ConversationKind::Channel => pb::ConversationKind::Channel,
        ConversationKind::Space => pb::ConversationKind::Space,
        ConversationKind::SpaceChannel => pb::ConversationKind::SpaceChannel,
        ConversationKind::Thread => pb::ConversationKind::Thread,
    }
}

/// A kind from the wire.
pub fn kind_from(k: i32) -> Option<ConversationKind> {
    match pb::ConversationKind::try_from(k).ok()? {
        pb::ConversationKind::Direct => Some(ConversationKind::Direct),
        pb::ConversationKind::Group => Some(ConversationKind::Group),
        pb::ConversationKind::Channel => Some(ConversationKind::Channel),
        pb::ConversationKind::Unspecified
        | pb::ConversationKind::Space
        | pb::ConversationKind::SpaceChannel
        | pb::ConversationKind::Thread => None,
    }
}

/// A role on the wire.
pub fn role(r: MemberRole) -> pb::MemberRole {
    match r {
        MemberRole::Member => pb::MemberRole::Member,
        MemberRole::Admin => pb::MemberRole::Admin,
        MemberRole::Owner => pb::MemberRole::Owner,
    }
}

/// A role from the wire.
pub fn role_from(r: i32) -> Option<MemberRole> {
    match pb::MemberRole::try_from(r).ok()? {
        pb::MemberRole::Member => Some(MemberRole::Member),
        pb::MemberRole::Admin => Some(MemberRole::Admin),
        pb::MemberRole::Owner => Some(MemberRole::Owner),
        pb::MemberRole::Unspecified => None,
    }
}

/// Rights on the wire.
pub fn rights(r: AdminRights) -> pb::AdminRights {
    pb::AdminRights {
        invite: r.invite,
        remove_members: r.remove_members,
        edit_info: r.edit_info,
        pin: r.pin,
        delete_messages: r.delete_messages,
        post: r.post,
    }
}

/// Rights from the wire.
pub fn rights_from(r: Option<pb::AdminRights>) -> AdminRights {
    let r = r.unwrap_or_default();
    AdminRights {
        invite: r.invite,
        remove_members: r.remove_members,
        edit_info: r.edit_info,
        pin: r.pin,
        delete_messages: r.delete_messages,
        post: r.post,
    }
}

/// Settings on the wire.
pub fn settings(s: &MemberSettings) -> pb::MemberSettings {
    pb::MemberSettings {
        muted_until_ms: s.muted_until_ms,
        pinned: s.pinned,
        archived: s.archived,
        draft: s.draft.clone(),
    }
}

/// A conversation on the wire, as `me` sees it.
pub fn conversation(c: &Conversation, me: UserId) -> pb::Conversation {
    let (avatar_file_id, avatar_url) = super::avatar(c.avatar);
    pb::Conversation {
        avatar_file_id,
        avatar_url,
        pinned_message_id: c.pinned_message.map(|m| m.to_string()).unwrap_or_default(),
        id: c.id.to_string(),
        kind: kind(c.kind) as i32,
        title: c.title.clone(),
        about: c.about.clone(),
        owner_id: c.owner_id.to_string(),
        member_count: c.member_count,
        last_seq: c.last_seq,
        created_at_ms: c.created_at_ms,
        last_activity_at_ms: c.last_activity_at_ms,
        peer_user_id: c.peer_of(me).map(|u| u.to_string()).unwrap_or_default(),
        space_id: c.space_id.map(|s| s.to_string()).unwrap_or_default(),
        parent_conversation_id: c.parent.map(|p| p.0.to_string()).unwrap_or_default(),
        root_message_id: c.parent.map(|p| p.1.to_string()).unwrap_or_default(),
        history_visibility: if c.history_shared {
            pb::HistoryVisibility::Shared
        } else {
            pb::HistoryVisibility::SinceJoin
        } as i32,
        admins_only: c.admins_only,
    }
}

/// A history visibility from the wire: `None` for unspecified, an error for unknown values.
pub fn history_shared(v: i32) -> Result<Option<bool>, switchboard_core::ValidationError> {
    match pb::HistoryVisibility::try_from(v) {
        Ok(pb::HistoryVisibility::Unspecified) => Ok(None),
        Ok(pb::HistoryVisibility::Shared) => Ok(Some(true)),
        Ok(pb::HistoryVisibility::SinceJoin) => Ok(Some(false)),
        Err(_) => Err(switchboard_core::ValidationError::new("history_visibility", format!("unknown value {v}"))),
    }
}

/// A member's view on the wire.
pub fn view(v: &ConversationView) -> pb::ConversationView {
    let me = v.member.user_id;
    pb::ConversationView {
        conversation: Some(conversation(&v.conversation, me)),
        role: role(v.member.role) as i32,
        rights: Some(rights(v.rights)),
        read_seq: v.member.read_seq,
        delivered_seq: v.member.delivered_seq,
        unread_count: v.unread,
        mention_count: v.mentions,
        important_count: v.important,
        settings: Some(settings(&v.member.settings)),
        last_message: v.last_message.as_ref().map(|m| message(m, Some(me))),
        visible_from_seq: v.member.visible_from_seq,
    }
}

/// A member on the wire.
pub fn member(m: &Member) -> pb::Member {
    pb::Member {
        user_id: m.user_id.to_string(),
        role: role(m.role) as i32,
        rights: Some(rights(effective_rights(m))),
        joined_at_ms: m.joined_at_ms,
        read_seq: m.read_seq,
        delivered_seq: m.delivered_seq,
        muted_until_ms: m.post_muted_until_ms,
    }
}
