//! Row decoding and the statements several operations share, run inside the caller's
//! transaction: sequence allocation, message insertion, user-log appends.

use switchboard_core::event::{ConvEvent, ConvEventKind, EventActor, UserEvent, UserEventKind};
use switchboard_core::model::{
    AdminRights, Content, Conversation, ConversationKind, Member, MemberRole, MemberSettings, Message, NewMessage,
    Reaction, Session, User,
};
use switchboard_core::{ConversationId, FileId, MessageId, SessionId, UserId};

use crate::sql::{Row, Tx, args, corrupt};
use crate::{StoreError, StoreResult};

/// Columns of a user row.
pub(crate) const USER_COLS: &str =
    "id, username, display_name, bio, status_text, bot, admin, disabled, deleted, created_at, avatar_file_id";
/// Columns of a session row.
pub(crate) const SESSION_COLS: &str = "id, user_id, device_name, platform, created_at, last_seen_at, access_expires_at";
/// Columns of a conversation row (alias `c`).
pub(crate) const CONV_COLS: &str = "c.id, c.kind, c.title, c.about, c.owner_id, c.member_count, c.last_seq, \
     c.created_at, c.last_activity_at, c.direct_a, c.direct_b, c.space_id, c.parent_id, c.root_message_id, \
     c.history_shared, c.admins_only, c.avatar_file_id, c.pinned_message_id";
/// Columns of a member row (alias `m`).
pub(crate) const MEMBER_COLS: &str = "m.conversation_id, m.user_id, m.role, m.rights, m.joined_at, m.joined_seq, \
     m.read_seq, m.delivered_seq, m.visible_from_seq, m.muted_until, m.pinned, m.archived, m.draft, \
     m.post_muted_until";
/// Columns of a message row (alias `msg`).
pub(crate) const MSG_COLS: &str = "msg.id, msg.conversation_id, msg.seq, msg.sender_id, msg.created_at, \
     msg.edited_at, msg.content, msg.reply_to, msg.forward, msg.metadata, msg.client_key, msg.format, \
     msg.important, msg.silent, msg.link_previews, msg.no_link_preview";

/// The format this build writes into the encoded columns of messages (content, forward,
/// metadata), user events (body) and records (body); see `switchboard_format`. Each row
/// stores its format (`format` column) and is decoded by what it says.
pub(crate) const STORED_FORMAT: i64 = switchboard_format::CURRENT as i64;

/// The format a row says its encoded columns are in.
fn format_of(r: &dyn Row) -> StoreResult<u32> {
    let f = r.i64("format")?;
    u32::try_from(f).map_err(|_| corrupt(format!("format {f}")))
}

/// Column `col` of `r`, decoded in the row's format.
pub(crate) fn decoded<T: switchboard_format::Stored>(r: &dyn Row, col: &str) -> StoreResult<T> {
    decode_text(format_of(r)?, &r.text(col)?)
}

/// Nullable column `col` of `r`, decoded in the row's format.
pub(crate) fn opt_decoded<T: switchboard_format::Stored>(r: &dyn Row, col: &str) -> StoreResult<Option<T>> {
    let format = format_of(r)?;
    r.opt_text(col)?.map(|t| decode_text(format, &t)).transpose()
}

fn decode_text<T: switchboard_format::Stored>(format: u32, text: &str) -> StoreResult<T> {
    switchboard_format::decode(format, text.as_bytes()).map_err(|e| match e {
        switchboard_format::FormatError::Unknown { .. } => StoreError::Backend(format!("{e}; upgrade this node")),
        switchboard_format::FormatError::Corrupt { .. } => corrupt(e.to_string()),
    })
}

/// Stored kind of a text message (counters count only these).
pub(crate) const KIND_TEXT: i64 = 1;

/// The stored kind of a content.
pub(crate) fn content_kind(content: &Content) -> i64 {
    match content {
        // A sticker is a message like any text: counted, searched by nothing.
        Content::Text { .. } | Content::Sticker(_) => KIND_TEXT,
        Content::Service(_) => 2,
        Content::Deleted => 3,
    }
}

