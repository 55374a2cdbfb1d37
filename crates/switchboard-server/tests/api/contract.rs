//! What the proto comments and docs/API.md promise, checked where the server once did
//! otherwise: client keys shown to the sender's devices only, the documented codes for
//! an owner leaving early and for spent invites, who a join approval says joined, role
//! parent cycles, and invites into channels the newcomer cannot read.

use switchboard_client::Transport;
use switchboard_client::proto as pb;

use crate::helpers::*;
use crate::spaces::{call, create_channel, create_role, create_space, invite, join, try_call};

fn created(e: &pb::Event) -> Option<&pb::Message> {
    match e.kind.as_ref()? {
        pb::event::Kind::MessageCreated(m) => Some(m),
        _ => None,
    }
}

#[tokio::test]
async fn the_senders_devices_see_the_client_key_of_their_messages_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let ann_phone = app.login(&ann).await;
    let g = group(&app.http(&ann).await, pb::ConversationKind::Group, "keys", &[&bob]).await;
    let id = conv_id(&g);
    let mut streams = Vec::new();
    for (user, transport) in [
        (&ann, Transport::WsJson),
        (&ann_phone, Transport::WsBinary),
        (&ann_phone, Transport::Grpc),
        (&bob, Transport::WsJson),
        (&bob, Transport::Grpc),
    ] {
        let mut c = app.client(user, transport).await;
        let mut events = c.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
        wait_for(&mut events, 5, is_caught_up).await;
        streams.push((user.id.clone(), transport, c, events));
    }
    // Sent on the first stream's own socket, so the sending socket is covered too.
    let sent: pb::SendMessageResponse = streams[0]
        .2
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: id.clone(),
                client_key: "opt-1".into(),
                text: text("hello"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.message.unwrap().client_key, "opt-1");
    for (user, transport, _c, events) in &mut streams {
        let e = wait_for(events, 5, |e| created(e).is_some_and(|m| m.client_key.is_empty() || m.client_key == "opt-1"))
            .await;
        let key = created(&e).unwrap().client_key.clone();
        let expected = if *user == ann.id { "opt-1" } else { "" };
        assert_eq!(key, expected, "{transport:?} stream of {user}");
    }
    for (who, expected) in [(&ann, "opt-1"), (&bob, "")] {
        let diff: pb::GetDifferenceResponse = app
            .http(who)
            .await
            .call(
                "SyncService/GetDifference",
                &pb::GetDifferenceRequest {
                    positions: vec![pb::ConversationPosition { conversation_id: id.clone(), seq: 0 }],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let keys: Vec<String> = diff
            .events
            .iter()
            .filter_map(created)
            .filter(|m| m.content.is_some())
            .map(|m| m.client_key.clone())
            .collect();
        assert!(keys.contains(&expected.to_owned()), "{}: {keys:?}", who.username);
        assert!(keys.iter().all(|k| k.is_empty() || who.id == ann.id), "{}: {keys:?}", who.username);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_group_owner_leaving_before_handing_over_gets_failed_precondition() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let a = app.http(&ann).await;
    let g = group(&a, pb::ConversationKind::Group, "mine", &[&bob]).await;
    for c in [a, app.client(&ann, Transport::Grpc).await, app.client(&ann, Transport::WsBinary).await] {
        let e = c
            .call::<_, pb::LeaveConversationResponse>(
                "ConversationService/LeaveConversation",
                &pb::LeaveConversationRequest { conversation_id: conv_id(&g) },
            )
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.reason.as_str()),
            (pb::ErrorCode::FailedPrecondition, "owner_must_transfer"),
            "{:?}",
            c.transport()
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_used_up_or_expired_invite_is_failed_precondition_for_preview_and_join() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let a = app.http(&ann).await;
    let g = group(&a, pb::ConversationKind::Group, "once", &[]).await;
    let code = invite(&a, &conv_id(&g), 1).await;
    join(&app.http(&bob).await, &code).await;
    let c = app.http(&carol).await;
    let preview = try_call(&c, "InviteService/PreviewInvite", pb::PreviewInviteRequest { code: code.clone() });
    assert_eq!(code_of(preview.await), pb::ErrorCode::FailedPrecondition);
    let joined = try_call(&c, "InviteService/JoinByInvite", pb::JoinByInviteRequest { code, ..Default::default() });
    let e = joined.await.unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (pb::ErrorCode::FailedPrecondition, "invite_used_up"));
    let unknown = try_call(&c, "InviteService/PreviewInvite", pb::PreviewInviteRequest { code: "nosuchcode".into() });
    assert_eq!(code_of(unknown.await), pb::ErrorCode::NotFound, "an unknown code stays not_found");
    app.stop().await;
}

#[tokio::test]
async fn an_approved_group_join_request_logs_member_joined_by_the_applicant() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let dan = app.register("dan").await;
    let a = app.http(&ann).await;
    let g = group(&a, pb::ConversationKind::Group, "approval", &[]).await;
    let gid = conv_id(&g);
    let _: pb::UpdateConversationResponse = call(
        &a,
        "ConversationService/UpdateConversation",
        pb::UpdateConversationRequest {
            conversation_id: gid.clone(),
            require_approval: Some(true),
            ..Default::default()
        },
    )
    .await;
    let code = invite(&a, &gid, 0).await;
    let d = app.http(&dan).await;
    assert!(join(&d, &code).await.pending);
    let _: pb::DecideJoinRequestResponse = call(
        &a,
        "InviteService/DecideJoinRequest",
        pb::DecideJoinRequestRequest { conversation_id: gid.clone(), user_id: dan.id.clone(), accept: true },
    )
    .await;
    let h: pb::GetHistoryResponse =
        call(&d, "MessageService/GetHistory", pb::GetHistoryRequest { conversation_id: gid, ..Default::default() })
            .await;
    let last = h.messages.last().unwrap();
    let Some(pb::message::Content::Service(s)) = &last.content else { panic!("{last:?}") };
    assert_eq!(
        (s.action(), s.user_ids.clone(), last.sender_id.clone()),
        (pb::ServiceAction::MemberJoined, vec![dan.id.clone()], dan.id.clone())
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cycle_of_parent_roles_is_refused() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let a = app.http(&ann).await;
    let sid = create_space(&a, "roles", false).await.id;
    let ra = create_role(&a, &sid, "a", 10, &[], &[]).await;
    let rb = create_role(&a, &sid, "b", 9, &[], &[&ra.id]).await;
    let rc = create_role(&a, &sid, "c", 8, &[], &[&rb.id]).await;
    for (role, parent) in [(&ra, &rb), (&ra, &rc)] {
        let r = try_call(
            &a,
            "SpaceService/UpdateRole",
            pb::UpdateRoleRequest {
                space_id: sid.clone(),
                role_id: role.id.clone(),
                set_parents: true,
                parent_ids: vec![parent.id.clone()],
                ..Default::default()
            },
        );
        let e = r.await.unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (pb::ErrorCode::InvalidArgument, "parent_ids"),
            "{} <- {}",
            role.name,
            parent.name
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_invite_into_a_channel_the_joiner_cannot_read_lands_them_where_they_can() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let a = app.http(&ann).await;
    let space = create_space(&a, "club", false).await;
    let secret = create_channel(
        &a,
        pb::CreateChannelRequest {
            space_id: space.id.clone(),
            name: "staff".into(),
            private: true,
            ..Default::default()
        },
    )
    .await;
    let r: pb::CreateInviteResponse = call(
        &a,
        "InviteService/CreateInvite",
        pb::CreateInviteRequest { conversation_id: space.id.clone(), channel_id: secret.clone(), ..Default::default() },
    )
    .await;
    let b = app.http(&bob).await;
    let joined = join(&b, &r.invite.unwrap().code).await;
    assert_ne!(joined.channel_id, secret, "bob cannot read the private channel");
    assert!(!joined.channel_id.is_empty(), "he lands in the space's default channel");
    let h = b
        .call::<_, pb::GetHistoryResponse>(
            "MessageService/GetHistory",
            &pb::GetHistoryRequest { conversation_id: joined.channel_id.clone(), ..Default::default() },
        )
        .await;
    assert!(h.is_ok(), "the channel returned is one he reads: {h:?}");
    app.stop().await;
}
