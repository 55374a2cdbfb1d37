//! Messages: send, edit, delete, history, watermarks and receipts.

use std::collections::BTreeMap;

use switchboard_bus::Topic;
use switchboard_core::event::{Event, Receipt, ThreadActivity, UserEvent, UserEventKind};
use switchboard_core::model::{
    Attachment, Content, ConversationKind, Entity, ForwardInfo, Message, NewMessage, ThreadSummary,
};
use switchboard_core::values::{ClientKey, MessageText, parse_metadata};
use switchboard_core::{ConversationId, MessageId, StickerId, StickerPackId, UserId};
use switchboard_store::HistoryDirection;

use crate::{Principal, ServiceError, ServiceResult, Services};

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// The conversation.
    pub conversation_id: Option<ConversationId>,
    /// Idempotency key.
    pub client_key: String,
    /// Text and entities, if any.
    pub text: Option<(String, Vec<Entity>)>,
    /// Replied-to message.
    pub reply_to: Option<MessageId>,
    /// Message to forward.
    pub forward_from: Option<(ConversationId, MessageId)>,
    /// Client metadata.
    pub metadata: BTreeMap<String, String>,
    /// Files to attach (each readable by the sender), in order.
    pub attachments: Vec<Attachment>,
    /// Marked important.
    pub important: bool,
    /// Notifies nobody.
    pub silent: bool,
    /// Delivered live to the members connected now, never stored.
    pub online_only: bool,
    /// No link previews for this message.
    pub no_link_preview: bool,
    /// A sticker to send (alone: no text, attachments or forward).
    pub sticker: Option<(StickerPackId, StickerId)>,
}

/// A history page request.
#[derive(Debug, Clone, Copy)]
pub struct HistoryRequest {
    /// Direction.
    pub direction: HistoryDirection,
    /// Anchor seq.
    pub anchor_seq: u64,
    /// Anchor message (wins over `anchor_seq`).
    pub anchor_message: Option<MessageId>,
    /// Page size.
    pub limit: u32,
}

/// Receipts of one message.
#[derive(Debug, Clone)]
pub struct Receipts {
    /// Read count.
    pub read: u32,
    /// Delivered count.
    pub delivered: u32,
    /// Recipients.
    pub recipients: u32,
    /// Readers (small conversations only).
    pub readers: Vec<UserId>,
}

/// Most ids per batch call.
const MAX_BATCH: usize = 200;
/// Longest alt text of an attachment, in characters.
const MAX_ALT_CHARS: usize = 1024;

impl Services {
    /// Checks the rules a plain membership does not carry before a post (the policy is
    /// `permissions::access`): a space channel's send (and mention-everyone for @all) from
    /// the layout; a thread's parent rules, and following the thread on first post. Other
    /// conversations are decided by membership alone, which the store checks in the append
    /// transaction.
    /// Returns a thread's parent and root.
    async fn gate_post(
        &self,
        p: &Principal,
        id: ConversationId,
        mentions_all: bool,
    ) -> ServiceResult<Option<(ConversationId, MessageId)>> {
        let fixed = self.fixed_of(id).await?;
        let kind = fixed.kind;
        if let Some((pair, starter)) = fixed.direct {
            self.check_direct(p, pair, starter).await?;
        }
        if !matches!(kind, ConversationKind::SpaceChannel | ConversationKind::Thread) {
            return Ok(None);
        }
        let conv = self.store().conversation(id).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        let access = self.access(p, &conv).await?;
        access.post?;
        if mentions_all && !access.mention_all {
            return Err(ServiceError::denied("you need the mention-everyone permission to mention @all"));
        }
        if conv.kind == ConversationKind::Thread && self.store().member(id, p.user_id).await?.is_none() {
            self.follow(p, id, true).await?;
        }
        Ok(conv.parent)
    }

