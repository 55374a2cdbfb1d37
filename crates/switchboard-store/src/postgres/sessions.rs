//! Sessions and their hashed tokens in PostgreSQL.

use async_trait::async_trait;
use switchboard_core::event::{SessionEndReason, UserEvent, UserEventKind};
use switchboard_core::model::Session;
use switchboard_core::{SessionId, UserId};

use super::rows::{self, SESSION_COLS};
use super::{PgStore, in_tx};
use crate::{NewSession, Rotation, SessionStore, StoreError, StoreResult};

#[async_trait]
impl SessionStore for PgStore {
    async fn create_session(&self, new: NewSession) -> StoreResult<Session> {
        let client = self.client().await?;
        let sql = format!(
            "INSERT INTO sessions (user_id, device_name, platform, access_hash, access_expires_at, refresh_hash, \
             created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {SESSION_COLS}"
        );
        let row = client
            .query_one(
                &sql,
                &[
                    &new.user_id.raw(),
                    &new.device_name,
                    &new.platform,
                    &new.access_hash,
                    &new.access_expires_at_ms,
                    &new.refresh_hash,
                    &new.now_ms,
                ],
            )
            .await
            .map_err(|e| {
                if e.code() == Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION) {
                    StoreError::NotFound("user")
                } else {
                    e.into()
                }
            })?;
        rows::session(&row)
    }

    async fn session_by_access(&self, access_hash: &[u8], now_ms: i64) -> StoreResult<Option<(Session, bool)>> {
        let client = self.client().await?;
        let cols = SESSION_COLS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {cols}, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.access_hash = $1 AND s.access_expires_at > $2"
        );
        match client.query_opt(&sql, &[&access_hash, &now_ms]).await? {
            Some(r) => Ok(Some((rows::session(&r)?, r.try_get(7)?))),
            None => Ok(None),
        }
    }

    async fn sessions(&self, user_id: UserId) -> StoreResult<Vec<Session>> {
        let client = self.client().await?;
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE user_id = $1 ORDER BY id DESC");
        client.query(&sql, &[&user_id.raw()]).await?.iter().map(rows::session).collect()
    }

    async fn rotate_tokens(
        &self,
        refresh_hash: &[u8],
        access_hash: Vec<u8>,
        access_expires_at_ms: i64,
        new_refresh_hash: Vec<u8>,
        now_ms: i64,
    ) -> StoreResult<Rotation> {
        let client = self.client().await?;
        let sql = format!(
            "UPDATE sessions SET access_hash = $2, access_expires_at = $3, prev_refresh_hash = refresh_hash, \
             refresh_hash = $4, last_seen_at = $5 WHERE refresh_hash = $1 RETURNING {SESSION_COLS}"
        );
        let row = client
            .query_opt(&sql, &[&refresh_hash, &access_hash, &access_expires_at_ms, &new_refresh_hash, &now_ms])
            .await?;
        if let Some(r) = row {
            return Ok(Rotation::Rotated(rows::session(&r)?));
        }
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE prev_refresh_hash = $1");
        match client.query_opt(&sql, &[&refresh_hash]).await? {
            Some(r) => Ok(Rotation::Reused(rows::session(&r)?)),
            None => Ok(Rotation::Unknown),
        }
    }

    async fn touch_session(&self, id: SessionId, now_ms: i64) -> StoreResult<()> {
        let client = self.client().await?;
        client.execute("UPDATE sessions SET last_seen_at = $2 WHERE id = $1", &[&id.raw(), &now_ms]).await?;
        Ok(())
    }

    async fn end_sessions(
        &self,
        user_id: UserId,
        only: Option<SessionId>,
        except: Option<SessionId>,
        reason: SessionEndReason,
        now_ms: i64,
    ) -> StoreResult<Vec<UserEvent>> {
        in_tx!(self, |tx| async {
            let rows = tx
                .query(
                    "DELETE FROM sessions WHERE user_id = $1 AND ($2::BIGINT IS NULL OR id = $2) \
                     AND ($3::BIGINT IS NULL OR id <> $3) RETURNING id",
                    &[&user_id.raw(), &only.map(SessionId::raw), &except.map(SessionId::raw)],
                )
                .await?;
            let mut ids: Vec<SessionId> =
                rows.iter().map(|r| r.try_get(0).map(SessionId::from_raw)).collect::<Result<_, _>>()?;
            ids.sort_unstable();
            let mut events = Vec::with_capacity(ids.len());
            for session_id in ids {
                let kind = UserEventKind::SessionEnded { session_id, reason };
                events.push(rows::append_user_event(tx, user_id, kind, now_ms).await?);
            }
            Ok(events)
        })
    }
}
