//! Sync: live delivery to every device, catch-up after a disconnect exactly once and in
//! order, and the resync signal for a device too far behind.

use switchboard_client::proto as pb;
use switchboard_client::{Client, Events, Positions, Transport};

use crate::helpers::*;

/// Applies events until `caught_up`; panics on a duplicate or a gap.
async fn catch_up(events: &mut Events, pos: &mut Positions) -> usize {
    let mut n = 0;
    loop {
        let e = wait_for(events, 20, |_| true).await;
        if is_caught_up(&e) {
            return n;
        }
        if e.seq > 0 || e.user_seq > 0 {
            assert!(pos.apply(&e), "duplicate or gap: {e:?} at {pos:?}");
            n += 1;
        }
    }
}

/// Applies live events until the positions equal the server's state.
async fn follow_until(events: &mut Events, pos: &mut Positions, state: &pb::GetStateResponse) {
    let target = |pos: &Positions| {
        pos.user_seq == state.user_seq
            && state.conversations.iter().all(|c| pos.conversations.get(&c.conversation_id) == Some(&c.seq))
    };
    while !target(pos) {
        let e = wait_for(events, 20, |e| e.seq > 0 || e.user_seq > 0).await;
        assert!(pos.apply(&e), "duplicate or gap: {e:?} at {pos:?}");
    }
}

async fn state(c: &Client) -> pb::GetStateResponse {
    c.call("SyncService/GetState", &pb::GetStateRequest {}).await.unwrap()
}

#[tokio::test]
async fn a_reconnecting_device_receives_every_missed_event_once_and_in_order_while_another_stays_consistent() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let ann_http = app.http(&ann).await;
    let bob_http = app.http(&bob).await;
    let g = group(&ann_http, pb::ConversationKind::Group, "Team", &[&bob]).await;
    let gid = conv_id(&g);

    // Device A (WebSocket) and device B (gRPC) of ann, both caught up.
    let device_b = app.login(&ann).await;
    let mut a = app.client(&ann, Transport::WsJson).await;
    let mut a_events = a.subscribe(Positions::default().subscribe_request()).await.unwrap();
    let mut a_pos = Positions::default();
    catch_up(&mut a_events, &mut a_pos).await;
    let mut b = app.client(&device_b, Transport::Grpc).await;
    let mut b_events = b.subscribe(Positions::default().subscribe_request()).await.unwrap();
    let mut b_pos = Positions::default();
    catch_up(&mut b_events, &mut b_pos).await;
    assert_eq!(a_pos, b_pos);

    // A goes offline; 200 events happen: messages, edits, deletes, membership changes,
    // a new conversation and read state from the other device.
    a.close().await;
    let before = state(&ann_http).await;
    let mut sent = Vec::new();
    for i in 0..120 {
        let who = if i % 2 == 0 { &ann_http } else { &bob_http };
        sent.push(send(who, &gid, &format!("m{i}"), &format!("message {i}")).await);
    }
    for m in sent.iter().filter(|m| m.sender_id == ann.id).take(30) {
        let _: pb::EditMessageResponse = ann_http
            .call(
                "MessageService/EditMessage",
                &pb::EditMessageRequest {
                    conversation_id: gid.clone(),
                    message_id: m.id.clone(),
                    text: text("edited"),
                },
            )
            .await
            .unwrap();
    }
    for m in sent.iter().filter(|m| m.sender_id == bob.id).take(30) {
        let _: pb::DeleteMessagesResponse = bob_http
            .call(
                "MessageService/DeleteMessages",
                &pb::DeleteMessagesRequest {
                    conversation_id: gid.clone(),
                    message_ids: vec![m.id.clone()],
                    for_everyone: true,
                },
            )
            .await
            .unwrap();
    }
    for _ in 0..5 {
        let _: pb::AddMembersResponse = ann_http
            .call(
                "ConversationService/AddMembers",
                &pb::AddMembersRequest { conversation_id: gid.clone(), user_ids: vec![cat.id.clone()] },
            )
            .await
            .unwrap();
        let _: pb::RemoveMemberResponse = ann_http
            .call(
                "ConversationService/RemoveMember",
                &pb::RemoveMemberRequest { conversation_id: gid.clone(), user_id: cat.id.clone() },
            )
            .await
            .unwrap();
    }
    let dm: pb::CreateDirectResponse = bob_http
        .call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: ann.id.clone() })
        .await
        .unwrap();
    let dm_id = conv_id(dm.conversation.as_ref().unwrap());
    for i in 0..9 {
        send(&bob_http, &dm_id, &format!("d{i}"), "psst").await;
    }
    let _: pb::MarkReadResponse = ann_http
        .call("MessageService/MarkRead", &pb::MarkReadRequest { conversation_id: gid.clone(), seq: 50 })
        .await
        .unwrap();
    let after = state(&ann_http).await;
    let conv_events: u64 = after
        .conversations
        .iter()
        .map(|c| {
            let was = before.conversations.iter().find(|b| b.conversation_id == c.conversation_id).map_or(0, |b| b.seq);
            c.seq - was
        })
        .sum();
    let missed = conv_events + (after.user_seq - before.user_seq);
    assert!(missed >= 200, "only {missed} events happened");

    // B saw all of it live.
    follow_until(&mut b_events, &mut b_pos, &after).await;

    // A reconnects with its positions and gets every missed event exactly once, in order.
    let mut a = app.client(&ann, Transport::WsBinary).await;
    let mut a_events = a.subscribe(a_pos.subscribe_request()).await.unwrap();
    let got = catch_up(&mut a_events, &mut a_pos).await;
    assert_eq!(got as u64, missed);
    assert_eq!(a_pos, b_pos);

    // Then both continue live.
    let m = send(&bob_http, &gid, "live", "still there?").await;
    for events in [&mut a_events, &mut b_events] {
        let e = wait_for(events, 10, |e| e.seq == m.seq && e.conversation_id == gid).await;
        assert!(matches!(e.kind, Some(pb::event::Kind::MessageCreated(ref x)) if x.id == m.id));
    }
    app.stop().await;
}