    /// Checks that the caller may read a conversation; returns the seq their view starts at.
    pub(crate) async fn readable(&self, p: &Principal, id: ConversationId) -> ServiceResult<u64> {
        match self.store().entry(id, p.user_id).await? {
            Some(e) => {
                if matches!(e.conversation.kind, ConversationKind::SpaceChannel | ConversationKind::Thread) {
                    self.access(p, &e.conversation).await?;
                }
                Ok(e.member.visible_from_seq)
            }
            None => {
                let conv = self.store().conversation(id).await?;
                let conv = conv.filter(|c| c.kind == ConversationKind::Thread);
                let conv = conv.ok_or_else(|| ServiceError::not_found("conversation"))?;
                self.access(p, &conv).await?;
                Ok(0)
            }
        }
    }

    /// Sends a message; a retry with the same key returns the original (`true` = retry).
    pub async fn send_message(&self, p: &Principal, req: SendRequest) -> ServiceResult<(Message, bool)> {
        let online_only = req.online_only;
        let (new, thread_of) = self.prepare_send(p, req).await?;
        if online_only {
            return self.send_online_only(p, new).await.map(|m| (m, false));
        }
        let id = new.conversation_id;
        let appended = match self.store().append_message(new, self.now_ms()).await {
            // A non-member must not learn the conversation exists.
            Err(switchboard_store::StoreError::Denied(_)) if self.store().member(id, p.user_id).await?.is_none() => {
                return Err(ServiceError::not_found("conversation"));
            }
            other => other?,
        };
        self.finish_send(p, id, appended, thread_of).await
    }

    /// Validates a send and checks the rules outside the store's transaction; the message
    /// to append, and a thread's parent and root.
    pub(crate) async fn prepare_send(
        &self,
        p: &Principal,
        req: SendRequest,
    ) -> ServiceResult<(NewMessage, Option<(ConversationId, MessageId)>)> {
        let id = req.conversation_id.ok_or_else(|| ServiceError::invalid("conversation_id", "required"))?;
        let key = ClientKey::parse(&req.client_key)?.into_string();
        let metadata = parse_metadata(req.metadata)?;
        let max = self.config().max_message_chars;
        let attachments = self.check_attachments(p, req.attachments).await?;
        let text = match (req.text, attachments.is_empty()) {
            (text, true) => text.map(|(t, e)| MessageText::parse(&t, e, max)).transpose()?,
            (text, false) => {
                let (t, e) = text.unwrap_or_default();
                Some(MessageText::caption(&t, e, max)?)
            }
        };
        let forward = match req.forward_from {
            None => None,
            Some((from_conv, from_msg)) => {
                self.membership(p, from_conv).await?;
                let origin = self
                    .store()
                    .messages(from_conv, &[from_msg])
                    .await?
                    .pop()
                    .filter(|m| matches!(m.content, Content::Text { .. } | Content::Sticker(_)))
                    .ok_or_else(|| ServiceError::not_found("forwarded message"))?;
                Some(origin)
            }
        };
        if let Some(t) = &text {
            self.check_custom_emoji(id, &t.custom_emoji(), "entities").await?;
        }
        let sticker = match req.sticker {
            None => None,
            Some(_) if text.is_some() || forward.is_some() => {
                return Err(ServiceError::invalid(
                    "sticker_id",
                    "a sticker is sent alone (no text, attachments or forward)",
                ));
            }
            Some((pack, sticker)) => Some(self.sticker_for(p, id, pack, sticker).await?),
        };
        let (content, mentions, mentions_all) = match (sticker, &text, &forward) {
            (Some(s), _, _) => (Content::Sticker(s), Vec::new(), false),
            (None, Some(t), _) => (
                Content::Text { text: t.text().to_owned(), entities: t.entities().to_vec(), attachments },
                t.mentioned_users(),
                t.mentions_all(),
            ),
            (None, None, Some(origin)) => (origin.content.clone(), Vec::new(), false),
            (None, None, None) => {
                return Err(ServiceError::invalid("text", "a message needs text, attachments, a sticker or a forward"));
            }
        };
        let roles = text.as_ref().map(MessageText::mentioned_roles).unwrap_or_default();
        let mut mentions = mentions;
        if !roles.is_empty() {
            mentions.extend(self.role_mentions(p, id, &roles).await?);
            mentions.sort_unstable();
            mentions.dedup();
        }
        // Whoever blocked the sender is not notified by their mention.
        let mentions = self.without_blockers(p.user_id, mentions).await?;
        let new = NewMessage {
            conversation_id: id,
            sender_id: p.user_id,
            content,
            reply_to: req.reply_to,
            forward: forward.map(|o| ForwardInfo {
                conversation_id: o.conversation_id,
                message_id: o.id,
                sender_id: o.forward.as_ref().map_or(o.sender_id, |f| f.sender_id),
                sent_at_ms: o.forward.as_ref().map_or(o.created_at_ms, |f| f.sent_at_ms),
            }),
            metadata,
            client_key: Some(key),
            mentions,
            mentions_all,
            important: req.important,
            silent: req.silent,
            no_link_preview: req.no_link_preview,
        };
        let thread_of = self.gate_post(p, id, new.mentions_all).await?;
        Ok((new, thread_of))
    }

