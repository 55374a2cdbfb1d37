//! InviteService handlers: invite links and join requests.

use switchboard_proto::v1 as pb;
use switchboard_service::ServiceResult;

use super::spaces::{conv, opt_conv, user};
use super::{Ctx, Handlers};
use crate::convert;

impl super::InviteService for Handlers {
    async fn create_invite(ctx: Ctx, r: pb::CreateInviteRequest) -> ServiceResult<pb::CreateInviteResponse> {
        let p = ctx.principal().await?;
        let id = conv(&r.conversation_id, "conversation_id")?;
        let channel = opt_conv(&r.channel_id, "channel_id")?;
        let i = ctx.services.create_invite(&p, id, channel, r.expires_in_secs, r.max_uses).await?;
        Ok(pb::CreateInviteResponse { invite: Some(convert::invite_pb(&i)) })
    }

    async fn preview_invite(ctx: Ctx, r: pb::PreviewInviteRequest) -> ServiceResult<pb::PreviewInviteResponse> {
        let p = ctx.principal().await?;
        let v = ctx.services.preview_invite(&p, &r.code).await?;
        Ok(pb::PreviewInviteResponse {
            invite: Some(convert::invite_pb(&v.invite)),
            conversation: Some(convert::conversation(&v.conversation, p.user_id)),
            joined: v.joined,
            require_approval: v.require_approval,
        })
    }

    async fn join_by_invite(ctx: Ctx, r: pb::JoinByInviteRequest) -> ServiceResult<pb::JoinByInviteResponse> {
        let p = ctx.principal().await?;
        let j = ctx.services.join_by_invite(&p, &r.code, &r.message).await?;
        Ok(pb::JoinByInviteResponse {
            conversation_id: j.conversation_id.to_string(),
            channel_id: j.channel_id.map(|c| c.to_string()).unwrap_or_default(),
            pending: j.pending,
        })
    }

    async fn list_invites(ctx: Ctx, r: pb::ListInvitesRequest) -> ServiceResult<pb::ListInvitesResponse> {
        let p = ctx.principal().await?;
        let v = ctx.services.list_invites(&p, conv(&r.conversation_id, "conversation_id")?).await?;
        Ok(pb::ListInvitesResponse { invites: v.iter().map(convert::invite_pb).collect() })
    }

    async fn revoke_invite(ctx: Ctx, r: pb::RevokeInviteRequest) -> ServiceResult<pb::RevokeInviteResponse> {
        let p = ctx.principal().await?;
        ctx.services.revoke_invite(&p, &r.code).await?;
        Ok(pb::RevokeInviteResponse {})
    }

    async fn list_join_requests(
        ctx: Ctx,
        r: pb::ListJoinRequestsRequest,
    ) -> ServiceResult<pb::ListJoinRequestsResponse> {
        let p = ctx.principal().await?;
        let id = conv(&r.conversation_id, "conversation_id")?;
        let v = ctx.services.list_join_requests(&p, id).await?;
        Ok(pb::ListJoinRequestsResponse {
            requests: v
                .into_iter()
                .map(|(u, r)| pb::JoinRequest {
                    conversation_id: id.to_string(),
                    user_id: u.to_string(),
                    message: r.message,
                    created_at_ms: r.created_at_ms,
                })
                .collect(),
        })
    }

    async fn decide_join_request(
        ctx: Ctx,
        r: pb::DecideJoinRequestRequest,
    ) -> ServiceResult<pb::DecideJoinRequestResponse> {
        let p = ctx.principal().await?;
        let id = conv(&r.conversation_id, "conversation_id")?;
        ctx.services.decide_join_request(&p, id, user(&r.user_id)?, r.accept).await?;
        Ok(pb::DecideJoinRequestResponse {})
    }
}