pub(crate) fn user(r: &dyn Row) -> StoreResult<User> {
    Ok(User {
        id: UserId::from_raw(r.i64("id")?),
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        bio: r.text("bio")?,
        status_text: r.text("status_text")?,
        bot: r.bool("bot")?,
        admin: r.bool("admin")?,
        disabled: r.bool("disabled")?,
        deleted: r.bool("deleted")?,
        created_at_ms: r.i64("created_at")?,
        avatar: r.opt_i64("avatar_file_id")?.map(FileId::from_raw),
    })
}

pub(crate) fn session(r: &dyn Row) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId::from_raw(r.i64("id")?),
        user_id: UserId::from_raw(r.i64("user_id")?),
        device_name: r.text("device_name")?,
        platform: r.text("platform")?,
        created_at_ms: r.i64("created_at")?,
        last_seen_at_ms: r.i64("last_seen_at")?,
        access_expires_at_ms: r.i64("access_expires_at")?,
    })
}

pub(crate) fn conversation(r: &dyn Row) -> StoreResult<Conversation> {
    let kind = r.text("kind")?;
    let pair = r.opt_i64("direct_a")?.zip(r.opt_i64("direct_b")?);
    let parent = r.opt_i64("parent_id")?.zip(r.opt_i64("root_message_id")?);
    Ok(Conversation {
        id: ConversationId::from_raw(r.i64("id")?),
        kind: ConversationKind::from_name(&kind).ok_or_else(|| corrupt(format!("conversation kind {kind}")))?,
        title: r.text("title")?,
        about: r.text("about")?,
        owner_id: UserId::from_raw(r.i64("owner_id")?),
        member_count: r.u64("member_count")? as u32,
        last_seq: r.u64("last_seq")?,
        created_at_ms: r.i64("created_at")?,
        last_activity_at_ms: r.i64("last_activity_at")?,
        direct_pair: pair.map(|(a, b)| (UserId::from_raw(a), UserId::from_raw(b))),
        space_id: r.opt_i64("space_id")?.map(ConversationId::from_raw),
        parent: parent.map(|(c, m)| (ConversationId::from_raw(c), MessageId::from_raw(m))),
        history_shared: r.bool("history_shared")?,
        admins_only: r.bool("admins_only")?,
        avatar: r.opt_i64("avatar_file_id")?.map(FileId::from_raw),
        pinned_message: r.opt_i64("pinned_message_id")?.map(MessageId::from_raw),
    })
}

pub(crate) fn member(r: &dyn Row) -> StoreResult<Member> {
    let role = r.i64("role")?;
    Ok(Member {
        conversation_id: ConversationId::from_raw(r.i64("conversation_id")?),
        user_id: UserId::from_raw(r.i64("user_id")?),
        role: MemberRole::from_i64(role).ok_or_else(|| corrupt(format!("member role {role}")))?,
        rights: AdminRights::from_bits(r.i64("rights")?),
        joined_at_ms: r.i64("joined_at")?,
        joined_seq: r.u64("joined_seq")?,
        read_seq: r.u64("read_seq")?,
        delivered_seq: r.u64("delivered_seq")?,
        visible_from_seq: r.u64("visible_from_seq")?,
        post_muted_until_ms: r.i64("post_muted_until")?,
        settings: MemberSettings {
            muted_until_ms: r.i64("muted_until")?,
            pinned: r.bool("pinned")?,
            archived: r.bool("archived")?,
            draft: r.text("draft")?,
        },
    })
}

