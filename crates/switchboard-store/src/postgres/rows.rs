//! Row mapping and the statements several operations share, run in the caller's
//! transaction (or on a plain connection for reads).

use serde::de::DeserializeOwned;
use switchboard_core::event::{ConvEvent, ConvEventKind, UserEvent, UserEventKind};
use switchboard_core::model::{
    AdminRights, Conversation, ConversationKind, Member, MemberRole, MemberSettings, Message, NewMessage, Session, User,
};
use switchboard_core::{ConversationId, MessageId, SessionId, UserId};
use tokio_postgres::{GenericClient, Row};

use crate::{StoreError, StoreResult};

pub(super) use crate::columns::{
    CONV_COLS, CONV_COLS_LEN, KIND_TEXT, MEMBER_COLS, MSG_COLS, SESSION_COLS, USER_COLS, content_kind,
};

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("corrupt row: {what}"))
}

fn json<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(corrupt)
}

fn u(v: i64) -> u64 {
    v.max(0) as u64
}

/// A u64 as PostgreSQL's BIGINT.
pub(super) fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn user(r: &Row) -> StoreResult<User> {
    Ok(User {
        id: UserId::from_raw(r.try_get(0)?),
        username: r.try_get(1)?,
        display_name: r.try_get(2)?,
        bio: r.try_get(3)?,
        status_text: r.try_get(4)?,
        bot: r.try_get(5)?,
        admin: r.try_get(6)?,
        disabled: r.try_get(7)?,
        created_at_ms: r.try_get(8)?,
    })
}

pub(super) fn session(r: &Row) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId::from_raw(r.try_get(0)?),
        user_id: UserId::from_raw(r.try_get(1)?),
        device_name: r.try_get(2)?,
        platform: r.try_get(3)?,
        created_at_ms: r.try_get(4)?,
        last_seen_at_ms: r.try_get(5)?,
        access_expires_at_ms: r.try_get(6)?,
    })
}

pub(super) fn conversation_at(r: &Row, o: usize) -> StoreResult<Conversation> {
    let kind: String = r.try_get(o + 1)?;
    let a: Option<i64> = r.try_get(o + 9)?;
    let b: Option<i64> = r.try_get(o + 10)?;
    Ok(Conversation {
        id: ConversationId::from_raw(r.try_get(o)?),
        kind: ConversationKind::from_name(&kind).ok_or_else(|| corrupt(&kind))?,
        title: r.try_get(o + 2)?,
        about: r.try_get(o + 3)?,
        owner_id: UserId::from_raw(r.try_get(o + 4)?),
        member_count: r.try_get::<_, i64>(o + 5)? as u32,
        last_seq: u(r.try_get(o + 6)?),
        created_at_ms: r.try_get(o + 7)?,
        last_activity_at_ms: r.try_get(o + 8)?,
        direct_pair: a.zip(b).map(|(a, b)| (UserId::from_raw(a), UserId::from_raw(b))),
        space_id: r.try_get::<_, Option<i64>>(o + 11)?.map(ConversationId::from_raw),
        parent: r
            .try_get::<_, Option<i64>>(o + 12)?
            .zip(r.try_get::<_, Option<i64>>(o + 13)?)
            .map(|(c, m)| (ConversationId::from_raw(c), MessageId::from_raw(m))),
    })
}

pub(super) fn member_at(r: &Row, o: usize) -> StoreResult<Member> {
    let role: i64 = r.try_get(o + 2)?;
    Ok(Member {
        conversation_id: ConversationId::from_raw(r.try_get(o)?),
        user_id: UserId::from_raw(r.try_get(o + 1)?),
        role: MemberRole::from_i64(role).ok_or_else(|| corrupt(role))?,
        rights: AdminRights::from_bits(r.try_get(o + 3)?),
        joined_at_ms: r.try_get(o + 4)?,
        joined_seq: u(r.try_get(o + 5)?),
        read_seq: u(r.try_get(o + 6)?),
        delivered_seq: u(r.try_get(o + 7)?),
        visible_from_seq: u(r.try_get(o + 8)?),
        settings: MemberSettings {
            muted_until_ms: r.try_get(o + 9)?,
            pinned: r.try_get(o + 10)?,
            archived: r.try_get(o + 11)?,
            draft: r.try_get(o + 12)?,
        },
    })
}

pub(super) fn message_at(r: &Row, o: usize) -> StoreResult<Message> {
    let forward: Option<String> = r.try_get(o + 8)?;
    let metadata: Option<String> = r.try_get(o + 9)?;
    Ok(Message {
        id: MessageId::from_raw(r.try_get(o)?),
        conversation_id: ConversationId::from_raw(r.try_get(o + 1)?),
        seq: u(r.try_get(o + 2)?),
        sender_id: UserId::from_raw(r.try_get(o + 3)?),
        created_at_ms: r.try_get(o + 4)?,
        edited_at_ms: r.try_get(o + 5)?,
        content: json(&r.try_get::<_, String>(o + 6)?)?,
        reply_to: r.try_get::<_, Option<i64>>(o + 7)?.map(MessageId::from_raw),
        forward: forward.as_deref().map(json).transpose()?,
        metadata: metadata.as_deref().map(json).transpose()?.unwrap_or_default(),
        client_key: r.try_get(o + 10)?,
        thread: None,
    })
}

pub(super) fn user_event(r: &Row) -> StoreResult<UserEvent> {
    Ok(UserEvent {
        user_id: UserId::from_raw(r.try_get(0)?),
        user_seq: u(r.try_get(1)?),
        kind: json(&r.try_get::<_, String>(2)?)?,
        created_at_ms: r.try_get(3)?,
    })
}

