//! Group lifecycle and settings: history visibility for members who join later.

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use crate::helpers::*;

async fn history(c: &Client, conv: &str) -> Vec<pb::Message> {
    let r: pb::GetHistoryResponse = c
        .call(
            "MessageService/GetHistory",
            &pb::GetHistoryRequest {
                conversation_id: conv.into(),
                direction: pb::HistoryDirection::Before as i32,
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    r.messages
}

fn service_action(m: &pb::Message) -> Option<pb::ServiceAction> {
    match &m.content {
        Some(pb::message::Content::Service(s)) => Some(s.action()),
        _ => None,
    }
}

async fn set_visibility(
    c: &Client,
    conv: &str,
    v: pb::HistoryVisibility,
) -> Result<pb::UpdateConversationResponse, switchboard_client::ClientError> {
    let req = pb::UpdateConversationRequest {
        conversation_id: conv.into(),
        history_visibility: Some(v as i32),
        ..Default::default()
    };
    c.call("ConversationService/UpdateConversation", &req).await
}

async fn promote(c: &Client, conv: &str, user: &TestUser, rights: pb::AdminRights) {
    let req = pb::SetMemberRoleRequest {
        conversation_id: conv.into(),
        user_id: user.id.clone(),
        role: pb::MemberRole::Admin as i32,
        rights: Some(rights),
    };
    let _: pb::SetMemberRoleResponse = c.call("ConversationService/SetMemberRole", &req).await.unwrap();
}

async fn add(c: &Client, conv: &str, user: &TestUser) {
    let req = pb::AddMembersRequest { conversation_id: conv.into(), user_ids: vec![user.id.clone()] };
    let _: pb::AddMembersResponse = c.call("ConversationService/AddMembers", &req).await.unwrap();
}

#[tokio::test]
async fn without_shared_history_members_who_join_later_see_from_their_join() {
    let app = TestApp::spawn().await;
    let [ann, bob, carol, dave] =
        [app.register("ann").await, app.register("bob").await, app.register("carol").await, app.register("dave").await];
    let a = app.client(&ann, Transport::Http).await;
    let g = group(&a, pb::ConversationKind::Group, "Club", &[&bob]).await;
    assert_eq!(g.conversation.as_ref().unwrap().history_visibility(), pb::HistoryVisibility::Shared, "the default");
    let gid = conv_id(&g);
    let early = send(&a, &gid, "e1", "said before carol came").await;

    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 10, is_caught_up).await;

    // Bob is a plain member: he may not change it.
    let b = app.client(&bob, Transport::Http).await;
    let denied = set_visibility(&b, &gid, pb::HistoryVisibility::SinceJoin).await;
    assert_eq!(code_of(denied), pb::ErrorCode::PermissionDenied);
    let bad = set_visibility(&a, &gid, pb::HistoryVisibility::Unspecified).await.unwrap_err();
    assert_eq!((bad.code, bad.field.as_str()), (pb::ErrorCode::InvalidArgument, "history_visibility"));

    let r = set_visibility(&a, &gid, pb::HistoryVisibility::SinceJoin).await.unwrap();
    assert_eq!(r.conversation.unwrap().conversation.unwrap().history_visibility(), pb::HistoryVisibility::SinceJoin);
    let e = wait_for(&mut bob_events, 10, |e| match &e.kind {
        Some(pb::event::Kind::MessageCreated(m)) => {
            service_action(m) == Some(pb::ServiceAction::HistoryVisibilityChanged)
        }
        _ => false,
    })
    .await;
    let Some(pb::event::Kind::MessageCreated(m)) = e.kind else { unreachable!() };
    let Some(pb::message::Content::Service(s)) = m.content else { unreachable!() };
    assert_eq!(s.target_id, "", "empty = since join");

    // Carol joins now: her history starts at her join, by page and by id alike.
    add(&a, &gid, &carol).await;
    let c = app.client(&carol, Transport::Grpc).await;
    let seen = history(&c, &gid).await;
    assert_eq!(service_action(&seen[0]), Some(pb::ServiceAction::MembersAdded), "{seen:?}");
    assert!(seen.iter().all(|m| m.id != early.id));
    let by_id: pb::GetMessagesResponse = c
        .call(
            "MessageService/GetMessages",
            &pb::GetMessagesRequest { conversation_id: gid.clone(), message_ids: vec![early.id.clone()] },
        )
        .await
        .unwrap();
    assert!(by_id.messages.is_empty(), "an earlier message is not readable by id either");
    let later = send(&a, &gid, "e2", "said after carol came").await;
    assert!(history(&c, &gid).await.iter().any(|m| m.id == later.id));
    // Bob, there from before, keeps everything.
    assert!(history(&b, &gid).await.iter().any(|m| m.id == early.id));

    // Shared again: Dave, who joins afterwards, sees the start; Carol's view is unchanged.
    set_visibility(&a, &gid, pb::HistoryVisibility::Shared).await.unwrap();
    add(&a, &gid, &dave).await;
    let d = app.client(&dave, Transport::WsBinary).await;
    assert!(history(&d, &gid).await.iter().any(|m| m.id == early.id));
    assert!(history(&c, &gid).await.iter().all(|m| m.id != early.id));
    app.stop().await;
}

#[tokio::test]
async fn history_visibility_is_chosen_at_creation_and_only_for_groups_and_channels() {
    let app = TestApp::spawn().await;
    let [ann, bob] = [app.register("ann").await, app.register("bob").await];
    let a = app.client(&ann, Transport::Http).await;
    let r: pb::CreateConversationResponse = a
        .call(
            "ConversationService/CreateConversation",
            &pb::CreateConversationRequest {
                kind: pb::ConversationKind::Channel as i32,
                title: "News".into(),
                history_visibility: pb::HistoryVisibility::SinceJoin as i32,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ch = r.conversation.unwrap();
    assert_eq!(ch.conversation.as_ref().unwrap().history_visibility(), pb::HistoryVisibility::SinceJoin);
    // An enum value the server does not know (protobuf carries it as a number).
    let g = app.client(&ann, Transport::Grpc).await;
    let bad = g
        .call::<_, pb::CreateConversationResponse>(
            "ConversationService/CreateConversation",
            &pb::CreateConversationRequest {
                kind: pb::ConversationKind::Group as i32,
                title: "x".into(),
                history_visibility: 7,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!((bad.code, bad.field.as_str()), (pb::ErrorCode::InvalidArgument, "history_visibility"));
    let d: pb::CreateDirectResponse =
        a.call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: bob.id.clone() }).await.unwrap();
    let did = conv_id(d.conversation.as_ref().unwrap());
    let e = set_visibility(&a, &did, pb::HistoryVisibility::SinceJoin).await.unwrap_err();
    assert_eq!(e.code, pb::ErrorCode::PermissionDenied, "a direct conversation has no info to edit: {e:?}");
    app.stop().await;
}

/// A delete says who deleted and when; moving the read watermark tells every device of the
/// member the counters left. Both live and through catch-up.
#[tokio::test]
async fn deletes_name_the_deleter_and_read_events_carry_the_counters_left() {
    let app = TestApp::spawn().await;
    let [ann, bob] = [app.register("ann").await, app.register("bob").await];
    let a = app.client(&ann, Transport::Http).await;
    let g = group(&a, pb::ConversationKind::Group, "Counted", &[&bob]).await;
    let gid = conv_id(&g);
    let phone = app.login(&bob).await;
    let mut p = app.client(&phone, Transport::WsJson).await;
    let mut live = p.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut live, 10, is_caught_up).await;

    let b = app.client(&bob, Transport::Grpc).await;
    let bobs = send(&b, &gid, "b1", "from bob").await;
    let first = send(&a, &gid, "a1", "one").await;
    let mention = pb::SendMessageRequest {
        conversation_id: gid.clone(),
        client_key: "a2".into(),
        text: Some(pb::TextContent {
            text: "@bob two".into(),
            entities: vec![pb::Entity {
                kind: pb::EntityKind::Mention as i32,
                offset: 0,
                length: 4,
                user_id: bob.id.clone(),
                url: String::new(),
                role_id: String::new(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let _: pb::SendMessageResponse = a.call("MessageService/SendMessage", &mention).await.unwrap();
    send(&a, &gid, "a3", "three").await;

    // Bob reads up to "one" on another device: two unread are left, one mentioning him.
    let read = pb::MarkReadRequest { conversation_id: gid.clone(), seq: first.seq };
    let _: pb::MarkReadResponse = b.call("MessageService/MarkRead", &read).await.unwrap();
    let e = wait_for(&mut live, 10, |e| matches!(e.kind, Some(pb::event::Kind::ReadStateChanged(_)))).await;
    let Some(pb::event::Kind::ReadStateChanged(r)) = e.kind else { unreachable!() };
    assert_eq!((r.read_seq, r.unread_count, r.mention_count), (first.seq, Some(2), Some(1)));

    // Ann, the owner, deletes Bob's message for everyone.
    let del = pb::DeleteMessagesRequest {
        conversation_id: gid.clone(),
        message_ids: vec![bobs.id.clone()],
        for_everyone: true,
    };
    let _: pb::DeleteMessagesResponse = a.call("MessageService/DeleteMessages", &del).await.unwrap();
    let e = wait_for(&mut live, 10, |e| matches!(e.kind, Some(pb::event::Kind::MessageDeleted(_)))).await;
    let Some(pb::event::Kind::MessageDeleted(d)) = e.kind else { unreachable!() };
    assert_eq!((d.message_id.as_str(), d.deleted_by.as_str()), (bobs.id.as_str(), ann.id.as_str()));
    assert!(d.deleted_at_ms > 0);

    // A device catching up from the start sees the same.
    let laptop = app.login(&bob).await;
    let mut l = app.client(&laptop, Transport::WsBinary).await;
    let mut caught = l.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    let mut deleted = None;
    let mut read_seen = None;
    loop {
        let e = wait_for(&mut caught, 10, |_| true).await;
        match e.kind {
            Some(pb::event::Kind::MessageDeleted(d)) => deleted = Some(d),
            Some(pb::event::Kind::ReadStateChanged(r)) => read_seen = Some(r),
            Some(pb::event::Kind::CaughtUp(_)) => break,
            _ => {}
        }
    }
    let d = deleted.expect("the delete replayed");
    assert_eq!((d.deleted_by.as_str(), d.deleted_at_ms > 0), (ann.id.as_str(), true));
    let r = read_seen.expect("the read replayed");
    assert_eq!((r.unread_count, r.mention_count), (Some(2), Some(1)));
    app.stop().await;
}

/// The owner dismisses a group: every member hears of it live and through catch-up, the
/// history is gone for them, and its invite links stop working.
#[tokio::test]
async fn the_owner_dismisses_a_group_and_every_member_leaves_it() {
    let app = TestApp::spawn().await;
    let [ann, bob, carol, dave] =
        [app.register("ann").await, app.register("bob").await, app.register("carol").await, app.register("dave").await];
    let a = app.client(&ann, Transport::Http).await;
    let g = group(&a, pb::ConversationKind::Group, "Short-lived", &[&bob, &carol]).await;
    let gid = conv_id(&g);
    send(&a, &gid, "s1", "soon gone").await;
    let inv: pb::CreateInviteResponse = a
        .call(
            "InviteService/CreateInvite",
            &pb::CreateInviteRequest { conversation_id: gid.clone(), ..Default::default() },
        )
        .await
        .unwrap();
    let mut bob_ws = app.client(&bob, Transport::WsBinary).await;
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 10, is_caught_up).await;

    let b = app.client(&bob, Transport::Http).await;
    let del = pb::DeleteConversationRequest { conversation_id: gid.clone() };
    let denied = b.call::<_, pb::DeleteConversationResponse>("ConversationService/DeleteConversation", &del).await;
    assert_eq!(code_of(denied), pb::ErrorCode::PermissionDenied);
    let _: pb::DeleteConversationResponse = a.call("ConversationService/DeleteConversation", &del).await.unwrap();

    let e = wait_for(&mut bob_events, 10, |e| match &e.kind {
        Some(pb::event::Kind::MessageCreated(m)) => service_action(m) == Some(pb::ServiceAction::ConversationDeleted),
        _ => false,
    })
    .await;
    let end = e.seq;
    let e = wait_for(&mut bob_events, 10, |e| matches!(e.kind, Some(pb::event::Kind::ConversationLeft(_)))).await;
    let Some(pb::event::Kind::ConversationLeft(l)) = e.kind else { unreachable!() };
    assert_eq!((l.conversation_id.as_str(), l.removed, l.left_at_seq), (gid.as_str(), true, end));

    // Carol was away: catch-up brings the same end.
    let mut c = app.client(&carol, Transport::Grpc).await;
    let mut caught = c.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    let e = wait_for(&mut caught, 10, |e| matches!(e.kind, Some(pb::event::Kind::ConversationLeft(_)))).await;
    let Some(pb::event::Kind::ConversationLeft(l)) = e.kind else { unreachable!() };
    assert_eq!((l.conversation_id.as_str(), l.left_at_seq), (gid.as_str(), end));

    // The history is gone for members, and the invite leads nowhere.
    let h = b
        .call::<_, pb::GetHistoryResponse>(
            "MessageService/GetHistory",
            &pb::GetHistoryRequest { conversation_id: gid.clone(), limit: 10, ..Default::default() },
        )
        .await;
    assert_eq!(code_of(h), pb::ErrorCode::NotFound);
    let d = app.client(&dave, Transport::Http).await;
    let join = d
        .call::<_, pb::JoinByInviteResponse>(
            "InviteService/JoinByInvite",
            &pb::JoinByInviteRequest { code: inv.invite.unwrap().code, ..Default::default() },
        )
        .await;
    assert_eq!(code_of(join), pb::ErrorCode::NotFound);
    // Only groups and channels are dismissed this way.
    let direct: pb::CreateDirectResponse =
        a.call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: bob.id.clone() }).await.unwrap();
    let e = a
        .call::<_, pb::DeleteConversationResponse>(
            "ConversationService/DeleteConversation",
            &pb::DeleteConversationRequest { conversation_id: conv_id(direct.conversation.as_ref().unwrap()) },
        )
        .await
        .unwrap_err();
    assert_eq!((e.code, e.field.as_str()), (pb::ErrorCode::InvalidArgument, "conversation_id"));
    app.stop().await;
}

/// When one admin decides a join request, every admin who could have decided hears who did.
#[tokio::test]
async fn a_join_decision_reaches_every_decider_with_who_decided() {
    let app = TestApp::spawn().await;
    let [ann, bob, carol] = [app.register("ann").await, app.register("bob").await, app.register("carol").await];
    let a = app.client(&ann, Transport::Http).await;
    let g = group(&a, pb::ConversationKind::Group, "Gated", &[&bob]).await;
    let gid = conv_id(&g);
    promote(&a, &gid, &bob, pb::AdminRights { invite: true, ..Default::default() }).await;
    let gate = pb::UpdateConversationRequest {
        conversation_id: gid.clone(),
        require_approval: Some(true),
        ..Default::default()
    };
    let _: pb::UpdateConversationResponse = a.call("ConversationService/UpdateConversation", &gate).await.unwrap();
    let inv: pb::CreateInviteResponse = a
        .call(
            "InviteService/CreateInvite",
            &pb::CreateInviteRequest { conversation_id: gid.clone(), ..Default::default() },
        )
        .await
        .unwrap();
    let mut ann_ws = app.client(&ann, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 10, is_caught_up).await;

    let c = app.client(&carol, Transport::Http).await;
    let r: pb::JoinByInviteResponse = c
        .call(
            "InviteService/JoinByInvite",
            &pb::JoinByInviteRequest { code: inv.invite.unwrap().code, message: "hi".into() },
        )
        .await
        .unwrap();
    assert!(r.pending, "{r:?}");
    wait_for(&mut ann_events, 10, |e| matches!(e.kind, Some(pb::event::Kind::JoinRequested(_)))).await;
    let b = app.client(&bob, Transport::Grpc).await;
    let decide = pb::DecideJoinRequestRequest { conversation_id: gid.clone(), user_id: carol.id.clone(), accept: true };
    let _: pb::DecideJoinRequestResponse = b.call("InviteService/DecideJoinRequest", &decide).await.unwrap();
    let e = wait_for(&mut ann_events, 10, |e| matches!(e.kind, Some(pb::event::Kind::JoinRequestResolved(_)))).await;
    let Some(pb::event::Kind::JoinRequestResolved(j)) = e.kind else { unreachable!() };
    assert_eq!(
        (j.conversation_id.as_str(), j.user_id.as_str(), j.accepted, j.decided_by.as_str()),
        (gid.as_str(), carol.id.as_str(), true, bob.id.as_str())
    );
    app.stop().await;
}

async fn try_send(
    c: &Client,
    conv: &str,
    key: &str,
) -> Result<pb::SendMessageResponse, switchboard_client::ClientError> {
    let req = pb::SendMessageRequest {
        conversation_id: conv.into(),
        client_key: key.into(),
        text: text("hello"),
        ..Default::default()
    };
    c.call("MessageService/SendMessage", &req).await
}

/// Admins mute one member until a time, or let only admins post ("mute all").
#[tokio::test]
async fn admins_mute_a_member_until_a_time_and_can_mute_everyone() {
    let app = TestApp::spawn().await;
    let [ann, bob, carol] = [app.register("ann").await, app.register("bob").await, app.register("carol").await];
    let a = app.client(&ann, Transport::Http).await;
    let g = group(&a, pb::ConversationKind::Group, "Quiet", &[&bob, &carol]).await;
    let gid = conv_id(&g);
    promote(&a, &gid, &bob, pb::AdminRights { remove_members: true, ..Default::default() }).await;
    let (b, c) = (app.client(&bob, Transport::Grpc).await, app.client(&carol, Transport::WsJson).await);
    let mut ann_ws = app.client(&ann, Transport::WsBinary).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 10, is_caught_up).await;

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let mute = |who: &TestUser, until_ms: i64| pb::MuteMemberRequest {
        conversation_id: gid.clone(),
        user_id: who.id.clone(),
        until_ms,
    };
    let r: pb::MuteMemberResponse =
        b.call("ConversationService/MuteMember", &mute(&carol, now + 3_600_000)).await.unwrap();
    assert_eq!(r.member.unwrap().muted_until_ms, now + 3_600_000);
    wait_for(&mut ann_events, 10, |e| match &e.kind {
        Some(pb::event::Kind::MessageCreated(m)) => service_action(m) == Some(pb::ServiceAction::MemberTimedOut),
        _ => false,
    })
    .await;
    assert_eq!(code_of(try_send(&c, &gid, "c1").await), pb::ErrorCode::PermissionDenied);
    // Nor in the group's threads.
    let root = send(&a, &gid, "root", "a topic").await;
    let t: pb::StartThreadResponse = a
        .call(
            "ThreadService/StartThread",
            &pb::StartThreadRequest { conversation_id: gid.clone(), message_id: root.id.clone(), name: "Topic".into() },
        )
        .await
        .unwrap();
    let tid = t.thread.unwrap().conversation.unwrap().id;
    assert_eq!(code_of(try_send(&c, &tid, "ct1").await), pb::ErrorCode::PermissionDenied);
    try_send(&b, &tid, "bt1").await.unwrap();
    // Nobody mutes someone at or above them, or themselves; times must be ahead.
    for (by, who, code) in [
        (&c, &bob, pb::ErrorCode::PermissionDenied),
        (&b, &ann, pb::ErrorCode::PermissionDenied),
        (&b, &bob, pb::ErrorCode::PermissionDenied),
    ] {
        let r = by.call::<_, pb::MuteMemberResponse>("ConversationService/MuteMember", &mute(who, now + 60_000)).await;
        assert_eq!(code_of(r), code);
    }
    let past = b
        .call::<_, pb::MuteMemberResponse>("ConversationService/MuteMember", &mute(&carol, now - 1))
        .await
        .unwrap_err();
    assert_eq!((past.code, past.field.as_str()), (pb::ErrorCode::InvalidArgument, "until_ms"));
    // The mute ends by itself.
    app.advance(std::time::Duration::from_secs(3_601));
    try_send(&c, &gid, "c2").await.unwrap();

    // Mute all: only the owner and admins post until it is lifted.
    let all = |on: bool| pb::UpdateConversationRequest {
        conversation_id: gid.clone(),
        admins_only: Some(on),
        ..Default::default()
    };
    let r: pb::UpdateConversationResponse = a.call("ConversationService/UpdateConversation", &all(true)).await.unwrap();
    assert!(r.conversation.unwrap().conversation.unwrap().admins_only);
    assert_eq!(code_of(try_send(&c, &gid, "c3").await), pb::ErrorCode::PermissionDenied);
    try_send(&b, &gid, "b1").await.unwrap();
    let _: pb::UpdateConversationResponse =
        a.call("ConversationService/UpdateConversation", &all(false)).await.unwrap();
    try_send(&c, &gid, "c4").await.unwrap();
    let ch = group(&a, pb::ConversationKind::Channel, "Broadcast", &[]).await;
    let bad =
        pb::UpdateConversationRequest { conversation_id: conv_id(&ch), admins_only: Some(true), ..Default::default() };
    let e =
        a.call::<_, pb::UpdateConversationResponse>("ConversationService/UpdateConversation", &bad).await.unwrap_err();
    assert_eq!((e.code, e.field.as_str()), (pb::ErrorCode::InvalidArgument, "admins_only"));
    app.stop().await;
}
