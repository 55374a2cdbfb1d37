//! Profiles and user lookup.

use switchboard_core::UserId;
use switchboard_core::event::UserEvent;
use switchboard_core::model::User;
use switchboard_core::values::{Bio, DisplayName, StatusText, Username};
use switchboard_store::{ProfilePatch, UserSetting};

use crate::{Principal, ServiceError, ServiceResult, Services};

/// Profile fields to change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    /// New username.
    pub username: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New bio.
    pub bio: Option<String>,
    /// New status text.
    pub status_text: Option<String>,
    /// New avatar: one of the caller's public image files (`Some(None)` removes it).
    pub avatar: Option<Option<switchboard_core::FileId>>,
}

/// Most ids in one GetUsers call.
const MAX_IDS: usize = 200;

impl Services {
    /// The caller's own account.
    pub async fn me(&self, p: &Principal) -> ServiceResult<User> {
        self.store().user(p.user_id).await?.ok_or_else(|| ServiceError::not_found("user"))
    }

    /// Changes the caller's profile.
    pub async fn update_profile(&self, p: &Principal, u: ProfileUpdate) -> ServiceResult<User> {
        if let Some(Some(file)) = u.avatar {
            self.check_avatar(p, file).await?;
        }
        let patch = ProfilePatch {
            username: u
                .username
                .as_deref()
                .map(Username::parse)
                .transpose()?
                .map(|n| (n.as_str().to_owned(), n.canonical())),
            display_name: u.display_name.as_deref().map(DisplayName::parse).transpose()?.map(DisplayName::into_string),
            bio: u.bio.as_deref().map(Bio::parse).transpose()?.map(Bio::into_string),
            status_text: u.status_text.as_deref().map(StatusText::parse).transpose()?.map(StatusText::into_string),
            avatar: u.avatar,
        };
        let user = self.store().update_profile(p.user_id, patch).await?;
        self.publish_profile(&user).await;
        Ok(user)
    }

    /// Tells the user's devices, everyone who shares a conversation with them and their
    /// presence subscribers that a profile changed (ephemeral: a client that misses it
    /// reads profiles again when it reconnects).
    pub(crate) async fn publish_profile(&self, user: &User) {
        let shared_with = match self.store().positions(user.id).await {
            Ok(p) => p.into_iter().map(|(c, ..)| c).collect(),
            Err(e) => {
                tracing::warn!(error = %e, user = %user.id, "cannot list the conversations to tell of a profile change");
                Vec::new()
            }
        };
        let (user, partial) = match self.public_profile(user).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, user = %user.id, "cannot read privacy rules to tell of a profile change");
                return;
            }
        };
        let event = switchboard_core::event::Event::UserUpdated { user, shared_with, partial };
        self.publish(switchboard_bus::Topic::Broadcast, event);
    }

    /// The caller's synced settings, by key.
    pub async fn user_settings(&self, p: &Principal) -> ServiceResult<Vec<UserSetting>> {
        Ok(self.store().user_settings(p.user_id).await?)
    }

    /// Sets and removes synced settings in one change, logged to the caller's user log so
    /// that each of their devices hears of it; the settings afterwards and the log entry.
    pub async fn change_user_settings(
        &self,
        p: &Principal,
        set: Vec<(String, String)>,
        remove: Vec<String>,
    ) -> ServiceResult<(Vec<UserSetting>, UserEvent)> {
        let config = self.config();
        let max = config.max_user_settings;
        if set.is_empty() && remove.is_empty() {
            return Err(ServiceError::invalid("set", "nothing to change: set or remove at least one key"));
        }
        if set.len() + remove.len() > max as usize {
            return Err(ServiceError::invalid("set", format!("at most {max} keys in one change")));
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut changes = Vec::with_capacity(set.len() + remove.len());
        for (field, key, value) in
            set.into_iter().map(|(k, v)| ("set", k, Some(v))).chain(remove.into_iter().map(|k| ("remove", k, None)))
        {
            setting_key(field, &key)?;
            if !seen.insert(key.clone()) {
                return Err(ServiceError::invalid(field, format!("key {key:?} appears twice")));
            }
            if let Some(v) = &value
                && v.len() > config.max_user_setting_bytes
            {
                let limit = config.max_user_setting_bytes;
                return Err(ServiceError::invalid(field, format!("the value of {key:?} is over {limit} bytes")));
            }
            changes.push((key, value));
        }
        let ev =
            self.store().change_user_settings(p.user_id, changes, max, self.now_ms()).await.map_err(|e| match e {
                switchboard_store::StoreError::FailedPrecondition(m) => {
                    ServiceError::new(switchboard_core::ErrorCode::ResourceExhausted, m).because("too_many_settings")
                }
                e => e.into(),
            })?;
        self.publish_user(ev.clone());
        Ok((self.store().user_settings(p.user_id).await?, ev))
    }

    /// Users by id, unknown ids left out.
    pub async fn get_users(&self, p: &Principal, ids: &[UserId]) -> ServiceResult<Vec<User>> {
        if ids.len() > MAX_IDS {
            return Err(ServiceError::invalid("user_ids", format!("at most {MAX_IDS} ids")));
        }
        self.profiles(p, ids).await
    }

    /// Profiles by id as the caller may see them (their privacy settings applied), unknown
    /// ids left out; no limit on the count (for the lists that carry their people).
    pub async fn profiles(&self, p: &Principal, ids: &[UserId]) -> ServiceResult<Vec<User>> {
        let users = self.store().users(ids).await?;
        self.shown_to(p, users).await
    }

    /// Users whose username or display name starts with `query`, without those whose
    /// search setting keeps the caller out (so a page may hold fewer than `limit`).
    pub async fn search_users(&self, p: &Principal, query: &str, limit: u32) -> ServiceResult<Vec<User>> {
        let q = query.trim().to_lowercase();
        if q.is_empty() || q.chars().count() > 64 {
            return Err(ServiceError::invalid("query", "must be 1-64 characters"));
        }
        let limit = if limit == 0 { 20 } else { limit.min(100) };
        let found = self.store().search_users(&q, limit).await?;
        let found = self.findable(p.user_id, found).await?;
        self.shown_to(p, found).await
    }
}

/// A setting's key: 1-64 characters of ASCII letters, digits and `.`, `_`, `-`, `:`.
fn setting_key(field: &'static str, key: &str) -> ServiceResult<()> {
    let ok = (1..=64).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(field, format!("{key:?} is not a key: 1-64 of A-Z a-z 0-9 . _ - :")))
    }
}
