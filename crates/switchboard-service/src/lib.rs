//! Switchboard's use cases, independent of any transport: accounts and sessions, profiles,
//! conversations, messages, receipts, typing and presence, and sync.
//!
//! [`Services`] is the one handle the transports hold. Each use case takes the calling
//! [`Principal`] and domain values, checks permissions, writes through the store, then
//! publishes what changed on the bus. The [`hub`] tracks this node's live connections and
//! fans events out to them.

mod auth;
pub mod clock;
mod config;
mod contacts;
mod conversations;
mod error;
mod expressions;
mod files;
pub mod hub;
mod invites;
mod messages;
mod passwords;
mod previews;
mod privacy;
mod ratelimit;
mod reactions;
mod scheduled;
mod search;
mod server;
mod signals;
mod spaces;
mod sync;
mod threads;
mod users;

#[cfg(test)]
mod stored_tests;

use std::sync::Arc;

use switchboard_bus::{Bus, BusHandler, Envelope, Topic};
use switchboard_core::event::{ConvEvent, Event, UserEvent};
use switchboard_core::model::ConversationKind;
use switchboard_core::{ConversationId, SessionId, UserId};
use switchboard_store::{Store, Written};

pub use auth::{AuthOutcome, DeviceInfo, Tokens};
pub use config::{
    Argon2Params, AuthLimits, ExpressionsConfig, FilesConfig, LinkPreviewsConfig, PasswordHashing, RateLimit,
    RegistrationMode, ServiceConfig,
};
pub use conversations::{ConversationPatch, ConversationView, GroupSpec, MemberPage};
pub use error::{ServiceError, ServiceResult};
pub use files::{Download, UploadSpec, Variant};
pub use hub::{CloseReason, Connection, EventStream, SharedEvent, StreamItem};
pub use invites::{Invite, InvitePreview, InviteRecord, Joined, RequestRecord};
pub use messages::{HistoryRequest, Receipts, SendRequest};
pub use scheduled::ScheduleRequest;
pub use search::{SearchHit, SearchRequest};
pub use server::{ClientSupport, FEATURES, RuntimePatch, RuntimeSettings, ServerInfo};
pub use spaces::{
    BanRecord, ChannelPatch, ChannelView, NewChannel, RolePatch, SpaceMemberView, SpacePatch, SpaceProfilePatch,
    SpaceView,
};
pub use switchboard_blob::{BlobError, BlobId, BlobStore, ByteStream, S3Options};
pub use switchboard_store::Scheduled;
pub use switchboard_store::Upload;
pub use switchboard_store::{HistoryDirection, SettingsPatch, UserSetting};
pub use sync::{Difference, Positions};
pub use threads::ThreadView;
pub use users::ProfileUpdate;

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The session whose token was presented.
    pub session_id: SessionId,
    /// A bot account.
    pub bot: bool,
    /// A server administrator.
    pub admin: bool,
    /// When the presented access token expires (Unix milliseconds); a live connection
    /// opened with it closes then.
    pub access_expires_at_ms: i64,
}

/// Who performs an administrative change: a signed-in user, whose rights are checked, or
/// the operator through the CLI on the server's own machine, who holds every right.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A caller of the API; needs to be a server administrator.
    User(&'a Principal),
    /// The admin CLI (it opens the store itself, so it already holds every right).
    Operator,
}

/// The use cases, behind one cheap-to-clone handle.
#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    hub: Arc<hub::Hub>,
    config: ServiceConfig,
    limiter: ratelimit::RateLimiter<UserId>,
    /// Register, Login and Refresh per client address.
    address_limiter: ratelimit::RateLimiter<std::net::IpAddr>,
    /// Failed logins per canonical username.
    failed_logins: ratelimit::RateLimiter<String>,
    passwords: passwords::Passwords,
    clock: Arc<dyn clock::Clock>,
    /// The version of the runtime-settings record last applied (0: none stored).
    settings_version: std::sync::atomic::AtomicU64,
    /// What never changes about a conversation (its kind; a direct chat's pair and who
    /// started it): cached so that a send needs no extra read.
    kinds: std::sync::Mutex<std::collections::HashMap<ConversationId, Fixed>>,
    /// Uploads, processing and the blob store.
    files: files::Files,
    /// Link previews (`None` when they are off).
    previews: Option<previews::Previews>,
}

/// What never changes about a conversation.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    kind: ConversationKind,
    /// A direct chat's two users and the one who started it.
    direct: Option<((UserId, UserId), UserId)>,
}

/// Most cached conversation kinds before the cache starts over.
const KIND_CACHE: usize = 100_000;

