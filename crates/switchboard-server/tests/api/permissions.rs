//! Permissions: non-members, missing rights, ended sessions.

use switchboard_client::proto as pb;
use switchboard_client::{Client, Positions, Transport};

use crate::helpers::*;

#[tokio::test]
async fn a_non_member_cannot_read_send_or_list_members() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let mallory = app.register("mallory").await;
    let g = group(&app.http(&ann).await, pb::ConversationKind::Group, "Private", &[&bob]).await;
    let gid = conv_id(&g);
    let m = app.http(&mallory).await;
    let read = m
        .call::<_, pb::GetHistoryResponse>(
            "MessageService/GetHistory",
            &pb::GetHistoryRequest { conversation_id: gid.clone(), ..Default::default() },
        )
        .await;
    assert_eq!(code_of(read), pb::ErrorCode::NotFound);
    let sent = m
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: gid.clone(),
                client_key: "x".into(),
                text: text("let me in"),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code_of(sent), pb::ErrorCode::NotFound);
    let members = m
        .call::<_, pb::ListMembersResponse>(
            "ConversationService/ListMembers",
            &pb::ListMembersRequest { conversation_id: gid.clone(), ..Default::default() },
        )
        .await;
    assert_eq!(code_of(members), pb::ErrorCode::NotFound);
    let typing = m
        .call::<_, pb::SetTypingResponse>(
            "SignalService/SetTyping",
            &pb::SetTypingRequest { conversation_id: gid.clone(), typing: true },
        )
        .await;
    assert_eq!(code_of(typing), pb::ErrorCode::NotFound);
    let added = m
        .call::<_, pb::AddMembersResponse>(
            "ConversationService/AddMembers",
            &pb::AddMembersRequest { conversation_id: gid.clone(), user_ids: vec![mallory.id.clone()] },
        )
        .await;
    assert_eq!(code_of(added), pb::ErrorCode::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn a_member_without_the_right_cannot_rename_invite_or_remove() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let g = group(&app.http(&ann).await, pb::ConversationKind::Group, "Team", &[&bob, &cat]).await;
    let gid = conv_id(&g);
    let b = app.http(&bob).await;
    let rename = b
        .call::<_, pb::UpdateConversationResponse>(
            "ConversationService/UpdateConversation",
            &pb::UpdateConversationRequest {
                conversation_id: gid.clone(),
                title: Some("Mine".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code_of(rename), pb::ErrorCode::PermissionDenied);
    let remove = b
        .call::<_, pb::RemoveMemberResponse>(
            "ConversationService/RemoveMember",
            &pb::RemoveMemberRequest { conversation_id: gid.clone(), user_id: cat.id.clone() },
        )
        .await;
    assert_eq!(code_of(remove), pb::ErrorCode::PermissionDenied);
    let promote = b
        .call::<_, pb::SetMemberRoleResponse>(
            "ConversationService/SetMemberRole",
            &pb::SetMemberRoleRequest {
                conversation_id: gid.clone(),
                user_id: bob.id.clone(),
                role: pb::MemberRole::Admin as i32,
                rights: None,
            },
        )
        .await;
    assert_eq!(code_of(promote), pb::ErrorCode::PermissionDenied);
    let a = app.http(&ann).await;
    let leave = a
        .call::<_, pb::LeaveConversationResponse>(
            "ConversationService/LeaveConversation",
            &pb::LeaveConversationRequest { conversation_id: gid.clone() },
        )
        .await;
    assert_eq!(code_of(leave), pb::ErrorCode::FailedPrecondition, "the owner hands over first");
    let _: pb::TransferOwnershipResponse = a
        .call(
            "ConversationService/TransferOwnership",
            &pb::TransferOwnershipRequest { conversation_id: gid.clone(), user_id: bob.id.clone() },
        )
        .await
        .unwrap();
    let renamed: pb::UpdateConversationResponse = b
        .call(
            "ConversationService/UpdateConversation",
            &pb::UpdateConversationRequest {
                conversation_id: gid.clone(),
                title: Some("Mine".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.conversation.unwrap().role, pb::MemberRole::Owner as i32);
    let _: pb::LeaveConversationResponse = a
        .call("ConversationService/LeaveConversation", &pb::LeaveConversationRequest { conversation_id: gid.clone() })
        .await
        .unwrap();
    let gone = a
        .call::<_, pb::GetConversationResponse>(
            "ConversationService/GetConversation",
            &pb::GetConversationRequest { conversation_id: gid.clone() },
        )
        .await;
    assert_eq!(code_of(gone), pb::ErrorCode::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn an_ended_session_loses_access_at_once_and_its_connections_close_with_a_reason() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let phone = app.login(&ann).await;
    let mut ws = app.client(&phone, Transport::WsJson).await;
    let mut phone_events = ws.subscribe(Positions::default().subscribe_request()).await.unwrap();
    wait_for(&mut phone_events, 10, is_caught_up).await;
    let mut grpc = app.client(&phone, Transport::Grpc).await;
    let mut grpc_events = grpc.subscribe(Positions::default().subscribe_request()).await.unwrap();
    wait_for(&mut grpc_events, 10, is_caught_up).await;
    let mut idle_ws = Client::connect(&app.addr, Transport::WsBinary, Some(&phone.token)).await.unwrap();
    let mut idle_events = idle_ws_events(&mut idle_ws).await;

    let laptop = app.http(&ann).await;
    let sessions: pb::ListSessionsResponse =
        laptop.call("SessionService/ListSessions", &pb::ListSessionsRequest {}).await.unwrap();
    assert_eq!(sessions.sessions.len(), 2);
    assert_eq!(sessions.sessions.iter().filter(|s| s.current).count(), 1);
    let _: pb::EndSessionResponse = laptop
        .call("SessionService/EndSession", &pb::EndSessionRequest { session_id: phone.session_id.clone() })
        .await
        .unwrap();

    let e = wait_for(&mut phone_events, 10, |e| matches!(e.kind, Some(pb::event::Kind::SessionEnded(_)))).await;
    let Some(pb::event::Kind::SessionEnded(ended)) = e.kind else { unreachable!() };
    assert_eq!(ended.reason, pb::SessionEndReason::EndedElsewhere as i32);
    assert_eq!(wait_closed(&mut phone_events, 10).await, (4001, "session_ended".to_owned()));
    let (_, reason) = wait_closed(&mut grpc_events, 10).await;
    assert!(reason.contains("session_ended"), "{reason}");
    assert_eq!(wait_closed(&mut idle_events, 10).await.0, 4001);
    let stale = app.http(&phone).await.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await;
    assert_eq!(code_of(stale), pb::ErrorCode::Unauthenticated);
    let refused = Client::connect(&app.addr, Transport::WsJson, Some(&phone.token)).await;
    assert_eq!(code_of(refused.map(|_| ())), pb::ErrorCode::Unauthenticated);
    let me: pb::GetMeResponse = laptop.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
    assert_eq!(me.user.unwrap().id, ann.id);
    app.stop().await;
}

/// A WebSocket that never subscribes still gets closed; its only event is the close.
async fn idle_ws_events(c: &mut Client) -> switchboard_client::Events {
    let bad = pb::SubscribeRequest {
        positions: vec![pb::ConversationPosition { conversation_id: "bad".into(), seq: 0 }],
        ..Default::default()
    };
    assert_eq!(code_of(c.subscribe(bad).await.map(|_| ())), pb::ErrorCode::InvalidArgument);
    c.take_events().expect("a WebSocket client hands out its close notifications")
}

#[tokio::test]
async fn refresh_rotates_tokens_a_replayed_refresh_token_ends_the_session_and_logout_ends_it() {
    let app = TestApp::spawn().await;
    let anon = Client::connect(&app.addr, Transport::Grpc, None).await.unwrap();
    let r: pb::RegisterResponse = anon
        .call(
            "AuthService/Register",
            &pb::RegisterRequest { username: "zed".into(), password: PASSWORD.into(), ..Default::default() },
        )
        .await
        .unwrap();
    let tokens = r.tokens.unwrap();
    let fresh: pb::RefreshResponse = anon
        .call("AuthService/Refresh", &pb::RefreshRequest { refresh_token: tokens.refresh_token.clone() })
        .await
        .unwrap();
    let fresh = fresh.tokens.unwrap();
    assert_eq!(fresh.session_id, tokens.session_id);
    let reused = anon
        .call::<_, pb::RefreshResponse>(
            "AuthService/Refresh",
            &pb::RefreshRequest { refresh_token: tokens.refresh_token },
        )
        .await;
    assert_eq!(code_of(reused), pb::ErrorCode::Unauthenticated);
    let old = Client::connect(&app.addr, Transport::Grpc, Some(&tokens.access_token)).await.unwrap();
    assert_eq!(
        code_of(old.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await),
        pb::ErrorCode::Unauthenticated
    );
    // The replay ended the whole session: the tokens the first refresh issued are dead too.
    let new = Client::connect(&app.addr, Transport::Grpc, Some(&fresh.access_token)).await.unwrap();
    assert_eq!(
        code_of(new.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await),
        pb::ErrorCode::Unauthenticated
    );
    let again = anon
        .call::<_, pb::RefreshResponse>(
            "AuthService/Refresh",
            &pb::RefreshRequest { refresh_token: fresh.refresh_token },
        )
        .await;
    assert_eq!(code_of(again), pb::ErrorCode::Unauthenticated);
    let wrong = anon
        .call::<_, pb::LoginResponse>(
            "AuthService/Login",
            &pb::LoginRequest { username: "ZED".into(), password: "wrong password".into(), device: None },
        )
        .await;
    assert_eq!(code_of(wrong), pb::ErrorCode::Unauthenticated);
    let ok: pb::LoginResponse = anon
        .call(
            "AuthService/Login",
            &pb::LoginRequest { username: "ZED".into(), password: PASSWORD.into(), device: None },
        )
        .await
        .unwrap();
    assert_eq!(ok.user.unwrap().username, "zed");
    let new = Client::connect(&app.addr, Transport::Grpc, Some(&ok.tokens.unwrap().access_token)).await.unwrap();
    let _: pb::LogoutResponse = new.call("AuthService/Logout", &pb::LogoutRequest {}).await.unwrap();
    assert_eq!(
        code_of(new.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await),
        pb::ErrorCode::Unauthenticated
    );
    app.stop().await;
}

#[tokio::test]
async fn registration_modes_are_enforced() {
    let closed = TestApp::spawn_with(|c| c.service.registration = switchboard_service::RegistrationMode::Closed).await;
    let anon = Client::connect(&closed.addr, Transport::Http, None).await.unwrap();
    let r = anon
        .call::<_, pb::RegisterResponse>(
            "AuthService/Register",
            &pb::RegisterRequest { username: "x_user".into(), password: PASSWORD.into(), ..Default::default() },
        )
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::PermissionDenied);
    closed.stop().await;

    let app = TestApp::spawn_with(|c| c.service.registration = switchboard_service::RegistrationMode::InviteCode).await;
    let admin = app.admin("root").await;
    let anon = Client::connect(&app.addr, Transport::Http, None).await.unwrap();
    let reg = |code: &str| pb::RegisterRequest {
        username: format!("u{}", code.len()),
        password: PASSWORD.into(),
        invite_code: code.into(),
        ..Default::default()
    };
    assert_eq!(
        code_of(anon.call::<_, pb::RegisterResponse>("AuthService/Register", &reg("")).await),
        pb::ErrorCode::InvalidArgument
    );
    let admin_c = app.http(&admin).await;
    let inv: pb::CreateRegistrationInviteResponse = admin_c
        .call(
            "AdminService/CreateRegistrationInvite",
            &pb::CreateRegistrationInviteRequest { max_uses: 1, valid_for_seconds: 60 },
        )
        .await
        .unwrap();
    let _: pb::RegisterResponse = anon.call("AuthService/Register", &reg(&inv.code)).await.unwrap();
    let mut second = reg(&inv.code);
    second.username = "another".into();
    assert_eq!(
        code_of(anon.call::<_, pb::RegisterResponse>("AuthService/Register", &second).await),
        pb::ErrorCode::FailedPrecondition
    );
    let bot: pb::CreateBotResponse = admin_c
        .call(
            "AdminService/CreateBot",
            &pb::CreateBotRequest { username: "helper_bot".into(), display_name: "Helper".into() },
        )
        .await
        .unwrap();
    assert!(bot.user.as_ref().unwrap().bot);
    let bot_c = Client::connect(&app.addr, Transport::Http, Some(&bot.token)).await.unwrap();
    let me: pb::GetMeResponse = bot_c.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
    assert!(me.user.unwrap().bot);
    let not_admin = bot_c
        .call::<_, pb::CreateBotResponse>(
            "AdminService/CreateBot",
            &pb::CreateBotRequest { username: "evil_bot".into(), display_name: String::new() },
        )
        .await;
    assert_eq!(code_of(not_admin), pb::ErrorCode::PermissionDenied);
    app.stop().await;
}
