//! Format 1: serde JSON in the shape the domain types had when they carried serde
//! themselves (externally tagged enums, ids as numbers). Frozen by `tests/fixtures/v1`;
//! a field may be added here only with `#[serde(default)]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchboard_core::event as ev;
use switchboard_core::model as md;
use switchboard_core::{ConversationId, CustomEmojiId, MessageId, SessionId, UserId};

use crate::Stored;

/// Defines an enum of unit variants mirroring a domain enum, with both conversions.
macro_rules! unit_enum {
    ($(#[$doc:meta])* $name:ident = $domain:path { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[allow(missing_docs)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name { $($variant),* }

        impl From<$domain> for $name {
            fn from(v: $domain) -> Self {
                use $domain as D;
                match v { $(D::$variant => Self::$variant),* }
            }
        }

        impl From<$name> for $domain {
            fn from(v: $name) -> Self {
                use $domain as D;
                match v { $($name::$variant => D::$variant),* }
            }
        }
    };
}

fn cid(v: i64) -> ConversationId {
    ConversationId::from_raw(v)
}

fn uid(v: i64) -> UserId {
    UserId::from_raw(v)
}

fn mid(v: i64) -> MessageId {
    MessageId::from_raw(v)
}

// ---- message parts -------------------------------------------------------------------

unit_enum!(
    /// A text entity's kind.
    EntityKind = md::EntityKind { Mention, MentionAll, Link, Bold, Italic, Code, MentionRole, CustomEmoji }
);

/// A span of text with a meaning.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub kind: EntityKind,
    pub offset: u32,
    pub length: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_emoji_id: Option<i64>,
}

impl From<&md::Entity> for Entity {
    fn from(e: &md::Entity) -> Self {
        Self {
            kind: e.kind.into(),
            offset: e.offset,
            length: e.length,
            user_id: e.user_id.map(UserId::raw),
            url: e.url.clone(),
            role_id: e.role_id,
            custom_emoji_id: e.custom_emoji_id.map(CustomEmojiId::raw),
        }
    }
}

impl From<Entity> for md::Entity {
    fn from(e: Entity) -> Self {
        Self {
            kind: e.kind.into(),
            offset: e.offset,
            length: e.length,
            user_id: e.user_id.map(uid),
            url: e.url,
            role_id: e.role_id,
            custom_emoji_id: e.custom_emoji_id.map(CustomEmojiId::from_raw),
        }
    }
}

unit_enum!(
    /// What a service message records.
    ServiceAction = md::ServiceAction {
        Created, MembersAdded, MemberRemoved, MemberLeft, TitleChanged, AboutChanged,
        OwnershipTransferred, AdminPromoted, AdminDemoted, MemberJoined, MemberBanned,
        MemberUnbanned, MemberTimedOut, MemberRolesChanged, SpaceSettingsChanged,
        ChannelChanged, ChannelDeleted, FolderChanged, FolderDeleted, RoleChanged,
        RoleDeleted, ThreadStarted, HistoryVisibilityChanged, MemberProfileChanged,
        ConversationDeleted, PostingRestricted, AvatarChanged, MessagePinned, MessageUnpinned,
    }
);

/// A service message's content.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceContent {
    pub action: ServiceAction,
    pub user_ids: Vec<i64>,
    pub title: String,
    #[serde(default)]
    pub target_id: i64,
}

impl From<&md::ServiceContent> for ServiceContent {
    fn from(s: &md::ServiceContent) -> Self {
        Self {
            action: s.action.into(),
            user_ids: s.user_ids.iter().map(|u| u.raw()).collect(),
            title: s.title.clone(),
            target_id: s.target_id,
        }
    }
}

impl From<ServiceContent> for md::ServiceContent {
    fn from(s: ServiceContent) -> Self {
        Self {
            action: s.action.into(),
            user_ids: s.user_ids.into_iter().map(uid).collect(),
            title: s.title,
            target_id: s.target_id,
        }
    }
}

/// A message's content.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    Text {
        text: String,
        entities: Vec<Entity>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Attachment>,
    },
    Service(ServiceContent),
    Deleted,
    Sticker(Sticker),
}

impl Stored for md::Content {
    const WHAT: &'static str = "message content";
    type V1 = Content;

    fn to_v1(&self) -> Content {
        match self {
            md::Content::Text { text, entities, attachments } => Content::Text {
                text: text.clone(),
                entities: entities.iter().map(Entity::from).collect(),
                attachments: attachments.iter().map(Attachment::from).collect(),
            },
            md::Content::Service(s) => Content::Service(s.into()),
            md::Content::Sticker(s) => Content::Sticker(s.into()),
            md::Content::Deleted => Content::Deleted,
        }
    }

