//! Format 1: serde JSON in the shape the domain types had when they carried serde
//! themselves (externally tagged enums, ids as numbers). Frozen by `tests/fixtures/v1`;
//! a field may be added here only with `#[serde(default)]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use switchboard_core::event as ev;
use switchboard_core::model as md;
use switchboard_core::{ConversationId, FileId, MessageId, SessionId, UserId};

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
    EntityKind = md::EntityKind { Mention, MentionAll, Link, Bold, Italic, Code, MentionRole }
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
        }
    }
}

// ---- bus events ------------------------------------------------------------------------

/// What a conversation event did to its message. A reaction event travels as
/// `MessageEdited` with its `reaction` set: a node that predates reactions reads it as the
/// message as it is now, which it is.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConvEventKind {
    MessageCreated,
    MessageEdited,
    MessageDeleted,
}

/// The reaction a reaction event added or removed.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionChange {
    pub emoji: String,
    pub added: bool,
}

fn conv_kind_to_v1(kind: ev::ConvEventKind, emoji: Option<&String>) -> (ConvEventKind, Option<ReactionChange>) {
    use ev::ConvEventKind as D;
    let change = |added| Some(ReactionChange { emoji: emoji.cloned().unwrap_or_default(), added });
    match kind {
        D::MessageCreated => (ConvEventKind::MessageCreated, None),
        D::MessageEdited => (ConvEventKind::MessageEdited, None),
        D::MessageDeleted => (ConvEventKind::MessageDeleted, None),
        D::ReactionAdded => (ConvEventKind::MessageEdited, change(true)),
        D::ReactionRemoved => (ConvEventKind::MessageEdited, change(false)),
    }
}

fn conv_kind_from_v1(kind: ConvEventKind, reaction: Option<ReactionChange>) -> (ev::ConvEventKind, Option<String>) {
    use ev::ConvEventKind as D;
    match (kind, reaction) {
        (_, Some(r)) => (if r.added { D::ReactionAdded } else { D::ReactionRemoved }, Some(r.emoji)),
        (ConvEventKind::MessageCreated, None) => (D::MessageCreated, None),
        (ConvEventKind::MessageEdited, None) => (D::MessageEdited, None),
        (ConvEventKind::MessageDeleted, None) => (D::MessageDeleted, None),
    }
}

/// One emoji's reactions on a message.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub count: u32,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mine: bool,
}

unit_enum!(
    /// A user's availability.
    PresenceStatus = ev::PresenceStatus { Online, Away, Offline }
);

/// One event of a conversation's log.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvEvent {
    pub conversation_id: i64,
    pub seq: u64,
    pub kind: ConvEventKind,
    pub message: Message,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<EventActor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<ReactionChange>,
}

/// Who caused a conversation event, and when.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventActor {
    pub user_id: i64,
    pub at_ms: i64,
}

/// One event of a user's log.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    pub user_id: i64,
    pub user_seq: u64,
    pub kind: UserEventKind,
    pub created_at_ms: i64,
}

/// A user's presence.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: i64,
    pub status: PresenceStatus,
    pub last_seen_at_ms: i64,
}

/// Someone started or stopped typing.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    pub conversation_id: i64,
    pub user_id: i64,
    pub typing: bool,
    pub expires_at_ms: i64,
}

/// A member's watermarks moved.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub conversation_id: i64,
    pub user_id: i64,
    pub read_seq: u64,
    pub delivered_seq: u64,
}

/// A thread got a reply.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadActivity {
    pub conversation_id: i64,
    pub root_message_id: i64,
    pub thread: ThreadSummary,
}

/// Anything the bus carries to an event stream.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    Conversation(Box<ConvEvent>),
    User(UserEvent),
    Typing(Typing),
    Presence(Presence),
    Receipt(Receipt),
    ThreadActivity(ThreadActivity),
    CaughtUp { user_seq: u64 },
    ResyncRequired { conversation_id: Option<i64> },
    UserUpdated { user: User, shared_with: Vec<i64> },
    FileReady { file: Box<File>, shared_with: Vec<i64> },
    OnlineMessage(Box<Message>),
}

/// A user's profile.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub bio: String,
    pub status_text: String,
    pub bot: bool,
    pub admin: bool,
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    pub created_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<i64>,
}

impl From<&md::User> for User {
    fn from(u: &md::User) -> Self {
        Self {
            id: u.id.raw(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            bio: u.bio.clone(),
            status_text: u.status_text.clone(),
            bot: u.bot,
            admin: u.admin,
            disabled: u.disabled,
            deleted: u.deleted,
            created_at_ms: u.created_at_ms,
            avatar: u.avatar.map(FileId::raw),
        }
    }
}

impl From<User> for md::User {
    fn from(u: User) -> Self {
        Self {
            id: uid(u.id),
            username: u.username,
            display_name: u.display_name,
            bio: u.bio,
            status_text: u.status_text,
            bot: u.bot,
            admin: u.admin,
            disabled: u.disabled,
            deleted: u.deleted,
            created_at_ms: u.created_at_ms,
            avatar: u.avatar.map(FileId::from_raw),
        }
    }
}

impl Stored for ev::Event {
    const WHAT: &'static str = "bus event";
    type V1 = Event;

