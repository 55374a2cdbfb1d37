//! The hub's bookkeeping: who is connected, which connections follow which
//! conversations, who watches whose presence, who is typing. Methods return what must be
//! published or (un)subscribed on the bus, which the hub does after releasing its lock.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use switchboard_bus::{Envelope, Topic};
use switchboard_core::event::{Event, Presence, PresenceStatus, SessionEndReason, Typing};
use switchboard_core::{ConversationId, SessionId, UserId};
use tokio::sync::{mpsc, watch};

use super::{CloseReason, Live, SharedEvent};
use crate::Principal;
use crate::clock::now_ms;

struct Conn {
    user: UserId,
    session: SessionId,
    /// When the access token it was opened with expires (Unix ms).
    expires_at_ms: i64,
    close: watch::Sender<Option<CloseReason>>,
    events: Option<mpsc::Sender<Live>>,
    follows: HashSet<ConversationId>,
}

/// Interest changes for the bus.
pub(super) type Interest = Vec<(Topic, bool)>;

/// Local presence changes to report to the other nodes.
pub(super) type PresenceDelta = Vec<(UserId, Option<PresenceStatus>)>;

/// What another node last reported.
struct RemoteNode {
    heard: std::time::Instant,
    users: HashMap<UserId, PresenceStatus>,
}

#[derive(Default)]
pub(super) struct State {
    next_id: u64,
    conns: HashMap<u64, Conn>,
    by_user: HashMap<UserId, Vec<u64>>,
    by_session: HashMap<SessionId, Vec<u64>>,
    by_conv: HashMap<ConversationId, HashSet<u64>>,
    pub(super) watchers: HashMap<UserId, HashSet<SessionId>>,
    pub(super) watching: HashMap<SessionId, HashSet<UserId>>,
    pub(super) status: HashMap<UserId, PresenceStatus>,
    last_seen: HashMap<UserId, i64>,
    pub(super) typing: HashMap<SessionId, HashMap<ConversationId, i64>>,
    remote: HashMap<u64, RemoteNode>,
    /// Connections by the expiry of their access token, soonest first.
    expiries: std::collections::BTreeSet<(i64, u64)>,
}

pub(super) fn envelope(topic: Topic, event: Event) -> Envelope {
    Envelope { topic, event: Arc::new(event) }
}

impl State {
    pub(super) fn connection_count(&self) -> usize {
        self.conns.len()
    }

    pub(super) fn session_online(&self, s: SessionId) -> bool {
        self.by_session.get(&s).is_some_and(|v| !v.is_empty())
    }

    /// The user's status from this node's connections alone.
    pub(super) fn local_status(&self, user: UserId) -> Option<PresenceStatus> {
        let online = self.by_user.get(&user).is_some_and(|v| !v.is_empty());
        online.then(|| *self.status.get(&user).unwrap_or(&PresenceStatus::Online))
    }

    /// The user's status over the cluster: online anywhere wins over away anywhere.
    fn global_status(&self, user: UserId) -> PresenceStatus {
        let remote = self.remote.values().filter_map(|n| n.users.get(&user).copied());
        self.local_status(user).into_iter().chain(remote).fold(PresenceStatus::Offline, |acc, s| match (acc, s) {
            (PresenceStatus::Online, _) | (_, PresenceStatus::Online) => PresenceStatus::Online,
            (PresenceStatus::Away, _) | (_, PresenceStatus::Away) => PresenceStatus::Away,
            _ => PresenceStatus::Offline,
        })
    }

    pub(super) fn presence_of(&self, user: UserId) -> Presence {
        let status = self.global_status(user);
        let last_seen_at_ms =
            if status == PresenceStatus::Offline { self.last_seen.get(&user).copied().unwrap_or(0) } else { 0 };
        Presence { user_id: user, status, last_seen_at_ms }
    }

