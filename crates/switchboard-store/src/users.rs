//! Accounts.

use switchboard_core::UserId;
use switchboard_core::event::{UserEvent, UserEventKind};
use switchboard_core::model::User;

use crate::backends::store_trait;
use crate::rows::{self, USER_COLS};
use crate::sql::{Tx, args, taken};
use crate::{StoreError, StoreResult};

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Username as typed.
    pub username: String,
    /// Lowercase username.
    pub username_canonical: String,
    /// Display name.
    pub display_name: String,
    /// Argon2id PHC string; none for bots.
    pub password_hash: Option<String>,
    /// Bot account.
    pub bot: bool,
    /// Server admin.
    pub admin: bool,
    /// A registration invite to consume atomically (sha256 of the code).
    pub invite_hash: Option<Vec<u8>>,
    /// Now.
    pub now_ms: i64,
}

/// Profile fields to change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    /// New username as typed, with its lowercase form.
    pub username: Option<(String, String)>,
    /// New display name.
    pub display_name: Option<String>,
    /// New bio.
    pub bio: Option<String>,
    /// New status text.
    pub status_text: Option<String>,
    /// New avatar (`Some(None)` removes it).
    pub avatar: Option<Option<switchboard_core::FileId>>,
}

/// One of a user's synced settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSetting {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// Last change.
    pub updated_at_ms: i64,
}

store_trait! {
    /// Accounts.
    pub trait UserStore {
        /// Creates an account; `AlreadyExists("username")` when taken, `FailedPrecondition` when
        /// the invite is unknown, used up or expired.
        write fn create_user(&self, new: NewUser) -> User => create(&new);
        /// Stores a registration invite code (hashed).
        write fn create_registration_invite(&self, code_hash: Vec<u8>, max_uses: u32, expires_at_ms: i64) -> ()
            => create_registration_invite(&code_hash, max_uses, expires_at_ms);
        /// Reads an account.
        read fn user(&self, id: UserId) -> Option<User> => get(id);
        /// Reads accounts by id, in the given order, skipping unknown ids.
        read fn users(&self, ids: &[UserId]) -> Vec<User> [ids = ids.to_vec()] => many(&ids);
        /// Reads the accounts of these lowercase usernames, skipping unknown ones.
        read fn users_by_username(&self, canonical: &[String]) -> Vec<User> [names = canonical.to_vec()]
            => by_names(&names);
        /// Reads an account and its password hash by lowercase username.
        read fn user_with_password(&self, username_canonical: &str) -> Option<(User, Option<String>)>
            [name = username_canonical.to_owned()] => with_password(&name);
        /// Finds accounts whose username or display name starts with `prefix` (lowercase).
        read fn search_users(&self, prefix: &str, limit: u32) -> Vec<User>
            [prefix = prefix.to_owned()] => search(&prefix, limit);
        /// Lists accounts by id, after `after`.
        read fn list_users(&self, after: Option<UserId>, limit: u32) -> Vec<User> => list(after, limit);
        /// Changes profile fields; `AlreadyExists("username")` when the new name is taken.
        write fn update_profile(&self, id: UserId, patch: ProfilePatch) -> User => update_profile(id, &patch);
        /// Replaces the password hash.
        write fn set_password_hash(&self, id: UserId, hash: String) -> () => set_password_hash(id, &hash);
        /// Sets the disabled and admin flags.
        write fn set_user_flags(&self, id: UserId, disabled: Option<bool>, admin: Option<bool>) -> User
            => set_flags(id, disabled, admin);
        /// Sets (`Some`) and removes (`None`) synced settings and appends one
        /// `UserSettingsChanged` to the user's log, atomically; `FailedPrecondition` when
        /// the user would then hold more than `max_keys` settings.
        write fn change_user_settings(
            &self,
            id: UserId,
            changes: Vec<(String, Option<String>)>,
            max_keys: u32,
            now_ms: i64,
        ) -> UserEvent => change_settings(id, &changes, max_keys, now_ms);
        /// Deletes an account as its owner asked: ends every session (a `SessionEnded` with
        /// `AccountDeleted` each), erases the profile (the username is freed) and the synced
        /// settings, disables sign-in; the row and the user's messages stay. One transaction.
        write fn delete_account(&self, id: UserId, now_ms: i64) -> (User, Vec<UserEvent>) => delete_account(id, now_ms);
        /// The user's synced settings, by key.
        read fn user_settings(&self, id: UserId) -> Vec<UserSetting> => settings(id);
    }
}

