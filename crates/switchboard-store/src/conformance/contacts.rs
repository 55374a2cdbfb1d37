//! Contacts: entries per owner, mutual when both have the other, each change in the
//! owner's log and in the other's when their entry turns mutual or stops being so.

use switchboard_core::UserId;
use switchboard_core::event::{UserEvent, UserEventKind};
use switchboard_core::model::FriendRequestState;

use super::users;
use crate::{Store, StoreError};

fn entry(ev: &UserEvent) -> (UserId, Option<(String, bool)>) {
    match &ev.kind {
        UserEventKind::ContactChanged { user_id, contact } => {
            (*user_id, contact.as_ref().map(|c| (c.remark.clone(), c.mutual)))
        }
        other => panic!("not a contact change: {other:?}"),
    }
}

/// Adding, editing, removing; the mutual flag and both logs; limits and unknown accounts.
pub async fn contacts_are_logged_to_both_sides_when_mutual<S: Store>(s: &S) {
    let ids = users(s, &["ct1", "ct2", "ct3"]).await;
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let before_b = s.user_seq(b).await.unwrap();
    let evs = s.put_contact(a, b, "Bee".into(), "met at the fair".into(), 10, 5).await.unwrap();
    assert_eq!(evs.len(), 1, "b does not have a: only a's log");
    assert_eq!((evs[0].user_id, entry(&evs[0])), (a, (b, Some(("Bee".into(), false)))));
    assert_eq!(s.user_seq(b).await.unwrap(), before_b);
    assert!(s.put_contact(a, b, "Bee".into(), "met at the fair".into(), 10, 6).await.unwrap().is_empty(), "unchanged");

    // b adds a: both entries turn mutual, and a's devices hear of it.
    let evs = s.put_contact(b, a, String::new(), String::new(), 10, 7).await.unwrap();
    let got: Vec<_> = evs.iter().map(|e| (e.user_id, entry(e))).collect();
    assert_eq!(got, vec![(b, (a, Some((String::new(), true)))), (a, (b, Some(("Bee".into(), true))))]);
    let listed = s.contacts(a, None, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].user_id, listed[0].notes.as_str(), listed[0].mutual, listed[0].added_at_ms),
        (b, "met at the fair", true, 5)
    );

    // Editing keeps the time it was added; paging by user id.
    s.put_contact(a, b, "B".into(), String::new(), 10, 8).await.unwrap();
    s.put_contact(a, c, String::new(), String::new(), 10, 9).await.unwrap();
    let first = s.contacts(a, None, 1).await.unwrap();
    let rest = s.contacts(a, Some(first[0].user_id), 10).await.unwrap();
    assert_eq!(first.len() + rest.len(), 2);
    assert_eq!(s.contacts_among(a, &[b]).await.unwrap()[0].added_at_ms, 5);
    assert!(matches!(
        s.put_contact(a, UserId::from_raw(999_999), String::new(), String::new(), 10, 10).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.put_contact(c, a, String::new(), String::new(), 0, 10).await,
        Err(StoreError::FailedPrecondition(_))
    ));
    assert!(s.contacts(c, None, 10).await.unwrap().is_empty(), "the refused entry was not kept");

    // a removes b: both logs again, b's entry no longer mutual.
    let evs = s.remove_contact(a, b, 11).await.unwrap();
    let got: Vec<_> = evs.iter().map(|e| (e.user_id, entry(e))).collect();
    assert_eq!(got, vec![(a, (b, None)), (b, (a, Some((String::new(), false))))]);
    assert!(s.remove_contact(a, b, 12).await.unwrap().is_empty(), "not there");
    assert!(!s.contacts(b, None, 10).await.unwrap()[0].mutual);
}

fn request_state(ev: &UserEvent) -> Option<(UserId, UserId, FriendRequestState)> {
    match &ev.kind {
        UserEventKind::FriendRequestChanged { request, state } => Some((request.from, request.to, *state)),
        _ => None,
    }
}

