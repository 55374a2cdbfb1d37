//! MessageService handlers.

use switchboard_core::{ConversationId, CustomEmojiId, MessageId, StickerId, StickerPackId};
use switchboard_proto::v1 as pb;
use switchboard_service::{
    HistoryDirection, HistoryRequest, ScheduleRequest, SendRequest, ServiceError, ServiceResult,
};

use super::{Ctx, Handlers};
use crate::convert;

fn conv_id(s: &str) -> ServiceResult<ConversationId> {
    Ok(ConversationId::parse(s, "conversation_id")?)
}

fn msg_id(s: &str) -> ServiceResult<MessageId> {
    Ok(MessageId::parse(s, "message_id")?)
}

/// The sticker of a send request: both ids or neither.
fn sticker_from(pack: &str, sticker: &str) -> ServiceResult<Option<(StickerPackId, StickerId)>> {
    match (pack.is_empty(), sticker.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => {
            Ok(Some((StickerPackId::parse(pack, "sticker_pack_id")?, StickerId::parse(sticker, "sticker_id")?)))
        }
        _ => Err(ServiceError::invalid("sticker_id", "give both sticker_pack_id and sticker_id")),
    }
}

impl super::MessageService for Handlers {
    async fn send_message(ctx: Ctx, r: pb::SendMessageRequest) -> ServiceResult<pb::SendMessageResponse> {
        let p = ctx.principal().await?;
        let forward_from = match r.forward_from {
            Some(f) => Some((
                ConversationId::parse(&f.conversation_id, "forward_from.conversation_id")?,
                MessageId::parse(&f.message_id, "forward_from.message_id")?,
            )),
            None => None,
        };
        let attachments = convert::attachments_from(r.text.as_ref().map_or(&[][..], |t| &t.attachments))?;
        let req = SendRequest {
            conversation_id: Some(conv_id(&r.conversation_id)?),
            client_key: r.client_key,
            attachments,
            text: convert::text_from(r.text)?,
            reply_to: MessageId::parse_opt(&r.reply_to_message_id, "reply_to_message_id")?,
            forward_from,
            metadata: r.metadata,
            important: r.important,
            silent: r.silent,
            online_only: r.online_only,
            no_link_preview: r.no_link_preview,
            sticker: sticker_from(&r.sticker_pack_id, &r.sticker_id)?,
        };
        let (m, duplicate) = ctx.services.send_message(&p, req).await?;
        Ok(pb::SendMessageResponse { message: Some(convert::message(&m, Some(p.user_id))), duplicate })
    }

    async fn edit_message(ctx: Ctx, r: pb::EditMessageRequest) -> ServiceResult<pb::EditMessageResponse> {
        let p = ctx.principal().await?;
        let (text, entities) = convert::text_from(r.text)?.ok_or_else(|| ServiceError::invalid("text", "required"))?;
        let m =
            ctx.services.edit_message(&p, conv_id(&r.conversation_id)?, msg_id(&r.message_id)?, text, entities).await?;
        Ok(pb::EditMessageResponse { message: Some(convert::message(&m, Some(p.user_id))) })
    }

    async fn delete_messages(ctx: Ctx, r: pb::DeleteMessagesRequest) -> ServiceResult<pb::DeleteMessagesResponse> {
        let p = ctx.principal().await?;
        let ids = convert::ids(&r.message_ids, "message_ids", MessageId::parse)?;
        ctx.services.delete_messages(&p, conv_id(&r.conversation_id)?, ids, r.for_everyone).await?;
        Ok(pb::DeleteMessagesResponse {})
    }

    async fn clear_history(ctx: Ctx, r: pb::ClearHistoryRequest) -> ServiceResult<pb::ClearHistoryResponse> {
        let p = ctx.principal().await?;
        let visible_from_seq = ctx.services.clear_history(&p, conv_id(&r.conversation_id)?).await?;
        Ok(pb::ClearHistoryResponse { visible_from_seq })
    }

