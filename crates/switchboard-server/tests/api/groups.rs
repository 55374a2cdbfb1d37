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
