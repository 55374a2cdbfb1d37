//! Messages, watermarks and per-user visibility.

use switchboard_core::event::{ConvEvent, ConvEventKind, EventActor, UnreadCounts, UserEvent, UserEventKind};
use switchboard_core::model::{Content, Member, Message, NewMessage, ServiceContent};
use switchboard_core::permissions;
use switchboard_core::{ConversationId, MessageId, UserId};

use crate::backends::store_trait;
use crate::rows::{self, KIND_TEXT, MSG_COLS};
use crate::sql::{Tx, args};
use crate::{StoreError, StoreResult};

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
        reactions: Vec::new(),
        important: new.important,
        silent: new.silent,
        link_previews: Vec::new(),
        no_link_preview: new.no_link_preview,
    }
}

/// Builds a service message's new-message form.
pub fn service_message(id: ConversationId, actor: UserId, content: ServiceContent) -> NewMessage {
    NewMessage::service(id, actor, content)
}

store_trait! {
    /// Messages, watermarks and per-user visibility.
    pub trait MessageStore {
        /// Appends a message to its conversation's log after checking, in the same
        /// transaction, that the sender may post. A known client key returns the original.
        append fn append_message(&self, new: NewMessage, now_ms: i64) -> Appended => append(&new, now_ms);
        /// Reads messages by id within a conversation, ascending by seq.
        read fn messages(&self, id: ConversationId, ids: &[MessageId]) -> Vec<Message>
            [ids = ids.to_vec()] => by_ids(id, &ids);
        /// As `messages`, with the reactions of `viewer` marked as theirs.
        read fn messages_seen_by(&self, id: ConversationId, ids: &[MessageId], viewer: UserId) -> Vec<Message>
            [ids = ids.to_vec()] => seen_by(id, &ids, viewer);
        /// A page of history visible to `viewer`, ascending by seq, and whether more exist;
        /// messages with a thread carry its summary.
        read fn history(
            &self,
            id: ConversationId,
            viewer: UserId,
            direction: HistoryDirection,
            anchor_seq: u64,
            limit: u32,
        ) -> (Vec<Message>, bool) => history(id, viewer, direction, anchor_seq, limit);
        /// The latest message visible to `viewer`.
        read fn last_message(&self, id: ConversationId, viewer: UserId) -> Option<Message>
            => last(id, viewer);
        /// Unread and mention counts after `read_seq` for `viewer`, each capped at `cap`.
        read fn counters(&self, id: ConversationId, viewer: UserId, read_seq: u64, cap: u32) -> (u32, u32)
            => counters(id, viewer, read_seq, cap);
        /// Unread messages marked important after `read_seq` for `viewer`, capped at `cap`.
        read fn important_unread(&self, id: ConversationId, viewer: UserId, read_seq: u64, cap: u32) -> u32
            => important_unread(id, viewer, read_seq, cap);
        /// Replaces a text message's content and stamps `edited_at`.
        write fn edit_message(
            &self,
            id: ConversationId,
            message_id: MessageId,
            content: Content,
            mentions: (Vec<UserId>, bool),
            now_ms: i64,
        ) -> ConvEvent => edit(id, message_id, &content, &mentions, now_ms);
        /// Deletes messages for everyone, leaving tombstones; already deleted ones are skipped.
        write fn delete_messages(&self, id: ConversationId, ids: &[MessageId], actor: UserId, now_ms: i64)
            -> Vec<ConvEvent> [ids = ids.to_vec()] => delete(id, &ids, actor, now_ms);
        /// Hides messages from one user.
        write fn hide_messages(&self, id: ConversationId, user_id: UserId, ids: &[MessageId], now_ms: i64)
            -> UserEvent [ids = ids.to_vec()] => hide(id, user_id, &ids, now_ms);
        /// Hides the whole current history from one user.
        write fn clear_history(&self, id: ConversationId, user_id: UserId, now_ms: i64) -> (u64, UserEvent)
            => clear_history(id, user_id, now_ms);
        /// Moves a member's read watermark forward (clamped to the last seq); logs it to the
        /// user's log when it moved.
        /// The event carries the counters after the move (each capped at `cap`).
        write fn mark_read(&self, id: ConversationId, user_id: UserId, seq: u64, cap: u32, now_ms: i64)
            -> (Member, Option<UserEvent>) => mark_read(id, user_id, seq, cap, now_ms);
        /// Moves a member's delivered watermark forward (clamped).
        write fn mark_delivered(&self, id: ConversationId, user_id: UserId, seq: u64) -> Member
            => mark_delivered(id, user_id, seq);
        /// Read and delivery counts of a message; readers listed when `with_readers`.
        read fn receipts(&self, id: ConversationId, message: &Message, with_readers: bool) -> ReceiptCounts
            [message = message.clone()] => receipts(id, &message, with_readers);
        /// How many text messages `sender` has in the given conversations after the given
        /// seq of each (a window, so that no index on the sender is needed on the append path),
        /// and their latest `recent` ones there, newest first.
        read fn sender_stats(&self, windows: &[(ConversationId, u64)], sender: UserId, recent: u32)
            -> (u64, Vec<Message>) [windows = windows.to_vec()] => sender_stats(&windows, sender, recent);
    }
}

