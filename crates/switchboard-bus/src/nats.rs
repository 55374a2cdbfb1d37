//! The NATS bus: one subject per topic (`<prefix>.conv.<id>`, `<prefix>.user.<id>`), a
//! subscription only for topics this node has interest in, one subject every node hears
//! (`<prefix>.nodes`, presence reports), and a single publisher task so that what one
//! node publishes leaves in order.
//!
//! Live delivery is core NATS (at most once). Whatever a node misses — its own restart, a
//! NATS outage, the moment before a new subscription is in place — is recovered from the
//! store: after every reconnect and after every new subscription the handler is asked to
//! resync, and the sync subscriptions re-read their logs.
//!
//! Every message carries its format in the `Switchboard-Format` header ([`FORMAT`]; none
//! means 1, what nodes sent before the header existed); payloads are encoded by
//! `switchboard_format`, which reads every format this build knows. A message in a format this node
//! does not know — from a newer node during a rolling upgrade — or one it cannot decode is
//! not guessed at: the handler is asked to resync that topic, so its readers get the
//! events from the store instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use futures_util::StreamExt;
use switchboard_core::event::Event;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{Bus, BusHandler, Envelope, PresenceReport, Topic};

/// The format of the payloads this build sends (`switchboard_format::CURRENT`).
pub const FORMAT: u32 = switchboard_format::CURRENT;

/// The header that carries a message's format.
pub const FORMAT_HEADER: &str = "Switchboard-Format";

/// The format a received message declares (1 when it declares none).
fn format_of(msg: &async_nats::Message) -> Option<u32> {
    match msg.headers.as_ref().and_then(|h| h.get(FORMAT_HEADER)) {
        None => Some(1),
        Some(v) => v.as_str().trim().parse().ok(),
    }
}

/// Decodes a received payload in the format it declares.
fn decode<T: switchboard_format::Stored>(msg: &async_nats::Message) -> Result<T, String> {
    let Some(format) = format_of(msg).filter(|f| switchboard_format::reads(*f)) else {
        metrics::counter!("switchboard_bus_unknown_format_total").increment(1);
        return Err(format!("format {:?}; this node reads {:?}", format_of(msg), switchboard_format::READS));
    };
    switchboard_format::decode(format, &msg.payload).map_err(|e| e.to_string())
}

/// Why the NATS bus could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to NATS at {url}: {reason}")]
pub struct NatsBusError {
    url: String,
    reason: String,
}

type Slot = Arc<OnceLock<Weak<dyn BusHandler>>>;

fn handler(slot: &Slot) -> Option<Arc<dyn BusHandler>> {
    slot.get().and_then(Weak::upgrade)
}

/// What the publisher task sends.
enum Outgoing {
    Event(Envelope),
    Report(PresenceReport),
}

/// The cluster bus.
pub struct NatsBus {
    client: async_nats::Client,
    prefix: String,
    handler: Slot,
    out: mpsc::Sender<Outgoing>,
    subs: Mutex<HashMap<Topic, JoinHandle<()>>>,
}

fn subject(prefix: &str, topic: Topic) -> String {
    match topic {
        Topic::Conversation(c) => format!("{prefix}.conv.{c}"),
        Topic::User(u) => format!("{prefix}.user.{u}"),
        Topic::Broadcast => format!("{prefix}.all"),
    }
}