pub(crate) fn message(r: &dyn Row) -> StoreResult<Message> {
    Ok(Message {
        id: MessageId::from_raw(r.i64("id")?),
        conversation_id: ConversationId::from_raw(r.i64("conversation_id")?),
        seq: r.u64("seq")?,
        sender_id: UserId::from_raw(r.i64("sender_id")?),
        created_at_ms: r.i64("created_at")?,
        edited_at_ms: r.opt_i64("edited_at")?,
        content: decoded(r, "content")?,
        reply_to: r.opt_i64("reply_to")?.map(MessageId::from_raw),
        forward: opt_decoded(r, "forward")?,
        metadata: opt_decoded(r, "metadata")?.unwrap_or_default(),
        client_key: r.opt_text("client_key")?,
        thread: None,
        reactions: Vec::new(),
        important: r.bool("important")?,
        silent: r.bool("silent")?,
        link_previews: opt_decoded(r, "link_previews")?.unwrap_or_default(),
        no_link_preview: r.bool("no_link_preview")?,
    })
}

pub(crate) fn user_event(r: &dyn Row) -> StoreResult<UserEvent> {
    Ok(UserEvent {
        user_id: UserId::from_raw(r.i64("user_id")?),
        user_seq: r.u64("seq")?,
        kind: decoded(r, "body")?,
        created_at_ms: r.i64("created_at")?,
    })
}

/// The first column, as an integer.
pub(crate) fn first_i64(r: &dyn Row) -> StoreResult<i64> {
    r.opt_i64_at(0)?.ok_or_else(|| corrupt("NULL where a number was expected"))
}

pub(crate) async fn load_conversation(tx: &impl Tx, id: ConversationId) -> StoreResult<Option<Conversation>> {
    let sql = format!("SELECT {CONV_COLS} FROM conversations c WHERE c.id = ?1");
    tx.one(&sql, args![id.raw()], conversation).await
}

pub(crate) async fn require_conversation(tx: &impl Tx, id: ConversationId) -> StoreResult<Conversation> {
    load_conversation(tx, id).await?.ok_or(StoreError::NotFound("conversation"))
}

pub(crate) async fn load_member(tx: &impl Tx, id: ConversationId, user: UserId) -> StoreResult<Option<Member>> {
    let sql = format!("SELECT {MEMBER_COLS} FROM members m WHERE m.conversation_id = ?1 AND m.user_id = ?2");
    tx.one(&sql, args![id.raw(), user.raw()], member).await
}

pub(crate) async fn require_member(tx: &impl Tx, id: ConversationId, user: UserId) -> StoreResult<Member> {
    load_member(tx, id, user).await?.ok_or(StoreError::NotFound("member"))
}

pub(crate) async fn load_message(tx: &impl Tx, id: MessageId) -> StoreResult<Message> {
    let sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE msg.id = ?1");
    tx.one(&sql, args![id.raw()], message).await?.ok_or(StoreError::NotFound("message"))
}

/// Allocates the conversation's next seq and records activity; on PostgreSQL the row lock
/// this takes orders concurrent writers.
pub(crate) async fn next_seq(tx: &impl Tx, id: ConversationId, now_ms: i64) -> StoreResult<u64> {
    let sql =
        "UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = ?2 WHERE id = ?1 RETURNING last_seq";
    let seq = tx.one(sql, args![id.raw(), now_ms], first_i64).await?;
    Ok(seq.ok_or(StoreError::NotFound("conversation"))?.max(0) as u64)
}

/// Appends an event about `message_id` to the conversation log; the event carries the
/// message as it is now, with its reactions.
pub(crate) async fn append_conv_event(
    tx: &impl Tx,
    id: ConversationId,
    kind: ConvEventKind,
    message_id: MessageId,
    actor: UserId,
    now_ms: i64,
) -> StoreResult<ConvEvent> {
    append_event(tx, id, kind, message_id, actor, None, now_ms).await
}

/// As [`append_conv_event`], for a reaction event naming its emoji. Reactions (like link
/// previews) do not count as activity: they move the log on without moving the
/// conversation up the list.
pub(crate) async fn append_reaction_event(
    tx: &impl Tx,
    id: ConversationId,
    added: bool,
    message_id: MessageId,
    actor: UserId,
    emoji: &str,
    now_ms: i64,
) -> StoreResult<ConvEvent> {
    let kind = if added { ConvEventKind::ReactionAdded } else { ConvEventKind::ReactionRemoved };
    append_event(tx, id, kind, message_id, actor, Some(emoji), now_ms).await
}