    /// Tells this node's watchers of `user` when the cluster-wide status moved from `before`.
    pub(super) fn notify_presence(&mut self, user: UserId, before: PresenceStatus) {
        let after = self.global_status(user);
        if after == before {
            return;
        }
        if after == PresenceStatus::Offline {
            self.last_seen.insert(user, now_ms());
        }
        let shared = Arc::new(SharedEvent::new(Arc::new(Event::Presence(self.presence_of(user)))));
        let targets = self.presence_targets(user);
        self.send(&targets, &shared);
    }

    /// Applies another node's report and notifies watchers of every change it makes.
    pub(super) fn apply_report(&mut self, node: u64, full: bool, users: PresenceDelta) {
        let mut touched: Vec<UserId> = users.iter().map(|(u, _)| *u).collect();
        if full && let Some(old) = self.remote.get(&node) {
            touched.extend(old.users.keys().copied());
        }
        touched.sort_unstable();
        touched.dedup();
        let before: Vec<(UserId, PresenceStatus)> = touched.iter().map(|u| (*u, self.global_status(*u))).collect();
        let now = std::time::Instant::now();
        let entry = self.remote.entry(node).or_insert_with(|| RemoteNode { heard: now, users: HashMap::new() });
        entry.heard = now;
        if full {
            entry.users.clear();
        }
        for (u, s) in users {
            match s {
                Some(s) => entry.users.insert(u, s),
                None => entry.users.remove(&u),
            };
        }
        for (u, b) in before {
            self.notify_presence(u, b);
        }
    }

    /// Forgets nodes silent for longer than `silence`: their users are gone from them.
    pub(super) fn expire_nodes(&mut self, silence: std::time::Duration) {
        let dead: Vec<u64> =
            self.remote.iter().filter(|(_, n)| n.heard.elapsed() > silence).map(|(id, _)| *id).collect();
        for node in dead {
            tracing::warn!(node, "a node stopped reporting presence; its users count as gone from it");
            self.apply_report(node, true, Vec::new());
            self.remote.remove(&node);
        }
    }

    /// This node's full presence list.
    pub(super) fn local_presence(&self) -> PresenceDelta {
        self.by_user.keys().map(|u| (*u, self.local_status(*u))).collect()
    }

    /// Live connections of `user` and of `session` on this node.
    pub(super) fn counts(&self, user: UserId, session: SessionId) -> (usize, usize) {
        let n = |v: Option<&Vec<u64>>| v.map_or(0, Vec::len);
        (n(self.by_user.get(&user)), n(self.by_session.get(&session)))
    }

    pub(super) fn add_connection(
        &mut self,
        p: Principal,
        close: watch::Sender<Option<CloseReason>>,
    ) -> (u64, PresenceDelta, Interest) {
        self.next_id += 1;
        let id = self.next_id;
        let before = self.global_status(p.user_id);
        let expires_at_ms = p.access_expires_at_ms;
        self.conns.insert(
            id,
            Conn {
                user: p.user_id,
                session: p.session_id,
                expires_at_ms,
                close,
                events: None,
                follows: HashSet::new(),
            },
        );
        self.expiries.insert((expires_at_ms, id));
        self.by_session.entry(p.session_id).or_default().push(id);
        let conns = self.by_user.entry(p.user_id).or_default();
        conns.push(id);
        let (mut delta, mut interest) = (Vec::new(), Vec::new());
        if conns.len() == 1 {
            interest.push((Topic::User(p.user_id), true));
            delta.push((p.user_id, self.local_status(p.user_id)));
            self.notify_presence(p.user_id, before);
        }
        (id, delta, interest)
    }

