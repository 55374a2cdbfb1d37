//! Profiles and user lookup.

use switchboard_core::UserId;
use switchboard_core::model::User;
use switchboard_core::values::{Bio, DisplayName, StatusText, Username};
use switchboard_store::ProfilePatch;

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
        };
        Ok(self.store().update_profile(p.user_id, patch).await?)
    }

    /// Users by id, unknown ids left out.
    pub async fn get_users(&self, _p: &Principal, ids: &[UserId]) -> ServiceResult<Vec<User>> {
        if ids.len() > MAX_IDS {
            return Err(ServiceError::invalid("user_ids", format!("at most {MAX_IDS} ids")));
        }
        Ok(self.store().users(ids).await?)
    }

    /// Users whose username or display name starts with `query`.
    pub async fn search_users(&self, _p: &Principal, query: &str, limit: u32) -> ServiceResult<Vec<User>> {
        let q = query.trim().to_lowercase();
        if q.is_empty() || q.chars().count() > 64 {
            return Err(ServiceError::invalid("query", "must be 1-64 characters"));
        }
        let limit = if limit == 0 { 20 } else { limit.min(100) };
        Ok(self.store().search_users(&q, limit).await?)
    }
}