    async fn get_history(ctx: Ctx, r: pb::GetHistoryRequest) -> ServiceResult<pb::GetHistoryResponse> {
        let p = ctx.principal().await?;
        let direction = match pb::HistoryDirection::try_from(r.direction) {
            Ok(pb::HistoryDirection::Before | pb::HistoryDirection::Unspecified) => HistoryDirection::Before,
            Ok(pb::HistoryDirection::After) => HistoryDirection::After,
            Ok(pb::HistoryDirection::Around) => HistoryDirection::Around,
            Err(_) => return Err(ServiceError::invalid("direction", "unknown direction")),
        };
        let req = HistoryRequest {
            direction,
            anchor_seq: convert::seq(r.anchor_seq, "anchor_seq")?,
            anchor_message: MessageId::parse_opt(&r.anchor_message_id, "anchor_message_id")?,
            limit: r.limit,
        };
        let (messages, has_more) = ctx.services.history(&p, conv_id(&r.conversation_id)?, req).await?;
        Ok(pb::GetHistoryResponse {
            messages: messages.iter().map(|m| convert::message(m, Some(p.user_id))).collect(),
            has_more,
        })
    }

    async fn get_messages(ctx: Ctx, r: pb::GetMessagesRequest) -> ServiceResult<pb::GetMessagesResponse> {
        let p = ctx.principal().await?;
        let ids = convert::ids(&r.message_ids, "message_ids", MessageId::parse)?;
        let messages = ctx.services.get_messages(&p, conv_id(&r.conversation_id)?, &ids).await?;
        Ok(pb::GetMessagesResponse {
            messages: messages.iter().map(|m| convert::message(m, Some(p.user_id))).collect(),
        })
    }

    async fn mark_read(ctx: Ctx, r: pb::MarkReadRequest) -> ServiceResult<pb::MarkReadResponse> {
        let p = ctx.principal().await?;
        let (read_seq, unread_count) =
            ctx.services.mark_read(&p, conv_id(&r.conversation_id)?, convert::seq(r.seq, "seq")?).await?;
        Ok(pb::MarkReadResponse { read_seq, unread_count })
    }

    async fn mark_delivered(ctx: Ctx, r: pb::MarkDeliveredRequest) -> ServiceResult<pb::MarkDeliveredResponse> {
        let p = ctx.principal().await?;
        let delivered_seq =
            ctx.services.mark_delivered(&p, conv_id(&r.conversation_id)?, convert::seq(r.seq, "seq")?).await?;
        Ok(pb::MarkDeliveredResponse { delivered_seq })
    }

    async fn get_receipts(ctx: Ctx, r: pb::GetReceiptsRequest) -> ServiceResult<pb::GetReceiptsResponse> {
        let p = ctx.principal().await?;
        let rc = ctx.services.receipts(&p, conv_id(&r.conversation_id)?, msg_id(&r.message_id)?).await?;
        Ok(pb::GetReceiptsResponse {
            read_count: rc.read,
            delivered_count: rc.delivered,
            recipient_count: rc.recipients,
            reader_ids: rc.readers.iter().map(ToString::to_string).collect(),
        })
    }

    async fn add_reaction(ctx: Ctx, r: pb::AddReactionRequest) -> ServiceResult<pb::AddReactionResponse> {
        let p = ctx.principal().await?;
        let custom = CustomEmojiId::parse_opt(&r.custom_emoji_id, "custom_emoji_id")?;
        let (id, mid) = (conv_id(&r.conversation_id)?, msg_id(&r.message_id)?);
        let m = ctx.services.react(&p, id, mid, &r.emoji, custom, true).await?;
        Ok(pb::AddReactionResponse { message: Some(convert::message(&m, Some(p.user_id))) })
    }

