//! Scheduled messages: kept by the store until their time, then delivered by whichever
//! node claims them, exactly once, as ordinary messages (the same checks as a send, at the
//! time of delivery).

use std::collections::BTreeMap;
use std::time::Duration;

use switchboard_core::model::{Content, Entity, Message};
use switchboard_core::values::{ClientKey, MessageText, parse_metadata};
use switchboard_core::{ConversationId, ErrorCode, MessageId, SessionId};
use switchboard_store::{Scheduled, ScheduledPatch};

use crate::messages::SendRequest;
use crate::{Principal, ServiceError, ServiceResult, Services};

/// How far ahead a message may be scheduled.
const MAX_AHEAD_MS: i64 = 366 * 24 * 3600 * 1000;
/// How long a node holds the schedules it claimed before another may take them.
const LEASE_MS: i64 = 30_000;
/// Schedules claimed per round.
const CLAIM_BATCH: u32 = 100;

/// A message to schedule.
#[derive(Debug, Clone, Default)]
pub struct ScheduleRequest {
    /// The conversation.
    pub conversation_id: Option<ConversationId>,
    /// Idempotency key (the delivered message carries it).
    pub client_key: String,
    /// Text and entities.
    pub text: Option<(String, Vec<Entity>)>,
    /// Replied-to message.
    pub reply_to: Option<MessageId>,
    /// Client metadata.
    pub metadata: BTreeMap<String, String>,
    /// Marked important.
    pub important: bool,
    /// Notifies nobody.
    pub silent: bool,
    /// No link previews when it goes out.
    pub no_link_preview: bool,
    /// When to send, ms since the epoch.
    pub send_at_ms: i64,
}

impl Services {
    fn check_time(&self, at: i64) -> ServiceResult<i64> {
        let now = self.now_ms();
        if at <= now {
            return Err(ServiceError::invalid("send_at_ms", "must be in the future"));
        }
        if at - now > MAX_AHEAD_MS {
            return Err(ServiceError::invalid("send_at_ms", "at most 366 days ahead"));
        }
        Ok(at)
    }

    /// Keeps a message to send at its time; a retry with the same key returns the original.
    pub async fn schedule_message(&self, p: &Principal, req: ScheduleRequest) -> ServiceResult<Scheduled> {
        let id = req.conversation_id.ok_or_else(|| ServiceError::invalid("conversation_id", "required"))?;
        let client_key = ClientKey::parse(&req.client_key)?.into_string();
        let at = self.check_time(req.send_at_ms)?;
        let (text, entities) =
            req.text.ok_or_else(|| ServiceError::invalid("text", "a scheduled message needs text"))?;
        let text = MessageText::parse(&text, entities, self.config().max_message_chars)?;
        let metadata = parse_metadata(req.metadata)?;
        // Who may post now may schedule; the rules are checked again when it goes out.
        let entry = self.membership(p, id).await?;
        switchboard_core::permissions::can_post(entry.conversation.kind, Some(&entry.member))?;
        if matches!(
            entry.conversation.kind,
            switchboard_core::model::ConversationKind::SpaceChannel | switchboard_core::model::ConversationKind::Thread
        ) {
            self.access(p, &entry.conversation).await?.post?;
        }
        self.check_custom_emoji(id, &text.custom_emoji(), "entities").await?;
        let (t, e) = text.into_parts();
        let s = Scheduled {
            id: 0,
            sender_id: p.user_id,
            conversation_id: id,
            send_at_ms: at,
            content: Content::Text { text: t, entities: e, attachments: Vec::new() },
            reply_to: req.reply_to,
            metadata,
            important: req.important,
            silent: req.silent,
            no_link_preview: req.no_link_preview,
            client_key,
            created_at_ms: self.now_ms(),
            failed: None,
        };
        let max = self.config().max_scheduled_per_user;
        match self.store().schedule(&s, max).await {
            Err(switchboard_store::StoreError::FailedPrecondition(m)) => {
                Err(ServiceError::precondition(m).because("limit_reached"))
            }
            other => Ok(other?),
        }
    }

    /// The caller's scheduled messages, soonest first.
    pub async fn scheduled_messages(
        &self,
        p: &Principal,
        conversation: Option<ConversationId>,
    ) -> ServiceResult<Vec<Scheduled>> {
        Ok(self.store().scheduled_of(p.user_id, conversation).await?)
    }

