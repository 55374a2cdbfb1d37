//! Row mapping and the statements shared by several operations, all run inside the
//! caller's transaction: sequence allocation, message insertion, user-log appends.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::de::DeserializeOwned;
use switchboard_core::event::{ConvEvent, ConvEventKind, UserEvent, UserEventKind};
use switchboard_core::model::{
    AdminRights, Conversation, ConversationKind, Member, MemberRole, MemberSettings, Message, NewMessage, Session, User,
};
use switchboard_core::{ConversationId, MessageId, SessionId, UserId};

use crate::{StoreError, StoreResult};

pub(super) use crate::columns::{
    CONV_COLS, CONV_COLS_LEN, KIND_TEXT, MEMBER_COLS, MSG_COLS, SESSION_COLS, USER_COLS, content_kind,
};

fn bad(idx: usize, msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, msg.into())
}

fn json<T: DeserializeOwned>(r: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let s: String = r.get(idx)?;
    serde_json::from_str(&s).map_err(|e| bad(idx, e.to_string()))
}

fn json_opt<T: DeserializeOwned>(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<T>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| serde_json::from_str(&s).map_err(|e| bad(idx, e.to_string()))).transpose()
}

pub(super) fn user(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId::from_raw(r.get(0)?),
        username: r.get(1)?,
        display_name: r.get(2)?,
        bio: r.get(3)?,
        status_text: r.get(4)?,
        bot: r.get(5)?,
        admin: r.get(6)?,
        disabled: r.get(7)?,
        created_at_ms: r.get(8)?,
    })
}

pub(super) fn session(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId::from_raw(r.get(0)?),
        user_id: UserId::from_raw(r.get(1)?),
        device_name: r.get(2)?,
        platform: r.get(3)?,
        created_at_ms: r.get(4)?,
        last_seen_at_ms: r.get(5)?,
        access_expires_at_ms: r.get(6)?,
    })
}

/// Maps `CONV_COLS` starting at column `o`.
pub(super) fn conversation_at(r: &Row<'_>, o: usize) -> rusqlite::Result<Conversation> {
    let kind: String = r.get(o + 1)?;
    let a: Option<i64> = r.get(o + 9)?;
    let b: Option<i64> = r.get(o + 10)?;
    Ok(Conversation {
        id: ConversationId::from_raw(r.get(o)?),
        kind: ConversationKind::from_name(&kind).ok_or_else(|| bad(o + 1, kind.clone()))?,
        title: r.get(o + 2)?,
        about: r.get(o + 3)?,
        owner_id: UserId::from_raw(r.get(o + 4)?),
        member_count: r.get(o + 5)?,
        last_seq: r.get(o + 6)?,
        created_at_ms: r.get(o + 7)?,
        last_activity_at_ms: r.get(o + 8)?,
        direct_pair: a.zip(b).map(|(a, b)| (UserId::from_raw(a), UserId::from_raw(b))),
        space_id: r.get::<_, Option<i64>>(o + 11)?.map(ConversationId::from_raw),
        parent: r
            .get::<_, Option<i64>>(o + 12)?
            .zip(r.get::<_, Option<i64>>(o + 13)?)
            .map(|(c, m)| (ConversationId::from_raw(c), MessageId::from_raw(m))),
    })
}

/// Maps `MEMBER_COLS` starting at column `o`.
pub(super) fn member_at(r: &Row<'_>, o: usize) -> rusqlite::Result<Member> {
    let role: i64 = r.get(o + 2)?;
    Ok(Member {
        conversation_id: ConversationId::from_raw(r.get(o)?),
        user_id: UserId::from_raw(r.get(o + 1)?),
        role: MemberRole::from_i64(role).ok_or_else(|| bad(o + 2, role.to_string()))?,
        rights: AdminRights::from_bits(r.get(o + 3)?),
        joined_at_ms: r.get(o + 4)?,
        joined_seq: r.get(o + 5)?,
        read_seq: r.get(o + 6)?,
        delivered_seq: r.get(o + 7)?,
        visible_from_seq: r.get(o + 8)?,
        settings: MemberSettings {
            muted_until_ms: r.get(o + 9)?,
            pinned: r.get(o + 10)?,
            archived: r.get(o + 11)?,
            draft: r.get(o + 12)?,
        },
    })
}

/// Maps `MSG_COLS` starting at column `o`.
pub(super) fn message_at(r: &Row<'_>, o: usize) -> rusqlite::Result<Message> {
    Ok(Message {
        id: MessageId::from_raw(r.get(o)?),
        conversation_id: ConversationId::from_raw(r.get(o + 1)?),
        seq: r.get(o + 2)?,
        sender_id: UserId::from_raw(r.get(o + 3)?),
        created_at_ms: r.get(o + 4)?,
        edited_at_ms: r.get(o + 5)?,
        content: json(r, o + 6)?,
        reply_to: r.get::<_, Option<i64>>(o + 7)?.map(MessageId::from_raw),
        forward: json_opt(r, o + 8)?,
        metadata: json_opt(r, o + 9)?.unwrap_or_default(),
        client_key: r.get(o + 10)?,
        thread: None,
    })
}

pub(super) fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
    message_at(r, 0)
}

