//! SpaceService handlers.

use switchboard_core::{ConversationId, UserId};
use switchboard_proto::v1 as pb;
use switchboard_service::{ChannelPatch, NewChannel, RolePatch, ServiceResult, SpacePatch};

use super::{Ctx, Handlers};
use crate::convert::{self, permissions_from, small_id};

fn space(s: &str) -> ServiceResult<ConversationId> {
    Ok(ConversationId::parse(s, "space_id")?)
}

pub(super) fn conv(s: &str, field: &'static str) -> ServiceResult<ConversationId> {
    Ok(ConversationId::parse(s, field)?)
}

pub(super) fn user(s: &str) -> ServiceResult<UserId> {
    Ok(UserId::parse(s, "user_id")?)
}

pub(super) fn opt_conv(s: &str, field: &'static str) -> ServiceResult<Option<ConversationId>> {
    if s.is_empty() { Ok(None) } else { conv(s, field).map(Some) }
}

impl super::SpaceService for Handlers {
    async fn create_space(ctx: Ctx, r: pb::CreateSpaceRequest) -> ServiceResult<pb::CreateSpaceResponse> {
        let p = ctx.principal().await?;
        let v = ctx.services.create_space(&p, &r.name, &r.about, r.public, &r.client_key).await?;
        Ok(pb::CreateSpaceResponse { space: Some(convert::space_pb(&v, p.user_id)) })
    }

    async fn get_space(ctx: Ctx, r: pb::GetSpaceRequest) -> ServiceResult<pb::GetSpaceResponse> {
        let p = ctx.principal().await?;
        let v = ctx.services.get_space(&p, space(&r.space_id)?).await?;
        Ok(pb::GetSpaceResponse { space: Some(convert::space_pb(&v, p.user_id)) })
    }

    async fn update_space(ctx: Ctx, r: pb::UpdateSpaceRequest) -> ServiceResult<pb::UpdateSpaceResponse> {
        let p = ctx.principal().await?;
        let patch = SpacePatch {
            name: r.name,
            about: r.about,
            public: r.public,
            require_approval: r.require_approval,
            default_channel: r.default_channel_id.as_deref().map(|c| opt_conv(c, "default_channel_id")).transpose()?,
            avatar: convert::avatar_from(r.avatar_file_id)?,
        };
        let v = ctx.services.update_space(&p, space(&r.space_id)?, patch).await?;
        Ok(pb::UpdateSpaceResponse { space: Some(convert::space_pb(&v, p.user_id)) })
    }

    async fn delete_space(ctx: Ctx, r: pb::DeleteSpaceRequest) -> ServiceResult<pb::DeleteSpaceResponse> {
        let p = ctx.principal().await?;
        ctx.services.delete_space(&p, space(&r.space_id)?).await?;
        Ok(pb::DeleteSpaceResponse {})
    }

    async fn list_my_spaces(ctx: Ctx, _r: pb::ListMySpacesRequest) -> ServiceResult<pb::ListMySpacesResponse> {
        let p = ctx.principal().await?;
        let v = ctx.services.list_my_spaces(&p).await?;
        Ok(pb::ListMySpacesResponse { spaces: v.iter().map(|s| convert::space_pb(s, p.user_id)).collect() })
    }

    async fn search_spaces(ctx: Ctx, r: pb::SearchSpacesRequest) -> ServiceResult<pb::SearchSpacesResponse> {
        let p = ctx.principal().await?;
        let v = ctx.services.search_spaces(&p, &r.prefix, r.limit).await?;
        Ok(pb::SearchSpacesResponse { spaces: v.iter().map(|s| convert::space_pb(s, p.user_id)).collect() })
    }

    async fn join_space(ctx: Ctx, r: pb::JoinSpaceRequest) -> ServiceResult<pb::JoinSpaceResponse> {
        let p = ctx.principal().await?;
        let id = space(&r.space_id)?;
        let pending = ctx.services.join_space(&p, id, &r.message).await?;
        let space =
            if pending { None } else { Some(convert::space_pb(&ctx.services.get_space(&p, id).await?, p.user_id)) };
        Ok(pb::JoinSpaceResponse { space, pending })
    }

