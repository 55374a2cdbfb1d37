//! Event fan-out between nodes.
//!
//! The service publishes each event once, on the topic of the conversation or user it
//! belongs to. A bus carries it to every node with local interest in that topic, where the
//! node's hub hands it to the right connections. The in-process bus (one node) delivers
//! straight to the local handler; a networked bus (NATS, cluster mode) implements the same
//! trait and subscribes only to the topics its node declared interest in.

mod nats;

pub use nats::{FORMAT, FORMAT_HEADER, NatsBus, NatsBusError};

use std::sync::{Arc, OnceLock, Weak};

use switchboard_core::event::{Event, PresenceStatus};
use switchboard_core::{ConversationId, UserId};

/// Where an event is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Everyone following a conversation: its members' connections.
    Conversation(ConversationId),
    /// One user's connections.
    User(UserId),
    /// Every node (rare, small events whose audience each node works out itself).
    Broadcast,
}

/// One node's report of the presence of its locally connected users. Nodes send a
/// change as it happens (`full: false`) and everything every heartbeat (`full: true`);
/// a node that stops reporting is presumed dead and its users offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceReport {
    /// The reporting node (random per process).
    pub node: u64,
    /// True when `users` is the node's complete list.
    pub full: bool,
    /// Users and their status on that node; `None` = no longer connected there.
    pub users: Vec<(UserId, Option<PresenceStatus>)>,
    /// Users whose presence audience may have shrunk (a block, a privacy setting, a
    /// contact removed): every node checks again who of its sessions may still follow
    /// them.
    pub revoked: Vec<UserId>,
}

impl switchboard_format::Stored for PresenceReport {
    const WHAT: &'static str = "presence report";
    type V1 = switchboard_format::v1::PresenceReport;

    fn to_v1(&self) -> Self::V1 {
        Self::V1 {
            node: self.node,
            full: self.full,
            users: self.users.iter().map(|(u, s)| (u.raw(), s.map(Into::into))).collect(),
            revoked: self.revoked.iter().map(|u| u.raw()).collect(),
        }
    }

    fn from_v1(v: Self::V1) -> Self {
        Self {
            node: v.node,
            full: v.full,
            users: v.users.into_iter().map(|(u, s)| (UserId::from_raw(u), s.map(Into::into))).collect(),
            revoked: v.revoked.into_iter().map(UserId::from_raw).collect(),
        }
    }
}

/// One published event. The event sits behind an `Arc` so that a fan-out shares it.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The topic.
    pub topic: Topic,
    /// The event.
    pub event: Arc<Event>,
}

/// Receives what the bus delivers on this node (the hub).
pub trait BusHandler: Send + Sync {
    /// Delivers one envelope; must not block.
    fn deliver(&self, envelope: Envelope);
    /// The bus may have missed envelopes for `topic` (or for every topic, when `None`):
    /// readers should re-read the store. Called after a reconnect and once a new
    /// subscription is in place.
    fn resync(&self, topic: Option<Topic>);
    /// Another node reported presence.
    fn presence_reported(&self, report: PresenceReport);
}

/// Publishes events to every interested node.
pub trait Bus: Send + Sync {
    /// Publishes an envelope.
    fn publish(&self, envelope: Envelope);
    /// Declares whether this node has local interest in a topic.
    fn set_interest(&self, topic: Topic, interested: bool);
    /// Attaches the local handler; called once at start-up.
    fn attach(&self, handler: Weak<dyn BusHandler>);
    /// True while the bus can deliver.
    fn is_ready(&self) -> bool;
    /// Sends this node's presence report to the other nodes.
    fn report_presence(&self, report: PresenceReport);
}

/// The single-node bus: publishing is delivering to the local handler.
#[derive(Default)]
pub struct LocalBus {
    handler: OnceLock<Weak<dyn BusHandler>>,
}

impl LocalBus {
    /// A bus with no handler attached yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Bus for LocalBus {
    fn publish(&self, envelope: Envelope) {
        if let Some(handler) = self.handler.get().and_then(Weak::upgrade) {
            handler.deliver(envelope);
        }
    }

    fn set_interest(&self, _topic: Topic, _interested: bool) {}

    fn attach(&self, handler: Weak<dyn BusHandler>) {
        // A second attach is a start-up bug; the first handler stays.
        let _ = self.handler.set(handler);
    }

    fn is_ready(&self) -> bool {
        true
    }

    /// A single node has no one to tell.
    fn report_presence(&self, _report: PresenceReport) {}
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Topic>>);

    impl BusHandler for Recorder {
        fn deliver(&self, envelope: Envelope) {
            self.0.lock().unwrap().push(envelope.topic);
        }

        fn resync(&self, _topic: Option<Topic>) {}

        fn presence_reported(&self, _report: PresenceReport) {}
    }

    #[test]
    fn the_local_bus_delivers_to_its_handler_while_it_lives() {
        let bus = LocalBus::new();
        let rec = Arc::new(Recorder::default());
        let as_handler: Arc<dyn BusHandler> = rec.clone();
        bus.attach(Arc::downgrade(&as_handler));
        let ev = Arc::new(Event::CaughtUp { user_seq: 1 });
        bus.publish(Envelope { topic: Topic::User(UserId::from_raw(1)), event: ev.clone() });
        assert_eq!(rec.0.lock().unwrap().len(), 1);
        drop(as_handler);
        drop(rec);
        bus.publish(Envelope { topic: Topic::User(UserId::from_raw(1)), event: ev });
    }
}
