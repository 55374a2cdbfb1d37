//! The sync logs in PostgreSQL.

use async_trait::async_trait;
use switchboard_core::event::{ConvEvent, ConvEventKind, UserEvent, UserEventKind};
use switchboard_core::{ConversationId, UserId};

use super::rows::{self, MSG_COLS, i};
use super::{PgStore, in_tx};
use crate::{EventStore, StoreError, StoreResult};

#[async_trait]
impl EventStore for PgStore {
    async fn conv_events(&self, id: ConversationId, after: u64, limit: u32) -> StoreResult<Vec<ConvEvent>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT e.seq, e.kind, {MSG_COLS} FROM conv_events e JOIN messages msg ON msg.id = e.message_id \
             WHERE e.conversation_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"
        );
        let rows = client.query(&sql, &[&id.raw(), &i(after), &i64::from(limit)]).await?;
        rows.iter()
            .map(|r| {
                let (seq, kind): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
                let kind =
                    ConvEventKind::from_i64(kind).ok_or(StoreError::Backend(format!("unknown event kind {kind}")))?;
                Ok(ConvEvent { conversation_id: id, seq: seq as u64, kind, message: rows::message_at(r, 2)? })
            })
            .collect()
    }

    async fn append_user_event(&self, user_id: UserId, kind: UserEventKind, now_ms: i64) -> StoreResult<UserEvent> {
        in_tx!(self, |tx| rows::append_user_event(tx, user_id, kind, now_ms))
    }

    async fn user_events(&self, user_id: UserId, after: u64, limit: u32) -> StoreResult<Vec<UserEvent>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT user_id, seq, body, created_at FROM user_events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&user_id.raw(), &i(after), &i64::from(limit)],
            )
            .await?;
        rows.iter().map(rows::user_event).collect()
    }

    async fn user_seq(&self, user_id: UserId) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT last_user_seq FROM users WHERE id = $1", &[&user_id.raw()])
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        Ok(row.try_get::<_, i64>(0)? as u64)
    }
}