    fn from_v1(v: Content) -> Self {
        match v {
            Content::Text { text, entities, attachments } => md::Content::Text {
                text,
                entities: entities.into_iter().map(Into::into).collect(),
                attachments: attachments.into_iter().map(Into::into).collect(),
            },
            Content::Service(s) => md::Content::Service(s.into()),
            Content::Sticker(s) => md::Content::Sticker(s.into()),
            Content::Deleted => md::Content::Deleted,
        }
    }
}

/// Where a forwarded message came from.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardInfo {
    pub conversation_id: i64,
    pub message_id: i64,
    pub sender_id: i64,
    pub sent_at_ms: i64,
}

impl Stored for md::ForwardInfo {
    const WHAT: &'static str = "forward origin";
    type V1 = ForwardInfo;

    fn to_v1(&self) -> ForwardInfo {
        ForwardInfo {
            conversation_id: self.conversation_id.raw(),
            message_id: self.message_id.raw(),
            sender_id: self.sender_id.raw(),
            sent_at_ms: self.sent_at_ms,
        }
    }

    fn from_v1(v: ForwardInfo) -> Self {
        Self {
            conversation_id: cid(v.conversation_id),
            message_id: mid(v.message_id),
            sender_id: uid(v.sender_id),
            sent_at_ms: v.sent_at_ms,
        }
    }
}

/// A message's client metadata: a JSON object of strings.
impl Stored for BTreeMap<String, String> {
    const WHAT: &'static str = "message metadata";
    type V1 = BTreeMap<String, String>;

    fn to_v1(&self) -> Self::V1 {
        self.clone()
    }

    fn from_v1(v: Self::V1) -> Self {
        v
    }
}

/// The thread on a message.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub thread_id: i64,
    pub reply_count: u32,
    pub last_reply_at_ms: i64,
}

impl From<&md::ThreadSummary> for ThreadSummary {
    fn from(t: &md::ThreadSummary) -> Self {
        Self { thread_id: t.thread_id.raw(), reply_count: t.reply_count, last_reply_at_ms: t.last_reply_at_ms }
    }
}

impl From<ThreadSummary> for md::ThreadSummary {
    fn from(t: ThreadSummary) -> Self {
        Self { thread_id: cid(t.thread_id), reply_count: t.reply_count, last_reply_at_ms: t.last_reply_at_ms }
    }
}

/// A message as a bus event carries it.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub seq: u64,
    pub sender_id: i64,
    pub created_at_ms: i64,
    pub edited_at_ms: Option<i64>,
    pub content: Content,
    pub reply_to: Option<i64>,
    pub forward: Option<ForwardInfo>,
    pub metadata: BTreeMap<String, String>,
    pub client_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<ThreadSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub important: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_previews: Vec<LinkPreview>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_link_preview: bool,
}

/// A link's preview card; the image as an attachment (its file only on the bus).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPreview {
    pub url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub site_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Attachment>,
}

impl From<&md::LinkPreview> for LinkPreview {
    fn from(p: &md::LinkPreview) -> Self {
        Self {
            url: p.url.clone(),
            site_name: p.site_name.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            image: p.image.as_ref().map(Attachment::from),
        }
    }
}

impl From<LinkPreview> for md::LinkPreview {
    fn from(p: LinkPreview) -> Self {
        Self {
            url: p.url,
            site_name: p.site_name,
            title: p.title,
            description: p.description,
            image: p.image.map(Into::into),
        }
    }
}

/// A message's link previews as stored (a JSON array; images without their files).
impl Stored for Vec<md::LinkPreview> {
    const WHAT: &'static str = "link previews";
    type V1 = Vec<LinkPreview>;

    fn to_v1(&self) -> Self::V1 {
        self.iter()
            .map(|p| LinkPreview {
                image: p.image.as_ref().map(|a| Attachment { file: None, ..Attachment::from(a) }),
                ..LinkPreview::from(p)
            })
            .collect()
    }

    fn from_v1(v: Self::V1) -> Self {
        v.into_iter().map(Into::into).collect()
    }
}

