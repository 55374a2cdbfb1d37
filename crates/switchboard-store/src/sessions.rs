//! Sessions and their hashed tokens.

use switchboard_core::event::{SessionEndReason, UserEvent, UserEventKind};
use switchboard_core::model::Session;
use switchboard_core::{SessionId, UserId};

use crate::backends::store_trait;
use crate::rows::{self, SESSION_COLS};
use crate::sql::{DbError, Tx, args};
use crate::{StoreError, StoreResult};

/// A new session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Owner.
    pub user_id: UserId,
    /// Device name.
    pub device_name: String,
    /// Platform.
    pub platform: String,
    /// sha256 of the access token.
    pub access_hash: Vec<u8>,
    /// Access token expiry.
    pub access_expires_at_ms: i64,
    /// sha256 of the refresh token.
    pub refresh_hash: Vec<u8>,
    /// End the user's older sessions on the same platform (reason `Replaced`).
    pub replace_same_platform: bool,
    /// Tell the user's other sessions: a `SessionStarted` entry in the user's log.
    pub announce: bool,
    /// Now.
    pub now_ms: i64,
}

/// A new session and what it wrote to the user's log: the `SessionEnded` of the sessions
/// it replaced, then its own `SessionStarted` (when announced).
#[derive(Debug, Clone)]
pub struct CreatedSession {
    /// The session.
    pub session: Session,
    /// The user-log entries, in order.
    pub events: Vec<UserEvent>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was the session's current one; both tokens were replaced.
    Rotated(Session),
    /// The token is the one the session's current token replaced: a reuse.
    Reused(Session),
    /// No session knows the token.
    Unknown,
}

store_trait! {
    /// Sessions and their tokens.
    pub trait SessionStore {
        /// Creates a session; in the same transaction ends the older sessions it replaces
        /// and announces it, as `new` says.
        write fn create_session(&self, new: NewSession) -> CreatedSession => create(&new);
        /// Finds the live session of an access token and whether its account is disabled.
        read fn session_by_access(&self, access_hash: &[u8], now_ms: i64) -> Option<(Session, bool)>
            [hash = access_hash.to_vec()] => by_access(&hash, now_ms);
        /// Lists a user's sessions, newest first.
        read fn sessions(&self, user_id: UserId) -> Vec<Session> => of_user(user_id);
        /// Replaces both tokens of the session holding `refresh_hash`, remembering the old
        /// refresh token so that its reuse is recognised.
        write fn rotate_tokens(
            &self,
            refresh_hash: &[u8],
            access_hash: Vec<u8>,
            access_expires_at_ms: i64,
            new_refresh_hash: Vec<u8>,
            now_ms: i64,
        ) -> Rotation [old = refresh_hash.to_vec()]
            => rotate(&old, &access_hash, access_expires_at_ms, &new_refresh_hash, now_ms);
        /// Records use of a session.
        write fn touch_session(&self, id: SessionId, now_ms: i64) -> () => touch(id, now_ms);
        /// Ends sessions of `user_id` — `only` one, or all but `except` — and appends a
        /// `SessionEnded` event with `reason` for each to the user's log, in one transaction.
        /// Returns the events, in session order.
        write fn end_sessions(
            &self,
            user_id: UserId,
            only: Option<SessionId>,
            except: Option<SessionId>,
            reason: SessionEndReason,
            now_ms: i64,
        ) -> Vec<UserEvent> => end(user_id, only, except, reason, now_ms);
    }
}

async fn create(tx: &impl Tx, new: &NewSession) -> StoreResult<CreatedSession> {
    let mut events = Vec::new();
    if new.replace_same_platform {
        let mut old = tx
            .all(
                "DELETE FROM sessions WHERE user_id = ?1 AND platform = ?2 RETURNING id",
                args![new.user_id.raw(), &new.platform],
                rows::first_i64,
            )
            .await?;
        old.sort_unstable();
        for id in old {
            let reason = SessionEndReason::Replaced;
            let kind = UserEventKind::SessionEnded { session_id: SessionId::from_raw(id), reason };
            events.push(rows::append_user_event(tx, new.user_id, kind, new.now_ms).await?);
        }
    }
    let session = insert(tx, new).await?;
    if new.announce {
        let kind = UserEventKind::SessionStarted {
            session_id: session.id,
            device_name: session.device_name.clone(),
            platform: session.platform.clone(),
        };
        events.push(rows::append_user_event(tx, new.user_id, kind, new.now_ms).await?);
    }
    Ok(CreatedSession { session, events })
}