pub(super) async fn load_conversation(c: &impl GenericClient, id: ConversationId) -> StoreResult<Option<Conversation>> {
    let sql = format!("SELECT {CONV_COLS} FROM conversations c WHERE c.id = $1");
    c.query_opt(&sql, &[&id.raw()]).await?.map(|r| conversation_at(&r, 0)).transpose()
}

pub(super) async fn require_conversation(c: &impl GenericClient, id: ConversationId) -> StoreResult<Conversation> {
    load_conversation(c, id).await?.ok_or(StoreError::NotFound("conversation"))
}

pub(super) async fn load_member(
    c: &impl GenericClient,
    id: ConversationId,
    user: UserId,
) -> StoreResult<Option<Member>> {
    let sql = format!("SELECT {MEMBER_COLS} FROM members m WHERE m.conversation_id = $1 AND m.user_id = $2");
    c.query_opt(&sql, &[&id.raw(), &user.raw()]).await?.map(|r| member_at(&r, 0)).transpose()
}

pub(super) async fn load_message(c: &impl GenericClient, id: MessageId) -> StoreResult<Message> {
    let sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE msg.id = $1");
    let row = c.query_opt(&sql, &[&id.raw()]).await?.ok_or(StoreError::NotFound("message"))?;
    message_at(&row, 0)
}

/// Allocates the conversation's next seq; the row lock orders concurrent writers.
pub(super) async fn next_seq(c: &impl GenericClient, id: ConversationId, now_ms: i64) -> StoreResult<u64> {
    let row = c
        .query_opt(
            "UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = $2 WHERE id = $1 RETURNING last_seq",
            &[&id.raw(), &now_ms],
        )
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    Ok(u(row.try_get(0)?))
}

pub(super) async fn append_conv_event(
    c: &impl GenericClient,
    id: ConversationId,
    kind: ConvEventKind,
    message_id: MessageId,
    now_ms: i64,
) -> StoreResult<ConvEvent> {
    let seq = next_seq(c, id, now_ms).await?;
    c.execute(
        "INSERT INTO conv_events (conversation_id, seq, kind, message_id) VALUES ($1, $2, $3, $4)",
        &[&id.raw(), &i(seq), &kind.as_i64(), &message_id.raw()],
    )
    .await?;
    Ok(ConvEvent { conversation_id: id, seq, kind, message: load_message(c, message_id).await? })
}

pub(super) async fn insert_message(c: &impl GenericClient, new: &NewMessage, now_ms: i64) -> StoreResult<ConvEvent> {
    let id = new.conversation_id;
    let seq = next_seq(c, id, now_ms).await?;
    let forward = new.forward.as_ref().map(serde_json::to_string).transpose()?;
    let metadata = if new.metadata.is_empty() { None } else { Some(serde_json::to_string(&new.metadata)?) };
    let content = serde_json::to_string(&new.content)?;
    let row = c
        .query_one(
            "INSERT INTO messages (conversation_id, seq, sender_id, created_at, kind, content, reply_to, forward, \
             metadata, client_key, mentions_all) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                &id.raw(),
                &i(seq),
                &new.sender_id.raw(),
                &now_ms,
                &content_kind(&new.content),
                &content,
                &new.reply_to.map(MessageId::raw),
                &forward,
                &metadata,
                &new.client_key,
                &new.mentions_all,
            ],
        )
        .await?;
    let message_id = MessageId::from_raw(row.try_get(0)?);
    insert_mentions(c, id, seq, &new.mentions).await?;
    c.execute(
        "INSERT INTO conv_events (conversation_id, seq, kind, message_id) VALUES ($1, $2, $3, $4)",
        &[&id.raw(), &i(seq), &ConvEventKind::MessageCreated.as_i64(), &message_id.raw()],
    )
    .await?;
    let message = crate::stored_message(new, message_id, seq, now_ms);
    Ok(ConvEvent { conversation_id: id, seq, kind: ConvEventKind::MessageCreated, message })
}

pub(super) async fn insert_mentions(
    c: &impl GenericClient,
    id: ConversationId,
    seq: u64,
    users: &[UserId],
) -> StoreResult<()> {
    for user in users {
        c.execute(
            "INSERT INTO mentions (user_id, conversation_id, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&user.raw(), &id.raw(), &i(seq)],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn append_user_event(
    c: &impl GenericClient,
    user_id: UserId,
    kind: UserEventKind,
    now_ms: i64,
) -> StoreResult<UserEvent> {
    let row = c
        .query_opt(
            "UPDATE users SET last_user_seq = last_user_seq + 1 WHERE id = $1 RETURNING last_user_seq",
            &[&user_id.raw()],
        )
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    let seq: i64 = row.try_get(0)?;
    c.execute(
        "INSERT INTO user_events (user_id, seq, body, created_at) VALUES ($1, $2, $3, $4)",
        &[&user_id.raw(), &seq, &serde_json::to_string(&kind)?, &now_ms],
    )
    .await?;
    Ok(UserEvent { user_id, user_seq: u(seq), kind, created_at_ms: now_ms })
}

/// Threads of `parent` whose root message id lies in `lo..=hi` (a range scan of the
/// (parent, root) index).
pub(super) async fn threads_rooted_between(
    c: &impl GenericClient,
    parent: ConversationId,
    lo: MessageId,
    hi: MessageId,
) -> StoreResult<Vec<Conversation>> {
    let sql = format!(
        "SELECT {CONV_COLS} FROM conversations c WHERE c.parent_id = $1 AND c.root_message_id BETWEEN $2 AND $3"
    );
    c.query(&sql, &[&parent.raw(), &lo.raw(), &hi.raw()]).await?.iter().map(|r| conversation_at(r, 0)).collect()
}
