//! Idle connections: N authenticated, subscribed WebSocket connections held open; the
//! server's memory per connection (from its RSS) and the connect rate. Connections come
//! from several loopback source addresses (127.0.0.2, 127.0.0.3, ...) so that the
//! ephemeral-port range of one address does not cap N.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::result;
use crate::Target;
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Connections to hold.
    pub connections: usize,
    /// New connections per second.
    pub ramp_per_sec: usize,
    /// Distinct users the connections belong to.
    pub users: usize,
    /// Loopback source addresses to spread over.
    pub source_addresses: usize,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { connections: 500, ramp_per_sec: 2_000, users: 50, source_addresses: 2 }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { connections: 100_000, ramp_per_sec: 5_000, users: 1_000, source_addresses: 8 }
    }
}

#[derive(Serialize)]
struct Metrics {
    connected: usize,
    failed: usize,
    connects_per_sec: f64,
    server_rss_before_bytes: Option<u64>,
    server_rss_after_bytes: Option<u64>,
    server_bytes_per_connection: Option<f64>,
}

async fn open(target: SocketAddr, source: IpAddr, token: &str, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(target).await?;
    let url = format!("ws://{target}/v1/ws?access_token={token}");
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    ws.send(Message::Text(r#"{"id":"s","method":"SyncService/Subscribe","body":{"liveOnly":true}}"#.into())).await?;
    tokio::spawn(async move {
        let mut stop = stop;
        loop {
            tokio::select! {
                // Reading answers the server's pings.
                m = ws.next() => if !matches!(m, Some(Ok(_))) { return },
                _ = stop.changed() => { let _ = ws.close(None).await; return }
            }
        }
    });
    Ok(())
}

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let users = setup::users(&target.addr, &format!("idle{}_", now_micros() % 1_000_000), p.users.max(1), 32).await?;
    let server: SocketAddr =
        tokio::net::lookup_host(&target.addr).await?.next().ok_or_else(|| anyhow::anyhow!("bad address"))?;
    let rss_before = target.server_rss();
    let (stop_tx, stop_rx) = watch::channel(false);
    let t0 = Instant::now();
    let (mut connected, mut failed) = (0usize, 0usize);
    let batch = (p.ramp_per_sec / 10).max(1);
    let mut i = 0;
    while i < p.connections {
        let tick = tokio::time::Instant::now() + Duration::from_millis(100);
        let mut pending = Vec::new();
        for _ in 0..batch.min(p.connections - i) {
            let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (i % p.source_addresses.max(1)) as u8));
            let token = users[i % users.len()].token.clone();
            let stop = stop_rx.clone();
            pending.push(tokio::spawn(async move { open(server, source, &token, stop).await }));
            i += 1;
        }
        for t in pending {
            match t.await {
                Ok(Ok(())) => connected += 1,
                _ => failed += 1,
            }
        }
        tokio::time::sleep_until(tick).await;
    }
    let connect_secs = t0.elapsed().as_secs_f64();
    // Let subscriptions settle before reading the server's memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = target.server_rss();
    let per_conn = match (rss_before, rss_after) {
        (Some(b), Some(a)) if connected > 0 => Some(a.saturating_sub(b) as f64 / connected as f64),
        _ => None,
    };
    let _ = stop_tx.send(true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let metrics = Metrics {
        connected,
        failed,
        connects_per_sec: connected as f64 / connect_secs,
        server_rss_before_bytes: rss_before,
        server_rss_after_bytes: rss_after,
        server_bytes_per_connection: per_conn,
    };
    Ok(result("idle_connections", p, &metrics, started))
}
