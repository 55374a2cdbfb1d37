//! The store traits, one per aggregate, methods in CRUD order, and their input and output
//! types. Backends implement all of them; [`Store`] bundles them for the service.

use async_trait::async_trait;
use switchboard_core::event::{ConvEvent, SessionEndReason, UserEvent, UserEventKind};
use switchboard_core::model::{
    AdminRights, Content, Conversation, ConversationKind, Member, MemberRole, MemberSettings, Message, NewMessage,
    ServiceContent, Session, User,
};
use switchboard_core::{ConversationId, MessageId, SessionId, UserId};

use crate::StoreResult;

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Username as typed.
    pub username: String,
    /// Lowercase username.
    pub username_canonical: String,
    /// Display name.
    pub display_name: String,
    /// Argon2id PHC string; none for bots.
    pub password_hash: Option<String>,
    /// Bot account.
    pub bot: bool,
    /// Server admin.
    pub admin: bool,
    /// A registration invite to consume atomically (sha256 of the code).
    pub invite_hash: Option<Vec<u8>>,
    /// Now.
    pub now_ms: i64,
}

/// Profile fields to change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    /// New username as typed, with its lowercase form.
    pub username: Option<(String, String)>,
    /// New display name.
    pub display_name: Option<String>,
    /// New bio.
    pub bio: Option<String>,
    /// New status text.
    pub status_text: Option<String>,
}

/// Accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates an account; `AlreadyExists("username")` when taken, `FailedPrecondition` when
    /// the invite is unknown, used up or expired.
    async fn create_user(&self, new: NewUser) -> StoreResult<User>;
    /// Stores a registration invite code (hashed).
    async fn create_registration_invite(
        &self,
        code_hash: Vec<u8>,
        max_uses: u32,
        expires_at_ms: i64,
    ) -> StoreResult<()>;
    /// Reads an account.
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// Reads accounts by id, in the given order, skipping unknown ids.
    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
    /// Reads an account and its password hash by lowercase username.
    async fn user_with_password(&self, username_canonical: &str) -> StoreResult<Option<(User, Option<String>)>>;
    /// Finds accounts whose username or display name starts with `prefix` (lowercase).
    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>>;
    /// Lists accounts by id, after `after`.
    async fn list_users(&self, after: Option<UserId>, limit: u32) -> StoreResult<Vec<User>>;
    /// Changes profile fields; `AlreadyExists("username")` when the new name is taken.
    async fn update_profile(&self, id: UserId, patch: ProfilePatch) -> StoreResult<User>;
    /// Replaces the password hash.
    async fn set_password_hash(&self, id: UserId, hash: String) -> StoreResult<()>;
    /// Sets the disabled and admin flags.
    async fn set_user_flags(&self, id: UserId, disabled: Option<bool>, admin: Option<bool>) -> StoreResult<User>;
}

/// A new session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Owner.
    pub user_id: UserId,
    /// Device name.
    pub device_name: String,
    /// Platform.
    pub platform: String,
    /// sha256 of the access token.
    pub access_hash: Vec<u8>,
    /// Access token expiry.
    pub access_expires_at_ms: i64,
    /// sha256 of the refresh token.
    pub refresh_hash: Vec<u8>,
    /// Now.
    pub now_ms: i64,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was the session's current one; both tokens were replaced.
    Rotated(Session),
    /// The token is the one the session's current token replaced: a reuse.
    Reused(Session),
    /// No session knows the token.
    Unknown,
}

