//! Reactions and pins end to end: a second member sees each change live and through
//! catch-up, history carries the counts with the reader's own marked, and every
//! documented refusal answers with its code and reason.

use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};

use crate::helpers::*;
use crate::spaces::{call, create_space, invite, join};

const ADD: &str = "MessageService/AddReaction";
const REMOVE: &str = "MessageService/RemoveReaction";

fn reaction(conv: &str, msg: &str, emoji: &str) -> pb::AddReactionRequest {
    pb::AddReactionRequest {
        conversation_id: conv.into(),
        message_id: msg.into(),
        emoji: emoji.into(),
        ..Default::default()
    }
}

async fn react(c: &Client, conv: &str, msg: &str, emoji: &str) -> pb::Message {
    let r: pb::AddReactionResponse = call(c, ADD, reaction(conv, msg, emoji)).await;
    r.message.unwrap()
}

async fn unreact(c: &Client, conv: &str, msg: &str, emoji: &str) -> pb::Message {
    let req = pb::RemoveReactionRequest {
        conversation_id: conv.into(),
        message_id: msg.into(),
        emoji: emoji.into(),
        ..Default::default()
    };
    let r: pb::RemoveReactionResponse = call(c, REMOVE, req).await;
    r.message.unwrap()
}

fn counts(m: &pb::Message) -> Vec<(String, u32, bool)> {
    m.reactions.iter().map(|r| (r.emoji.clone(), r.count, r.mine)).collect()
}

fn changed(e: &pb::Event) -> Option<&pb::ReactionChanged> {
    match e.kind.as_ref()? {
        pb::event::Kind::ReactionChanged(r) => Some(r),
        _ => None,
    }
}

async fn history(c: &Client, conv: &str) -> Vec<pb::Message> {
    let r: pb::GetHistoryResponse = call(
        c,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: conv.into(), limit: 50, ..Default::default() },
    )
    .await;
    r.messages
}

async fn difference(c: &Client, conv: &str, after: u64) -> Vec<pb::Event> {
    let r: pb::GetDifferenceResponse = call(
        c,
        "SyncService/GetDifference",
        pb::GetDifferenceRequest {
            positions: vec![pb::ConversationPosition { conversation_id: conv.into(), seq: after }],
            ..Default::default()
        },
    )
    .await;
    r.events.into_iter().filter(|e| e.conversation_id == conv).collect()
}

fn refusal<T: std::fmt::Debug>(r: Result<T, switchboard_client::ClientError>) -> (pb::ErrorCode, String) {
    let e = r.expect_err("expected a refusal");
    (e.code, e.reason)
}