#[tokio::test]
async fn a_device_too_far_behind_is_told_to_resync() {
    let app = TestApp::spawn_with(|c| c.service.max_catchup_events = 10).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let http = app.http(&ann).await;
    let g = group(&http, pb::ConversationKind::Group, "Busy", &[&bob]).await;
    let gid = conv_id(&g);
    let mut ws = app.client(&ann, Transport::WsJson).await;
    let mut events = ws.subscribe(Positions::default().subscribe_request()).await.unwrap();
    let mut pos = Positions::default();
    catch_up(&mut events, &mut pos).await;
    ws.close().await;
    for i in 0..15 {
        send(&http, &gid, &format!("k{i}"), "flood").await;
    }
    let mut ws = app.client(&ann, Transport::WsJson).await;
    let mut events = ws.subscribe(pos.subscribe_request()).await.unwrap();
    let e = wait_for(&mut events, 10, |e| matches!(e.kind, Some(pb::event::Kind::ResyncRequired(_)))).await;
    let Some(pb::event::Kind::ResyncRequired(r)) = e.kind else { unreachable!() };
    assert_eq!(r.conversation_id, gid);
    let diff: pb::GetDifferenceResponse = http
        .call(
            "SyncService/GetDifference",
            &pb::GetDifferenceRequest {
                user_seq: pos.user_seq,
                positions: pos.subscribe_request().positions,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert!(diff.resync_required);
    app.stop().await;
}

#[tokio::test]
async fn get_difference_pages_through_a_backlog() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let http = app.http(&ann).await;
    let g = group(&http, pb::ConversationKind::Group, "Pages", &[&bob]).await;
    for i in 0..30 {
        send(&http, &conv_id(&g), &format!("p{i}"), "page me").await;
    }
    let bob_http = app.http(&bob).await;
    let mut pos = Positions::default();
    let mut pages = 0;
    loop {
        let req = pos.subscribe_request();
        let diff: pb::GetDifferenceResponse = bob_http
            .call(
                "SyncService/GetDifference",
                &pb::GetDifferenceRequest { user_seq: req.user_seq, positions: req.positions, limit: 7 },
            )
            .await
            .unwrap();
        assert!(diff.events.len() <= 7);
        for e in &diff.events {
            assert!(pos.apply(e), "gap or duplicate {e:?}");
        }
        pages += 1;
        if !diff.more {
            break;
        }
        assert!(pages < 20, "paging does not end");
    }
    assert_eq!(pos.conversations[&conv_id(&g)], 31);
    assert!(pages >= 5);
    app.stop().await;
}

#[tokio::test]
async fn live_events_arrive_on_every_stream_transport() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let http = app.http(&ann).await;
    let g = group(&http, pb::ConversationKind::Group, "Live", &[&bob]).await;
    let gid = conv_id(&g);
    for t in [Transport::Grpc, Transport::WsJson, Transport::WsBinary] {
        let mut c = app.client(&bob, t).await;
        let mut events = c.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
        wait_for(&mut events, 10, is_caught_up).await;
        let m = send(&http, &gid, &format!("live-{t:?}"), "hi").await;
        let e = wait_for(&mut events, 10, |e| e.conversation_id == gid).await;
        assert_eq!(e.seq, m.seq, "{t:?}");
        drop(c);
    }
    let mut plain_http = Client::connect(&app.addr, Transport::Http, None).await.unwrap();
    assert!(plain_http.subscribe(Default::default()).await.is_err(), "HTTP has no event stream");
    app.stop().await;
}

