//! The sync logs.

use switchboard_core::event::{ConvEvent, ConvEventKind, UserEvent};
use switchboard_core::{ConversationId, UserId};

use super::rows::{self, MSG_COLS};
use crate::sql::{Tx, args, corrupt};
use crate::{StoreError, StoreResult};

pub(crate) async fn conv_events(
    tx: &impl Tx,
    id: ConversationId,
    after: u64,
    limit: u32,
) -> StoreResult<Vec<ConvEvent>> {
    let sql = format!(
        "SELECT e.seq AS event_seq, e.kind AS event_kind, {MSG_COLS} FROM conv_events e \
         JOIN messages msg ON msg.id = e.message_id WHERE e.conversation_id = ?1 AND e.seq > ?2 ORDER BY e.seq LIMIT ?3"
    );
    tx.all(&sql, args![id.raw(), after, limit], |r| {
        let kind = r.i64("event_kind")?;
        let kind = ConvEventKind::from_i64(kind).ok_or_else(|| corrupt(format!("unknown event kind {kind}")))?;
        Ok(ConvEvent { conversation_id: id, seq: r.u64("event_seq")?, kind, message: rows::message(r)? })
    })
    .await
}

pub(crate) async fn user_events(tx: &impl Tx, user_id: UserId, after: u64, limit: u32) -> StoreResult<Vec<UserEvent>> {
    let sql = "SELECT user_id, seq, body, created_at FROM user_events WHERE user_id = ?1 AND seq > ?2 \
               ORDER BY seq LIMIT ?3";
    tx.all(sql, args![user_id.raw(), after, limit], rows::user_event).await
}

pub(crate) async fn user_seq(tx: &impl Tx, user_id: UserId) -> StoreResult<u64> {
    let sql = "SELECT last_user_seq FROM users WHERE id = ?1";
    tx.one(sql, args![user_id.raw()], |r| r.u64("last_user_seq")).await?.ok_or(StoreError::NotFound("user"))
}
