//! The sync logs.

use switchboard_core::event::{ConvEvent, ConvEventKind, UserEvent, UserEventKind};
use switchboard_core::{ConversationId, UserId};

use crate::backends::store_trait;
use crate::rows::{self, MSG_COLS};
use crate::sql::{Tx, args, corrupt};
use crate::{StoreError, StoreResult};

store_trait! {
    /// The sync logs.
    pub trait EventStore {
        /// Conversation events with seq > `after`, ascending, at most `limit`.
        read fn conv_events(&self, id: ConversationId, after: u64, limit: u32) -> Vec<ConvEvent>
            => conv_events(id, after, limit);
        /// Appends to a user's log.
        write fn append_user_event(&self, user_id: UserId, kind: UserEventKind, now_ms: i64) -> UserEvent
            => rows::append_user_event(user_id, kind, now_ms);
        /// User events with user_seq > `after`, ascending, at most `limit`.
        read fn user_events(&self, user_id: UserId, after: u64, limit: u32) -> Vec<UserEvent>
            => user_events(user_id, after, limit);
        /// The latest user_seq of a user.
        read fn user_seq(&self, user_id: UserId) -> u64 => user_seq(user_id);
    }
}

async fn conv_events(tx: &impl Tx, id: ConversationId, after: u64, limit: u32) -> StoreResult<Vec<ConvEvent>> {
    let sql = format!(
        "SELECT e.seq AS event_seq, e.kind AS event_kind, e.actor_id AS event_actor, e.created_at AS event_at, \
         e.reaction AS event_reaction, {MSG_COLS} FROM conv_events e \
         JOIN messages msg ON msg.id = e.message_id WHERE e.conversation_id = ?1 AND e.seq > ?2 ORDER BY e.seq LIMIT ?3"
    );
    let mut events = tx
        .all(&sql, args![id.raw(), after, limit], |r| {
            let kind = r.i64("event_kind")?;
            let kind = ConvEventKind::from_i64(kind).ok_or_else(|| corrupt(format!("unknown event kind {kind}")))?;
            let (seq, actor, reaction) = (r.u64("event_seq")?, rows::event_actor(r)?, r.opt_text("event_reaction")?);
            Ok(ConvEvent { conversation_id: id, seq, kind, message: rows::message(r)?, actor, reaction })
        })
        .await?;
    // Each event carries its message as it is now, reactions included.
    let mut messages: Vec<_> = events.iter().map(|e| e.message.clone()).collect();
    messages.sort_by_key(|m| m.id);
    messages.dedup_by_key(|m| m.id);
    rows::attach_reactions(tx, &mut messages, None).await?;
    for e in &mut events {
        if let Some(m) = messages.iter().find(|m| m.id == e.message.id) {
            e.message.reactions = m.reactions.clone();
        }
    }
    Ok(events)
}

async fn user_events(tx: &impl Tx, user_id: UserId, after: u64, limit: u32) -> StoreResult<Vec<UserEvent>> {
    let sql = "SELECT user_id, seq, body, created_at, format FROM user_events WHERE user_id = ?1 AND seq > ?2 \
               ORDER BY seq LIMIT ?3";
    tx.all(sql, args![user_id.raw(), after, limit], rows::user_event).await
}

async fn user_seq(tx: &impl Tx, user_id: UserId) -> StoreResult<u64> {
    let sql = "SELECT last_user_seq FROM users WHERE id = ?1";
    tx.one(sql, args![user_id.raw()], |r| r.u64("last_user_seq")).await?.ok_or(StoreError::NotFound("user"))
}
