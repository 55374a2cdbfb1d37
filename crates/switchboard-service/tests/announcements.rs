//! Ordering of what the service announces against what it has stored: a device that reads a
//! space or channel the moment it hears it joined one must find it. The bus here checks,
//! at the instant each ConversationJoined is published, that the space reads back and its
//! layout lists the channel.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use switchboard_bus::{Bus, BusHandler, Envelope, LocalBus, PresenceReport, Topic};
use switchboard_core::event::{Event, UserEventKind};
use switchboard_core::model::ConversationKind;
use switchboard_service::{Argon2Params, BlobStore, DeviceInfo, NewChannel, Principal, ServiceConfig, Services};
use switchboard_store::sqlite::{SqliteOptions, SqliteStore};

/// A local bus that, before delivering a ConversationJoined, reads the conversation's
/// space through the service and records what it found.
#[derive(Default)]
struct Watching {
    local: LocalBus,
    reader: OnceLock<(Services, Principal)>,
    found: Mutex<Vec<Result<(), String>>>,
}

impl Watching {
    async fn check(services: &Services, p: &Principal, id: switchboard_core::ConversationId) -> Result<(), String> {
        let view = services.get_conversation(p, id).await.map_err(|e| format!("conversation {id:?}: {e:?}"))?;
        let space = match view.conversation.kind {
            ConversationKind::Space => id,
            ConversationKind::SpaceChannel => view.conversation.space_id.ok_or("a channel without its space")?,
            _ => return Ok(()),
        };
        let space =
            services.get_space(p, space).await.map_err(|e| format!("space {space:?} on joining {id:?}: {e:?}"))?;
        if view.conversation.kind == ConversationKind::SpaceChannel
            && !space.channels.iter().any(|c| c.conversation.id == id)
        {
            return Err(format!("channel {id:?} is not in its space's layout yet"));
        }
        Ok(())
    }
}

impl Bus for Watching {
    fn publish(&self, envelope: Envelope) {
        if let Event::User(ev) = envelope.event.as_ref()
            && let UserEventKind::ConversationJoined { conversation_id, .. } = ev.kind
            && let Some((services, p)) = self.reader.get()
            && ev.user_id == p.user_id
        {
            let found = tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(Self::check(services, p, conversation_id))
            });
            self.found.lock().unwrap().push(found);
        }
        self.local.publish(envelope);
    }

    fn set_interest(&self, topic: Topic, interested: bool) {
        self.local.set_interest(topic, interested);
    }

    fn attach(&self, handler: Weak<dyn BusHandler>) {
        self.local.attach(handler);
    }

    fn is_ready(&self) -> bool {
        self.local.is_ready()
    }

    fn report_presence(&self, report: PresenceReport) {
        self.local.report_presence(report);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spaces_and_channels_are_announced_once_their_layout_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(SqliteOptions::new(dir.path().join("db.sqlite"))).unwrap());
    let bus = Arc::new(Watching::default());
    let blobs = BlobStore::filesystem(&dir.path().join("files")).unwrap();
    let config =
        ServiceConfig { argon2: Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }, ..Default::default() };
    let services = Services::new(store, bus.clone(), blobs, config).unwrap();
    let device = DeviceInfo { name: "test".into(), platform: "test".into() };
    let alice = services.register("alice", "correct horse battery staple", "Alice", "", device, None).await.unwrap();
    let p = services.authenticate(&alice.tokens.access_token).await.unwrap();
    assert!(bus.reader.set((services.clone(), p)).is_ok());

    let space = services.create_space(&p, "Acme", "", false, "").await.unwrap();
    let channel = NewChannel { name: "design".into(), ..Default::default() };
    services.create_channel(&p, space.space.id, channel).await.unwrap();

    let found = bus.found.lock().unwrap().clone();
    assert_eq!(found.len(), 3, "the space, its general channel and the new channel were announced: {found:?}");
    for f in found {
        f.unwrap();
    }
}
