//! Reactions, pins and saved messages.

use switchboard_core::model::{ConversationKind, Message, Pin, Reactor, SavedMessage};
use switchboard_core::permissions::Access;
use switchboard_core::values::ReactionEmoji;
use switchboard_core::{ConversationId, CustomEmojiId, MessageId, UserId};
use switchboard_store::{Reacted, ReactionChange};

use crate::conversations::parse_cursor;
use crate::{Principal, ServiceError, ServiceResult, Services};

/// Most entries of one page of reactors or pins.
const MAX_PAGE: u32 = 100;

fn page_size(limit: u32) -> u32 {
    if limit == 0 { 50 } else { limit.min(MAX_PAGE) }
}

impl Services {
    /// What the caller may do in a conversation they can read, and the seq their view
    /// starts at; `not_found` when they cannot read it.
    async fn standing(&self, p: &Principal, id: ConversationId) -> ServiceResult<(Access, u64)> {
        let from = self.readable(p, id).await?;
        let conv = self.store().conversation(id).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        let access = match conv.kind {
            ConversationKind::SpaceChannel | ConversationKind::Thread => self.access(p, &conv).await?,
            _ => {
                let member = self.store().member(id, p.user_id).await?;
                switchboard_core::permissions::access(
                    conv.kind,
                    switchboard_core::permissions::Standing::Member(member.as_ref()),
                )
                .map_err(|_| ServiceError::not_found("conversation"))?
            }
        };
        Ok((access, from))
    }

    /// A message of the conversation the caller can see.
    async fn visible_message(
        &self,
        p: &Principal,
        id: ConversationId,
        from: u64,
        message_id: MessageId,
    ) -> ServiceResult<Message> {
        let m = self.store().messages_seen_by(id, &[message_id], p.user_id).await?.pop();
        m.filter(|m| m.seq >= from && !m.is_deleted()).ok_or_else(|| ServiceError::not_found("message"))
    }

    /// Adds (`add`) or takes back the caller's reaction; returns the message as the caller
    /// sees it now.
    pub async fn react(
        &self,
        p: &Principal,
        id: ConversationId,
        message_id: MessageId,
        emoji: &str,
        custom: Option<CustomEmojiId>,
        add: bool,
    ) -> ServiceResult<Message> {
        let emoji = ReactionEmoji::either(emoji, custom)?;
        let (access, from) = self.standing(p, id).await?;
        access.react?;
        self.visible_message(p, id, from, message_id).await?;
        // Taking back a reaction with an emoji since removed from the space still works.
        if add && let Some(custom) = emoji.custom_id() {
            self.check_custom_emoji(id, &[custom], "custom_emoji_id").await?;
        }
        let max = self.config().max_reactions_per_message;
        let change = ReactionChange { user: p.user_id, emoji: emoji.into_string(), add };
        match self.store().react(id, message_id, change, max, self.now_ms()).await {
            Ok(Reacted::Changed(ev)) => {
                metrics::counter!("switchboard_reactions_total").increment(1);
                self.publish_conv(*ev);
            }
            Ok(Reacted::Unchanged) => {}
            Ok(Reacted::LimitReached) => {
                return Err(ServiceError::precondition(format!(
                    "a message takes at most {max} different reactions; use one already there"
                ))
                .because("reaction_limit"));
            }
            Err(switchboard_store::StoreError::FailedPrecondition(m)) => {
                return Err(ServiceError::precondition(m).because("service_message"));
            }
            Err(e) => return Err(e.into()),
        }
        let mut m = self.visible_message(p, id, from, message_id).await?;
        self.with_files(std::slice::from_mut(&mut m)).await?;
        Ok(m)
    }

    /// Who reacted to a message (with one emoji or custom emoji, or any), oldest first,
    /// after the cursor.
    pub async fn reactors(
        &self,
        p: &Principal,
        id: ConversationId,
        message_id: MessageId,
        (emoji, custom): (&str, Option<CustomEmojiId>),
        cursor: &str,
        limit: u32,
    ) -> ServiceResult<(Vec<Reactor>, Option<String>)> {
        let after = parse_cursor(cursor)?.map(|(at, u)| (at, UserId::from_raw(u)));
        let emoji = if emoji.is_empty() && custom.is_none() {
            None
        } else {
            Some(ReactionEmoji::either(emoji, custom)?.into_string())
        };
        let (_, from) = self.standing(p, id).await?;
        self.visible_message(p, id, from, message_id).await?;
        let limit = page_size(limit);
        let mut out = self.store().reactors(message_id, emoji, after, limit + 1).await?;
        let more = out.len() > limit as usize;
        out.truncate(limit as usize);
        let next = more.then(|| out.last().map(|r| format!("{}.{}", r.at_ms, r.user_id))).flatten();
        Ok((out, next))
    }