/// Messages of `?1` visible to user `?2` from seq `?3` on (not hidden by them).
const VISIBLE: &str = "msg.conversation_id = ?1 AND msg.seq >= ?3 AND NOT EXISTS \
     (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?2 AND h.message_id = msg.id)";

/// Whose view of which conversation a page is read for.
#[derive(Clone, Copy)]
struct View {
    id: ConversationId,
    viewer: UserId,
    from: u64,
}

async fn view(tx: &impl Tx, id: ConversationId, viewer: UserId) -> StoreResult<View> {
    let from = rows::load_member(tx, id, viewer).await?.map_or(0, |m| m.visible_from_seq);
    Ok(View { id, viewer, from })
}

/// Up to `limit` visible messages matching `cond` (over `?4` = `bound`) in `order`, put in
/// ascending order, and whether there are more.
async fn page(
    tx: &impl Tx,
    v: View,
    cond: &str,
    order: &str,
    bound: u64,
    limit: u32,
) -> StoreResult<(Vec<Message>, bool)> {
    let sql =
        format!("SELECT {MSG_COLS} FROM messages msg WHERE {VISIBLE} AND {cond} ORDER BY msg.seq {order} LIMIT ?5");
    let a = args![v.id.raw(), v.viewer.raw(), v.from, bound, u64::from(limit) + 1];
    let mut out = tx.all(&sql, a, rows::message).await?;
    let more = out.len() > limit as usize;
    out.truncate(limit as usize);
    if order == "DESC" {
        out.reverse();
    }
    Ok((out, more))
}

async fn by_key(tx: &impl Tx, sender: UserId, key: &str) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE msg.sender_id = ?1 AND msg.client_key = ?2");
    tx.one(&sql, args![sender.raw(), key], rows::message).await
}

/// Appends a message after checking, in the same transaction, that the sender may post;
/// a known client key returns the original. Everything is checked before the first change
/// (the SQLite writer runs it without a savepoint). Two sends racing with one client key on
/// PostgreSQL: the loser fails with `AlreadyExists` and, retried, finds the winner.
pub(crate) async fn append(tx: &impl Tx, new: &NewMessage, now_ms: i64) -> StoreResult<Appended> {
    if let Some(key) = &new.client_key
        && let Some(m) = by_key(tx, new.sender_id, key).await?
    {
        let event = ConvEvent {
            conversation_id: m.conversation_id,
            seq: m.seq,
            kind: ConvEventKind::MessageCreated,
            actor: Some(EventActor { user_id: m.sender_id, at_ms: m.created_at_ms }),
            message: m,
            reaction: None,
        };
        return Ok(Appended { event, duplicate: true });
    }
    let conv = rows::require_conversation(tx, new.conversation_id).await?;
    let member = rows::load_member(tx, conv.id, new.sender_id).await?;
    // Membership decides here (space and thread permissions were checked by the service);
    // read in this transaction, so a member removed a moment ago cannot slip a message in.
    permissions::can_post(conv.kind, member.as_ref())?;
    if let Some(m) = &member {
        permissions::may_post_now(&conv, m, now_ms)?;
    }
    if let Some(reply) = new.reply_to {
        let sql = "SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2";
        if tx.one(sql, args![reply.raw(), conv.id.raw()], rows::first_i64).await?.is_none() {
            return Err(StoreError::NotFound("reply_to message"));
        }
    }
    Ok(Appended { event: rows::insert_message(tx, new, now_ms).await?, duplicate: false })
}

