//! ThreadService handlers.

use switchboard_core::MessageId;
use switchboard_proto::v1 as pb;
use switchboard_service::ServiceResult;

use super::spaces::conv;
use super::{Ctx, Handlers};
use crate::convert;

impl super::ThreadService for Handlers {
    async fn start_thread(ctx: Ctx, r: pb::StartThreadRequest) -> ServiceResult<pb::StartThreadResponse> {
        let p = ctx.principal().await?;
        let id = conv(&r.conversation_id, "conversation_id")?;
        let root = MessageId::parse(&r.message_id, "message_id")?;
        let (t, created) = ctx.services.start_thread(&p, id, root, &r.name).await?;
        Ok(pb::StartThreadResponse { thread: Some(convert::thread_pb(&t, p.user_id)), created })
    }

    async fn list_threads(ctx: Ctx, r: pb::ListThreadsRequest) -> ServiceResult<pb::ListThreadsResponse> {
        let p = ctx.principal().await?;
        let id = conv(&r.conversation_id, "conversation_id")?;
        let (threads, next) = ctx.services.list_threads(&p, id, &r.cursor, r.limit).await?;
        Ok(pb::ListThreadsResponse {
            threads: threads.iter().map(|t| convert::thread_pb(t, p.user_id)).collect(),
            next_cursor: next.unwrap_or_default(),
        })
    }

    async fn follow_thread(ctx: Ctx, r: pb::FollowThreadRequest) -> ServiceResult<pb::FollowThreadResponse> {
        let p = ctx.principal().await?;
        ctx.services.follow(&p, conv(&r.thread_id, "thread_id")?, true).await?;
        Ok(pb::FollowThreadResponse {})
    }

    async fn unfollow_thread(ctx: Ctx, r: pb::UnfollowThreadRequest) -> ServiceResult<pb::UnfollowThreadResponse> {
        let p = ctx.principal().await?;
        ctx.services.follow(&p, conv(&r.thread_id, "thread_id")?, false).await?;
        Ok(pb::UnfollowThreadResponse {})
    }
}
