//! Scheduled messages: kept until their time, then delivered exactly once. Delivery
//! deletes the schedule and appends the message in one transaction; a node first claims
//! due schedules with a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`), so that nodes do not
//! prepare the same delivery, and the deletion settles any race that remains.

use std::collections::BTreeMap;

use switchboard_core::model::{Content, NewMessage};
use switchboard_core::{ConversationId, MessageId, UserId};

use crate::backends::store_trait;
use crate::messages::Appended;
use crate::rows::{STORED_FORMAT, decoded, first_i64, opt_decoded};
use crate::sql::{Dialect, Row, Tx, args, taken};
use crate::{StoreError, StoreResult};

/// A message waiting for its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// Its id.
    pub id: i64,
    /// The sender.
    pub sender_id: UserId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// When it goes out, ms since the epoch.
    pub send_at_ms: i64,
    /// What it says.
    pub content: Content,
    /// The message it replies to.
    pub reply_to: Option<MessageId>,
    /// Client metadata.
    pub metadata: BTreeMap<String, String>,
    /// Marked important.
    pub important: bool,
    /// Notifies nobody.
    pub silent: bool,
    /// The sender opted out of link previews.
    pub no_link_preview: bool,
    /// The sender's key; the delivered message carries it.
    pub client_key: String,
    /// When it was scheduled.
    pub created_at_ms: i64,
    /// Why its delivery was refused, if it was.
    pub failed: Option<String>,
}

/// What to change in a scheduled message.
#[derive(Debug, Clone, Default)]
pub struct ScheduledPatch {
    /// New content.
    pub content: Option<Content>,
    /// New time.
    pub send_at_ms: Option<i64>,
}

const COLS: &str = "id, sender_id, conversation_id, send_at, content, reply_to, metadata, important, silent, \
                    no_link_preview, client_key, created_at, failed, format";

fn scheduled(r: &dyn Row) -> StoreResult<Scheduled> {
    Ok(Scheduled {
        id: r.i64("id")?,
        sender_id: UserId::from_raw(r.i64("sender_id")?),
        conversation_id: ConversationId::from_raw(r.i64("conversation_id")?),
        send_at_ms: r.i64("send_at")?,
        content: decoded(r, "content")?,
        reply_to: r.opt_i64("reply_to")?.map(MessageId::from_raw),
        metadata: opt_decoded(r, "metadata")?.unwrap_or_default(),
        important: r.bool("important")?,
        silent: r.bool("silent")?,
        no_link_preview: r.bool("no_link_preview")?,
        client_key: r.text("client_key")?,
        created_at_ms: r.i64("created_at")?,
        failed: r.opt_text("failed")?,
    })
}

store_trait! {
    /// Scheduled messages.
    pub trait ScheduledStore {
        /// Keeps a message for later; a known client key of the sender returns the
        /// original; refused once the sender has `max` waiting.
        write fn schedule(&self, s: &Scheduled, max: u32) -> Scheduled [s = s.clone()] => schedule(&s, max);
        /// One of the sender's scheduled messages.
        read fn scheduled(&self, sender: UserId, id: i64) -> Option<Scheduled> => get(sender, id);
        /// The sender's scheduled messages (in one conversation, when given), soonest first.
        read fn scheduled_of(&self, sender: UserId, conversation: Option<ConversationId>) -> Vec<Scheduled>
            => list(sender, conversation);
        /// Changes a scheduled message (and clears a failure).
        write fn update_scheduled(&self, sender: UserId, id: i64, patch: ScheduledPatch) -> Scheduled
            [patch = patch.clone()] => update(sender, id, &patch);
        /// Drops a scheduled message; false when there was none.
        write fn cancel_scheduled(&self, sender: UserId, id: i64) -> bool => cancel(sender, id);
        /// Claims up to `limit` schedules due at `now_ms` that no other node holds, for
        /// `lease_ms`.
        write fn claim_due(&self, now_ms: i64, lease_ms: i64, limit: u32) -> Vec<Scheduled>
            => claim_due(now_ms, lease_ms, limit);
        /// Delivers schedule `id` as `new`: deletes it and appends the message in one
        /// transaction; `None` when it is gone (delivered, cancelled) meanwhile.
        append fn deliver_scheduled(&self, id: i64, new: NewMessage, now_ms: i64) -> Option<Appended>
            => deliver(id, &new, now_ms);
        /// Records why a delivery was refused; the schedule waits for a change.
        write fn fail_scheduled(&self, id: i64, reason: String) -> () => fail(id, &reason);
    }
}

