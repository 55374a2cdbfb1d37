//! Sync: positions, catch-up pages and the per-connection event stream.
//!
//! A subscription registers its connection with the hub first (so live events queue up),
//! then replays what the client missed from the store, then forwards live events. It keeps
//! the last position it sent per log, drops live events it already sent, and fills a gap
//! (an event that arrives ahead of its predecessor) from the store. So every event goes
//! out exactly once and in order per log, whatever the interleaving.
//!
//! Gaps are mostly a matter of timing: concurrent sends to one conversation commit in one
//! order and may be published in another. An event that arrives ahead of its predecessor
//! is therefore held for up to `GAP_WAIT` first; only a predecessor that does not arrive in
//! that time is read from the store. (Reading at once made every subscriber of a busy
//! group read the store for each such swap.)

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::ConversationId;
use switchboard_core::event::{ConvEvent, Event, UserEvent, UserEventKind};
use tokio::sync::mpsc;

use switchboard_bus::Topic;

use crate::hub::{CloseReason, Connection, EventStream, Live, SharedEvent, StreamItem};
use crate::{Principal, ServiceError, ServiceResult, Services};

/// The positions a client has applied.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    /// Highest user_seq.
    pub user_seq: u64,
    /// Highest seq per conversation.
    pub conversations: HashMap<ConversationId, u64>,
}

/// A page of missed events.
#[derive(Debug, Clone, Default)]
pub struct Difference {
    /// Events, in order per log.
    pub events: Vec<Event>,
    /// More remain.
    pub more: bool,
    /// Too far behind: rebuild from a snapshot.
    pub resync_required: bool,
}

/// Page size of catch-up reads.
const PAGE: u32 = 500;
/// How long an event that arrived ahead of its predecessor waits for it before the gap is
/// filled from the store.
const GAP_WAIT: Duration = Duration::from_millis(50);
/// Most events held for missing predecessors; one more fills the gaps at once.
const HELD_MAX: usize = 256;

impl Services {
    /// The caller's latest positions.
    pub async fn get_state(&self, p: &Principal) -> ServiceResult<Positions> {
        let user_seq = self.store().user_seq(p.user_id).await?;
        let conversations =
            self.store().positions(p.user_id).await?.into_iter().map(|(c, last, _)| (c, last)).collect();
        Ok(Positions { user_seq, conversations })
    }

    /// Up to `limit` events after `pos`.
    pub async fn get_difference(&self, p: &Principal, pos: Positions, limit: u32) -> ServiceResult<Difference> {
        let limit = if limit == 0 { 500 } else { limit.min(1000) } as usize;
        let max = self.config().max_catchup_events;
        let mut diff = Difference::default();
        let latest = self.store().user_seq(p.user_id).await?;
        let current = self.store().positions(p.user_id).await?;
        check_positions(&pos, latest, &current)?;
        if latest.saturating_sub(pos.user_seq) > max {
            diff.resync_required = true;
            return Ok(diff);
        }
        let mut known = pos.conversations;
        let user_events = self.store().user_events(p.user_id, pos.user_seq, limit as u32 + 1).await?;
        if user_events.len() > limit {
            diff.more = true;
        }
        for ev in user_events.into_iter().take(limit) {
            match ev.kind {
                UserEventKind::ConversationJoined { conversation_id, joined_at_seq } => {
                    known.entry(conversation_id).or_insert(joined_at_seq);
                }
                UserEventKind::ConversationLeft { conversation_id, left_at_seq, .. } => {
                    // The log up to the leave is still the user's; nothing after it.
                    if let Some(from) = known.remove(&conversation_id).filter(|f| *f < left_at_seq) {
                        let upto = self.store().conv_events(conversation_id, from, (left_at_seq - from) as u32).await?;
                        diff.events.extend(upto.into_iter().map(Event::Conversation));
                    }
                }
                _ => {}
            }
            diff.events.push(Event::User(ev));
        }
        for (c, last, joined) in current {
            let from = known.get(&c).copied().unwrap_or(joined);
            if last <= from {
                continue;
            }
            if last - from > max {
                diff.resync_required = true;
                continue;
            }
            let room = limit.saturating_sub(diff.events.len());
            if room == 0 {
                diff.more = true;
                break;
            }
            let events = self.store().conv_events(c, from, room as u32).await?;
            if from + (events.len() as u64) < last {
                diff.more = true;
            }
            diff.events.extend(events.into_iter().map(Event::Conversation));
        }
        self.with_event_files(&mut diff.events).await?;
        Ok(diff)
    }

