//! Storage for Switchboard: one trait per aggregate, the SQLite and PostgreSQL backends, and
//! the conformance suite every backend must pass (`store_conformance!`).
//!
//! Every mutating method is atomic: it either commits entirely or not at all, and it
//! returns only after its transaction committed. Events that a change produces (messages in
//! a conversation log, entries in users' logs) are written in the same transaction.
//!
//! Each aggregate is one module (`users`, `sessions`, `conversations`, `messages`,
//! `reactions`, `search`, `scheduled`, `records`, `events`, `files`): its input and output types, its trait declared by `store_trait!`
//! (each method bound to one operation), and the operations, written once as SQL over a
//! small transaction interface (`sql`). The backends provide that interface, their engine
//! (SQLite's writer thread and readers, PostgreSQL's pool) and their migrations
//! (`migrations/<dialect>/NNNN_name.sql`). Each backend is a cargo feature (`sqlite`,
//! `postgres`; both on by default); without either the crate is the traits and the
//! conformance suite.

// With a backend missing, the dialect code only the other one uses is unused.
#![cfg_attr(not(all(feature = "sqlite", feature = "postgres")), allow(dead_code))]

mod backends;
pub mod conformance;
mod contacts;
mod conversations;
mod error;
mod events;
mod files;
mod messages;
mod privacy;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod migrations {
    //! The migration scripts of each dialect (see `build.rs`).
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}
#[cfg(all(feature = "sqlite", feature = "postgres"))]
pub mod port;
#[cfg(feature = "postgres")]
pub mod postgres;
mod reactions;
mod records;
mod rows;
mod scheduled;
pub mod search;
mod sessions;
mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod users;

pub use contacts::ContactStore;
pub use conversations::{
    ConversationEntry, ConversationStore, CreatedConversation, MembershipChange, NewConversation, SettingsPatch,
    Written, creator_role, like_prefix,
};
pub use error::{StoreError, StoreResult};
pub use events::EventStore;
pub use files::{CreatedUpload, FileFacts, FileStore, NewFile, NewUpload, Upload};
pub use messages::{Appended, HistoryDirection, MessageStore, ReceiptCounts, service_message, stored_message};
pub use privacy::PrivacyStore;
pub use reactions::{Reacted, ReactionChange, ReactionStore};
pub use records::{Expect, Record, RecordStore};
pub use scheduled::{Scheduled, ScheduledPatch, ScheduledStore};
pub use search::{SearchIndexStatus, SearchQuery, SearchStore};
pub use sessions::{CreatedSession, NewSession, Rotation, SessionStore};
pub use users::{NewUser, ProfilePatch, UserSetting, UserStore};

/// Every store trait; what the service holds.
pub trait Store:
    UserStore
    + SessionStore
    + ConversationStore
    + MessageStore
    + EventStore
    + RecordStore
    + FileStore
    + ReactionStore
    + SearchStore
    + ScheduledStore
    + ContactStore
    + PrivacyStore
{
}

impl<
    T: UserStore
        + SessionStore
        + ConversationStore
        + MessageStore
        + EventStore
        + RecordStore
        + FileStore
        + ReactionStore
        + SearchStore
        + ScheduledStore
        + ContactStore
        + PrivacyStore,
> Store for T
{
}
