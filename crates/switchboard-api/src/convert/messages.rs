//! Messages and entities on the wire.

use switchboard_core::model::{Content, Entity, EntityKind, ForwardInfo, Message, ServiceAction, ServiceContent};
use switchboard_core::values::split_reaction;
use switchboard_core::{CustomEmojiId, UserId, ValidationError};
use switchboard_proto::v1 as pb;

fn entity_kind(k: EntityKind) -> pb::EntityKind {
    match k {
        EntityKind::Mention => pb::EntityKind::Mention,
        EntityKind::MentionAll => pb::EntityKind::MentionAll,
        EntityKind::Link => pb::EntityKind::Link,
        EntityKind::Bold => pb::EntityKind::Bold,
        EntityKind::Italic => pb::EntityKind::Italic,
        EntityKind::Code => pb::EntityKind::Code,
        EntityKind::MentionRole => pb::EntityKind::MentionRole,
        EntityKind::CustomEmoji => pb::EntityKind::CustomEmoji,
    }
}

/// An entity from the wire.
pub fn entity_from(e: &pb::Entity) -> Result<Entity, ValidationError> {
    let kind = match pb::EntityKind::try_from(e.kind) {
        Ok(pb::EntityKind::Mention) => EntityKind::Mention,
        Ok(pb::EntityKind::MentionAll) => EntityKind::MentionAll,
        Ok(pb::EntityKind::Link) => EntityKind::Link,
        Ok(pb::EntityKind::Bold) => EntityKind::Bold,
        Ok(pb::EntityKind::Italic) => EntityKind::Italic,
        Ok(pb::EntityKind::Code) => EntityKind::Code,
        Ok(pb::EntityKind::MentionRole) => EntityKind::MentionRole,
        Ok(pb::EntityKind::CustomEmoji) => EntityKind::CustomEmoji,
        _ => return Err(ValidationError::new("entities", "unknown entity kind")),
    };
    Ok(Entity {
        kind,
        offset: e.offset,
        length: e.length,
        user_id: UserId::parse_opt(&e.user_id, "entities.user_id")?,
        url: (!e.url.is_empty()).then(|| e.url.clone()),
        role_id: if e.role_id.is_empty() {
            None
        } else {
            Some(
                e.role_id.parse::<i64>().ok().filter(|r| *r >= 0).ok_or_else(|| {
                    ValidationError::new("entities.role_id", format!("{:?} is not a role id", e.role_id))
                })?,
            )
        },
        custom_emoji_id: CustomEmojiId::parse_opt(&e.custom_emoji_id, "entities.custom_emoji_id")?,
    })
}

/// A stored reaction key as the wire shows it: the Unicode emoji, and the custom emoji's id
/// (each empty when the other is given).
pub fn reaction_key(key: &str) -> (String, String) {
    let (emoji, custom) = split_reaction(key);
    (emoji.to_owned(), custom.map(|c| c.to_string()).unwrap_or_default())
}

/// Text content from the wire.
pub fn text_from(t: Option<pb::TextContent>) -> Result<Option<(String, Vec<Entity>)>, ValidationError> {
    let Some(t) = t else { return Ok(None) };
    let entities = t.entities.iter().map(entity_from).collect::<Result<_, _>>()?;
    Ok(Some((t.text, entities)))
}

fn entity(e: &Entity) -> pb::Entity {
    pb::Entity {
        kind: entity_kind(e.kind) as i32,
        offset: e.offset,
        length: e.length,
        user_id: e.user_id.map(|u| u.to_string()).unwrap_or_default(),
        url: e.url.clone().unwrap_or_default(),
        role_id: e.role_id.map(|r| r.to_string()).unwrap_or_default(),
        custom_emoji_id: e.custom_emoji_id.map(|r| r.to_string()).unwrap_or_default(),
    }
}

fn action(a: ServiceAction) -> pb::ServiceAction {
    match a {
        ServiceAction::Created => pb::ServiceAction::Created,
        ServiceAction::MembersAdded => pb::ServiceAction::MembersAdded,
        ServiceAction::MemberRemoved => pb::ServiceAction::MemberRemoved,
        ServiceAction::MemberLeft => pb::ServiceAction::MemberLeft,
        ServiceAction::TitleChanged => pb::ServiceAction::TitleChanged,
        ServiceAction::AboutChanged => pb::ServiceAction::AboutChanged,
        ServiceAction::OwnershipTransferred => pb::ServiceAction::OwnershipTransferred,
        ServiceAction::AdminPromoted => pb::ServiceAction::AdminPromoted,
        ServiceAction::AdminDemoted => pb::ServiceAction::AdminDemoted,
        ServiceAction::MemberJoined => pb::ServiceAction::MemberJoined,
        ServiceAction::MemberBanned => pb::ServiceAction::MemberBanned,
        ServiceAction::MemberUnbanned => pb::ServiceAction::MemberUnbanned,
        ServiceAction::MemberTimedOut => pb::ServiceAction::MemberTimedOut,
        ServiceAction::MemberRolesChanged => pb::ServiceAction::MemberRolesChanged,
        ServiceAction::SpaceSettingsChanged => pb::ServiceAction::SpaceSettingsChanged,
        ServiceAction::ChannelChanged => pb::ServiceAction::ChannelChanged,
        ServiceAction::ChannelDeleted => pb::ServiceAction::ChannelDeleted,
        ServiceAction::FolderChanged => pb::ServiceAction::FolderChanged,
        ServiceAction::FolderDeleted => pb::ServiceAction::FolderDeleted,
        ServiceAction::RoleChanged => pb::ServiceAction::RoleChanged,
        ServiceAction::RoleDeleted => pb::ServiceAction::RoleDeleted,
        ServiceAction::ThreadStarted => pb::ServiceAction::ThreadStarted,
        ServiceAction::HistoryVisibilityChanged => pb::ServiceAction::HistoryVisibilityChanged,
        ServiceAction::MemberProfileChanged => pb::ServiceAction::MemberProfileChanged,
        ServiceAction::ConversationDeleted => pb::ServiceAction::ConversationDeleted,
        ServiceAction::PostingRestricted => pb::ServiceAction::PostingRestricted,
        ServiceAction::AvatarChanged => pb::ServiceAction::AvatarChanged,
        ServiceAction::MessagePinned => pb::ServiceAction::MessagePinned,
        ServiceAction::MessageUnpinned => pb::ServiceAction::MessageUnpinned,
    }
}

