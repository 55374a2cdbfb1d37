//! Conversations and their members.

use switchboard_core::event::{ConvEvent, UserEvent, UserEventKind};
use switchboard_core::model::{
    AdminRights, Conversation, ConversationKind, Member, MemberRole, MemberSettings, ServiceAction, ServiceContent,
};
use switchboard_core::{ConversationId, MessageId, UserId};

use crate::backends::store_trait;
use crate::rows::{self, CONV_COLS, MEMBER_COLS, require_member};
use crate::sql::{Row, Tx, Value, args};
use crate::{StoreError, StoreResult, service_message};

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
    /// Groups and channels: whether later members see earlier history.
    pub history_shared: bool,
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
        Self {
            kind,
            title,
            about,
            creator,
            members,
            client_key: None,
            space_id: None,
            parent: None,
            history_shared: true,
            now_ms,
        }
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
    /// The owner dismisses the conversation: a `ConversationDeleted` service message, then
    /// every member leaves (removed, their view ending at that message) and nobody joins
    /// again.
    Dismiss,
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

store_trait! {
    /// Conversations and their members.
    pub trait ConversationStore {
        /// Creates a conversation with its members, the "created" service message and the
        /// joined events; a direct one or a retried key returns the existing conversation.
        write_retried fn create_conversation(&self, new: NewConversation) -> CreatedConversation
            => create(&new);
        /// Reads a conversation.
        read fn conversation(&self, id: ConversationId) -> Option<Conversation> => get(id);
        /// The direct conversation of two users, if they have one.
        read fn direct_between(&self, a: UserId, b: UserId) -> Option<Conversation> => direct_between(a, b);
        /// Reads a conversation with one member's state; none if not a member.
        read fn entry(&self, id: ConversationId, user_id: UserId) -> Option<ConversationEntry>
            => entry_of(id, user_id);
        /// Lists a user's conversations by last activity, newest first, starting after the
        /// cursor `(last_activity_at_ms, id)`.
        read fn entries(&self, user_id: UserId, after: Option<(i64, ConversationId)>, limit: u32)
            -> Vec<ConversationEntry> => entries(user_id, after, limit);
        /// Every conversation of a user with its latest seq and the seq the user joined at.
        read fn positions(&self, user_id: UserId) -> Vec<(ConversationId, u64, u64)>
            => positions(user_id);
        /// Reads one member.
        read fn member(&self, id: ConversationId, user_id: UserId) -> Option<Member>
            => member(id, user_id);
        /// Lists members by join order after the given user id cursor.
        read fn members(&self, id: ConversationId, after: Option<(i64, UserId)>, limit: u32) -> Vec<Member>
            => members(id, after, limit);
        /// All member ids (for fan-out).
        read fn member_ids(&self, id: ConversationId) -> Vec<UserId> => member_ids(id);
        /// Changes title and/or about, with one service message per change.
        write fn update_info(
            &self,
            id: ConversationId,
            actor: UserId,
            title: Option<String>,
            about: Option<String>,
            history_shared: Option<bool>,
            now_ms: i64,
        ) -> Written => update_info(id, actor, title.as_deref(), about.as_deref(), history_shared, now_ms);
        /// Sets or removes the avatar, with a service message when it changes.
        write fn set_conversation_avatar(
            &self,
            id: ConversationId,
            actor: UserId,
            avatar: Option<switchboard_core::FileId>,
            now_ms: i64,
        ) -> Written => set_avatar(id, actor, avatar, now_ms);
        /// Turns "only admins post" on or off, with a service message when it changes.
        write fn set_admins_only(&self, id: ConversationId, actor: UserId, on: bool, now_ms: i64) -> Written
            => set_admins_only(id, actor, on, now_ms);
        /// Mutes a member until `until_ms` (0 lifts it), with a `MemberTimedOut` service
        /// message; not_found when they are not a member.
        write fn mute_member(&self, id: ConversationId, actor: UserId, user: UserId, until_ms: i64, now_ms: i64)
            -> Written => mute_member(id, actor, user, until_ms, now_ms);
        /// Applies a membership change with its service message and users' log events.
        write fn change_membership(&self, id: ConversationId, actor: UserId, change: MembershipChange, now_ms: i64)
            -> Written => change_members(id, actor, &change, now_ms);
        /// Writes one service message from `actor`.
        write fn post_service(&self, id: ConversationId, actor: UserId, content: ServiceContent, now_ms: i64)
            -> Written => post_service(id, actor, &content, now_ms);
        /// Reads conversations by id, skipping unknown ids.
        read fn conversations(&self, ids: &[ConversationId]) -> Vec<Conversation>
            [ids = ids.to_vec()] => many(&ids);
        /// Threads of `parent` by last activity, newest first, after the cursor
        /// `(last_activity_at_ms, id)`; only those rooted on `roots` when it is not empty.
        read fn threads(
            &self,
            parent: ConversationId,
            roots: &[MessageId],
            after: Option<(i64, ConversationId)>,
            limit: u32,
        ) -> Vec<Conversation> [roots = roots.to_vec()] => threads(parent, &roots, after, limit);
        /// Changes a member's settings and logs them to the member's user log.
        write fn update_settings(&self, id: ConversationId, user_id: UserId, patch: SettingsPatch, now_ms: i64)
            -> (MemberSettings, UserEvent) => update_settings(id, user_id, &patch, now_ms);
    }
}