impl Services {
    /// Wires the use cases to a store, a bus and a blob store; attaches this node's hub to
    /// the bus, starts the password hashing threads, picks up files left processing and
    /// starts collecting expired uploads and unused blobs.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        blobs: BlobStore,
        config: ServiceConfig,
    ) -> ServiceResult<Self> {
        Self::with_clock(store, bus, blobs, config, Arc::new(clock::SystemClock))
    }

    /// As [`Services::new`], telling time by `clock` (tests move it forward).
    pub fn with_clock(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        blobs: BlobStore,
        config: ServiceConfig,
        clock: Arc<dyn clock::Clock>,
    ) -> ServiceResult<Self> {
        let passwords = passwords::Passwords::start(config.argon2, config.password_hashing)?;
        let caps =
            hub::Caps { per_user: config.max_connections_per_user, per_session: config.max_connections_per_session };
        let hub = Arc::new(hub::Hub::new(bus.clone(), config.connection_queue, caps, clock.clone()));
        hub::Hub::start_heartbeat(&hub);
        let handler: Arc<dyn BusHandler> = hub.clone();
        bus.attach(Arc::downgrade(&handler));
        let limiter = ratelimit::RateLimiter::new(config.rate_limit);
        let address_limiter = ratelimit::RateLimiter::new(config.auth_limits.per_address);
        let failed_logins = ratelimit::RateLimiter::new(config.auth_limits.failed_logins_per_account);
        let kinds = std::sync::Mutex::new(std::collections::HashMap::new());
        server::check_client_rules(&config)?;
        let files = files::Files::new(blobs, config.files.processing_workers);
        let (previews, preview_queue) = match config.link_previews.enabled {
            true => {
                let (p, rx) = previews::Previews::new(&config.link_previews);
                (Some(p), Some(rx))
            }
            false => (None, None),
        };
        let inner = Inner {
            store,
            bus,
            hub,
            config,
            limiter,
            address_limiter,
            failed_logins,
            passwords,
            clock,
            settings_version: Default::default(),
            kinds,
            files,
            previews,
        };
        let inner = Arc::new(inner);
        Services::start_settings_reload(&inner);
        if let Some(rx) = preview_queue {
            Services::start_previews(&inner, rx);
        }
        let services = Self { inner };
        services.start_files();
        services.start_search_backfill();
        services.start_scheduler();
        services.start_presence_rechecks();
        Ok(services)
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    /// Now, by the services' clock (ms since the epoch).
    pub(crate) fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// This node's connection hub.
    pub fn hub(&self) -> &Arc<hub::Hub> {
        &self.inner.hub
    }

    /// Succeeds when the store and the blob store answer and the bus is connected (readiness).
    pub async fn ready(&self) -> ServiceResult<()> {
        if !self.inner.bus.is_ready() {
            return Err(ServiceError::new(switchboard_core::ErrorCode::Unavailable, "the event bus is not connected"));
        }
        self.store().user(UserId::from_raw(1)).await?;
        self.blobs()
            .check()
            .await
            .map_err(|e| ServiceError::new(switchboard_core::ErrorCode::Unavailable, format!("the file store: {e}")))?;
        Ok(())
    }

    /// A conversation's kind (cached); not_found when it does not exist.
    async fn kind_of(&self, id: ConversationId) -> ServiceResult<ConversationKind> {
        Ok(self.fixed_of(id).await?.kind)
    }

    /// What never changes about a conversation (cached); not_found when it does not exist.
    async fn fixed_of(&self, id: ConversationId) -> ServiceResult<Fixed> {
        if let Some(f) = self.inner.kinds.lock().expect("kind cache poisoned").get(&id) {
            return Ok(*f);
        }
        let conv = self.store().conversation(id).await?.ok_or_else(|| ServiceError::not_found("conversation"))?;
        let fixed = Fixed { kind: conv.kind, direct: conv.direct_pair.map(|pair| (pair, conv.owner_id)) };
        let mut cache = self.inner.kinds.lock().expect("kind cache poisoned");
        if cache.len() >= KIND_CACHE {
            cache.clear();
        }
        cache.insert(id, fixed);
        Ok(fixed)
    }

    fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    fn publish(&self, topic: Topic, event: Event) {
        self.inner.bus.publish(Envelope { topic, event: Arc::new(event) });
    }

    fn publish_user(&self, ev: UserEvent) {
        self.publish(Topic::User(ev.user_id), Event::User(ev));
    }

    fn publish_conv(&self, ev: ConvEvent) {
        metrics::counter!("switchboard_conversation_events_total").increment(1);
        self.publish(Topic::Conversation(ev.conversation_id), Event::Conversation(ev));
    }

    /// Publishes what a change wrote: users' log events first, so that a member's
    /// connections follow a conversation before its first event arrives.
    fn publish_written(&self, w: Written) {
        for ev in w.user_events {
            self.publish_user(ev);
        }
        for ev in w.conv_events {
            self.publish_conv(ev);
        }
    }
}
