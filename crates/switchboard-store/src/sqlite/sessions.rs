//! Sessions and their hashed tokens in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use switchboard_core::event::{SessionEndReason, UserEvent, UserEventKind};
use switchboard_core::model::Session;
use switchboard_core::{SessionId, UserId};

use super::SqliteStore;
use super::rows::{self, SESSION_COLS};
use crate::{NewSession, Rotation, SessionStore, StoreError, StoreResult};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, new: NewSession) -> StoreResult<Session> {
        self.write(move |conn| {
            let sql = format!(
                "INSERT INTO sessions (user_id, device_name, platform, access_hash, access_expires_at, refresh_hash, \
                 created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING {SESSION_COLS}"
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    params![
                        new.user_id.raw(),
                        new.device_name,
                        new.platform,
                        new.access_hash,
                        new.access_expires_at_ms,
                        new.refresh_hash,
                        new.now_ms
                    ],
                    rows::session,
                )
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                        StoreError::NotFound("user")
                    }
                    e => e.into(),
                })
        })
        .await
    }

    async fn session_by_access(&self, access_hash: &[u8], now_ms: i64) -> StoreResult<Option<(Session, bool)>> {
        let hash = access_hash.to_vec();
        self.read(move |conn| {
            let cols = SESSION_COLS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT {cols}, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.access_hash = ?1 AND s.access_expires_at > ?2"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row(params![hash, now_ms], |r| Ok((rows::session(r)?, r.get(7)?)))
                .optional()?)
        })
        .await
    }

    async fn sessions(&self, user_id: UserId) -> StoreResult<Vec<Session>> {
        self.read(move |conn| {
            let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE user_id = ?1 ORDER BY id DESC");
            let mut stmt = conn.prepare(&sql)?;
            let v = stmt.query_map([user_id.raw()], rows::session)?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .await
    }

    async fn rotate_tokens(
        &self,
        refresh_hash: &[u8],
        access_hash: Vec<u8>,
        access_expires_at_ms: i64,
        new_refresh_hash: Vec<u8>,
        now_ms: i64,
    ) -> StoreResult<Rotation> {
        let old = refresh_hash.to_vec();
        self.write(move |conn| {
            let sql = format!(
                "UPDATE sessions SET access_hash = ?2, access_expires_at = ?3, prev_refresh_hash = refresh_hash, \
                 refresh_hash = ?4, last_seen_at = ?5 WHERE refresh_hash = ?1 RETURNING {SESSION_COLS}"
            );
            let rotated = conn
                .prepare_cached(&sql)?
                .query_row(params![old, access_hash, access_expires_at_ms, new_refresh_hash, now_ms], rows::session)
                .optional()?;
            if let Some(s) = rotated {
                return Ok(Rotation::Rotated(s));
            }
            let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE prev_refresh_hash = ?1");
            let reused = conn.prepare_cached(&sql)?.query_row(params![old], rows::session).optional()?;
            Ok(reused.map_or(Rotation::Unknown, Rotation::Reused))
        })
        .await
    }

    async fn touch_session(&self, id: SessionId, now_ms: i64) -> StoreResult<()> {
        self.write(move |conn| {
            conn.prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1")?
                .execute(params![id.raw(), now_ms])?;
            Ok(())
        })
        .await
    }

    async fn end_sessions(
        &self,
        user_id: UserId,
        only: Option<SessionId>,
        except: Option<SessionId>,
        reason: SessionEndReason,
        now_ms: i64,
    ) -> StoreResult<Vec<UserEvent>> {
        self.write(move |conn| {
            let mut stmt = conn.prepare_cached(
                "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR id <> ?3) \
                 RETURNING id",
            )?;
            let mut ids: Vec<SessionId> = stmt
                .query_map(params![user_id.raw(), only.map(SessionId::raw), except.map(SessionId::raw)], |r| {
                    Ok(SessionId::from_raw(r.get(0)?))
                })?
                .collect::<Result<_, _>>()?;
            drop(stmt);
            ids.sort_unstable();
            ids.into_iter()
                .map(|session_id| {
                    let kind = UserEventKind::SessionEnded { session_id, reason };
                    rows::append_user_event(conn, user_id, kind, now_ms)
                })
                .collect()
        })
        .await
    }
}