    /// Starts the event stream of a connection from the client's positions (or live only).
    pub async fn subscribe(&self, conn: &Connection, pos: Positions, live_only: bool) -> ServiceResult<EventStream> {
        let p = *conn.principal();
        let (tx, rx) = mpsc::channel(conn.queue());
        // Register for live events before reading the store, so nothing falls in between:
        // whatever is published from here on is queued, whatever was stored before is read.
        conn.attach(tx, Vec::new());
        let current = self.store().positions(p.user_id).await?;
        let latest = self.store().user_seq(p.user_id).await?;
        if !live_only {
            check_positions(&pos, latest, &current)?;
        }
        for (c, _, _) in &current {
            conn.hub.set_follow(conn.id, *c, true);
        }
        let mut cursor = Cursor { user_seq: pos.user_seq, conv: HashMap::new() };
        if !live_only {
            // Conversations the device knows but the user has left since: replaying the
            // leave in the user log delivers them up to the leave, and no further.
            cursor.conv.extend(pos.conversations.iter().map(|(c, s)| (*c, *s)));
        }
        for (c, last, joined) in current {
            let from = if live_only { last } else { pos.conversations.get(&c).copied().unwrap_or(joined) };
            cursor.conv.insert(c, from);
        }
        if live_only {
            cursor.user_seq = latest;
        }
        let (out, out_rx) = mpsc::channel(256);
        let task = Subscription {
            services: self.clone(),
            principal: p,
            conn_id: conn.id,
            replaying: false,
            held: None,
            cursor,
            out,
            live: rx,
        };
        tokio::spawn(task.run(!live_only));
        Ok(EventStream { rx: out_rx })
    }
}

/// Refuses positions past the heads of the logs: a client cannot have seen events that do
/// not exist, so such a position is a client bug that would otherwise wait forever.
fn check_positions(pos: &Positions, user_head: u64, current: &[(ConversationId, u64, u64)]) -> ServiceResult<()> {
    if pos.user_seq > user_head {
        return Err(ServiceError::invalid(
            "user_seq",
            format!("position {} is ahead of the user log, which ends at {user_head}", pos.user_seq),
        ));
    }
    for (c, last, _) in current {
        if let Some(seq) = pos.conversations.get(c).filter(|s| **s > *last) {
            return Err(ServiceError::invalid(
                "positions.seq",
                format!("position {seq} in conversation {c} is ahead of its log, which ends at {last}"),
            ));
        }
    }
    Ok(())
}

struct Cursor {
    user_seq: u64,
    conv: HashMap<ConversationId, u64>,
}

struct Subscription {
    services: Services,
    principal: Principal,
    conn_id: u64,
    replaying: bool,
    /// Events waiting for a predecessor (boxed: most connections never hold any).
    held: Option<Box<Held>>,
    cursor: Cursor,
    out: mpsc::Sender<StreamItem>,
    live: mpsc::Receiver<Live>,
}

/// The stream ends: the client went away, the session ended, or the store failed.
struct Stop;

/// Conversation events that arrived ahead of their predecessors.
struct Held {
    events: BTreeMap<(ConversationId, u64), Arc<SharedEvent>>,
    /// When the gaps are filled from the store.
    deadline: tokio::time::Instant,
}