    /// After an append: the answer, and the events for a new message.
    pub(crate) async fn finish_send(
        &self,
        p: &Principal,
        id: ConversationId,
        appended: switchboard_store::Appended,
        thread_of: Option<(ConversationId, MessageId)>,
    ) -> ServiceResult<(Message, bool)> {
        if appended.event.conversation_id != id {
            return Err(ServiceError::new(
                switchboard_core::ErrorCode::AlreadyExists,
                "this client_key was already used for a message in another conversation",
            ));
        }
        let mut appended = appended;
        appended.event.message = self.with_files_one(appended.event.message).await?;
        let message = appended.event.message.clone();
        if !appended.duplicate {
            metrics::counter!("switchboard_messages_sent_total").increment(1);
            if let Some((parent, root)) = thread_of {
                let thread = ThreadSummary {
                    thread_id: id,
                    reply_count: appended.event.seq.saturating_sub(1).min(u64::from(u32::MAX)) as u32,
                    last_reply_at_ms: message.created_at_ms,
                };
                let activity = ThreadActivity { conversation_id: parent, root_message_id: root, thread };
                self.publish(Topic::Conversation(parent), Event::ThreadActivity(activity));
            }
            self.publish_conv(appended.event);
            self.queue_previews(p, &message);
        }
        Ok((message, appended.duplicate))
    }

    /// An online-only message: checked like any post, then published to the members
    /// connected now; no id, no seq, nothing stored or counted.
    async fn send_online_only(&self, p: &Principal, new: NewMessage) -> ServiceResult<Message> {
        let Content::Text { attachments, .. } = &new.content else {
            return Err(ServiceError::invalid("text", "online-only messages carry text"));
        };
        if !attachments.is_empty() || new.forward.is_some() || new.reply_to.is_some() {
            return Err(ServiceError::invalid(
                "online_only",
                "online-only messages carry text only (no attachments, forward or reply)",
            ));
        }
        let entry = self.membership(p, new.conversation_id).await?;
        switchboard_core::permissions::can_post(entry.conversation.kind, Some(&entry.member))?;
        if let Some(pair) = entry.conversation.direct_pair {
            self.check_direct(p, pair, entry.conversation.owner_id).await?;
        }
        switchboard_core::permissions::may_post_now(&entry.conversation, &entry.member, self.now_ms())?;
        let mut m = switchboard_store::stored_message(&new, MessageId::from_raw(0), 0, self.now_ms());
        m.client_key = new.client_key;
        metrics::counter!("switchboard_online_messages_total").increment(1);
        self.publish(Topic::Conversation(new.conversation_id), Event::OnlineMessage(m.clone()));
        Ok(m)
    }