fn entry(r: &dyn Row) -> StoreResult<ConversationEntry> {
    Ok(ConversationEntry { conversation: rows::conversation(r)?, member: rows::member(r)? })
}

/// The conversation whose id the query finds, if any.
async fn existing(tx: &impl Tx, sql: &str, a: &[Value<'_>]) -> StoreResult<Option<Conversation>> {
    match tx.one(sql, a, rows::first_i64).await? {
        Some(id) => rows::load_conversation(tx, ConversationId::from_raw(id)).await,
        None => Ok(None),
    }
}

async fn direct_between(tx: &impl Tx, a: UserId, b: UserId) -> StoreResult<Option<Conversation>> {
    let sql = "SELECT id FROM conversations WHERE direct_a = ?1 AND direct_b = ?2";
    existing(tx, sql, args![a.min(b).raw(), a.max(b).raw()]).await
}

async fn is_live_user(tx: &impl Tx, user: UserId) -> StoreResult<bool> {
    let sql = "SELECT 1 FROM users WHERE id = ?1 AND NOT disabled";
    Ok(tx.one(sql, args![user.raw()], rows::first_i64).await?.is_some())
}

async fn ensure_users_exist(tx: &impl Tx, users: &[UserId]) -> StoreResult<()> {
    for u in users {
        if !is_live_user(tx, *u).await? {
            return Err(StoreError::NotFound("user"));
        }
    }
    Ok(())
}

async fn insert_member(
    tx: &impl Tx,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
    joined_seq: u64,
    visible_from: u64,
    now_ms: i64,
) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO members (conversation_id, user_id, role, rights, joined_at, joined_seq, read_seq, delivered_seq, \
         visible_from_seq) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?5, ?5, ?6)",
        args![id.raw(), user.raw(), role.as_i64(), now_ms, joined_seq, visible_from],
    )
    .await?;
    Ok(())
}

/// Whether the conversation was dismissed.
async fn conv_deleted(tx: &impl Tx, id: ConversationId) -> StoreResult<bool> {
    let sql = "SELECT 1 FROM conversations WHERE id = ?1 AND deleted";
    Ok(tx.one(sql, args![id.raw()], rows::first_i64).await?.is_some())
}

async fn adjust_count(tx: &impl Tx, id: ConversationId, delta: i64) -> StoreResult<()> {
    tx.exec("UPDATE conversations SET member_count = member_count + ?2 WHERE id = ?1", args![id.raw(), delta]).await?;
    Ok(())
}

