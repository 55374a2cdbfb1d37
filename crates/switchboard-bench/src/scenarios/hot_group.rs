//! Hot group: one conversation with M online members; one sender; deliveries per second
//! and the delivery-latency distribution at the receivers.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use switchboard_client::{Client, Transport};

use super::{receive, result, subscriber};
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};
use crate::{Target, stats::Samples};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Online members (besides the sender).
    pub members: usize,
    /// Messages sent.
    pub messages: usize,
    /// Sends in flight.
    pub in_flight: usize,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { members: 200, messages: 20, in_flight: 4 }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { members: 10_000, messages: 50, in_flight: 8 }
    }
}

#[derive(Serialize)]
struct Metrics {
    deliveries: usize,
    expected: usize,
    deliveries_per_sec: f64,
    latency: crate::stats::Summary,
}

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let addr = target.addr.as_str();
    let users = setup::users(addr, &format!("hot{}_", now_micros() % 1_000_000), p.members + 1, 32).await?;
    let (sender, members) = users.split_first().expect("at least one user");
    let conv = setup::group(addr, sender, members).await?;
    let subs: Vec<_> = stream::iter(members.iter()).map(|m| subscriber(addr, m)).buffer_unordered(64).collect().await;
    let subs: Vec<_> = subs.into_iter().collect::<anyhow::Result<_>>()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut receivers = Vec::new();
    for (i, (client, events)) in subs.into_iter().enumerate() {
        let me = members[i].id.clone();
        let expect = p.messages;
        receivers.push(tokio::spawn(async move {
            let r = receive(events, me, expect, deadline).await;
            drop(client);
            r
        }));
    }
    let c = Client::connect(addr, Transport::WsBinary, Some(&sender.token)).await?;
    let first_send = now_micros();
    let sends: Vec<anyhow::Result<u64>> = stream::iter(0..p.messages)
        .map(|i| setup::send(&c, &conv, format!("hot-{conv}-{i}"), now_micros()))
        .buffer_unordered(p.in_flight.max(1))
        .collect()
        .await;
    sends.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let (mut total, mut samples, mut last) = (0usize, Samples::default(), first_send);
    for r in receivers {
        let (got, s, l) = r.await?;
        total += got;
        samples.extend(s);
        last = last.max(l.unwrap_or(0));
    }
    let secs = (last.saturating_sub(first_send)).max(1) as f64 / 1e6;
    let metrics = Metrics {
        deliveries: total,
        expected: p.members * p.messages,
        deliveries_per_sec: total as f64 / secs,
        latency: samples.summary(),
    };
    Ok(result("hot_group", p, &metrics, started))
}
