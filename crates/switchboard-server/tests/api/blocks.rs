//! Blocks end to end, as a matrix: for each operation a block touches, the blocked user is
//! refused (with the one generic refusal) and a stranger is not; the blocker's devices
//! hear of the block, the blocked user never does.

use switchboard_client::proto as pb;
use switchboard_client::{Client, ClientError, Transport};

use crate::helpers::*;
use crate::spaces::call;

use pb::ErrorCode as E;

fn refusal<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (pb::ErrorCode, String) {
    let e = r.expect_err("expected a refusal");
    (e.code, e.reason)
}

fn not_reachable() -> (pb::ErrorCode, String) {
    (E::PermissionDenied, "not_reachable".into())
}

async fn user_seq(c: &Client) -> u64 {
    let state: pb::GetStateResponse = call(c, "SyncService/GetState", pb::GetStateRequest {}).await;
    state.user_seq
}

pub(crate) async fn direct(c: &Client, user: &str) -> Result<pb::CreateDirectResponse, ClientError> {
    c.call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: user.into() }).await
}

pub(crate) async fn try_send(
    c: &Client,
    conv: &str,
    key: &str,
    body: &str,
    online_only: bool,
) -> Result<pb::SendMessageResponse, ClientError> {
    let req = pb::SendMessageRequest {
        conversation_id: conv.into(),
        client_key: key.into(),
        text: text(body),
        online_only,
        ..Default::default()
    };
    c.call("MessageService/SendMessage", &req).await
}