async fn service(
    tx: &impl Tx,
    w: &mut Written,
    id: ConversationId,
    actor: UserId,
    content: ServiceContent,
    now_ms: i64,
) -> StoreResult<()> {
    w.conv_events.push(rows::insert_message(tx, &service_message(id, actor, content), now_ms).await?);
    Ok(())
}

fn svc(action: ServiceAction, user_ids: Vec<UserId>, title: String) -> ServiceContent {
    ServiceContent { action, user_ids, title, target_id: 0 }
}

async fn joined(tx: &impl Tx, w: &mut Written, id: ConversationId, user: UserId, at: u64, now: i64) -> StoreResult<()> {
    let kind = UserEventKind::ConversationJoined { conversation_id: id, joined_at_seq: at };
    w.user_events.push(rows::append_user_event(tx, user, kind, now).await?);
    Ok(())
}

async fn create(tx: &impl Tx, new: &NewConversation) -> StoreResult<CreatedConversation> {
    let unchanged = |c| Ok(CreatedConversation { conversation: c, created: false, written: Written::default() });
    let direct_pair = if new.kind == ConversationKind::Direct {
        let peer =
            *new.members.first().ok_or(StoreError::FailedPrecondition("a direct conversation needs a peer".into()))?;
        let pair = (new.creator.min(peer), new.creator.max(peer));
        // Serialise creators of the same pair so that the unique index never fires midway.
        tx.lock_key(&format!("direct/{}/{}", pair.0.raw(), pair.1.raw())).await?;
        let sql = "SELECT id FROM conversations WHERE direct_a = ?1 AND direct_b = ?2";
        if let Some(c) = existing(tx, sql, args![pair.0.raw(), pair.1.raw()]).await? {
            return unchanged(c);
        }
        Some(pair)
    } else {
        None
    };
    if let Some(key) = &new.client_key {
        let sql = "SELECT id FROM conversations WHERE creator_id = ?1 AND client_key = ?2";
        if let Some(c) = existing(tx, sql, args![new.creator.raw(), key]).await? {
            return unchanged(c);
        }
    }
    if let Some((parent, root)) = new.parent {
        // One thread per root: serialise starters of the same root.
        tx.lock_row("conversations", parent.raw()).await?;
        let sql = "SELECT id FROM conversations WHERE parent_id = ?1 AND root_message_id = ?2";
        if let Some(c) = existing(tx, sql, args![parent.raw(), root.raw()]).await? {
            return unchanged(c);
        }
    }
    let mut members: Vec<UserId> = new.members.iter().copied().filter(|u| *u != new.creator).collect();
    members.sort_unstable();
    members.dedup();
    ensure_users_exist(tx, &members).await?;
    let id = tx
        .one(
            "INSERT INTO conversations (kind, title, about, owner_id, creator_id, client_key, member_count, created_at, \
             last_activity_at, direct_a, direct_b, space_id, parent_id, root_message_id, history_shared) \
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
            args![
                new.kind.as_str(),
                &new.title,
                &new.about,
                new.creator.raw(),
                new.client_key.as_ref(),
                members.len() as i64 + 1,
                new.now_ms,
                direct_pair.map(|p| p.0.raw()),
                direct_pair.map(|p| p.1.raw()),
                new.space_id.map(|s| s.raw()),
                new.parent.map(|p| p.0.raw()),
                new.parent.map(|p| p.1.raw()),
                new.history_shared,
            ],
            rows::first_i64,
        )
        .await?
        .map(ConversationId::from_raw)
        .ok_or(StoreError::NotFound("conversation"))?;
    insert_member(tx, id, new.creator, crate::creator_role(new.kind), 0, 0, new.now_ms).await?;
    for u in &members {
        insert_member(tx, id, *u, MemberRole::Member, 0, 0, new.now_ms).await?;
    }
    let mut written = Written::default();
    if direct_pair.is_none() {
        let content = svc(ServiceAction::Created, members.clone(), new.title.clone());
        service(tx, &mut written, id, new.creator, content, new.now_ms).await?;
    }
    for u in std::iter::once(new.creator).chain(members) {
        joined(tx, &mut written, id, u, 0, new.now_ms).await?;
    }
    Ok(CreatedConversation { conversation: rows::require_conversation(tx, id).await?, created: true, written })
}

