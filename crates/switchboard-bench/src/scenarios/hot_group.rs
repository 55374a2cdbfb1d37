//! Hot group: one conversation with M online members; one sender; deliveries per second
//! and the delivery-latency distribution at the receivers.
//!
//! The receivers are light: plain WebSocket connections (binary frames, as the SDK uses)
//! that subscribe like any client and then only find the send time in each event frame's
//! bytes, without decoding it. With 10,000 receivers on the server's own two cores, SDK
//! clients decoding every event cost more CPU than the server's fan-out and capped the
//! figure at what the load generator could absorb.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::SinkExt;
use futures_util::stream::{self, StreamExt};
use prost::Message as _;
use serde::Serialize;
use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use super::result;
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};
use crate::{Target, stats::Samples};

type Socket = WebSocketStream<TcpStream>;

/// Connects `token`'s user over WebSocket and subscribes to live events (binary frames);
/// returns once the subscription is live.
pub(crate) async fn light_subscriber(server: SocketAddr, token: &str) -> anyhow::Result<Socket> {
    let stream = TcpStream::connect(server).await?;
    stream.set_nodelay(true)?;
    let url = format!("ws://{server}/v1/ws?access_token={token}");
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    let body = pb::SubscribeRequest { live_only: true, ..Default::default() }.encode_to_vec();
    let frame = pb::ClientFrame { id: "s".into(), method: "SyncService/Subscribe".into(), body };
    ws.send(Message::Binary(frame.encode_to_vec().into())).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let m = tokio::time::timeout_at(deadline, ws.next()).await.context("no caught_up within 30 s")?;
        let Some(Ok(Message::Binary(b))) = m else {
            match m {
                Some(Ok(_)) => continue,
                _ => anyhow::bail!("the socket closed before the subscription was live"),
            }
        };
        match pb::ServerFrame::decode(b.as_ref())?.kind {
            Some(pb::server_frame::Kind::Event(pb::Event { kind: Some(pb::event::Kind::CaughtUp(_)), .. })) => {
                return Ok(ws);
            }
            Some(pb::server_frame::Kind::Response(pb::ResponseFrame {
                result: Some(pb::response_frame::Result::Error(e)),
                ..
            })) => anyhow::bail!("subscribe failed: {}", e.message),
            _ => {}
        }
    }
}

/// The send time stamped in a benchmark message, found in an encoded event frame: the
/// text travels as plain bytes inside the protobuf encoding.
fn stamp_in(frame: &[u8]) -> Option<u64> {
    const MARK: &[u8] = b"bench t=";
    let at = frame.windows(MARK.len()).position(|w| w == MARK)? + MARK.len();
    let digits = frame[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&frame[at..at + digits]).ok()?.parse().ok()
}

/// Counts the benchmark messages arriving on `ws` and their latency.
async fn light_receive(mut ws: Socket, expect: usize, deadline: tokio::time::Instant) -> (usize, Samples, Option<u64>) {
    let mut samples = Samples::default();
    let (mut got, mut last) = (0usize, None);
    while got < expect {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                if let Some(sent) = stamp_in(&b) {
                    let now = now_micros();
                    samples.push(now.saturating_sub(sent));
                    got += 1;
                    last = Some(now);
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    (got, samples, last)
}

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Online members (besides the sender).
    pub members: usize,
    /// Messages sent.
    pub messages: usize,
    /// Sends in flight.
    pub in_flight: usize,
    /// How the receivers read: plain WebSocket connections that only find the stamp.
    pub receivers: &'static str,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { members: 200, messages: 20, in_flight: 4, receivers: "light" }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { members: 10_000, messages: 50, in_flight: 8, receivers: "light" }
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
    let server: SocketAddr = tokio::net::lookup_host(addr).await?.next().context("bad address")?;
    let subs: Vec<_> =
        stream::iter(members.iter()).map(|m| light_subscriber(server, &m.token)).buffer_unordered(64).collect().await;
    let subs: Vec<_> = subs.into_iter().collect::<anyhow::Result<_>>()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let receivers: Vec<_> = subs.into_iter().map(|ws| tokio::spawn(light_receive(ws, p.messages, deadline))).collect();
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

#[cfg(test)]
mod tests {
    use super::stamp_in;

    #[test]
    fn the_stamp_is_found_in_an_encoded_event() {
        use prost::Message as _;
        use switchboard_client::proto as pb;
        let text = pb::TextContent { text: crate::setup::stamped(1_234_567), entities: vec![], ..Default::default() };
        let m = pb::Message { content: Some(pb::message::Content::Text(text)), ..Default::default() };
        let frame = pb::ServerFrame {
            kind: Some(pb::server_frame::Kind::Event(pb::Event {
                kind: Some(pb::event::Kind::MessageCreated(m)),
                ..Default::default()
            })),
        };
        assert_eq!(stamp_in(&frame.encode_to_vec()), Some(1_234_567));
        assert_eq!(stamp_in(b"no stamp here"), None);
    }
}