    async fn remove_reaction(ctx: Ctx, r: pb::RemoveReactionRequest) -> ServiceResult<pb::RemoveReactionResponse> {
        let p = ctx.principal().await?;
        let custom = CustomEmojiId::parse_opt(&r.custom_emoji_id, "custom_emoji_id")?;
        let (id, mid) = (conv_id(&r.conversation_id)?, msg_id(&r.message_id)?);
        let m = ctx.services.react(&p, id, mid, &r.emoji, custom, false).await?;
        Ok(pb::RemoveReactionResponse { message: Some(convert::message(&m, Some(p.user_id))) })
    }

    async fn list_reactions(ctx: Ctx, r: pb::ListReactionsRequest) -> ServiceResult<pb::ListReactionsResponse> {
        let p = ctx.principal().await?;
        let (id, mid) = (conv_id(&r.conversation_id)?, msg_id(&r.message_id)?);
        let custom = CustomEmojiId::parse_opt(&r.custom_emoji_id, "custom_emoji_id")?;
        let (reactors, next) = ctx.services.reactors(&p, id, mid, (&r.emoji, custom), &r.cursor, r.limit).await?;
        Ok(pb::ListReactionsResponse {
            reactors: reactors
                .iter()
                .map(|x| {
                    let (emoji, custom_emoji_id) = convert::reaction_key(&x.emoji);
                    pb::Reactor { user_id: x.user_id.to_string(), emoji, reacted_at_ms: x.at_ms, custom_emoji_id }
                })
                .collect(),
            next_cursor: next.unwrap_or_default(),
        })
    }

    async fn pin_message(ctx: Ctx, r: pb::PinMessageRequest) -> ServiceResult<pb::PinMessageResponse> {
        let p = ctx.principal().await?;
        let m = ctx.services.set_pin(&p, conv_id(&r.conversation_id)?, msg_id(&r.message_id)?, true).await?;
        Ok(pb::PinMessageResponse { service_message: m.map(|m| convert::message(&m, Some(p.user_id))) })
    }

    async fn unpin_message(ctx: Ctx, r: pb::UnpinMessageRequest) -> ServiceResult<pb::UnpinMessageResponse> {
        let p = ctx.principal().await?;
        let m = ctx.services.set_pin(&p, conv_id(&r.conversation_id)?, msg_id(&r.message_id)?, false).await?;
        Ok(pb::UnpinMessageResponse { service_message: m.map(|m| convert::message(&m, Some(p.user_id))) })
    }

    async fn list_pinned_messages(
        ctx: Ctx,
        r: pb::ListPinnedMessagesRequest,
    ) -> ServiceResult<pb::ListPinnedMessagesResponse> {
        let p = ctx.principal().await?;
        let (pins, next) = ctx.services.pins(&p, conv_id(&r.conversation_id)?, &r.cursor, r.limit).await?;
        Ok(pb::ListPinnedMessagesResponse {
            pins: pins
                .iter()
                .map(|x| pb::PinnedMessage {
                    message: Some(convert::message(&x.message, Some(p.user_id))),
                    pinned_by: x.pinned_by.to_string(),
                    pinned_at_ms: x.pinned_at_ms,
                })
                .collect(),
            next_cursor: next.unwrap_or_default(),
        })
    }

    async fn save_message(ctx: Ctx, r: pb::SaveMessageRequest) -> ServiceResult<pb::SaveMessageResponse> {
        let p = ctx.principal().await?;
        ctx.services.set_saved(&p, conv_id(&r.conversation_id)?, msg_id(&r.message_id)?, true).await?;
        Ok(pb::SaveMessageResponse {})
    }

    async fn unsave_message(ctx: Ctx, r: pb::UnsaveMessageRequest) -> ServiceResult<pb::UnsaveMessageResponse> {
        let p = ctx.principal().await?;
        ctx.services.set_saved(&p, conv_id(&r.conversation_id)?, msg_id(&r.message_id)?, false).await?;
        Ok(pb::UnsaveMessageResponse {})
    }