    async fn leave_space(ctx: Ctx, r: pb::LeaveSpaceRequest) -> ServiceResult<pb::LeaveSpaceResponse> {
        let p = ctx.principal().await?;
        ctx.services.leave_space(&p, space(&r.space_id)?).await?;
        Ok(pb::LeaveSpaceResponse {})
    }

    async fn list_space_members(
        ctx: Ctx,
        r: pb::ListSpaceMembersRequest,
    ) -> ServiceResult<pb::ListSpaceMembersResponse> {
        let p = ctx.principal().await?;
        let (members, next) = ctx.services.list_space_members(&p, space(&r.space_id)?, &r.cursor, r.limit).await?;
        Ok(pb::ListSpaceMembersResponse {
            members: members.iter().map(convert::member_view_pb).collect(),
            next_cursor: next.unwrap_or_default(),
        })
    }

    async fn get_member_card(ctx: Ctx, r: pb::GetMemberCardRequest) -> ServiceResult<pb::GetMemberCardResponse> {
        let p = ctx.principal().await?;
        let (m, count, recent) = ctx.services.member_card(&p, space(&r.space_id)?, user(&r.user_id)?).await?;
        Ok(pb::GetMemberCardResponse {
            member: Some(convert::member_view_pb(&m)),
            message_count: count,
            recent_messages: recent.iter().map(|m| convert::message(m, Some(p.user_id))).collect(),
        })
    }

    async fn create_folder(ctx: Ctx, r: pb::CreateFolderRequest) -> ServiceResult<pb::CreateFolderResponse> {
        let p = ctx.principal().await?;
        let parent = small_id(&r.parent_id, "parent_id")?;
        let f = ctx.services.create_folder(&p, space(&r.space_id)?, &r.name, parent, r.position).await?;
        Ok(pb::CreateFolderResponse { folder: Some(convert::folder_pb(&f)) })
    }

    async fn update_folder(ctx: Ctx, r: pb::UpdateFolderRequest) -> ServiceResult<pb::UpdateFolderResponse> {
        let p = ctx.principal().await?;
        let folder = small_id(&r.folder_id, "folder_id")?;
        let parent = r.parent_id.as_deref().map(|s| small_id(s, "parent_id")).transpose()?;
        let f =
            ctx.services.update_folder(&p, space(&r.space_id)?, folder, r.name.as_deref(), parent, r.position).await?;
        Ok(pb::UpdateFolderResponse { folder: Some(convert::folder_pb(&f)) })
    }

    async fn delete_folder(ctx: Ctx, r: pb::DeleteFolderRequest) -> ServiceResult<pb::DeleteFolderResponse> {
        let p = ctx.principal().await?;
        ctx.services.delete_folder(&p, space(&r.space_id)?, small_id(&r.folder_id, "folder_id")?).await?;
        Ok(pb::DeleteFolderResponse {})
    }

    async fn create_channel(ctx: Ctx, r: pb::CreateChannelRequest) -> ServiceResult<pb::CreateChannelResponse> {
        let p = ctx.principal().await?;
        let new = NewChannel {
            name: r.name,
            about: r.about,
            folder_id: small_id(&r.folder_id, "folder_id")?,
            position: r.position,
            announcement: r.announcement,
            private: r.private,
            allowed_roles: r
                .allowed_role_ids
                .iter()
                .map(|s| small_id(s, "allowed_role_ids"))
                .collect::<Result<_, _>>()?,
            allowed_users: convert::ids(&r.allowed_user_ids, "allowed_user_ids", UserId::parse)?,
        };
        let c = ctx.services.create_channel(&p, space(&r.space_id)?, new).await?;
        Ok(pb::CreateChannelResponse { channel: Some(convert::channel_pb(&c, p.user_id)) })
    }

    async fn update_channel(ctx: Ctx, r: pb::UpdateChannelRequest) -> ServiceResult<pb::UpdateChannelResponse> {
        let p = ctx.principal().await?;
        let patch = ChannelPatch {
            name: r.name,
            about: r.about,
            folder_id: r.folder_id.as_deref().map(|s| small_id(s, "folder_id")).transpose()?,
            position: r.position,
            announcement: r.announcement,
            private: r.private,
        };
        let c = ctx.services.update_channel(&p, space(&r.space_id)?, conv(&r.channel_id, "channel_id")?, patch).await?;
        Ok(pb::UpdateChannelResponse { channel: Some(convert::channel_pb(&c, p.user_id)) })
    }