async fn remove(
    tx: &impl Tx,
    w: &mut Written,
    id: ConversationId,
    actor: UserId,
    user: UserId,
    action: ServiceAction,
    now: i64,
) -> StoreResult<()> {
    require_member(tx, id, user).await?;
    let removed = action != ServiceAction::MemberLeft;
    // The service message goes first so that the leaving member's log ends with it.
    service(tx, w, id, actor, svc(action, vec![user], String::new()), now).await?;
    tx.exec("DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2", args![id.raw(), user.raw()]).await?;
    adjust_count(tx, id, -1).await?;
    let left_at_seq = w.conv_events.last().map_or(0, |e| e.seq);
    let kind = UserEventKind::ConversationLeft { conversation_id: id, removed, left_at_seq };
    w.user_events.push(rows::append_user_event(tx, user, kind, now).await?);
    Ok(())
}

async fn set_role(
    tx: &impl Tx,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
    rights: AdminRights,
) -> StoreResult<()> {
    tx.exec(
        "UPDATE members SET role = ?3, rights = ?4 WHERE conversation_id = ?1 AND user_id = ?2",
        args![id.raw(), user.raw(), role.as_i64(), rights.to_bits()],
    )
    .await?;
    Ok(())
}

async fn change_members(
    tx: &impl Tx,
    id: ConversationId,
    actor: UserId,
    change: &MembershipChange,
    now: i64,
) -> StoreResult<Written> {
    // Membership changes of one conversation serialise on its row.
    tx.lock_row("conversations", id.raw()).await?;
    let conv = rows::require_conversation(tx, id).await?;
    if conv_deleted(tx, id).await? {
        return Err(StoreError::NotFound("conversation"));
    }
    let at = conv.last_seq;
    // Without shared history a newcomer's view starts at the change that lets them in.
    let from = if conv.history_shared { 0 } else { at + 1 };
    let mut w = Written::default();
    match change {
        MembershipChange::Add(users) => {
            let mut added = Vec::new();
            for u in users {
                if rows::load_member(tx, id, *u).await?.is_none() && !added.contains(u) {
                    added.push(*u);
                }
            }
            if added.is_empty() {
                return Ok(w);
            }
            ensure_users_exist(tx, &added).await?;
            for u in &added {
                insert_member(tx, id, *u, MemberRole::Member, at, from, now).await?;
            }
            adjust_count(tx, id, added.len() as i64).await?;
            service(tx, &mut w, id, actor, svc(ServiceAction::MembersAdded, added.clone(), String::new()), now).await?;
            for u in added {
                joined(tx, &mut w, id, u, at, now).await?;
            }
        }
        MembershipChange::Remove(user) => {
            remove(tx, &mut w, id, actor, *user, ServiceAction::MemberRemoved, now).await?
        }
        MembershipChange::Ban(user) => remove(tx, &mut w, id, actor, *user, ServiceAction::MemberBanned, now).await?,
        MembershipChange::Leave => remove(tx, &mut w, id, actor, actor, ServiceAction::MemberLeft, now).await?,
        MembershipChange::Dismiss => {
            let content = svc(ServiceAction::ConversationDeleted, vec![], String::new());
            service(tx, &mut w, id, actor, content, now).await?;
            let end = w.conv_events.last().map_or(at, |e| e.seq);
            tx.exec("UPDATE conversations SET deleted = TRUE WHERE id = ?1", args![id.raw()]).await?;
            let mut gone = tx
                .all(
                    "DELETE FROM members WHERE conversation_id = ?1 RETURNING user_id",
                    args![id.raw()],
                    rows::first_i64,
                )
                .await?;
            gone.sort_unstable();
            for u in &gone {
                let kind = UserEventKind::ConversationLeft { conversation_id: id, removed: true, left_at_seq: end };
                w.user_events.push(rows::append_user_event(tx, UserId::from_raw(*u), kind, now).await?);
            }
            adjust_count(tx, id, -(gone.len() as i64)).await?;
        }
        MembershipChange::Join => {
            if rows::load_member(tx, id, actor).await?.is_some() {
                return Err(StoreError::AlreadyExists("membership"));
            }
            ensure_users_exist(tx, &[actor]).await?;
            insert_member(tx, id, actor, MemberRole::Member, at, from, now).await?;
            adjust_count(tx, id, 1).await?;
            service(tx, &mut w, id, actor, svc(ServiceAction::MemberJoined, vec![actor], String::new()), now).await?;
            joined(tx, &mut w, id, actor, at, now).await?;
        }
        MembershipChange::Grant(users) => {
            let mut n = 0;
            for u in users {
                if rows::load_member(tx, id, *u).await?.is_some() || !is_live_user(tx, *u).await? {
                    continue;
                }
                insert_member(tx, id, *u, MemberRole::Member, at, from, now).await?;
                joined(tx, &mut w, id, *u, at, now).await?;
                n += 1;
            }
            adjust_count(tx, id, n).await?;
        }
        MembershipChange::Revoke(users) => {
            let mut n = 0;
            for u in users {
                let sql = "DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2";
                if tx.exec(sql, args![id.raw(), u.raw()]).await? == 0 {
                    continue;
                }
                let kind = UserEventKind::ConversationLeft { conversation_id: id, removed: true, left_at_seq: at };
                w.user_events.push(rows::append_user_event(tx, *u, kind, now).await?);
                n += 1;
            }
            adjust_count(tx, id, -n).await?;
        }
        MembershipChange::SetRole(user, role, rights) => {
            let target = require_member(tx, id, *user).await?;
            if target.role == MemberRole::Owner || *role == MemberRole::Owner {
                return Err(StoreError::FailedPrecondition("use TransferOwnership to change the owner".into()));
            }
            let rights = if *role == MemberRole::Admin { *rights } else { AdminRights::default() };
            set_role(tx, id, *user, *role, rights).await?;
            let action =
                if *role == MemberRole::Admin { ServiceAction::AdminPromoted } else { ServiceAction::AdminDemoted };
            service(tx, &mut w, id, actor, svc(action, vec![*user], String::new()), now).await?;
        }
        MembershipChange::TransferOwnership(user) => {
            require_member(tx, id, *user).await?;
            set_role(tx, id, *user, MemberRole::Owner, AdminRights::default()).await?;
            set_role(tx, id, actor, MemberRole::Admin, AdminRights::ALL).await?;
            tx.exec("UPDATE conversations SET owner_id = ?2 WHERE id = ?1", args![id.raw(), user.raw()]).await?;
            let content = svc(ServiceAction::OwnershipTransferred, vec![*user], String::new());
            service(tx, &mut w, id, actor, content, now).await?;
        }
    }
    Ok(w)
}