    /// Pins or unpins a message; the service message that records it, if anything changed.
    pub async fn set_pin(
        &self,
        p: &Principal,
        id: ConversationId,
        message_id: MessageId,
        pin: bool,
    ) -> ServiceResult<Option<Message>> {
        let (access, from) = self.standing(p, id).await?;
        if !access.pin {
            return Err(ServiceError::denied(
                "you need the pin right (groups and channels) or manage-messages (spaces) to pin",
            ));
        }
        self.visible_message(p, id, from, message_id).await?;
        match self.store().set_pin(id, message_id, p.user_id, pin, self.now_ms()).await {
            Ok(Some(ev)) => {
                let m = ev.message.clone();
                self.publish_conv(ev);
                Ok(Some(m))
            }
            Ok(None) => Ok(None),
            Err(switchboard_store::StoreError::FailedPrecondition(m)) => {
                Err(ServiceError::precondition(m).because("service_message"))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The pinned messages the caller can see, latest pin first, before the cursor.
    pub async fn pins(
        &self,
        p: &Principal,
        id: ConversationId,
        cursor: &str,
        limit: u32,
    ) -> ServiceResult<(Vec<Pin>, Option<String>)> {
        let before = parse_cursor(cursor)?.map(|(at, m)| (at, MessageId::from_raw(m)));
        let (_, from) = self.standing(p, id).await?;
        let (mut pins, more) = self.store().pins(id, p.user_id, before, page_size(limit)).await?;
        pins.retain(|pin| pin.message.seq >= from);
        let mut messages: Vec<Message> = pins.iter().map(|pin| pin.message.clone()).collect();
        self.with_files(&mut messages).await?;
        for (pin, m) in pins.iter_mut().zip(messages) {
            pin.message = m;
        }
        let next = more.then(|| pins.last().map(|p| format!("{}.{}", p.pinned_at_ms, p.message.id))).flatten();
        Ok((pins, next))
    }

    /// Saves a message the caller can see to their saved messages (`saved`), or takes it
    /// off; their devices hear of it through their log.
    pub async fn set_saved(
        &self,
        p: &Principal,
        id: ConversationId,
        message_id: MessageId,
        saved: bool,
    ) -> ServiceResult<()> {
        if saved {
            let (_, from) = self.standing(p, id).await?;
            self.visible_message(p, id, from, message_id).await?;
        }
        if let Some(ev) = self.store().set_saved(p.user_id, id, message_id, saved, self.now_ms()).await? {
            self.publish_user(ev);
        }
        Ok(())
    }

    /// The caller's saved messages, latest saved first, before the cursor; those in space
    /// channels they may no longer view are left out.
    pub async fn saved_messages(
        &self,
        p: &Principal,
        cursor: &str,
        limit: u32,
    ) -> ServiceResult<(Vec<SavedMessage>, Option<String>)> {
        let before = parse_cursor(cursor)?.map(|(at, m)| (at, MessageId::from_raw(m)));
        let (page, more) = self.store().saved_messages(p.user_id, before, page_size(limit)).await?;
        let next = more.then(|| page.last().map(|s| format!("{}.{}", s.saved_at_ms, s.message.id))).flatten();
        let mut out = Vec::with_capacity(page.len());
        for s in page {
            let kind = self.kind_of(s.message.conversation_id).await?;
            if matches!(kind, ConversationKind::SpaceChannel | ConversationKind::Thread)
                && self.readable(p, s.message.conversation_id).await.is_err()
            {
                continue;
            }
            out.push(s);
        }
        let mut messages: Vec<Message> = out.iter().map(|s| s.message.clone()).collect();
        self.with_files(&mut messages).await?;
        for (s, m) in out.iter_mut().zip(messages) {
            s.message = m;
        }
        Ok((out, next))
    }
}