/// Friend requests: sent and answered in both logs; accepting makes both contacts;
/// asking someone who asked first accepts theirs; limits and refusals.
pub async fn friend_requests_reach_both_and_make_contacts<S: Store>(s: &S) {
    let ids = users(s, &["fr1", "fr2", "fr3"]).await;
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let evs = s.send_friend_request(a, b, "hi, it's Ann".into(), 5, 10, 5).await.unwrap();
    let got: Vec<_> = evs.iter().map(|e| (e.user_id, request_state(e))).collect();
    assert_eq!(got, vec![(a, Some((a, b, FriendRequestState::Sent))), (b, Some((a, b, FriendRequestState::Sent)))]);
    assert!(s.send_friend_request(a, b, "again".into(), 5, 10, 6).await.unwrap().is_empty(), "already waiting");
    let incoming = s.friend_requests(b, true, 10).await.unwrap();
    assert_eq!((incoming.len(), incoming[0].message.as_str()), (1, "hi, it's Ann"));
    assert_eq!(s.friend_requests(a, false, 10).await.unwrap().len(), 1);
    assert!(s.friend_requests(a, true, 10).await.unwrap().is_empty());

    // Accepting: both logs, then both become contacts (mutual).
    let evs = s.answer_friend_request(b, a, true, 10, 7).await.unwrap();
    let states: Vec<_> = evs.iter().filter_map(request_state).collect();
    assert_eq!(states, vec![(a, b, FriendRequestState::Accepted); 2]);
    assert!(s.contacts(a, None, 10).await.unwrap()[0].mutual);
    assert!(s.contacts(b, None, 10).await.unwrap()[0].mutual);
    assert!(s.friend_requests(b, true, 10).await.unwrap().is_empty());
    assert!(matches!(s.answer_friend_request(b, a, true, 10, 8).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        s.send_friend_request(a, b, String::new(), 5, 10, 8).await,
        Err(StoreError::FailedPrecondition(_))
    ));

    // Crossing requests: c asks a, then a asks c: that accepts c's.
    s.send_friend_request(c, a, String::new(), 5, 10, 9).await.unwrap();
    let evs = s.send_friend_request(a, c, String::new(), 5, 10, 10).await.unwrap();
    assert!(evs.iter().filter_map(request_state).all(|x| x == (c, a, FriendRequestState::Accepted)));
    assert_eq!(s.contacts(c, None, 10).await.unwrap().len(), 1);

    // Declining and cancelling.
    let d = users(s, &["fr4"]).await[0];
    s.send_friend_request(d, a, String::new(), 5, 10, 11).await.unwrap();
    let evs = s.answer_friend_request(a, d, false, 10, 12).await.unwrap();
    assert_eq!(evs.iter().filter_map(request_state).collect::<Vec<_>>(), vec![(d, a, FriendRequestState::Rejected); 2]);
    assert!(s.contacts(d, None, 10).await.unwrap().is_empty());
    s.send_friend_request(d, b, String::new(), 5, 10, 13).await.unwrap();
    let evs = s.cancel_friend_request(d, b, 14).await.unwrap();
    assert_eq!(
        evs.iter().filter_map(request_state).collect::<Vec<_>>(),
        vec![(d, b, FriendRequestState::Cancelled); 2]
    );
    assert!(s.cancel_friend_request(d, b, 15).await.unwrap().is_empty());
    s.send_friend_request(d, b, String::new(), 1, 10, 16).await.unwrap();
    assert!(matches!(
        s.send_friend_request(d, c, String::new(), 1, 10, 17).await,
        Err(StoreError::FailedPrecondition(_))
    ));
    assert!(matches!(
        s.send_friend_request(d, UserId::from_raw(999_999), String::new(), 5, 10, 18).await,
        Err(StoreError::NotFound(_))
    ));
}

/// Blocks: per owner, logged to the owner only, found from the blocked side.
pub async fn blocks_are_private_to_the_blocker_and_found_both_ways<S: Store>(s: &S) {
    let ids = users(s, &["bl1", "bl2", "bl3"]).await;
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let before_b = s.user_seq(b).await.unwrap();
    let ev = s.set_block(a, b, true, 5).await.unwrap().expect("blocked");
    assert_eq!((ev.user_id, &ev.kind), (a, &UserEventKind::BlockChanged { user_id: b, blocked: true }));
    assert_eq!(s.user_seq(b).await.unwrap(), before_b, "the blocked side is not told");
    assert!(s.set_block(a, b, true, 6).await.unwrap().is_none(), "twice");
    assert_eq!(s.blocked_users(a, None, 10).await.unwrap(), vec![(b, 5)]);
    assert_eq!(s.blockers_of(b, &[a, c]).await.unwrap(), vec![a]);
    assert!(s.blockers_of(c, &[a, b]).await.unwrap().is_empty());
    assert!(matches!(s.set_block(a, UserId::from_raw(999_999), true, 7).await, Err(StoreError::NotFound(_))));
    let ev = s.set_block(a, b, false, 8).await.unwrap().expect("unblocked");
    assert_eq!(ev.kind, UserEventKind::BlockChanged { user_id: b, blocked: false });
    assert!(s.set_block(a, b, false, 9).await.unwrap().is_none());
    assert!(s.blocked_users(a, None, 10).await.unwrap().is_empty());
}

