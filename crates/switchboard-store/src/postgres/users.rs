//! Accounts in PostgreSQL.

use async_trait::async_trait;
use switchboard_core::UserId;
use switchboard_core::model::User;
use tokio_postgres::GenericClient;

use super::rows::{self, USER_COLS};
use super::{PgStore, in_tx, is_unique_violation};
use crate::{NewUser, ProfilePatch, StoreError, StoreResult, UserStore};

async fn load_user(c: &impl GenericClient, id: UserId) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
    let row = c.query_opt(&sql, &[&id.raw()]).await?.ok_or(StoreError::NotFound("user"))?;
    rows::user(&row)
}

fn taken(e: tokio_postgres::Error) -> StoreError {
    if is_unique_violation(&e) { StoreError::AlreadyExists("username") } else { e.into() }
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        in_tx!(self, |tx| async {
            if let Some(hash) = &new.invite_hash {
                let used = tx
                    .execute(
                        "UPDATE registration_invites SET uses = uses + 1 WHERE code_hash = $1 AND uses < max_uses \
                         AND expires_at > $2",
                        &[hash, &new.now_ms],
                    )
                    .await?;
                if used == 0 {
                    return Err(StoreError::FailedPrecondition(
                        "the invite code is unknown, used up or expired".into(),
                    ));
                }
            }
            let row = tx
                .query_one(
                    "INSERT INTO users (username, username_canon, display_name, display_name_canon, password_hash, \
                     bot, admin, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        &new.username,
                        &new.username_canonical,
                        &new.display_name,
                        &new.display_name.to_lowercase(),
                        &new.password_hash,
                        &new.bot,
                        &new.admin,
                        &new.now_ms,
                    ],
                )
                .await
                .map_err(taken)?;
            load_user(tx, UserId::from_raw(row.try_get(0)?)).await
        })
    }

    async fn create_registration_invite(
        &self,
        code_hash: Vec<u8>,
        max_uses: u32,
        expires_at_ms: i64,
    ) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO registration_invites (code_hash, max_uses, expires_at) VALUES ($1, $2, $3)",
                &[&code_hash, &i64::from(max_uses), &expires_at_ms],
            )
            .await?;
        Ok(())
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        let client = self.client().await?;
        match load_user(&**client, id).await {
            Ok(u) => Ok(Some(u)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let raw: Vec<i64> = ids.iter().map(|i| i.raw()).collect();
        let client = self.client().await?;
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = ANY($1)");
        let found = client.query(&sql, &[&raw]).await?.iter().map(rows::user).collect::<StoreResult<Vec<_>>>()?;
        Ok(ids.iter().filter_map(|id| found.iter().find(|u| u.id == *id).cloned()).collect())
    }

    async fn user_with_password(&self, username_canonical: &str) -> StoreResult<Option<(User, Option<String>)>> {
        let client = self.client().await?;
        let sql = format!("SELECT {USER_COLS}, password_hash FROM users WHERE username_canon = $1");
        match client.query_opt(&sql, &[&username_canonical]).await? {
            Some(r) => Ok(Some((rows::user(&r)?, r.try_get(9)?))),
            None => Ok(None),
        }
    }

    async fn search_users(&self, prefix: &str, limit: u32) -> StoreResult<Vec<User>> {
        let pattern = crate::like_prefix(prefix);
        let client = self.client().await?;
        let sql = format!(
            "SELECT {USER_COLS} FROM (SELECT *, 0 AS rank FROM users WHERE username_canon LIKE $1 \
             UNION ALL SELECT *, 1 AS rank FROM users WHERE display_name_canon LIKE $1) u \
             WHERE NOT disabled GROUP BY {USER_COLS}, username_canon ORDER BY MIN(rank), username_canon LIMIT $2"
        );
        client.query(&sql, &[&pattern, &i64::from(limit)]).await?.iter().map(rows::user).collect()
    }

    async fn list_users(&self, after: Option<UserId>, limit: u32) -> StoreResult<Vec<User>> {
        let client = self.client().await?;
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id > $1 ORDER BY id LIMIT $2");
        client.query(&sql, &[&after.map_or(0, UserId::raw), &i64::from(limit)]).await?.iter().map(rows::user).collect()
    }

    async fn update_profile(&self, id: UserId, patch: ProfilePatch) -> StoreResult<User> {
        in_tx!(self, |tx| async {
            load_user(tx, id).await?;
            if let Some((name, canon)) = &patch.username {
                tx.execute(
                    "UPDATE users SET username = $2, username_canon = $3 WHERE id = $1",
                    &[&id.raw(), name, canon],
                )
                .await
                .map_err(taken)?;
            }
            if let Some(v) = &patch.display_name {
                tx.execute(
                    "UPDATE users SET display_name = $2, display_name_canon = $3 WHERE id = $1",
                    &[&id.raw(), v, &v.to_lowercase()],
                )
                .await?;
            }
            if let Some(v) = &patch.bio {
                tx.execute("UPDATE users SET bio = $2 WHERE id = $1", &[&id.raw(), v]).await?;
            }
            if let Some(v) = &patch.status_text {
                tx.execute("UPDATE users SET status_text = $2 WHERE id = $1", &[&id.raw(), v]).await?;
            }
            load_user(tx, id).await
        })
    }

    async fn set_password_hash(&self, id: UserId, hash: String) -> StoreResult<()> {
        let client = self.client().await?;
        let n = client.execute("UPDATE users SET password_hash = $2 WHERE id = $1", &[&id.raw(), &hash]).await?;
        if n == 0 { Err(StoreError::NotFound("user")) } else { Ok(()) }
    }

    async fn set_user_flags(&self, id: UserId, disabled: Option<bool>, admin: Option<bool>) -> StoreResult<User> {
        in_tx!(self, |tx| async {
            load_user(tx, id).await?;
            if let Some(d) = disabled {
                tx.execute("UPDATE users SET disabled = $2 WHERE id = $1", &[&id.raw(), &d]).await?;
            }
            if let Some(a) = admin {
                tx.execute("UPDATE users SET admin = $2 WHERE id = $1", &[&id.raw(), &a]).await?;
            }
            load_user(tx, id).await
        })
    }
}