impl NatsBus {
    /// Connects to `url`; subjects start with `prefix`. Keeps reconnecting by itself
    /// when the connection drops.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, NatsBusError> {
        Self::connect_with(url, prefix, None).await
    }

    /// As [`connect`](Self::connect), trusting the certificate authorities of the PEM file
    /// `tls_ca` for TLS (which it then requires) instead of the system's roots.
    pub async fn connect_with(url: &str, prefix: &str, tls_ca: Option<&std::path::Path>) -> Result<Self, NatsBusError> {
        let slot: Slot = Arc::default();
        let events = slot.clone();
        let mut options = async_nats::ConnectOptions::new();
        if let Some(ca) = tls_ca {
            options = options.add_root_certificates(ca.to_owned()).require_tls(true);
        }
        let client = options
            .name("switchboard")
            .retry_on_initial_connect()
            .max_reconnects(None)
            .event_callback(move |ev| {
                let events = events.clone();
                async move {
                    match ev {
                        async_nats::Event::Connected => {
                            metrics::gauge!("switchboard_bus_connected").set(1.0);
                            tracing::info!("NATS connected; resyncing live streams from the store");
                            if let Some(h) = handler(&events) {
                                h.resync(None);
                            }
                        }
                        async_nats::Event::Disconnected => {
                            metrics::gauge!("switchboard_bus_connected").set(0.0);
                            metrics::counter!("switchboard_bus_disconnects_total").increment(1);
                            tracing::warn!("NATS disconnected; reconnecting");
                        }
                        other => tracing::debug!(event = %other, "NATS event"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|e| NatsBusError { url: url.to_owned(), reason: e.to_string() })?;
        let up = client.connection_state() == async_nats::connection::State::Connected;
        metrics::gauge!("switchboard_bus_connected").set(if up { 1.0 } else { 0.0 });
        let (out, rx) = mpsc::channel(65_536);
        tokio::spawn(publisher(client.clone(), prefix.to_owned(), rx));
        tokio::spawn(reports(client.clone(), format!("{prefix}.nodes"), slot.clone()));
        let bus = Self { client, prefix: prefix.to_owned(), handler: slot, out, subs: Mutex::default() };
        // Every node hears the broadcast topic, whatever its clients follow.
        bus.set_interest(Topic::Broadcast, true);
        Ok(bus)
    }

    fn subscribe(&self, topic: Topic) -> JoinHandle<()> {
        let (client, slot, subject) = (self.client.clone(), self.handler.clone(), subject(&self.prefix, topic));
        let probe = format!("{}.round-trip", self.prefix);
        tokio::spawn(async move {
            let mut sub = match client.subscribe(subject.clone()).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, subject, "NATS subscribe failed");
                    return;
                }
            };
            // Once the server has the subscription, re-read what may have been published
            // before it was in place.
            if server_caught_up(&client, probe).await
                && let Some(h) = handler(&slot)
            {
                h.resync(Some(topic));
            }
            while let Some(msg) = sub.next().await {
                let Some(h) = handler(&slot) else { continue };
                match decode::<Event>(&msg) {
                    Ok(event) => h.deliver(Envelope { topic, event: Arc::new(event) }),
                    Err(e) => {
                        tracing::warn!(error = %e, subject, "unreadable bus message; re-reading the topic from the store");
                        h.resync(Some(topic));
                    }
                }
            }
        })
    }
}

/// Waits until the server has processed everything this client sent before (`flush` only
/// writes the socket): a request to a subject nobody serves comes back "no responders" once
/// the server reached it. False when the connection failed meanwhile (its reconnect
/// resyncs every topic); true also on a timeout (a server too old to say "no responders"),
/// so that the resync still happens.
async fn server_caught_up(client: &async_nats::Client, probe: String) -> bool {
    use async_nats::RequestErrorKind as K;
    match client.request(probe, bytes::Bytes::new()).await {
        Ok(_) => true,
        Err(e) => matches!(e.kind(), K::NoResponders | K::TimedOut),
    }
}

async fn reports(client: async_nats::Client, subject: String, slot: Slot) {
    let mut sub = match client.subscribe(subject.clone()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, subject, "NATS subscribe failed; presence stays node-local");
            return;
        }
    };
    while let Some(msg) = sub.next().await {
        match decode::<PresenceReport>(&msg) {
            Ok(report) => {
                if let Some(h) = handler(&slot) {
                    h.presence_reported(report);
                }
            }
            // The sender's next full report (every heartbeat) is in a format this node may
            // read once both run the same version; until then its users look offline here.
            Err(e) => tracing::warn!(error = %e, subject, "unreadable presence report"),
        }
    }
}

async fn publisher(client: async_nats::Client, prefix: String, mut rx: mpsc::Receiver<Outgoing>) {
    let nodes = format!("{prefix}.nodes");
    while let Some(item) = rx.recv().await {
        let (subject, payload) = match &item {
            Outgoing::Event(env) => (subject(&prefix, env.topic), switchboard_format::encode(env.event.as_ref())),
            Outgoing::Report(r) => (nodes.clone(), switchboard_format::encode(r)),
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(FORMAT_HEADER, FORMAT.to_string().as_str());
        if let Err(e) = client.publish_with_headers(subject, headers, payload.into_bytes().into()).await {
            metrics::counter!("switchboard_bus_publish_errors_total").increment(1);
            tracing::warn!(error = %e, "NATS publish failed; readers recover from the store");
        }
    }
}

impl Bus for NatsBus {
    fn publish(&self, envelope: Envelope) {
        if self.out.try_send(Outgoing::Event(envelope)).is_err() {
            metrics::counter!("switchboard_bus_publish_errors_total").increment(1);
            tracing::warn!("bus publish queue full; readers recover from the store");
        }
    }

    fn set_interest(&self, topic: Topic, interested: bool) {
        let mut subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        if interested {
            subs.entry(topic).or_insert_with(|| self.subscribe(topic));
        } else if let Some(handle) = subs.remove(&topic) {
            handle.abort();
        }
    }

    fn attach(&self, handler: Weak<dyn BusHandler>) {
        let _ = self.handler.set(handler);
    }

    fn is_ready(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    fn report_presence(&self, report: PresenceReport) {
        if self.out.try_send(Outgoing::Report(report)).is_err() {
            tracing::warn!("bus publish queue full; the next heartbeat carries the presence report");
        }
    }
}