    async fn list_saved_messages(
        ctx: Ctx,
        r: pb::ListSavedMessagesRequest,
    ) -> ServiceResult<pb::ListSavedMessagesResponse> {
        let p = ctx.principal().await?;
        let (saved, next) = ctx.services.saved_messages(&p, &r.cursor, r.limit).await?;
        Ok(pb::ListSavedMessagesResponse {
            saved: saved
                .iter()
                .map(|s| pb::SavedMessage {
                    message: Some(convert::message(&s.message, Some(p.user_id))),
                    saved_at_ms: s.saved_at_ms,
                })
                .collect(),
            next_cursor: next.unwrap_or_default(),
        })
    }

    async fn schedule_message(ctx: Ctx, r: pb::ScheduleMessageRequest) -> ServiceResult<pb::ScheduleMessageResponse> {
        let p = ctx.principal().await?;
        if r.text.as_ref().is_some_and(|t| !t.attachments.is_empty()) {
            return Err(ServiceError::invalid("text.attachments", "scheduled messages carry text only"));
        }
        let req = ScheduleRequest {
            conversation_id: Some(conv_id(&r.conversation_id)?),
            client_key: r.client_key,
            text: convert::text_from(r.text)?,
            reply_to: MessageId::parse_opt(&r.reply_to_message_id, "reply_to_message_id")?,
            metadata: r.metadata,
            important: r.important,
            silent: r.silent,
            no_link_preview: r.no_link_preview,
            send_at_ms: r.send_at_ms,
        };
        let s = ctx.services.schedule_message(&p, req).await?;
        Ok(pb::ScheduleMessageResponse { scheduled: Some(convert::scheduled(&s)) })
    }

    async fn list_scheduled_messages(
        ctx: Ctx,
        r: pb::ListScheduledMessagesRequest,
    ) -> ServiceResult<pb::ListScheduledMessagesResponse> {
        let p = ctx.principal().await?;
        let conv = ConversationId::parse_opt(&r.conversation_id, "conversation_id")?;
        let list = ctx.services.scheduled_messages(&p, conv).await?;
        Ok(pb::ListScheduledMessagesResponse { scheduled: list.iter().map(convert::scheduled).collect() })
    }

    async fn update_scheduled_message(
        ctx: Ctx,
        r: pb::UpdateScheduledMessageRequest,
    ) -> ServiceResult<pb::UpdateScheduledMessageResponse> {
        let p = ctx.principal().await?;
        if r.text.as_ref().is_some_and(|t| !t.attachments.is_empty()) {
            return Err(ServiceError::invalid("text.attachments", "scheduled messages carry text only"));
        }
        let at = (r.send_at_ms != 0).then_some(r.send_at_ms);
        let s = ctx.services.update_scheduled(&p, scheduled_id(&r.id)?, convert::text_from(r.text)?, at).await?;
        Ok(pb::UpdateScheduledMessageResponse { scheduled: Some(convert::scheduled(&s)) })
    }

    async fn cancel_scheduled_message(
        ctx: Ctx,
        r: pb::CancelScheduledMessageRequest,
    ) -> ServiceResult<pb::CancelScheduledMessageResponse> {
        let p = ctx.principal().await?;
        ctx.services.cancel_scheduled(&p, scheduled_id(&r.id)?).await?;
        Ok(pb::CancelScheduledMessageResponse {})
    }

    async fn send_scheduled_message_now(
        ctx: Ctx,
        r: pb::SendScheduledMessageNowRequest,
    ) -> ServiceResult<pb::SendScheduledMessageNowResponse> {
        let p = ctx.principal().await?;
        let m = ctx.services.send_scheduled_now(&p, scheduled_id(&r.id)?).await?;
        Ok(pb::SendScheduledMessageNowResponse { message: Some(convert::message(&m, Some(p.user_id))) })
    }
}

fn scheduled_id(s: &str) -> ServiceResult<i64> {
    s.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| ServiceError::invalid("id", "not a scheduled message id"))
}
