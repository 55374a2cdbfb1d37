//! Live events that reach a subscriber out of order still go out in order and exactly
//! once: a predecessor that arrives late is waited for, one that never arrives is read
//! from the store.

use std::sync::{Arc, Mutex, Weak};

use switchboard_bus::{Bus, BusHandler, Envelope, LocalBus, PresenceReport, Topic};
use switchboard_core::event::{ConvEventKind, Event};
use switchboard_core::model::ConversationKind;
use switchboard_service::{
    Argon2Params, Connection, DeviceInfo, EventStream, Positions, Principal, SendRequest, ServiceConfig, Services,
    StreamItem,
};
use switchboard_store::sqlite::{SqliteOptions, SqliteStore};

/// What the bus does with the next message it is asked to publish.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Pass,
    /// Holds it back until the following one is published.
    Swap,
    /// Loses it.
    Lose,
}

/// The local bus, with a hand on the order of message events.
struct Reordering {
    inner: LocalBus,
    mode: Mutex<(Mode, Option<Envelope>)>,
    published: Mutex<Vec<Arc<Event>>>,
}

impl Reordering {
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = (mode, None);
    }

    fn pass(&self, envelope: Envelope) {
        self.published.lock().unwrap().push(envelope.event.clone());
        self.inner.publish(envelope);
    }

    fn was_published(&self, event: &Arc<Event>) -> bool {
        self.published.lock().unwrap().iter().any(|e| Arc::ptr_eq(e, event))
    }
}

impl Bus for Reordering {
    fn publish(&self, envelope: Envelope) {
        let created =
            matches!(envelope.event.as_ref(), Event::Conversation(e) if e.kind == ConvEventKind::MessageCreated);
        let mut mode = self.mode.lock().unwrap();
        match (created, mode.0, mode.1.take()) {
            (true, Mode::Swap, None) => mode.1 = Some(envelope),
            (true, Mode::Swap, Some(held)) => {
                *mode = (Mode::Pass, None);
                drop(mode);
                self.pass(envelope);
                self.pass(held);
            }
            (true, Mode::Lose, _) => *mode = (Mode::Pass, None),
            _ => {
                drop(mode);
                self.pass(envelope);
            }
        }
    }

    fn set_interest(&self, topic: Topic, interested: bool) {
        self.inner.set_interest(topic, interested);
    }

    fn attach(&self, handler: Weak<dyn BusHandler>) {
        self.inner.attach(handler);
    }

    fn is_ready(&self) -> bool {
        self.inner.is_ready()
    }

    fn report_presence(&self, report: PresenceReport) {
        self.inner.report_presence(report);
    }
}

async fn principal(services: &Services, name: &str) -> Principal {
    services.create_account(name, Some("a long enough password"), "", false, false, None).await.unwrap();
    let device = DeviceInfo { name: "test".into(), platform: "test".into() };
    let outcome = services.login(name, "a long enough password", device, None).await.unwrap();
    services.authenticate(&outcome.tokens.access_token).await.unwrap()
}

/// The next message event on the stream, with whether it is the very event the bus
/// delivered (rather than one read from the store).
async fn next_message(stream: &mut EventStream, bus: &Reordering) -> (u64, bool) {
    loop {
        let item = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await;
        let Ok(Some(StreamItem::Event(shared))) = item else { panic!("no event: {item:?}") };
        if let Event::Conversation(ev) = shared.event.as_ref() {
            return (ev.seq, bus.was_published(&shared.event));
        }
    }
}

#[tokio::test]
async fn out_of_order_live_events_go_out_in_order_waiting_for_late_ones_and_reading_lost_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(SqliteOptions::new(dir.path().join("db.sqlite"))).unwrap();
    let bus = Arc::new(Reordering {
        inner: LocalBus::new(),
        mode: Mutex::new((Mode::Pass, None)),
        published: Mutex::new(Vec::new()),
    });
    let config =
        ServiceConfig { argon2: Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }, ..Default::default() };
    let blobs = switchboard_service::BlobStore::filesystem(&dir.path().join("files")).unwrap();
    let services = Services::new(Arc::new(store), bus.clone(), blobs, config).unwrap();
    let ann = principal(&services, "ann").await;
    let bob = principal(&services, "bob").await;
    let group = services
        .create_conversation(
            &ann,
            switchboard_service::GroupSpec::new(ConversationKind::Group, "team", vec![bob.user_id]),
        )
        .await
        .unwrap();
    let id = group.conversation.id;
    let conn = Connection::open(services.hub().clone(), bob).unwrap();
    let mut stream = services.subscribe(&conn, Positions::default(), true).await.unwrap();
    loop {
        let item = stream.next().await;
        if matches!(&item, Some(StreamItem::Event(e)) if matches!(e.event.as_ref(), Event::CaughtUp { .. })) {
            break;
        }
        assert!(item.is_some(), "the stream ended");
    }
    let send = |key: &'static str| {
        let services = services.clone();
        async move {
            let req = SendRequest {
                conversation_id: Some(id),
                client_key: key.into(),
                text: Some((key.into(), vec![])),
                ..Default::default()
            };
            services.send_message(&ann, req).await.unwrap().0.seq
        }
    };

    // Published second, first: the early one waits for its predecessor; both are the
    // bus's own events, in seq order.
    bus.set(Mode::Swap);
    let first = send("one").await;
    let second = send("two").await;
    assert_eq!(next_message(&mut stream, &bus).await, (first, true));
    assert_eq!(next_message(&mut stream, &bus).await, (second, true));

    // Never published: after the wait it is read from the store, then the next follows.
    bus.set(Mode::Lose);
    let lost = send("three").await;
    let after = send("four").await;
    assert_eq!(next_message(&mut stream, &bus).await, (lost, false));
    assert_eq!(next_message(&mut stream, &bus).await, (after, true));

    // And the stream is live and in order afterwards.
    let last = send("five").await;
    assert_eq!(next_message(&mut stream, &bus).await, (last, true));
}