impl From<&md::Message> for Message {
    fn from(m: &md::Message) -> Self {
        Self {
            id: m.id.raw(),
            conversation_id: m.conversation_id.raw(),
            seq: m.seq,
            sender_id: m.sender_id.raw(),
            created_at_ms: m.created_at_ms,
            edited_at_ms: m.edited_at_ms,
            content: m.content.to_v1(),
            reply_to: m.reply_to.map(MessageId::raw),
            forward: m.forward.as_ref().map(Stored::to_v1),
            metadata: m.metadata.clone(),
            client_key: m.client_key.clone(),
            thread: m.thread.as_deref().map(Into::into),
            reactions: m
                .reactions
                .iter()
                .map(|r| Reaction { emoji: r.emoji.clone(), count: r.count, mine: r.mine })
                .collect(),
            important: m.important,
            silent: m.silent,
            link_previews: m.link_previews.iter().map(LinkPreview::from).collect(),
            no_link_preview: m.no_link_preview,
        }
    }
}

impl From<Message> for md::Message {
    fn from(m: Message) -> Self {
        Self {
            id: mid(m.id),
            conversation_id: cid(m.conversation_id),
            seq: m.seq,
            sender_id: uid(m.sender_id),
            created_at_ms: m.created_at_ms,
            edited_at_ms: m.edited_at_ms,
            content: md::Content::from_v1(m.content),
            reply_to: m.reply_to.map(mid),
            forward: m.forward.map(md::ForwardInfo::from_v1),
            metadata: m.metadata,
            client_key: m.client_key,
            thread: m.thread.map(|t| Box::new(t.into())),
            reactions: m
                .reactions
                .into_iter()
                .map(|r| md::Reaction { emoji: r.emoji, count: r.count, mine: r.mine })
                .collect(),
            important: m.important,
            silent: m.silent,
            link_previews: m.link_previews.into_iter().map(Into::into).collect(),
            no_link_preview: m.no_link_preview,
        }
    }
}

// ---- the user log ----------------------------------------------------------------------

/// A member's own settings for a conversation.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberSettings {
    pub muted_until_ms: i64,
    pub pinned: bool,
    pub archived: bool,
    pub draft: String,
}

impl From<&md::MemberSettings> for MemberSettings {
    fn from(s: &md::MemberSettings) -> Self {
        Self { muted_until_ms: s.muted_until_ms, pinned: s.pinned, archived: s.archived, draft: s.draft.clone() }
    }
}

impl From<MemberSettings> for md::MemberSettings {
    fn from(s: MemberSettings) -> Self {
        Self { muted_until_ms: s.muted_until_ms, pinned: s.pinned, archived: s.archived, draft: s.draft }
    }
}

unit_enum!(
    /// Why a session ended.
    SessionEndReason = ev::SessionEndReason {
        LoggedOut, EndedElsewhere, PasswordChanged, AccountDisabled, RefreshTokenReused, Replaced,
        AccountDeleted,
    }
);

/// A member's unread and mention counters.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadCounts {
    pub unread: u32,
    pub mentions: u32,
}

/// What happened, in a user's log.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEventKind {
    ConversationJoined {
        conversation_id: i64,
        joined_at_seq: u64,
    },
    ConversationLeft {
        conversation_id: i64,
        removed: bool,
        left_at_seq: u64,
    },
    ReadStateChanged {
        conversation_id: i64,
        read_seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counts: Option<UnreadCounts>,
    },
    SettingsChanged {
        conversation_id: i64,
        settings: MemberSettings,
    },
    HistoryCleared {
        conversation_id: i64,
        visible_from_seq: u64,
    },
    MessagesHidden {
        conversation_id: i64,
        message_ids: Vec<i64>,
    },
    JoinRequested {
        conversation_id: i64,
        user_id: i64,
    },
    JoinRequestDecided {
        conversation_id: i64,
        accepted: bool,
    },
    SessionEnded {
        session_id: i64,
        reason: SessionEndReason,
    },
    UserSettingsChanged {
        changes: Vec<(String, Option<String>)>,
    },
    SessionStarted {
        session_id: i64,
        device_name: String,
        platform: String,
    },
    MessageSaved {
        conversation_id: i64,
        message_id: i64,
        saved: bool,
    },
    JoinRequestResolved {
        conversation_id: i64,
        user_id: i64,
        accepted: bool,
        decided_by: i64,
    },
    ContactChanged {
        user_id: i64,
        contact: Option<Contact>,
    },
    FriendRequestChanged {
        request: FriendRequest,
        state: FriendRequestState,
    },
    BlockChanged {
        user_id: i64,
        blocked: bool,
    },
    PrivacyChanged {
        rule: PrivacyRule,
    },
}