/// Sessions and their tokens.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates a session.
    async fn create_session(&self, new: NewSession) -> StoreResult<Session>;
    /// Finds the live session of an access token and whether its account is disabled.
    async fn session_by_access(&self, access_hash: &[u8], now_ms: i64) -> StoreResult<Option<(Session, bool)>>;
    /// Lists a user's sessions, newest first.
    async fn sessions(&self, user_id: UserId) -> StoreResult<Vec<Session>>;
    /// Replaces both tokens of the session holding `refresh_hash`, remembering the old
    /// refresh token so that its reuse is recognised.
    async fn rotate_tokens(
        &self,
        refresh_hash: &[u8],
        access_hash: Vec<u8>,
        access_expires_at_ms: i64,
        new_refresh_hash: Vec<u8>,
        now_ms: i64,
    ) -> StoreResult<Rotation>;
    /// Records use of a session.
    async fn touch_session(&self, id: SessionId, now_ms: i64) -> StoreResult<()>;
    /// Ends sessions of `user_id` — `only` one, or all but `except` — and appends a
    /// `SessionEnded` event with `reason` for each to the user's log, in one transaction.
    /// Returns the events, in session order.
    async fn end_sessions(
        &self,
        user_id: UserId,
        only: Option<SessionId>,
        except: Option<SessionId>,
        reason: SessionEndReason,
        now_ms: i64,
    ) -> StoreResult<Vec<UserEvent>>;
}

/// A new group, channel or direct conversation.
#[derive(Debug, Clone)]
pub struct NewConversation {
    /// Kind.
    pub kind: ConversationKind,
    /// Title.
    pub title: String,
    /// About.
    pub about: String,
    /// Creator (owner).
    pub creator: UserId,
    /// Other initial members.
    pub members: Vec<UserId>,
    /// Creator's idempotency key.
    pub client_key: Option<String>,
    /// For a space channel: its space.
    pub space_id: Option<ConversationId>,
    /// For a thread: the parent conversation and the root message (one thread per root).
    pub parent: Option<(ConversationId, MessageId)>,
    /// Now.
    pub now_ms: i64,
}

impl NewConversation {
    /// A conversation of `kind` with no space, parent or key.
    pub fn new(
        kind: ConversationKind,
        title: String,
        about: String,
        creator: UserId,
        members: Vec<UserId>,
        now_ms: i64,
    ) -> Self {
        Self { kind, title, about, creator, members, client_key: None, space_id: None, parent: None, now_ms }
    }
}

/// What a change to a conversation wrote: its log events and users' log events.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// New events of the conversation log.
    pub conv_events: Vec<ConvEvent>,
    /// New events of users' logs.
    pub user_events: Vec<UserEvent>,
}

/// Result of creating a conversation.
#[derive(Debug, Clone)]
pub struct CreatedConversation {
    /// The conversation.
    pub conversation: Conversation,
    /// False when an existing one was returned (retry or existing direct).
    pub created: bool,
    /// What was written.
    pub written: Written,
}

/// A conversation with one member's view of it.
#[derive(Debug, Clone)]
pub struct ConversationEntry {
    /// Shared state.
    pub conversation: Conversation,
    /// The member.
    pub member: Member,
}

/// A member's own settings change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    /// Mute until.
    pub muted_until_ms: Option<i64>,
    /// Pin.
    pub pinned: Option<bool>,
    /// Archive.
    pub archived: Option<bool>,
    /// Draft.
    pub draft: Option<String>,
}

impl SettingsPatch {
    /// The settings after applying this patch to `current`.
    pub fn apply(self, current: &MemberSettings) -> MemberSettings {
        MemberSettings {
            muted_until_ms: self.muted_until_ms.unwrap_or(current.muted_until_ms),
            pinned: self.pinned.unwrap_or(current.pinned),
            archived: self.archived.unwrap_or(current.archived),
            draft: self.draft.unwrap_or_else(|| current.draft.clone()),
        }
    }
}

