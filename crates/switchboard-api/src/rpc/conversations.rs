//! ConversationService handlers.

use switchboard_core::{ConversationId, UserId};
use switchboard_proto::v1 as pb;
use switchboard_service::{ServiceError, ServiceResult, SettingsPatch};

use super::{Ctx, Handlers};
use crate::convert;

fn conv_id(s: &str) -> ServiceResult<ConversationId> {
    Ok(ConversationId::parse(s, "conversation_id")?)
}

fn user_id(s: &str) -> ServiceResult<UserId> {
    Ok(UserId::parse(s, "user_id")?)
}

impl super::ConversationService for Handlers {
    async fn create_direct(ctx: Ctx, r: pb::CreateDirectRequest) -> ServiceResult<pb::CreateDirectResponse> {
        let p = ctx.principal().await?;
        let (view, created) = ctx.services.create_direct(&p, user_id(&r.user_id)?).await?;
        Ok(pb::CreateDirectResponse { conversation: Some(convert::view(&view)), created })
    }

    async fn create_conversation(
        ctx: Ctx,
        r: pb::CreateConversationRequest,
    ) -> ServiceResult<pb::CreateConversationResponse> {
        let p = ctx.principal().await?;
        let kind = convert::kind_from(r.kind).ok_or_else(|| {
            ServiceError::invalid("kind", "give CONVERSATION_KIND_GROUP or CONVERSATION_KIND_CHANNEL")
        })?;
        let members = convert::ids(&r.member_ids, "member_ids", UserId::parse)?;
        let spec = switchboard_service::GroupSpec {
            kind,
            title: r.title,
            about: r.about,
            members,
            client_key: r.client_key,
            history_shared: convert::history_shared(r.history_visibility)?,
        };
        let view = ctx.services.create_conversation(&p, spec).await?;
        Ok(pb::CreateConversationResponse { conversation: Some(convert::view(&view)) })
    }

    async fn get_conversation(ctx: Ctx, r: pb::GetConversationRequest) -> ServiceResult<pb::GetConversationResponse> {
        let p = ctx.principal().await?;
        let view = ctx.services.get_conversation(&p, conv_id(&r.conversation_id)?).await?;
        Ok(pb::GetConversationResponse { conversation: Some(convert::view(&view)) })
    }

    async fn list_conversations(
        ctx: Ctx,
        r: pb::ListConversationsRequest,
    ) -> ServiceResult<pb::ListConversationsResponse> {
        let p = ctx.principal().await?;
        let (views, next) = ctx.services.list_conversations(&p, &r.cursor, r.limit).await?;
        let (total_unread, total_mentions) = ctx.services.unread_totals(&p).await?;
        Ok(pb::ListConversationsResponse {
            conversations: views.iter().map(convert::view).collect(),
            next_cursor: next.unwrap_or_default(),
            total_unread,
            total_mentions,
        })
    }

    async fn update_conversation(
        ctx: Ctx,
        r: pb::UpdateConversationRequest,
    ) -> ServiceResult<pb::UpdateConversationResponse> {
        let p = ctx.principal().await?;
        let history_shared = match r.history_visibility {
            None => None,
            Some(v) => Some(convert::history_shared(v)?.ok_or_else(|| {
                ServiceError::invalid("history_visibility", "give SHARED or SINCE_JOIN to change it")
            })?),
        };
        let patch = switchboard_service::ConversationPatch {
            title: r.title,
            about: r.about,
            require_approval: r.require_approval,
            admins_only: r.admins_only,
            history_shared,
            avatar: convert::avatar_from(r.avatar_file_id)?,
        };
        let view = ctx.services.update_conversation(&p, conv_id(&r.conversation_id)?, patch).await?;
        Ok(pb::UpdateConversationResponse { conversation: Some(convert::view(&view)) })
    }