async fn load(tx: &impl Tx, id: UserId) -> StoreResult<User> {
    get(tx, id).await?.ok_or(StoreError::NotFound("user"))
}

async fn create(tx: &impl Tx, new: &NewUser) -> StoreResult<User> {
    if let Some(hash) = &new.invite_hash {
        let used = tx
            .exec(
                "UPDATE registration_invites SET uses = uses + 1 WHERE code_hash = ?1 AND uses < max_uses \
                 AND expires_at > ?2",
                args![hash, new.now_ms],
            )
            .await?;
        if used == 0 {
            return Err(StoreError::FailedPrecondition("the invite code is unknown, used up or expired".into()));
        }
    }
    let id = tx
        .one(
            "INSERT INTO users (username, username_canon, display_name, display_name_canon, password_hash, \
             bot, admin, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            args![
                &new.username,
                &new.username_canonical,
                &new.display_name,
                &new.display_name.to_lowercase(),
                new.password_hash.as_ref(),
                new.bot,
                new.admin,
                new.now_ms,
            ],
            rows::first_i64,
        )
        .await
        .map_err(unique_as_username)?
        .ok_or(StoreError::NotFound("user"))?;
    load(tx, UserId::from_raw(id)).await
}

/// A unique violation on users is the username's (the only unique column one can set).
fn unique_as_username(e: StoreError) -> StoreError {
    match e {
        StoreError::AlreadyExists(_) => StoreError::AlreadyExists("username"),
        e => e,
    }
}

async fn create_registration_invite(
    tx: &impl Tx,
    code_hash: &[u8],
    max_uses: u32,
    expires_at_ms: i64,
) -> StoreResult<()> {
    tx.exec(
        "INSERT INTO registration_invites (code_hash, max_uses, expires_at) VALUES (?1, ?2, ?3)",
        args![code_hash, max_uses, expires_at_ms],
    )
    .await?;
    Ok(())
}

async fn get(tx: &impl Tx, id: UserId) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ?1");
    tx.one(&sql, args![id.raw()], rows::user).await
}

async fn many(tx: &impl Tx, ids: &[UserId]) -> StoreResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<i64> = ids.iter().map(|i| i.raw()).collect();
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id {}", tx.dialect().any("?1"));
    let found = tx.all(&sql, args![raw.as_slice()], rows::user).await?;
    Ok(ids.iter().filter_map(|id| found.iter().find(|u| u.id == *id).cloned()).collect())
}

async fn by_names(tx: &impl Tx, names: &[String]) -> StoreResult<Vec<User>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {USER_COLS} FROM users WHERE username_canon {} ORDER BY id", tx.dialect().any("?1"));
    tx.all(&sql, args![names], rows::user).await
}

async fn with_password(tx: &impl Tx, username_canonical: &str) -> StoreResult<Option<(User, Option<String>)>> {
    let sql = format!("SELECT {USER_COLS}, password_hash FROM users WHERE username_canon = ?1");
    tx.one(&sql, args![username_canonical], |r| Ok((rows::user(r)?, r.opt_text("password_hash")?))).await
}

async fn search(tx: &impl Tx, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
    // Escape LIKE wildcards so the prefix is matched literally.
    let pattern = crate::like_prefix(prefix);
    let sql = format!(
        "SELECT {USER_COLS} FROM (SELECT *, 0 AS rank FROM users WHERE username_canon LIKE ?1 ESCAPE '\\' \
         UNION ALL SELECT *, 1 AS rank FROM users WHERE display_name_canon LIKE ?1 ESCAPE '\\') u \
         WHERE NOT disabled GROUP BY {USER_COLS}, username_canon ORDER BY MIN(rank), username_canon LIMIT ?2"
    );
    tx.all(&sql, args![&pattern, limit], rows::user).await
}

async fn list(tx: &impl Tx, after: Option<UserId>, limit: u32) -> StoreResult<Vec<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id > ?1 ORDER BY id LIMIT ?2");
    tx.all(&sql, args![after.map_or(0, UserId::raw), limit], rows::user).await
}

