//! SearchService handlers.

use switchboard_core::{ConversationId, UserId};
use switchboard_proto::v1 as pb;
use switchboard_service::{SearchRequest, ServiceError, ServiceResult};

use super::{Ctx, Handlers};
use crate::convert;

/// A kind from a search filter: any kind whose messages can be searched.
fn kind(k: i32) -> ServiceResult<switchboard_core::model::ConversationKind> {
    use switchboard_core::model::ConversationKind as K;
    match pb::ConversationKind::try_from(k) {
        Ok(pb::ConversationKind::Direct) => Ok(K::Direct),
        Ok(pb::ConversationKind::Group) => Ok(K::Group),
        Ok(pb::ConversationKind::Channel) => Ok(K::Channel),
        Ok(pb::ConversationKind::SpaceChannel) => Ok(K::SpaceChannel),
        Ok(pb::ConversationKind::Thread) => Ok(K::Thread),
        _ => Err(ServiceError::invalid("kinds", "give direct, group, channel, space channel or thread")),
    }
}

fn bound(ms: i64, field: &'static str) -> ServiceResult<Option<i64>> {
    match ms {
        0 => Ok(None),
        ms if ms < 0 => Err(ServiceError::invalid(field, "must be a time after the epoch")),
        ms => Ok(Some(ms)),
    }
}

impl super::SearchService for Handlers {
    async fn search_messages(ctx: Ctx, r: pb::SearchMessagesRequest) -> ServiceResult<pb::SearchMessagesResponse> {
        let p = ctx.principal().await?;
        let order = pb::SearchOrder::try_from(r.order).map_err(|_| ServiceError::invalid("order", "unknown order"))?;
        let req = SearchRequest {
            query: r.query,
            conversation_id: ConversationId::parse_opt(&r.conversation_id, "conversation_id")?,
            sender: UserId::parse_opt(&r.sender_id, "sender_id")?,
            kinds: r.kinds.iter().map(|k| kind(*k)).collect::<ServiceResult<_>>()?,
            since_ms: bound(r.since_ms, "since_ms")?,
            until_ms: bound(r.until_ms, "until_ms")?,
            with_attachments: r.has_attachments,
            mentions_me: r.mentions_me,
            important_only: r.important_only,
            newest_first: order == pb::SearchOrder::Newest,
            limit: r.limit,
            cursor: r.cursor,
        };
        let (hits, next) = ctx.services.search_messages(&p, req).await?;
        Ok(pb::SearchMessagesResponse {
            hits: hits
                .iter()
                .map(|h| pb::SearchHit {
                    message: Some(convert::message(&h.message, Some(p.user_id))),
                    snippet: h.snippet.text.clone(),
                    highlights: h
                        .snippet
                        .highlights
                        .iter()
                        .map(|&(offset, length)| pb::TextRange { offset: offset as u32, length: length as u32 })
                        .collect(),
                })
                .collect(),
            next_cursor: next.unwrap_or_default(),
        })
    }
}