/// Reactions in a group: live to the other member, idempotent, counted with "mine" in
/// history and GetMessages, listed by who and when, and replayed by catch-up.
#[tokio::test]
async fn reactions_reach_the_other_member_live_and_through_catch_up() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let g = group(&a, pb::ConversationKind::Group, "fans", &[&bob]).await;
    let id = conv_id(&g);
    let m = send(&a, &id, "k1", "vote here").await;
    let before = view(&b, &id).await.conversation.unwrap().last_seq;

    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut events = bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;

    let mine = react(&a, &id, &m.id, "👍").await;
    assert_eq!(counts(&mine), vec![("👍".into(), 1, true)]);
    let e = wait_for(&mut events, 5, |e| changed(e).is_some()).await;
    let r = changed(&e).unwrap();
    assert_eq!((r.user_id.as_str(), r.emoji.as_str(), r.added), (ann.id.as_str(), "👍", true));
    assert_eq!(counts(r.message.as_ref().unwrap()), vec![("👍".into(), 1, false)], "events never fill `mine`");
    assert_eq!(e.seq, before + 1, "a reaction is a conversation event");

    // Adding again changes nothing: the same answer and no event.
    assert_eq!(counts(&react(&a, &id, &m.id, "👍").await), vec![("👍".into(), 1, true)]);
    // "❤" and "❤️" are one reaction.
    react(&b, &id, &m.id, "❤").await;
    let both = react(&a, &id, &m.id, "❤️").await;
    assert_eq!(counts(&both), vec![("👍".into(), 1, true), ("❤️".into(), 2, true)]);
    let e = wait_for(&mut events, 5, |e| changed(e).is_some_and(|r| r.user_id == bob.id)).await;
    assert_eq!(changed(&e).unwrap().emoji, "❤️");

    let seen = history(&b, &id).await.into_iter().find(|x| x.id == m.id).unwrap();
    assert_eq!(counts(&seen), vec![("👍".into(), 1, false), ("❤️".into(), 2, true)]);
    let got: pb::GetMessagesResponse = call(
        &b,
        "MessageService/GetMessages",
        pb::GetMessagesRequest { conversation_id: id.clone(), message_ids: vec![m.id.clone()] },
    )
    .await;
    assert_eq!(counts(&got.messages[0]), counts(&seen));

    // Who reacted, a page at a time.
    let list = |cursor: String, emoji: &str| pb::ListReactionsRequest {
        conversation_id: id.clone(),
        message_id: m.id.clone(),
        emoji: emoji.into(),
        limit: 2,
        cursor,
        ..Default::default()
    };
    let p1: pb::ListReactionsResponse = call(&b, "MessageService/ListReactions", list(String::new(), "")).await;
    let who: Vec<_> = p1.reactors.iter().map(|r| (r.user_id.clone(), r.emoji.clone())).collect();
    assert_eq!(who, vec![(ann.id.clone(), "👍".into()), (bob.id.clone(), "❤️".into())]);
    assert!(!p1.next_cursor.is_empty());
    let p2: pb::ListReactionsResponse = call(&b, "MessageService/ListReactions", list(p1.next_cursor, "")).await;
    assert_eq!((p2.reactors.len(), p2.reactors[0].user_id.as_str(), p2.next_cursor.as_str()), (1, ann.id.as_str(), ""));
    let hearts: pb::ListReactionsResponse = call(&b, "MessageService/ListReactions", list(String::new(), "❤")).await;
    assert_eq!(hearts.reactors.len(), 2);

    // Taking back: live, and again a no-op the second time.
    assert_eq!(counts(&unreact(&a, &id, &m.id, "👍").await), vec![("❤️".into(), 2, true)]);
    let e = wait_for(&mut events, 5, |e| changed(e).is_some_and(|r| !r.added)).await;
    assert_eq!(changed(&e).unwrap().emoji, "👍");
    unreact(&a, &id, &m.id, "👍").await;

    // Catch-up from before the first reaction replays each change once, in order.
    let diff = difference(&b, &id, before).await;
    let replay: Vec<_> =
        diff.iter().filter_map(changed).map(|r| (r.user_id.clone(), r.emoji.clone(), r.added)).collect();
    assert_eq!(
        replay,
        vec![
            (ann.id.clone(), "👍".into(), true),
            (bob.id.clone(), "❤️".into(), true),
            (ann.id.clone(), "❤️".into(), true),
            (ann.id.clone(), "👍".into(), false),
        ]
    );
    // Reactions are not unread messages and do not move the chat up the list.
    let v = view(&b, &id).await;
    assert_eq!(v.unread_count, 1, "only the message itself");
    assert!(v.conversation.unwrap().last_activity_at_ms <= m.created_at_ms);
}

/// Each documented refusal of the reaction calls, with its code and reason.
#[tokio::test]
async fn reaction_refusals_have_their_documented_codes() {
    let app = TestApp::spawn_with(|c| c.service.max_reactions_per_message = 2).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let (a, b, e) = (app.http(&ann).await, app.http(&bob).await, app.http(&eve).await);
    let g = group(&a, pb::ConversationKind::Group, "limits", &[&bob]).await;
    let id = conv_id(&g);
    let m = send(&a, &id, "k1", "hello").await;

    for bad in ["", "a", "👍👍", ":thumbsup:"] {
        let r = a.call::<_, pb::AddReactionResponse>(ADD, &reaction(&id, &m.id, bad)).await;
        assert_eq!(code_of(r), pb::ErrorCode::InvalidArgument, "{bad:?}");
    }
    let r = e.call::<_, pb::AddReactionResponse>(ADD, &reaction(&id, &m.id, "👍")).await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound, "a non-member learns nothing");
    let r = a.call::<_, pb::AddReactionResponse>(ADD, &reaction(&id, "999999", "👍")).await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound);

    react(&a, &id, &m.id, "👍").await;
    react(&b, &id, &m.id, "🎉").await;
    let r = a.call::<_, pb::AddReactionResponse>(ADD, &reaction(&id, &m.id, "🚀")).await;
    assert_eq!(refusal(r), (pb::ErrorCode::FailedPrecondition, "reaction_limit".into()));
    assert_eq!(counts(&react(&a, &id, &m.id, "🎉").await).len(), 2, "an emoji already there is fine");

    let created =
        history(&a, &id).await.into_iter().find(|x| matches!(x.content, Some(pb::message::Content::Service(_))));
    let r = a.call::<_, pb::AddReactionResponse>(ADD, &reaction(&id, &created.unwrap().id, "👍")).await;
    assert_eq!(refusal(r), (pb::ErrorCode::FailedPrecondition, "service_message".into()));

    let _: pb::DeleteMessagesResponse = call(
        &a,
        "MessageService/DeleteMessages",
        pb::DeleteMessagesRequest { conversation_id: id.clone(), message_ids: vec![m.id.clone()], for_everyone: true },
    )
    .await;
    let r = b.call::<_, pb::AddReactionResponse>(ADD, &reaction(&id, &m.id, "👍")).await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound, "a deleted message takes none");
    assert!(history(&b, &id).await.iter().all(|x| x.reactions.is_empty()), "and shows none");

    let limits: pb::GetServerInfoResponse =
        call(&a, "ServerService/GetServerInfo", pb::GetServerInfoRequest::default()).await;
    assert_eq!(limits.limits.unwrap().max_reactions_per_message, 2);
}

