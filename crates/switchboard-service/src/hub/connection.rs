//! One live connection: its registration guard, its close signal and its event stream.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use switchboard_core::event::{Event, SessionEndReason};
use tokio::sync::{mpsc, watch};

use super::Hub;
use crate::{Principal, ServiceError};

/// Why the server closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client fell too far behind; reconnect and catch up.
    SlowConsumer,
    /// The session ended.
    SessionEnded(SessionEndReason),
    /// The server is shutting down; reconnect elsewhere or later.
    Shutdown,
    /// The access token the connection was opened with expired; refresh and reconnect.
    TokenExpired,
}

impl CloseReason {
    /// A short machine-readable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SlowConsumer => "slow_consumer",
            Self::SessionEnded(_) => "session_ended",
            Self::Shutdown => "server_shutdown",
            Self::TokenExpired => "token_expired",
        }
    }
}

/// Wire formats an event may be encoded in (the transports number them).
pub const FORMATS: usize = 4;

/// An event shared by every connection it is delivered to, with one lazily filled slot
/// per wire format so that each format is encoded once, and once more for the sender's
/// own devices where they see more than everyone else (a message's client key).
#[derive(Debug)]
pub struct SharedEvent {
    /// The event.
    pub event: Arc<Event>,
    encoded: [OnceLock<Bytes>; 2 * FORMATS],
}

impl SharedEvent {
    /// Wraps an event.
    pub fn new(event: Arc<Event>) -> Self {
        Self { event, encoded: Default::default() }
    }

    /// Whether `viewer` sees this event differently from other members: they sent the
    /// message it carries with a client key, which only the sender's devices are shown.
    pub fn personal_for(&self, viewer: switchboard_core::UserId) -> bool {
        match self.event.as_ref() {
            Event::Conversation(ev) => ev.message.sender_id == viewer && ev.message.client_key.is_some(),
            Event::OnlineMessage(m) => m.sender_id == viewer && m.client_key.is_some(),
            _ => false,
        }
    }

    /// The event in wire format `slot` (below [`FORMATS`], chosen by the transports) for
    /// `viewer`, encoding it with `encode` the first time for that format and audience.
    pub fn encoded(
        &self,
        slot: usize,
        viewer: switchboard_core::UserId,
        encode: impl FnOnce(&Event) -> Bytes,
    ) -> Bytes {
        let slot = slot.min(FORMATS - 1) + if self.personal_for(viewer) { FORMATS } else { 0 };
        self.encoded[slot].get_or_init(|| encode(&self.event)).clone()
    }
}

/// What the hub queues for a subscribed connection.
#[derive(Debug, Clone)]
pub(crate) enum Live {
    /// An event to forward (after the subscription's dedupe and gap checks).
    Event(Arc<SharedEvent>),
    /// The bus may have lost events of this topic (or of all, for `None`): re-read the store.
    Resync(Option<switchboard_bus::Topic>),
}

/// What an event stream yields.
#[derive(Debug, Clone)]
pub enum StreamItem {
    /// An event to send.
    Event(Arc<SharedEvent>),
    /// Send nothing more; close with this reason.
    Close(CloseReason),
}

/// The events of a subscribed connection, in order.
pub struct EventStream {
    pub(crate) rx: mpsc::Receiver<StreamItem>,
}

impl EventStream {
    /// The next item; `None` when the stream ended.
    pub async fn next(&mut self) -> Option<StreamItem> {
        self.rx.recv().await
    }
}

/// A registered live connection. Dropping it unregisters it (presence, typing, follows).
pub struct Connection {
    pub(crate) id: u64,
    pub(crate) principal: Principal,
    pub(crate) hub: Arc<Hub>,
    close: watch::Receiver<Option<CloseReason>>,
}

impl Connection {
    /// Registers a connection of `principal` on `hub`; resource_exhausted when the user or
    /// the session already holds as many as the configured caps allow on this node.
    pub fn open(hub: Arc<Hub>, principal: Principal) -> Result<Self, ServiceError> {
        let (tx, rx) = watch::channel(None);
        let (id, delta, interest) = {
            let mut state = hub.lock();
            let (user, session) = state.counts(principal.user_id, principal.session_id);
            for (held, cap, label, whose) in
                [(user, hub.caps.per_user, "user", "account"), (session, hub.caps.per_session, "session", "session")]
            {
                if cap > 0 && held >= cap {
                    metrics::counter!("switchboard_connections_refused_total", "cap" => label).increment(1);
                    let message = format!("this {whose} already has {held} live connections here (the limit)");
                    return Err(ServiceError::exhausted(message, 5000).because("too_many_connections"));
                }
            }
            state.add_connection(principal, tx)
        };
        hub.flush(Vec::new(), interest);
        hub.report(delta);
        metrics::gauge!("switchboard_connections").increment(1.0);
        Ok(Self { id, principal, hub, close: rx })
    }

    /// The authenticated caller.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Resolves when the server decides to close this connection, with the reason (at the
    /// latest shortly after the access token it was opened with expires: the hub's
    /// heartbeat closes those).
    pub async fn closed(&mut self) -> CloseReason {
        loop {
            if let Some(reason) = *self.close.borrow_and_update() {
                return reason;
            }
            if self.close.changed().await.is_err() {
                return CloseReason::Shutdown;
            }
        }
    }

    pub(crate) fn attach(&self, tx: mpsc::Sender<Live>, conversations: Vec<switchboard_core::ConversationId>) {
        let interest = self.hub.lock().attach(self.id, tx, conversations);
        self.hub.flush(Vec::new(), interest);
    }

    pub(crate) fn queue(&self) -> usize {
        self.hub.queue
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let (out, interest, delta) = self.hub.lock().remove_connection(self.id);
        self.hub.flush(out, interest);
        self.hub.report(delta);
        metrics::gauge!("switchboard_connections").decrement(1.0);
    }
}