    async fn delete_channel(ctx: Ctx, r: pb::DeleteChannelRequest) -> ServiceResult<pb::DeleteChannelResponse> {
        let p = ctx.principal().await?;
        ctx.services.delete_channel(&p, space(&r.space_id)?, conv(&r.channel_id, "channel_id")?).await?;
        Ok(pb::DeleteChannelResponse {})
    }

    async fn create_role(ctx: Ctx, r: pb::CreateRoleRequest) -> ServiceResult<pb::CreateRoleResponse> {
        let p = ctx.principal().await?;
        let patch = RolePatch {
            name: Some(r.name),
            colour: Some(r.colour),
            position: Some(r.position),
            permissions: Some(permissions_from(&r.permissions, "permissions")?),
            parents: Some(r.parent_ids.iter().map(|s| small_id(s, "parent_ids")).collect::<Result<_, _>>()?),
            mentionable: Some(r.mentionable),
        };
        let role = ctx.services.create_role(&p, space(&r.space_id)?, patch).await?;
        Ok(pb::CreateRoleResponse { role: Some(convert::role_pb(&role)) })
    }

    async fn update_role(ctx: Ctx, r: pb::UpdateRoleRequest) -> ServiceResult<pb::UpdateRoleResponse> {
        let p = ctx.principal().await?;
        let patch = RolePatch {
            name: r.name,
            colour: r.colour,
            position: r.position,
            permissions: if r.set_permissions { Some(permissions_from(&r.permissions, "permissions")?) } else { None },
            parents: if r.set_parents {
                Some(r.parent_ids.iter().map(|s| small_id(s, "parent_ids")).collect::<Result<_, _>>()?)
            } else {
                None
            },
            mentionable: r.mentionable,
        };
        let role = ctx.services.update_role(&p, space(&r.space_id)?, small_id(&r.role_id, "role_id")?, patch).await?;
        Ok(pb::UpdateRoleResponse { role: Some(convert::role_pb(&role)) })
    }

    async fn delete_role(ctx: Ctx, r: pb::DeleteRoleRequest) -> ServiceResult<pb::DeleteRoleResponse> {
        let p = ctx.principal().await?;
        ctx.services.delete_role(&p, space(&r.space_id)?, small_id(&r.role_id, "role_id")?).await?;
        Ok(pb::DeleteRoleResponse {})
    }

    async fn assign_role(ctx: Ctx, r: pb::AssignRoleRequest) -> ServiceResult<pb::AssignRoleResponse> {
        let p = ctx.principal().await?;
        let id = space(&r.space_id)?;
        let m = ctx.services.set_space_role(&p, id, user(&r.user_id)?, small_id(&r.role_id, "role_id")?, true).await?;
        Ok(pb::AssignRoleResponse { member: Some(convert::space_member_pb(&m, 0)) })
    }

    async fn unassign_role(ctx: Ctx, r: pb::UnassignRoleRequest) -> ServiceResult<pb::UnassignRoleResponse> {
        let p = ctx.principal().await?;
        let id = space(&r.space_id)?;
        let m = ctx.services.set_space_role(&p, id, user(&r.user_id)?, small_id(&r.role_id, "role_id")?, false).await?;
        Ok(pb::UnassignRoleResponse { member: Some(convert::space_member_pb(&m, 0)) })
    }

    async fn set_overwrite(ctx: Ctx, r: pb::SetOverwriteRequest) -> ServiceResult<pb::SetOverwriteResponse> {
        let p = ctx.principal().await?;
        let o = r.overwrite.unwrap_or_default();
        let target = convert::target_from(o.target.as_ref())?;
        let set = (permissions_from(&o.allow, "overwrite.allow")?, permissions_from(&o.deny, "overwrite.deny")?);
        let channel = conv(&r.channel_id, "channel_id")?;
        let c = ctx.services.set_overwrite(&p, space(&r.space_id)?, channel, target, Some(set)).await?;
        Ok(pb::SetOverwriteResponse { channel: Some(convert::channel_pb(&c, p.user_id)) })
    }