async fn schedule(tx: &impl Tx, s: &Scheduled, max: u32) -> StoreResult<Scheduled> {
    let sql = format!("SELECT {COLS} FROM scheduled_messages WHERE sender_id = ?1 AND client_key = ?2");
    if let Some(existing) = tx.one(&sql, args![s.sender_id.raw(), &s.client_key], scheduled).await? {
        return Ok(existing);
    }
    let n = tx
        .one("SELECT COUNT(*) FROM scheduled_messages WHERE sender_id = ?1", args![s.sender_id.raw()], first_i64)
        .await?
        .unwrap_or(0);
    if n >= i64::from(max) {
        return Err(StoreError::FailedPrecondition(format!("at most {max} scheduled messages")));
    }
    let content = switchboard_format::encode(&s.content);
    let metadata = if s.metadata.is_empty() { None } else { Some(switchboard_format::encode(&s.metadata)) };
    let id = tx
        .one(
            "INSERT INTO scheduled_messages (sender_id, conversation_id, send_at, content, reply_to, metadata, \
             important, silent, client_key, created_at, format, no_link_preview) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
            args![
                s.sender_id.raw(),
                s.conversation_id.raw(),
                s.send_at_ms,
                &content,
                s.reply_to.map(MessageId::raw),
                metadata.as_ref(),
                s.important,
                s.silent,
                &s.client_key,
                s.created_at_ms,
                STORED_FORMAT,
                s.no_link_preview,
            ],
            first_i64,
        )
        .await
        .map_err(|e| match e {
            StoreError::AlreadyExists(_) => StoreError::AlreadyExists("scheduled message"),
            e => e,
        })?
        .ok_or(StoreError::NotFound("scheduled message"))?;
    Ok(Scheduled { id, failed: None, ..s.clone() })
}

async fn get(tx: &impl Tx, sender: UserId, id: i64) -> StoreResult<Option<Scheduled>> {
    let sql = format!("SELECT {COLS} FROM scheduled_messages WHERE id = ?1 AND sender_id = ?2");
    tx.one(&sql, args![id, sender.raw()], scheduled).await
}

async fn list(tx: &impl Tx, sender: UserId, conversation: Option<ConversationId>) -> StoreResult<Vec<Scheduled>> {
    let sql = format!(
        "SELECT {COLS} FROM scheduled_messages WHERE sender_id = ?1 AND (?2 = 0 OR conversation_id = ?2) \
         ORDER BY send_at, id"
    );
    tx.all(&sql, args![sender.raw(), conversation.map_or(0, ConversationId::raw)], scheduled).await
}

async fn update(tx: &impl Tx, sender: UserId, id: i64, patch: &ScheduledPatch) -> StoreResult<Scheduled> {
    let current = get(tx, sender, id).await?.ok_or(StoreError::NotFound("scheduled message"))?;
    let content = switchboard_format::encode(patch.content.as_ref().unwrap_or(&current.content));
    let at = patch.send_at_ms.unwrap_or(current.send_at_ms);
    tx.exec(
        "UPDATE scheduled_messages SET content = ?2, send_at = ?3, failed = NULL, claimed_until = 0, format = ?4 \
         WHERE id = ?1",
        args![id, &content, at, STORED_FORMAT],
    )
    .await?;
    get(tx, sender, id).await?.ok_or(StoreError::NotFound("scheduled message"))
}

async fn cancel(tx: &impl Tx, sender: UserId, id: i64) -> StoreResult<bool> {
    let n = tx.exec("DELETE FROM scheduled_messages WHERE id = ?1 AND sender_id = ?2", args![id, sender.raw()]).await?;
    Ok(n > 0)
}

async fn claim_due(tx: &impl Tx, now_ms: i64, lease_ms: i64, limit: u32) -> StoreResult<Vec<Scheduled>> {
    let skip = match tx.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "SELECT {COLS} FROM scheduled_messages WHERE send_at <= ?1 AND failed IS NULL AND claimed_until < ?1 \
         ORDER BY send_at, id LIMIT ?2{skip}"
    );
    let due = tx.all(&sql, args![now_ms, limit], scheduled).await?;
    for s in &due {
        tx.exec("UPDATE scheduled_messages SET claimed_until = ?2 WHERE id = ?1", args![s.id, now_ms + lease_ms])
            .await?;
    }
    Ok(due)
}

async fn deliver(tx: &impl Tx, id: i64, new: &NewMessage, now_ms: i64) -> StoreResult<Option<Appended>> {
    // The append checks everything before its first change; the deletion comes after it,
    // so that a refused append leaves the schedule in place (and the SQLite writer needs no
    // savepoint).
    let sql = "SELECT 1 FROM scheduled_messages WHERE id = ?1";
    tx.lock_row("scheduled_messages", id).await?;
    if tx.one(sql, args![id], first_i64).await?.is_none() {
        return Ok(None);
    }
    let appended = crate::messages::append(tx, new, now_ms).await?;
    tx.exec("DELETE FROM scheduled_messages WHERE id = ?1", args![id])
        .await
        .map_err(taken(StoreError::Conflict("scheduled message")))?;
    Ok(Some(appended))
}

async fn fail(tx: &impl Tx, id: i64, reason: &str) -> StoreResult<()> {
    tx.exec("UPDATE scheduled_messages SET failed = ?2 WHERE id = ?1", args![id, reason]).await?;
    Ok(())
}