async fn by_ids(tx: &impl Tx, id: ConversationId, ids: &[MessageId]) -> StoreResult<Vec<Message>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<i64> = ids.iter().map(|m| m.raw()).collect();
    let sql = format!(
        "SELECT {MSG_COLS} FROM messages msg WHERE msg.conversation_id = ?1 AND msg.id {} ORDER BY msg.seq",
        tx.dialect().any("?2")
    );
    let mut out = tx.all(&sql, args![id.raw(), raw.as_slice()], rows::message).await?;
    rows::attach_reactions(tx, &mut out, None).await?;
    Ok(out)
}

async fn seen_by(tx: &impl Tx, id: ConversationId, ids: &[MessageId], viewer: UserId) -> StoreResult<Vec<Message>> {
    let mut out = by_ids(tx, id, ids).await?;
    rows::attach_reactions(tx, &mut out, Some(viewer)).await?;
    Ok(out)
}

/// The largest seq bound a page can use.
const END: u64 = i64::MAX as u64;

async fn history(
    tx: &impl Tx,
    id: ConversationId,
    viewer: UserId,
    direction: HistoryDirection,
    anchor: u64,
    limit: u32,
) -> StoreResult<(Vec<Message>, bool)> {
    let v = view(tx, id, viewer).await?;
    let (mut messages, more) = match direction {
        HistoryDirection::Before => {
            let bound = if anchor == 0 { END } else { anchor };
            page(tx, v, "msg.seq < ?4", "DESC", bound, limit).await?
        }
        HistoryDirection::After => page(tx, v, "msg.seq > ?4", "ASC", anchor, limit).await?,
        HistoryDirection::Around => {
            let before = limit / 2;
            let (mut older, more_old) = page(tx, v, "msg.seq < ?4", "DESC", anchor, before).await?;
            let (newer, more_new) = page(tx, v, "msg.seq >= ?4", "ASC", anchor, limit - before).await?;
            older.extend(newer);
            (older, more_old || more_new)
        }
    };
    if let (Some(lo), Some(hi)) = (messages.first().map(|m| m.id), messages.last().map(|m| m.id)) {
        let threads = rows::threads_rooted_between(tx, id, lo.min(hi), lo.max(hi)).await?;
        rows::attach_threads(&mut messages, threads);
    }
    rows::attach_reactions(tx, &mut messages, Some(viewer)).await?;
    Ok((messages, more))
}

async fn last(tx: &impl Tx, id: ConversationId, viewer: UserId) -> StoreResult<Option<Message>> {
    let v = view(tx, id, viewer).await?;
    let (mut out, _) = page(tx, v, "msg.seq < ?4", "DESC", END, 1).await?;
    Ok(out.pop())
}

async fn counters(
    tx: &impl Tx,
    id: ConversationId,
    viewer: UserId,
    read_seq: u64,
    cap: u32,
) -> StoreResult<(u32, u32)> {
    let from = view(tx, id, viewer).await?.from.max(read_seq + 1);
    let unread = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM messages msg WHERE {VISIBLE} AND msg.kind = {KIND_TEXT} \
         AND msg.sender_id <> ?2 LIMIT ?4) t"
    );
    let mentions = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM messages msg WHERE {VISIBLE} AND msg.kind = {KIND_TEXT} \
         AND msg.sender_id <> ?2 AND (msg.mentions_all OR EXISTS (SELECT 1 FROM mentions x \
         WHERE x.user_id = ?2 AND x.conversation_id = ?1 AND x.seq = msg.seq)) LIMIT ?4) t"
    );
    let a = args![id.raw(), viewer.raw(), from, cap];
    let unread = tx.one(&unread, a, rows::first_i64).await?.unwrap_or(0);
    let mentions = tx.one(&mentions, a, rows::first_i64).await?.unwrap_or(0);
    Ok((unread as u32, mentions as u32))
}