pub(crate) async fn new_group(c: &Client, members: &[&str]) -> Result<pb::CreateConversationResponse, ClientError> {
    let req = pb::CreateConversationRequest {
        kind: pb::ConversationKind::Group as i32,
        title: "g".into(),
        member_ids: members.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    c.call("ConversationService/CreateConversation", &req).await
}

async fn presence_of(ws: &Client, user: &str) -> pb::Presence {
    let r: pb::SubscribePresenceResponse = ws
        .call("SignalService/SubscribePresence", &pb::SubscribePresenceRequest { user_ids: vec![user.into()] })
        .await
        .unwrap();
    r.presences.into_iter().find(|p| p.user_id == user).unwrap()
}

fn mention_of(user: &TestUser, len: u32) -> pb::Entity {
    pb::Entity {
        kind: pb::EntityKind::Mention as i32,
        offset: 0,
        length: len,
        user_id: user.id.clone(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_blocked_user_cannot_reach_the_blocker_and_a_stranger_still_can() {
    let app = TestApp::spawn().await;
    let (ann, bob, cat) = (app.register("ann").await, app.register("bob").await, app.register("cat").await);
    let (a, b, c) = (app.http(&ann).await, app.http(&bob).await, app.http(&cat).await);
    // Before the block: a direct chat with Bob and a group of the three.
    let dm = direct(&b, &ann.id).await.unwrap().conversation.unwrap().conversation.unwrap().id;
    let shared = conv_id(&group(&a, pb::ConversationKind::Group, "all three", &[&bob, &cat]).await);
    let bob_seq = user_seq(&b).await;

    // Ann is online; her phone follows her log.
    let mut ann_ws = app.client(&ann, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 5, is_caught_up).await;

    let _: pb::BlockUserResponse =
        call(&a, "ContactService/BlockUser", pb::BlockUserRequest { user_id: bob.id.clone() }).await;
    let e = wait_for(&mut ann_events, 5, |e| matches!(e.kind, Some(pb::event::Kind::BlockChanged(_)))).await;
    let Some(pb::event::Kind::BlockChanged(bc)) = e.kind else { unreachable!() };
    assert_eq!((bc.user_id.as_str(), bc.blocked), (bob.id.as_str(), true));
    let _: pb::BlockUserResponse =
        call(&a, "ContactService/BlockUser", pb::BlockUserRequest { user_id: bob.id.clone() }).await;
    assert_eq!(user_seq(&b).await, bob_seq, "the blocked user's log says nothing");
    let listed: pb::ListBlockedUsersResponse =
        call(&a, "ContactService/ListBlockedUsers", pb::ListBlockedUsersRequest::default()).await;
    assert_eq!(listed.blocked.iter().map(|x| x.user_id.as_str()).collect::<Vec<_>>(), vec![bob.id.as_str()]);
    assert_eq!(listed.users[0].username, "bob");

    // The matrix: (operation, Bob's answer, Cat's answer).
    assert_eq!(refusal(direct(&b, &ann.id).await), not_reachable(), "open a direct chat");
    direct(&c, &ann.id).await.expect("a stranger opens one");
    assert_eq!(refusal(try_send(&b, &dm, "b1", "hello?", false).await), not_reachable(), "post in the direct chat");
    assert_eq!(refusal(try_send(&b, &dm, "b2", "psst", true).await), not_reachable(), "online-only too");
    try_send(&a, &dm, "a1", "the blocker may still write", false).await.unwrap();
    let ask = |to: &str| pb::SendFriendRequestRequest { user_id: to.into(), message: String::new() };
    assert_eq!(
        refusal(b.call::<_, pb::SendFriendRequestResponse>("ContactService/SendFriendRequest", &ask(&ann.id)).await),
        not_reachable(),
        "friend request"
    );
    let _: pb::SendFriendRequestResponse = call(&c, "ContactService/SendFriendRequest", ask(&ann.id)).await;
    assert_eq!(refusal(new_group(&b, &[&ann.id]).await), not_reachable(), "a new group with her");
    new_group(&c, &[&ann.id]).await.expect("a stranger may");
    let bobs = conv_id(&group(&b, pb::ConversationKind::Group, "bob's", &[]).await);
    let add = pb::AddMembersRequest { conversation_id: bobs.clone(), user_ids: vec![ann.id.clone()] };
    assert_eq!(
        refusal(b.call::<_, pb::AddMembersResponse>("ConversationService/AddMembers", &add).await),
        not_reachable(),
        "adding her to a group"
    );

    // Mentions in the shared group: Bob's does not count for Ann, Cat's does.
    let mention = |key: &str, who: &TestUser| pb::SendMessageRequest {
        conversation_id: shared.clone(),
        client_key: key.into(),
        text: Some(pb::TextContent {
            text: "@ann look".into(),
            entities: vec![mention_of(who, 4)],
            ..Default::default()
        }),
        ..Default::default()
    };
    let _: pb::SendMessageResponse = call(&b, "MessageService/SendMessage", mention("m1", &ann)).await;
    assert_eq!(view(&a, &shared).await.mention_count, 0, "the blocked user's mention does not notify");
    let _: pb::SendMessageResponse = call(&c, "MessageService/SendMessage", mention("m2", &ann)).await;
    assert_eq!(view(&a, &shared).await.mention_count, 1);
    assert_eq!(view(&a, &shared).await.unread_count, 2, "the messages still arrive");

    // Presence: Ann is online, but shows offline and never seen to Bob.
    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 5, is_caught_up).await;
    let seen = presence_of(&bob_ws, &ann.id).await;
    assert_eq!((seen.status, seen.last_seen_at_ms), (pb::PresenceStatus::Offline as i32, 0));
    let mut cat_ws = app.client(&cat, Transport::WsJson).await;
    let mut cat_events =
        cat_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut cat_events, 5, is_caught_up).await;
    assert_eq!(presence_of(&cat_ws, &ann.id).await.status, pb::PresenceStatus::Online as i32);

    // Unblocking lets him reach her again.
    let _: pb::UnblockUserResponse =
        call(&a, "ContactService/UnblockUser", pb::UnblockUserRequest { user_id: bob.id.clone() }).await;
    try_send(&b, &dm, "b3", "sorry", false).await.unwrap();
    direct(&b, &ann.id).await.unwrap();

    // Refusals of the calls themselves.
    let me = pb::BlockUserRequest { user_id: ann.id.clone() };
    assert_eq!(
        refusal(a.call::<_, pb::BlockUserResponse>("ContactService/BlockUser", &me).await).0,
        E::InvalidArgument
    );
    let nobody = pb::BlockUserRequest { user_id: "99999".into() };
    assert_eq!(refusal(a.call::<_, pb::BlockUserResponse>("ContactService/BlockUser", &nobody).await).0, E::NotFound);
    app.stop().await;
}
