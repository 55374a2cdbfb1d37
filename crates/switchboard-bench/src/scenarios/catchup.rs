//! Catch-up: a device is offline while K events happen; how long until it has all of them
//! after reconnecting.

use std::time::Instant;

use serde::Serialize;
use switchboard_client::proto::event::Kind;
use switchboard_client::{Client, Positions, StreamEvent, Transport};

use super::result;
use crate::Target;
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Events that happen while the device is offline.
    pub events: usize,
    /// Parallel senders producing them.
    pub senders: usize,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { events: 1_000, senders: 4 }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { events: 10_000, senders: 8 }
    }
}

#[derive(Serialize)]
struct Metrics {
    events_received: usize,
    catch_up_ms: f64,
    events_per_sec: f64,
}

async fn drain_until_caught_up(events: &mut switchboard_client::Events, pos: &mut Positions) -> anyhow::Result<usize> {
    let mut n = 0;
    loop {
        match events.next_within(std::time::Duration::from_secs(120)).await {
            Some(StreamEvent::Event(e)) => {
                if matches!(e.kind, Some(Kind::CaughtUp(_))) {
                    return Ok(n);
                }
                if pos.apply(&e) && e.seq > 0 {
                    n += 1;
                }
            }
            _ => anyhow::bail!("stream ended during catch-up"),
        }
    }
}

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let addr = target.addr.as_str();
    let users = setup::users(addr, &format!("cu{}_", now_micros() % 1_000_000), 2, 2).await?;
    let conv = setup::group(addr, &users[1], &users[..1]).await?;
    let mut pos = Positions::default();
    {
        let mut device = Client::connect(addr, Transport::WsBinary, Some(&users[0].token)).await?;
        let mut events = device.subscribe(pos.subscribe_request()).await?;
        drain_until_caught_up(&mut events, &mut pos).await?;
        device.close().await;
    }
    setup::fill(addr, &users[1], &conv, p.events, p.senders).await?;
    let t0 = Instant::now();
    let mut device = Client::connect(addr, Transport::WsBinary, Some(&users[0].token)).await?;
    let mut events = device.subscribe(pos.subscribe_request()).await?;
    let got = drain_until_caught_up(&mut events, &mut pos).await?;
    let secs = t0.elapsed().as_secs_f64();
    anyhow::ensure!(got == p.events, "caught up {got} of {} events", p.events);
    let metrics = Metrics { events_received: got, catch_up_ms: secs * 1000.0, events_per_sec: got as f64 / secs };
    Ok(result("catch_up", p, &metrics, started))
}