impl Subscription {
    /// The task of one subscribed connection, alive as long as the connection is. Its
    /// future is kept small because every idle connection holds one: the catch-up, gap
    /// fills, resyncs and user events (which may read the store) run boxed, only while
    /// they run; the common live case — the next event of a followed conversation, or an
    /// ephemeral signal — is forwarded inline.
    async fn run(mut self, catch_up: bool) {
        if catch_up && Box::pin(self.catch_up()).await.is_err() {
            return;
        }
        let caught_up = Event::CaughtUp { user_seq: self.cursor.user_seq };
        if self.emit(Arc::new(caught_up)).await.is_err() {
            return;
        }
        loop {
            let item = match self.held.as_ref().map(|h| h.deadline) {
                None => self.live.recv().await,
                // Boxed: the timer exists only while something is held.
                Some(deadline) => match Box::pin(tokio::time::timeout_at(deadline, self.live.recv())).await {
                    Ok(item) => item,
                    Err(_) => {
                        if Box::pin(self.fill_held()).await.is_err() {
                            return;
                        }
                        continue;
                    }
                },
            };
            let Some(item) = item else { return };
            let done = match item {
                Live::Event(shared) => match self.in_order(&shared) {
                    Some(true) if self.held.is_none() => self.send(StreamItem::Event(shared)).await,
                    Some(true) => Box::pin(self.release(shared)).await,
                    Some(false) => Ok(()),
                    None => Box::pin(self.live_event(shared)).await,
                },
                Live::Resync(scope) => Box::pin(self.resync(scope)).await,
            };
            if done.is_err() {
                return;
            }
        }
    }

    /// Decides a live event without the store when it can: `Some(true)` to forward it now
    /// (the next event of a followed conversation, or an ephemeral signal), `Some(false)`
    /// to drop it (already delivered, or a conversation not followed), `None` for the slow
    /// path (a gap to fill, or a user event).
    fn in_order(&mut self, shared: &SharedEvent) -> Option<bool> {
        match shared.event.as_ref() {
            Event::Conversation(ev) => {
                let at = match self.cursor.conv.get(&ev.conversation_id) {
                    None => return Some(false),
                    Some(&at) => at,
                };
                if ev.seq <= at {
                    return Some(false);
                }
                if ev.seq > at + 1 {
                    return None;
                }
                self.cursor.conv.insert(ev.conversation_id, ev.seq);
                Some(true)
            }
            Event::User(_) => None,
            _ => Some(true),
        }
    }

    /// Sends an in-order conversation event, then the held events it was the missing
    /// predecessor of.
    async fn release(&mut self, shared: Arc<SharedEvent>) -> Result<(), Stop> {
        let conversation = match shared.event.as_ref() {
            Event::Conversation(ev) => Some(ev.conversation_id),
            _ => None,
        };
        self.send(StreamItem::Event(shared)).await?;
        let Some(c) = conversation else { return Ok(()) };
        while let Some(held) = self.held.as_mut() {
            let Some(&at) = self.cursor.conv.get(&c) else { break };
            let Some(next) = held.events.remove(&(c, at + 1)) else { break };
            if held.events.is_empty() {
                self.held = None;
            }
            self.cursor.conv.insert(c, at + 1);
            self.send(StreamItem::Event(next)).await?;
        }
        Ok(())
    }

    /// Holds a conversation event that arrived ahead of its predecessor.
    async fn hold(&mut self, ev: &ConvEvent, shared: Arc<SharedEvent>) -> Result<(), Stop> {
        let deadline = tokio::time::Instant::now() + GAP_WAIT;
        let held = self.held.get_or_insert_with(|| Box::new(Held { events: BTreeMap::new(), deadline }));
        held.events.insert((ev.conversation_id, ev.seq), shared);
        if held.events.len() > HELD_MAX { self.fill_held().await } else { Ok(()) }
    }

