//! Reactions, pins, saved messages and link previews: what members (or the server) add to
//! messages that are already there. A reaction, pin or preview is a conversation event (a
//! reaction event, a pin's service message, a preview event); saving is an event of the
//! saver's own log; each written in the same transaction.

use switchboard_core::event::ConvEventKind;
use switchboard_core::event::{ConvEvent, UserEvent, UserEventKind};
use switchboard_core::model::{
    Content, LinkPreview, Message, Pin, Reactor, SavedMessage, ServiceAction, ServiceContent,
};
use switchboard_core::{ConversationId, MessageId, UserId};

use crate::backends::store_trait;
use crate::rows::{self, MSG_COLS, first_i64};
use crate::sql::{Tx, args};
use crate::{StoreError, StoreResult};

/// What a reaction change did.
#[derive(Debug, Clone)]
pub enum Reacted {
    /// Stored; the event carries the message with its reactions now.
    Changed(Box<ConvEvent>),
    /// Already so (added twice, or removed when absent): nothing was written.
    Unchanged,
    /// The message already has the most distinct emoji allowed.
    LimitReached,
}

/// A member's reaction to add or take back.
#[derive(Debug, Clone)]
pub struct ReactionChange {
    /// Who.
    pub user: UserId,
    /// The emoji.
    pub emoji: String,
    /// Added (true) or taken back.
    pub add: bool,
}

store_trait! {
    /// Reactions and pins.
    pub trait ReactionStore {
        /// Adds (`add`) or removes `user`'s reaction `emoji` on a message of conversation
        /// `id`; a new emoji is refused once the message has `max_distinct` of them.
        write fn react(
            &self,
            id: ConversationId,
            message_id: MessageId,
            change: ReactionChange,
            max_distinct: u32,
            now_ms: i64,
        ) -> Reacted => react(id, message_id, change.user, &change.emoji, change.add, max_distinct, now_ms);
        /// Who reacted to a message (with `emoji` only, when given), oldest first, after
        /// the cursor (time, user); at most `limit`.
        read fn reactors(
            &self,
            message_id: MessageId,
            emoji: Option<String>,
            after: Option<(i64, UserId)>,
            limit: u32,
        ) -> Vec<Reactor> => reactors(message_id, emoji.as_deref(), after, limit);
        /// Pins (`pin`) or unpins a message of conversation `id`; the service message that
        /// records it, or `None` when it already was so.
        write fn set_pin(&self, id: ConversationId, message_id: MessageId, actor: UserId, pin: bool, now_ms: i64)
            -> Option<ConvEvent> => set_pin(id, message_id, actor, pin, now_ms);
        /// The pinned messages `viewer` can see, latest pin first, before the cursor (pin
        /// time, message); at most `limit`, and whether more exist.
        read fn pins(
            &self,
            id: ConversationId,
            viewer: UserId,
            before: Option<(i64, MessageId)>,
            limit: u32,
        ) -> (Vec<Pin>, bool) => pins(id, viewer, before, limit);
        /// Saves (`saved`) a message of conversation `id` to `user`'s saved messages, or
        /// takes it off; the user-log event, or `None` when it already was so.
        write fn set_saved(&self, user: UserId, id: ConversationId, message_id: MessageId, saved: bool, now_ms: i64)
            -> Option<UserEvent> => set_saved(user, id, message_id, saved, now_ms);
        /// `user`'s saved messages still in conversations they are a member of (each from
        /// where their view starts), latest saved first, before the cursor (time, message);
        /// at most `limit`, and whether more exist.
        read fn saved_messages(&self, user: UserId, before: Option<(i64, MessageId)>, limit: u32)
            -> (Vec<SavedMessage>, bool) => saved_messages(user, before, limit);
        /// Sets the link previews of a message of conversation `id` that was last edited at
        /// `edited_at_ms` (its text is what they were made from); the preview event, or
        /// `None` when the message was edited or deleted since.
        write fn set_link_previews(
            &self,
            id: ConversationId,
            message_id: MessageId,
            edited_at_ms: Option<i64>,
            previews: Vec<LinkPreview>,
            now_ms: i64,
        ) -> Option<ConvEvent> => set_link_previews(id, message_id, edited_at_ms, &previews, now_ms);
    }
}

