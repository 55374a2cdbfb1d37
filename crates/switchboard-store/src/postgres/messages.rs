//! Messages, watermarks and per-user visibility in PostgreSQL.

use async_trait::async_trait;
use switchboard_core::event::{ConvEvent, ConvEventKind, UserEvent, UserEventKind};
use switchboard_core::model::{Content, Member, Message, NewMessage};
use switchboard_core::permissions;
use switchboard_core::{ConversationId, MessageId, UserId};
use tokio_postgres::{GenericClient, Transaction};

use super::rows::{self, KIND_TEXT, MSG_COLS, i};
use super::{PgStore, in_tx};
use crate::{Appended, HistoryDirection, MessageStore, ReceiptCounts, StoreError, StoreResult};

/// Messages of `$1` visible to user `$2` from seq `$3` on (not hidden by them).
const VISIBLE: &str = "msg.conversation_id = $1 AND msg.seq >= $3 AND NOT EXISTS \
     (SELECT 1 FROM hidden_messages h WHERE h.user_id = $2 AND h.message_id = msg.id)";

/// Whose view of which conversation a page is read for.
#[derive(Clone, Copy)]
struct View {
    id: ConversationId,
    viewer: UserId,
    from: u64,
}

async fn view(c: &impl GenericClient, id: ConversationId, viewer: UserId) -> StoreResult<View> {
    let from = rows::load_member(c, id, viewer).await?.map_or(0, |m| m.visible_from_seq);
    Ok(View { id, viewer, from })
}

async fn page(
    c: &impl GenericClient,
    v: View,
    cond: &str,
    order: &str,
    bound: u64,
    limit: u32,
) -> StoreResult<(Vec<Message>, bool)> {
    let sql =
        format!("SELECT {MSG_COLS} FROM messages msg WHERE {VISIBLE} AND {cond} ORDER BY msg.seq {order} LIMIT $5");
    let rows = c.query(&sql, &[&v.id.raw(), &v.viewer.raw(), &i(v.from), &i(bound), &(i64::from(limit) + 1)]).await?;
    let mut out = rows.iter().map(|r| rows::message_at(r, 0)).collect::<StoreResult<Vec<_>>>()?;
    let more = out.len() > limit as usize;
    out.truncate(limit as usize);
    if order == "DESC" {
        out.reverse();
    }
    Ok((out, more))
}

async fn by_key(c: &impl GenericClient, sender: UserId, key: &str) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE msg.sender_id = $1 AND msg.client_key = $2");
    c.query_opt(&sql, &[&sender.raw(), &key]).await?.map(|r| rows::message_at(&r, 0)).transpose()
}

fn original(m: Message) -> Appended {
    let event =
        ConvEvent { conversation_id: m.conversation_id, seq: m.seq, kind: ConvEventKind::MessageCreated, message: m };
    Appended { event, duplicate: true }
}

/// A retried send that raced its original: the original won the unique index.
const KEY_RACE: &str = "client key race";