/// Turns a search prefix into a LIKE pattern that matches it literally (escape `\`).
pub fn like_prefix(prefix: &str) -> String {
    format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// A membership change.
#[derive(Debug, Clone)]
pub enum MembershipChange {
    /// Add users as plain members.
    Add(Vec<UserId>),
    /// Remove a user (by someone else).
    Remove(UserId),
    /// The actor leaves.
    Leave,
    /// Change a member's role and rights.
    SetRole(UserId, MemberRole, AdminRights),
    /// Make a member the owner; the actor becomes an admin with every right.
    TransferOwnership(UserId),
    /// The actor joins by themselves (public space, invite link, approved request).
    Join,
    /// Remove a user and record that they were banned.
    Ban(UserId),
    /// Give users access without a service message (space channels following
    /// permissions, thread followers); users already members are skipped.
    Grant(Vec<UserId>),
    /// Take access away without a service message; non-members are skipped.
    Revoke(Vec<UserId>),
}

/// Conversations and their members.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Creates a conversation with its members, the "created" service message and the
    /// joined events; a direct one or a retried key returns the existing conversation.
    async fn create_conversation(&self, new: NewConversation) -> StoreResult<CreatedConversation>;
    /// Reads a conversation.
    async fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>>;
    /// Reads a conversation with one member's state; none if not a member.
    async fn entry(&self, id: ConversationId, user_id: UserId) -> StoreResult<Option<ConversationEntry>>;
    /// Lists a user's conversations by last activity, newest first, starting after the
    /// cursor `(last_activity_at_ms, id)`.
    async fn entries(
        &self,
        user_id: UserId,
        after: Option<(i64, ConversationId)>,
        limit: u32,
    ) -> StoreResult<Vec<ConversationEntry>>;
    /// Every conversation of a user with its latest seq and the seq the user joined at.
    async fn positions(&self, user_id: UserId) -> StoreResult<Vec<(ConversationId, u64, u64)>>;
    /// Reads one member.
    async fn member(&self, id: ConversationId, user_id: UserId) -> StoreResult<Option<Member>>;
    /// Lists members by join order after the given user id cursor.
    async fn members(&self, id: ConversationId, after: Option<(i64, UserId)>, limit: u32) -> StoreResult<Vec<Member>>;
    /// All member ids (for fan-out).
    async fn member_ids(&self, id: ConversationId) -> StoreResult<Vec<UserId>>;
    /// Changes title and/or about, with one service message per change.
    async fn update_info(
        &self,
        id: ConversationId,
        actor: UserId,
        title: Option<String>,
        about: Option<String>,
        now_ms: i64,
    ) -> StoreResult<Written>;
    /// Applies a membership change with its service message and users' log events.
    async fn change_membership(
        &self,
        id: ConversationId,
        actor: UserId,
        change: MembershipChange,
        now_ms: i64,
    ) -> StoreResult<Written>;
    /// Writes one service message from `actor`.
    async fn post_service(
        &self,
        id: ConversationId,
        actor: UserId,
        content: ServiceContent,
        now_ms: i64,
    ) -> StoreResult<Written>;
    /// Reads conversations by id, skipping unknown ids.
    async fn conversations(&self, ids: &[ConversationId]) -> StoreResult<Vec<Conversation>>;
    /// Threads of `parent` by last activity, newest first, after the cursor
    /// `(last_activity_at_ms, id)`; only those rooted on `roots` when it is not empty.
    async fn threads(
        &self,
        parent: ConversationId,
        roots: &[MessageId],
        after: Option<(i64, ConversationId)>,
        limit: u32,
    ) -> StoreResult<Vec<Conversation>>;
    /// Changes a member's settings and logs them to the member's user log.
    async fn update_settings(
        &self,
        id: ConversationId,
        user_id: UserId,
        patch: SettingsPatch,
        now_ms: i64,
    ) -> StoreResult<(MemberSettings, UserEvent)>;
}

/// Result of appending a message.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The event (with the message) that was written, or the original on a retry.
    pub event: ConvEvent,
    /// True when the client key matched an earlier message.
    pub duplicate: bool,
}

/// Which way a history page goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryDirection {
    /// seq < anchor (anchor 0: from the end).
    Before,
    /// seq > anchor.
    After,
    /// Around the anchor, inclusive.
    Around,
}