/// A message of conversation `id` that can take reactions and pins.
async fn live_message(tx: &impl Tx, id: ConversationId, message_id: MessageId, what: &str) -> StoreResult<Message> {
    let m = rows::load_message(tx, message_id).await?;
    if m.conversation_id != id || m.is_deleted() {
        return Err(StoreError::NotFound("message"));
    }
    if matches!(m.content, Content::Service(_)) {
        return Err(StoreError::FailedPrecondition(format!("service messages cannot be {what}")));
    }
    Ok(m)
}

#[allow(clippy::too_many_arguments)]
async fn react(
    tx: &impl Tx,
    id: ConversationId,
    message_id: MessageId,
    user: UserId,
    emoji: &str,
    add: bool,
    max_distinct: u32,
    now_ms: i64,
) -> StoreResult<Reacted> {
    live_message(tx, id, message_id, "reacted to").await?;
    // Concurrent reactions to one message take turns, so the distinct-emoji limit holds.
    tx.lock_row("messages", message_id.raw()).await?;
    let key = args![message_id.raw(), emoji, user.raw()];
    if add {
        let sql = "SELECT 1 FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3";
        if tx.one(sql, key, first_i64).await?.is_some() {
            return Ok(Reacted::Unchanged);
        }
        let sql = "SELECT 1 FROM reaction_counts WHERE message_id = ?1 AND emoji = ?2";
        if tx.one(sql, &key[..2], first_i64).await?.is_none() {
            let sql = "SELECT COUNT(*) FROM reaction_counts WHERE message_id = ?1";
            let distinct = tx.one(sql, &key[..1], first_i64).await?.unwrap_or(0);
            if distinct >= i64::from(max_distinct) {
                return Ok(Reacted::LimitReached);
            }
        }
        tx.exec(
            "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            args![message_id.raw(), emoji, user.raw(), now_ms],
        )
        .await?;
        tx.exec(
            "INSERT INTO reaction_counts (message_id, emoji, count, first_at) VALUES (?1, ?2, 1, ?3) \
             ON CONFLICT (message_id, emoji) DO UPDATE SET count = reaction_counts.count + 1",
            args![message_id.raw(), emoji, now_ms],
        )
        .await?;
    } else {
        let sql = "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3";
        if tx.exec(sql, key).await? == 0 {
            return Ok(Reacted::Unchanged);
        }
        tx.exec("UPDATE reaction_counts SET count = count - 1 WHERE message_id = ?1 AND emoji = ?2", &key[..2]).await?;
        tx.exec("DELETE FROM reaction_counts WHERE message_id = ?1 AND emoji = ?2 AND count <= 0", &key[..2]).await?;
    }
    let ev = rows::append_reaction_event(tx, id, add, message_id, user, emoji, now_ms).await?;
    Ok(Reacted::Changed(Box::new(ev)))
}

async fn reactors(
    tx: &impl Tx,
    message_id: MessageId,
    emoji: Option<&str>,
    after: Option<(i64, UserId)>,
    limit: u32,
) -> StoreResult<Vec<Reactor>> {
    let (at, user) = after.map_or((i64::MIN, i64::MIN), |(at, u)| (at, u.raw()));
    let only = if emoji.is_some() { "AND emoji = ?5" } else { "" };
    let sql = format!(
        "SELECT user_id, emoji, created_at FROM reactions WHERE message_id = ?1 {only} \
         AND (created_at > ?2 OR (created_at = ?2 AND user_id > ?3)) ORDER BY created_at, user_id LIMIT ?4"
    );
    let all = args![message_id.raw(), at, user, limit, emoji.unwrap_or_default()];
    let a = if emoji.is_some() { all } else { &all[..4] };
    tx.all(&sql, a, |r| {
        Ok(Reactor {
            user_id: UserId::from_raw(r.i64("user_id")?),
            emoji: r.text("emoji")?,
            at_ms: r.i64("created_at")?,
        })
    })
    .await
}

