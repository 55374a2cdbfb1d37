//! Scheduled messages over the real API: the lifecycle with a second member watching,
//! every documented refusal, a delivery refused by the rules at its time, and a message
//! that survives a SIGKILL of the server binary and goes out once on start-up.

use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use crate::cli::{Server, free_port};
use crate::helpers::*;
use crate::spaces::call;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn schedule(conv: &str, key: &str, body: &str, at: i64) -> pb::ScheduleMessageRequest {
    pb::ScheduleMessageRequest {
        conversation_id: conv.into(),
        client_key: key.into(),
        text: text(body),
        send_at_ms: at,
        ..Default::default()
    }
}

async fn texts(c: &Client, conv: &str) -> Vec<String> {
    let h: pb::GetHistoryResponse = call(
        c,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: conv.into(), limit: 200, ..Default::default() },
    )
    .await;
    h.messages
        .iter()
        .filter_map(|m| match &m.content {
            Some(pb::message::Content::Text(t)) => Some(t.text.clone()),
            _ => None,
        })
        .collect()
}

fn created(e: &pb::Event) -> Option<&pb::Message> {
    match e.kind.as_ref()? {
        pb::event::Kind::MessageCreated(m) if matches!(m.content, Some(pb::message::Content::Text(_))) => Some(m),
        _ => None,
    }
}

#[tokio::test]
async fn scheduled_messages_are_listed_changed_and_go_out_once_at_their_time() {
    let app = TestApp::spawn_with(|c| c.service.scheduled_poll_ms = 50).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let g = group(&a, pb::ConversationKind::Group, "later", &[&bob]).await;
    let id = conv_id(&g);
    let mut ws = app.client(&bob, Transport::WsJson).await;
    let mut events = ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;

    let at = now_ms() + 3_600_000;
    let r: pb::ScheduleMessageResponse =
        call(&a, "MessageService/ScheduleMessage", schedule(&id, "k1", "good morning", at)).await;
    let first = r.scheduled.unwrap();
    assert_eq!((first.send_at_ms, first.client_key.as_str()), (at, "k1"));
    let again: pb::ScheduleMessageResponse =
        call(&a, "MessageService/ScheduleMessage", schedule(&id, "k1", "good morning", at)).await;
    assert_eq!(again.scheduled.unwrap().id, first.id, "a retry returns the original");
    let mut second = schedule(&id, "k2", "second", at + 60_000);
    second.important = true;
    let second: pb::ScheduleMessageResponse = call(&a, "MessageService/ScheduleMessage", second).await;
    let second = second.scheduled.unwrap();
    let third: pb::ScheduleMessageResponse =
        call(&a, "MessageService/ScheduleMessage", schedule(&id, "k3", "never", at + 120_000)).await;
    let list: pb::ListScheduledMessagesResponse = call(
        &a,
        "MessageService/ListScheduledMessages",
        pb::ListScheduledMessagesRequest { conversation_id: id.clone() },
    )
    .await;
    assert_eq!(list.scheduled.iter().map(|s| s.client_key.as_str()).collect::<Vec<_>>(), ["k1", "k2", "k3"]);
    let theirs: pb::ListScheduledMessagesResponse =
        call(&b, "MessageService/ListScheduledMessages", pb::ListScheduledMessagesRequest::default()).await;
    assert!(theirs.scheduled.is_empty(), "only the sender sees them");

    // Edit and reschedule; cancel; send one now.
    let edited: pb::UpdateScheduledMessageResponse = call(
        &a,
        "MessageService/UpdateScheduledMessage",
        pb::UpdateScheduledMessageRequest {
            id: first.id.clone(),
            text: text("good morning, all"),
            send_at_ms: at + 30_000,
        },
    )
    .await;
    assert_eq!(edited.scheduled.unwrap().send_at_ms, at + 30_000);
    let _: pb::CancelScheduledMessageResponse = call(
        &a,
        "MessageService/CancelScheduledMessage",
        pb::CancelScheduledMessageRequest { id: third.scheduled.unwrap().id },
    )
    .await;
    let now: pb::SendScheduledMessageNowResponse = call(
        &a,
        "MessageService/SendScheduledMessageNow",
        pb::SendScheduledMessageNowRequest { id: second.id.clone() },
    )
    .await;
    let sent = now.message.unwrap();
    assert!(sent.important && sent.seq > 0 && sent.client_key == "k2");
    let e = wait_for(&mut events, 5, |e| created(e).is_some()).await;
    assert_eq!(created(&e).unwrap().id, sent.id);
    let r = a
        .call::<_, pb::SendScheduledMessageNowResponse>(
            "MessageService/SendScheduledMessageNow",
            &pb::SendScheduledMessageNowRequest { id: second.id.clone() },
        )
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound, "sent once");

    // Its time comes: delivered once, as an ordinary message, and gone from the list.
    app.advance(Duration::from_millis(3_600_000 + 31_000));
    let e = wait_for(&mut events, 5, |e| created(e).is_some()).await;
    let m = created(&e).unwrap();
    assert_eq!((m.sender_id.as_str(), m.client_key.as_str()), (ann.id.as_str(), ""));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(texts(&b, &id).await, ["second", "good morning, all"]);
    assert_eq!(view(&b, &id).await.unread_count, 2, "counted like any message");
    let left: pb::ListScheduledMessagesResponse =
        call(&a, "MessageService/ListScheduledMessages", pb::ListScheduledMessagesRequest::default()).await;
    assert!(left.scheduled.is_empty());
}

