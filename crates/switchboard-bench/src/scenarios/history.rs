//! History: page latency of GetHistory (a page of 50 before a random point) in a
//! conversation holding N messages. Filling the conversation doubles as a measurement of
//! sustained persisted sends.

use std::time::Instant;

use serde::Serialize;
use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use super::result;
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};
use crate::{Target, stats::Samples};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Messages in the conversation.
    pub messages: usize,
    /// Page size.
    pub page: u32,
    /// Pages fetched.
    pub requests: usize,
    /// Parallel senders filling the conversation.
    pub fill_senders: usize,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { messages: 5_000, page: 50, requests: 300, fill_senders: 8 }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { messages: 1_000_000, page: 50, requests: 5_000, fill_senders: 32 }
    }
}

#[derive(Serialize)]
struct Metrics {
    fill_msgs_per_sec: f64,
    page_latency: crate::stats::Summary,
}

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let addr = target.addr.as_str();
    let users = setup::users(addr, &format!("hi{}_", now_micros() % 1_000_000), 2, 2).await?;
    let conv = setup::group(addr, &users[0], &users[1..]).await?;
    let fill_start = Instant::now();
    setup::fill(addr, &users[0], &conv, p.messages, p.fill_senders).await?;
    let fill_rate = p.messages as f64 / fill_start.elapsed().as_secs_f64();
    let c = Client::connect(addr, Transport::Grpc, Some(&users[1].token)).await?;
    let mut samples = Samples::default();
    let mut rng = now_micros() | 1;
    for _ in 0..p.requests {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let anchor = 1 + rng % (p.messages as u64 + 1);
        let t = Instant::now();
        let page: pb::GetHistoryResponse = c
            .call(
                "MessageService/GetHistory",
                &pb::GetHistoryRequest {
                    conversation_id: conv.clone(),
                    direction: pb::HistoryDirection::Before as i32,
                    anchor_seq: anchor,
                    limit: p.page,
                    ..Default::default()
                },
            )
            .await?;
        samples.push(t.elapsed().as_micros() as u64);
        anyhow::ensure!(page.messages.len() <= p.page as usize, "page too long");
    }
    let metrics = Metrics { fill_msgs_per_sec: fill_rate, page_latency: samples.summary() };
    Ok(result("history", p, &metrics, started))
}
