//! Reactions: one message in a group of M online members, R members reacting to it at
//! once (each adding and taking back emoji in turn, so every call changes something and is
//! an event for everyone); reactions stored per second, and the events that reached the
//! members. The receivers are the hot-group scenario's light WebSocket clients: they count
//! frames without decoding them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream;
use serde::Serialize;
use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};
use tokio_tungstenite::tungstenite::Message;

use super::hot_group::light_subscriber;
use super::result;
use crate::Target;
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Online members.
    pub members: usize,
    /// Of them, how many react at once.
    pub reactors: usize,
    /// Reaction changes per reactor.
    pub per_reactor: usize,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { members: 100, reactors: 10, per_reactor: 10 }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { members: 1_000, reactors: 50, per_reactor: 40 }
    }
}

#[derive(Serialize)]
struct Metrics {
    reactions: usize,
    reactions_per_sec: f64,
    deliveries: usize,
    expected_deliveries: usize,
    deliveries_per_sec: f64,
    call_latency: crate::stats::Summary,
}

const EMOJI: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🔥", "🙏"];

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let addr = target.addr.as_str();
    let members = p.members.max(p.reactors).max(1);
    let users = setup::users(addr, &format!("re{}_", now_micros() % 1_000_000), members, 32).await?;
    let conv = setup::group(addr, &users[0], &users[1..]).await?;
    let owner = Client::connect(addr, Transport::Grpc, Some(&users[0].token)).await?;
    let sent: pb::SendMessageResponse = owner
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv.clone(),
                client_key: "react-here".into(),
                text: Some(pb::TextContent { text: "react to this".into(), ..Default::default() }),
                ..Default::default()
            },
        )
        .await?;
    let message_id = sent.message.context("message")?.id;
    let server: SocketAddr = tokio::net::lookup_host(addr).await?.next().context("bad address")?;
    let subs: Vec<_> =
        stream::iter(users.iter()).map(|m| light_subscriber(server, &m.token)).buffer_unordered(64).collect().await;
    let subs: Vec<_> = subs.into_iter().collect::<anyhow::Result<_>>()?;
    let expected = p.reactors * p.per_reactor;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let counters: Vec<_> = subs
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let (mut got, mut last) = (0usize, 0u64);
                while got < expected {
                    match tokio::time::timeout_at(deadline, ws.next()).await {
                        Ok(Some(Ok(Message::Binary(_)))) => {
                            got += 1;
                            last = now_micros();
                        }
                        Ok(Some(Ok(_))) => {}
                        _ => break,
                    }
                }
                (got, last)
            })
        })
        .collect();
    let first = now_micros();
    let calls: Vec<anyhow::Result<Vec<u64>>> = stream::iter(users.iter().take(p.reactors).enumerate())
        .map(|(r, u)| {
            let (conv, message_id, token) = (conv.clone(), message_id.clone(), u.token.clone());
            let n = p.per_reactor;
            async move {
                let c = Client::connect(addr, Transport::WsBinary, Some(&token)).await?;
                let mut times = Vec::with_capacity(n);
                for i in 0..n {
                    let emoji = EMOJI[(r + i / 2) % EMOJI.len()].to_owned();
                    let t = Instant::now();
                    let req = (conv.clone(), message_id.clone(), emoji);
                    if i % 2 == 0 {
                        let _: pb::AddReactionResponse = c
                            .call(
                                "MessageService/AddReaction",
                                &pb::AddReactionRequest {
                                    conversation_id: req.0,
                                    message_id: req.1,
                                    emoji: req.2,
                                    ..Default::default()
                                },
                            )
                            .await?;
                    } else {
                        let _: pb::RemoveReactionResponse = c
                            .call(
                                "MessageService/RemoveReaction",
                                &pb::RemoveReactionRequest {
                                    conversation_id: req.0,
                                    message_id: req.1,
                                    emoji: req.2,
                                    ..Default::default()
                                },
                            )
                            .await?;
                    }
                    times.push(t.elapsed().as_micros() as u64);
                }
                Ok(times)
            }
        })
        .buffer_unordered(p.reactors.max(1))
        .collect()
        .await;
    let done = now_micros();
    let mut latency = crate::stats::Samples::default();
    for times in calls {
        for t in times? {
            latency.push(t);
        }
    }
    let (mut deliveries, mut last) = (0usize, done);
    for c in counters {
        let (got, l) = c.await?;
        deliveries += got;
        last = last.max(l);
    }
    let metrics = Metrics {
        reactions: expected,
        reactions_per_sec: expected as f64 / ((done - first).max(1) as f64 / 1e6),
        deliveries,
        expected_deliveries: expected * users.len(),
        deliveries_per_sec: deliveries as f64 / ((last - first).max(1) as f64 / 1e6),
        call_latency: latency.summary(),
    };
    Ok(result("reactions", p, &metrics, started))
}
