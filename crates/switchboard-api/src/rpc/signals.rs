//! SignalService handlers.

use switchboard_core::event::PresenceStatus;
use switchboard_core::{ConversationId, UserId};
use switchboard_proto::v1 as pb;
use switchboard_service::{ServiceError, ServiceResult};

use super::{Ctx, Handlers};
use crate::convert;

impl super::SignalService for Handlers {
    async fn set_typing(ctx: Ctx, r: pb::SetTypingRequest) -> ServiceResult<pb::SetTypingResponse> {
        let p = ctx.principal().await?;
        ctx.services.set_typing(&p, ConversationId::parse(&r.conversation_id, "conversation_id")?, r.typing).await?;
        Ok(pb::SetTypingResponse {})
    }

    async fn set_presence(ctx: Ctx, r: pb::SetPresenceRequest) -> ServiceResult<pb::SetPresenceResponse> {
        let p = ctx.principal().await?;
        let status = match pb::PresenceStatus::try_from(r.status) {
            Ok(pb::PresenceStatus::Online) => PresenceStatus::Online,
            Ok(pb::PresenceStatus::Away) => PresenceStatus::Away,
            _ => {
                return Err(ServiceError::invalid("status", "give PRESENCE_STATUS_ONLINE or PRESENCE_STATUS_AWAY"));
            }
        };
        ctx.services.set_presence(&p, status)?;
        Ok(pb::SetPresenceResponse {})
    }

    async fn subscribe_presence(
        ctx: Ctx,
        r: pb::SubscribePresenceRequest,
    ) -> ServiceResult<pb::SubscribePresenceResponse> {
        let p = ctx.principal().await?;
        let users = convert::ids(&r.user_ids, "user_ids", UserId::parse)?;
        let presences = ctx.services.subscribe_presence(&p, &users).await?;
        Ok(pb::SubscribePresenceResponse { presences: presences.iter().map(convert::presence).collect() })
    }

    async fn unsubscribe_presence(
        ctx: Ctx,
        r: pb::UnsubscribePresenceRequest,
    ) -> ServiceResult<pb::UnsubscribePresenceResponse> {
        let p = ctx.principal().await?;
        let users = convert::ids(&r.user_ids, "user_ids", UserId::parse)?;
        ctx.services.unsubscribe_presence(&p, &users);
        Ok(pb::UnsubscribePresenceResponse {})
    }
}