/// A broadcast channel's subscribers react though they cannot post; in a space, reacting
/// follows the send permission, so a timed-out member cannot.
#[tokio::test]
async fn who_may_react_follows_the_conversation() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let ch = group(&a, pb::ConversationKind::Channel, "news", &[&bob]).await;
    let post = send(&a, &ch.conversation.as_ref().unwrap().id, "n1", "news!").await;
    assert_eq!(counts(&react(&b, &conv_id(&ch), &post.id, "🔥").await), vec![("🔥".into(), 1, true)]);

    let space = create_space(&a, "club", false).await;
    join(&b, &invite(&a, &space.id, 5).await).await;
    let general = space.default_channel_id.clone();
    let m = send(&a, &general, "s1", "welcome").await;
    react(&b, &general, &m.id, "👋").await;
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 60_000;
    let _: pb::TimeoutMemberResponse = call(
        &a,
        "SpaceService/TimeoutMember",
        pb::TimeoutMemberRequest { space_id: space.id.clone(), user_id: bob.id.clone(), until_ms: until },
    )
    .await;
    let r = b.call::<_, pb::AddReactionResponse>(ADD, &reaction(&general, &m.id, "👍")).await;
    assert_eq!(code_of(r), pb::ErrorCode::PermissionDenied);
}

fn pin_req(conv: &str, msg: &str) -> pb::PinMessageRequest {
    pb::PinMessageRequest { conversation_id: conv.into(), message_id: msg.into() }
}

async fn pins(c: &Client, conv: &str, cursor: &str, limit: u32) -> pb::ListPinnedMessagesResponse {
    call(
        c,
        "MessageService/ListPinnedMessages",
        pb::ListPinnedMessagesRequest { conversation_id: conv.into(), limit, cursor: cursor.into() },
    )
    .await
}

fn pinned_action(e: &pb::Event) -> Option<(pb::ServiceAction, String, String)> {
    let pb::event::Kind::MessageCreated(m) = e.kind.as_ref()? else { return None };
    let Some(pb::message::Content::Service(s)) = m.content.as_ref() else { return None };
    matches!(s.action(), pb::ServiceAction::MessagePinned | pb::ServiceAction::MessageUnpinned)
        .then(|| (s.action(), s.target_id.clone(), m.sender_id.clone()))
}

