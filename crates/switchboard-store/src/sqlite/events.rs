//! The sync logs in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use switchboard_core::event::{ConvEvent, ConvEventKind, UserEvent, UserEventKind};
use switchboard_core::{ConversationId, UserId};

use super::SqliteStore;
use super::rows::{self, MSG_COLS};
use crate::{EventStore, StoreError, StoreResult};

#[async_trait]
impl EventStore for SqliteStore {
    async fn conv_events(&self, id: ConversationId, after: u64, limit: u32) -> StoreResult<Vec<ConvEvent>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT e.seq, e.kind, {MSG_COLS} FROM conv_events e JOIN messages msg ON msg.id = e.message_id \
                 WHERE e.conversation_id = ?1 AND e.seq > ?2 ORDER BY e.seq LIMIT ?3"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![id.raw(), after, limit], |r| {
                Ok((r.get::<_, u64>(0)?, r.get::<_, i64>(1)?, rows::message_at(r, 2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, kind, message) = row?;
                let kind =
                    ConvEventKind::from_i64(kind).ok_or(StoreError::Backend(format!("unknown event kind {kind}")))?;
                out.push(ConvEvent { conversation_id: id, seq, kind, message });
            }
            Ok(out)
        })
        .await
    }

    async fn append_user_event(&self, user_id: UserId, kind: UserEventKind, now_ms: i64) -> StoreResult<UserEvent> {
        self.write(move |conn| rows::append_user_event(conn, user_id, kind, now_ms)).await
    }

    async fn user_events(&self, user_id: UserId, after: u64, limit: u32) -> StoreResult<Vec<UserEvent>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id, seq, body, created_at FROM user_events WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let v = stmt.query_map(params![user_id.raw(), after, limit], rows::user_event)?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn user_seq(&self, user_id: UserId) -> StoreResult<u64> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT last_user_seq FROM users WHERE id = ?1")?
                .query_row([user_id.raw()], |r| r.get(0))
                .optional()?
                .ok_or(StoreError::NotFound("user"))
        })
        .await
    }
}