#[tokio::test]
async fn a_removed_member_sees_the_log_up_to_the_removal_and_nothing_after() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let ann_http = app.http(&ann).await;
    let g = group(&ann_http, pb::ConversationKind::Group, "Soon without bob", &[&bob]).await;
    let gid = conv_id(&g);
    // One device of bob's follows live, one is offline.
    let mut live = app.client(&bob, Transport::Grpc).await;
    let mut live_events = live.subscribe(Positions::default().subscribe_request()).await.unwrap();
    let mut live_pos = Positions::default();
    catch_up(&mut live_events, &mut live_pos).await;
    let offline_pos = live_pos.clone();

    let before = send(&ann_http, &gid, "b1", "still with us").await;
    let _: pb::RemoveMemberResponse = ann_http
        .call(
            "ConversationService/RemoveMember",
            &pb::RemoveMemberRequest { conversation_id: gid.clone(), user_id: bob.id.clone() },
        )
        .await
        .unwrap();
    let after = send(&ann_http, &gid, "b2", "bob is gone").await;

    let check = |events: &[pb::Event]| {
        let seqs: Vec<u64> = events.iter().filter(|e| e.conversation_id == gid).map(|e| e.seq).collect();
        assert_eq!(seqs, vec![before.seq, before.seq + 1], "bob sees up to his removal only: {events:#?}");
        let left = events.iter().find_map(|e| match &e.kind {
            Some(pb::event::Kind::ConversationLeft(l)) => Some(l.clone()),
            _ => None,
        });
        let left = left.expect("bob is told he left");
        assert!(left.removed);
        assert_eq!(left.left_at_seq, before.seq + 1);
        assert!(events.iter().all(|e| e.seq != after.seq || e.conversation_id != gid));
    };

    let mut seen = Vec::new();
    while !seen.iter().any(|e: &pb::Event| matches!(e.kind, Some(pb::event::Kind::ConversationLeft(_)))) {
        let e = wait_for(&mut live_events, 10, |e| e.seq > 0 || e.user_seq > 0).await;
        assert!(live_pos.apply(&e), "gap or duplicate: {e:?}");
        seen.push(e);
    }
    // Anything after the removal would have arrived by now.
    send(&ann_http, &gid, "b3", "still gone").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    while let Some(switchboard_client::StreamEvent::Event(e)) =
        live_events.next_within(std::time::Duration::from_millis(50)).await
    {
        if e.seq > 0 || e.user_seq > 0 {
            seen.push(e);
        }
    }
    check(&seen);

    let mut device = app.client(&bob, Transport::WsJson).await;
    let mut events = device.subscribe(offline_pos.subscribe_request()).await.unwrap();
    let mut pos = offline_pos.clone();
    let mut replayed = Vec::new();
    loop {
        let e = wait_for(&mut events, 10, |_| true).await;
        if is_caught_up(&e) {
            break;
        }
        assert!(pos.apply(&e), "gap or duplicate: {e:?}");
        replayed.push(e);
    }
    check(&replayed);

    // An HTTP client polling GetDifference from the same positions sees the same.
    let req = offline_pos.subscribe_request();
    let diff: pb::GetDifferenceResponse = app
        .http(&bob)
        .await
        .call(
            "SyncService/GetDifference",
            &pb::GetDifferenceRequest { user_seq: req.user_seq, positions: req.positions, limit: 100 },
        )
        .await
        .unwrap();
    let mut pos = offline_pos.clone();
    for e in &diff.events {
        assert!(pos.apply(e), "gap or duplicate: {e:?}");
    }
    check(&diff.events);
    app.stop().await;
}