async fn append_event(
    tx: &impl Tx,
    id: ConversationId,
    kind: ConvEventKind,
    message_id: MessageId,
    actor: UserId,
    reaction: Option<&str>,
    now_ms: i64,
) -> StoreResult<ConvEvent> {
    let activity = reaction.is_none() && kind != ConvEventKind::PreviewAdded;
    let seq = match activity {
        true => next_seq(tx, id, now_ms).await?,
        false => {
            let sql = "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ?1 RETURNING last_seq";
            let seq = tx.one(sql, args![id.raw()], first_i64).await?;
            seq.ok_or(StoreError::NotFound("conversation"))?.max(0) as u64
        }
    };
    tx.exec(
        "INSERT INTO conv_events (conversation_id, seq, kind, message_id, actor_id, created_at, reaction) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![id.raw(), seq, kind.as_i64(), message_id.raw(), actor.raw(), now_ms, reaction],
    )
    .await?;
    let mut message = vec![load_message(tx, message_id).await?];
    attach_reactions(tx, &mut message, None).await?;
    let message = message.pop().ok_or(StoreError::NotFound("message"))?;
    let actor = Some(EventActor { user_id: actor, at_ms: now_ms });
    Ok(ConvEvent { conversation_id: id, seq, kind, message, actor, reaction: reaction.map(str::to_owned) })
}

