//! The scenarios. Each takes the target and its parameters (with `quick` and `full`
//! sizes) and returns a result; none keeps state between runs.

pub mod catchup;
pub mod files;
pub mod history;
pub mod hot_group;
pub mod idle;
pub mod login_flood;
pub mod reactions;
pub mod search;
pub mod throughput;

use std::time::Instant;

use serde::Serialize;

use crate::report::ScenarioResult;

/// Wraps a scenario's output as a result.
pub(crate) fn result<P: Serialize, M: Serialize>(
    name: &str,
    params: &P,
    metrics: &M,
    started: Instant,
) -> ScenarioResult {
    ScenarioResult {
        name: name.to_owned(),
        params: serde_json::to_value(params).unwrap_or_default(),
        metrics: serde_json::to_value(metrics).unwrap_or_default(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// A subscribed receiver: counts benchmark messages from others and their latency.
pub(crate) async fn receive(
    mut events: switchboard_client::Events,
    me: String,
    expect: usize,
    deadline: tokio::time::Instant,
) -> (usize, crate::stats::Samples, Option<u64>) {
    use switchboard_client::StreamEvent;
    use switchboard_client::proto::event::Kind;
    let mut samples = crate::stats::Samples::default();
    let (mut got, mut last) = (0usize, None);
    while got < expect {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match events.next_within(left).await {
            Some(StreamEvent::Event(e)) => {
                if let Some(Kind::MessageCreated(m)) = e.kind
                    && m.sender_id != me
                    && let Some(sent) = crate::setup::stamp_of(&m)
                {
                    let now = crate::setup::now_micros();
                    samples.push(now.saturating_sub(sent));
                    got += 1;
                    last = Some(now);
                }
            }
            Some(StreamEvent::Closed { .. }) | None => break,
        }
    }
    (got, samples, last)
}

/// Connects `user` over WebSocket (binary) and subscribes to live events.
pub(crate) async fn subscriber(
    addr: &str,
    user: &crate::setup::User,
) -> anyhow::Result<(switchboard_client::Client, switchboard_client::Events)> {
    use switchboard_client::{Client, StreamEvent, Transport};
    let mut c = Client::connect(addr, Transport::WsBinary, Some(&user.token)).await?;
    let mut events =
        c.subscribe(switchboard_client::proto::SubscribeRequest { live_only: true, ..Default::default() }).await?;
    // Wait for caught_up so that the stream is live before anything is sent.
    loop {
        match events.next_within(std::time::Duration::from_secs(30)).await {
            Some(StreamEvent::Event(e))
                if matches!(e.kind, Some(switchboard_client::proto::event::Kind::CaughtUp(_))) =>
            {
                break;
            }
            Some(StreamEvent::Event(_)) => {}
            _ => anyhow::bail!("subscription ended before catching up"),
        }
    }
    Ok((c, events))
}