unit_enum!(
    /// A privacy setting.
    PrivacySetting = switchboard_core::privacy::PrivacySetting {
        DirectMessages, GroupInvites, Presence, ProfilePhoto, Bio, Search,
    }
);

unit_enum!(
    /// Who a privacy setting lets in.
    Audience = switchboard_core::privacy::Audience { Everyone, Contacts, Friends, Nobody }
);

/// A privacy rule as a user-log entry carries it.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyRule {
    pub setting: PrivacySetting,
    pub audience: Audience,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<i64>,
}

unit_enum!(
    /// What happened to a friend request.
    FriendRequestState = md::FriendRequestState { Sent, Cancelled, Accepted, Rejected }
);

/// A friend request as a user-log entry carries it.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FriendRequest {
    pub from: i64,
    pub to: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub created_at_ms: i64,
}

/// A contact as a user-log entry carries it.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remark: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mutual: bool,
    pub added_at_ms: i64,
}

impl Stored for ev::UserEventKind {
    const WHAT: &'static str = "user event";
    type V1 = UserEventKind;

    fn to_v1(&self) -> UserEventKind {
        use ev::UserEventKind as D;
        match self {
            D::ConversationJoined { conversation_id, joined_at_seq } => UserEventKind::ConversationJoined {
                conversation_id: conversation_id.raw(),
                joined_at_seq: *joined_at_seq,
            },
            D::ConversationLeft { conversation_id, removed, left_at_seq } => UserEventKind::ConversationLeft {
                conversation_id: conversation_id.raw(),
                removed: *removed,
                left_at_seq: *left_at_seq,
            },
            D::ReadStateChanged { conversation_id, read_seq, counts } => UserEventKind::ReadStateChanged {
                conversation_id: conversation_id.raw(),
                read_seq: *read_seq,
                counts: counts.map(|c| UnreadCounts { unread: c.unread, mentions: c.mentions }),
            },
            D::SettingsChanged { conversation_id, settings } => {
                UserEventKind::SettingsChanged { conversation_id: conversation_id.raw(), settings: settings.into() }
            }
            D::HistoryCleared { conversation_id, visible_from_seq } => UserEventKind::HistoryCleared {
                conversation_id: conversation_id.raw(),
                visible_from_seq: *visible_from_seq,
            },
            D::MessagesHidden { conversation_id, message_ids } => UserEventKind::MessagesHidden {
                conversation_id: conversation_id.raw(),
                message_ids: message_ids.iter().map(|m| m.raw()).collect(),
            },
            D::JoinRequested { conversation_id, user_id } => {
                UserEventKind::JoinRequested { conversation_id: conversation_id.raw(), user_id: user_id.raw() }
            }
            D::JoinRequestDecided { conversation_id, accepted } => {
                UserEventKind::JoinRequestDecided { conversation_id: conversation_id.raw(), accepted: *accepted }
            }
            D::SessionEnded { session_id, reason } => {
                UserEventKind::SessionEnded { session_id: session_id.raw(), reason: (*reason).into() }
            }
            D::UserSettingsChanged { changes } => UserEventKind::UserSettingsChanged { changes: changes.clone() },
            D::JoinRequestResolved { conversation_id, user_id, accepted, decided_by } => {
                UserEventKind::JoinRequestResolved {
                    conversation_id: conversation_id.raw(),
                    user_id: user_id.raw(),
                    accepted: *accepted,
                    decided_by: decided_by.raw(),
                }
            }
            D::MessageSaved { conversation_id, message_id, saved } => UserEventKind::MessageSaved {
                conversation_id: conversation_id.raw(),
                message_id: message_id.raw(),
                saved: *saved,
            },
            D::BlockChanged { user_id, blocked } => {
                UserEventKind::BlockChanged { user_id: user_id.raw(), blocked: *blocked }
            }
            D::PrivacyChanged { rule } => UserEventKind::PrivacyChanged {
                rule: PrivacyRule {
                    setting: rule.setting.into(),
                    audience: rule.audience.into(),
                    allow: rule.allow.iter().map(|u| u.raw()).collect(),
                    deny: rule.deny.iter().map(|u| u.raw()).collect(),
                },
            },
            D::FriendRequestChanged { request, state } => UserEventKind::FriendRequestChanged {
                request: FriendRequest {
                    from: request.from.raw(),
                    to: request.to.raw(),
                    message: request.message.clone(),
                    created_at_ms: request.created_at_ms,
                },
                state: (*state).into(),
            },
            D::ContactChanged { user_id, contact } => UserEventKind::ContactChanged {
                user_id: user_id.raw(),
                contact: contact.as_ref().map(|c| Contact {
                    remark: c.remark.clone(),
                    notes: c.notes.clone(),
                    mutual: c.mutual,
                    added_at_ms: c.added_at_ms,
                }),
            },
            D::SessionStarted { session_id, device_name, platform } => UserEventKind::SessionStarted {
                session_id: session_id.raw(),
                device_name: device_name.clone(),
                platform: platform.clone(),
            },
        }
    }

