//! The NATS bus against a real NATS server: the format header on what it sends, and what
//! it does with messages in a format it cannot read (a newer node's, during a rolling
//! upgrade). Needs `SWITCHBOARD_TEST_NATS_URL`; without it each test says so and passes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use switchboard_bus::{Bus, BusHandler, Envelope, FORMAT, FORMAT_HEADER, NatsBus, PresenceReport, Topic};
use switchboard_core::event::{Event, Typing};
use switchboard_core::{ConversationId, UserId};

#[derive(Default)]
struct Recorder {
    delivered: Mutex<Vec<Envelope>>,
    resyncs: Mutex<Vec<Option<Topic>>>,
}

impl BusHandler for Recorder {
    fn deliver(&self, envelope: Envelope) {
        self.delivered.lock().unwrap().push(envelope);
    }
    fn resync(&self, topic: Option<Topic>) {
        self.resyncs.lock().unwrap().push(topic);
    }
    fn presence_reported(&self, _report: PresenceReport) {}
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn prefix() -> String {
    format!("sbtest{}x{}", std::process::id(), rand_suffix())
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 % 1_000_000_007
}

fn typing(conversation: i64) -> Event {
    Event::Typing(Typing {
        conversation_id: ConversationId::from_raw(conversation),
        user_id: UserId::from_raw(7),
        typing: true,
        expires_at_ms: 0,
    })
}

/// A bus with a recording handler, subscribed to `topic` (the subscription in place).
async fn bus(url: &str, prefix: &str, topic: Topic) -> (NatsBus, Arc<Recorder>) {
    let bus = NatsBus::connect(url, prefix).await.expect("connect to NATS");
    let recorder = Arc::new(Recorder::default());
    let handler: Arc<dyn BusHandler> = recorder.clone();
    // `recorder` keeps the handler alive.
    bus.attach(Arc::downgrade(&handler));
    bus.set_interest(topic, true);
    until("the subscription", || recorder.resyncs.lock().unwrap().contains(&Some(topic))).await;
    recorder.resyncs.lock().unwrap().clear();
    (bus, recorder)
}

#[tokio::test]
async fn what_the_bus_sends_says_its_format_and_what_it_cannot_read_makes_readers_resync() {
    let Ok(url) = std::env::var("SWITCHBOARD_TEST_NATS_URL") else {
        eprintln!("skipped: SWITCHBOARD_TEST_NATS_URL is not set");
        return;
    };
    let prefix = prefix();
    let topic = Topic::Conversation(ConversationId::from_raw(41));
    let subject = format!("{prefix}.conv.41");
    let (bus, recorder) = bus(&url, &prefix, topic).await;
    let raw = async_nats::connect(&url).await.expect("raw client");
    let mut watch = raw.subscribe(subject.clone()).await.expect("subscribe");
    // `flush` does not wait for the server to take a subscription: probe (headerless
    // messages, an older node's format) until both this client and the bus hear them.
    let probe = || switchboard_format::encode(&typing(41)).into_bytes();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut raw_hears = false;
    while !raw_hears || recorder.delivered.lock().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the subscriptions never came up");
        raw.publish(subject.clone(), probe().into()).await.unwrap();
        raw_hears |= matches!(tokio::time::timeout(Duration::from_millis(100), watch.next()).await, Ok(Some(_)));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let delivered = || recorder.delivered.lock().unwrap().len();
    let probes = delivered();
    // The older node's messages were read as format 1.
    assert!(recorder.delivered.lock().unwrap().iter().all(|e| *e.event == typing(41)));

    // What this node publishes carries the header, and comes back decoded.
    bus.publish(Envelope { topic, event: Arc::new(typing(41)) });
    let sent = loop {
        let m = tokio::time::timeout(Duration::from_secs(5), watch.next()).await.expect("a message").expect("open");
        if m.headers.is_some() {
            break m;
        }
    };
    let header = sent.headers.as_ref().and_then(|h| h.get(FORMAT_HEADER)).map(|v| v.as_str().to_owned());
    assert_eq!(header.as_deref(), Some(FORMAT.to_string().as_str()));
    until("the delivery", || delivered() == probes + 1).await;

    // A newer format is not guessed at, and neither is a payload that does not decode: the
    // topic's readers are sent to the store instead.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(FORMAT_HEADER, (FORMAT + 1).to_string().as_str());
    raw.publish_with_headers(subject.clone(), headers, switchboard_format::encode(&typing(41)).into_bytes().into())
        .await
        .unwrap();
    // (A reconnect may add resyncs of every topic, `None`; only this topic's count here.)
    let of_topic = || recorder.resyncs.lock().unwrap().iter().filter(|t| **t == Some(topic)).count();
    until("a resync for the newer format", || of_topic() == 1).await;
    raw.publish(subject.clone(), b"{not json".to_vec().into()).await.unwrap();
    until("a resync for the bad payload", || of_topic() == 2).await;
    assert_eq!(delivered(), probes + 1, "nothing unreadable was delivered");
}