pub(super) fn load_conversation(conn: &Connection, id: ConversationId) -> StoreResult<Option<Conversation>> {
    let sql = format!("SELECT {CONV_COLS} FROM conversations c WHERE c.id = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([id.raw()], |r| conversation_at(r, 0)).optional()?)
}

pub(super) fn require_conversation(conn: &Connection, id: ConversationId) -> StoreResult<Conversation> {
    load_conversation(conn, id)?.ok_or(StoreError::NotFound("conversation"))
}

pub(super) fn load_member(conn: &Connection, id: ConversationId, user_id: UserId) -> StoreResult<Option<Member>> {
    let sql = format!("SELECT {MEMBER_COLS} FROM members m WHERE m.conversation_id = ?1 AND m.user_id = ?2");
    Ok(conn.prepare_cached(&sql)?.query_row([id.raw(), user_id.raw()], |r| member_at(r, 0)).optional()?)
}

pub(super) fn load_message(conn: &Connection, id: MessageId) -> StoreResult<Message> {
    let sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE msg.id = ?1");
    conn.prepare_cached(&sql)?.query_row([id.raw()], message).optional()?.ok_or(StoreError::NotFound("message"))
}

/// Allocates the conversation's next seq and records activity.
pub(super) fn next_seq(conn: &Connection, id: ConversationId, now_ms: i64) -> StoreResult<u64> {
    conn.prepare_cached(
        "UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = ?2 WHERE id = ?1 RETURNING last_seq",
    )?
    .query_row(params![id.raw(), now_ms], |r| r.get(0))
    .optional()?
    .ok_or(StoreError::NotFound("conversation"))
}

/// Appends an event about `message_id` to the conversation log.
pub(super) fn append_conv_event(
    conn: &Connection,
    id: ConversationId,
    kind: ConvEventKind,
    message_id: MessageId,
    now_ms: i64,
) -> StoreResult<ConvEvent> {
    let seq = next_seq(conn, id, now_ms)?;
    conn.prepare_cached("INSERT INTO conv_events (conversation_id, seq, kind, message_id) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![id.raw(), seq, kind.as_i64(), message_id.raw()])?;
    Ok(ConvEvent { conversation_id: id, seq, kind, message: load_message(conn, message_id)? })
}

/// Stores a new message and its "created" event.
pub(super) fn insert_message(conn: &Connection, new: &NewMessage, now_ms: i64) -> StoreResult<ConvEvent> {
    let id = new.conversation_id;
    // Everything that can fail comes before the first change (see `write_checked_first`).
    let forward = new.forward.as_ref().map(serde_json::to_string).transpose()?;
    let metadata = if new.metadata.is_empty() { None } else { Some(serde_json::to_string(&new.metadata)?) };
    let content = serde_json::to_string(&new.content)?;
    let seq = next_seq(conn, id, now_ms)?;
    let message_id: i64 = conn
        .prepare_cached(
            "INSERT INTO messages (conversation_id, seq, sender_id, created_at, kind, content, reply_to, forward, \
         metadata, client_key, mentions_all) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
        )?
        .query_row(
            params![
                id.raw(),
                seq,
                new.sender_id.raw(),
                now_ms,
                content_kind(&new.content),
                content,
                new.reply_to.map(MessageId::raw),
                forward,
                metadata,
                new.client_key,
                new.mentions_all,
            ],
            |r| r.get(0),
        )?;
    insert_mentions(conn, id, seq, &new.mentions)?;
    conn.prepare_cached("INSERT INTO conv_events (conversation_id, seq, kind, message_id) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![id.raw(), seq, ConvEventKind::MessageCreated.as_i64(), message_id])?;
    // Built from what was written: no re-read on the writer's hot path.
    let message = crate::stored_message(new, MessageId::from_raw(message_id), seq, now_ms);
    Ok(ConvEvent { conversation_id: id, seq, kind: ConvEventKind::MessageCreated, message })
}

pub(super) fn insert_mentions(conn: &Connection, id: ConversationId, seq: u64, users: &[UserId]) -> StoreResult<()> {
    let mut stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO mentions (user_id, conversation_id, seq) VALUES (?1, ?2, ?3)")?;
    for u in users {
        stmt.execute(params![u.raw(), id.raw(), seq])?;
    }
    Ok(())
}

/// Appends to a user's log.
pub(super) fn append_user_event(
    conn: &Connection,
    user_id: UserId,
    kind: UserEventKind,
    now_ms: i64,
) -> StoreResult<UserEvent> {
    let seq: u64 = conn
        .query_row(
            "UPDATE users SET last_user_seq = last_user_seq + 1 WHERE id = ?1 RETURNING last_user_seq",
            [user_id.raw()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(StoreError::NotFound("user"))?;
    conn.prepare_cached("INSERT INTO user_events (user_id, seq, body, created_at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![user_id.raw(), seq, serde_json::to_string(&kind)?, now_ms])?;
    Ok(UserEvent { user_id, user_seq: seq, kind, created_at_ms: now_ms })
}

pub(super) fn user_event(r: &Row<'_>) -> rusqlite::Result<UserEvent> {
    Ok(UserEvent {
        user_id: UserId::from_raw(r.get(0)?),
        user_seq: r.get(1)?,
        kind: json(r, 2)?,
        created_at_ms: r.get(3)?,
    })
}

/// Builds `?, ?, ...` for an IN list of `n` values.
pub(super) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Threads of `parent` whose root message id lies in `lo..=hi` (a range scan of the
/// (parent, root) index).
pub(super) fn threads_rooted_between(
    conn: &Connection,
    parent: ConversationId,
    lo: MessageId,
    hi: MessageId,
) -> StoreResult<Vec<Conversation>> {
    let sql = format!(
        "SELECT {CONV_COLS} FROM conversations c WHERE c.parent_id = ?1 AND c.root_message_id BETWEEN ?2 AND ?3"
    );
    let v = conn
        .prepare_cached(&sql)?
        .query_map(params![parent.raw(), lo.raw(), hi.raw()], |r| conversation_at(r, 0))?
        .collect::<Result<_, _>>()?;
    Ok(v)
}
