//! The store conformance suite: behaviour every backend must show. A backend's tests call
//! `store_conformance!(factory)`, where `factory` is an async expression yielding
//! `Some((store, guard))` — the guard (a temp dir, a schema) lives as long as the test — or
//! `None` when the backend is not available here (the factory prints why; the test passes).

use switchboard_core::event::{ConvEventKind, SessionEndReason, UserEventKind};
use switchboard_core::model::{AdminRights, Content, ConversationKind, MemberRole, NewMessage, ServiceAction};
use switchboard_core::{ConversationId, SessionId, UserId};

use crate::{
    Expect, HistoryDirection, MembershipChange, NewConversation, NewSession, NewUser, ProfilePatch, Rotation,
    SettingsPatch, Store, StoreError,
};

/// Generates one `#[tokio::test]` per conformance check for a backend.
#[macro_export]
macro_rules! store_conformance {
    ($factory:expr) => {
        $crate::store_conformance!(@tests $factory;
            usernames_are_unique_case_insensitively,
            registration_invites_are_consumed_once,
            sessions_rotate_and_end,
            creating_a_group_logs_a_service_message_and_joins,
            direct_conversations_are_unique_per_pair,
            conversation_creation_is_idempotent_per_client_key,
            sequence_numbers_are_gap_free_and_retries_return_the_original,
            non_members_cannot_append,
            history_pages_both_ways_and_around,
            edits_and_deletes_are_logged_and_deletes_drop_content,
            membership_changes_write_service_messages_and_user_events,
            watermarks_counters_and_receipts,
            hiding_and_clearing_affect_only_one_member,
            settings_are_logged_to_the_user_log,
            concurrent_appends_keep_one_gap_free_order,
            records_are_versioned_listed_found_and_searched,
            silent_grants_joins_and_bans,
            threads_are_unique_per_root_and_listed_by_activity,
            service_posts_batch_reads_and_sender_stats,
            user_settings_change_atomically_with_their_log_entry,
            without_shared_history_newcomers_see_from_their_join,
            sign_ins_replace_and_announce_and_deleting_an_account_erases_it,
            a_dismissed_group_loses_every_member_and_takes_nobody_again,
            uploads_become_files_once_within_quota_and_blobs_are_collected_safely,
            reactions_count_once_per_member_and_are_logged,
            pins_are_listed_latest_first_and_follow_deletes,
            saved_messages_are_private_logged_and_listed,
            scheduled_messages_are_delivered_once,
            search_finds_words_in_the_windows_given,
            the_search_index_is_rebuilt_in_steps,
            best_match_ranks_the_newest_matches,
            link_previews_follow_the_text_they_were_made_from,
            contacts_are_logged_to_both_sides_when_mutual,
            friend_requests_reach_both_and_make_contacts,
            blocks_are_private_to_the_blocker_and_found_both_ways,
            privacy_rules_decide_with_blocks_lists_and_contacts
        );
    };
    (@tests $factory:expr; $($name:ident),* ) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some((store, _guard)) = $factory.await else { return };
                $crate::conformance::$name(&store).await;
            }
        )*
    };
}

mod contacts;
mod files;
mod reactions;
mod scheduled;
mod search;
mod threads;
pub use contacts::*;
pub use files::*;
pub use reactions::*;
pub use scheduled::*;
pub use search::*;
pub use threads::*;

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.to_owned(),
        username_canonical: name.to_ascii_lowercase(),
        display_name: format!("{name} Display"),
        password_hash: Some("hash".into()),
        bot: false,
        admin: false,
        invite_hash: None,
        now_ms: 1_000,
    }
}

async fn users<S: Store>(s: &S, names: &[&str]) -> Vec<UserId> {
    let mut ids = Vec::new();
    for n in names {
        ids.push(s.create_user(new_user(n)).await.unwrap().id);
    }
    ids
}

fn text(conv: ConversationId, sender: UserId, body: &str, key: Option<&str>) -> NewMessage {
    NewMessage {
        conversation_id: conv,
        sender_id: sender,
        content: Content::Text { text: body.into(), entities: vec![], attachments: vec![] },
        reply_to: None,
        forward: None,
        metadata: Default::default(),
        client_key: key.map(str::to_owned),
        mentions: vec![],
        mentions_all: false,
        important: false,
        silent: false,
        no_link_preview: false,
    }
}

async fn group<S: Store>(s: &S, kind: ConversationKind, owner: UserId, members: &[UserId]) -> ConversationId {
    let new = NewConversation {
        kind,
        title: "Team".into(),
        about: String::new(),
        creator: owner,
        members: members.to_vec(),
        client_key: None,
        space_id: None,
        parent: None,
        history_shared: true,
        now_ms: 2_000,
    };
    s.create_conversation(new).await.unwrap().conversation.id
}

