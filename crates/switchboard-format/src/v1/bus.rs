//! Format 1 of what crosses the bus between nodes: conversation and user events, the
//! ephemeral signals and the stream's control events.

use serde::{Deserialize, Serialize};
use switchboard_core::event as ev;
use switchboard_core::model as md;
use switchboard_core::{ConversationId, FileId};

use super::{File, Message, ThreadSummary, UserEventKind, cid, mid, uid};
use crate::Stored;

/// What a conversation event did to its message. A reaction event travels as
/// `MessageEdited` with its `reaction` set, a link-preview event as `MessageEdited` with
/// `previewed` set: a node that predates them reads either as the message as it is now,
/// which it is.
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

fn conv_kind_to_v1(kind: ev::ConvEventKind, emoji: Option<&String>) -> (ConvEventKind, Option<ReactionChange>, bool) {
    use ev::ConvEventKind as D;
    let change = |added| Some(ReactionChange { emoji: emoji.cloned().unwrap_or_default(), added });
    match kind {
        D::MessageCreated => (ConvEventKind::MessageCreated, None, false),
        D::MessageEdited => (ConvEventKind::MessageEdited, None, false),
        D::MessageDeleted => (ConvEventKind::MessageDeleted, None, false),
        D::ReactionAdded => (ConvEventKind::MessageEdited, change(true), false),
        D::ReactionRemoved => (ConvEventKind::MessageEdited, change(false), false),
        D::PreviewAdded => (ConvEventKind::MessageEdited, None, true),
    }
}

fn conv_kind_from_v1(
    kind: ConvEventKind,
    reaction: Option<ReactionChange>,
    previewed: bool,
) -> (ev::ConvEventKind, Option<String>) {
    use ev::ConvEventKind as D;
    match (kind, reaction) {
        (_, Some(r)) => (if r.added { D::ReactionAdded } else { D::ReactionRemoved }, Some(r.emoji)),
        (_, None) if previewed => (D::PreviewAdded, None),
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
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub previewed: bool,
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
    CaughtUp {
        user_seq: u64,
    },
    ResyncRequired {
        conversation_id: Option<i64>,
    },
    UserUpdated {
        user: User,
        shared_with: Vec<i64>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        partial: bool,
    },
    FileReady {
        file: Box<File>,
        shared_with: Vec<i64>,
    },
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
                let (kind, reaction, previewed) = conv_kind_to_v1(e.kind, e.reaction.as_ref());
                Event::Conversation(Box::new(ConvEvent {
                    conversation_id: e.conversation_id.raw(),
                    seq: e.seq,
                    kind,
                    message: (&e.message).into(),
                    actor: e.actor.map(|a| EventActor { user_id: a.user_id.raw(), at_ms: a.at_ms }),
                    reaction,
                    previewed,
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
            D::UserUpdated { user, shared_with, partial } => Event::UserUpdated {
                user: user.into(),
                shared_with: shared_with.iter().map(|c| c.raw()).collect(),
                partial: *partial,
            },
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
                let (kind, reaction) = conv_kind_from_v1(e.kind, e.reaction, e.previewed);
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
            Event::UserUpdated { user, shared_with, partial } => {
                D::UserUpdated { user: user.into(), shared_with: shared_with.into_iter().map(cid).collect(), partial }
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<i64>,
}