    /// Sends every held event, reading what is still missing before each from the store.
    async fn fill_held(&mut self) -> Result<(), Stop> {
        let Some(held) = self.held.take() else { return Ok(()) };
        for ((c, seq), shared) in held.events {
            let Some(&at) = self.cursor.conv.get(&c) else { continue };
            if seq <= at {
                continue;
            }
            if seq > at + 1 {
                self.conversation_until(c, Some(seq - 1)).await?;
            }
            self.cursor.conv.insert(c, seq);
            self.send(StreamItem::Event(shared)).await?;
        }
        Ok(())
    }

    async fn send(&self, item: StreamItem) -> Result<(), Stop> {
        self.out.send(item).await.map_err(|_| Stop)
    }

    async fn emit(&self, event: Arc<Event>) -> Result<(), Stop> {
        self.send(StreamItem::Event(Arc::new(SharedEvent::new(event)))).await
    }

    fn failed<T>(&self, r: ServiceResult<T>) -> Result<T, Stop> {
        r.map_err(|e| {
            tracing::error!(error = %e, detail = ?e.detail, user_id = %self.principal.user_id, "event stream failed");
        })
        .map_err(|()| Stop)
    }

    async fn catch_up(&mut self) -> Result<(), Stop> {
        let store = self.services.store();
        let max = self.services.config().max_catchup_events;
        let latest = self.failed(store.user_seq(self.principal.user_id).await.map_err(Into::into))?;
        if latest.saturating_sub(self.cursor.user_seq) > max {
            self.emit(Arc::new(Event::ResyncRequired { conversation_id: None })).await?;
            self.cursor.user_seq = latest;
        }
        // While replaying the user log, a join only records where the conversation starts;
        // a later leave in the same replay bounds it. What remains is replayed after.
        self.replaying = true;
        self.user_log_until(latest).await?;
        self.replaying = false;
        // Only current memberships are replayed to the end; anything else the device named
        // is not the user's to read (any more).
        let current = self.services.store().positions(self.principal.user_id).await;
        let current: Vec<ConversationId> =
            self.failed(current.map_err(Into::into))?.into_iter().map(|(c, _, _)| c).collect();
        self.cursor.conv.retain(|c, _| current.contains(c));
        for c in current {
            self.conversation_until(c, None).await?;
        }
        Ok(())
    }

    /// Sends user events after the cursor up to `until`.
    async fn user_log_until(&mut self, until: u64) -> Result<(), Stop> {
        while self.cursor.user_seq < until {
            let page = self.services.store().user_events(self.principal.user_id, self.cursor.user_seq, PAGE).await;
            let page = self.failed(page.map_err(Into::into))?;
            if page.is_empty() {
                break;
            }
            for ev in page {
                if ev.user_seq > until {
                    break;
                }
                self.user_event(Arc::new(Event::User(ev.clone())), &ev).await?;
            }
        }
        Ok(())
    }

    /// Sends conversation events after the cursor, up to `until` (or the end).
    async fn conversation_until(&mut self, c: ConversationId, until: Option<u64>) -> Result<(), Stop> {
        let max = self.services.config().max_catchup_events;
        let Some(&from) = self.cursor.conv.get(&c) else {
            return Ok(());
        };
        if until.is_none() {
            let last = self.services.store().conversation(c).await.map(|o| o.map_or(from, |c| c.last_seq));
            let last = self.failed(last.map_err(Into::into))?;
            if last.saturating_sub(from) > max {
                self.emit(Arc::new(Event::ResyncRequired { conversation_id: Some(c) })).await?;
                self.cursor.conv.insert(c, last);
                return Ok(());
            }
        }
        loop {
            let from = self.cursor.conv[&c];
            if until.is_some_and(|u| from >= u) {
                return Ok(());
            }
            let page = self.services.store().conv_events(c, from, PAGE).await;
            let page = self.failed(page.map_err(Into::into))?;
            if page.is_empty() {
                return Ok(());
            }
            for ev in page {
                if until.is_some_and(|u| ev.seq > u) {
                    return Ok(());
                }
                self.cursor.conv.insert(c, ev.seq);
                self.emit(Arc::new(Event::Conversation(ev))).await?;
            }
        }
    }

