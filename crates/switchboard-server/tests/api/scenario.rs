//! One scenario, run over every transport: a DM, a group of five and a channel, with
//! edits, both deletes, replies, forwards, mentions, receipts and counters.

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use crate::helpers::*;

fn mention(user: &TestUser, offset: u32, length: u32) -> pb::Entity {
    pb::Entity {
        kind: pb::EntityKind::Mention as i32,
        offset,
        length,
        user_id: user.id.clone(),
        url: String::new(),
        role_id: String::new(),
        ..Default::default()
    }
}

async fn scenario(t: Transport) {
    let app = TestApp::spawn().await;
    let mut users = Vec::new();
    for name in ["ann", "bob", "cat", "dan", "eve"] {
        users.push(app.register_via(t, name).await);
    }
    let mut clients = Vec::new();
    for u in &users {
        clients.push(Client::connect(&app.addr, t, Some(&u.token)).await.unwrap());
    }
    let (ann, bob, cat, dan) = (&clients[0], &clients[1], &clients[2], &clients[3]);

    // A direct conversation: one per pair, whoever starts it.
    let dm: pb::CreateDirectResponse = ann
        .call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: users[1].id.clone() })
        .await
        .unwrap();
    assert!(dm.created);
    let dm_id = conv_id(dm.conversation.as_ref().unwrap());
    let again: pb::CreateDirectResponse = bob
        .call("ConversationService/CreateDirect", &pb::CreateDirectRequest { user_id: users[0].id.clone() })
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(conv_id(again.conversation.as_ref().unwrap()), dm_id);
    assert_eq!(again.conversation.unwrap().conversation.unwrap().peer_user_id, users[0].id);

    // Send, and a retry with the same key returns the original.
    let m1 = send(ann, &dm_id, "dm-1", "hello bob").await;
    let retry: pb::SendMessageResponse = ann
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: dm_id.clone(),
                client_key: "dm-1".into(),
                text: text("hello bob"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.message.as_ref().unwrap().id, m1.id);
    assert_eq!(retry.message.unwrap().seq, m1.seq);
    assert_eq!(view(bob, &dm_id).await.unread_count, 1);
    let read: pb::MarkReadResponse = bob
        .call("MessageService/MarkRead", &pb::MarkReadRequest { conversation_id: dm_id.clone(), seq: m1.seq })
        .await
        .unwrap();
    assert_eq!((read.read_seq, read.unread_count), (m1.seq, 0));
    let receipts: pb::GetReceiptsResponse = ann
        .call(
            "MessageService/GetReceipts",
            &pb::GetReceiptsRequest { conversation_id: dm_id.clone(), message_id: m1.id.clone() },
        )
        .await
        .unwrap();
    assert_eq!(
        (receipts.read_count, receipts.recipient_count, receipts.reader_ids.clone()),
        (1, 1, vec![users[1].id.clone()])
    );

    // A group of five, created idempotently.
    let req = pb::CreateConversationRequest {
        kind: pb::ConversationKind::Group as i32,
        title: "Five".into(),
        member_ids: users[1..].iter().map(|u| u.id.clone()).collect(),
        client_key: "group-1".into(),
        ..Default::default()
    };
    let g: pb::CreateConversationResponse = ann.call("ConversationService/CreateConversation", &req).await.unwrap();
    let g2: pb::CreateConversationResponse = ann.call("ConversationService/CreateConversation", &req).await.unwrap();
    let gid = conv_id(g.conversation.as_ref().unwrap());
    assert_eq!(conv_id(g2.conversation.as_ref().unwrap()), gid);
    assert_eq!(g.conversation.unwrap().conversation.unwrap().member_count, 5);

    // Mentions: cat by name, then everyone.
    let to_cat: pb::SendMessageResponse = ann
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: gid.clone(),
                client_key: "g-1".into(),
                text: Some(pb::TextContent {
                    text: "@cat look".into(),
                    entities: vec![mention(&users[2], 0, 4)],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let to_cat = to_cat.message.unwrap();
    let all = pb::Entity { kind: pb::EntityKind::MentionAll as i32, offset: 0, length: 4, ..Default::default() };
    let to_all: pb::SendMessageResponse = ann
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: gid.clone(),
                client_key: "g-2".into(),
                text: Some(pb::TextContent { text: "@all meeting".into(), entities: vec![all], ..Default::default() }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let to_all = to_all.message.unwrap();
    let cat_view = view(cat, &gid).await;
    assert_eq!((cat_view.unread_count, cat_view.mention_count), (2, 2));
    let bob_view = view(bob, &gid).await;
    assert_eq!((bob_view.unread_count, bob_view.mention_count), (2, 1));
    assert_eq!(bob_view.last_message.unwrap().id, to_all.id);

    // Reply and forward.
    let reply: pb::SendMessageResponse = bob
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: gid.clone(),
                client_key: "b-1".into(),
                text: text("on it"),
                reply_to_message_id: to_cat.id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let reply = reply.message.unwrap();
    assert_eq!(reply.reply_to_message_id, to_cat.id);
    let fwd: pb::SendMessageResponse = bob
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: dm_id.clone(),
                client_key: "b-2".into(),
                forward_from: Some(pb::ForwardSource { conversation_id: gid.clone(), message_id: to_cat.id.clone() }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let fwd = fwd.message.unwrap();
    let origin = fwd.forward.clone().unwrap();
    assert_eq!((origin.message_id.as_str(), origin.sender_id.as_str()), (to_cat.id.as_str(), users[0].id.as_str()));
    assert!(matches!(fwd.content, Some(pb::message::Content::Text(ref t)) if t.text == "@cat look"));

    // Edits: own messages only.
    let edited: pb::EditMessageResponse = ann
        .call(
            "MessageService/EditMessage",
            &pb::EditMessageRequest {
                conversation_id: gid.clone(),
                message_id: to_cat.id.clone(),
                text: text("@cat look now"),
            },
        )
        .await
        .unwrap();
    assert!(edited.message.unwrap().edited_at_ms > 0);
    let denied = bob
        .call::<_, pb::EditMessageResponse>(
            "MessageService/EditMessage",
            &pb::EditMessageRequest {
                conversation_id: gid.clone(),
                message_id: to_cat.id.clone(),
                text: text("hijack"),
            },
        )
        .await;
    assert_eq!(code_of(denied), pb::ErrorCode::PermissionDenied);

    // Delete for everyone keeps the seq and drops the content; delete for me hides.
    let _: pb::DeleteMessagesResponse = bob
        .call(
            "MessageService/DeleteMessages",
            &pb::DeleteMessagesRequest {
                conversation_id: gid.clone(),
                message_ids: vec![reply.id.clone()],
                for_everyone: true,
            },
        )
        .await
        .unwrap();
    let got: pb::GetMessagesResponse = dan
        .call(
            "MessageService/GetMessages",
            &pb::GetMessagesRequest { conversation_id: gid.clone(), message_ids: vec![reply.id.clone()] },
        )
        .await
        .unwrap();
    let tomb = &got.messages[0];
    assert!(tomb.deleted && tomb.content.is_none() && tomb.seq == reply.seq);
    let not_allowed = dan
        .call::<_, pb::DeleteMessagesResponse>(
            "MessageService/DeleteMessages",
            &pb::DeleteMessagesRequest {
                conversation_id: gid.clone(),
                message_ids: vec![to_all.id.clone()],
                for_everyone: true,
            },
        )
        .await;
    assert_eq!(code_of(not_allowed), pb::ErrorCode::PermissionDenied);
    let _: pb::DeleteMessagesResponse = cat
        .call(
            "MessageService/DeleteMessages",
            &pb::DeleteMessagesRequest {
                conversation_id: gid.clone(),
                message_ids: vec![to_all.id.clone()],
                for_everyone: false,
            },
        )
        .await
        .unwrap();
    let hist_req = pb::GetHistoryRequest { conversation_id: gid.clone(), limit: 50, ..Default::default() };
    let cat_hist: pb::GetHistoryResponse = cat.call("MessageService/GetHistory", &hist_req).await.unwrap();
    let dan_hist: pb::GetHistoryResponse = dan.call("MessageService/GetHistory", &hist_req).await.unwrap();
    assert!(cat_hist.messages.iter().all(|m| m.id != to_all.id));
    assert!(dan_hist.messages.iter().any(|m| m.id == to_all.id));
    assert!(dan_hist.messages.windows(2).all(|w| w[0].seq < w[1].seq));

    // Rights: a plain member cannot rename; the owner grants edit-info; service messages.
    let rename = pb::UpdateConversationRequest {
        conversation_id: gid.clone(),
        title: Some("Renamed".into()),
        ..Default::default()
    };
    assert_eq!(
        code_of(dan.call::<_, pb::UpdateConversationResponse>("ConversationService/UpdateConversation", &rename).await),
        pb::ErrorCode::PermissionDenied
    );
    let _: pb::SetMemberRoleResponse = ann
        .call(
            "ConversationService/SetMemberRole",
            &pb::SetMemberRoleRequest {
                conversation_id: gid.clone(),
                user_id: users[3].id.clone(),
                role: pb::MemberRole::Admin as i32,
                rights: Some(pb::AdminRights { edit_info: true, ..Default::default() }),
            },
        )
        .await
        .unwrap();
    let renamed: pb::UpdateConversationResponse =
        dan.call("ConversationService/UpdateConversation", &rename).await.unwrap();
    assert_eq!(renamed.conversation.unwrap().conversation.unwrap().title, "Renamed");
    let last: pb::GetHistoryResponse = bob
        .call(
            "MessageService/GetHistory",
            &pb::GetHistoryRequest { conversation_id: gid.clone(), limit: 2, ..Default::default() },
        )
        .await
        .unwrap();
    let actions: Vec<i32> = last
        .messages
        .iter()
        .filter_map(|m| match &m.content {
            Some(pb::message::Content::Service(s)) => Some(s.action),
            _ => None,
        })
        .collect();
    assert_eq!(actions, vec![pb::ServiceAction::AdminPromoted as i32, pb::ServiceAction::TitleChanged as i32]);
    let members: pb::ListMembersResponse = bob
        .call(
            "ConversationService/ListMembers",
            &pb::ListMembersRequest { conversation_id: gid.clone(), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(members.members.len(), 5);

    // A channel: plain members read but do not post.
    let ch = group(ann, pb::ConversationKind::Channel, "News", &[&users[1]]).await;
    let ch_id = conv_id(&ch);
    send(ann, &ch_id, "c-1", "first post").await;
    let refused = bob
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: ch_id.clone(),
                client_key: "c-b".into(),
                text: text("me too"),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code_of(refused), pb::ErrorCode::PermissionDenied);

    // The conversation list: newest activity first, with totals.
    let list: pb::ListConversationsResponse =
        bob.call("ConversationService/ListConversations", &pb::ListConversationsRequest::default()).await.unwrap();
    let ids: Vec<String> = list.conversations.iter().map(conv_id).collect();
    assert_eq!(ids, vec![ch_id.clone(), gid.clone(), dm_id.clone()]);
    assert!(list.total_unread >= 2);

    // Everything bob saw is in his sync log, in order per conversation.
    let diff: pb::GetDifferenceResponse = bob
        .call("SyncService/GetDifference", &pb::GetDifferenceRequest { limit: 1000, ..Default::default() })
        .await
        .unwrap();
    let mut pos = switchboard_client::Positions::default();
    for e in &diff.events {
        assert!(pos.apply(e), "out of order: {e:?}");
    }
    let state: pb::GetStateResponse = bob.call("SyncService/GetState", &pb::GetStateRequest {}).await.unwrap();
    assert_eq!(pos.user_seq, state.user_seq);
    for p in &state.conversations {
        assert_eq!(pos.conversations.get(&p.conversation_id), Some(&p.seq), "conversation {}", p.conversation_id);
    }
    app.stop().await;
}

#[tokio::test]
async fn the_scenario_runs_over_grpc() {
    scenario(Transport::Grpc).await;
}

#[tokio::test]
async fn the_scenario_runs_over_websocket_json() {
    scenario(Transport::WsJson).await;
}

#[tokio::test]
async fn the_scenario_runs_over_websocket_binary() {
    scenario(Transport::WsBinary).await;
}

#[tokio::test]
async fn the_scenario_runs_over_http() {
    scenario(Transport::Http).await;
}