async fn get(tx: &impl Tx, id: ConversationId) -> StoreResult<Option<Conversation>> {
    rows::load_conversation(tx, id).await
}

async fn entry_of(tx: &impl Tx, id: ConversationId, user_id: UserId) -> StoreResult<Option<ConversationEntry>> {
    let sql = format!(
        "SELECT {CONV_COLS}, {MEMBER_COLS} FROM members m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.conversation_id = ?1 AND m.user_id = ?2"
    );
    tx.one(&sql, args![id.raw(), user_id.raw()], entry).await
}

async fn entries(
    tx: &impl Tx,
    user_id: UserId,
    after: Option<(i64, ConversationId)>,
    limit: u32,
) -> StoreResult<Vec<ConversationEntry>> {
    let (t, c) = after.map_or((i64::MAX, i64::MAX), |(t, c)| (t, c.raw()));
    let sql = format!(
        "SELECT {CONV_COLS}, {MEMBER_COLS} FROM members m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.user_id = ?1 AND (c.last_activity_at, c.id) < (?2, ?3) \
         ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?4"
    );
    tx.all(&sql, args![user_id.raw(), t, c, limit], entry).await
}

async fn positions(tx: &impl Tx, user_id: UserId) -> StoreResult<Vec<(ConversationId, u64, u64)>> {
    let sql = "SELECT c.id, c.last_seq, m.joined_seq FROM members m JOIN conversations c ON c.id = m.conversation_id \
               WHERE m.user_id = ?1";
    tx.all(sql, args![user_id.raw()], |r| {
        Ok((ConversationId::from_raw(r.i64("id")?), r.u64("last_seq")?, r.u64("joined_seq")?))
    })
    .await
}

