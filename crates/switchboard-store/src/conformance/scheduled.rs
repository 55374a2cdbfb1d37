//! Scheduled messages.

use switchboard_core::model::{Content, ConversationKind};

use super::{group, text, users};
use crate::{HistoryDirection, Scheduled, ScheduledPatch, Store, StoreError};

/// Scheduled messages are kept per sender (idempotent by key, limited in number), listed
/// soonest first, changed and cancelled; due ones are claimed under a lease, and each is
/// delivered once, as an ordinary message carrying its key.
pub async fn scheduled_messages_are_delivered_once<S: Store>(s: &S) {
    let ids = users(s, &["sc1", "sc2"]).await;
    let c = group(s, ConversationKind::Group, ids[0], &ids[1..]).await;
    let body = |t: &str| Content::Text { text: t.into(), entities: vec![], attachments: vec![] };
    let new = |key: &str, at: i64| Scheduled {
        id: 0,
        sender_id: ids[0],
        conversation_id: c,
        send_at_ms: at,
        content: body(key),
        reply_to: None,
        metadata: Default::default(),
        important: true,
        silent: false,
        no_link_preview: true,
        client_key: key.into(),
        created_at_ms: 1,
        failed: None,
    };
    let later = s.schedule(&new("later", 500), 3).await.unwrap();
    let soon = s.schedule(&new("soon", 100), 3).await.unwrap();
    assert_eq!(s.schedule(&new("soon", 999), 3).await.unwrap().id, soon.id, "a retry returns the original");
    s.schedule(&new("third", 900), 3).await.unwrap();
    assert!(matches!(s.schedule(&new("fourth", 900), 3).await, Err(StoreError::FailedPrecondition(_))), "limit");
    let mine: Vec<_> = s.scheduled_of(ids[0], Some(c)).await.unwrap().iter().map(|x| x.client_key.clone()).collect();
    assert_eq!(mine, ["soon", "later", "third"], "soonest first");
    assert!(s.scheduled_of(ids[1], None).await.unwrap().is_empty(), "private to the sender");
    assert!(s.scheduled(ids[1], soon.id).await.unwrap().is_none());
    assert!(later.no_link_preview, "the opt-out is kept");

    let moved = s
        .update_scheduled(ids[0], later.id, ScheduledPatch { content: Some(body("edited")), send_at_ms: Some(150) })
        .await
        .unwrap();
    assert_eq!((moved.send_at_ms, moved.content.clone()), (150, body("edited")));
    assert!(s.cancel_scheduled(ids[0], s.scheduled_of(ids[0], None).await.unwrap()[2].id).await.unwrap());
    assert!(matches!(
        s.update_scheduled(ids[1], later.id, ScheduledPatch::default()).await,
        Err(StoreError::NotFound(_))
    ));

    assert!(s.claim_due(50, 1_000, 10).await.unwrap().is_empty(), "nothing due yet");
    let due = s.claim_due(200, 1_000, 10).await.unwrap();
    assert_eq!(due.iter().map(|x| x.id).collect::<Vec<_>>(), vec![soon.id, later.id]);
    assert!(s.claim_due(300, 1_000, 10).await.unwrap().is_empty(), "leased to the first claimant");
    assert_eq!(s.claim_due(1_300, 1_000, 10).await.unwrap().len(), 2, "the lease runs out");

    let mut m = text(c, ids[0], "soon", Some("soon"));
    m.important = true;
    let delivered = s.deliver_scheduled(soon.id, m.clone(), 1_400).await.unwrap().expect("delivered");
    assert!(!delivered.duplicate && delivered.event.message.important);
    assert!(s.deliver_scheduled(soon.id, m, 1_401).await.unwrap().is_none(), "exactly once");
    s.fail_scheduled(later.id, "you may no longer post there".into()).await.unwrap();
    assert!(s.claim_due(5_000, 1_000, 10).await.unwrap().is_empty(), "a failed schedule waits");
    let waiting = s.scheduled(ids[0], later.id).await.unwrap().unwrap();
    assert_eq!(waiting.failed.as_deref(), Some("you may no longer post there"));
    s.update_scheduled(ids[0], later.id, ScheduledPatch { send_at_ms: Some(6_000), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(s.claim_due(6_000, 1_000, 10).await.unwrap().len(), 1, "a change clears the failure");

    let (page, _) = s.history(c, ids[1], HistoryDirection::Before, 0, 10).await.unwrap();
    assert_eq!(page.iter().filter(|x| x.client_key.as_deref() == Some("soon")).count(), 1);
}