/// Points the conversation at its most recently pinned message still pinned.
pub(crate) async fn refresh_latest_pin(tx: &impl Tx, id: ConversationId) -> StoreResult<()> {
    tx.exec(
        "UPDATE conversations SET pinned_message_id = (SELECT p.message_id FROM pins p WHERE p.conversation_id = ?1 \
         ORDER BY p.pinned_at DESC, p.message_id DESC LIMIT 1) WHERE id = ?1",
        args![id.raw()],
    )
    .await?;
    Ok(())
}

/// Forgets the reactions and pin of a message deleted for everyone.
pub(crate) async fn forget(tx: &impl Tx, id: ConversationId, message_id: MessageId) -> StoreResult<()> {
    let m = args![message_id.raw()];
    tx.exec("DELETE FROM reactions WHERE message_id = ?1", m).await?;
    tx.exec("DELETE FROM reaction_counts WHERE message_id = ?1", m).await?;
    if tx.exec("DELETE FROM pins WHERE message_id = ?1", m).await? > 0 {
        refresh_latest_pin(tx, id).await?;
    }
    Ok(())
}

async fn set_pin(
    tx: &impl Tx,
    id: ConversationId,
    message_id: MessageId,
    actor: UserId,
    pin: bool,
    now_ms: i64,
) -> StoreResult<Option<ConvEvent>> {
    live_message(tx, id, message_id, "pinned").await?;
    let changed = if pin {
        tx.exec(
            "INSERT INTO pins (conversation_id, message_id, pinned_by, pinned_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
            args![id.raw(), message_id.raw(), actor.raw(), now_ms],
        )
        .await?
    } else {
        let sql = "DELETE FROM pins WHERE conversation_id = ?1 AND message_id = ?2";
        tx.exec(sql, args![id.raw(), message_id.raw()]).await?
    };
    if changed == 0 {
        return Ok(None);
    }
    refresh_latest_pin(tx, id).await?;
    let action = if pin { ServiceAction::MessagePinned } else { ServiceAction::MessageUnpinned };
    let content = ServiceContent { action, user_ids: Vec::new(), title: String::new(), target_id: message_id.raw() };
    let new = crate::service_message(id, actor, content);
    Ok(Some(rows::insert_message(tx, &new, now_ms).await?))
}

async fn pins(
    tx: &impl Tx,
    id: ConversationId,
    viewer: UserId,
    before: Option<(i64, MessageId)>,
    limit: u32,
) -> StoreResult<(Vec<Pin>, bool)> {
    let from = rows::load_member(tx, id, viewer).await?.map_or(0, |m| m.visible_from_seq);
    let (at, mid) = before.map_or((i64::MAX, i64::MAX), |(at, m)| (at, m.raw()));
    let sql = format!(
        "SELECT p.pinned_by, p.pinned_at, {MSG_COLS} FROM pins p JOIN messages msg ON msg.id = p.message_id \
         WHERE p.conversation_id = ?1 AND msg.seq >= ?3 AND NOT EXISTS \
         (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?2 AND h.message_id = msg.id) \
         AND (p.pinned_at < ?4 OR (p.pinned_at = ?4 AND p.message_id < ?5)) \
         ORDER BY p.pinned_at DESC, p.message_id DESC LIMIT ?6"
    );
    let a = args![id.raw(), viewer.raw(), from, at, mid, u64::from(limit) + 1];
    let mut out = tx
        .all(&sql, a, |r| {
            Ok(Pin {
                pinned_by: UserId::from_raw(r.i64("pinned_by")?),
                pinned_at_ms: r.i64("pinned_at")?,
                message: rows::message(r)?,
            })
        })
        .await?;
    let more = out.len() > limit as usize;
    out.truncate(limit as usize);
    let mut messages: Vec<Message> = out.iter().map(|p| p.message.clone()).collect();
    rows::attach_reactions(tx, &mut messages, Some(viewer)).await?;
    for (p, m) in out.iter_mut().zip(messages) {
        p.message = m;
    }
    Ok((out, more))
}