/// Usernames are unique regardless of case; profile renames respect it too.
pub async fn usernames_are_unique_case_insensitively<S: Store>(s: &S) {
    let alice = s.create_user(new_user("Alice")).await.unwrap();
    assert_eq!(alice.username, "Alice");
    let err = s.create_user(new_user("alice")).await.unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists("username")), "{err:?}");
    let bob = s.create_user(new_user("bob")).await.unwrap();
    let patch = ProfilePatch { username: Some(("ALICE".into(), "alice".into())), ..Default::default() };
    assert!(matches!(s.update_profile(bob.id, patch).await, Err(StoreError::AlreadyExists("username"))));
    let (found, hash) = s.user_with_password("alice").await.unwrap().unwrap();
    assert_eq!((found.id, hash.as_deref()), (alice.id, Some("hash")));
    let hits = s.search_users("ali", 10).await.unwrap();
    assert_eq!(hits.iter().map(|u| u.id).collect::<Vec<_>>(), vec![alice.id]);
    let by_name = s.search_users("bob d", 10).await.unwrap();
    assert_eq!(by_name.len(), 1);
    assert_eq!(s.users(&[bob.id, UserId::from_raw(9999), alice.id]).await.unwrap().len(), 2);
}

/// An invite admits exactly `max_uses` registrations and never after expiry.
pub async fn registration_invites_are_consumed_once<S: Store>(s: &S) {
    s.create_registration_invite(b"code".to_vec(), 1, 10_000).await.unwrap();
    let mut u = new_user("first");
    u.invite_hash = Some(b"code".to_vec());
    s.create_user(u).await.unwrap();
    let mut again = new_user("second");
    again.invite_hash = Some(b"code".to_vec());
    assert!(matches!(s.create_user(again).await, Err(StoreError::FailedPrecondition(_))));
    assert!(s.user_with_password("second").await.unwrap().is_none(), "a refused registration leaves no account");
    s.create_registration_invite(b"old".to_vec(), 5, 500).await.unwrap();
    let mut late = new_user("late");
    late.invite_hash = Some(b"old".to_vec());
    assert!(s.create_user(late).await.is_err());
}

/// Tokens are found by hash, rotate on refresh, and die with their session.
pub async fn sessions_rotate_and_end<S: Store>(s: &S) {
    let [u] = users(s, &["sam"]).await[..] else { unreachable!() };
    let new = |a: &[u8], r: &[u8]| NewSession {
        user_id: u,
        device_name: "phone".into(),
        platform: "android".into(),
        access_hash: a.to_vec(),
        access_expires_at_ms: 10_000,
        refresh_hash: r.to_vec(),
        replace_same_platform: false,
        announce: false,
        now_ms: 1_000,
    };
    let one = s.create_session(new(b"a1", b"r1")).await.unwrap().session;
    let two = s.create_session(new(b"a2", b"r2")).await.unwrap().session;
    let nobody = NewSession { user_id: UserId::from_raw(999), ..new(b"a9", b"r9") };
    assert!(matches!(s.create_session(nobody).await, Err(StoreError::NotFound("user"))));
    assert_eq!(s.session_by_access(b"a1", 2_000).await.unwrap().unwrap().0.id, one.id);
    assert!(s.session_by_access(b"a1", 20_000).await.unwrap().is_none(), "expired tokens are refused");
    let Rotation::Rotated(rotated) =
        s.rotate_tokens(b"r1", b"a3".to_vec(), 50_000, b"r3".to_vec(), 3_000).await.unwrap()
    else {
        panic!("the current refresh token rotates")
    };
    assert_eq!(rotated.id, one.id);
    let reused = s.rotate_tokens(b"r1", b"a4".to_vec(), 50_000, b"r4".to_vec(), 3_000).await.unwrap();
    assert!(
        matches!(reused, Rotation::Reused(ref r) if r.id == one.id),
        "the replaced token is recognised: {reused:?}"
    );
    assert!(s.session_by_access(b"a3", 4_000).await.unwrap().is_some(), "a reuse changes nothing by itself");
    let unknown = s.rotate_tokens(b"nope", b"a5".to_vec(), 50_000, b"r5".to_vec(), 3_000).await.unwrap();
    assert_eq!(unknown, Rotation::Unknown);
    assert!(s.session_by_access(b"a1", 2_000).await.unwrap().is_none());
    assert_eq!(s.sessions(u).await.unwrap().len(), 2);
    let head = s.user_seq(u).await.unwrap();
    let ended = s.end_sessions(u, None, Some(one.id), SessionEndReason::EndedElsewhere, 4_000).await.unwrap();
    let ended_ids = |evs: &[switchboard_core::event::UserEvent]| -> Vec<(u64, SessionId)> {
        evs.iter()
            .map(|e| match e.kind {
                UserEventKind::SessionEnded { session_id, .. } => (e.user_seq, session_id),
                ref k => panic!("{k:?}"),
            })
            .collect()
    };
    assert_eq!(ended_ids(&ended), vec![(head + 1, two.id)], "the session and its event, together");
    assert!(s.session_by_access(b"a2", 2_000).await.unwrap().is_none());
    let last = s.end_sessions(u, Some(one.id), None, SessionEndReason::LoggedOut, 5_000).await.unwrap();
    assert_eq!(ended_ids(&last), vec![(head + 2, one.id)]);
    assert!(s.end_sessions(u, Some(one.id), None, SessionEndReason::LoggedOut, 5_000).await.unwrap().is_empty());
    assert_eq!(s.user_seq(u).await.unwrap(), head + 2, "no event without a session ended");
}