async fn member(tx: &impl Tx, id: ConversationId, user_id: UserId) -> StoreResult<Option<Member>> {
    rows::load_member(tx, id, user_id).await
}

async fn members(
    tx: &impl Tx,
    id: ConversationId,
    after: Option<(i64, UserId)>,
    limit: u32,
) -> StoreResult<Vec<Member>> {
    let (t, u) = after.map_or((i64::MIN, 0), |(t, u)| (t, u.raw()));
    let sql = format!(
        "SELECT {MEMBER_COLS} FROM members m WHERE m.conversation_id = ?1 AND (m.joined_at, m.user_id) > (?2, ?3) \
         ORDER BY m.joined_at, m.user_id LIMIT ?4"
    );
    tx.all(&sql, args![id.raw(), t, u, limit], rows::member).await
}

async fn member_ids(tx: &impl Tx, id: ConversationId) -> StoreResult<Vec<UserId>> {
    let sql = "SELECT user_id FROM members WHERE conversation_id = ?1";
    tx.all(sql, args![id.raw()], |r| Ok(UserId::from_raw(r.i64("user_id")?))).await
}

async fn update_info(
    tx: &impl Tx,
    id: ConversationId,
    actor: UserId,
    title: Option<&str>,
    about: Option<&str>,
    history_shared: Option<bool>,
    now_ms: i64,
) -> StoreResult<Written> {
    let conv = rows::require_conversation(tx, id).await?;
    let mut w = Written::default();
    if let Some(t) = title {
        tx.exec("UPDATE conversations SET title = ?2 WHERE id = ?1", args![id.raw(), t]).await?;
        service(tx, &mut w, id, actor, svc(ServiceAction::TitleChanged, vec![], t.to_owned()), now_ms).await?;
    }
    if let Some(a) = about {
        tx.exec("UPDATE conversations SET about = ?2 WHERE id = ?1", args![id.raw(), a]).await?;
        service(tx, &mut w, id, actor, svc(ServiceAction::AboutChanged, vec![], a.to_owned()), now_ms).await?;
    }
    if let Some(shared) = history_shared.filter(|s| *s != conv.history_shared) {
        tx.exec("UPDATE conversations SET history_shared = ?2 WHERE id = ?1", args![id.raw(), shared]).await?;
        let content = ServiceContent {
            action: ServiceAction::HistoryVisibilityChanged,
            user_ids: vec![],
            title: String::new(),
            target_id: i64::from(shared),
        };
        service(tx, &mut w, id, actor, content, now_ms).await?;
    }
    Ok(w)
}

async fn set_avatar(
    tx: &impl Tx,
    id: ConversationId,
    actor: UserId,
    avatar: Option<switchboard_core::FileId>,
    now_ms: i64,
) -> StoreResult<Written> {
    let conv = rows::require_conversation(tx, id).await?;
    let mut w = Written::default();
    if conv.avatar != avatar {
        let raw = avatar.map(switchboard_core::FileId::raw);
        tx.exec("UPDATE conversations SET avatar_file_id = ?2 WHERE id = ?1", args![id.raw(), raw]).await?;
        let content = ServiceContent {
            action: ServiceAction::AvatarChanged,
            user_ids: vec![],
            title: String::new(),
            target_id: raw.unwrap_or(0),
        };
        service(tx, &mut w, id, actor, content, now_ms).await?;
    }
    Ok(w)
}

