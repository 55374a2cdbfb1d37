//! Every storage operation, written once over [`Tx`](crate::sql::Tx), and the store traits
//! implemented for each backend from one table ([`backends!`]).
//!
//! Each row of the table names a trait method, how it runs, and the operation it calls:
//! - `read`: on a reader connection (SQLite) or a pooled client outside a transaction;
//! - `write`: in its own transaction (SQLite: a savepoint inside the writer's group commit);
//! - `append`: like `write`, for operations that check everything before their first change
//!   (SQLite: no savepoint) and may lose a unique-key race on PostgreSQL (retried once, when
//!   the retry finds the winner's row);
//! - `write_retried`: like `write`, retried once on PostgreSQL after a unique-key race.
//!
//! Values the trait borrows are copied before the call (`[name = expr]`), since an SQLite
//! write runs on the writer thread.

pub(crate) mod conversations;
pub(crate) mod events;
pub(crate) mod messages;
pub(crate) mod records;
pub(crate) mod rows;
pub(crate) mod sessions;
pub(crate) mod users;

/// Implements store traits for every enabled backend from one list of methods.
macro_rules! backends {
    ($(
        impl $trait:ident {
            $(
                $mode:ident fn $name:ident(&self $(, $p:ident : $t:ty)* $(,)?) -> $ret:ty
                    $([$($o:ident = $oe:expr),* $(,)?])?
                    => $($op:ident)::+ ($($a:expr),* $(,)?);
            )*
        }
    )*) => {
        $(
            #[cfg(feature = "sqlite")]
            #[async_trait::async_trait]
            impl $trait for crate::sqlite::SqliteStore {
                $(
                    async fn $name(&self $(, $p: $t)*) -> $crate::StoreResult<$ret> {
                        $($(let $o = $oe;)*)?
                        crate::sqlite::run!($mode, self, |conn| $($op)::+(conn, $($a),*))
                    }
                )*
            }

            #[cfg(feature = "postgres")]
            #[async_trait::async_trait]
            impl $trait for crate::postgres::PgStore {
                $(
                    async fn $name(&self $(, $p: $t)*) -> $crate::StoreResult<$ret> {
                        $($(let $o = $oe;)*)?
                        crate::postgres::run!($mode, self, |tx| $($op)::+(tx, $($a),*))
                    }
                )*
            }
        )*
    };
}

use switchboard_core::event::{ConvEvent, SessionEndReason, UserEvent, UserEventKind};
use switchboard_core::model::{
    Content, Conversation, Member, MemberSettings, Message, NewMessage, ServiceContent, Session, User,
};
use switchboard_core::{ConversationId, MessageId, SessionId, UserId};

use crate::{
    Appended, ConversationEntry, ConversationStore, CreatedConversation, EventStore, Expect, HistoryDirection,
    MembershipChange, MessageStore, NewConversation, NewSession, NewUser, ProfilePatch, ReceiptCounts, Record,
    RecordStore, Rotation, SessionStore, SettingsPatch, UserStore, Written,
};

