//! AuthService, SessionService and AdminService handlers.

use switchboard_core::{SessionId, UserId};
use switchboard_proto::v1 as pb;
use switchboard_service::ServiceResult;

use super::{Ctx, Handlers};
use crate::convert;

impl super::AuthService for Handlers {
    async fn register(ctx: Ctx, r: pb::RegisterRequest) -> ServiceResult<pb::RegisterResponse> {
        let out = ctx
            .services
            .register(&r.username, &r.password, &r.display_name, &r.invite_code, convert::device(r.device), ctx.peer)
            .await?;
        Ok(pb::RegisterResponse { user: Some(convert::user(&out.user)), tokens: Some(convert::tokens(&out.tokens)) })
    }

    async fn login(ctx: Ctx, r: pb::LoginRequest) -> ServiceResult<pb::LoginResponse> {
        let out = ctx.services.login(&r.username, &r.password, convert::device(r.device), ctx.peer).await?;
        Ok(pb::LoginResponse { user: Some(convert::user(&out.user)), tokens: Some(convert::tokens(&out.tokens)) })
    }

    async fn refresh(ctx: Ctx, r: pb::RefreshRequest) -> ServiceResult<pb::RefreshResponse> {
        let tokens = ctx.services.refresh(&r.refresh_token, ctx.peer).await?;
        Ok(pb::RefreshResponse { tokens: Some(convert::tokens(&tokens)) })
    }

    async fn logout(ctx: Ctx, _: pb::LogoutRequest) -> ServiceResult<pb::LogoutResponse> {
        let p = ctx.principal().await?;
        ctx.services.logout(&p).await?;
        Ok(pb::LogoutResponse {})
    }

    async fn change_password(ctx: Ctx, r: pb::ChangePasswordRequest) -> ServiceResult<pb::ChangePasswordResponse> {
        let p = ctx.principal().await?;
        ctx.services.change_password(&p, &r.old_password, &r.new_password).await?;
        Ok(pb::ChangePasswordResponse {})
    }

    async fn delete_account(ctx: Ctx, r: pb::DeleteAccountRequest) -> ServiceResult<pb::DeleteAccountResponse> {
        let p = ctx.principal().await?;
        ctx.services.delete_account(&p, &r.password).await?;
        Ok(pb::DeleteAccountResponse {})
    }
}

impl super::SessionService for Handlers {
    async fn list_sessions(ctx: Ctx, _: pb::ListSessionsRequest) -> ServiceResult<pb::ListSessionsResponse> {
        let p = ctx.principal().await?;
        let sessions = ctx.services.list_sessions(&p).await?;
        Ok(pb::ListSessionsResponse { sessions: sessions.iter().map(|s| convert::session(s, p.session_id)).collect() })
    }

    async fn end_session(ctx: Ctx, r: pb::EndSessionRequest) -> ServiceResult<pb::EndSessionResponse> {
        let p = ctx.principal().await?;
        ctx.services.end_session(&p, SessionId::parse(&r.session_id, "session_id")?).await?;
        Ok(pb::EndSessionResponse {})
    }

    async fn end_other_sessions(
        ctx: Ctx,
        _: pb::EndOtherSessionsRequest,
    ) -> ServiceResult<pb::EndOtherSessionsResponse> {
        let p = ctx.principal().await?;
        Ok(pb::EndOtherSessionsResponse { ended: ctx.services.end_other_sessions(&p).await? })
    }
}

impl super::AdminService for Handlers {
    async fn create_registration_invite(
        ctx: Ctx,
        r: pb::CreateRegistrationInviteRequest,
    ) -> ServiceResult<pb::CreateRegistrationInviteResponse> {
        let p = ctx.principal().await?;
        let (code, expires_at_ms) =
            ctx.services.create_registration_invite(&p, r.max_uses, r.valid_for_seconds).await?;
        Ok(pb::CreateRegistrationInviteResponse { code, expires_at_ms })
    }

    async fn create_bot(ctx: Ctx, r: pb::CreateBotRequest) -> ServiceResult<pb::CreateBotResponse> {
        let p = ctx.principal().await?;
        let (user, token) = ctx.services.create_bot(&p, &r.username, &r.display_name).await?;
        Ok(pb::CreateBotResponse { user: Some(convert::user(&user)), token })
    }

    async fn set_user_disabled(ctx: Ctx, r: pb::SetUserDisabledRequest) -> ServiceResult<pb::SetUserDisabledResponse> {
        let p = ctx.principal().await?;
        ctx.services
            .set_user_disabled(switchboard_service::Actor::User(&p), UserId::parse(&r.user_id, "user_id")?, r.disabled)
            .await?;
        Ok(pb::SetUserDisabledResponse {})
    }

    async fn get_runtime_settings(
        ctx: Ctx,
        _: pb::GetRuntimeSettingsRequest,
    ) -> ServiceResult<pb::GetRuntimeSettingsResponse> {
        let p = ctx.principal().await?;
        let (effective, configured) = ctx.services.runtime_settings(&p).await?;
        Ok(pb::GetRuntimeSettingsResponse {
            effective: Some(convert::runtime_settings(&effective)),
            configured: Some(convert::runtime_settings(&configured)),
        })
    }

    async fn update_runtime_settings(
        ctx: Ctx,
        r: pb::UpdateRuntimeSettingsRequest,
    ) -> ServiceResult<pb::UpdateRuntimeSettingsResponse> {
        let p = ctx.principal().await?;
        let patch = switchboard_service::RuntimePatch {
            rate_limit: r.rate_limit.map(convert::rate_limit_from),
            auth_per_address: r.auth_per_address.map(convert::rate_limit_from),
            failed_logins_per_account: r.failed_logins_per_account.map(convert::rate_limit_from),
            reset: r.reset,
        };
        let effective = ctx.services.update_runtime_settings(&p, patch).await?;
        Ok(pb::UpdateRuntimeSettingsResponse { effective: Some(convert::runtime_settings(&effective)) })
    }

    async fn get_search_index_status(
        ctx: Ctx,
        _: pb::GetSearchIndexStatusRequest,
    ) -> ServiceResult<pb::GetSearchIndexStatusResponse> {
        let p = ctx.principal().await?;
        let s = ctx.services.search_index_status(&p).await?;
        Ok(pb::GetSearchIndexStatusResponse {
            indexed_upto_message_id: s.indexed_upto.to_string(),
            backlog: s.backlog,
            newest_message_id: s.newest.to_string(),
        })
    }
}