    pub(super) fn follow_conn(&mut self, id: u64, c: ConversationId, interest: &mut Interest) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.follows.insert(c) {
            let set = self.by_conv.entry(c).or_default();
            if set.is_empty() {
                interest.push((Topic::Conversation(c), true));
            }
            set.insert(id);
        }
    }

    pub(super) fn unfollow_conn(&mut self, id: u64, c: ConversationId, interest: &mut Interest) {
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.follows.remove(&c);
        }
        if let Some(set) = self.by_conv.get_mut(&c) {
            set.remove(&id);
            if set.is_empty() {
                self.by_conv.remove(&c);
                interest.push((Topic::Conversation(c), false));
            }
        }
    }

    pub(super) fn attach(&mut self, id: u64, tx: mpsc::Sender<Live>, convs: Vec<ConversationId>) -> Interest {
        let mut interest = Vec::new();
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.events = Some(tx);
            for c in convs {
                self.follow_conn(id, c, &mut interest);
            }
        }
        interest
    }

    fn attached_of_user(&self, u: UserId) -> Vec<u64> {
        self.by_user.get(&u).map_or_else(Vec::new, |ids| {
            ids.iter().copied().filter(|id| self.conns.get(id).is_some_and(|c| c.events.is_some())).collect()
        })
    }

    pub(super) fn follow(&mut self, u: UserId, c: ConversationId) -> Interest {
        let mut interest = Vec::new();
        for id in self.attached_of_user(u) {
            self.follow_conn(id, c, &mut interest);
        }
        interest
    }

    pub(super) fn unfollow(&mut self, u: UserId, c: ConversationId) -> Interest {
        let mut interest = Vec::new();
        for id in self.by_user.get(&u).cloned().unwrap_or_default() {
            self.unfollow_conn(id, c, &mut interest);
        }
        interest
    }

    pub(super) fn user_targets(&self, u: UserId) -> Vec<u64> {
        self.attached_of_user(u)
    }

    pub(super) fn conversation_targets(&self, c: ConversationId, skip: Option<UserId>) -> Vec<u64> {
        self.by_conv.get(&c).map_or_else(Vec::new, |set| {
            set.iter()
                .copied()
                .filter(|id| skip.is_none_or(|u| self.conns.get(id).is_some_and(|c| c.user != u)))
                .collect()
        })
    }

    /// The sessions of this node following `u`, with their users.
    pub(super) fn watchers_of(&self, u: UserId) -> Vec<(SessionId, UserId)> {
        let Some(sessions) = self.watchers.get(&u) else {
            return Vec::new();
        };
        sessions
            .iter()
            .filter_map(|s| {
                let conn = self.by_session.get(s)?.first()?;
                Some((*s, self.conns.get(conn)?.user))
            })
            .collect()
    }

    /// The connections of one session with an event stream.
    pub(super) fn session_targets(&self, s: SessionId) -> Vec<u64> {
        self.by_session
            .get(&s)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| self.conns.get(id).is_some_and(|c| c.events.is_some()))
            .collect()
    }

    pub(super) fn presence_targets(&self, u: UserId) -> Vec<u64> {
        let Some(sessions) = self.watchers.get(&u) else {
            return Vec::new();
        };
        sessions
            .iter()
            .flat_map(|s| self.by_session.get(s).into_iter().flatten().copied())
            .filter(|id| self.conns.get(id).is_some_and(|c| c.events.is_some()))
            .collect()
    }

    /// Every connection with an event stream.
    pub(super) fn all_attached(&self) -> Vec<u64> {
        self.conns.iter().filter(|(_, c)| c.events.is_some()).map(|(id, _)| *id).collect()
    }

    /// Queues `shared` on each target; a full queue closes that connection.
    pub(super) fn send(&mut self, targets: &[u64], shared: &Arc<SharedEvent>) {
        let delivered = self.push(targets, &Live::Event(shared.clone()));
        metrics::counter!("switchboard_fanout_deliveries_total").increment(delivered);
    }

    /// Queues `item` on each target; returns how many took it. A full queue closes that
    /// connection as a slow consumer.
    pub(super) fn push(&mut self, targets: &[u64], item: &Live) -> u64 {
        let mut delivered = 0u64;
        for id in targets {
            let Some(conn) = self.conns.get_mut(id) else { continue };
            let Some(tx) = &conn.events else { continue };
            match tx.try_send(item.clone()) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!("switchboard_queue_drops_total").increment(1);
                    tracing::warn!(user_id = %conn.user, "closing a connection that fell too far behind");
                    conn.events = None;
                    let _ = conn.close.send(Some(CloseReason::SlowConsumer));
                }
                Err(mpsc::error::TrySendError::Closed(_)) => conn.events = None,
            }
        }
        delivered
    }

    /// A session ended: connections that stream events learn it from the event itself and
    /// close after delivering it; the others close now.
    pub(super) fn end_session(&mut self, s: SessionId, reason: SessionEndReason) {
        for id in self.by_session.get(&s).cloned().unwrap_or_default() {
            if let Some(conn) = self.conns.get(&id)
                && conn.events.is_none()
            {
                let _ = conn.close.send(Some(CloseReason::SessionEnded(reason)));
            }
        }
    }

    /// Closes the connections whose access token expired by `now_ms`.
    pub(super) fn expire_tokens(&mut self, now_ms: i64) {
        while let Some(&(at, id)) = self.expiries.first()
            && at <= now_ms
        {
            self.expiries.pop_first();
            if let Some(conn) = self.conns.get(&id) {
                let _ = conn.close.send(Some(CloseReason::TokenExpired));
            }
        }
    }

    pub(super) fn close_all(&mut self, reason: CloseReason) {
        for conn in self.conns.values_mut() {
            let _ = conn.close.send(Some(reason));
        }
    }

    pub(super) fn remove_connection(&mut self, id: u64) -> (Vec<Envelope>, Interest, PresenceDelta) {
        let (mut out, mut interest, mut delta) = (Vec::new(), Vec::new(), Vec::new());
        let Some(conn) = self.conns.remove(&id) else {
            return (out, interest, delta);
        };
        self.expiries.remove(&(conn.expires_at_ms, id));
        for c in &conn.follows {
            if let Some(set) = self.by_conv.get_mut(c) {
                set.remove(&id);
                if set.is_empty() {
                    self.by_conv.remove(c);
                    interest.push((Topic::Conversation(*c), false));
                }
            }
        }
        let session_left = remove_from(&mut self.by_session, conn.session, id);
        if session_left {
            for u in self.watching.remove(&conn.session).unwrap_or_default() {
                remove_from_set(&mut self.watchers, u, conn.session);
            }
            let now = now_ms();
            for (c, expires) in self.typing.remove(&conn.session).unwrap_or_default() {
                if expires > now {
                    let t = Typing { conversation_id: c, user_id: conn.user, typing: false, expires_at_ms: now };
                    out.push(envelope(Topic::Conversation(c), Event::Typing(t)));
                }
            }
        }
        let before = self.global_status(conn.user);
        if remove_from(&mut self.by_user, conn.user, id) {
            self.status.remove(&conn.user);
            interest.push((Topic::User(conn.user), false));
            delta.push((conn.user, None));
            self.notify_presence(conn.user, before);
        }
        (out, interest, delta)
    }
}

/// Removes `id` from `map[key]`; true when that emptied the entry.
fn remove_from<K: std::hash::Hash + Eq + Copy>(map: &mut HashMap<K, Vec<u64>>, key: K, id: u64) -> bool {
    let Some(v) = map.get_mut(&key) else {
        return false;
    };
    v.retain(|x| *x != id);
    if v.is_empty() {
        map.remove(&key);
        return true;
    }
    false
}

fn remove_from_set(map: &mut HashMap<UserId, HashSet<SessionId>>, key: UserId, s: SessionId) -> bool {
    let Some(set) = map.get_mut(&key) else {
        return false;
    };
    set.remove(&s);
    if set.is_empty() {
        map.remove(&key);
        return true;
    }
    false
}