async fn append(tx: &Transaction<'_>, new: &NewMessage, now_ms: i64) -> StoreResult<Appended> {
    if let Some(key) = &new.client_key
        && let Some(m) = by_key(tx, new.sender_id, key).await?
    {
        return Ok(original(m));
    }
    let conv = rows::require_conversation(tx, new.conversation_id).await?;
    let member = rows::load_member(tx, conv.id, new.sender_id).await?;
    permissions::can_post(conv.kind, member.as_ref())?;
    if let Some(reply) = new.reply_to {
        let ok = tx
            .query_opt("SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2", &[&reply.raw(), &conv.id.raw()])
            .await?;
        if ok.is_none() {
            return Err(StoreError::NotFound("reply_to message"));
        }
    }
    match rows::insert_message(tx, new, now_ms).await {
        Ok(event) => Ok(Appended { event, duplicate: false }),
        // The only unique index an insert can hit here is the client key's.
        Err(StoreError::AlreadyExists(_)) => Err(StoreError::Backend(KEY_RACE.into())),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl MessageStore for PgStore {
    async fn append_message(&self, new: NewMessage, now_ms: i64) -> StoreResult<Appended> {
        let result = in_tx!(self, |tx| append(tx, &new, now_ms));
        match result {
            Err(StoreError::Backend(m)) if m == KEY_RACE => {
                let client = self.client().await?;
                let key = new.client_key.as_deref().unwrap_or_default();
                by_key(&**client, new.sender_id, key).await?.map(original).ok_or(StoreError::Unavailable)
            }
            other => other,
        }
    }

    async fn messages(&self, id: ConversationId, ids: &[MessageId]) -> StoreResult<Vec<Message>> {
        let raw: Vec<i64> = ids.iter().map(|m| m.raw()).collect();
        let client = self.client().await?;
        let sql = format!(
            "SELECT {MSG_COLS} FROM messages msg WHERE msg.conversation_id = $1 AND msg.id = ANY($2) ORDER BY msg.seq"
        );
        client.query(&sql, &[&id.raw(), &raw]).await?.iter().map(|r| rows::message_at(r, 0)).collect()
    }

    async fn history(
        &self,
        id: ConversationId,
        viewer: UserId,
        direction: HistoryDirection,
        anchor: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        let client = self.client().await?;
        let c = &**client;
        let v = view(c, id, viewer).await?;
        let (mut messages, more) = match direction {
            HistoryDirection::Before => {
                let bound = if anchor == 0 { i64::MAX as u64 } else { anchor };
                page(c, v, "msg.seq < $4", "DESC", bound, limit).await?
            }
            HistoryDirection::After => page(c, v, "msg.seq > $4", "ASC", anchor, limit).await?,
            HistoryDirection::Around => {
                let before = limit / 2;
                let (mut older, more_old) = page(c, v, "msg.seq < $4", "DESC", anchor, before).await?;
                let (newer, more_new) = page(c, v, "msg.seq >= $4", "ASC", anchor, limit - before).await?;
                older.extend(newer);
                (older, more_old || more_new)
            }
        };
        if let (Some(lo), Some(hi)) = (messages.first().map(|m| m.id), messages.last().map(|m| m.id)) {
            let threads = rows::threads_rooted_between(c, id, lo.min(hi), lo.max(hi)).await?;
            crate::attach_threads(&mut messages, threads);
        }
        Ok((messages, more))
    }

    async fn last_message(&self, id: ConversationId, viewer: UserId) -> StoreResult<Option<Message>> {
        let client = self.client().await?;
        let v = view(&**client, id, viewer).await?;
        let (mut out, _) = page(&**client, v, "msg.seq < $4", "DESC", i64::MAX as u64, 1).await?;
        Ok(out.pop())
    }

    async fn counters(&self, id: ConversationId, viewer: UserId, read_seq: u64, cap: u32) -> StoreResult<(u32, u32)> {
        let client = self.client().await?;
        let v = view(&**client, id, viewer).await?;
        let from = v.from.max(read_seq + 1);
        let unread_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM messages msg WHERE {VISIBLE} AND msg.kind = {KIND_TEXT} \
             AND msg.sender_id <> $2 LIMIT $4) t"
        );
        let mention_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM messages msg WHERE {VISIBLE} AND msg.kind = {KIND_TEXT} \
             AND msg.sender_id <> $2 AND (msg.mentions_all OR EXISTS (SELECT 1 FROM mentions x \
             WHERE x.user_id = $2 AND x.conversation_id = $1 AND x.seq = msg.seq)) LIMIT $4) t"
        );
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&id.raw(), &viewer.raw(), &i(from), &i64::from(cap)];
        let unread: i64 = client.query_one(&unread_sql, &params).await?.try_get(0)?;
        let mentions: i64 = client.query_one(&mention_sql, &params).await?.try_get(0)?;
        Ok((unread as u32, mentions as u32))
    }

    async fn edit_message(
        &self,
        id: ConversationId,
        message_id: MessageId,
        content: Content,
        mentions: (Vec<UserId>, bool),
        now_ms: i64,
    ) -> StoreResult<ConvEvent> {
        in_tx!(self, |tx| async {
            let m = rows::load_message(tx, message_id).await?;
            if m.conversation_id != id {
                return Err(StoreError::NotFound("message"));
            }
            if !matches!(m.content, Content::Text { .. }) {
                return Err(StoreError::FailedPrecondition("only text messages can be edited".into()));
            }
            tx.execute(
                "UPDATE messages SET content = $2, edited_at = $3, mentions_all = $4 WHERE id = $1",
                &[&message_id.raw(), &serde_json::to_string(&content)?, &now_ms, &mentions.1],
            )
            .await?;
            tx.execute("DELETE FROM mentions WHERE conversation_id = $1 AND seq = $2", &[&id.raw(), &i(m.seq)]).await?;
            rows::insert_mentions(tx, id, m.seq, &mentions.0).await?;
            rows::append_conv_event(tx, id, ConvEventKind::MessageEdited, message_id, now_ms).await
        })
    }

    async fn delete_messages(&self, id: ConversationId, ids: &[MessageId], now_ms: i64) -> StoreResult<Vec<ConvEvent>> {
        in_tx!(self, |tx| async {
            let mut events = Vec::new();
            for mid in ids {
                let m = rows::load_message(tx, *mid).await?;
                if m.conversation_id != id {
                    return Err(StoreError::NotFound("message"));
                }
                if m.is_deleted() {
                    continue;
                }
                tx.execute(
                    "UPDATE messages SET kind = $2, content = $3, forward = NULL, metadata = NULL, mentions_all = FALSE \
                     WHERE id = $1",
                    &[&mid.raw(), &rows::content_kind(&Content::Deleted), &serde_json::to_string(&Content::Deleted)?],
                )
                .await?;
                tx.execute("DELETE FROM mentions WHERE conversation_id = $1 AND seq = $2", &[&id.raw(), &i(m.seq)])
                    .await?;
                events.push(rows::append_conv_event(tx, id, ConvEventKind::MessageDeleted, *mid, now_ms).await?);
            }
            Ok(events)
        })
    }

    async fn hide_messages(
        &self,
        id: ConversationId,
        user_id: UserId,
        ids: &[MessageId],
        now_ms: i64,
    ) -> StoreResult<UserEvent> {
        in_tx!(self, |tx| async {
            for mid in ids {
                let exists = tx
                    .query_opt(
                        "SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2",
                        &[&mid.raw(), &id.raw()],
                    )
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound("message"));
                }
                tx.execute(
                    "INSERT INTO hidden_messages (user_id, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&user_id.raw(), &mid.raw()],
                )
                .await?;
            }
            let kind = UserEventKind::MessagesHidden { conversation_id: id, message_ids: ids.to_vec() };
            rows::append_user_event(tx, user_id, kind, now_ms).await
        })
    }

    async fn clear_history(&self, id: ConversationId, user_id: UserId, now_ms: i64) -> StoreResult<(u64, UserEvent)> {
        in_tx!(self, |tx| async {
            let conv = rows::require_conversation(tx, id).await?;
            let from = conv.last_seq + 1;
            let n = tx
                .execute(
                    "UPDATE members SET visible_from_seq = $3, read_seq = GREATEST(read_seq, $4) \
                     WHERE conversation_id = $1 AND user_id = $2",
                    &[&id.raw(), &user_id.raw(), &i(from), &i(conv.last_seq)],
                )
                .await?;
            if n == 0 {
                return Err(StoreError::NotFound("member"));
            }
            let kind = UserEventKind::HistoryCleared { conversation_id: id, visible_from_seq: from };
            Ok((from, rows::append_user_event(tx, user_id, kind, now_ms).await?))
        })
    }

    async fn mark_read(
        &self,
        id: ConversationId,
        user_id: UserId,
        seq: u64,
        now_ms: i64,
    ) -> StoreResult<(Member, Option<UserEvent>)> {
        in_tx!(self, |tx| async {
            let conv = rows::require_conversation(tx, id).await?;
            let seq = i(seq.min(conv.last_seq));
            let n = tx
                .execute(
                    "UPDATE members SET read_seq = $3, delivered_seq = GREATEST(delivered_seq, $3) \
                     WHERE conversation_id = $1 AND user_id = $2 AND read_seq < $3",
                    &[&id.raw(), &user_id.raw(), &seq],
                )
                .await?;
            let member = rows::load_member(tx, id, user_id).await?.ok_or(StoreError::NotFound("member"))?;
            let event = if n > 0 {
                let kind = UserEventKind::ReadStateChanged { conversation_id: id, read_seq: member.read_seq };
                Some(rows::append_user_event(tx, user_id, kind, now_ms).await?)
            } else {
                None
            };
            Ok((member, event))
        })
    }

    async fn mark_delivered(&self, id: ConversationId, user_id: UserId, seq: u64) -> StoreResult<Member> {
        in_tx!(self, |tx| async {
            let conv = rows::require_conversation(tx, id).await?;
            tx.execute(
                "UPDATE members SET delivered_seq = $3 WHERE conversation_id = $1 AND user_id = $2 AND delivered_seq < $3",
                &[&id.raw(), &user_id.raw(), &i(seq.min(conv.last_seq))],
            )
            .await?;
            rows::load_member(tx, id, user_id).await?.ok_or(StoreError::NotFound("member"))
        })
    }

    async fn receipts(&self, id: ConversationId, message: &Message, with_readers: bool) -> StoreResult<ReceiptCounts> {
        let (seq, sender) = (i(message.seq), message.sender_id.raw());
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT COUNT(*) FILTER (WHERE read_seq >= $2), COUNT(*) FILTER (WHERE delivered_seq >= $2), COUNT(*) \
                 FROM members WHERE conversation_id = $1 AND user_id <> $3",
                &[&id.raw(), &seq, &sender],
            )
            .await?;
        let (read, delivered, recipients): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let readers = if with_readers {
            client
                .query(
                    "SELECT user_id FROM members WHERE conversation_id = $1 AND user_id <> $3 AND read_seq >= $2 ORDER BY user_id",
                    &[&id.raw(), &seq, &sender],
                )
                .await?
                .iter()
                .map(|r| Ok(UserId::from_raw(r.try_get(0)?)))
                .collect::<StoreResult<Vec<_>>>()?
        } else {
            Vec::new()
        };
        Ok(ReceiptCounts { read: read as u32, delivered: delivered as u32, recipients: recipients as u32, readers })
    }

    async fn sender_stats(
        &self,
        windows: &[(ConversationId, u64)],
        sender: UserId,
        recent: u32,
    ) -> StoreResult<(u64, Vec<Message>)> {
        let client = self.client().await?;
        let cond = "msg.conversation_id = $1 AND msg.seq > $2 AND msg.sender_id = $3 AND msg.kind = $4";
        let (mut count, mut latest) = (0u64, Vec::new());
        for (c, from) in windows {
            let n: i64 = client
                .query_one(
                    &format!("SELECT COUNT(*) FROM messages msg WHERE {cond}"),
                    &[&c.raw(), &(*from as i64), &sender.raw(), &KIND_TEXT],
                )
                .await?
                .try_get(0)?;
            count += n as u64;
            let sql = format!("SELECT {MSG_COLS} FROM messages msg WHERE {cond} ORDER BY msg.seq DESC LIMIT $5");
            let rows =
                client.query(&sql, &[&c.raw(), &(*from as i64), &sender.raw(), &KIND_TEXT, &i64::from(recent)]).await?;
            for r in &rows {
                latest.push(rows::message_at(r, 0)?);
            }
        }
        Ok((count, crate::newest(latest, recent)))
    }
}