async fn update_profile(tx: &impl Tx, id: UserId, patch: &ProfilePatch) -> StoreResult<User> {
    load(tx, id).await?;
    if let Some((name, canon)) = &patch.username {
        tx.exec("UPDATE users SET username = ?2, username_canon = ?3 WHERE id = ?1", args![id.raw(), name, canon])
            .await
            .map_err(taken(StoreError::AlreadyExists("username")))?;
    }
    if let Some(v) = &patch.display_name {
        tx.exec(
            "UPDATE users SET display_name = ?2, display_name_canon = ?3 WHERE id = ?1",
            args![id.raw(), v, &v.to_lowercase()],
        )
        .await?;
    }
    if let Some(v) = &patch.bio {
        tx.exec("UPDATE users SET bio = ?2 WHERE id = ?1", args![id.raw(), v]).await?;
    }
    if let Some(v) = &patch.status_text {
        tx.exec("UPDATE users SET status_text = ?2 WHERE id = ?1", args![id.raw(), v]).await?;
    }
    if let Some(avatar) = patch.avatar {
        let v = avatar.map(switchboard_core::FileId::raw);
        tx.exec("UPDATE users SET avatar_file_id = ?2 WHERE id = ?1", args![id.raw(), v]).await?;
    }
    load(tx, id).await
}

async fn set_password_hash(tx: &impl Tx, id: UserId, hash: &str) -> StoreResult<()> {
    let n = tx.exec("UPDATE users SET password_hash = ?2 WHERE id = ?1", args![id.raw(), hash]).await?;
    if n == 0 { Err(StoreError::NotFound("user")) } else { Ok(()) }
}

async fn set_flags(tx: &impl Tx, id: UserId, disabled: Option<bool>, admin: Option<bool>) -> StoreResult<User> {
    load(tx, id).await?;
    if let Some(d) = disabled {
        tx.exec("UPDATE users SET disabled = ?2 WHERE id = ?1", args![id.raw(), d]).await?;
    }
    if let Some(a) = admin {
        tx.exec("UPDATE users SET admin = ?2 WHERE id = ?1", args![id.raw(), a]).await?;
    }
    load(tx, id).await
}

async fn change_settings(
    tx: &impl Tx,
    id: UserId,
    changes: &[(String, Option<String>)],
    max_keys: u32,
    now_ms: i64,
) -> StoreResult<UserEvent> {
    for (key, value) in changes {
        match value {
            Some(v) => {
                tx.exec(
                    "INSERT INTO user_settings (user_id, key, value, updated_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    args![id.raw(), key, v, now_ms],
                )
                .await?;
            }
            None => {
                tx.exec("DELETE FROM user_settings WHERE user_id = ?1 AND key = ?2", args![id.raw(), key]).await?;
            }
        }
    }
    let held = tx
        .one("SELECT COUNT(*) FROM user_settings WHERE user_id = ?1", args![id.raw()], rows::first_i64)
        .await?
        .unwrap_or(0);
    if held > i64::from(max_keys) {
        return Err(StoreError::FailedPrecondition(format!("at most {max_keys} settings per user")));
    }
    let kind = UserEventKind::UserSettingsChanged { changes: changes.to_vec() };
    rows::append_user_event(tx, id, kind, now_ms).await
}

async fn delete_account(tx: &impl Tx, id: UserId, now_ms: i64) -> StoreResult<(User, Vec<UserEvent>)> {
    let name = format!("deleted-{}", id.raw());
    let n = tx
        .exec(
            "UPDATE users SET username = ?2, username_canon = ?2, display_name = 'Deleted account', \
             display_name_canon = 'deleted account', bio = '', status_text = '', password_hash = NULL, \
             disabled = TRUE, deleted = TRUE WHERE id = ?1 AND NOT deleted",
            args![id.raw(), &name],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("user"));
    }
    tx.exec("DELETE FROM user_settings WHERE user_id = ?1", args![id.raw()]).await?;
    let mut ended =
        tx.all("DELETE FROM sessions WHERE user_id = ?1 RETURNING id", args![id.raw()], rows::first_i64).await?;
    ended.sort_unstable();
    let mut events = Vec::with_capacity(ended.len());
    for s in ended {
        let kind = UserEventKind::SessionEnded {
            session_id: switchboard_core::SessionId::from_raw(s),
            reason: switchboard_core::event::SessionEndReason::AccountDeleted,
        };
        events.push(rows::append_user_event(tx, id, kind, now_ms).await?);
    }
    Ok((load(tx, id).await?, events))
}

async fn settings(tx: &impl Tx, id: UserId) -> StoreResult<Vec<UserSetting>> {
    let sql = format!(
        "SELECT key, value, updated_at FROM user_settings WHERE user_id = ?1 ORDER BY key{}",
        tx.dialect().bytewise()
    );
    tx.all(&sql, args![id.raw()], |r| {
        Ok(UserSetting { key: r.text("key")?, value: r.text("value")?, updated_at_ms: r.i64("updated_at")? })
    })
    .await
}
