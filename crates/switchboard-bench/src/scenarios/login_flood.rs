//! Login flood: one address sends failed logins as fast as `concurrency` connections
//! allow, while two other users exchange messages. Measures how many attempts were
//! hashed and how many refused by the limits, the server's memory before, at its peak
//! and after, and the other users' send-to-deliver latency before and during the flood.
//!
//! The server's own settings decide what the flood costs: with the defaults most
//! attempts are refused by the per-address limit before any hashing; with the limits
//! turned off (`--server-env SWITCHBOARD_SERVICE__AUTH_LIMITS__...=0`) every attempt
//! hashes, which shows what the bounded hashing threads hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use switchboard_client::proto as pb;
use switchboard_client::{Client, Events, StreamEvent, Transport};

use super::result;
use crate::Target;
use crate::report::ScenarioResult;
use crate::setup::{self, now_micros};
use crate::stats::{Samples, Summary};

/// Parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Failed logins in all.
    pub attempts: usize,
    /// Connections sending them at once.
    pub concurrency: usize,
    /// Latency probes before the flood (and at least as many during it).
    pub probes: usize,
    /// Pause between probes.
    pub probe_interval_ms: u64,
}

impl Params {
    /// CI size.
    pub fn quick() -> Self {
        Self { attempts: 300, concurrency: 8, probes: 20, probe_interval_ms: 5 }
    }

    /// The documented size.
    pub fn full() -> Self {
        Self { attempts: 10_000, concurrency: 32, probes: 200, probe_interval_ms: 10 }
    }
}

#[derive(Serialize)]
struct Metrics {
    attempts: usize,
    /// Answered unauthenticated: the password was checked (hashed).
    hashed: usize,
    /// Answered resource_exhausted: refused by a limit or the hashing queue.
    refused: usize,
    /// Any other answer (should be 0).
    other: usize,
    flood_seconds: f64,
    attempts_per_sec: f64,
    rss_before_mb: Option<f64>,
    rss_peak_mb: Option<f64>,
    rss_after_mb: Option<f64>,
    latency_before: Summary,
    latency_during: Summary,
    p50_ratio: f64,
    p99_ratio: f64,
}

/// Sends one stamped message and waits for the receiver to get it; the latency in µs.
async fn probe(sender: &Client, conv: &str, events: &mut Events, key: String) -> anyhow::Result<u64> {
    let sent = now_micros();
    setup::send(sender, conv, key, sent).await?;
    loop {
        match events.next_within(Duration::from_secs(30)).await {
            Some(StreamEvent::Event(e)) => {
                if let Some(pb::event::Kind::MessageCreated(m)) = e.kind
                    && setup::stamp_of(&m) == Some(sent)
                {
                    return Ok(now_micros().saturating_sub(sent));
                }
            }
            _ => anyhow::bail!("the receiver's stream ended"),
        }
    }
}

fn mb(bytes: Option<u64>) -> Option<f64> {
    bytes.map(|b| b as f64 / (1024.0 * 1024.0))
}

/// Runs the scenario.
pub async fn run(target: &Target, p: &Params) -> anyhow::Result<ScenarioResult> {
    let started = Instant::now();
    let addr = target.addr.as_str();
    let prefix = format!("lf{}_", now_micros() % 1_000_000);
    let users = setup::users(addr, &prefix, 3, 3).await?;
    let victim = format!("{prefix}2");
    let conv = setup::direct(addr, &users[0], &users[1]).await?;
    let sender = Client::connect(addr, Transport::WsBinary, Some(&users[0].token)).await?;
    let (_receiver, mut events) = super::subscriber(addr, &users[1]).await?;
    let interval = Duration::from_millis(p.probe_interval_ms);

    let mut before = Samples::default();
    for i in 0..p.probes {
        before.push(probe(&sender, &conv, &mut events, format!("lf-before-{i}")).await?);
        tokio::time::sleep(interval).await;
    }
    let rss_before = target.server_rss();

    let next = Arc::new(AtomicUsize::new(0));
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)]);
    let t0 = Instant::now();
    let mut flood = Vec::new();
    for _ in 0..p.concurrency.max(1) {
        let (addr, victim, next, counts, attempts) =
            (addr.to_owned(), victim.clone(), next.clone(), counts.clone(), p.attempts);
        flood.push(tokio::spawn(async move {
            let anon = Client::connect(&addr, Transport::Http, None).await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= attempts {
                    return anyhow::Ok(());
                }
                let req = pb::LoginRequest { username: victim.clone(), password: format!("wrong {i}"), device: None };
                let slot = match anon.call::<_, pb::LoginResponse>("AuthService/Login", &req).await {
                    Err(e) if e.code == pb::ErrorCode::Unauthenticated => 0,
                    Err(e) if e.code == pb::ErrorCode::ResourceExhausted => 1,
                    _ => 2,
                };
                counts[slot].fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut during = Samples::default();
    let mut peak = rss_before;
    let mut i = 0;
    while i < p.probes || flood.iter().any(|t| !t.is_finished()) {
        during.push(probe(&sender, &conv, &mut events, format!("lf-during-{i}")).await?);
        peak = peak.max(target.server_rss());
        i += 1;
        tokio::time::sleep(interval).await;
    }
    for t in flood {
        t.await??;
    }
    let flood_seconds = t0.elapsed().as_secs_f64();
    let (before, during) = (before.summary(), during.summary());
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let (p50_ratio, p99_ratio) = (ratio(during.p50_ms, before.p50_ms), ratio(during.p99_ms, before.p99_ms));
    let metrics = Metrics {
        attempts: p.attempts,
        hashed: counts[0].load(Ordering::Relaxed),
        refused: counts[1].load(Ordering::Relaxed),
        other: counts[2].load(Ordering::Relaxed),
        flood_seconds,
        attempts_per_sec: p.attempts as f64 / flood_seconds,
        rss_before_mb: mb(rss_before),
        rss_peak_mb: mb(peak),
        rss_after_mb: mb(target.server_rss()),
        p50_ratio,
        p99_ratio,
        latency_before: before,
        latency_during: during,
    };
    Ok(result("login_flood", p, &metrics, started))
}
