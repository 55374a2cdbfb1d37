//! Saved messages and the notes-to-self conversation: private to the saver, synced to
//! their devices live and through catch-up, listed with the message as it is now.

use switchboard_client::Transport;
use switchboard_client::proto as pb;

use crate::helpers::*;
use crate::spaces::call;

fn saved_event(e: &pb::Event) -> Option<&pb::MessageSaved> {
    match e.kind.as_ref()? {
        pb::event::Kind::MessageSaved(s) => Some(s),
        _ => None,
    }
}

async fn list(c: &switchboard_client::Client, cursor: &str, limit: u32) -> pb::ListSavedMessagesResponse {
    call(c, "MessageService/ListSavedMessages", pb::ListSavedMessagesRequest { limit, cursor: cursor.into() }).await
}

#[tokio::test]
async fn saved_messages_are_private_and_reach_every_device_of_the_saver() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let g = group(&a, pb::ConversationKind::Group, "saves", &[&bob]).await;
    let id = conv_id(&g);
    let first = send(&a, &id, "s1", "the wifi password is hunter2").await;
    let second = send(&a, &id, "s2", "meeting notes").await;
    let state: pb::GetStateResponse = call(&b, "SyncService/GetState", pb::GetStateRequest {}).await;
    let before = state.user_seq;

    // Bob's phone is connected; his laptop saves.
    let phone = app.login(&bob).await;
    let mut ws = app.client(&phone, Transport::WsJson).await;
    let mut events = ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;
    let save = |m: &pb::Message| pb::SaveMessageRequest { conversation_id: id.clone(), message_id: m.id.clone() };
    let _: pb::SaveMessageResponse = call(&b, "MessageService/SaveMessage", save(&first)).await;
    let e = wait_for(&mut events, 5, |e| saved_event(e).is_some()).await;
    let s = saved_event(&e).unwrap();
    assert_eq!((s.message_id.as_str(), s.saved, e.user_seq > 0), (first.id.as_str(), true, true));
    let _: pb::SaveMessageResponse = call(&b, "MessageService/SaveMessage", save(&first)).await;
    let _: pb::SaveMessageResponse = call(&b, "MessageService/SaveMessage", save(&second)).await;

    let page = list(&b, "", 1).await;
    assert_eq!(page.saved[0].message.as_ref().unwrap().id, second.id, "latest saved first");
    let rest = list(&b, &page.next_cursor, 1).await;
    assert_eq!(
        (rest.saved[0].message.as_ref().unwrap().id.as_str(), rest.next_cursor.as_str()),
        (first.id.as_str(), "")
    );
    assert!(list(&a, "", 10).await.saved.is_empty(), "private to bob");

    // Catch-up on another device replays the saves once, in order.
    let diff: pb::GetDifferenceResponse =
        call(&b, "SyncService/GetDifference", pb::GetDifferenceRequest { user_seq: before, ..Default::default() })
            .await;
    let replay: Vec<_> = diff.events.iter().filter_map(saved_event).map(|s| (s.message_id.clone(), s.saved)).collect();
    assert_eq!(replay, vec![(first.id.clone(), true), (second.id.clone(), true)]);

    // A message deleted since shows as deleted; unsaving goes to the devices too.
    let _: pb::DeleteMessagesResponse = call(
        &a,
        "MessageService/DeleteMessages",
        pb::DeleteMessagesRequest {
            conversation_id: id.clone(),
            message_ids: vec![second.id.clone()],
            for_everyone: true,
        },
    )
    .await;
    assert!(list(&b, "", 10).await.saved[0].message.as_ref().unwrap().deleted);
    let _: pb::UnsaveMessageResponse = call(
        &b,
        "MessageService/UnsaveMessage",
        pb::UnsaveMessageRequest { conversation_id: id.clone(), message_id: second.id.clone() },
    )
    .await;
    let e = wait_for(&mut events, 5, |e| saved_event(e).is_some_and(|s| !s.saved)).await;
    assert_eq!(saved_event(&e).unwrap().message_id, second.id);

    // Refusals: a stranger cannot save what they cannot see; unknown messages are not found.
    let r = app.http(&eve).await.call::<_, pb::SaveMessageResponse>("MessageService/SaveMessage", &save(&first)).await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound);
    let r = b
        .call::<_, pb::SaveMessageResponse>(
            "MessageService/SaveMessage",
            &pb::SaveMessageRequest { conversation_id: id.clone(), message_id: "999999".into() },
        )
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound);

    // Leaving the conversation takes its messages off the list.
    let _: pb::LeaveConversationResponse =
        call(&b, "ConversationService/LeaveConversation", pb::LeaveConversationRequest { conversation_id: id.clone() })
            .await;
    assert!(list(&b, "", 10).await.saved.is_empty());
}

#[tokio::test]
async fn notes_to_self_is_a_direct_conversation_with_oneself() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let a = app.http(&ann).await;
    let r: pb::CreateDirectResponse =
        call(&a, "ConversationService/CreateDirect", pb::CreateDirectRequest { user_id: ann.id.clone() }).await;
    let v = r.conversation.unwrap();
    let conv = v.conversation.clone().unwrap();
    assert_eq!(
        (conv.kind(), conv.member_count, conv.peer_user_id.as_str()),
        (pb::ConversationKind::Direct, 1, ann.id.as_str())
    );
    let again: pb::CreateDirectResponse =
        call(&a, "ConversationService/CreateDirect", pb::CreateDirectRequest { user_id: ann.id.clone() }).await;
    assert!(!again.created, "one per user");
    let m = send(&a, &conv.id, "n1", "buy milk").await;
    assert_eq!(view(&a, &conv.id).await.unread_count, 0, "one's own notes are never unread");
    let hits: pb::SearchMessagesResponse = call(
        &a,
        "SearchService/SearchMessages",
        pb::SearchMessagesRequest { query: "milk".into(), ..Default::default() },
    )
    .await;
    assert_eq!(hits.hits[0].message.as_ref().unwrap().id, m.id);
}