async fn set_saved(
    tx: &impl Tx,
    user: UserId,
    id: ConversationId,
    message_id: MessageId,
    saved: bool,
    now_ms: i64,
) -> StoreResult<Option<UserEvent>> {
    let changed = if saved {
        let m = rows::load_message(tx, message_id).await?;
        if m.conversation_id != id {
            return Err(StoreError::NotFound("message"));
        }
        tx.exec(
            "INSERT INTO saved_messages (user_id, message_id, conversation_id, saved_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
            args![user.raw(), message_id.raw(), id.raw(), now_ms],
        )
        .await?
    } else {
        let sql = "DELETE FROM saved_messages WHERE user_id = ?1 AND message_id = ?2";
        tx.exec(sql, args![user.raw(), message_id.raw()]).await?
    };
    if changed == 0 {
        return Ok(None);
    }
    let kind = UserEventKind::MessageSaved { conversation_id: id, message_id, saved };
    Ok(Some(rows::append_user_event(tx, user, kind, now_ms).await?))
}

async fn saved_messages(
    tx: &impl Tx,
    user: UserId,
    before: Option<(i64, MessageId)>,
    limit: u32,
) -> StoreResult<(Vec<SavedMessage>, bool)> {
    let (at, mid) = before.map_or((i64::MAX, i64::MAX), |(at, m)| (at, m.raw()));
    let sql = format!(
        "SELECT s.saved_at, {MSG_COLS} FROM saved_messages s JOIN messages msg ON msg.id = s.message_id \
         JOIN members m ON m.conversation_id = s.conversation_id AND m.user_id = s.user_id \
         WHERE s.user_id = ?1 AND msg.seq >= m.visible_from_seq \
         AND (s.saved_at < ?2 OR (s.saved_at = ?2 AND s.message_id < ?3)) \
         ORDER BY s.saved_at DESC, s.message_id DESC LIMIT ?4"
    );
    let mut out = tx
        .all(&sql, args![user.raw(), at, mid, u64::from(limit) + 1], |r| {
            Ok(SavedMessage { saved_at_ms: r.i64("saved_at")?, message: rows::message(r)? })
        })
        .await?;
    let more = out.len() > limit as usize;
    out.truncate(limit as usize);
    Ok((out, more))
}

async fn set_link_previews(
    tx: &impl Tx,
    id: ConversationId,
    message_id: MessageId,
    edited_at_ms: Option<i64>,
    previews: &[LinkPreview],
    now_ms: i64,
) -> StoreResult<Option<ConvEvent>> {
    let encoded = switchboard_format::encode(&previews.to_vec());
    tx.lock_row("messages", message_id.raw()).await?;
    let m = rows::load_message(tx, message_id).await?;
    if m.conversation_id != id || m.is_deleted() || m.edited_at_ms != edited_at_ms {
        return Ok(None);
    }
    // A row a newer build wrote is in a format this one does not write: left alone.
    let sql = "UPDATE messages SET link_previews = ?2 WHERE id = ?1 AND format = ?3";
    if tx.exec(sql, args![message_id.raw(), &encoded, rows::STORED_FORMAT]).await? == 0 {
        return Ok(None);
    }
    let ev = rows::append_conv_event(tx, id, ConvEventKind::PreviewAdded, message_id, m.sender_id, now_ms).await?;
    Ok(Some(ev))
}
