//! Users, sessions and tokens on the wire.

use switchboard_core::model::{Session, User};
use switchboard_core::privacy::{Audience, PrivacyRule, PrivacySetting};
use switchboard_core::{SessionId, UserId};
use switchboard_proto::v1 as pb;
use switchboard_service::{ServiceError, ServiceResult};

/// A friend request on the wire.
pub fn friend_request(r: &switchboard_core::model::FriendRequest) -> pb::FriendRequest {
    pb::FriendRequest {
        from_user_id: r.from.to_string(),
        to_user_id: r.to.to_string(),
        message: r.message.clone(),
        created_at_ms: r.created_at_ms,
    }
}

/// A friend request's state on the wire.
pub fn friend_request_state(s: switchboard_core::model::FriendRequestState) -> pb::FriendRequestState {
    use switchboard_core::model::FriendRequestState as S;
    match s {
        S::Sent => pb::FriendRequestState::Sent,
        S::Cancelled => pb::FriendRequestState::Cancelled,
        S::Accepted => pb::FriendRequestState::Accepted,
        S::Rejected => pb::FriendRequestState::Rejected,
    }
}

/// A contact on the wire.
pub fn contact(c: &switchboard_core::model::Contact) -> pb::Contact {
    pb::Contact {
        user_id: c.user_id.to_string(),
        remark: c.remark.clone(),
        notes: c.notes.clone(),
        mutual: c.mutual,
        added_at_ms: c.added_at_ms,
    }
}
use switchboard_service::Tokens;

/// A user on the wire.
pub fn user(u: &User) -> pb::User {
    let (avatar_file_id, avatar_url) = super::avatar(u.avatar);
    pb::User {
        avatar_file_id,
        avatar_url,
        id: u.id.to_string(),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        bio: u.bio.clone(),
        status_text: u.status_text.clone(),
        bot: u.bot,
        admin: u.admin,
        disabled: u.disabled,
        deleted: u.deleted,
        created_at_ms: u.created_at_ms,
    }
}

/// A privacy setting on the wire.
pub fn privacy_setting(s: PrivacySetting) -> pb::PrivacySetting {
    match s {
        PrivacySetting::DirectMessages => pb::PrivacySetting::DirectMessages,
        PrivacySetting::GroupInvites => pb::PrivacySetting::GroupInvites,
        PrivacySetting::Presence => pb::PrivacySetting::Presence,
        PrivacySetting::ProfilePhoto => pb::PrivacySetting::ProfilePhoto,
        PrivacySetting::Bio => pb::PrivacySetting::Bio,
        PrivacySetting::Search => pb::PrivacySetting::Search,
    }
}

/// An audience on the wire.
pub fn audience(a: Audience) -> pb::Audience {
    match a {
        Audience::Everyone => pb::Audience::Everyone,
        Audience::Contacts => pb::Audience::Contacts,
        Audience::Friends => pb::Audience::Friends,
        Audience::Nobody => pb::Audience::Nobody,
    }
}

/// A privacy rule on the wire.
pub fn privacy_rule(r: &PrivacyRule) -> pb::PrivacyRule {
    pb::PrivacyRule {
        setting: privacy_setting(r.setting) as i32,
        audience: audience(r.audience) as i32,
        allow_user_ids: r.allow.iter().map(ToString::to_string).collect(),
        deny_user_ids: r.deny.iter().map(ToString::to_string).collect(),
    }
}

/// A privacy rule from the wire.
pub fn privacy_rule_from(r: &pb::PrivacyRule) -> ServiceResult<PrivacyRule> {
    let setting = match pb::PrivacySetting::try_from(r.setting) {
        Ok(pb::PrivacySetting::DirectMessages) => PrivacySetting::DirectMessages,
        Ok(pb::PrivacySetting::GroupInvites) => PrivacySetting::GroupInvites,
        Ok(pb::PrivacySetting::Presence) => PrivacySetting::Presence,
        Ok(pb::PrivacySetting::ProfilePhoto) => PrivacySetting::ProfilePhoto,
        Ok(pb::PrivacySetting::Bio) => PrivacySetting::Bio,
        Ok(pb::PrivacySetting::Search) => PrivacySetting::Search,
        Ok(pb::PrivacySetting::Unspecified) | Err(_) => {
            return Err(ServiceError::invalid("rules.setting", "give a privacy setting"));
        }
    };
    let audience = match pb::Audience::try_from(r.audience) {
        Ok(pb::Audience::Everyone) => Audience::Everyone,
        Ok(pb::Audience::Contacts) => Audience::Contacts,
        Ok(pb::Audience::Friends) => Audience::Friends,
        Ok(pb::Audience::Nobody) => Audience::Nobody,
        Ok(pb::Audience::Unspecified) | Err(_) => {
            return Err(ServiceError::invalid("rules.audience", "give an audience"));
        }
    };
    Ok(PrivacyRule {
        setting,
        audience,
        allow: super::ids(&r.allow_user_ids, "rules.allow_user_ids", UserId::parse)?,
        deny: super::ids(&r.deny_user_ids, "rules.deny_user_ids", UserId::parse)?,
    })
}

/// A session on the wire; `current` marks the caller's own.
pub fn session(s: &Session, current: SessionId) -> pb::Session {
    pb::Session {
        id: s.id.to_string(),
        device: Some(pb::DeviceInfo { name: s.device_name.clone(), platform: s.platform.clone() }),
        created_at_ms: s.created_at_ms,
        last_seen_at_ms: s.last_seen_at_ms,
        current: s.id == current,
    }
}

/// Tokens on the wire.
pub fn tokens(t: &Tokens) -> pb::Tokens {
    pb::Tokens {
        access_token: t.access_token.clone(),
        access_expires_at_ms: t.access_expires_at_ms,
        refresh_token: t.refresh_token.clone(),
        session_id: t.session_id.to_string(),
    }
}

/// A device from the wire.
pub fn device(d: Option<pb::DeviceInfo>) -> switchboard_service::DeviceInfo {
    let d = d.unwrap_or_default();
    switchboard_service::DeviceInfo { name: d.name, platform: d.platform }
}

/// A synced setting on the wire.
pub fn user_setting(s: &switchboard_service::UserSetting) -> pb::UserSetting {
    pb::UserSetting { key: s.key.clone(), value: s.value.clone(), updated_at_ms: s.updated_at_ms }
}
