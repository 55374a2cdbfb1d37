//! SyncService unary handlers; Subscribe lives in the transports.

use switchboard_core::ConversationId;
use switchboard_proto::v1 as pb;
use switchboard_service::{Positions, ServiceResult};

use super::{Ctx, Handlers};
use crate::convert;

/// Client positions from the wire. Sequence numbers are stored as signed 64-bit
/// integers, so anything above `i64::MAX` cannot be a real position.
pub fn positions_from(user_seq: u64, positions: &[pb::ConversationPosition]) -> ServiceResult<Positions> {
    let mut out = Positions { user_seq: convert::seq(user_seq, "user_seq")?, ..Positions::default() };
    for p in positions {
        let id = ConversationId::parse(&p.conversation_id, "positions.conversation_id")?;
        out.conversations.insert(id, convert::seq(p.seq, "positions.seq")?);
    }
    Ok(out)
}

impl super::SyncService for Handlers {
    async fn get_state(ctx: Ctx, _: pb::GetStateRequest) -> ServiceResult<pb::GetStateResponse> {
        let p = ctx.principal().await?;
        let state = ctx.services.get_state(&p).await?;
        let mut conversations: Vec<_> = state
            .conversations
            .iter()
            .map(|(c, seq)| pb::ConversationPosition { conversation_id: c.to_string(), seq: *seq })
            .collect();
        conversations.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
        Ok(pb::GetStateResponse { user_seq: state.user_seq, conversations })
    }

    async fn get_difference(ctx: Ctx, r: pb::GetDifferenceRequest) -> ServiceResult<pb::GetDifferenceResponse> {
        let p = ctx.principal().await?;
        let pos = positions_from(r.user_seq, &r.positions)?;
        let diff = ctx.services.get_difference(&p, pos, r.limit).await?;
        Ok(pb::GetDifferenceResponse {
            events: diff.events.iter().map(|e| convert::event(e, Some(p.user_id))).collect(),
            more: diff.more,
            resync_required: diff.resync_required,
        })
    }
}
