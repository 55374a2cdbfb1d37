//! Sessions and accounts: the new-login notice, one session per platform, and
//! self-service account deletion.

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use crate::helpers::*;

/// Signs `user` in from a device of `platform`.
async fn login_on(app: &TestApp, user: &TestUser, name: &str, platform: &str) -> TestUser {
    let c = Client::connect(&app.addr, Transport::Http, None).await.unwrap();
    let r: pb::LoginResponse = c
        .call(
            "AuthService/Login",
            &pb::LoginRequest {
                username: user.username.clone(),
                password: PASSWORD.into(),
                device: Some(pb::DeviceInfo { name: name.into(), platform: platform.into() }),
            },
        )
        .await
        .unwrap();
    let t = r.tokens.unwrap();
    TestUser { token: t.access_token, session_id: t.session_id, ..user.clone() }
}

async fn live(app: &TestApp, user: &TestUser, transport: Transport) -> (Client, switchboard_client::Events) {
    let mut c = app.client(user, transport).await;
    let mut events = c.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 10, is_caught_up).await;
    (c, events)
}

fn ended(e: &pb::Event) -> Option<(String, pb::SessionEndReason)> {
    match &e.kind {
        Some(pb::event::Kind::SessionEnded(s)) => Some((s.session_id.clone(), s.reason())),
        _ => None,
    }
}

#[tokio::test]
async fn a_new_sign_in_is_announced_and_replaces_the_older_session_on_its_platform() {
    let app = TestApp::spawn_with(|c| c.service.one_session_per_platform = vec!["ios".into()]).await;
    let ann = app.register("ann").await;
    let web = login_on(&app, &ann, "Firefox", "web").await;
    let (_w, mut web_events) = live(&app, &web, Transport::WsJson).await;

    let phone = login_on(&app, &ann, "Ann's phone", "ios").await;
    let e = wait_for(&mut web_events, 10, |e| matches!(e.kind, Some(pb::event::Kind::SessionStarted(_)))).await;
    let Some(pb::event::Kind::SessionStarted(s)) = e.kind else { unreachable!() };
    let device = s.device.unwrap();
    assert_eq!(
        (s.session_id.as_str(), device.name.as_str(), device.platform.as_str()),
        (phone.session_id.as_str(), "Ann's phone", "ios")
    );
    assert!(e.user_seq > 0, "a user-log entry, so also told through catch-up");
    assert!(s.created_at_ms > 0, "it says when");
    let (_p, mut phone_events) = live(&app, &phone, Transport::WsBinary).await;

    // A second iOS sign-in ends the first one, with its reason, then its socket closes.
    let tablet = login_on(&app, &ann, "Ann's iPad", "ios").await;
    let e = wait_for(&mut phone_events, 10, |e| ended(e).is_some()).await;
    assert_eq!(ended(&e), Some((phone.session_id.clone(), pb::SessionEndReason::Replaced)));
    assert_eq!(wait_closed(&mut phone_events, 10).await.0, 4001);
    let old = app.client(&phone, Transport::Http).await;
    assert_eq!(
        code_of(old.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await),
        pb::ErrorCode::Unauthenticated
    );
    // Other platforms are untouched, and the replacing session works.
    let e = wait_for(&mut web_events, 10, |e| ended(e).is_some()).await;
    assert_eq!(ended(&e).unwrap().0, phone.session_id, "the web session hears of it too");
    let sessions: pb::ListSessionsResponse = app
        .client(&tablet, Transport::Http)
        .await
        .call("SessionService/ListSessions", &pb::ListSessionsRequest {})
        .await
        .unwrap();
    let mut live_ids: Vec<_> = sessions.sessions.iter().map(|s| s.id.clone()).collect();
    live_ids.sort();
    let mut expected = vec![ann.session_id.clone(), web.session_id.clone(), tablet.session_id.clone()];
    expected.sort();
    assert_eq!(live_ids, expected);
    app.stop().await;
}

#[tokio::test]
async fn deleting_an_account_ends_its_sessions_erases_the_profile_and_keeps_the_messages() {
    let app = TestApp::spawn().await;
    let [ann, bob] = [app.register("ann").await, app.register("bob").await];
    let a = app.client(&ann, Transport::Http).await;
    let g = group(&a, pb::ConversationKind::Group, "Before", &[&bob]).await;
    let gid = conv_id(&g);
    let said = send(&a, &gid, "k1", "my last words").await;
    let (_aw, mut ann_events) = live(&app, &ann, Transport::WsJson).await;
    let (_bw, mut bob_events) = live(&app, &bob, Transport::Grpc).await;

    let wrong = a
        .call::<_, pb::DeleteAccountResponse>(
            "AuthService/DeleteAccount",
            &pb::DeleteAccountRequest { password: "not it at all".into() },
        )
        .await;
    assert_eq!(code_of(wrong), pb::ErrorCode::PermissionDenied);
    let _: pb::DeleteAccountResponse =
        a.call("AuthService/DeleteAccount", &pb::DeleteAccountRequest { password: PASSWORD.into() }).await.unwrap();

    let e = wait_for(&mut ann_events, 10, |e| ended(e).is_some()).await;
    assert_eq!(ended(&e), Some((ann.session_id.clone(), pb::SessionEndReason::AccountDeleted)));
    assert_eq!(wait_closed(&mut ann_events, 10).await.0, 4001);
    let e = wait_for(&mut bob_events, 10, |e| matches!(e.kind, Some(pb::event::Kind::UserUpdated(_)))).await;
    let Some(pb::event::Kind::UserUpdated(u)) = e.kind else { unreachable!() };
    let u = u.user.unwrap();
    assert!(u.deleted && u.display_name == "Deleted account" && u.id == ann.id, "{u:?}");

    // The messages stay, from the deleted account; the name is free; the old login fails.
    let b = app.client(&bob, Transport::Http).await;
    let r: pb::GetMessagesResponse = b
        .call(
            "MessageService/GetMessages",
            &pb::GetMessagesRequest { conversation_id: gid.clone(), message_ids: vec![said.id.clone()] },
        )
        .await
        .unwrap();
    assert_eq!(r.messages[0].sender_id, ann.id);
    let got: pb::GetUsersResponse =
        b.call("UserService/GetUsers", &pb::GetUsersRequest { user_ids: vec![ann.id.clone()] }).await.unwrap();
    assert!(got.users[0].deleted && got.users[0].bio.is_empty());
    let c = Client::connect(&app.addr, Transport::Http, None).await.unwrap();
    let old = c
        .call::<_, pb::LoginResponse>(
            "AuthService/Login",
            &pb::LoginRequest { username: "ann".into(), password: PASSWORD.into(), device: None },
        )
        .await;
    assert_eq!(code_of(old), pb::ErrorCode::Unauthenticated);
    let again = app.register("ann").await;
    assert_ne!(again.id, ann.id, "a new account takes the freed name");
    app.stop().await;
}
