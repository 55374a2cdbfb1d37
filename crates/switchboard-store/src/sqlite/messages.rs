//! Messages, watermarks and per-user visibility in SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use switchboard_core::event::{ConvEvent, ConvEventKind, UserEvent, UserEventKind};
use switchboard_core::model::{Content, Member, Message, NewMessage};
use switchboard_core::permissions;
use switchboard_core::{ConversationId, MessageId, UserId};

use super::SqliteStore;
use super::rows::{self, KIND_TEXT, MSG_COLS};
use crate::{Appended, HistoryDirection, MessageStore, ReceiptCounts, StoreError, StoreResult};

/// Messages of `?1` visible to user `?2` from seq `?3` on (not hidden by them).
const VISIBLE: &str = "msg.conversation_id = ?1 AND msg.seq >= ?3 AND NOT EXISTS \
     (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?2 AND h.message_id = msg.id)";

fn visible_from(conn: &Connection, id: ConversationId, viewer: UserId) -> StoreResult<u64> {
    Ok(rows::load_member(conn, id, viewer)?.map_or(0, |m| m.visible_from_seq))
}

/// Whose view of which conversation a page is read for.
#[derive(Clone, Copy)]
struct View {
    id: ConversationId,
    viewer: UserId,
    from: u64,
}

fn page(
    conn: &Connection,
    v: View,
    cond: &str,
    order: &str,
    bound: u64,
    limit: u32,
) -> StoreResult<(Vec<Message>, bool)> {
    let View { id, viewer, from } = v;
    let sql =
        format!("SELECT {MSG_COLS} FROM messages msg WHERE {VISIBLE} AND {cond} ORDER BY msg.seq {order} LIMIT ?5");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut v: Vec<Message> = stmt
        .query_map(params![id.raw(), viewer.raw(), from, bound, limit + 1], rows::message)?
        .collect::<Result<_, _>>()?;
    let more = v.len() > limit as usize;
    v.truncate(limit as usize);
    if order == "DESC" {
        v.reverse();
    }
    Ok((v, more))
}