async fn insert(tx: &impl Tx, new: &NewSession) -> StoreResult<Session> {
    let sql = format!(
        "INSERT INTO sessions (user_id, device_name, platform, access_hash, access_expires_at, refresh_hash, \
         created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING {SESSION_COLS}"
    );
    let a = args![
        new.user_id.raw(),
        &new.device_name,
        &new.platform,
        &new.access_hash,
        new.access_expires_at_ms,
        &new.refresh_hash,
        new.now_ms,
    ];
    // The user's id is a foreign key: a missing user fails the insert.
    let created = tx.one(&sql, a, rows::session).await.map_err(|e| match e {
        StoreError::NotFound(_) => StoreError::NotFound("user"),
        e => e,
    })?;
    created.ok_or_else(|| DbError::Other("INSERT .. RETURNING gave no row".into()).into())
}

async fn by_access(tx: &impl Tx, access_hash: &[u8], now_ms: i64) -> StoreResult<Option<(Session, bool)>> {
    let cols = SESSION_COLS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols}, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.access_hash = ?1 AND s.access_expires_at > ?2"
    );
    tx.one(&sql, args![access_hash, now_ms], |r| Ok((rows::session(r)?, r.bool("disabled")?))).await
}

async fn of_user(tx: &impl Tx, user_id: UserId) -> StoreResult<Vec<Session>> {
    let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE user_id = ?1 ORDER BY id DESC");
    tx.all(&sql, args![user_id.raw()], rows::session).await
}

async fn rotate(
    tx: &impl Tx,
    refresh_hash: &[u8],
    access_hash: &[u8],
    access_expires_at_ms: i64,
    new_refresh_hash: &[u8],
    now_ms: i64,
) -> StoreResult<Rotation> {
    let sql = format!(
        "UPDATE sessions SET access_hash = ?2, access_expires_at = ?3, prev_refresh_hash = refresh_hash, \
         refresh_hash = ?4, last_seen_at = ?5 WHERE refresh_hash = ?1 RETURNING {SESSION_COLS}"
    );
    let a = args![refresh_hash, access_hash, access_expires_at_ms, new_refresh_hash, now_ms];
    if let Some(s) = tx.one(&sql, a, rows::session).await? {
        return Ok(Rotation::Rotated(s));
    }
    let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE prev_refresh_hash = ?1");
    let reused = tx.one(&sql, args![refresh_hash], rows::session).await?;
    Ok(reused.map_or(Rotation::Unknown, Rotation::Reused))
}

async fn touch(tx: &impl Tx, id: SessionId, now_ms: i64) -> StoreResult<()> {
    tx.exec("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1", args![id.raw(), now_ms]).await?;
    Ok(())
}

async fn end(
    tx: &impl Tx,
    user_id: UserId,
    only: Option<SessionId>,
    except: Option<SessionId>,
    reason: SessionEndReason,
    now_ms: i64,
) -> StoreResult<Vec<UserEvent>> {
    let mut ids = tx
        .all(
            "DELETE FROM sessions WHERE user_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR id = ?2) \
             AND (CAST(?3 AS BIGINT) IS NULL OR id <> ?3) RETURNING id",
            args![user_id.raw(), only.map(SessionId::raw), except.map(SessionId::raw)],
            rows::first_i64,
        )
        .await?;
    ids.sort_unstable();
    let mut events = Vec::with_capacity(ids.len());
    for id in ids {
        let kind = UserEventKind::SessionEnded { session_id: SessionId::from_raw(id), reason };
        events.push(rows::append_user_event(tx, user_id, kind, now_ms).await?);
    }
    Ok(events)
}