async fn set_admins_only(
    tx: &impl Tx,
    id: ConversationId,
    actor: UserId,
    on: bool,
    now_ms: i64,
) -> StoreResult<Written> {
    let conv = rows::require_conversation(tx, id).await?;
    let mut w = Written::default();
    if conv.admins_only != on {
        tx.exec("UPDATE conversations SET admins_only = ?2 WHERE id = ?1", args![id.raw(), on]).await?;
        let content = ServiceContent {
            action: ServiceAction::PostingRestricted,
            user_ids: vec![],
            title: String::new(),
            target_id: i64::from(on),
        };
        service(tx, &mut w, id, actor, content, now_ms).await?;
    }
    Ok(w)
}

async fn mute_member(
    tx: &impl Tx,
    id: ConversationId,
    actor: UserId,
    user: UserId,
    until_ms: i64,
    now_ms: i64,
) -> StoreResult<Written> {
    let n = tx
        .exec(
            "UPDATE members SET post_muted_until = ?3 WHERE conversation_id = ?1 AND user_id = ?2",
            args![id.raw(), user.raw(), until_ms],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("member"));
    }
    let mut w = Written::default();
    let content = ServiceContent {
        action: ServiceAction::MemberTimedOut,
        user_ids: vec![user],
        title: String::new(),
        target_id: until_ms,
    };
    service(tx, &mut w, id, actor, content, now_ms).await?;
    Ok(w)
}

async fn post_service(
    tx: &impl Tx,
    id: ConversationId,
    actor: UserId,
    content: &ServiceContent,
    now_ms: i64,
) -> StoreResult<Written> {
    rows::require_conversation(tx, id).await?;
    let mut w = Written::default();
    service(tx, &mut w, id, actor, content.clone(), now_ms).await?;
    Ok(w)
}

async fn many(tx: &impl Tx, ids: &[ConversationId]) -> StoreResult<Vec<Conversation>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<i64> = ids.iter().map(|i| i.raw()).collect();
    let sql = format!("SELECT {CONV_COLS} FROM conversations c WHERE c.id {}", tx.dialect().any("?1"));
    tx.all(&sql, args![raw.as_slice()], rows::conversation).await
}

async fn threads(
    tx: &impl Tx,
    parent: ConversationId,
    roots: &[MessageId],
    after: Option<(i64, ConversationId)>,
    limit: u32,
) -> StoreResult<Vec<Conversation>> {
    if let (Some(lo), Some(hi)) = (roots.iter().min(), roots.iter().max()) {
        let found = rows::threads_rooted_between(tx, parent, *lo, *hi).await?;
        return Ok(rows::pick_threads(found, roots, after, limit));
    }
    let (t, c) = after.map_or((i64::MAX, i64::MAX), |(t, c)| (t, c.raw()));
    let sql = format!(
        "SELECT {CONV_COLS} FROM conversations c WHERE c.parent_id = ?1 AND (c.last_activity_at, c.id) < (?2, ?3) \
         ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?4"
    );
    tx.all(&sql, args![parent.raw(), t, c, limit], rows::conversation).await
}

async fn update_settings(
    tx: &impl Tx,
    id: ConversationId,
    user_id: UserId,
    patch: &SettingsPatch,
    now_ms: i64,
) -> StoreResult<(MemberSettings, UserEvent)> {
    let m = require_member(tx, id, user_id).await?;
    let s = patch.clone().apply(&m.settings);
    tx.exec(
        "UPDATE members SET muted_until = ?3, pinned = ?4, archived = ?5, draft = ?6 \
         WHERE conversation_id = ?1 AND user_id = ?2",
        args![id.raw(), user_id.raw(), s.muted_until_ms, s.pinned, s.archived, &s.draft],
    )
    .await?;
    let kind = UserEventKind::SettingsChanged { conversation_id: id, settings: s.clone() };
    let ev = rows::append_user_event(tx, user_id, kind, now_ms).await?;
    Ok((s, ev))
}