async fn important_unread(
    tx: &impl Tx,
    id: ConversationId,
    viewer: UserId,
    read_seq: u64,
    cap: u32,
) -> StoreResult<u32> {
    let from = view(tx, id, viewer).await?.from.max(read_seq + 1);
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM messages msg WHERE {VISIBLE} AND msg.kind = {KIND_TEXT} \
         AND msg.sender_id <> ?2 AND msg.important LIMIT ?4) t"
    );
    let n = tx.one(&sql, args![id.raw(), viewer.raw(), from, cap], rows::first_i64).await?.unwrap_or(0);
    Ok(n.max(0) as u32)
}

async fn edit(
    tx: &impl Tx,
    id: ConversationId,
    message_id: MessageId,
    content: &Content,
    mentions: &(Vec<UserId>, bool),
    now_ms: i64,
) -> StoreResult<ConvEvent> {
    let m = rows::load_message(tx, message_id).await?;
    if m.conversation_id != id {
        return Err(StoreError::NotFound("message"));
    }
    if !matches!(m.content, Content::Text { .. }) {
        return Err(StoreError::FailedPrecondition("only text messages can be edited".into()));
    }
    let body = switchboard_format::encode(content);
    tx.exec(
        "UPDATE messages SET content = ?2, edited_at = ?3, mentions_all = ?4, format = ?5, link_previews = NULL \
         WHERE id = ?1",
        args![message_id.raw(), &body, now_ms, mentions.1, rows::STORED_FORMAT],
    )
    .await?;
    tx.exec("DELETE FROM mentions WHERE conversation_id = ?1 AND seq = ?2", args![id.raw(), m.seq]).await?;
    rows::insert_mentions(tx, id, m.seq, &mentions.0).await?;
    crate::search::index(tx, message_id, content).await?;
    rows::append_conv_event(tx, id, ConvEventKind::MessageEdited, message_id, m.sender_id, now_ms).await
}

async fn delete(
    tx: &impl Tx,
    id: ConversationId,
    ids: &[MessageId],
    actor: UserId,
    now_ms: i64,
) -> StoreResult<Vec<ConvEvent>> {
    let tombstone = switchboard_format::encode(&Content::Deleted);
    let mut events = Vec::new();
    for mid in ids {
        let m = rows::load_message(tx, *mid).await?;
        if m.conversation_id != id {
            return Err(StoreError::NotFound("message"));
        }
        if m.is_deleted() {
            continue;
        }
        tx.exec(
            "UPDATE messages SET kind = ?2, content = ?3, forward = NULL, metadata = NULL, mentions_all = FALSE, \
             format = ?4, link_previews = NULL WHERE id = ?1",
            args![mid.raw(), rows::content_kind(&Content::Deleted), &tombstone, rows::STORED_FORMAT],
        )
        .await?;
        tx.exec("DELETE FROM mentions WHERE conversation_id = ?1 AND seq = ?2", args![id.raw(), m.seq]).await?;
        crate::reactions::forget(tx, id, *mid).await?;
        crate::search::unindex(tx, *mid).await?;
        events.push(rows::append_conv_event(tx, id, ConvEventKind::MessageDeleted, *mid, actor, now_ms).await?);
    }
    Ok(events)
}

async fn hide(
    tx: &impl Tx,
    id: ConversationId,
    user_id: UserId,
    ids: &[MessageId],
    now_ms: i64,
) -> StoreResult<UserEvent> {
    for mid in ids {
        let sql = "SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2";
        if tx.one(sql, args![mid.raw(), id.raw()], rows::first_i64).await?.is_none() {
            return Err(StoreError::NotFound("message"));
        }
        tx.exec(
            "INSERT INTO hidden_messages (user_id, message_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            args![user_id.raw(), mid.raw()],
        )
        .await?;
    }
    let kind = UserEventKind::MessagesHidden { conversation_id: id, message_ids: ids.to_vec() };
    rows::append_user_event(tx, user_id, kind, now_ms).await
}

async fn clear_history(
    tx: &impl Tx,
    id: ConversationId,
    user_id: UserId,
    now_ms: i64,
) -> StoreResult<(u64, UserEvent)> {
    let conv = rows::require_conversation(tx, id).await?;
    let from = conv.last_seq + 1;
    let n = tx
        .exec(
            "UPDATE members SET visible_from_seq = ?3, read_seq = CASE WHEN read_seq > ?4 THEN read_seq ELSE ?4 END \
             WHERE conversation_id = ?1 AND user_id = ?2",
            args![id.raw(), user_id.raw(), from, conv.last_seq],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("member"));
    }
    let kind = UserEventKind::HistoryCleared { conversation_id: id, visible_from_seq: from };
    Ok((from, rows::append_user_event(tx, user_id, kind, now_ms).await?))
}