    /// Changes a scheduled message's text or time (either may be left as it is).
    pub async fn update_scheduled(
        &self,
        p: &Principal,
        id: i64,
        text: Option<(String, Vec<Entity>)>,
        send_at_ms: Option<i64>,
    ) -> ServiceResult<Scheduled> {
        let content = match text {
            Some((t, e)) => {
                let (t, e) = MessageText::parse(&t, e, self.config().max_message_chars)?.into_parts();
                Some(Content::Text { text: t, entities: e, attachments: Vec::new() })
            }
            None => None,
        };
        let send_at_ms = send_at_ms.map(|at| self.check_time(at)).transpose()?;
        Ok(self.store().update_scheduled(p.user_id, id, ScheduledPatch { content, send_at_ms }).await?)
    }

    /// Drops a scheduled message.
    pub async fn cancel_scheduled(&self, p: &Principal, id: i64) -> ServiceResult<()> {
        if self.store().cancel_scheduled(p.user_id, id).await? {
            Ok(())
        } else {
            Err(ServiceError::not_found("scheduled message"))
        }
    }

    /// Sends a scheduled message now; returns the message.
    pub async fn send_scheduled_now(&self, p: &Principal, id: i64) -> ServiceResult<Message> {
        let s =
            self.store().scheduled(p.user_id, id).await?.ok_or_else(|| ServiceError::not_found("scheduled message"))?;
        match self.deliver(&s, p).await? {
            Some(m) => Ok(m),
            None => Err(ServiceError::not_found("scheduled message")),
        }
    }

    /// Delivers one schedule as its sender; `None` when another delivery took it first.
    async fn deliver(&self, s: &Scheduled, p: &Principal) -> ServiceResult<Option<Message>> {
        let (text, entities) = match &s.content {
            Content::Text { text, entities, .. } => (text.clone(), entities.clone()),
            _ => return Err(ServiceError::internal("a scheduled message holds text")),
        };
        let req = SendRequest {
            conversation_id: Some(s.conversation_id),
            client_key: s.client_key.clone(),
            text: Some((text, entities)),
            reply_to: s.reply_to,
            metadata: s.metadata.clone(),
            important: s.important,
            silent: s.silent,
            no_link_preview: s.no_link_preview,
            ..Default::default()
        };
        let (new, thread_of) = self.prepare_send(p, req).await?;
        match self.store().deliver_scheduled(s.id, new, self.now_ms()).await? {
            Some(appended) => Ok(Some(self.finish_send(p, s.conversation_id, appended, thread_of).await?.0)),
            None => Ok(None),
        }
    }

    /// Delivers what is due now; returns how many went out.
    pub async fn deliver_due(&self) -> ServiceResult<usize> {
        let due = self.store().claim_due(self.now_ms(), LEASE_MS, CLAIM_BATCH).await?;
        let mut sent = 0;
        for s in due {
            let sender = self.store().user(s.sender_id).await?;
            let p = Principal {
                user_id: s.sender_id,
                session_id: SessionId::from_raw(0),
                bot: sender.as_ref().is_some_and(|u| u.bot),
                admin: sender.as_ref().is_some_and(|u| u.admin),
                access_expires_at_ms: i64::MAX,
            };
            match self.deliver(&s, &p).await {
                Ok(Some(_)) => sent += 1,
                Ok(None) => {}
                // Refused by the rules at delivery time: kept, with the reason, for the
                // sender to change or cancel.
                Err(e)
                    if matches!(
                        e.code,
                        ErrorCode::InvalidArgument
                            | ErrorCode::PermissionDenied
                            | ErrorCode::NotFound
                            | ErrorCode::FailedPrecondition
                            | ErrorCode::AlreadyExists
                    ) =>
                {
                    tracing::info!(schedule = s.id, error = %e, "scheduled message refused at delivery");
                    self.store().fail_scheduled(s.id, e.message.clone()).await?;
                }
                Err(e) => tracing::warn!(schedule = s.id, error = %e, "scheduled message not delivered; retried later"),
            }
        }
        Ok(sent)
    }

    /// Delivers due schedules at start-up and then every `scheduled_poll_ms`; stops when the
    /// services are dropped.
    pub(crate) fn start_scheduler(&self) {
        if self.config().scheduled_poll_ms == 0 {
            return;
        }
        let every = Duration::from_millis(self.config().scheduled_poll_ms.max(50));
        let weak = std::sync::Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let services = Services { inner };
                if let Err(e) = services.deliver_due().await {
                    tracing::warn!(error = %e, "scheduled messages: delivery round failed");
                }
            }
        });
    }
}
