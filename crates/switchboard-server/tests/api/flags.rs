//! Important, silent and online-only messages over the real API, with a second member
//! watching live and after catch-up.

use switchboard_client::Transport;
use switchboard_client::proto as pb;

use crate::helpers::*;
use crate::spaces::call;

fn flagged(
    conv: &str,
    key: &str,
    body: &str,
    important: bool,
    silent: bool,
    online_only: bool,
) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: conv.into(),
        client_key: key.into(),
        text: text(body),
        important,
        silent,
        online_only,
        ..Default::default()
    }
}

fn created(e: &pb::Event) -> Option<&pb::Message> {
    match e.kind.as_ref()? {
        pb::event::Kind::MessageCreated(m) if matches!(m.content, Some(pb::message::Content::Text(_))) => Some(m),
        _ => None,
    }
}

fn online(e: &pb::Event) -> Option<&pb::Message> {
    match e.kind.as_ref()? {
        pb::event::Kind::OnlineMessage(m) => Some(m),
        _ => None,
    }
}

/// Important messages are shown, counted among the unread and found by search; silent
/// ones say so to every reader.
#[tokio::test]
async fn important_and_silent_messages_are_marked_counted_and_found() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let g = group(&a, pb::ConversationKind::Group, "flags", &[&bob]).await;
    let id = conv_id(&g);
    let mut ws = app.client(&bob, Transport::WsJson).await;
    let mut events = ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;

    let r: pb::SendMessageResponse =
        call(&a, "MessageService/SendMessage", flagged(&id, "i1", "server restart at noon", true, false, false)).await;
    assert!(r.message.unwrap().important);
    let e = wait_for(&mut events, 5, |e| created(e).is_some()).await;
    assert!(created(&e).unwrap().important, "live");
    let _: pb::SendMessageResponse =
        call(&a, "MessageService/SendMessage", flagged(&id, "s1", "no need to look now", false, true, false)).await;
    let e = wait_for(&mut events, 5, |e| created(e).is_some()).await;
    let quiet = created(&e).unwrap();
    assert!(quiet.silent && !quiet.important);
    send(&a, &id, "p1", "plain").await;

    let v = view(&b, &id).await;
    assert_eq!((v.unread_count, v.important_count), (3, 1), "silent still counts as unread; one important");
    let diff: pb::GetDifferenceResponse = call(
        &b,
        "SyncService/GetDifference",
        pb::GetDifferenceRequest {
            positions: vec![pb::ConversationPosition { conversation_id: id.clone(), seq: 1 }],
            ..Default::default()
        },
    )
    .await;
    let flags: Vec<(bool, bool)> = diff.events.iter().filter_map(created).map(|m| (m.important, m.silent)).collect();
    assert_eq!(flags, vec![(true, false), (false, true), (false, false)], "catch-up carries both flags");
    let hits: pb::SearchMessagesResponse = call(
        &b,
        "SearchService/SearchMessages",
        pb::SearchMessagesRequest { query: "noon".into(), important_only: true, ..Default::default() },
    )
    .await;
    assert_eq!(hits.hits.len(), 1);
    let none: pb::SearchMessagesResponse = call(
        &b,
        "SearchService/SearchMessages",
        pb::SearchMessagesRequest { query: "plain".into(), important_only: true, ..Default::default() },
    )
    .await;
    assert!(none.hits.is_empty());
    let last = view(&b, &id).await.conversation.unwrap().last_seq;
    let _: pb::MarkReadResponse =
        call(&b, "MessageService/MarkRead", pb::MarkReadRequest { conversation_id: id.clone(), seq: last }).await;
    assert_eq!(view(&b, &id).await.important_count, 0, "read");
}

/// Online-only messages reach the members connected now, the sender's other devices
/// included, and nothing else: no id, no seq, no history, no catch-up, no counters.
#[tokio::test]
async fn online_only_messages_reach_who_is_connected_and_are_never_kept() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let (a, b, c) = (app.http(&ann).await, app.http(&bob).await, app.http(&cat).await);
    let g = group(&a, pb::ConversationKind::Group, "live", &[&bob, &cat]).await;
    let id = conv_id(&g);
    let before = view(&c, &id).await;

    let mut bob_ws = app.client(&bob, Transport::WsBinary).await;
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 5, is_caught_up).await;
    let phone = app.login(&ann).await;
    let mut ann_ws = app.client(&phone, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 5, is_caught_up).await;

    let r: pb::SendMessageResponse =
        call(&a, "MessageService/SendMessage", flagged(&id, "live-1", "are you there?", false, false, true)).await;
    let sent = r.message.unwrap();
    assert_eq!((sent.id.as_str(), sent.seq), ("", 0), "never stored");
    let e = wait_for(&mut bob_events, 5, |e| online(e).is_some()).await;
    let m = online(&e).unwrap();
    assert_eq!((e.conversation_id.as_str(), e.seq, m.sender_id.as_str()), (id.as_str(), 0, ann.id.as_str()));
    assert_eq!((m.client_key.as_str(), m.seq), ("", 0));
    let e = wait_for(&mut ann_events, 5, |e| online(e).is_some()).await;
    assert_eq!(online(&e).unwrap().client_key, "live-1", "the sender's other device settles its copy by key");

    // Cat was not connected: nothing to catch up on, nothing in history or the counters.
    let after = view(&c, &id).await;
    assert_eq!(after.conversation.as_ref().unwrap().last_seq, before.conversation.as_ref().unwrap().last_seq);
    assert_eq!(after.unread_count, before.unread_count);
    let mut cat_ws = app.client(&cat, Transport::WsJson).await;
    let mut cat_events = cat_ws
        .subscribe(pb::SubscribeRequest {
            positions: vec![pb::ConversationPosition { conversation_id: id.clone(), seq: 0 }],
            ..Default::default()
        })
        .await
        .unwrap();
    let mut replayed = Vec::new();
    loop {
        let e = wait_for(&mut cat_events, 5, |_| true).await;
        if is_caught_up(&e) {
            break;
        }
        replayed.push(e);
    }
    assert!(replayed.iter().all(|e| online(e).is_none()));
    let h: pb::GetHistoryResponse = call(
        &c,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: id.clone(), ..Default::default() },
    )
    .await;
    assert!(
        h.messages
            .iter()
            .all(|m| !matches!(&m.content, Some(pb::message::Content::Text(t)) if t.text.contains("there")))
    );
    drop(b);

    // Refusals: text only, and checked like any post.
    let mut with_reply = flagged(&id, "live-2", "re", false, false, true);
    with_reply.reply_to_message_id = "1".into();
    let r = a.call::<_, pb::SendMessageResponse>("MessageService/SendMessage", &with_reply).await;
    assert_eq!(code_of(r), pb::ErrorCode::InvalidArgument);
    let dave = app.register("dave").await;
    let d = app.http(&dave).await;
    let r = d
        .call::<_, pb::SendMessageResponse>("MessageService/SendMessage", &flagged(&id, "x", "hi", false, false, true))
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound);
    let ch = group(&a, pb::ConversationKind::Channel, "news", &[&cat]).await;
    let r = c
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &flagged(&conv_id(&ch), "y", "hi", false, false, true),
        )
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::PermissionDenied, "a subscriber cannot post in a channel");
}