/// A new group has its members, a "created" service message at seq 1 and a joined event
/// in every member's log.
pub async fn creating_a_group_logs_a_service_message_and_joins<S: Store>(s: &S) {
    let ids = users(s, &["owner", "m1", "m2"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let conv = s.conversation(c).await.unwrap().unwrap();
    assert_eq!((conv.member_count, conv.last_seq, conv.owner_id), (3, 1, ids[0]));
    let ev = s.conv_events(c, 0, 10).await.unwrap();
    assert_eq!(ev.len(), 1);
    assert!(matches!(&ev[0].message.content, Content::Service(_)));
    for u in &ids {
        let log = s.user_events(*u, 0, 10).await.unwrap();
        assert!(
            matches!(log[0].kind, UserEventKind::ConversationJoined { conversation_id, .. } if conversation_id == c)
        );
    }
    assert_eq!(s.member(c, ids[0]).await.unwrap().unwrap().role, MemberRole::Owner);
    assert_eq!(s.member_ids(c).await.unwrap().len(), 3);
    assert!(s.member(c, UserId::from_raw(999)).await.unwrap().is_none());
    let err = s
        .create_conversation(NewConversation {
            kind: ConversationKind::Group,
            title: "x".into(),
            about: String::new(),
            creator: ids[0],
            members: vec![UserId::from_raw(999)],
            client_key: None,
            space_id: None,
            parent: None,
            history_shared: true,
            now_ms: 1,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound("user")));
}

/// Two users have exactly one direct conversation, whoever starts it.
pub async fn direct_conversations_are_unique_per_pair<S: Store>(s: &S) {
    let ids = users(s, &["d1", "d2"]).await;
    let mk = |a: UserId, b: UserId| NewConversation {
        kind: ConversationKind::Direct,
        title: String::new(),
        about: String::new(),
        creator: a,
        members: vec![b],
        client_key: None,
        space_id: None,
        parent: None,
        history_shared: true,
        now_ms: 1,
    };
    let first = s.create_conversation(mk(ids[0], ids[1])).await.unwrap();
    let second = s.create_conversation(mk(ids[1], ids[0])).await.unwrap();
    assert!(first.created && !second.created);
    assert_eq!(first.conversation.id, second.conversation.id);
    assert_eq!(first.conversation.peer_of(ids[0]), Some(ids[1]));
}

/// Retrying a create with the same client key returns the first conversation.
pub async fn conversation_creation_is_idempotent_per_client_key<S: Store>(s: &S) {
    let ids = users(s, &["k1"]).await;
    let mk = || NewConversation {
        kind: ConversationKind::Channel,
        title: "News".into(),
        about: String::new(),
        creator: ids[0],
        members: vec![],
        client_key: Some("key-1".into()),
        space_id: None,
        parent: None,
        history_shared: true,
        now_ms: 1,
    };
    let a = s.create_conversation(mk()).await.unwrap();
    let b = s.create_conversation(mk()).await.unwrap();
    assert_eq!(a.conversation.id, b.conversation.id);
    assert!(!b.created);
    assert!(b.written.conv_events.is_empty());
}

/// Appends get consecutive seqs; a retried key returns the original and writes nothing.
pub async fn sequence_numbers_are_gap_free_and_retries_return_the_original<S: Store>(s: &S) {
    let ids = users(s, &["s1", "s2"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let mut seqs = Vec::new();
    for i in 0..20 {
        let key = format!("k{i}");
        let a = s.append_message(text(c, ids[i % 2], "hi", Some(&key)), 10 + i as i64).await.unwrap();
        seqs.push(a.event.seq);
    }
    assert_eq!(seqs, (2..22).collect::<Vec<u64>>());
    let again = s.append_message(text(c, ids[0], "different", Some("k0")), 99).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.event.seq, 2);
    assert_eq!(s.conversation(c).await.unwrap().unwrap().last_seq, 21);
    let reply_to_nothing =
        NewMessage { reply_to: Some(switchboard_core::MessageId::from_raw(99_999)), ..text(c, ids[0], "r", None) };
    assert!(matches!(s.append_message(reply_to_nothing, 1).await, Err(StoreError::NotFound(_))));
}

/// The posting rule is checked inside the append's transaction.
pub async fn non_members_cannot_append<S: Store>(s: &S) {
    let ids = users(s, &["n1", "n2", "n3"]).await;
    let c = group(s, ConversationKind::Channel, ids[0], &ids[1..2]).await;
    assert!(matches!(s.append_message(text(c, ids[2], "x", None), 1).await, Err(StoreError::Denied(_))));
    assert!(matches!(s.append_message(text(c, ids[1], "x", None), 1).await, Err(StoreError::Denied(_))));
    assert!(s.append_message(text(c, ids[0], "x", None), 1).await.is_ok());
    let missing = ConversationId::from_raw(424_242);
    assert!(matches!(s.append_message(text(missing, ids[0], "x", None), 1).await, Err(StoreError::NotFound(_))));
}

/// History pages backwards from the end, forwards from a seq, and around a seq.
pub async fn history_pages_both_ways_and_around<S: Store>(s: &S) {
    let ids = users(s, &["h1"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &[]).await;
    for i in 0..30 {
        s.append_message(text(c, ids[0], &format!("m{i}"), None), i).await.unwrap();
    }
    let seqs = |v: &[switchboard_core::model::Message]| v.iter().map(|m| m.seq).collect::<Vec<_>>();
    let (last, more) = s.history(c, ids[0], HistoryDirection::Before, 0, 5).await.unwrap();
    assert_eq!((seqs(&last), more), ((27..=31).collect(), true));
    let (older, _) = s.history(c, ids[0], HistoryDirection::Before, 27, 5).await.unwrap();
    assert_eq!(seqs(&older), (22..=26).collect::<Vec<_>>());
    let (after, more) = s.history(c, ids[0], HistoryDirection::After, 28, 10).await.unwrap();
    assert_eq!((seqs(&after), more), (vec![29, 30, 31], false));
    let (around, _) = s.history(c, ids[0], HistoryDirection::Around, 10, 4).await.unwrap();
    assert_eq!(seqs(&around), vec![8, 9, 10, 11]);
    let (first, more) = s.history(c, ids[0], HistoryDirection::Before, 3, 50).await.unwrap();
    assert_eq!((seqs(&first), more), (vec![1, 2], false));
    let by_id = s.messages(c, &[last[1].id, last[0].id]).await.unwrap();
    assert_eq!(seqs(&by_id), vec![27, 28]);
    assert_eq!(s.last_message(c, ids[0]).await.unwrap().unwrap().seq, 31);
}

/// Edits and deletes take new seqs in the log; a deleted message keeps its seq and loses
/// its content everywhere, including older events that refer to it.
pub async fn edits_and_deletes_are_logged_and_deletes_drop_content<S: Store>(s: &S) {
    let ids = users(s, &["e1"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &[]).await;
    let m = s.append_message(text(c, ids[0], "secret", None), 1).await.unwrap().event.message;
    let edit = Content::Text { text: "edited".into(), entities: vec![], attachments: vec![] };
    let ev = s.edit_message(c, m.id, edit.clone(), (vec![], false), 5).await.unwrap();
    assert_eq!((ev.seq, ev.kind, ev.message.edited_at_ms), (3, ConvEventKind::MessageEdited, Some(5)));
    assert_eq!(ev.message.content, edit);
    let moderator = users(s, &["e1mod"]).await[0];
    let del = s.delete_messages(c, &[m.id], moderator, 6).await.unwrap();
    assert_eq!((del.len(), del[0].seq, del[0].message.seq), (1, 4, 2));
    let by = |u: UserId, at: i64| Some(switchboard_core::event::EventActor { user_id: u, at_ms: at });
    assert_eq!(del[0].actor, by(moderator, 6), "a delete says who deleted and when");
    assert!(s.delete_messages(c, &[m.id], ids[0], 7).await.unwrap().is_empty(), "deleting twice is a no-op");
    let log = s.conv_events(c, 0, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let actors: Vec<_> = log.iter().map(|e| e.actor).collect();
    assert_eq!(actors[1..], [by(ids[0], 1), by(ids[0], 5), by(moderator, 6)], "the log keeps who and when");
    assert!(log[1..].iter().all(|e| e.message.is_deleted()));
    assert!(
        s.edit_message(
            c,
            m.id,
            Content::Text { text: "x".into(), entities: vec![], attachments: vec![] },
            (vec![], false),
            8
        )
        .await
        .is_err()
    );
}

/// Adding, removing, leaving, promoting and transferring write service messages and the
/// right user-log events.
pub async fn membership_changes_write_service_messages_and_user_events<S: Store>(s: &S) {
    let ids = users(s, &["o", "a", "b"]).await;
    let (o, a, b) = (ids[0], ids[1], ids[2]);
    let c = group(s, ConversationKind::Group, o, &[a]).await;
    let w = s.change_membership(c, o, MembershipChange::Add(vec![b, a]), 10).await.unwrap();
    assert_eq!((w.conv_events.len(), w.user_events.len()), (1, 1));
    assert!(matches!(w.user_events[0].kind, UserEventKind::ConversationJoined { joined_at_seq: 1, .. }));
    assert!(s.change_membership(c, o, MembershipChange::Add(vec![b]), 11).await.unwrap().conv_events.is_empty());
    let rights = AdminRights { edit_info: true, ..Default::default() };
    s.change_membership(c, o, MembershipChange::SetRole(a, MemberRole::Admin, rights), 12).await.unwrap();
    let m = s.member(c, a).await.unwrap().unwrap();
    assert_eq!((m.role, m.rights), (MemberRole::Admin, rights));
    let w = s.change_membership(c, o, MembershipChange::Remove(b), 13).await.unwrap();
    assert!(matches!(w.user_events[0].kind, UserEventKind::ConversationLeft { removed: true, .. }));
    assert!(s.member(c, b).await.unwrap().is_none());
    s.change_membership(c, o, MembershipChange::TransferOwnership(a), 14).await.unwrap();
    assert_eq!(s.conversation(c).await.unwrap().unwrap().owner_id, a);
    assert_eq!(s.member(c, o).await.unwrap().unwrap().role, MemberRole::Admin);
    s.change_membership(c, o, MembershipChange::Leave, 15).await.unwrap();
    let conv = s.conversation(c).await.unwrap().unwrap();
    assert_eq!((conv.member_count, conv.last_seq), (1, 6));
    let w = s.update_info(c, a, Some("New".into()), Some("About".into()), None, 16).await.unwrap();
    assert_eq!(w.conv_events.len(), 2);
    assert_eq!(s.conversation(c).await.unwrap().unwrap().title, "New");
    let positions = s.positions(a).await.unwrap();
    assert_eq!(positions, vec![(c, 8, 0)]);
    let members = s.members(c, None, 10).await.unwrap();
    assert_eq!(members.len(), 1);
}

/// Read and delivered watermarks only move forward, feed the counters and receipts, and
/// reading logs to the reader's own user log.
pub async fn watermarks_counters_and_receipts<S: Store>(s: &S) {
    let ids = users(s, &["w1", "w2", "w3"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let mut last = None;
    for i in 0..4 {
        let mut m = text(c, ids[0], "hello", None);
        if i == 3 {
            m.mentions = vec![ids[1]];
        }
        last = Some(s.append_message(m, i).await.unwrap().event.message);
    }
    let mut all = text(c, ids[2], "@all", None);
    all.mentions_all = true;
    s.append_message(all, 9).await.unwrap();
    assert_eq!(s.counters(c, ids[1], 0, 1000).await.unwrap(), (5, 2));
    assert_eq!(s.counters(c, ids[1], 0, 3).await.unwrap(), (3, 2), "counters are capped");
    let (m, ev) = s.mark_read(c, ids[1], 4, 1000, 20).await.unwrap();
    assert_eq!((m.read_seq, m.delivered_seq), (4, 4));
    let counted = Some(switchboard_core::event::UnreadCounts { unread: 2, mentions: 2 });
    assert!(
        matches!(ev.unwrap().kind, UserEventKind::ReadStateChanged { read_seq: 4, counts, .. } if counts == counted),
        "the event carries the counters left"
    );
    assert!(s.mark_read(c, ids[1], 2, 1000, 21).await.unwrap().1.is_none(), "watermarks never go back");
    assert_eq!(s.counters(c, ids[1], 4, 1000).await.unwrap(), (2, 2));
    let (m, ev) = s.mark_read(c, ids[2], 1_000, 1000, 22).await.unwrap();
    assert_eq!(m.read_seq, 6, "clamped to the last seq");
    let none_left = Some(switchboard_core::event::UnreadCounts { unread: 0, mentions: 0 });
    assert!(matches!(ev.unwrap().kind, UserEventKind::ReadStateChanged { counts, .. } if counts == none_left));
    s.mark_delivered(c, ids[1], 5).await.unwrap();
    let r = s.receipts(c, last.as_ref().unwrap(), true).await.unwrap();
    assert_eq!((r.read, r.delivered, r.recipients, r.readers.clone()), (1, 2, 2, vec![ids[2]]));
}

/// Delete-for-me and clear-history hide messages from one member only.
pub async fn hiding_and_clearing_affect_only_one_member<S: Store>(s: &S) {
    let ids = users(s, &["v1", "v2"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let m = s.append_message(text(c, ids[0], "a", None), 1).await.unwrap().event.message;
    s.append_message(text(c, ids[0], "b", None), 2).await.unwrap();
    let ev = s.hide_messages(c, ids[1], &[m.id], 3).await.unwrap();
    assert!(matches!(ev.kind, UserEventKind::MessagesHidden { .. }));
    let (v1, _) = s.history(c, ids[1], HistoryDirection::After, 0, 10).await.unwrap();
    let (v0, _) = s.history(c, ids[0], HistoryDirection::After, 0, 10).await.unwrap();
    assert_eq!((v1.len(), v0.len()), (2, 3));
    let (from, _) = s.clear_history(c, ids[1], 4).await.unwrap();
    assert_eq!(from, 4);
    assert!(s.history(c, ids[1], HistoryDirection::Before, 0, 10).await.unwrap().0.is_empty());
    assert!(s.last_message(c, ids[1]).await.unwrap().is_none());
    s.append_message(text(c, ids[0], "c", None), 5).await.unwrap();
    assert_eq!(s.history(c, ids[1], HistoryDirection::Before, 0, 10).await.unwrap().0.len(), 1);
    assert_eq!(s.counters(c, ids[1], 0, 100).await.unwrap().0, 1);
}

/// Member settings are stored and logged.
pub async fn settings_are_logged_to_the_user_log<S: Store>(s: &S) {
    let ids = users(s, &["st"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &[]).await;
    let patch = SettingsPatch { pinned: Some(true), draft: Some("draft".into()), ..Default::default() };
    let (settings, ev) = s.update_settings(c, ids[0], patch, 5).await.unwrap();
    assert!(settings.pinned && settings.draft == "draft" && !settings.archived);
    assert_eq!(s.user_seq(ids[0]).await.unwrap(), ev.user_seq);
    let entry = s.entry(c, ids[0]).await.unwrap().unwrap();
    assert_eq!(entry.member.settings, settings);
    assert_eq!(s.entries(ids[0], None, 10).await.unwrap().len(), 1);
}

/// Many concurrent appends to one conversation produce one gap-free order.
pub async fn concurrent_appends_keep_one_gap_free_order<S: Store + Clone + 'static>(s: &S) {
    let ids = users(s, &["c1", "c2"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let s = s.clone();
        let sender = ids[i % 2];
        tasks.push(tokio::spawn(async move {
            s.append_message(text(c, sender, "x", None), i as i64).await.unwrap().event.seq
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (2..102).collect::<Vec<u64>>());
    let log = s.conv_events(c, 0, 1000).await.unwrap();
    assert_eq!(log.len(), 101);
}

/// Records: insert-only, compare-and-set on the version, list by key, find across scopes,
/// prefix search that treats LIKE wildcards literally, delete.
pub async fn records_are_versioned_listed_found_and_searched<S: Store>(s: &S) {
    let (a, b) = (ConversationId::from_raw(1), ConversationId::from_raw(2));
    assert_eq!(s.put_record(a, "k", "x", "1".into(), Expect::Absent).await.unwrap(), 1);
    assert!(matches!(s.put_record(a, "k", "x", "2".into(), Expect::Absent).await, Err(StoreError::Conflict(_))));
    assert!(matches!(s.put_record(a, "k", "x", "2".into(), Expect::Version(7)).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.put_record(a, "k", "x", "2".into(), Expect::Version(1)).await.unwrap(), 2);
    assert_eq!(s.put_record(a, "k", "x", "3".into(), Expect::Any).await.unwrap(), 3);
    let r = s.record(a, "k", "x").await.unwrap().unwrap();
    assert_eq!((r.body.as_str(), r.version, r.scope), ("3", 3, a));
    assert!(s.record(a, "other", "x").await.unwrap().is_none());
    assert!(s.record(b, "k", "x").await.unwrap().is_none());
    for key in ["b", "c", "d"] {
        s.put_record(a, "k", key, key.into(), Expect::Any).await.unwrap();
    }
    let page: Vec<String> = s.list_records(a, "k", "b", 2).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(page, vec!["c", "d"]);
    let many: Vec<String> =
        s.records(a, "k", &["d".into(), "zz".into(), "b".into()]).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(many, vec!["b", "d"]);
    s.put_record(b, "code", "abc123", "{}".into(), Expect::Absent).await.unwrap();
    assert_eq!(s.find_record("code", "abc123").await.unwrap().unwrap().scope, b);
    assert!(s.find_record("code", "abc12").await.unwrap().is_none());
    for (scope, name) in [(a, "rust lovers"), (b, "rusty"), (b, "ru_x"), (a, "python")] {
        s.put_record(scope, "dir", name, "{}".into(), Expect::Any).await.unwrap();
    }
    let found: Vec<String> = s.search_records("dir", "rust", 10).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(found, vec!["rust lovers", "rusty"]);
    let found: Vec<String> = s.search_records("dir", "ru_", 10).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(found, vec!["ru_x"]);
    for key in ["apple", "Zed", "10", "9"] {
        s.put_record(a, "bytes", key, String::new(), Expect::Any).await.unwrap();
    }
    let order: Vec<String> = s.list_records(a, "bytes", "", 10).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(order, vec!["10", "9", "Zed", "apple"], "keys order by their bytes");
    let rest: Vec<String> = s.list_records(a, "bytes", "Zed", 10).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(rest, vec!["apple"]);
    assert!(s.delete_record(a, "k", "x").await.unwrap());
    assert!(!s.delete_record(a, "k", "x").await.unwrap());
    assert!(s.record(a, "k", "x").await.unwrap().is_none());
}

/// Grant and Revoke change access without service messages; Join writes "joined"; Ban
/// writes "banned" and ends the member's view there.
pub async fn silent_grants_joins_and_bans<S: Store>(s: &S) {
    let ids = users(s, &["g0", "g1", "g2", "g3"]).await;
    let c = group(s, ConversationKind::SpaceChannel, ids[0], &[]).await;
    let before = s.conversation(c).await.unwrap().unwrap().last_seq;
    let w = s.change_membership(c, ids[0], MembershipChange::Grant(vec![ids[1], ids[2], ids[1], ids[0]]), 5).await;
    let w = w.unwrap();
    assert!(w.conv_events.is_empty());
    assert_eq!(w.user_events.len(), 2);
    let conv = s.conversation(c).await.unwrap().unwrap();
    assert_eq!((conv.last_seq, conv.member_count), (before, 3));
    assert_eq!(s.member(c, ids[1]).await.unwrap().unwrap().role, MemberRole::Member);
    assert_eq!(s.member(c, ids[0]).await.unwrap().unwrap().role, MemberRole::Member, "space channels have no owner");
    let w = s.change_membership(c, ids[0], MembershipChange::Revoke(vec![ids[2], ids[3]]), 6).await.unwrap();
    assert!(w.conv_events.is_empty());
    assert!(matches!(
        &w.user_events[..],
        [e] if matches!(e.kind, UserEventKind::ConversationLeft { removed: true, left_at_seq, .. } if left_at_seq == before)
    ));
    assert_eq!(s.conversation(c).await.unwrap().unwrap().member_count, 2);

    let space = group(s, ConversationKind::Space, ids[0], &[]).await;
    let w = s.change_membership(space, ids[3], MembershipChange::Join, 7).await.unwrap();
    let joined = &w.conv_events[0].message.content;
    assert!(
        matches!(joined, Content::Service(sc) if sc.action == ServiceAction::MemberJoined && sc.user_ids == [ids[3]])
    );
    assert!(matches!(
        s.change_membership(space, ids[3], MembershipChange::Join, 8).await,
        Err(StoreError::AlreadyExists(_))
    ));
    let w = s.change_membership(space, ids[0], MembershipChange::Ban(ids[3]), 9).await.unwrap();
    let banned = &w.conv_events[0];
    assert!(matches!(&banned.message.content, Content::Service(sc) if sc.action == ServiceAction::MemberBanned));
    assert!(matches!(
        w.user_events[0].kind,
        UserEventKind::ConversationLeft { removed: true, left_at_seq, .. } if left_at_seq == banned.seq
    ));
    assert!(s.member(space, ids[3]).await.unwrap().is_none());
    assert!(matches!(s.append_message(text(space, ids[0], "no", None), 10).await, Err(StoreError::Denied(_))));
}

/// Synced settings: set, replace and remove in one logged change; a change that would pass
/// the key limit changes nothing and logs nothing; keys list in byte order.
pub async fn user_settings_change_atomically_with_their_log_entry<S: Store>(s: &S) {
    let ids = users(s, &["sets"]).await;
    let u = ids[0];
    let set = |k: &str, v: &str| (k.to_owned(), Some(v.to_owned()));
    let ev = s.change_user_settings(u, vec![set("b", "1"), set("a", "x"), set("Z", "2")], 3, 10).await.unwrap();
    assert!(matches!(&ev.kind, UserEventKind::UserSettingsChanged { changes } if changes.len() == 3), "{ev:?}");
    let keys = |v: Vec<crate::UserSetting>| v.into_iter().map(|x| (x.key, x.value)).collect::<Vec<_>>();
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<Vec<_>>();
    assert_eq!(keys(s.user_settings(u).await.unwrap()), pairs(&[("Z", "2"), ("a", "x"), ("b", "1")]));
    // A fourth key is over the limit: nothing changes, nothing is logged.
    let before = s.user_events(u, 0, 100).await.unwrap().len();
    let over = s.change_user_settings(u, vec![set("a", "y"), set("c", "3")], 3, 11).await;
    assert!(matches!(over, Err(StoreError::FailedPrecondition(_))), "{over:?}");
    assert_eq!(s.user_events(u, 0, 100).await.unwrap().len(), before);
    assert_eq!(keys(s.user_settings(u).await.unwrap()), pairs(&[("Z", "2"), ("a", "x"), ("b", "1")]));
    // Removing one makes room; replacing keeps the count.
    let ev = s.change_user_settings(u, vec![("Z".into(), None), set("c", "3"), set("a", "y")], 3, 12).await.unwrap();
    assert_eq!(ev.user_seq, before as u64 + 1);
    let now = s.user_settings(u).await.unwrap();
    assert_eq!(keys(now.clone()), pairs(&[("a", "y"), ("b", "1"), ("c", "3")]));
    assert_eq!(now.iter().map(|x| x.updated_at_ms).collect::<Vec<_>>(), vec![12, 10, 12]);
    let logged = s.user_events(u, 0, 100).await.unwrap();
    assert_eq!(logged.last().unwrap().kind, ev.kind, "the log holds the change as returned");
}

/// A group that stops sharing history: members who join afterwards (added, joining, granted)
/// see from the change that let them in; members from before keep everything; turning it
/// back on is for those who join after that.
pub async fn without_shared_history_newcomers_see_from_their_join<S: Store>(s: &S) {
    let ids = users(s, &["hv_a", "hv_b", "hv_c", "hv_d"]).await;
    let (a, b, c, d) = (ids[0], ids[1], ids[2], ids[3]);
    let g = group(s, ConversationKind::Group, a, &[b]).await;
    let hello = s.append_message(text(g, a, "before", None), 2).await.unwrap().event.seq;
    let w = s.update_info(g, a, None, None, Some(false), 3).await.unwrap();
    let changed = &w.conv_events[0].message.content;
    assert!(
        matches!(changed, Content::Service(sc) if sc.action == ServiceAction::HistoryVisibilityChanged && sc.target_id == 0),
        "{changed:?}"
    );
    assert!(!s.conversation(g).await.unwrap().unwrap().history_shared);
    assert!(
        s.update_info(g, a, None, None, Some(false), 4).await.unwrap().conv_events.is_empty(),
        "no change, no message"
    );
    let w = s.change_membership(g, a, MembershipChange::Add(vec![c]), 5).await.unwrap();
    let added_at = w.conv_events[0].seq;
    let seen = |v: UserId| async move {
        let (page, _) = s.history(g, v, HistoryDirection::Before, 0, 50).await.unwrap();
        page.iter().map(|m| m.seq).collect::<Vec<_>>()
    };
    assert_eq!(s.member(g, c).await.unwrap().unwrap().visible_from_seq, added_at);
    assert_eq!(seen(c).await.first(), Some(&added_at), "the newcomer starts at their own join");
    assert!(seen(b).await.contains(&hello), "earlier members keep everything");
    s.update_info(g, a, None, None, Some(true), 6).await.unwrap();
    s.change_membership(g, a, MembershipChange::Add(vec![d]), 7).await.unwrap();
    assert!(seen(d).await.contains(&hello), "shared again for later joiners");
    assert!(!seen(c).await.contains(&hello), "an earlier newcomer's view is not widened");
}

/// A sign-in that replaces the older session of its platform ends it and announces itself,
/// in one transaction; deleting an account ends every session, erases the profile and
/// frees the username, and keeps the messages.
pub async fn sign_ins_replace_and_announce_and_deleting_an_account_erases_it<S: Store>(s: &S) {
    let ids = users(s, &["signin"]).await;
    let u = ids[0];
    let new = |a: &[u8], platform: &str, replace: bool| NewSession {
        user_id: u,
        device_name: "dev".into(),
        platform: platform.into(),
        access_hash: a.to_vec(),
        access_expires_at_ms: 10_000,
        refresh_hash: [a, b"r"].concat(),
        replace_same_platform: replace,
        announce: true,
        now_ms: 1_000,
    };
    let phone = s.create_session(new(b"p1", "ios", true)).await.unwrap();
    assert_eq!(phone.events.len(), 1, "only the announcement: nothing to replace");
    let laptop = s.create_session(new(b"l1", "web", true)).await.unwrap().session;
    let phone2 = s.create_session(new(b"p2", "ios", true)).await.unwrap();
    let kinds: Vec<_> = phone2.events.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            UserEventKind::SessionEnded { session_id: phone.session.id, reason: SessionEndReason::Replaced },
            UserEventKind::SessionStarted {
                session_id: phone2.session.id,
                device_name: "dev".into(),
                platform: "ios".into()
            },
        ]
    );
    let live: Vec<_> = s.sessions(u).await.unwrap().iter().map(|x| x.id).collect();
    assert_eq!(live, vec![phone2.session.id, laptop.id], "the web session stays");

    let c = group(s, ConversationKind::Group, u, &[]).await;
    s.append_message(text(c, u, "kept", None), 2).await.unwrap();
    s.change_user_settings(u, vec![("k".into(), Some("v".into()))], 10, 3).await.unwrap();
    let (gone, ended) = s.delete_account(u, 4).await.unwrap();
    assert!(gone.deleted && gone.disabled && gone.bio.is_empty());
    assert_eq!(gone.username, format!("deleted-{}", u.raw()));
    assert_eq!(ended.len(), 2);
    assert!(
        ended
            .iter()
            .all(|e| matches!(e.kind, UserEventKind::SessionEnded { reason: SessionEndReason::AccountDeleted, .. }))
    );
    assert!(s.sessions(u).await.unwrap().is_empty());
    assert!(s.user_settings(u).await.unwrap().is_empty());
    assert!(s.user_with_password("signin").await.unwrap().is_none(), "the username is free");
    let (page, _) = s.history(c, u, HistoryDirection::Before, 0, 10).await.unwrap();
    assert!(page.iter().any(|m| matches!(&m.content, Content::Text { text, .. } if text == "kept")));
    assert!(matches!(s.delete_account(u, 5).await, Err(StoreError::NotFound("user"))), "deleted once");
}

/// Dismissing a group: one service message, then every member leaves with their view
/// ending at it; afterwards nobody is added or joins, and it cannot be dismissed twice.
pub async fn a_dismissed_group_loses_every_member_and_takes_nobody_again<S: Store>(s: &S) {
    let ids = users(s, &["dm_a", "dm_b", "dm_c"]).await;
    let g = group(s, ConversationKind::Group, ids[0], &[ids[1]]).await;
    let w = s.change_membership(g, ids[0], MembershipChange::Dismiss, 5).await.unwrap();
    let end = w.conv_events[0].seq;
    assert!(matches!(&w.conv_events[0].message.content,
        Content::Service(sc) if sc.action == ServiceAction::ConversationDeleted));
    let mut left: Vec<_> = w.user_events.iter().map(|e| (e.user_id, e.kind.clone())).collect();
    left.sort_by_key(|(u, _)| *u);
    assert_eq!(
        left,
        ids[..2]
            .iter()
            .map(|u| (*u, UserEventKind::ConversationLeft { conversation_id: g, removed: true, left_at_seq: end }))
            .collect::<Vec<_>>()
    );
    assert_eq!(s.conversation(g).await.unwrap().unwrap().member_count, 0);
    assert!(s.member_ids(g).await.unwrap().is_empty());
    for change in [MembershipChange::Add(vec![ids[2]]), MembershipChange::Join, MembershipChange::Dismiss] {
        let r = s.change_membership(g, ids[2], change, 6).await;
        assert!(matches!(r, Err(StoreError::NotFound("conversation"))), "{r:?}");
    }
}