    async fn add_members(ctx: Ctx, r: pb::AddMembersRequest) -> ServiceResult<pb::AddMembersResponse> {
        let p = ctx.principal().await?;
        let users = convert::ids(&r.user_ids, "user_ids", UserId::parse)?;
        let added = ctx.services.add_members(&p, conv_id(&r.conversation_id)?, users).await?;
        Ok(pb::AddMembersResponse { added_user_ids: added.iter().map(ToString::to_string).collect() })
    }

    async fn remove_member(ctx: Ctx, r: pb::RemoveMemberRequest) -> ServiceResult<pb::RemoveMemberResponse> {
        let p = ctx.principal().await?;
        ctx.services.remove_member(&p, conv_id(&r.conversation_id)?, user_id(&r.user_id)?).await?;
        Ok(pb::RemoveMemberResponse {})
    }

    async fn mute_member(ctx: Ctx, r: pb::MuteMemberRequest) -> ServiceResult<pb::MuteMemberResponse> {
        let p = ctx.principal().await?;
        let m = ctx
            .services
            .mute_member(&p, conv_id(&r.conversation_id)?, UserId::parse(&r.user_id, "user_id")?, r.until_ms)
            .await?;
        Ok(pb::MuteMemberResponse { member: Some(convert::member(&m)) })
    }

    async fn delete_conversation(
        ctx: Ctx,
        r: pb::DeleteConversationRequest,
    ) -> ServiceResult<pb::DeleteConversationResponse> {
        let p = ctx.principal().await?;
        ctx.services.delete_conversation(&p, conv_id(&r.conversation_id)?).await?;
        Ok(pb::DeleteConversationResponse {})
    }

    async fn leave_conversation(
        ctx: Ctx,
        r: pb::LeaveConversationRequest,
    ) -> ServiceResult<pb::LeaveConversationResponse> {
        let p = ctx.principal().await?;
        ctx.services.leave(&p, conv_id(&r.conversation_id)?).await?;
        Ok(pb::LeaveConversationResponse {})
    }

    async fn transfer_ownership(
        ctx: Ctx,
        r: pb::TransferOwnershipRequest,
    ) -> ServiceResult<pb::TransferOwnershipResponse> {
        let p = ctx.principal().await?;
        ctx.services.transfer_ownership(&p, conv_id(&r.conversation_id)?, user_id(&r.user_id)?).await?;
        Ok(pb::TransferOwnershipResponse {})
    }

    async fn set_member_role(ctx: Ctx, r: pb::SetMemberRoleRequest) -> ServiceResult<pb::SetMemberRoleResponse> {
        let p = ctx.principal().await?;
        let role = convert::role_from(r.role)
            .ok_or_else(|| ServiceError::invalid("role", "give MEMBER_ROLE_ADMIN or MEMBER_ROLE_MEMBER"))?;
        let member = ctx
            .services
            .set_member_role(
                &p,
                conv_id(&r.conversation_id)?,
                user_id(&r.user_id)?,
                role,
                convert::rights_from(r.rights),
            )
            .await?;
        Ok(pb::SetMemberRoleResponse { member: Some(convert::member(&member)) })
    }

    async fn list_members(ctx: Ctx, r: pb::ListMembersRequest) -> ServiceResult<pb::ListMembersResponse> {
        let p = ctx.principal().await?;
        let page = ctx.services.list_members(&p, conv_id(&r.conversation_id)?, &r.cursor, r.limit).await?;
        Ok(pb::ListMembersResponse {
            members: page.members.iter().map(convert::member).collect(),
            next_cursor: page.next_cursor.unwrap_or_default(),
        })
    }

    async fn update_member_settings(
        ctx: Ctx,
        r: pb::UpdateMemberSettingsRequest,
    ) -> ServiceResult<pb::UpdateMemberSettingsResponse> {
        let p = ctx.principal().await?;
        let patch =
            SettingsPatch { muted_until_ms: r.muted_until_ms, pinned: r.pinned, archived: r.archived, draft: r.draft };
        let s = ctx.services.update_member_settings(&p, conv_id(&r.conversation_id)?, patch).await?;
        Ok(pb::UpdateMemberSettingsResponse { settings: Some(convert::settings(&s)) })
    }
}
