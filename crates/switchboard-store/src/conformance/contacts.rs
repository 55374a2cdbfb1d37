//! Contacts: entries per owner, mutual when both have the other, each change in the
//! owner's log and in the other's when their entry turns mutual or stops being so.

use switchboard_core::UserId;
use switchboard_core::event::{UserEvent, UserEventKind};

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
