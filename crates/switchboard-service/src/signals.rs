//! Ephemeral signals: typing and presence. Nothing here is stored.

use switchboard_bus::Topic;
use switchboard_core::event::{Event, Presence, PresenceStatus, Typing};
use switchboard_core::privacy::PrivacySetting;
use switchboard_core::{ConversationId, UserId};

use crate::hub::presence::WatchError;
use crate::{Principal, ServiceError, ServiceResult, Services};

impl Services {
    /// Tells the conversation the caller started or stopped typing.
    pub async fn set_typing(&self, p: &Principal, id: ConversationId, typing: bool) -> ServiceResult<()> {
        self.membership(p, id).await?;
        let expires_at_ms = if typing { self.now_ms() + self.config().typing_ttl_ms as i64 } else { self.now_ms() };
        self.hub().record_typing(p.session_id, id, typing, expires_at_ms);
        let t = Typing { conversation_id: id, user_id: p.user_id, typing, expires_at_ms };
        self.publish(Topic::Conversation(id), Event::Typing(t));
        Ok(())
    }

    /// Sets the caller's explicit status (online or away).
    pub fn set_presence(&self, p: &Principal, status: PresenceStatus) -> ServiceResult<()> {
        if status == PresenceStatus::Offline {
            return Err(ServiceError::invalid("status", "offline follows from closing every connection"));
        }
        if !self.hub().set_status(p.user_id, status) {
            return Err(
                ServiceError::precondition("open an event stream before setting presence").because("no_event_stream")
            );
        }
        Ok(())
    }

    /// Subscribes the calling session to users' presence. Those whose presence setting
    /// keeps the caller out (or who blocked them) show as offline, never seen, and are not
    /// followed.
    pub async fn subscribe_presence(&self, p: &Principal, users: &[UserId]) -> ServiceResult<Vec<Presence>> {
        if users.is_empty() || users.len() > 500 {
            return Err(ServiceError::invalid("user_ids", "give 1-500 users"));
        }
        let blockers = self.refusing(p.user_id, users, PrivacySetting::Presence).await?;
        let followed: Vec<UserId> = users.iter().copied().filter(|u| !blockers.contains(u)).collect();
        let max = self.config().max_presence_subscriptions;
        let mut out = if followed.is_empty() { Vec::new() } else { self.watch_presence(p, &followed, max)? };
        out.extend(blockers.into_iter().map(|user_id| Presence {
            user_id,
            status: PresenceStatus::Offline,
            last_seen_at_ms: 0,
        }));
        Ok(out)
    }

    fn watch_presence(&self, p: &Principal, users: &[UserId], max: usize) -> ServiceResult<Vec<Presence>> {
        self.hub().watch(p.session_id, users, max).map_err(|e| match e {
            WatchError::NoConnection => {
                ServiceError::precondition("open an event stream before subscribing to presence")
                    .because("no_event_stream")
            }
            WatchError::TooMany => {
                ServiceError::exhausted(format!("at most {max} presence subscriptions per session"), 0)
                    .because("too_many_presence_subscriptions")
            }
        })
    }

    /// Ends presence subscriptions of the calling session.
    pub fn unsubscribe_presence(&self, p: &Principal, users: &[UserId]) {
        self.hub().unwatch(p.session_id, users);
    }
}