/// Read and delivery counts of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptCounts {
    /// Recipients whose read watermark covers it.
    pub read: u32,
    /// Recipients whose delivered watermark covers it.
    pub delivered: u32,
    /// Members other than the sender.
    pub recipients: u32,
    /// Readers, when asked for.
    pub readers: Vec<UserId>,
}

/// Messages, watermarks and per-user visibility.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Appends a message to its conversation's log after checking, in the same
    /// transaction, that the sender may post. A known client key returns the original.
    async fn append_message(&self, new: NewMessage, now_ms: i64) -> StoreResult<Appended>;
    /// Reads messages by id within a conversation, ascending by seq.
    async fn messages(&self, id: ConversationId, ids: &[MessageId]) -> StoreResult<Vec<Message>>;
    /// A page of history visible to `viewer`, ascending by seq, and whether more exist;
    /// messages with a thread carry its summary.
    async fn history(
        &self,
        id: ConversationId,
        viewer: UserId,
        direction: HistoryDirection,
        anchor_seq: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)>;
    /// The latest message visible to `viewer`.
    async fn last_message(&self, id: ConversationId, viewer: UserId) -> StoreResult<Option<Message>>;
    /// Unread and mention counts after `read_seq` for `viewer`, each capped at `cap`.
    async fn counters(&self, id: ConversationId, viewer: UserId, read_seq: u64, cap: u32) -> StoreResult<(u32, u32)>;
    /// Replaces a text message's content and stamps `edited_at`.
    async fn edit_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        content: Content,
        mentions: (Vec<UserId>, bool),
        now_ms: i64,
    ) -> StoreResult<ConvEvent>;
    /// Deletes messages for everyone, leaving tombstones; already deleted ones are skipped.
    async fn delete_messages(&self, id: ConversationId, ids: &[MessageId], now_ms: i64) -> StoreResult<Vec<ConvEvent>>;
    /// Hides messages from one user.
    async fn hide_messages(
        &self,
        id: ConversationId,
        user_id: UserId,
        ids: &[MessageId],
        now_ms: i64,
    ) -> StoreResult<UserEvent>;
    /// Hides the whole current history from one user.
    async fn clear_history(&self, id: ConversationId, user_id: UserId, now_ms: i64) -> StoreResult<(u64, UserEvent)>;
    /// Moves a member's read watermark forward (clamped to the last seq); logs it to the
    /// user's log when it moved.
    async fn mark_read(
        &self,
        id: ConversationId,
        user_id: UserId,
        seq: u64,
        now_ms: i64,
    ) -> StoreResult<(Member, Option<UserEvent>)>;
    /// Moves a member's delivered watermark forward (clamped).
    async fn mark_delivered(&self, id: ConversationId, user_id: UserId, seq: u64) -> StoreResult<Member>;
    /// Read and delivery counts of a message; readers listed when `with_readers`.
    async fn receipts(&self, id: ConversationId, message: &Message, with_readers: bool) -> StoreResult<ReceiptCounts>;
    /// How many text messages `sender` has in the given conversations after the given
    /// seq of each (a window, so that no index on the sender is needed on the append path),
    /// and their latest `recent` ones there, newest first.
    async fn sender_stats(
        &self,
        windows: &[(ConversationId, u64)],
        sender: UserId,
        recent: u32,
    ) -> StoreResult<(u64, Vec<Message>)>;
}

/// A small versioned record belonging to a scope (a conversation): a space's layout, a
/// member's roles, a ban, an invite, a join request. The body is the caller's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The scope.
    pub scope: ConversationId,
    /// The key within the scope and kind.
    pub key: String,
    /// The body.
    pub body: String,
    /// Starts at 1, grows by one per write.
    pub version: u64,
}

/// What a record write expects to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Anything: insert or replace.
    Any,
    /// No record: insert only.
    Absent,
    /// This version: replace only if unchanged since read.
    Version(u64),
}

