//! ServerService handlers.

use switchboard_proto::v1 as pb;
use switchboard_service::ServiceResult;

use super::{Ctx, Handlers};
use crate::convert;

impl super::ServerService for Handlers {
    /// Needs no token and charges no limit: it answers from memory.
    async fn get_server_info(ctx: Ctx, r: pb::GetServerInfoRequest) -> ServiceResult<pb::GetServerInfoResponse> {
        let info = ctx.services.server_info(&r.client);
        Ok(convert::server_info(&info, ctx.services.config()))
    }
}
