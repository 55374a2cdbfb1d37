//! Presence subscriptions, explicit status and typing records on the hub.

use std::sync::Arc;

use switchboard_bus::PresenceReport;
use switchboard_core::event::{Event, Presence, PresenceStatus};
use switchboard_core::{ConversationId, SessionId, UserId};

use super::{Hub, SharedEvent};

/// A user whose presence audience shrank, and the sessions (with their users) of this node
/// that follow them.
pub(crate) type Recheck = (UserId, Vec<(SessionId, UserId)>);
pub(crate) type RecheckSender = tokio::sync::mpsc::UnboundedSender<Recheck>;

/// Why a presence subscription was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchError {
    /// The session has no live connection to deliver to.
    NoConnection,
    /// The session would follow more users than allowed.
    TooMany,
}

impl Hub {
    /// Current presence of users.
    pub fn presences(&self, users: &[UserId]) -> Vec<Presence> {
        let state = self.lock();
        users.iter().map(|u| state.presence_of(*u)).collect()
    }

    /// Subscribes a session to users' presence; returns their current presence.
    pub(crate) fn watch(&self, session: SessionId, users: &[UserId], max: usize) -> Result<Vec<Presence>, WatchError> {
        let mut state = self.lock();
        if !state.session_online(session) {
            return Err(WatchError::NoConnection);
        }
        let current = state.watching.get(&session).map_or(0, |s| s.len());
        if current + users.len() > max {
            return Err(WatchError::TooMany);
        }
        for u in users {
            state.watching.entry(session).or_default().insert(*u);
            state.watchers.entry(*u).or_default().insert(session);
        }
        Ok(users.iter().map(|u| state.presence_of(*u)).collect())
    }

    /// Where rechecks go from now on.
    pub(crate) fn rechecks_to(&self, tx: RecheckSender) {
        *self.rechecks.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    }

    /// Tells every node (this one first) that these users' presence audiences may have
    /// shrunk, so that each checks again who of its sessions may follow them.
    pub(crate) fn announce_revoked(&self, owners: Vec<UserId>) {
        self.recheck_watchers(&owners);
        let report = PresenceReport { node: self.node, full: false, users: Vec::new(), revoked: owners };
        self.bus.report_presence(report);
    }

    /// Hands the watchers of each owner on this node to the recheck task.
    pub(super) fn recheck_watchers(&self, owners: &[UserId]) {
        if owners.is_empty() {
            return;
        }
        let found: Vec<Recheck> = {
            let state = self.lock();
            owners.iter().map(|o| (*o, state.watchers_of(*o))).filter(|(_, w)| !w.is_empty()).collect()
        };
        let tx = self.rechecks.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(tx) = tx {
            for r in found {
                let _ = tx.send(r);
            }
        }
    }

    /// Ends a session's following of `owner` and tells it the owner is offline, never seen.
    pub(crate) fn revoke_watch(&self, session: SessionId, owner: UserId) {
        self.unwatch(session, &[owner]);
        let offline = Presence { user_id: owner, status: PresenceStatus::Offline, last_seen_at_ms: 0 };
        let shared = Arc::new(SharedEvent::new(Arc::new(Event::Presence(offline))));
        let mut state = self.lock();
        let targets = state.session_targets(session);
        state.send(&targets, &shared);
    }

    /// Ends a session's subscriptions to users' presence.
    pub(crate) fn unwatch(&self, session: SessionId, users: &[UserId]) {
        let mut state = self.lock();
        for u in users {
            if let Some(set) = state.watching.get_mut(&session) {
                set.remove(u);
            }
            if let Some(set) = state.watchers.get_mut(u) {
                set.remove(&session);
                if set.is_empty() {
                    state.watchers.remove(u);
                }
            }
        }
    }

    /// Sets a connected user's explicit status; publishes the change.
    pub(crate) fn set_status(&self, user: UserId, status: PresenceStatus) -> bool {
        let delta = {
            let mut state = self.lock();
            if state.local_status(user).is_none() {
                return false;
            }
            let before = state.presence_of(user).status;
            state.status.insert(user, status);
            state.notify_presence(user, before);
            vec![(user, state.local_status(user))]
        };
        self.report(delta);
        true
    }

    /// Records that a session is (or stopped) typing, so that a vanishing client's typing
    /// is stopped for it.
    pub(crate) fn record_typing(&self, session: SessionId, c: ConversationId, typing: bool, expires_at_ms: i64) {
        let mut state = self.lock();
        let entry = state.typing.entry(session).or_default();
        if typing {
            entry.insert(c, expires_at_ms);
        } else {
            entry.remove(&c);
        }
    }

    /// True when the user has a live connection on this node.
    pub fn is_online(&self, user: UserId) -> bool {
        self.presence_status(user) != PresenceStatus::Offline
    }
}
