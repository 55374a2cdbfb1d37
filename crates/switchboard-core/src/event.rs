//! The events of the two sync logs, and the ephemeral signals.
//!
//! A conversation's log numbers its events with the conversation's `seq`; a stored
//! conversation event refers to a message, so deleting a message drops its content from
//! every event that refers to it. A user's log numbers events that concern only that user
//! with `user_seq`. Typing, presence and receipts are never stored.

use crate::ids::{ConversationId, MessageId, SessionId, UserId};
use crate::model::{Member, MemberSettings, Message, ThreadSummary};

/// What a conversation event did to its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConvEventKind {
    /// A message (or service message) was stored.
    MessageCreated,
    /// A message was edited.
    MessageEdited,
    /// A message was deleted for everyone.
    MessageDeleted,
    /// A member reacted to a message (the event's `reaction` says with what).
    ReactionAdded,
    /// A member took a reaction back (the event's `reaction` says which).
    ReactionRemoved,
    /// The server added link previews to a message (the event's message carries them).
    PreviewAdded,
}

impl ConvEventKind {
    /// Stable storage number.
    pub fn as_i64(self) -> i64 {
        match self {
            Self::MessageCreated => 1,
            Self::MessageEdited => 2,
            Self::MessageDeleted => 3,
            Self::ReactionAdded => 4,
            Self::ReactionRemoved => 5,
            Self::PreviewAdded => 6,
        }
    }

    /// Parses a storage number.
    pub fn from_i64(v: i64) -> Option<Self> {
        match v {
            1 => Some(Self::MessageCreated),
            2 => Some(Self::MessageEdited),
            3 => Some(Self::MessageDeleted),
            4 => Some(Self::ReactionAdded),
            5 => Some(Self::ReactionRemoved),
            6 => Some(Self::PreviewAdded),
            _ => None,
        }
    }
}

/// One event of a conversation's log, with its message as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvEvent {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Position in the log.
    pub seq: u64,
    /// What happened.
    pub kind: ConvEventKind,
    /// The message concerned, as it is now.
    pub message: Message,
    /// Who caused the event and when (for a delete: who deleted it); `None` for events
    /// stored before this was recorded.
    pub actor: Option<EventActor>,
    /// For reaction events: the emoji added or removed (by the actor).
    pub reaction: Option<String>,
}

/// Who caused a conversation event, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventActor {
    /// The user.
    pub user_id: UserId,
    /// When, ms since the epoch.
    pub at_ms: i64,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEndReason {
    /// Logged out.
    LoggedOut,
    /// Ended from another device.
    EndedElsewhere,
    /// Password changed.
    PasswordChanged,
    /// Account disabled.
    AccountDisabled,
    /// A refresh token of the session was presented after it had been rotated away.
    RefreshTokenReused,
    /// A newer sign-in on the same platform replaced it (the one-session-per-platform
    /// policy).
    Replaced,
    /// The account was deleted.
    AccountDeleted,
}

/// What happened, in a user's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEventKind {
    /// Became a member.
    ConversationJoined {
        /// Conversation.
        conversation_id: ConversationId,
        /// Its seq at the join.
        joined_at_seq: u64,
    },
    /// Stopped being a member.
    ConversationLeft {
        /// Conversation.
        conversation_id: ConversationId,
        /// True when removed by someone else.
        removed: bool,
        /// The conversation's seq of the leave; the user's view of the log ends here.
        left_at_seq: u64,
    },
    /// Read watermark moved.
    ReadStateChanged {
        /// Conversation.
        conversation_id: ConversationId,
        /// New watermark.
        read_seq: u64,
        /// Unread and mention counts after it moved (capped); `None` in events stored
        /// before these were recorded.
        counts: Option<UnreadCounts>,
    },
    /// Own settings changed.
    SettingsChanged {
        /// Conversation.
        conversation_id: ConversationId,
        /// Settings now.
        settings: MemberSettings,
    },
    /// History cleared for the user.
    HistoryCleared {
        /// Conversation.
        conversation_id: ConversationId,
        /// Hidden before this seq.
        visible_from_seq: u64,
    },
    /// Messages deleted for the user only.
    MessagesHidden {
        /// Conversation.
        conversation_id: ConversationId,
        /// Messages.
        message_ids: Vec<MessageId>,
    },
    /// Someone asks to join a space or group the user decides on.
    JoinRequested {
        /// The space or group.
        conversation_id: ConversationId,
        /// Who asks.
        user_id: UserId,
    },
    /// The user's join request was decided.
    JoinRequestDecided {
        /// The space or group.
        conversation_id: ConversationId,
        /// Accepted or rejected.
        accepted: bool,
    },
    /// A session ended.
    SessionEnded {
        /// Session.
        session_id: SessionId,
        /// Why.
        reason: SessionEndReason,
    },
    /// A join request the user could decide on was decided (by them or another decider).
    JoinRequestResolved {
        /// The space or group.
        conversation_id: ConversationId,
        /// Who asked.
        user_id: UserId,
        /// Accepted or rejected.
        accepted: bool,
        /// Who decided.
        decided_by: UserId,
    },
    /// The user signed in on a device: a new session (told to the other sessions).
    SessionStarted {
        /// The new session.
        session_id: SessionId,
        /// Its device name.
        device_name: String,
        /// Its platform.
        platform: String,
    },
    /// The user's synced settings changed (one change of several keys).
    UserSettingsChanged {
        /// Each key and its new value; `None` = removed.
        changes: Vec<(String, Option<String>)>,
    },
    /// The user saved a message to their saved messages, or took it off.
    MessageSaved {
        /// Its conversation.
        conversation_id: ConversationId,
        /// The message.
        message_id: MessageId,
        /// Saved (true) or taken off (false).
        saved: bool,
    },
    /// An entry of the user's contacts changed: added, edited, taken off (`None`), or its
    /// mutual flag turned because the other person added or removed the user.
    ContactChanged {
        /// The contact.
        user_id: UserId,
        /// The entry as it is now.
        contact: Option<crate::model::Contact>,
    },
    /// The user blocked or unblocked someone.
    BlockChanged {
        /// Who.
        user_id: UserId,
        /// Blocked now (true) or unblocked.
        blocked: bool,
    },
    /// The user changed one of their privacy settings.
    PrivacyChanged {
        /// The rule now.
        rule: crate::privacy::PrivacyRule,
    },
    /// A friend request from or to the user was sent, cancelled, accepted or declined
    /// (in both people's logs).
    FriendRequestChanged {
        /// The request.
        request: crate::model::FriendRequest,
        /// What happened to it.
        state: crate::model::FriendRequestState,
    },
}

