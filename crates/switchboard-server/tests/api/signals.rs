//! Ephemeral signals: typing and presence reach only those who should see them.

use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{StreamEvent, Transport};

use crate::helpers::*;

fn presence_of<'a>(e: &'a pb::Event, user: &TestUser) -> Option<&'a pb::Presence> {
    match &e.kind {
        Some(pb::event::Kind::Presence(p)) if p.user_id == user.id => Some(p),
        _ => None,
    }
}

#[tokio::test]
async fn presence_goes_to_subscribers_only_and_follows_connections_and_status() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;

    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 10, is_caught_up).await;
    let subscribed: pb::SubscribePresenceResponse = bob_ws
        .call("SignalService/SubscribePresence", &pb::SubscribePresenceRequest { user_ids: vec![ann.id.clone()] })
        .await
        .unwrap();
    assert_eq!(subscribed.presences[0].status, pb::PresenceStatus::Offline as i32);
    let mut cat_ws = app.client(&cat, Transport::WsJson).await;
    let mut cat_events =
        cat_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut cat_events, 10, is_caught_up).await;

    // Ann connects: bob (a subscriber) sees her online.
    let mut ann_ws = app.client(&ann, Transport::WsBinary).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 10, is_caught_up).await;
    let e = wait_for(&mut bob_events, 10, |e| presence_of(e, &ann).is_some()).await;
    assert_eq!(presence_of(&e, &ann).unwrap().status, pb::PresenceStatus::Online as i32);

    // An explicit status.
    let _: pb::SetPresenceResponse = ann_ws
        .call("SignalService/SetPresence", &pb::SetPresenceRequest { status: pb::PresenceStatus::Away as i32 })
        .await
        .unwrap();
    let e = wait_for(&mut bob_events, 10, |e| presence_of(e, &ann).is_some()).await;
    assert_eq!(presence_of(&e, &ann).unwrap().status, pb::PresenceStatus::Away as i32);

    // Ann leaves: offline with a last-seen time.
    ann_ws.close().await;
    let e = wait_for(&mut bob_events, 10, |e| presence_of(e, &ann).is_some()).await;
    let p = presence_of(&e, &ann).unwrap();
    assert_eq!(p.status, pb::PresenceStatus::Offline as i32);
    assert!(p.last_seen_at_ms > 0);

    // Cat, who never subscribed, heard nothing of it.
    if let Some(StreamEvent::Event(e)) = cat_events.next_within(Duration::from_millis(300)).await {
        assert!(presence_of(&e, &ann).is_none(), "presence leaked to a non-subscriber: {e:?}");
    }
    let without_stream = app.login(&cat).await;
    let no_stream = app.http(&without_stream).await;
    let refused = no_stream
        .call::<_, pb::SubscribePresenceResponse>(
            "SignalService/SubscribePresence",
            &pb::SubscribePresenceRequest { user_ids: vec![ann.id.clone()] },
        )
        .await;
    assert_eq!(code_of(refused), pb::ErrorCode::FailedPrecondition);
    app.stop().await;
}

#[tokio::test]
async fn typing_reaches_the_other_members_and_stops_when_the_typist_vanishes() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let dm: pb::CreateDirectResponse = app
        .http(&ann)
        .await
        .call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: bob.id.clone() })
        .await
        .unwrap();
    let dm_id = conv_id(dm.conversation.as_ref().unwrap());
    let mut bob_c = app.client(&bob, Transport::Grpc).await;
    let mut bob_events = bob_c.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 10, is_caught_up).await;
    let mut ann_ws = app.client(&ann, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 10, is_caught_up).await;

    let _: pb::SetTypingResponse = ann_ws
        .call("SignalService/SetTyping", &pb::SetTypingRequest { conversation_id: dm_id.clone(), typing: true })
        .await
        .unwrap();
    let typing =
        |want: bool| move |e: &pb::Event| matches!(&e.kind, Some(pb::event::Kind::Typing(t)) if t.typing == want);
    let e = wait_for(&mut bob_events, 10, typing(true)).await;
    let Some(pb::event::Kind::Typing(t)) = e.kind else { unreachable!() };
    assert_eq!(t.user_id, ann.id);
    assert!(t.expires_at_ms > 0);

    // Ann's client vanishes mid-typing: bob is told she stopped.
    drop(ann_events);
    ann_ws.close().await;
    wait_for(&mut bob_events, 10, typing(false)).await;
    app.stop().await;
}

#[tokio::test]
async fn reading_on_one_device_reaches_the_others_and_the_sender_sees_the_receipt() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let g = group(&app.http(&ann).await, pb::ConversationKind::Group, "Receipts", &[&bob]).await;
    let gid = conv_id(&g);
    let mut ann_c = app.client(&ann, Transport::WsJson).await;
    let mut ann_events = ann_c.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 10, is_caught_up).await;
    let bob_tablet = app.login(&bob).await;
    let mut tablet = app.client(&bob_tablet, Transport::Grpc).await;
    let mut tablet_events =
        tablet.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut tablet_events, 10, is_caught_up).await;

    let m = send(&ann_c, &gid, "r1", "did you read this?").await;
    let _: pb::MarkReadResponse = app
        .http(&bob)
        .await
        .call("MessageService/MarkRead", &pb::MarkReadRequest { conversation_id: gid.clone(), seq: m.seq })
        .await
        .unwrap();
    let e = wait_for(&mut tablet_events, 10, |e| matches!(e.kind, Some(pb::event::Kind::ReadStateChanged(_)))).await;
    let Some(pb::event::Kind::ReadStateChanged(r)) = e.kind else { unreachable!() };
    assert_eq!((r.conversation_id.as_str(), r.read_seq), (gid.as_str(), m.seq));
    let e =
        wait_for(&mut ann_events, 10, |e| matches!(&e.kind, Some(pb::event::Kind::Receipt(r)) if r.user_id == bob.id))
            .await;
    let Some(pb::event::Kind::Receipt(r)) = e.kind else { unreachable!() };
    assert_eq!(r.read_seq, m.seq);
    app.stop().await;
}
