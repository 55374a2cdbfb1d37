//! This node's live connections and the fan-out of events to them.
//!
//! The hub implements [`BusHandler`]: the bus hands it each event once, the hub wraps it in
//! one [`SharedEvent`] (so every transport encodes it at most once per format) and pushes
//! it onto the bounded queue of each connection that follows the topic. A connection whose
//! queue is full is closed as a slow consumer; its client reconnects and catches up from
//! the store, so memory stays bounded and nothing is lost.

mod connection;
pub(crate) mod presence;
mod state;

pub(crate) use connection::Live;
pub use connection::{CloseReason, Connection, EventStream, SharedEvent, StreamItem};

use std::sync::{Arc, Mutex, MutexGuard};

use switchboard_bus::{Bus, BusHandler, Envelope, PresenceReport, Topic};
use switchboard_core::event::{Event, PresenceStatus, UserEventKind};

use state::State;

/// How often a node reports its presence; three missed reports and it counts as dead.
const PRESENCE_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(2);

/// Most live connections per user and per session on one node (0 = no cap).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub(crate) per_user: usize,
    pub(crate) per_session: usize,
}

/// The connection registry of one node.
pub struct Hub {
    /// This node's id in presence reports (random per process).
    node: u64,
    state: Mutex<State>,
    bus: Arc<dyn Bus>,
    queue: usize,
    caps: Caps,
    /// Tells when access tokens expire.
    clock: Arc<dyn crate::clock::Clock>,
    /// Where the watchers of a user whose presence audience shrank go to be checked again
    /// (the services' task, which reads the store).
    rechecks: Mutex<Option<presence::RecheckSender>>,
}

impl Hub {
    pub(crate) fn new(bus: Arc<dyn Bus>, queue: usize, caps: Caps, clock: Arc<dyn crate::clock::Clock>) -> Self {
        let node = rand::random::<u64>();
        let rechecks = Mutex::new(None);
        Self { node, state: Mutex::new(State::default()), bus, queue: queue.max(16), caps, clock, rechecks }
    }

    /// Reports this node's presence every `PRESENCE_HEARTBEAT`, forgets nodes that went
    /// silent and closes connections whose access token expired; stops when the hub is
    /// dropped.
    pub(crate) fn start_heartbeat(hub: &Arc<Hub>) {
        let weak = Arc::downgrade(hub);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRESENCE_HEARTBEAT);
            loop {
                tick.tick().await;
                let Some(hub) = weak.upgrade() else { return };
                let users = {
                    let mut state = hub.lock();
                    state.expire_nodes(PRESENCE_HEARTBEAT * 3);
                    state.expire_tokens(hub.clock.now_ms());
                    state.local_presence()
                };
                hub.bus.report_presence(PresenceReport { node: hub.node, full: true, users, revoked: Vec::new() });
            }
        });
    }

    fn report(&self, delta: state::PresenceDelta) {
        if !delta.is_empty() {
            self.bus.report_presence(PresenceReport {
                node: self.node,
                full: false,
                users: delta,
                revoked: Vec::new(),
            });
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes what a state change asked for, after the lock is released.
    fn flush(&self, out: Vec<Envelope>, interest: Vec<(Topic, bool)>) {
        for (topic, on) in interest {
            self.bus.set_interest(topic, on);
        }
        for env in out {
            self.bus.publish(env);
        }
    }

    /// Live connections on this node.
    pub fn connection_count(&self) -> usize {
        self.lock().connection_count()
    }

    /// Makes connection `id` follow (or stop following) conversation `c`. Idempotent.
    pub(crate) fn set_follow(&self, id: u64, c: switchboard_core::ConversationId, follow: bool) {
        let mut interest = Vec::new();
        {
            let mut state = self.lock();
            if follow {
                state.follow_conn(id, c, &mut interest);
            } else {
                state.unfollow_conn(id, c, &mut interest);
            }
        }
        self.flush(Vec::new(), interest);
    }

    /// Closes every connection with `reason` (server shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        self.lock().close_all(reason);
    }

    fn presence_status(&self, user: switchboard_core::UserId) -> PresenceStatus {
        self.lock().presence_of(user).status
    }
}

impl BusHandler for Hub {
    fn presence_reported(&self, report: PresenceReport) {
        if report.node != self.node {
            self.recheck_watchers(&report.revoked);
            self.lock().apply_report(report.node, report.full, report.users);
        }
    }

    fn resync(&self, topic: Option<Topic>) {
        let mut state = self.lock();
        let targets = match topic {
            None => state.all_attached(),
            Some(Topic::Conversation(c)) => state.conversation_targets(c, None),
            Some(Topic::User(u)) => state.user_targets(u),
            // Broadcast events are ephemeral: there is nothing to re-read.
            Some(Topic::Broadcast) => return,
        };
        state.push(&targets, &Live::Resync(topic));
    }

    fn deliver(&self, envelope: Envelope) {
        let shared = Arc::new(SharedEvent::new(envelope.event.clone()));
        let mut interest = Vec::new();
        let mut state = self.lock();
        let targets = match envelope.topic {
            Topic::Conversation(c) => {
                let skip = match envelope.event.as_ref() {
                    Event::Typing(t) => Some(t.user_id),
                    _ => None,
                };
                state.conversation_targets(c, skip)
            }
            Topic::User(u) => {
                if let Event::User(ev) = envelope.event.as_ref() {
                    match &ev.kind {
                        UserEventKind::ConversationJoined { conversation_id, .. } => {
                            interest.extend(state.follow(u, *conversation_id));
                        }
                        UserEventKind::ConversationLeft { conversation_id, .. } => {
                            // Deliver first so the departing member's devices hear of it.
                            let targets = state.user_targets(u);
                            state.send(&targets, &shared);
                            interest.extend(state.unfollow(u, *conversation_id));
                            drop(state);
                            self.flush(Vec::new(), interest);
                            return;
                        }
                        UserEventKind::SessionEnded { session_id, reason } => state.end_session(*session_id, *reason),
                        _ => {}
                    }
                }
                state.user_targets(u)
            }
            Topic::Broadcast => match envelope.event.as_ref() {
                Event::UserUpdated { user, shared_with, .. } => {
                    let mut targets = state.user_targets(user.id);
                    targets.extend(state.presence_targets(user.id));
                    for c in shared_with {
                        targets.extend(state.conversation_targets(*c, None));
                    }
                    targets.sort_unstable();
                    targets.dedup();
                    targets
                }
                Event::FileReady { file, shared_with } => {
                    let mut targets = state.user_targets(file.owner_id);
                    for c in shared_with {
                        targets.extend(state.conversation_targets(*c, None));
                    }
                    targets.sort_unstable();
                    targets.dedup();
                    targets
                }
                _ => Vec::new(),
            },
        };
        state.send(&targets, &shared);
        drop(state);
        self.flush(Vec::new(), interest);
    }
}