/// Privacy rules: stored per setting with their lists, logged to the owner; refusals from
/// blocks, deny and allow lists, contacts one way and both ways.
pub async fn privacy_rules_decide_with_blocks_lists_and_contacts<S: Store>(s: &S) {
    use switchboard_core::privacy::{Audience, PrivacyRule, PrivacySetting as P};
    let ids = users(s, &["pv1", "pv2", "pv3", "pv4"]).await;
    let (o, contact, friend, stranger) = (ids[0], ids[1], ids[2], ids[3]);
    let all = [contact, friend, stranger];
    let refused = move |setting| async move {
        let mut r: Vec<UserId> = Vec::new();
        for v in all {
            if !s.privacy_refusals(v, &[o], &[setting]).await.unwrap().is_empty() {
                r.push(v);
            }
        }
        r
    };
    assert!(s.privacy_rules(o).await.unwrap().is_empty(), "nothing set: defaults");
    assert!(refused(P::Presence).await.is_empty(), "everyone by default");
    s.put_contact(o, contact, String::new(), String::new(), 10, 1).await.unwrap();
    s.put_contact(o, friend, String::new(), String::new(), 10, 1).await.unwrap();
    s.put_contact(friend, o, String::new(), String::new(), 10, 1).await.unwrap();
    let rule =
        |setting, audience, allow: Vec<UserId>, deny: Vec<UserId>| PrivacyRule { setting, audience, allow, deny };
    let before = s.user_seq(o).await.unwrap();
    let events = s
        .set_privacy_rules(
            o,
            vec![
                rule(P::Presence, Audience::Contacts, vec![], vec![]),
                rule(P::Bio, Audience::Friends, vec![], vec![]),
                rule(P::DirectMessages, Audience::Nobody, vec![stranger], vec![]),
                rule(P::Search, Audience::Everyone, vec![], vec![contact]),
            ],
            2,
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 4);
    assert_eq!(s.user_seq(o).await.unwrap(), before + 4, "one entry per rule");
    assert!(matches!(&events[2].kind, UserEventKind::PrivacyChanged { rule } if rule.allow == vec![stranger]));
    assert_eq!(refused(P::Presence).await, vec![stranger]);
    assert_eq!(refused(P::Bio).await, vec![contact, stranger], "friends: both ways");
    assert_eq!(refused(P::DirectMessages).await, vec![contact, friend], "nobody but the allowed");
    assert_eq!(refused(P::Search).await, vec![contact], "everyone but the denied");
    assert!(refused(P::GroupInvites).await.is_empty(), "untouched");
    // Several owners and settings in one read; the viewer never refuses themself.
    let mut r = s.privacy_refusals(stranger, &[o, friend, stranger], &[P::Presence, P::Bio]).await.unwrap();
    r.sort();
    assert_eq!(r, vec![(o, P::Presence), (o, P::Bio)]);
    // A block keeps out of everything, whatever the lists say.
    s.set_block(o, stranger, true, 3).await.unwrap();
    assert_eq!(refused(P::DirectMessages).await, vec![contact, friend, stranger]);
    assert_eq!(refused(P::GroupInvites).await, vec![stranger]);
    s.set_block(o, stranger, false, 4).await.unwrap();
    let stored = s.privacy_rules(o).await.unwrap();
    assert_eq!(stored.len(), 4);
    assert_eq!(stored.iter().find(|r| r.setting == P::DirectMessages).unwrap().allow, vec![stranger]);
    // Back to the default: the rule is gone; an unknown listed account changes nothing.
    s.set_privacy_rules(o, vec![rule(P::Presence, Audience::Everyone, vec![], vec![])], 5).await.unwrap();
    assert!(refused(P::Presence).await.is_empty());
    assert_eq!(s.privacy_rules(o).await.unwrap().len(), 3);
    let unknown = rule(P::Bio, Audience::Nobody, vec![UserId::from_raw(999_999)], vec![]);
    assert!(matches!(s.set_privacy_rules(o, vec![unknown], 6).await, Err(StoreError::NotFound(_))));
    assert_eq!(refused(P::Bio).await, vec![contact, stranger], "all or none");
}
