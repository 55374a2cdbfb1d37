//! Accounts in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params, params_from_iter};
use switchboard_core::UserId;
use switchboard_core::model::User;

use super::SqliteStore;
use super::rows::{self, USER_COLS};
use crate::{NewUser, ProfilePatch, StoreError, StoreResult, UserStore};

fn unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn load_user(conn: &rusqlite::Connection, id: UserId) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ?1");
    conn.prepare_cached(&sql)?.query_row([id.raw()], rows::user).optional()?.ok_or(StoreError::NotFound("user"))
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        self.write(move |conn| {
            if let Some(hash) = &new.invite_hash {
                let used = conn
                    .prepare_cached(
                        "UPDATE registration_invites SET uses = uses + 1 WHERE code_hash = ?1 AND uses < max_uses \
                     AND expires_at > ?2",
                    )?
                    .execute(params![hash, new.now_ms])?;
                if used == 0 {
                    return Err(StoreError::FailedPrecondition(
                        "the invite code is unknown, used up or expired".into(),
                    ));
                }
            }
            let id: i64 = conn
                .query_row(
                    "INSERT INTO users (username, username_canon, display_name, display_name_canon, password_hash, \
                     bot, admin, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                    params![
                        new.username,
                        new.username_canonical,
                        new.display_name,
                        new.display_name.to_lowercase(),
                        new.password_hash,
                        new.bot,
                        new.admin,
                        new.now_ms
                    ],
                    |r| r.get(0),
                )
                .map_err(|e| if unique_violation(&e) { StoreError::AlreadyExists("username") } else { e.into() })?;
            load_user(conn, UserId::from_raw(id))
        })
        .await
    }

    async fn create_registration_invite(
        &self,
        code_hash: Vec<u8>,
        max_uses: u32,
        expires_at_ms: i64,
    ) -> StoreResult<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO registration_invites (code_hash, max_uses, expires_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![code_hash, max_uses, expires_at_ms])?;
            Ok(())
        })
        .await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.read(move |conn| match load_user(conn, id) {
            Ok(u) => Ok(Some(u)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let ids: Vec<i64> = ids.iter().map(|i| i.raw()).collect();
        self.read(move |conn| {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!("SELECT {USER_COLS} FROM users WHERE id IN ({})", rows::placeholders(ids.len()));
            let mut stmt = conn.prepare(&sql)?;
            let found: Vec<User> =
                stmt.query_map(params_from_iter(ids.iter()), rows::user)?.collect::<Result<_, _>>()?;
            Ok(ids.iter().filter_map(|id| found.iter().find(|u| u.id.raw() == *id).cloned()).collect())
        })
        .await
    }

    async fn user_with_password(&self, username_canonical: &str) -> StoreResult<Option<(User, Option<String>)>> {
        let name = username_canonical.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {USER_COLS}, password_hash FROM users WHERE username_canon = ?1");
            Ok(conn.prepare_cached(&sql)?.query_row([name], |r| Ok((rows::user(r)?, r.get(9)?))).optional()?)
        })
        .await
    }

    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        // Escape LIKE wildcards so the prefix is matched literally.
        let pattern = crate::like_prefix(prefix);
        self.read(move |conn| {
            let sql = format!(
                "SELECT {USER_COLS} FROM (SELECT *, 0 AS rank FROM users WHERE username_canon LIKE ?1 ESCAPE '\\' \
                 UNION SELECT *, 1 AS rank FROM users WHERE display_name_canon LIKE ?1 ESCAPE '\\') \
                 WHERE disabled = 0 GROUP BY id ORDER BY MIN(rank), username_canon LIMIT ?2"
            );
            let mut stmt = conn.prepare(&sql)?;
            let users = stmt.query_map(params![pattern, limit], rows::user)?.collect::<Result<_, _>>()?;
            Ok(users)
        })
        .await
    }

    async fn list_users(&self, after: Option<UserId>, limit: u32) -> StoreResult<Vec<User>> {
        let after = after.map_or(0, UserId::raw);
        self.read(move |conn| {
            let sql = format!("SELECT {USER_COLS} FROM users WHERE id > ?1 ORDER BY id LIMIT ?2");
            let mut stmt = conn.prepare(&sql)?;
            let users = stmt.query_map(params![after, limit], rows::user)?.collect::<Result<_, _>>()?;
            Ok(users)
        })
        .await
    }

    async fn update_profile(&self, id: UserId, patch: ProfilePatch) -> StoreResult<User> {
        self.write(move |conn| {
            load_user(conn, id)?;
            if let Some((name, canon)) = &patch.username {
                conn.prepare_cached("UPDATE users SET username = ?2, username_canon = ?3 WHERE id = ?1")?
                    .execute(params![id.raw(), name, canon])
                    .map_err(|e| if unique_violation(&e) { StoreError::AlreadyExists("username") } else { e.into() })?;
            }
            if let Some(v) = &patch.display_name {
                conn.prepare_cached("UPDATE users SET display_name = ?2, display_name_canon = ?3 WHERE id = ?1")?
                    .execute(params![id.raw(), v, v.to_lowercase()])?;
            }
            if let Some(v) = &patch.bio {
                conn.prepare_cached("UPDATE users SET bio = ?2 WHERE id = ?1")?.execute(params![id.raw(), v])?;
            }
            if let Some(v) = &patch.status_text {
                conn.prepare_cached("UPDATE users SET status_text = ?2 WHERE id = ?1")?
                    .execute(params![id.raw(), v])?;
            }
            load_user(conn, id)
        })
        .await
    }

    async fn set_password_hash(&self, id: UserId, hash: String) -> StoreResult<()> {
        self.write(move |conn| {
            let n = conn
                .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
                .execute(params![id.raw(), hash])?;
            if n == 0 { Err(StoreError::NotFound("user")) } else { Ok(()) }
        })
        .await
    }

    async fn set_user_flags(&self, id: UserId, disabled: Option<bool>, admin: Option<bool>) -> StoreResult<User> {
        self.write(move |conn| {
            load_user(conn, id)?;
            if let Some(d) = disabled {
                conn.prepare_cached("UPDATE users SET disabled = ?2 WHERE id = ?1")?.execute(params![id.raw(), d])?;
            }
            if let Some(a) = admin {
                conn.prepare_cached("UPDATE users SET admin = ?2 WHERE id = ?1")?.execute(params![id.raw(), a])?;
            }
            load_user(conn, id)
        })
        .await
    }
}