    /// Checks attachments: at most the configured number, alt texts within bounds, each
    /// file readable by the sender (theirs, or one they can see elsewhere).
    async fn check_attachments(&self, p: &Principal, attachments: Vec<Attachment>) -> ServiceResult<Vec<Attachment>> {
        let max = self.config().files.max_attachments;
        if attachments.len() > max {
            return Err(ServiceError::invalid("attachments", format!("at most {max} attachments per message")));
        }
        let mut ids: Vec<_> = attachments.iter().map(|a| a.file_id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != attachments.len() {
            return Err(ServiceError::invalid("attachments", "a file is attached twice"));
        }
        let files = self.store().files(&ids).await?;
        for a in &attachments {
            if a.alt.chars().count() > MAX_ALT_CHARS {
                return Err(ServiceError::invalid(
                    "attachments",
                    format!("alt texts are at most {MAX_ALT_CHARS} characters"),
                ));
            }
            let file = files.iter().find(|f| f.id == a.file_id);
            let readable = match file {
                Some(f) => self.may_read(p, f).await?,
                None => false,
            };
            if !readable {
                return Err(ServiceError::not_found("file").field("attachments"));
            }
        }
        Ok(attachments.into_iter().map(|a| Attachment { file: None, ..a }).collect())
    }

    /// Edits one of the caller's text messages within the edit window.
    pub async fn edit_message(
        &self,
        p: &Principal,
        id: ConversationId,
        message_id: MessageId,
        text: String,
        entities: Vec<Entity>,
    ) -> ServiceResult<Message> {
        self.membership(p, id).await?;
        let m =
            self.store().messages(id, &[message_id]).await?.pop().ok_or_else(|| ServiceError::not_found("message"))?;
        let attachments = match &m.content {
            Content::Text { attachments, .. } => attachments.clone(),
            Content::Sticker(_) => {
                return Err(ServiceError::precondition("a sticker cannot be edited; delete it and send another")
                    .because("sticker_not_editable"));
            }
            _ => Vec::new(),
        };
        let max = self.config().max_message_chars;
        let text = if attachments.is_empty() {
            MessageText::parse(&text, entities, max)?
        } else {
            MessageText::caption(&text, entities, max)?
        };
        self.check_custom_emoji(id, &text.custom_emoji(), "entities").await?;
        if m.sender_id != p.user_id {
            return Err(ServiceError::denied("you can only edit your own messages"));
        }
        if m.is_deleted() {
            return Err(ServiceError::not_found("message"));
        }
        let window = self.config().edit_window_secs;
        if window > 0 && self.now_ms() - m.created_at_ms > (window * 1000) as i64 {
            return Err(
                ServiceError::precondition("the edit window for this message has closed").because("edit_window_closed")
            );
        }
        let mentions = (text.mentioned_users(), text.mentions_all());
        let (t, e) = text.into_parts();
        let ev = self
            .store()
            .edit_message(id, message_id, Content::Text { text: t, entities: e, attachments }, mentions, self.now_ms())
            .await?;
        let mut ev = ev;
        ev.message = self.with_files_one(ev.message).await?;
        let message = ev.message.clone();
        self.publish_conv(ev);
        self.queue_previews(p, &message);
        Ok(message)
    }

    /// Deletes messages for everyone or hides them for the caller.
    pub async fn delete_messages(
        &self,
        p: &Principal,
        id: ConversationId,
        ids: Vec<MessageId>,
        for_everyone: bool,
    ) -> ServiceResult<()> {
        let conv = self.store().conversation(id).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        let access = self.access(p, &conv).await?;
        self.membership(p, id).await?;
        if ids.is_empty() || ids.len() > 100 {
            return Err(ServiceError::invalid("message_ids", "give 1-100 ids"));
        }
        let found = self.store().messages(id, &ids).await?;
        if found.len() != ids.len() {
            return Err(ServiceError::not_found("message"));
        }
        if !for_everyone {
            let ev = self.store().hide_messages(id, p.user_id, &ids, self.now_ms()).await?;
            self.publish_user(ev);
            return Ok(());
        }
        for m in &found {
            if m.sender_id != p.user_id && !access.moderate {
                return Err(ServiceError::denied("you need the right to delete others' messages"));
            }
            if matches!(m.content, Content::Service(_)) {
                return Err(ServiceError::precondition("service messages cannot be deleted for everyone")
                    .because("service_message"));
            }
        }
        for ev in self.store().delete_messages(id, &ids, p.user_id, self.now_ms()).await? {
            self.publish_conv(ev);
        }
        Ok(())
    }

    /// Hides the current history from the caller.
    pub async fn clear_history(&self, p: &Principal, id: ConversationId) -> ServiceResult<u64> {
        self.membership(p, id).await?;
        let (from, ev) = self.store().clear_history(id, p.user_id, self.now_ms()).await?;
        self.publish_user(ev);
        Ok(from)
    }

    /// A page of history.
    pub async fn history(
        &self,
        p: &Principal,
        id: ConversationId,
        req: HistoryRequest,
    ) -> ServiceResult<(Vec<Message>, bool)> {
        self.readable(p, id).await?;
        let anchor = match req.anchor_message {
            Some(mid) => {
                self.store()
                    .messages(id, &[mid])
                    .await?
                    .pop()
                    .ok_or_else(|| ServiceError::not_found("anchor message"))?
                    .seq
            }
            None => req.anchor_seq,
        };
        let limit = if req.limit == 0 { 50 } else { req.limit.min(200) };
        let (mut page, more) = self.store().history(id, p.user_id, req.direction, anchor, limit).await?;
        self.with_files(&mut page).await?;
        Ok((page, more))
    }

    /// Messages by id.
    pub async fn get_messages(
        &self,
        p: &Principal,
        id: ConversationId,
        ids: &[MessageId],
    ) -> ServiceResult<Vec<Message>> {
        let from = self.readable(p, id).await?;
        if ids.len() > MAX_BATCH {
            return Err(ServiceError::invalid("message_ids", format!("at most {MAX_BATCH} ids")));
        }
        let messages =
            self.store().messages_seen_by(id, ids, p.user_id).await?.into_iter().filter(|m| m.seq >= from).collect();
        let mut messages = self.with_threads(id, messages).await?;
        self.with_files(&mut messages).await?;
        Ok(messages)
    }

    fn publish_receipt(&self, member_count: u32, receipt: Receipt) {
        if member_count <= self.config().receipt_detail_max_members {
            self.publish(Topic::Conversation(receipt.conversation_id), Event::Receipt(receipt));
        }
    }

    /// Moves the read watermark; returns it and the unread count left.
    pub async fn mark_read(&self, p: &Principal, id: ConversationId, seq: u64) -> ServiceResult<(u64, u32)> {
        let entry = self.membership(p, id).await?;
        let cap = self.config().counter_cap;
        let (member, ev) = self.store().mark_read(id, p.user_id, seq, cap, self.now_ms()).await?;
        let counted = match &ev {
            Some(UserEvent { kind: UserEventKind::ReadStateChanged { counts: Some(c), .. }, .. }) => Some(c.unread),
            _ => None,
        };
        if let Some(ev) = ev {
            self.publish_user(ev);
            self.publish_receipt(entry.conversation.member_count, Receipt::of(&member));
        }
        let unread = match counted {
            Some(n) => n,
            None => self.store().counters(id, p.user_id, member.read_seq, cap).await?.0,
        };
        Ok((member.read_seq, unread))
    }

    /// Moves the delivered watermark.
    pub async fn mark_delivered(&self, p: &Principal, id: ConversationId, seq: u64) -> ServiceResult<u64> {
        let entry = self.membership(p, id).await?;
        let member = self.store().mark_delivered(id, p.user_id, seq).await?;
        if member.delivered_seq > entry.member.delivered_seq {
            self.publish_receipt(entry.conversation.member_count, Receipt::of(&member));
        }
        Ok(member.delivered_seq)
    }

    /// Read and delivery counts of a message.
    pub async fn receipts(&self, p: &Principal, id: ConversationId, message_id: MessageId) -> ServiceResult<Receipts> {
        let entry = self.membership(p, id).await?;
        let m =
            self.store().messages(id, &[message_id]).await?.pop().ok_or_else(|| ServiceError::not_found("message"))?;
        let detail = entry.conversation.member_count <= self.config().receipt_detail_max_members;
        let r = self.store().receipts(id, &m, detail).await?;
        Ok(Receipts { read: r.read, delivered: r.delivered, recipients: r.recipients, readers: r.readers })
    }
}