    fn to_v1(&self) -> Event {
        use ev::Event as D;
        match self {
            D::Conversation(e) => {
                let (kind, reaction) = conv_kind_to_v1(e.kind, e.reaction.as_ref());
                Event::Conversation(Box::new(ConvEvent {
                    conversation_id: e.conversation_id.raw(),
                    seq: e.seq,
                    kind,
                    message: (&e.message).into(),
                    actor: e.actor.map(|a| EventActor { user_id: a.user_id.raw(), at_ms: a.at_ms }),
                    reaction,
                }))
            }
            D::User(e) => Event::User(UserEvent {
                user_id: e.user_id.raw(),
                user_seq: e.user_seq,
                kind: e.kind.to_v1(),
                created_at_ms: e.created_at_ms,
            }),
            D::Typing(t) => Event::Typing(Typing {
                conversation_id: t.conversation_id.raw(),
                user_id: t.user_id.raw(),
                typing: t.typing,
                expires_at_ms: t.expires_at_ms,
            }),
            D::Presence(p) => Event::Presence(Presence {
                user_id: p.user_id.raw(),
                status: p.status.into(),
                last_seen_at_ms: p.last_seen_at_ms,
            }),
            D::Receipt(r) => Event::Receipt(Receipt {
                conversation_id: r.conversation_id.raw(),
                user_id: r.user_id.raw(),
                read_seq: r.read_seq,
                delivered_seq: r.delivered_seq,
            }),
            D::ThreadActivity(t) => Event::ThreadActivity(ThreadActivity {
                conversation_id: t.conversation_id.raw(),
                root_message_id: t.root_message_id.raw(),
                thread: (&t.thread).into(),
            }),
            D::OnlineMessage(m) => Event::OnlineMessage(Box::new(m.into())),
            D::CaughtUp { user_seq } => Event::CaughtUp { user_seq: *user_seq },
            D::ResyncRequired { conversation_id } => {
                Event::ResyncRequired { conversation_id: conversation_id.map(ConversationId::raw) }
            }
            D::UserUpdated { user, shared_with } => {
                Event::UserUpdated { user: user.into(), shared_with: shared_with.iter().map(|c| c.raw()).collect() }
            }
            D::FileReady { file, shared_with } => Event::FileReady {
                file: Box::new(file.into()),
                shared_with: shared_with.iter().map(|c| c.raw()).collect(),
            },
        }
    }

    fn from_v1(v: Event) -> Self {
        use ev::Event as D;
        match v {
            Event::Conversation(e) => {
                let e = *e;
                let (kind, reaction) = conv_kind_from_v1(e.kind, e.reaction);
                D::Conversation(ev::ConvEvent {
                    conversation_id: cid(e.conversation_id),
                    seq: e.seq,
                    kind,
                    message: e.message.into(),
                    actor: e.actor.map(|a| ev::EventActor { user_id: uid(a.user_id), at_ms: a.at_ms }),
                    reaction,
                })
            }
            Event::User(e) => D::User(ev::UserEvent {
                user_id: uid(e.user_id),
                user_seq: e.user_seq,
                kind: ev::UserEventKind::from_v1(e.kind),
                created_at_ms: e.created_at_ms,
            }),
            Event::Typing(t) => D::Typing(ev::Typing {
                conversation_id: cid(t.conversation_id),
                user_id: uid(t.user_id),
                typing: t.typing,
                expires_at_ms: t.expires_at_ms,
            }),
            Event::Presence(p) => D::Presence(ev::Presence {
                user_id: uid(p.user_id),
                status: p.status.into(),
                last_seen_at_ms: p.last_seen_at_ms,
            }),
            Event::Receipt(r) => D::Receipt(ev::Receipt {
                conversation_id: cid(r.conversation_id),
                user_id: uid(r.user_id),
                read_seq: r.read_seq,
                delivered_seq: r.delivered_seq,
            }),
            Event::ThreadActivity(t) => D::ThreadActivity(ev::ThreadActivity {
                conversation_id: cid(t.conversation_id),
                root_message_id: mid(t.root_message_id),
                thread: t.thread.into(),
            }),
            Event::OnlineMessage(m) => D::OnlineMessage((*m).into()),
            Event::CaughtUp { user_seq } => D::CaughtUp { user_seq },
            Event::ResyncRequired { conversation_id } => {
                D::ResyncRequired { conversation_id: conversation_id.map(cid) }
            }
            Event::UserUpdated { user, shared_with } => {
                D::UserUpdated { user: user.into(), shared_with: shared_with.into_iter().map(cid).collect() }
            }
            Event::FileReady { file, shared_with } => {
                D::FileReady { file: (*file).into(), shared_with: shared_with.into_iter().map(cid).collect() }
            }
        }
    }
}

/// One node's presence report: its users and their status there (`None`: gone).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceReport {
    pub node: u64,
    pub full: bool,
    pub users: Vec<(i64, Option<PresenceStatus>)>,
}

mod files;
mod records;
pub use files::*;
pub use records::*;