impl UserEventKind {
    /// The conversation this event concerns, if any.
    pub fn conversation_id(&self) -> Option<ConversationId> {
        match self {
            Self::ConversationJoined { conversation_id, .. }
            | Self::ConversationLeft { conversation_id, .. }
            | Self::ReadStateChanged { conversation_id, .. }
            | Self::SettingsChanged { conversation_id, .. }
            | Self::HistoryCleared { conversation_id, .. }
            | Self::MessagesHidden { conversation_id, .. } => Some(*conversation_id),
            Self::SessionEnded { .. }
            | Self::JoinRequested { .. }
            | Self::JoinRequestDecided { .. }
            | Self::UserSettingsChanged { .. }
            | Self::SessionStarted { .. }
            | Self::MessageSaved { .. }
            | Self::ContactChanged { .. }
            | Self::FriendRequestChanged { .. }
            | Self::BlockChanged { .. }
            | Self::PrivacyChanged { .. }
            | Self::JoinRequestResolved { .. } => None,
        }
    }
}

/// A member's unread and mention counters at one moment, each capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadCounts {
    /// Unread messages.
    pub unread: u32,
    /// Unread messages that mention the member.
    pub mentions: u32,
}

/// One event of a user's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEvent {
    /// The user.
    pub user_id: UserId,
    /// Position in the user's log.
    pub user_seq: u64,
    /// What happened.
    pub kind: UserEventKind,
    /// When.
    pub created_at_ms: i64,
}

/// A user's availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PresenceStatus {
    /// Connected and active.
    Online,
    /// Connected, away.
    Away,
    /// Not connected.
    Offline,
}

/// A user's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    /// The user.
    pub user_id: UserId,
    /// Status.
    pub status: PresenceStatus,
    /// Last connection time (for offline users), if known.
    pub last_seen_at_ms: i64,
}

/// Someone started or stopped typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typing {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Who.
    pub user_id: UserId,
    /// Started (true) or stopped.
    pub typing: bool,
    /// A start expires at this time.
    pub expires_at_ms: i64,
}

/// A member's watermarks moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Member.
    pub user_id: UserId,
    /// Read watermark.
    pub read_seq: u64,
    /// Delivered watermark.
    pub delivered_seq: u64,
}

impl Receipt {
    /// The receipt state of a member.
    pub fn of(member: &Member) -> Self {
        Self {
            conversation_id: member.conversation_id,
            user_id: member.user_id,
            read_seq: member.read_seq,
            delivered_seq: member.delivered_seq,
        }
    }
}

/// A reply in a thread, told to the members of the thread's parent conversation so that
/// the root message's counter moves live (history shows the same counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadActivity {
    /// The parent conversation.
    pub conversation_id: ConversationId,
    /// The root message.
    pub root_message_id: MessageId,
    /// The thread now.
    pub thread: ThreadSummary,
}

/// Anything delivered on an event stream.
// Events travel behind an `Arc` (one per fan-out), so the size of the largest variant is
// paid once per event, not per copy; boxing it would add an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// From a conversation's log.
    Conversation(ConvEvent),
    /// From a user's log.
    User(UserEvent),
    /// Ephemeral typing.
    Typing(Typing),
    /// Ephemeral presence.
    Presence(Presence),
    /// Ephemeral receipt.
    Receipt(Receipt),
    /// Ephemeral: a thread on a message of the conversation got a reply.
    ThreadActivity(ThreadActivity),
    /// Ephemeral: an online-only message (never stored: no id, no seq), for the members
    /// connected now.
    OnlineMessage(Message),
    /// Ephemeral: a user's profile changed. Told to the user's devices, to the followers
    /// of `shared_with` and to the user's presence watchers.
    UserUpdated {
        /// The profile now.
        user: crate::model::User,
        /// The conversations the user is a member of (their followers hear of it).
        shared_with: Vec<ConversationId>,
        /// The user's privacy settings hide their photo or bio from some viewers: those
        /// fields are left out of `user`, and each viewer reads their own view.
        partial: bool,
    },
    /// Ephemeral: a file's processing finished (its previews and media facts are there).
    /// Told to the uploader's devices and to the followers of the conversations where a
    /// message carries it.
    FileReady {
        /// The file now.
        file: crate::model::FileRecord,
        /// Conversations where a message carries it.
        shared_with: Vec<ConversationId>,
    },
    /// Control: catch-up done, live from here.
    CaughtUp {
        /// The user_seq reached.
        user_seq: u64,
    },
    /// Control: too far behind; resync from a snapshot.
    ResyncRequired {
        /// The conversation concerned, or none for the user log.
        conversation_id: Option<ConversationId>,
    },
}