async fn mark_read(
    tx: &impl Tx,
    id: ConversationId,
    user_id: UserId,
    seq: u64,
    cap: u32,
    now_ms: i64,
) -> StoreResult<(Member, Option<UserEvent>)> {
    let conv = rows::require_conversation(tx, id).await?;
    let seq = seq.min(conv.last_seq);
    let n = tx
        .exec(
            "UPDATE members SET read_seq = ?3, \
             delivered_seq = CASE WHEN delivered_seq > ?3 THEN delivered_seq ELSE ?3 END \
             WHERE conversation_id = ?1 AND user_id = ?2 AND read_seq < ?3",
            args![id.raw(), user_id.raw(), seq],
        )
        .await?;
    let member = rows::require_member(tx, id, user_id).await?;
    let event = if n > 0 {
        let (unread, mentions) = counters(tx, id, user_id, member.read_seq, cap).await?;
        let counts = Some(UnreadCounts { unread, mentions });
        let kind = UserEventKind::ReadStateChanged { conversation_id: id, read_seq: member.read_seq, counts };
        Some(rows::append_user_event(tx, user_id, kind, now_ms).await?)
    } else {
        None
    };
    Ok((member, event))
}

async fn mark_delivered(tx: &impl Tx, id: ConversationId, user_id: UserId, seq: u64) -> StoreResult<Member> {
    let conv = rows::require_conversation(tx, id).await?;
    tx.exec(
        "UPDATE members SET delivered_seq = ?3 WHERE conversation_id = ?1 AND user_id = ?2 AND delivered_seq < ?3",
        args![id.raw(), user_id.raw(), seq.min(conv.last_seq)],
    )
    .await?;
    rows::require_member(tx, id, user_id).await
}

async fn receipts(
    tx: &impl Tx,
    id: ConversationId,
    message: &Message,
    with_readers: bool,
) -> StoreResult<ReceiptCounts> {
    let a = args![id.raw(), message.seq, message.sender_id.raw()];
    let counts = tx
        .one(
            "SELECT COUNT(*) FILTER (WHERE read_seq >= ?2) AS r, COUNT(*) FILTER (WHERE delivered_seq >= ?2) AS d, \
             COUNT(*) AS n FROM members WHERE conversation_id = ?1 AND user_id <> ?3",
            a,
            |r| Ok((r.u64("r")? as u32, r.u64("d")? as u32, r.u64("n")? as u32)),
        )
        .await?;
    let (read, delivered, recipients) = counts.unwrap_or_default();
    let readers = if with_readers {
        let sql = "SELECT user_id FROM members WHERE conversation_id = ?1 AND user_id <> ?3 AND read_seq >= ?2 \
                   ORDER BY user_id";
        tx.all(sql, a, |r| Ok(UserId::from_raw(r.i64("user_id")?))).await?
    } else {
        Vec::new()
    };
    Ok(ReceiptCounts { read, delivered, recipients, readers })
}

async fn sender_stats(
    tx: &impl Tx,
    windows: &[(ConversationId, u64)],
    sender: UserId,
    recent: u32,
) -> StoreResult<(u64, Vec<Message>)> {
    let cond = format!("msg.conversation_id = ?1 AND msg.seq > ?2 AND msg.sender_id = ?3 AND msg.kind = {KIND_TEXT}");
    let count = format!("SELECT COUNT(*) FROM messages msg WHERE {cond}");
    let latest_sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE {cond} ORDER BY msg.seq DESC LIMIT ?4");
    let (mut total, mut latest) = (0u64, Vec::new());
    for (c, from) in windows {
        let a = args![c.raw(), *from, sender.raw(), recent];
        total += tx.one(&count, &a[..3], rows::first_i64).await?.unwrap_or(0).max(0) as u64;
        latest.extend(tx.all(&latest_sql, a, rows::message).await?);
    }
    Ok((total, rows::newest(latest, recent)))
}