backends! {
    impl UserStore {
        write fn create_user(&self, new: NewUser) -> User => users::create(&new);
        write fn create_registration_invite(&self, code_hash: Vec<u8>, max_uses: u32, expires_at_ms: i64) -> ()
            => users::create_registration_invite(&code_hash, max_uses, expires_at_ms);
        read fn user(&self, id: UserId) -> Option<User> => users::get(id);
        read fn users(&self, ids: &[UserId]) -> Vec<User> [ids = ids.to_vec()] => users::many(&ids);
        read fn user_with_password(&self, username_canonical: &str) -> Option<(User, Option<String>)>
            [name = username_canonical.to_owned()] => users::with_password(&name);
        read fn search_users(&self, prefix: &str, limit: u32) -> Vec<User>
            [prefix = prefix.to_owned()] => users::search(&prefix, limit);
        read fn list_users(&self, after: Option<UserId>, limit: u32) -> Vec<User> => users::list(after, limit);
        write fn update_profile(&self, id: UserId, patch: ProfilePatch) -> User => users::update_profile(id, &patch);
        write fn set_password_hash(&self, id: UserId, hash: String) -> () => users::set_password_hash(id, &hash);
        write fn set_user_flags(&self, id: UserId, disabled: Option<bool>, admin: Option<bool>) -> User
            => users::set_flags(id, disabled, admin);
    }

    impl SessionStore {
        write fn create_session(&self, new: NewSession) -> Session => sessions::create(&new);
        read fn session_by_access(&self, access_hash: &[u8], now_ms: i64) -> Option<(Session, bool)>
            [hash = access_hash.to_vec()] => sessions::by_access(&hash, now_ms);
        read fn sessions(&self, user_id: UserId) -> Vec<Session> => sessions::of_user(user_id);
        write fn rotate_tokens(
            &self,
            refresh_hash: &[u8],
            access_hash: Vec<u8>,
            access_expires_at_ms: i64,
            new_refresh_hash: Vec<u8>,
            now_ms: i64,
        ) -> Rotation [old = refresh_hash.to_vec()]
            => sessions::rotate(&old, &access_hash, access_expires_at_ms, &new_refresh_hash, now_ms);
        write fn touch_session(&self, id: SessionId, now_ms: i64) -> () => sessions::touch(id, now_ms);
        write fn end_sessions(
            &self,
            user_id: UserId,
            only: Option<SessionId>,
            except: Option<SessionId>,
            reason: SessionEndReason,
            now_ms: i64,
        ) -> Vec<UserEvent> => sessions::end(user_id, only, except, reason, now_ms);
    }

    impl ConversationStore {
        write_retried fn create_conversation(&self, new: NewConversation) -> CreatedConversation
            => conversations::create(&new);
        read fn conversation(&self, id: ConversationId) -> Option<Conversation> => conversations::get(id);
        read fn entry(&self, id: ConversationId, user_id: UserId) -> Option<ConversationEntry>
            => conversations::entry_of(id, user_id);
        read fn entries(&self, user_id: UserId, after: Option<(i64, ConversationId)>, limit: u32)
            -> Vec<ConversationEntry> => conversations::entries(user_id, after, limit);
        read fn positions(&self, user_id: UserId) -> Vec<(ConversationId, u64, u64)>
            => conversations::positions(user_id);
        read fn member(&self, id: ConversationId, user_id: UserId) -> Option<Member>
            => conversations::member(id, user_id);
        read fn members(&self, id: ConversationId, after: Option<(i64, UserId)>, limit: u32) -> Vec<Member>
            => conversations::members(id, after, limit);
        read fn member_ids(&self, id: ConversationId) -> Vec<UserId> => conversations::member_ids(id);
        write fn update_info(
            &self,
            id: ConversationId,
            actor: UserId,
            title: Option<String>,
            about: Option<String>,
            now_ms: i64,
        ) -> Written => conversations::update_info(id, actor, title.as_deref(), about.as_deref(), now_ms);
        write fn change_membership(&self, id: ConversationId, actor: UserId, change: MembershipChange, now_ms: i64)
            -> Written => conversations::change(id, actor, &change, now_ms);
        write fn post_service(&self, id: ConversationId, actor: UserId, content: ServiceContent, now_ms: i64)
            -> Written => conversations::post_service(id, actor, &content, now_ms);
        read fn conversations(&self, ids: &[ConversationId]) -> Vec<Conversation>
            [ids = ids.to_vec()] => conversations::many(&ids);
        read fn threads(
            &self,
            parent: ConversationId,
            roots: &[MessageId],
            after: Option<(i64, ConversationId)>,
            limit: u32,
        ) -> Vec<Conversation> [roots = roots.to_vec()] => conversations::threads(parent, &roots, after, limit);
        write fn update_settings(&self, id: ConversationId, user_id: UserId, patch: SettingsPatch, now_ms: i64)
            -> (MemberSettings, UserEvent) => conversations::update_settings(id, user_id, &patch, now_ms);
    }

    impl MessageStore {
        append fn append_message(&self, new: NewMessage, now_ms: i64) -> Appended => messages::append(&new, now_ms);
        read fn messages(&self, id: ConversationId, ids: &[MessageId]) -> Vec<Message>
            [ids = ids.to_vec()] => messages::by_ids(id, &ids);
        read fn history(
            &self,
            id: ConversationId,
            viewer: UserId,
            direction: HistoryDirection,
            anchor_seq: u64,
            limit: u32,
        ) -> (Vec<Message>, bool) => messages::history(id, viewer, direction, anchor_seq, limit);
        read fn last_message(&self, id: ConversationId, viewer: UserId) -> Option<Message>
            => messages::last(id, viewer);
        read fn counters(&self, id: ConversationId, viewer: UserId, read_seq: u64, cap: u32) -> (u32, u32)
            => messages::counters(id, viewer, read_seq, cap);
        write fn edit_message(
            &self,
            id: ConversationId,
            message_id: MessageId,
            content: Content,
            mentions: (Vec<UserId>, bool),
            now_ms: i64,
        ) -> ConvEvent => messages::edit(id, message_id, &content, &mentions, now_ms);
        write fn delete_messages(&self, id: ConversationId, ids: &[MessageId], now_ms: i64) -> Vec<ConvEvent>
            [ids = ids.to_vec()] => messages::delete(id, &ids, now_ms);
        write fn hide_messages(&self, id: ConversationId, user_id: UserId, ids: &[MessageId], now_ms: i64)
            -> UserEvent [ids = ids.to_vec()] => messages::hide(id, user_id, &ids, now_ms);
        write fn clear_history(&self, id: ConversationId, user_id: UserId, now_ms: i64) -> (u64, UserEvent)
            => messages::clear_history(id, user_id, now_ms);
        write fn mark_read(&self, id: ConversationId, user_id: UserId, seq: u64, now_ms: i64)
            -> (Member, Option<UserEvent>) => messages::mark_read(id, user_id, seq, now_ms);
        write fn mark_delivered(&self, id: ConversationId, user_id: UserId, seq: u64) -> Member
            => messages::mark_delivered(id, user_id, seq);
        read fn receipts(&self, id: ConversationId, message: &Message, with_readers: bool) -> ReceiptCounts
            [message = message.clone()] => messages::receipts(id, &message, with_readers);
        read fn sender_stats(&self, windows: &[(ConversationId, u64)], sender: UserId, recent: u32)
            -> (u64, Vec<Message>) [windows = windows.to_vec()] => messages::sender_stats(&windows, sender, recent);
    }

    impl RecordStore {
        read fn record(&self, scope: ConversationId, kind: &str, key: &str) -> Option<Record>
            [kind = kind.to_owned(), key = key.to_owned()] => records::get(scope, &kind, &key);
        read fn records(&self, scope: ConversationId, kind: &str, keys: &[String]) -> Vec<Record>
            [kind = kind.to_owned(), keys = keys.to_vec()] => records::many(scope, &kind, &keys);
        read fn list_records(&self, scope: ConversationId, kind: &str, after: &str, limit: u32) -> Vec<Record>
            [kind = kind.to_owned(), after = after.to_owned()] => records::list(scope, &kind, &after, limit);
        read fn find_record(&self, kind: &str, key: &str) -> Option<Record>
            [kind = kind.to_owned(), key = key.to_owned()] => records::find(&kind, &key);
        read fn search_records(&self, kind: &str, prefix: &str, limit: u32) -> Vec<Record>
            [kind = kind.to_owned(), prefix = prefix.to_owned()] => records::search(&kind, &prefix, limit);
        write fn put_record(&self, scope: ConversationId, kind: &str, key: &str, body: String, expect: Expect) -> u64
            [kind = kind.to_owned(), key = key.to_owned()] => records::put(scope, &kind, &key, &body, expect);
        write fn delete_record(&self, scope: ConversationId, kind: &str, key: &str) -> bool
            [kind = kind.to_owned(), key = key.to_owned()] => records::delete(scope, &kind, &key);
    }

    impl EventStore {
        read fn conv_events(&self, id: ConversationId, after: u64, limit: u32) -> Vec<ConvEvent>
            => events::conv_events(id, after, limit);
        write fn append_user_event(&self, user_id: UserId, kind: UserEventKind, now_ms: i64) -> UserEvent
            => rows::append_user_event(user_id, kind, now_ms);
        read fn user_events(&self, user_id: UserId, after: u64, limit: u32) -> Vec<UserEvent>
            => events::user_events(user_id, after, limit);
        read fn user_seq(&self, user_id: UserId) -> u64 => events::user_seq(user_id);
    }
}