    async fn user_event(&mut self, shared: Arc<Event>, ev: &UserEvent) -> Result<(), Stop> {
        self.before(ev).await?;
        self.cursor.user_seq = ev.user_seq;
        self.send(StreamItem::Event(Arc::new(SharedEvent::new(shared)))).await?;
        self.apply(ev).await
    }

    /// Runs ahead of a user event: before a leave, the conversation's log up to the leave
    /// (its service message included) still belongs to the user.
    async fn before(&mut self, ev: &UserEvent) -> Result<(), Stop> {
        if let UserEventKind::ConversationLeft { conversation_id, left_at_seq, .. } = &ev.kind {
            self.conversation_until(*conversation_id, Some(*left_at_seq)).await?;
        }
        Ok(())
    }

    /// Follows up a user event: join → replay the new conversation; leave → forget it;
    /// own session ended → close.
    async fn apply(&mut self, ev: &UserEvent) -> Result<(), Stop> {
        match &ev.kind {
            UserEventKind::ConversationJoined { conversation_id, joined_at_seq } => {
                // The hub follows on live delivery too; doing it here covers a join that
                // only the replay saw.
                self.services.hub().set_follow(self.conn_id, *conversation_id, true);
                self.cursor.conv.entry(*conversation_id).or_insert(*joined_at_seq);
                if self.replaying { Ok(()) } else { self.conversation_until(*conversation_id, None).await }
            }
            UserEventKind::ConversationLeft { conversation_id, .. } => {
                self.services.hub().set_follow(self.conn_id, *conversation_id, false);
                self.cursor.conv.remove(conversation_id);
                Ok(())
            }
            UserEventKind::SessionEnded { session_id, reason } if *session_id == self.principal.session_id => {
                self.send(StreamItem::Close(CloseReason::SessionEnded(*reason))).await?;
                Err(Stop)
            }
            _ => Ok(()),
        }
    }

    /// Re-reads from the store what the bus may have lost.
    async fn resync(&mut self, scope: Option<Topic>) -> Result<(), Stop> {
        self.fill_held().await?;
        if matches!(scope, None | Some(Topic::User(_))) {
            let latest = self.services.store().user_seq(self.principal.user_id).await;
            let latest = self.failed(latest.map_err(Into::into))?;
            self.user_log_until(latest).await?;
        }
        let convs: Vec<ConversationId> = match scope {
            None => self.cursor.conv.keys().copied().collect(),
            Some(Topic::Conversation(c)) => vec![c],
            Some(_) => Vec::new(),
        };
        for c in convs {
            self.conversation_until(c, None).await?;
        }
        Ok(())
    }

    async fn live_event(&mut self, shared: Arc<SharedEvent>) -> Result<(), Stop> {
        match shared.event.as_ref() {
            Event::Conversation(ev) => self.live_conv(ev, shared.clone()).await,
            Event::User(ev) => {
                // A user event may end a conversation's log: what is held goes first.
                self.fill_held().await?;
                if ev.user_seq <= self.cursor.user_seq {
                    return Ok(());
                }
                if ev.user_seq > self.cursor.user_seq + 1 {
                    self.user_log_until(ev.user_seq - 1).await?;
                }
                self.before(ev).await?;
                self.cursor.user_seq = ev.user_seq;
                self.send(StreamItem::Event(shared.clone())).await?;
                self.apply(ev).await
            }
            _ => self.send(StreamItem::Event(shared)).await,
        }
    }

    async fn live_conv(&mut self, ev: &ConvEvent, shared: Arc<SharedEvent>) -> Result<(), Stop> {
        let Some(&at) = self.cursor.conv.get(&ev.conversation_id) else {
            return Ok(());
        };
        if ev.seq <= at {
            return Ok(());
        }
        if ev.seq > at + 1 {
            return self.hold(ev, shared).await;
        }
        self.cursor.conv.insert(ev.conversation_id, ev.seq);
        self.send(StreamItem::Event(shared)).await
    }
}