#[tokio::test]
async fn scheduling_refusals_and_a_delivery_the_rules_refuse() {
    let app = TestApp::spawn_with(|c| {
        c.service.scheduled_poll_ms = 50;
        c.service.max_scheduled_per_user = 2;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let g = group(&a, pb::ConversationKind::Group, "rules", &[&bob]).await;
    let id = conv_id(&g);
    let later = now_ms() + 600_000;
    let bad = [
        schedule(&id, "p", "past", now_ms() - 1_000),
        schedule(&id, "f", "far", now_ms() + 400 * 24 * 3_600_000),
        schedule(&id, "", "no key", later),
        pb::ScheduleMessageRequest { text: None, ..schedule(&id, "t", "", later) },
        pb::ScheduleMessageRequest {
            text: Some(pb::TextContent {
                text: "with a file".into(),
                attachments: vec![pb::Attachment { file_id: "1".into(), ..Default::default() }],
                ..Default::default()
            }),
            ..schedule(&id, "a", "", later)
        },
    ];
    for req in bad {
        let r = a.call::<_, pb::ScheduleMessageResponse>("MessageService/ScheduleMessage", &req).await;
        assert_eq!(code_of(r), pb::ErrorCode::InvalidArgument, "{req:?}");
    }
    let r = app
        .http(&eve)
        .await
        .call::<_, pb::ScheduleMessageResponse>("MessageService/ScheduleMessage", &schedule(&id, "e", "hi", later))
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound, "a stranger");
    let ch = group(&a, pb::ConversationKind::Channel, "news", &[&bob]).await;
    let r = b
        .call::<_, pb::ScheduleMessageResponse>(
            "MessageService/ScheduleMessage",
            &schedule(&conv_id(&ch), "c", "hi", later),
        )
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::PermissionDenied, "a subscriber of a channel");
    for id_text in ["x", "0", "-3"] {
        let r = a
            .call::<_, pb::CancelScheduledMessageResponse>(
                "MessageService/CancelScheduledMessage",
                &pb::CancelScheduledMessageRequest { id: id_text.into() },
            )
            .await;
        assert_eq!(code_of(r), pb::ErrorCode::InvalidArgument);
    }
    let r = a
        .call::<_, pb::CancelScheduledMessageResponse>(
            "MessageService/CancelScheduledMessage",
            &pb::CancelScheduledMessageRequest { id: "99999".into() },
        )
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound);

    // Bob schedules, then leaves the group: at its time the delivery is refused and kept.
    let _: pb::ScheduleMessageResponse =
        call(&b, "MessageService/ScheduleMessage", schedule(&id, "b1", "from bob", later)).await;
    let _: pb::ScheduleMessageResponse =
        call(&b, "MessageService/ScheduleMessage", schedule(&id, "b2", "again", later)).await;
    let r = b
        .call::<_, pb::ScheduleMessageResponse>("MessageService/ScheduleMessage", &schedule(&id, "b3", "more", later))
        .await;
    let e = r.unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (pb::ErrorCode::FailedPrecondition, "limit_reached"));
    let _: pb::LeaveConversationResponse =
        call(&b, "ConversationService/LeaveConversation", pb::LeaveConversationRequest { conversation_id: id.clone() })
            .await;
    app.advance(Duration::from_millis(700_000));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let l: pb::ListScheduledMessagesResponse =
            call(&b, "MessageService/ListScheduledMessages", pb::ListScheduledMessagesRequest::default()).await;
        if l.scheduled.iter().all(|s| !s.failed_reason.is_empty()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the refusal was never recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!texts(&a, &id).await.iter().any(|t| t == "from bob"), "nothing went out");
}

#[tokio::test]
async fn a_scheduled_message_survives_a_sigkill_and_goes_out_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Server::start(dir.path(), port).await;
    let ann = register_at(&addr, Transport::Http, "ann").await;
    let a = Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let g = group(&a, pb::ConversationKind::Group, "durable", &[]).await;
    let id = conv_id(&g);
    let at = now_ms() + 1_500;
    let _: pb::ScheduleMessageResponse =
        call(&a, "MessageService/ScheduleMessage", schedule(&id, "d1", "while you were down", at)).await;
    server.kill().await;
    // Down past its time; it goes out on start-up, once.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let _server = Server::start(dir.path(), port).await;
    let a = Client::connect(&addr, Transport::Http, Some(&ann.token)).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !texts(&a, &id).await.contains(&"while you were down".to_owned()) {
        assert!(tokio::time::Instant::now() < deadline, "not delivered after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(texts(&a, &id).await.iter().filter(|t| *t == "while you were down").count(), 1);
}