/// Pins in a group: only the owner and admins with the pin right; a service message the
/// other member sees live; the conversation names its latest pin; the list pages latest
/// first; catch-up carries the service messages.
#[tokio::test]
async fn pins_are_announced_listed_and_follow_the_pin_right() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let (a, b, e) = (app.http(&ann).await, app.http(&bob).await, app.http(&eve).await);
    let g = group(&a, pb::ConversationKind::Group, "pins", &[&bob]).await;
    let id = conv_id(&g);
    let first = send(&a, &id, "p1", "first").await;
    let second = send(&b, &id, "p2", "second").await;
    let before = view(&b, &id).await.conversation.unwrap().last_seq;

    let mut bob_ws = app.client(&bob, Transport::WsBinary).await;
    let mut events = bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;

    let r = b.call::<_, pb::PinMessageResponse>("MessageService/PinMessage", &pin_req(&id, &first.id)).await;
    assert_eq!(code_of(r), pb::ErrorCode::PermissionDenied, "a plain member of a group");
    let r = e.call::<_, pb::PinMessageResponse>("MessageService/PinMessage", &pin_req(&id, &first.id)).await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound, "a stranger");

    let r: pb::PinMessageResponse = call(&a, "MessageService/PinMessage", pin_req(&id, &first.id)).await;
    assert!(r.service_message.is_some());
    let ev = wait_for(&mut events, 5, |e| pinned_action(e).is_some()).await;
    assert_eq!(pinned_action(&ev).unwrap(), (pb::ServiceAction::MessagePinned, first.id.clone(), ann.id.clone()));
    let again: pb::PinMessageResponse = call(&a, "MessageService/PinMessage", pin_req(&id, &first.id)).await;
    assert!(again.service_message.is_none(), "pinning twice changes nothing");
    let _: pb::PinMessageResponse = call(&a, "MessageService/PinMessage", pin_req(&id, &second.id)).await;
    assert_eq!(view(&b, &id).await.conversation.unwrap().pinned_message_id, second.id);

    let page = pins(&b, &id, "", 1).await;
    assert_eq!(
        (page.pins[0].message.as_ref().unwrap().id.as_str(), page.pins[0].pinned_by.as_str()),
        (second.id.as_str(), ann.id.as_str())
    );
    let rest = pins(&b, &id, &page.next_cursor, 1).await;
    assert_eq!(
        (rest.pins[0].message.as_ref().unwrap().id.as_str(), rest.next_cursor.as_str()),
        (first.id.as_str(), "")
    );

    let unpin = pb::UnpinMessageRequest { conversation_id: id.clone(), message_id: second.id.clone() };
    let r: pb::UnpinMessageResponse = call(&a, "MessageService/UnpinMessage", unpin.clone()).await;
    assert!(r.service_message.is_some());
    let ev =
        wait_for(&mut events, 5, |e| pinned_action(e).is_some_and(|p| p.0 == pb::ServiceAction::MessageUnpinned)).await;
    assert_eq!(pinned_action(&ev).unwrap().1, second.id);
    let r: pb::UnpinMessageResponse = call(&a, "MessageService/UnpinMessage", unpin).await;
    assert!(r.service_message.is_none());
    assert_eq!(view(&b, &id).await.conversation.unwrap().pinned_message_id, first.id, "back to the earlier pin");

    // An admin given the pin right may pin.
    let _: pb::SetMemberRoleResponse = call(
        &a,
        "ConversationService/SetMemberRole",
        pb::SetMemberRoleRequest {
            conversation_id: id.clone(),
            user_id: bob.id.clone(),
            role: pb::MemberRole::Admin as i32,
            rights: Some(pb::AdminRights { pin: true, ..Default::default() }),
        },
    )
    .await;
    let _: pb::PinMessageResponse = call(&b, "MessageService/PinMessage", pin_req(&id, &second.id)).await;

    let replay: Vec<_> = difference(&b, &id, before).await.iter().filter_map(pinned_action).map(|p| p.0).collect();
    use pb::ServiceAction::{MessagePinned as P, MessageUnpinned as U};
    assert_eq!(replay, vec![P, P, U, P]);
}

/// In a direct conversation either member pins; in a space, pinning needs manage-messages;
/// service messages cannot be pinned; a deleted message leaves the pins.
#[tokio::test]
async fn pin_rights_in_direct_chats_and_spaces() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let d: pb::CreateDirectResponse =
        call(&a, "ConversationService/CreateDirect", pb::CreateDirectRequest { user_id: bob.id.clone() }).await;
    let id = conv_id(d.conversation.as_ref().unwrap());
    let m = send(&a, &id, "d1", "remember this").await;
    let _: pb::PinMessageResponse = call(&b, "MessageService/PinMessage", pin_req(&id, &m.id)).await;
    assert_eq!(pins(&a, &id, "", 0).await.pins.len(), 1);
    let _: pb::DeleteMessagesResponse = call(
        &a,
        "MessageService/DeleteMessages",
        pb::DeleteMessagesRequest { conversation_id: id.clone(), message_ids: vec![m.id.clone()], for_everyone: true },
    )
    .await;
    assert!(pins(&a, &id, "", 0).await.pins.is_empty(), "a deleted message is no longer pinned");
    assert!(view(&a, &id).await.conversation.unwrap().pinned_message_id.is_empty());
    let r = a.call::<_, pb::PinMessageResponse>("MessageService/PinMessage", &pin_req(&id, &m.id)).await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound);

    let space = create_space(&a, "club", false).await;
    join(&b, &invite(&a, &space.id, 5).await).await;
    let general = space.default_channel_id.clone();
    let post = send(&b, &general, "s1", "hello").await;
    let r = b.call::<_, pb::PinMessageResponse>("MessageService/PinMessage", &pin_req(&general, &post.id)).await;
    assert_eq!(code_of(r), pb::ErrorCode::PermissionDenied, "no manage-messages");
    let _: pb::PinMessageResponse = call(&a, "MessageService/PinMessage", pin_req(&general, &post.id)).await;
    let service = history(&a, &general).await.into_iter().rev().find(pinned_action_of).unwrap();
    let r = a.call::<_, pb::PinMessageResponse>("MessageService/PinMessage", &pin_req(&general, &service.id)).await;
    assert_eq!(refusal(r), (pb::ErrorCode::FailedPrecondition, "service_message".into()));
}

fn pinned_action_of(m: &pb::Message) -> bool {
    matches!(&m.content, Some(pb::message::Content::Service(s)) if s.action() == pb::ServiceAction::MessagePinned)
}
