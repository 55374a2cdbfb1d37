//! An event stream that survives disconnects: it reconnects with capped backoff, resumes
//! from the positions it applied, and hands out each logged event exactly once.

use std::time::Duration;

use switchboard_proto::v1 as pb;

use crate::{Client, ClientError, Events, Positions, StreamEvent, Transport};

/// Where an event stands relative to the positions applied so far.
fn order(pos: &Positions, e: &pb::Event) -> Order {
    let (at, n) = if e.user_seq > 0 {
        (pos.user_seq, e.user_seq)
    } else if e.seq > 0 {
        (pos.conversations.get(&e.conversation_id).copied().unwrap_or(0), e.seq)
    } else {
        return Order::Unsequenced;
    };
    match n {
        n if n <= at => Order::Duplicate,
        n if n == at + 1 => Order::Next,
        _ => Order::Gap,
    }
}

enum Order {
    Next,
    Duplicate,
    Gap,
    Unsequenced,
}

/// A self-healing subscription for one device.
pub struct Resumable {
    addrs: Vec<String>,
    next_addr: usize,
    transport: Transport,
    token: String,
    positions: Positions,
    conn: Option<(Client, Events)>,
    tls: Option<crate::Tls>,
    /// Most reconnect attempts in a row before giving up.
    pub max_attempts: u32,
    /// Longest wait between attempts.
    pub max_backoff: Duration,
}

impl Resumable {
    /// A stream for the device holding `token`, resuming from `positions`.
    pub fn new(addr: &str, transport: Transport, token: &str, positions: Positions) -> Self {
        Self {
            addrs: vec![addr.to_owned()],
            next_addr: 0,
            transport,
            token: token.to_owned(),
            positions,
            conn: None,
            tls: None,
            max_attempts: 30,
            max_backoff: Duration::from_secs(5),
        }
    }

    /// Adds servers to fail over to (other nodes of a cluster), tried in turn.
    pub fn with_fallbacks(mut self, addrs: &[&str]) -> Self {
        self.addrs.extend(addrs.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Connects over TLS, checking the servers' certificates with `tls`.
    pub fn with_tls(mut self, tls: crate::Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The positions applied so far (persist them to resume after a restart).
    pub fn positions(&self) -> &Positions {
        &self.positions
    }

    async fn connect(&mut self) -> Result<(), ClientError> {
        let mut wait = Duration::from_millis(50);
        let mut last = None;
        for _ in 0..self.max_attempts {
            let addr = self.addrs[self.next_addr % self.addrs.len()].clone();
            let client = match &self.tls {
                Some(tls) => Client::connect_tls(&addr, self.transport, Some(&self.token), tls).await,
                None => Client::connect(&addr, self.transport, Some(&self.token)).await,
            };
            match client {
                Ok(mut c) => match c.subscribe(self.positions.subscribe_request()).await {
                    Ok(events) => {
                        self.conn = Some((c, events));
                        return Ok(());
                    }
                    Err(e) if e.code == pb::ErrorCode::Unauthenticated => return Err(e),
                    Err(e) => last = Some(e),
                },
                Err(e) if e.code == pb::ErrorCode::Unauthenticated => return Err(e),
                Err(e) => last = Some(e),
            }
            self.next_addr += 1;
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.max_backoff);
        }
        Err(last.unwrap_or_else(|| ClientError::unavailable("could not reconnect")))
    }

    /// The next event: logged events exactly once and in order per log (duplicates from
    /// a resume are skipped), plus ephemeral and control events as they come. Reconnects
    /// as needed; fails when the session ended or the server stays unreachable.
    pub async fn next(&mut self) -> Result<pb::Event, ClientError> {
        loop {
            if self.conn.is_none() {
                self.connect().await?;
            }
            let Some((_, events)) = self.conn.as_mut() else { continue };
            match events.next().await {
                Some(StreamEvent::Event(e)) => match order(&self.positions, &e) {
                    Order::Next => {
                        self.positions.apply(&e);
                        return Ok(e);
                    }
                    Order::Unsequenced => return Ok(e),
                    Order::Duplicate => {}
                    // Never sent by a correct server; resuming fetches what is missing.
                    Order::Gap => self.conn = None,
                },
                Some(StreamEvent::Closed { code, reason }) if code == 4001 || reason.contains("session_ended") => {
                    self.conn = None;
                    return Err(ClientError::new(pb::ErrorCode::Unauthenticated, "the session ended"));
                }
                Some(StreamEvent::Closed { .. }) | None => self.conn = None,
            }
        }
    }
}