fn append(conn: &Connection, new: NewMessage, now_ms: i64) -> StoreResult<Appended> {
    if let Some(key) = &new.client_key {
        let sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE msg.sender_id = ?1 AND msg.client_key = ?2");
        if let Some(m) =
            conn.prepare_cached(&sql)?.query_row(params![new.sender_id.raw(), key], rows::message).optional()?
        {
            let event = ConvEvent {
                conversation_id: m.conversation_id,
                seq: m.seq,
                kind: ConvEventKind::MessageCreated,
                message: m,
            };
            return Ok(Appended { event, duplicate: true });
        }
    }
    let conv = rows::require_conversation(conn, new.conversation_id)?;
    let member = rows::load_member(conn, conv.id, new.sender_id)?;
    permissions::can_post(conv.kind, member.as_ref())?;
    if let Some(reply) = new.reply_to {
        let ok = conn
            .prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2")?
            .exists(params![reply.raw(), conv.id.raw()])?;
        if !ok {
            return Err(StoreError::NotFound("reply_to message"));
        }
    }
    Ok(Appended { event: rows::insert_message(conn, &new, now_ms)?, duplicate: false })
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn append_message(&self, new: NewMessage, now_ms: i64) -> StoreResult<Appended> {
        // `append` checks everything before it changes anything.
        self.write_checked_first(move |conn| append(conn, new, now_ms)).await
    }

    async fn messages(&self, id: ConversationId, ids: &[MessageId]) -> StoreResult<Vec<Message>> {
        let ids: Vec<i64> = ids.iter().map(|i| i.raw()).collect();
        self.read(move |conn| {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT {MSG_COLS} FROM messages msg WHERE msg.conversation_id = {} AND msg.id IN ({}) ORDER BY msg.seq",
                id.raw(),
                rows::placeholders(ids.len())
            );
            let mut stmt = conn.prepare(&sql)?;
            let v = stmt.query_map(params_from_iter(ids.iter()), rows::message)?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn history(
        &self,
        id: ConversationId,
        viewer: UserId,
        direction: HistoryDirection,
        anchor: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        self.read(move |conn| {
            let view = View { id, viewer, from: visible_from(conn, id, viewer)? };
            let (mut messages, more) = match direction {
                HistoryDirection::Before => {
                    let bound = if anchor == 0 { u64::MAX >> 1 } else { anchor };
                    page(conn, view, "msg.seq < ?4", "DESC", bound, limit)?
                }
                HistoryDirection::After => page(conn, view, "msg.seq > ?4", "ASC", anchor, limit)?,
                HistoryDirection::Around => {
                    let before = limit / 2;
                    let (mut older, more_old) = page(conn, view, "msg.seq < ?4", "DESC", anchor, before)?;
                    let (newer, more_new) = page(conn, view, "msg.seq >= ?4", "ASC", anchor, limit - before)?;
                    older.extend(newer);
                    (older, more_old || more_new)
                }
            };
            if let (Some(lo), Some(hi)) = (messages.first().map(|m| m.id), messages.last().map(|m| m.id)) {
                let threads = rows::threads_rooted_between(conn, id, lo.min(hi), lo.max(hi))?;
                crate::attach_threads(&mut messages, threads);
            }
            Ok((messages, more))
        })
        .await
    }

    async fn last_message(&self, id: ConversationId, viewer: UserId) -> StoreResult<Option<Message>> {
        self.read(move |conn| {
            let view = View { id, viewer, from: visible_from(conn, id, viewer)? };
            let (mut v, _) = page(conn, view, "msg.seq < ?4", "DESC", u64::MAX >> 1, 1)?;
            Ok(v.pop())
        })
        .await
    }

    async fn counters(&self, id: ConversationId, viewer: UserId, read_seq: u64, cap: u32) -> StoreResult<(u32, u32)> {
        self.read(move |conn| {
            let from = visible_from(conn, id, viewer)?.max(read_seq + 1);
            let unread: u32 = conn
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM messages msg WHERE {VISIBLE} AND msg.kind = {KIND_TEXT} \
                 AND msg.sender_id <> ?2 LIMIT ?4)"
                ))?
                .query_row(params![id.raw(), viewer.raw(), from, cap], |r| r.get(0))?;
            let mentions: u32 = conn
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM messages msg WHERE {VISIBLE} AND msg.kind = {KIND_TEXT} \
                 AND msg.sender_id <> ?2 AND (msg.mentions_all = 1 OR EXISTS (SELECT 1 FROM mentions x \
                 WHERE x.user_id = ?2 AND x.conversation_id = ?1 AND x.seq = msg.seq)) LIMIT ?4)"
                ))?
                .query_row(params![id.raw(), viewer.raw(), from, cap], |r| r.get(0))?;
            Ok((unread, mentions))
        })
        .await
    }

    async fn edit_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        content: Content,
        mentions: (Vec<UserId>, bool),
        now_ms: i64,
    ) -> StoreResult<ConvEvent> {
        self.write(move |conn| {
            let m = rows::load_message(conn, message_id)?;
            if m.conversation_id != id {
                return Err(StoreError::NotFound("message"));
            }
            if !matches!(m.content, Content::Text { .. }) {
                return Err(StoreError::FailedPrecondition("only text messages can be edited".into()));
            }
            conn.prepare_cached("UPDATE messages SET content = ?2, edited_at = ?3, mentions_all = ?4 WHERE id = ?1")?
                .execute(params![message_id.raw(), serde_json::to_string(&content)?, now_ms, mentions.1])?;
            conn.prepare_cached("DELETE FROM mentions WHERE conversation_id = ?1 AND seq = ?2")?
                .execute(params![id.raw(), m.seq])?;
            rows::insert_mentions(conn, id, m.seq, &mentions.0)?;
            rows::append_conv_event(conn, id, ConvEventKind::MessageEdited, message_id, now_ms)
        })
        .await
    }

    async fn delete_messages(&self, id: ConversationId, ids: &[MessageId], now_ms: i64) -> StoreResult<Vec<ConvEvent>> {
        let ids = ids.to_vec();
        self.write(move |conn| {
            let mut events = Vec::new();
            for mid in ids {
                let m = rows::load_message(conn, mid)?;
                if m.conversation_id != id {
                    return Err(StoreError::NotFound("message"));
                }
                if m.is_deleted() {
                    continue;
                }
                conn.prepare_cached(
                    "UPDATE messages SET kind = ?2, content = ?3, forward = NULL, metadata = NULL, mentions_all = 0 \
                     WHERE id = ?1",
                )?
                .execute(params![
                    mid.raw(),
                    rows::content_kind(&Content::Deleted),
                    serde_json::to_string(&Content::Deleted)?
                ])?;
                conn.prepare_cached("DELETE FROM mentions WHERE conversation_id = ?1 AND seq = ?2")?
                    .execute(params![id.raw(), m.seq])?;
                events.push(rows::append_conv_event(conn, id, ConvEventKind::MessageDeleted, mid, now_ms)?);
            }
            Ok(events)
        })
        .await
    }

    async fn hide_messages(
        &self,
        id: ConversationId,
        user_id: UserId,
        ids: &[MessageId],
        now_ms: i64,
    ) -> StoreResult<UserEvent> {
        let ids = ids.to_vec();
        self.write(move |conn| {
            for mid in &ids {
                let n = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO hidden_messages (user_id, message_id) SELECT ?1, id FROM messages \
                     WHERE id = ?2 AND conversation_id = ?3",
                    )?
                    .execute(params![user_id.raw(), mid.raw(), id.raw()])?;
                if n == 0
                    && !conn
                        .prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2")?
                        .exists(params![mid.raw(), id.raw()])?
                {
                    return Err(StoreError::NotFound("message"));
                }
            }
            rows::append_user_event(
                conn,
                user_id,
                UserEventKind::MessagesHidden { conversation_id: id, message_ids: ids },
                now_ms,
            )
        })
        .await
    }

    async fn clear_history(&self, id: ConversationId, user_id: UserId, now_ms: i64) -> StoreResult<(u64, UserEvent)> {
        self.write(move |conn| {
            let conv = rows::require_conversation(conn, id)?;
            let from = conv.last_seq + 1;
            let n = conn.prepare_cached("UPDATE members SET visible_from_seq = ?3, read_seq = MAX(read_seq, ?4) WHERE conversation_id = ?1 AND user_id = ?2")?.execute(params![id.raw(), user_id.raw(), from, conv.last_seq],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound("member"));
            }
            let kind = UserEventKind::HistoryCleared { conversation_id: id, visible_from_seq: from };
            Ok((from, rows::append_user_event(conn, user_id, kind, now_ms)?))
        })
        .await
    }

    async fn mark_read(
        &self,
        id: ConversationId,
        user_id: UserId,
        seq: u64,
        now_ms: i64,
    ) -> StoreResult<(Member, Option<UserEvent>)> {
        self.write(move |conn| {
            let conv = rows::require_conversation(conn, id)?;
            let seq = seq.min(conv.last_seq);
            let n = conn
                .prepare_cached(
                    "UPDATE members SET read_seq = ?3, delivered_seq = MAX(delivered_seq, ?3) \
                 WHERE conversation_id = ?1 AND user_id = ?2 AND read_seq < ?3",
                )?
                .execute(params![id.raw(), user_id.raw(), seq])?;
            let member = rows::load_member(conn, id, user_id)?.ok_or(StoreError::NotFound("member"))?;
            let event = if n > 0 {
                let kind = UserEventKind::ReadStateChanged { conversation_id: id, read_seq: member.read_seq };
                Some(rows::append_user_event(conn, user_id, kind, now_ms)?)
            } else {
                None
            };
            Ok((member, event))
        })
        .await
    }

    async fn mark_delivered(&self, id: ConversationId, user_id: UserId, seq: u64) -> StoreResult<Member> {
        self.write(move |conn| {
            let conv = rows::require_conversation(conn, id)?;
            conn.prepare_cached("UPDATE members SET delivered_seq = ?3 WHERE conversation_id = ?1 AND user_id = ?2 AND delivered_seq < ?3")?.execute(params![id.raw(), user_id.raw(), seq.min(conv.last_seq)],
            )?;
            rows::load_member(conn, id, user_id)?.ok_or(StoreError::NotFound("member"))
        })
        .await
    }

    async fn receipts(&self, id: ConversationId, message: &Message, with_readers: bool) -> StoreResult<ReceiptCounts> {
        let (seq, sender) = (message.seq, message.sender_id.raw());
        self.read(move |conn| {
            let (read, delivered, recipients): (u32, u32, u32) = conn.prepare_cached("SELECT COALESCE(SUM(read_seq >= ?2), 0), COALESCE(SUM(delivered_seq >= ?2), 0), COUNT(*) \
                 FROM members WHERE conversation_id = ?1 AND user_id <> ?3")?.query_row(params![id.raw(), seq, sender],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let readers = if with_readers {
                let mut stmt = conn.prepare_cached(
                    "SELECT user_id FROM members WHERE conversation_id = ?1 AND user_id <> ?3 AND read_seq >= ?2 ORDER BY user_id",
                )?;
                stmt.query_map(params![id.raw(), seq, sender], |r| Ok(UserId::from_raw(r.get(0)?)))?.collect::<Result<_, _>>()?
            } else {
                Vec::new()
            };
            Ok(ReceiptCounts { read, delivered, recipients, readers })
        })
        .await
    }

    async fn sender_stats(
        &self,
        windows: &[(ConversationId, u64)],
        sender: UserId,
        recent: u32,
    ) -> StoreResult<(u64, Vec<Message>)> {
        let windows = windows.to_vec();
        self.read(move |conn| {
            let (mut count, mut latest) = (0u64, Vec::new());
            let cond =
                format!("msg.conversation_id = ?1 AND msg.seq > ?2 AND msg.sender_id = ?3 AND msg.kind = {KIND_TEXT}");
            for (c, from) in windows {
                let n: u64 = conn
                    .prepare_cached(&format!("SELECT COUNT(*) FROM messages msg WHERE {cond}"))?
                    .query_row(params![c.raw(), from, sender.raw()], |r| r.get(0))?;
                count += n;
                let sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE {cond} ORDER BY msg.seq DESC LIMIT ?4");
                let page: Vec<Message> = conn
                    .prepare_cached(&sql)?
                    .query_map(params![c.raw(), from, sender.raw(), recent], rows::message)?
                    .collect::<Result<_, _>>()?;
                latest.extend(page);
            }
            Ok((count, crate::newest(latest, recent)))
        })
        .await
    }
}