fn service(s: &ServiceContent) -> pb::ServiceContent {
    pb::ServiceContent {
        action: action(s.action) as i32,
        user_ids: s.user_ids.iter().map(|u| u.to_string()).collect(),
        title: s.title.clone(),
        target_id: if s.target_id == 0 { String::new() } else { s.target_id.to_string() },
    }
}

fn forward(f: &ForwardInfo) -> pb::ForwardInfo {
    pb::ForwardInfo {
        conversation_id: f.conversation_id.to_string(),
        message_id: f.message_id.to_string(),
        sender_id: f.sender_id.to_string(),
        sent_at_ms: f.sent_at_ms,
    }
}

/// A message on the wire. The client key is shown to its sender only (`viewer`); shared
/// events pass `None`.
pub fn message(m: &Message, viewer: Option<UserId>) -> pb::Message {
    let content = match &m.content {
        Content::Text { text, entities, attachments } => Some(pb::message::Content::Text(pb::TextContent {
            text: text.clone(),
            entities: entities.iter().map(entity).collect(),
            attachments: attachments.iter().map(super::attachment).collect(),
        })),
        Content::Service(s) => Some(pb::message::Content::Service(service(s))),
        Content::Sticker(s) => Some(pb::message::Content::Sticker(pb::StickerContent {
            pack_id: s.pack_id.to_string(),
            sticker_id: s.sticker_id.to_string(),
            emoji: s.emoji.clone(),
            file_id: s.image.file_id.to_string(),
            file: s.image.file.as_deref().map(super::file),
        })),
        Content::Deleted => None,
    };
    pb::Message {
        // Online-only messages are never stored and have no id.
        id: if m.id.raw() == 0 { String::new() } else { m.id.to_string() },
        conversation_id: m.conversation_id.to_string(),
        seq: m.seq,
        sender_id: m.sender_id.to_string(),
        created_at_ms: m.created_at_ms,
        edited_at_ms: m.edited_at_ms.unwrap_or(0),
        deleted: m.is_deleted(),
        content,
        reply_to_message_id: m.reply_to.map(|r| r.to_string()).unwrap_or_default(),
        forward: m.forward.as_ref().map(forward),
        metadata: m.metadata.clone(),
        client_key: if viewer == Some(m.sender_id) { m.client_key.clone().unwrap_or_default() } else { String::new() },
        thread: m.thread.as_deref().map(|t| pb::ThreadSummary {
            thread_id: t.thread_id.to_string(),
            reply_count: t.reply_count,
            last_reply_at_ms: t.last_reply_at_ms,
        }),
        reactions: m
            .reactions
            .iter()
            .map(|r| {
                let (emoji, custom) = reaction_key(&r.emoji);
                pb::Reaction { emoji, count: r.count, mine: r.mine, custom_emoji_id: custom }
            })
            .collect(),
        important: m.important,
        silent: m.silent,
        link_previews: m
            .link_previews
            .iter()
            .map(|p| pb::LinkPreview {
                url: p.url.clone(),
                site_name: p.site_name.clone(),
                title: p.title.clone(),
                description: p.description.clone(),
                image: p.image.as_ref().map(super::attachment),
            })
            .collect(),
        no_link_preview: m.no_link_preview,
    }
}

/// A scheduled message on the wire (its sender's view).
pub fn scheduled(s: &switchboard_service::Scheduled) -> pb::ScheduledMessage {
    let text = match &s.content {
        Content::Text { text, entities, .. } => Some(pb::TextContent {
            text: text.clone(),
            entities: entities.iter().map(entity).collect(),
            attachments: vec![],
        }),
        _ => None,
    };
    pb::ScheduledMessage {
        id: s.id.to_string(),
        conversation_id: s.conversation_id.to_string(),
        send_at_ms: s.send_at_ms,
        text,
        reply_to_message_id: s.reply_to.map(|r| r.to_string()).unwrap_or_default(),
        metadata: s.metadata.clone(),
        important: s.important,
        silent: s.silent,
        client_key: s.client_key.clone(),
        created_at_ms: s.created_at_ms,
        failed_reason: s.failed.clone().unwrap_or_default(),
        no_link_preview: s.no_link_preview,
    }
}
