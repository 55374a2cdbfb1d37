//! UserService handlers.

use switchboard_core::UserId;
use switchboard_proto::v1 as pb;
use switchboard_service::{ProfileUpdate, ServiceResult};

use super::{Ctx, Handlers};
use crate::convert;

impl super::UserService for Handlers {
    async fn get_me(ctx: Ctx, _: pb::GetMeRequest) -> ServiceResult<pb::GetMeResponse> {
        let p = ctx.principal().await?;
        Ok(pb::GetMeResponse { user: Some(convert::user(&ctx.services.me(&p).await?)) })
    }

    async fn update_profile(ctx: Ctx, r: pb::UpdateProfileRequest) -> ServiceResult<pb::UpdateProfileResponse> {
        let p = ctx.principal().await?;
        let update = ProfileUpdate {
            username: r.username,
            display_name: r.display_name,
            bio: r.bio,
            status_text: r.status_text,
            avatar: convert::avatar_from(r.avatar_file_id)?,
        };
        Ok(pb::UpdateProfileResponse { user: Some(convert::user(&ctx.services.update_profile(&p, update).await?)) })
    }

    async fn get_users(ctx: Ctx, r: pb::GetUsersRequest) -> ServiceResult<pb::GetUsersResponse> {
        let p = ctx.principal().await?;
        let ids = convert::ids(&r.user_ids, "user_ids", UserId::parse)?;
        let users = ctx.services.get_users(&p, &ids).await?;
        Ok(pb::GetUsersResponse { users: users.iter().map(convert::user).collect() })
    }

    async fn search_users(ctx: Ctx, r: pb::SearchUsersRequest) -> ServiceResult<pb::SearchUsersResponse> {
        let p = ctx.principal().await?;
        let users = ctx.services.search_users(&p, &r.query, r.limit).await?;
        Ok(pb::SearchUsersResponse { users: users.iter().map(convert::user).collect() })
    }

    async fn get_user_settings(ctx: Ctx, _: pb::GetUserSettingsRequest) -> ServiceResult<pb::GetUserSettingsResponse> {
        let p = ctx.principal().await?;
        let settings = ctx.services.user_settings(&p).await?;
        Ok(pb::GetUserSettingsResponse { settings: settings.iter().map(convert::user_setting).collect() })
    }

    async fn update_user_settings(
        ctx: Ctx,
        r: pb::UpdateUserSettingsRequest,
    ) -> ServiceResult<pb::UpdateUserSettingsResponse> {
        let p = ctx.principal().await?;
        let (settings, ev) = ctx.services.change_user_settings(&p, r.set.into_iter().collect(), r.remove).await?;
        Ok(pb::UpdateUserSettingsResponse {
            settings: settings.iter().map(convert::user_setting).collect(),
            user_seq: ev.user_seq,
        })
    }

    async fn get_privacy_settings(
        ctx: Ctx,
        _: pb::GetPrivacySettingsRequest,
    ) -> ServiceResult<pb::GetPrivacySettingsResponse> {
        let p = ctx.principal().await?;
        let rules = ctx.services.privacy_rules(&p).await?;
        Ok(pb::GetPrivacySettingsResponse { rules: rules.iter().map(convert::privacy_rule).collect() })
    }

    async fn update_privacy_settings(
        ctx: Ctx,
        r: pb::UpdatePrivacySettingsRequest,
    ) -> ServiceResult<pb::UpdatePrivacySettingsResponse> {
        let p = ctx.principal().await?;
        let rules = r.rules.iter().map(convert::privacy_rule_from).collect::<ServiceResult<Vec<_>>>()?;
        let (rules, user_seq) = ctx.services.set_privacy_rules(&p, rules).await?;
        Ok(pb::UpdatePrivacySettingsResponse { rules: rules.iter().map(convert::privacy_rule).collect(), user_seq })
    }
}