    fn from_v1(v: UserEventKind) -> Self {
        use ev::UserEventKind as D;
        match v {
            UserEventKind::ConversationJoined { conversation_id, joined_at_seq } => {
                D::ConversationJoined { conversation_id: cid(conversation_id), joined_at_seq }
            }
            UserEventKind::ConversationLeft { conversation_id, removed, left_at_seq } => {
                D::ConversationLeft { conversation_id: cid(conversation_id), removed, left_at_seq }
            }
            UserEventKind::ReadStateChanged { conversation_id, read_seq, counts } => D::ReadStateChanged {
                conversation_id: cid(conversation_id),
                read_seq,
                counts: counts.map(|c| ev::UnreadCounts { unread: c.unread, mentions: c.mentions }),
            },
            UserEventKind::SettingsChanged { conversation_id, settings } => {
                D::SettingsChanged { conversation_id: cid(conversation_id), settings: settings.into() }
            }
            UserEventKind::HistoryCleared { conversation_id, visible_from_seq } => {
                D::HistoryCleared { conversation_id: cid(conversation_id), visible_from_seq }
            }
            UserEventKind::MessagesHidden { conversation_id, message_ids } => D::MessagesHidden {
                conversation_id: cid(conversation_id),
                message_ids: message_ids.into_iter().map(mid).collect(),
            },
            UserEventKind::JoinRequested { conversation_id, user_id } => {
                D::JoinRequested { conversation_id: cid(conversation_id), user_id: uid(user_id) }
            }
            UserEventKind::JoinRequestDecided { conversation_id, accepted } => {
                D::JoinRequestDecided { conversation_id: cid(conversation_id), accepted }
            }
            UserEventKind::SessionEnded { session_id, reason } => {
                D::SessionEnded { session_id: SessionId::from_raw(session_id), reason: reason.into() }
            }
            UserEventKind::UserSettingsChanged { changes } => D::UserSettingsChanged { changes },
            UserEventKind::JoinRequestResolved { conversation_id, user_id, accepted, decided_by } => {
                D::JoinRequestResolved {
                    conversation_id: cid(conversation_id),
                    user_id: uid(user_id),
                    accepted,
                    decided_by: uid(decided_by),
                }
            }
            UserEventKind::SessionStarted { session_id, device_name, platform } => {
                D::SessionStarted { session_id: SessionId::from_raw(session_id), device_name, platform }
            }
            UserEventKind::MessageSaved { conversation_id, message_id, saved } => {
                D::MessageSaved { conversation_id: cid(conversation_id), message_id: mid(message_id), saved }
            }
            UserEventKind::BlockChanged { user_id, blocked } => D::BlockChanged { user_id: uid(user_id), blocked },
            UserEventKind::PrivacyChanged { rule } => D::PrivacyChanged {
                rule: switchboard_core::privacy::PrivacyRule {
                    setting: rule.setting.into(),
                    audience: rule.audience.into(),
                    allow: rule.allow.into_iter().map(uid).collect(),
                    deny: rule.deny.into_iter().map(uid).collect(),
                },
            },
            UserEventKind::FriendRequestChanged { request, state } => D::FriendRequestChanged {
                request: md::FriendRequest {
                    from: uid(request.from),
                    to: uid(request.to),
                    message: request.message,
                    created_at_ms: request.created_at_ms,
                },
                state: state.into(),
            },
            UserEventKind::ContactChanged { user_id, contact } => D::ContactChanged {
                user_id: uid(user_id),
                contact: contact.map(|c| md::Contact {
                    user_id: uid(user_id),
                    remark: c.remark,
                    notes: c.notes,
                    mutual: c.mutual,
                    added_at_ms: c.added_at_ms,
                }),
            },
        }
    }
}

mod bus;
mod expressions;
mod files;
mod records;
pub use bus::*;
pub use expressions::*;
pub use files::*;
pub use records::*;