/// Fills the reactions of `messages`, with `mine` for `viewer`.
pub(crate) async fn attach_reactions(
    tx: &impl Tx,
    messages: &mut [Message],
    viewer: Option<UserId>,
) -> StoreResult<()> {
    let ids: Vec<i64> = messages.iter().filter(|m| !m.is_deleted()).map(|m| m.id.raw()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let any = tx.dialect().any("?1");
    let sql = format!(
        "SELECT message_id, emoji, count FROM reaction_counts WHERE message_id {any} ORDER BY message_id, first_at, emoji"
    );
    let counts = tx
        .all(&sql, args![ids.as_slice()], |r| Ok((r.i64("message_id")?, r.text("emoji")?, r.u64("count")? as u32)))
        .await?;
    if counts.is_empty() {
        return Ok(());
    }
    let mine = match viewer {
        Some(v) => {
            let sql = format!("SELECT message_id, emoji FROM reactions WHERE message_id {any} AND user_id = ?2");
            tx.all(&sql, args![ids.as_slice(), v.raw()], |r| Ok((r.i64("message_id")?, r.text("emoji")?))).await?
        }
        None => Vec::new(),
    };
    for m in messages.iter_mut() {
        let raw = m.id.raw();
        m.reactions = counts
            .iter()
            .filter(|(id, _, _)| *id == raw)
            .map(|(_, emoji, count)| Reaction {
                mine: mine.iter().any(|(id, e)| *id == raw && e == emoji),
                emoji: emoji.clone(),
                count: *count,
            })
            .collect();
    }
    Ok(())
}

/// The actor of a conversation-event row (`event_actor`, `event_at` columns), if recorded.
pub(crate) fn event_actor(r: &dyn Row) -> StoreResult<Option<EventActor>> {
    Ok(r.opt_i64("event_actor")?
        .zip(r.opt_i64("event_at")?)
        .map(|(u, at)| EventActor { user_id: UserId::from_raw(u), at_ms: at }))
}

/// Stores a new message and its "created" event.
pub(crate) async fn insert_message(tx: &impl Tx, new: &NewMessage, now_ms: i64) -> StoreResult<ConvEvent> {
    let id = new.conversation_id;
    // Everything that can fail comes before the first change (see `write_checked_first`).
    let forward = new.forward.as_ref().map(switchboard_format::encode);
    let metadata = if new.metadata.is_empty() { None } else { Some(switchboard_format::encode(&new.metadata)) };
    let content = switchboard_format::encode(&new.content);
    let seq = next_seq(tx, id, now_ms).await?;
    let message_id = tx
        .one(
            "INSERT INTO messages (conversation_id, seq, sender_id, created_at, kind, content, reply_to, forward, \
             metadata, client_key, mentions_all, format, important, silent, no_link_preview) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id",
            args![
                id.raw(),
                seq,
                new.sender_id.raw(),
                now_ms,
                content_kind(&new.content),
                &content,
                new.reply_to.map(MessageId::raw),
                forward.as_ref(),
                metadata.as_ref(),
                new.client_key.as_ref(),
                new.mentions_all,
                STORED_FORMAT,
                new.important,
                new.silent,
                new.no_link_preview,
            ],
            first_i64,
        )
        .await?
        .map(MessageId::from_raw)
        .ok_or_else(|| corrupt("INSERT .. RETURNING gave no row"))?;
    insert_mentions(tx, id, seq, &new.mentions).await?;
    crate::search::index(tx, message_id, &new.content).await?;
    if let Content::Text { attachments, .. } = &new.content
        && !attachments.is_empty()
    {
        let files: Vec<_> = attachments.iter().map(|a| a.file_id).collect();
        crate::files::carry(tx, id, seq, &files).await?;
    }
    tx.exec(
        "INSERT INTO conv_events (conversation_id, seq, kind, message_id, actor_id, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        args![id.raw(), seq, ConvEventKind::MessageCreated.as_i64(), message_id.raw(), new.sender_id.raw(), now_ms],
    )
    .await?;
    // Built from what was written: no re-read on the writer's hot path.
    let message = crate::stored_message(new, message_id, seq, now_ms);
    let actor = Some(EventActor { user_id: new.sender_id, at_ms: now_ms });
    Ok(ConvEvent { conversation_id: id, seq, kind: ConvEventKind::MessageCreated, message, actor, reaction: None })
}

pub(crate) async fn insert_mentions(tx: &impl Tx, id: ConversationId, seq: u64, users: &[UserId]) -> StoreResult<()> {
    for u in users {
        tx.exec(
            "INSERT INTO mentions (user_id, conversation_id, seq) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            args![u.raw(), id.raw(), seq],
        )
        .await?;
    }
    Ok(())
}

/// Appends to a user's log.
pub(crate) async fn append_user_event(
    tx: &impl Tx,
    user_id: UserId,
    kind: UserEventKind,
    now_ms: i64,
) -> StoreResult<UserEvent> {
    let body = switchboard_format::encode(&kind);
    let sql = "UPDATE users SET last_user_seq = last_user_seq + 1 WHERE id = ?1 RETURNING last_user_seq";
    let seq = tx.one(sql, args![user_id.raw()], first_i64).await?.ok_or(StoreError::NotFound("user"))?;
    tx.exec(
        "INSERT INTO user_events (user_id, seq, body, created_at, format) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![user_id.raw(), seq, &body, now_ms, STORED_FORMAT],
    )
    .await?;
    Ok(UserEvent { user_id, user_seq: seq.max(0) as u64, kind, created_at_ms: now_ms })
}

/// Threads of `parent` whose root message id lies in `lo..=hi` (a range scan of the
/// (parent, root) index).
pub(crate) async fn threads_rooted_between(
    tx: &impl Tx,
    parent: ConversationId,
    lo: MessageId,
    hi: MessageId,
) -> StoreResult<Vec<Conversation>> {
    let sql = format!(
        "SELECT {CONV_COLS} FROM conversations c WHERE c.parent_id = ?1 AND c.root_message_id BETWEEN ?2 AND ?3"
    );
    tx.all(&sql, args![parent.raw(), lo.raw(), hi.raw()], conversation).await
}

/// Threads found by a range scan over their root ids, narrowed to the given roots and
/// cursor and put in `threads` order (latest activity first).
pub(crate) fn pick_threads(
    mut found: Vec<Conversation>,
    roots: &[MessageId],
    after: Option<(i64, ConversationId)>,
    limit: u32,
) -> Vec<Conversation> {
    found.retain(|c| {
        c.parent.is_some_and(|(_, root)| roots.contains(&root))
            && after.is_none_or(|cursor| (c.last_activity_at_ms, c.id) < cursor)
    });
    found.sort_by_key(|c| std::cmp::Reverse((c.last_activity_at_ms, c.id)));
    found.truncate(limit as usize);
    found
}

/// Fills in the thread summaries of `messages` from the threads rooted in their range.
pub(crate) fn attach_threads(messages: &mut [Message], threads: Vec<Conversation>) {
    for t in threads {
        if let Some((_, root)) = t.parent
            && let Some(m) = messages.iter_mut().find(|m| m.id == root)
        {
            m.thread = Some(Box::new(switchboard_core::model::ThreadSummary::of(&t)));
        }
    }
}

/// The `n` newest of `messages` (by time, then id), newest first.
pub(crate) fn newest(mut messages: Vec<Message>, n: u32) -> Vec<Message> {
    messages.sort_by_key(|m| std::cmp::Reverse((m.created_at_ms, m.id)));
    messages.truncate(n as usize);
    messages
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use switchboard_core::model::{Content, ConversationKind, NewMessage, ServiceAction, ServiceContent};

    use crate::sqlite::{SqliteOptions, SqliteStore};
    use crate::{
        ConversationStore, EventStore, Expect, HistoryDirection, MessageStore, NewConversation, NewUser, RecordStore,
        StoreError, UserStore,
    };

    /// A row a newer version wrote in a format this one does not know is refused with a
    /// message that says so, rather than decoded as if it were the old one.
    #[tokio::test]
    async fn rows_in_a_newer_format_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(SqliteOptions::new(dir.path().join("db.sqlite"))).unwrap();
        let new_user = |name: &str| NewUser {
            username: name.into(),
            username_canonical: name.into(),
            display_name: name.into(),
            password_hash: None,
            bot: false,
            admin: false,
            invite_hash: None,
            now_ms: 1,
        };
        let (a, b) =
            (store.create_user(new_user("a")).await.unwrap().id, store.create_user(new_user("b")).await.unwrap().id);
        let new = NewConversation::new(ConversationKind::Group, "g".into(), String::new(), a, vec![b], 2);
        let c = store.create_conversation(new).await.unwrap().conversation.id;
        let service =
            ServiceContent { action: ServiceAction::TitleChanged, user_ids: vec![], title: "g".into(), target_id: 0 };
        let mut hi = NewMessage::service(c, a, service);
        hi.content = Content::Text { text: "hi".into(), entities: vec![], attachments: vec![] };
        store.append_message(hi, 3).await.unwrap();
        store.put_record(c, "k", "x", "{}".into(), Expect::Any).await.unwrap();
        let read_all = || async {
            (
                store.history(c, a, HistoryDirection::Before, 0, 10).await.map(|_| ()),
                store.user_events(a, 0, 10).await.map(|_| ()),
                store.record(c, "k", "x").await.map(|_| ()),
            )
        };
        let (h, u, r) = read_all().await;
        assert!(h.is_ok() && u.is_ok() && r.is_ok(), "{h:?} {u:?} {r:?}");
        store
            .write(|conn| {
                conn.execute_batch(
                    "UPDATE messages SET format = 2; UPDATE user_events SET format = 2; UPDATE records SET format = 2;",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let (h, u, r) = read_all().await;
        for (what, result) in [("message content", h), ("user event", u)] {
            match result {
                Err(StoreError::Backend(m)) => {
                    assert!(m.contains(&format!("{what} is in format 2, which this node does not read")), "{m}");
                }
                other => panic!("{what}: {other:?}"),
            }
        }
        // A record's body is its owner's to decode: the store hands it over with its format.
        assert_eq!(store.record(c, "k", "x").await.unwrap().map(|r| r.format), Some(2), "{r:?}");
    }
}