impl Expect {
    /// The version a write makes of a record found at `found` (none: absent), or
    /// `Conflict` when that is not what the writer expected.
    pub fn next_version(self, found: Option<u64>) -> StoreResult<u64> {
        let ok = match self {
            Expect::Any => true,
            Expect::Absent => found.is_none(),
            Expect::Version(v) => found == Some(v),
        };
        if !ok {
            return Err(crate::StoreError::Conflict("record"));
        }
        Ok(found.unwrap_or(0) + 1)
    }
}

/// Versioned records per scope, kind and key. Writes that find something other than they
/// expect fail with `Conflict`.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Reads one record.
    async fn record(&self, scope: ConversationId, kind: &str, key: &str) -> StoreResult<Option<Record>>;
    /// Reads records by key, skipping missing ones.
    async fn records(&self, scope: ConversationId, kind: &str, keys: &[String]) -> StoreResult<Vec<Record>>;
    /// Lists a scope's records of a kind by key, after `after`.
    async fn list_records(
        &self,
        scope: ConversationId,
        kind: &str,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<Record>>;
    /// Finds a record by kind and key in any scope.
    async fn find_record(&self, kind: &str, key: &str) -> StoreResult<Option<Record>>;
    /// Records of a kind in any scope whose key starts with `prefix`, by key.
    async fn search_records(&self, kind: &str, prefix: &str, limit: u32) -> StoreResult<Vec<Record>>;
    /// Writes a record; returns its new version.
    async fn put_record(
        &self,
        scope: ConversationId,
        kind: &str,
        key: &str,
        body: String,
        expect: Expect,
    ) -> StoreResult<u64>;
    /// Deletes a record; true when it existed.
    async fn delete_record(&self, scope: ConversationId, kind: &str, key: &str) -> StoreResult<bool>;
}

/// The sync logs.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Conversation events with seq > `after`, ascending, at most `limit`.
    async fn conv_events(&self, id: ConversationId, after: u64, limit: u32) -> StoreResult<Vec<ConvEvent>>;
    /// Appends to a user's log.
    async fn append_user_event(&self, user_id: UserId, kind: UserEventKind, now_ms: i64) -> StoreResult<UserEvent>;
    /// User events with user_seq > `after`, ascending, at most `limit`.
    async fn user_events(&self, user_id: UserId, after: u64, limit: u32) -> StoreResult<Vec<UserEvent>>;
    /// The latest user_seq of a user.
    async fn user_seq(&self, user_id: UserId) -> StoreResult<u64>;
}

/// The role a conversation's creator gets: owner of groups, channels and spaces; a plain
/// member of direct conversations, space channels (the space's roles govern them) and
/// threads (the parent's permissions govern them).
pub fn creator_role(kind: ConversationKind) -> MemberRole {
    match kind {
        ConversationKind::Group | ConversationKind::Channel | ConversationKind::Space => MemberRole::Owner,
        ConversationKind::Direct | ConversationKind::SpaceChannel | ConversationKind::Thread => MemberRole::Member,
    }
}

/// Every store trait; what the service holds.
pub trait Store: UserStore + SessionStore + ConversationStore + MessageStore + EventStore + RecordStore {}

impl<T: UserStore + SessionStore + ConversationStore + MessageStore + EventStore + RecordStore> Store for T {}

/// The stored form of `new` once the store assigned its id, seq and time.
pub fn stored_message(new: &NewMessage, id: MessageId, seq: u64, now_ms: i64) -> Message {
    Message {
        id,
        conversation_id: new.conversation_id,
        seq,
        sender_id: new.sender_id,
        created_at_ms: now_ms,
        edited_at_ms: None,
        content: new.content.clone(),
        reply_to: new.reply_to,
        forward: new.forward.clone(),
        metadata: new.metadata.clone(),
        client_key: new.client_key.clone(),
        thread: None,
    }
}

/// Builds a service message's new-message form.
pub fn service_message(id: ConversationId, actor: UserId, content: ServiceContent) -> NewMessage {
    NewMessage::service(id, actor, content)
}
