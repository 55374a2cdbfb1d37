//! Server discovery and runtime settings.

use switchboard_proto::v1 as pb;
use switchboard_service::{ClientSupport, RateLimit, RegistrationMode, RuntimeSettings, ServerInfo, ServiceConfig};

/// A rate limit on the wire.
pub fn rate_limit(l: RateLimit) -> pb::RateLimit {
    pb::RateLimit { per_second: l.per_second, burst: l.burst }
}

/// A rate limit from the wire.
pub fn rate_limit_from(l: pb::RateLimit) -> RateLimit {
    RateLimit { per_second: l.per_second, burst: l.burst }
}

/// Runtime settings on the wire.
pub fn runtime_settings(s: &RuntimeSettings) -> pb::RuntimeSettings {
    pb::RuntimeSettings {
        rate_limit: Some(rate_limit(s.rate_limit)),
        auth_per_address: Some(rate_limit(s.auth_per_address)),
        failed_logins_per_account: Some(rate_limit(s.failed_logins_per_account)),
    }
}

/// GetServerInfo's answer.
pub fn server_info(info: &ServerInfo, config: &ServiceConfig) -> pb::GetServerInfoResponse {
    let registration = match info.registration {
        RegistrationMode::Open => pb::RegistrationMode::Open,
        RegistrationMode::InviteCode => pb::RegistrationMode::InviteCode,
        RegistrationMode::Closed => pb::RegistrationMode::Closed,
    };
    let client_support = match info.client_support {
        ClientSupport::Unknown => pb::ClientSupport::Unspecified,
        ClientSupport::Supported => pb::ClientSupport::Supported,
        ClientSupport::UpgradeRecommended => pb::ClientSupport::UpgradeRecommended,
        ClientSupport::Unsupported => pb::ClientSupport::Unsupported,
    };
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    pb::GetServerInfoResponse {
        version: info.version.to_owned(),
        api: "switchboard.v1".to_owned(),
        registration: registration.into(),
        sign_in_methods: info.sign_in_methods.iter().map(|m| (*m).to_owned()).collect(),
        limits: Some(pb::ServerLimits {
            max_message_chars: clamp(config.max_message_chars),
            edit_window_secs: config.edit_window_secs,
            max_members: config.max_members,
            rate_limit: Some(rate_limit(info.settings.rate_limit)),
            auth_per_address: Some(rate_limit(info.settings.auth_per_address)),
            access_token_ttl_secs: config.access_token_ttl_secs,
            typing_ttl_ms: config.typing_ttl_ms,
            max_connections_per_user: clamp(config.max_connections_per_user),
            max_presence_subscriptions: clamp(config.max_presence_subscriptions),
            max_file_bytes: config.files.max_file_bytes,
            max_attachments: clamp(config.files.max_attachments),
            max_reactions_per_message: config.max_reactions_per_message,
            max_link_previews_per_message: match config.link_previews.enabled {
                true => config.link_previews.max_per_message as u32,
                false => 0,
            },
            max_sticker_packs: config.expressions.max_sticker_packs,
            max_stickers_per_pack: clamp(config.expressions.max_stickers_per_pack),
            max_custom_emoji_per_space: clamp(config.expressions.max_custom_emoji_per_space),
        }),
        features: info.features.iter().map(|f| (*f).to_owned()).collect(),
        client_support: client_support.into(),
        minimum_client_version: info.minimum_client_version.clone().unwrap_or_default(),
        recommended_client_version: info.recommended_client_version.clone().unwrap_or_default(),
    }
}