    async fn remove_overwrite(ctx: Ctx, r: pb::RemoveOverwriteRequest) -> ServiceResult<pb::RemoveOverwriteResponse> {
        let p = ctx.principal().await?;
        let target = convert::target_from(r.target.as_ref())?;
        let channel = conv(&r.channel_id, "channel_id")?;
        let c = ctx.services.set_overwrite(&p, space(&r.space_id)?, channel, target, None).await?;
        Ok(pb::RemoveOverwriteResponse { channel: Some(convert::channel_pb(&c, p.user_id)) })
    }

    async fn get_my_permissions(
        ctx: Ctx,
        r: pb::GetMyPermissionsRequest,
    ) -> ServiceResult<pb::GetMyPermissionsResponse> {
        let p = ctx.principal().await?;
        let channel = opt_conv(&r.channel_id, "channel_id")?;
        let perms = ctx.services.my_permissions(&p, space(&r.space_id)?, channel).await?;
        Ok(pb::GetMyPermissionsResponse { permissions: convert::permissions(perms) })
    }

    async fn kick_member(ctx: Ctx, r: pb::KickMemberRequest) -> ServiceResult<pb::KickMemberResponse> {
        let p = ctx.principal().await?;
        ctx.services.kick_member(&p, space(&r.space_id)?, user(&r.user_id)?).await?;
        Ok(pb::KickMemberResponse {})
    }

    async fn ban_member(ctx: Ctx, r: pb::BanMemberRequest) -> ServiceResult<pb::BanMemberResponse> {
        let p = ctx.principal().await?;
        ctx.services.ban_member(&p, space(&r.space_id)?, user(&r.user_id)?, &r.reason).await?;
        Ok(pb::BanMemberResponse {})
    }

    async fn unban_member(ctx: Ctx, r: pb::UnbanMemberRequest) -> ServiceResult<pb::UnbanMemberResponse> {
        let p = ctx.principal().await?;
        ctx.services.unban_member(&p, space(&r.space_id)?, user(&r.user_id)?).await?;
        Ok(pb::UnbanMemberResponse {})
    }

    async fn list_bans(ctx: Ctx, r: pb::ListBansRequest) -> ServiceResult<pb::ListBansResponse> {
        let p = ctx.principal().await?;
        let (bans, next) = ctx.services.list_bans(&p, space(&r.space_id)?, &r.cursor, r.limit).await?;
        Ok(pb::ListBansResponse {
            bans: bans
                .iter()
                .map(|(u, b)| pb::Ban {
                    user_id: u.to_string(),
                    reason: b.reason.clone(),
                    banned_by: b.banned_by.to_string(),
                    created_at_ms: b.created_at_ms,
                })
                .collect(),
            next_cursor: next.unwrap_or_default(),
        })
    }

    async fn timeout_member(ctx: Ctx, r: pb::TimeoutMemberRequest) -> ServiceResult<pb::TimeoutMemberResponse> {
        let p = ctx.principal().await?;
        let m = ctx.services.timeout_member(&p, space(&r.space_id)?, user(&r.user_id)?, r.until_ms).await?;
        Ok(pb::TimeoutMemberResponse { member: Some(convert::space_member_pb(&m, 0)) })
    }

    async fn update_space_member_profile(
        ctx: Ctx,
        r: pb::UpdateSpaceMemberProfileRequest,
    ) -> ServiceResult<pb::UpdateSpaceMemberProfileResponse> {
        let p = ctx.principal().await?;
        let target = if r.user_id.is_empty() { p.user_id } else { user(&r.user_id)? };
        let change = switchboard_service::SpaceProfilePatch { nickname: r.nickname, title: r.title, status: r.status };
        let m = ctx.services.update_space_member_profile(&p, space(&r.space_id)?, target, change).await?;
        Ok(pb::UpdateSpaceMemberProfileResponse { member: Some(convert::space_member_pb(&m, 0)) })
    }

    async fn get_unread_summary(
        ctx: Ctx,
        r: pb::GetUnreadSummaryRequest,
    ) -> ServiceResult<pb::GetUnreadSummaryResponse> {
        let p = ctx.principal().await?;
        let (unread, mentions, per) = ctx.services.space_unread(&p, space(&r.space_id)?).await?;
        Ok(pb::GetUnreadSummaryResponse {
            unread,
            mentions,
            channels: per
                .into_iter()
                .map(|(c, unread, mentions)| pb::ChannelUnread { channel_id: c.to_string(), unread, mentions })
                .collect(),
        })
    }
}
