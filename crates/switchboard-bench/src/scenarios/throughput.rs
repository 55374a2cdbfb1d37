//! Throughput and latency: many 1:1 pairs and 10-member groups sending at once. Closed loop
//! (as fast as acknowledgements allow) or open loop at a fixed total rate, where latency is
//! measured from each message's scheduled send time so that stalls cannot hide.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use switchboard_client::{Client, Transport};

use super::{receive, result, subscriber};
use crate::report::ScenarioResult;
use crate::setup::{self, User, now_micros};
use crate::{Target, stats::Samples};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// 1:1 pairs (one sender each).
    pub pairs: usize,
    /// Groups (one sender each).
    pub groups: usize,
    /// Members per group.
    pub group_size: usize,
    /// Sending time, seconds.
    pub seconds: u64,
    /// Open loop: total messages per second; `None` = closed loop.
    pub rate: Option<u64>,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { pairs: 20, groups: 4, group_size: 10, seconds: 3, rate: None }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { pairs: 500, groups: 100, group_size: 10, seconds: 20, rate: None }
    }
}

#[derive(Serialize)]
struct Metrics {
    mode: &'static str,
    persisted: usize,
    persisted_per_sec: f64,
    deliveries: usize,
    latency: crate::stats::Summary,
}

struct Conv {
    id: String,
    sender: User,
    receivers: Vec<User>,
}

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let addr = target.addr.as_str();
    let tag = now_micros() % 1_000_000;
    let users = setup::users(addr, &format!("tp{tag}_"), p.pairs * 2 + p.groups * p.group_size, 32).await?;
    let mut convs = Vec::new();
    for pair in users[..p.pairs * 2].chunks(2) {
        let id = setup::direct(addr, &pair[0], &pair[1]).await?;
        convs.push(Conv { id, sender: pair[0].clone(), receivers: vec![pair[1].clone()] });
    }
    for g in users[p.pairs * 2..].chunks(p.group_size.max(2)) {
        let id = setup::group(addr, &g[0], &g[1..]).await?;
        convs.push(Conv { id, sender: g[0].clone(), receivers: g[1..].to_vec() });
    }
    let receivers: Vec<User> = convs.iter().flat_map(|c| c.receivers.clone()).collect();
    let subs: Vec<_> = stream::iter(receivers.iter()).map(|u| subscriber(addr, u)).buffer_unordered(64).collect().await;
    let subs: Vec<_> = subs.into_iter().collect::<anyhow::Result<_>>()?;
    let send_until = tokio::time::Instant::now() + Duration::from_secs(p.seconds);
    // Receivers keep reading a little past the sending time, for what is in flight.
    let deadline = send_until + Duration::from_secs(3);
    let mut rx_tasks = Vec::new();
    for (i, (client, events)) in subs.into_iter().enumerate() {
        let me = receivers[i].id.clone();
        rx_tasks.push(tokio::spawn(async move {
            let r = receive(events, me, usize::MAX, deadline).await;
            drop(client);
            r
        }));
    }
    let per_sender_interval = p.rate.map(|r| Duration::from_secs_f64(convs.len() as f64 / r.max(1) as f64));
    let mut tx_tasks = Vec::new();
    for conv in &convs {
        let (addr, conv_id, token) = (addr.to_owned(), conv.id.clone(), conv.sender.token.clone());
        tx_tasks.push(tokio::spawn(async move {
            let c = Client::connect(&addr, Transport::WsBinary, Some(&token)).await?;
            let (mut sent, start) = (0usize, tokio::time::Instant::now());
            while tokio::time::Instant::now() < send_until {
                let stamp = match per_sender_interval {
                    Some(iv) => {
                        let at = start + iv * sent as u32;
                        tokio::time::sleep_until(at).await;
                        // Latency counts from the scheduled time, not the actual one.
                        now_micros().saturating_sub(tokio::time::Instant::now().saturating_duration_since(at).as_micros() as u64)
                    }
                    None => now_micros(),
                };
                setup::send(&c, &conv_id, format!("tp-{conv_id}-{sent}"), stamp).await?;
                sent += 1;
            }
            anyhow::Ok(sent)
        }));
    }
    let mut persisted = 0;
    for t in tx_tasks {
        persisted += t.await??;
    }
    let (mut deliveries, mut samples) = (0usize, Samples::default());
    for t in rx_tasks {
        let (got, s, _) = t.await?;
        deliveries += got;
        samples.extend(s);
    }
    let metrics = Metrics {
        mode: if p.rate.is_some() { "open-loop" } else { "closed-loop" },
        persisted,
        persisted_per_sec: persisted as f64 / p.seconds.max(1) as f64,
        deliveries,
        latency: samples.summary(),
    };
    Ok(result("throughput", p, &metrics, started))
}
