//! Contacts end to end: the owner's other device and the other person hear of each change
//! live and through catch-up (the mutual flag turning on both sides), imports by
//! username, and every documented refusal.

use switchboard_client::proto as pb;
use switchboard_client::{Client, ClientError, Transport};

use crate::helpers::*;
use crate::spaces::call;

use pb::ErrorCode as E;

fn contact_event(e: &pb::Event) -> Option<&pb::ContactChanged> {
    match e.kind.as_ref()? {
        pb::event::Kind::ContactChanged(c) => Some(c),
        _ => None,
    }
}

async fn add(c: &Client, user: &str, remark: &str, notes: &str) -> Result<pb::Contact, ClientError> {
    let req = pb::AddContactRequest { user_id: user.into(), remark: remark.into(), notes: notes.into() };
    c.call::<_, pb::AddContactResponse>("ContactService/AddContact", &req).await.map(|r| r.contact.unwrap())
}

async fn list(c: &Client, cursor: &str, limit: u32) -> pb::ListContactsResponse {
    call(c, "ContactService/ListContacts", pb::ListContactsRequest { limit, cursor: cursor.into() }).await
}

async fn user_seq(c: &Client) -> u64 {
    let state: pb::GetStateResponse = call(c, "SyncService/GetState", pb::GetStateRequest {}).await;
    state.user_seq
}

async fn replay(c: &Client, after: u64) -> Vec<(String, bool, bool)> {
    let diff: pb::GetDifferenceResponse =
        call(c, "SyncService/GetDifference", pb::GetDifferenceRequest { user_seq: after, ..Default::default() }).await;
    diff.events
        .iter()
        .filter_map(contact_event)
        .map(|c| (c.user_id.clone(), c.removed, c.contact.as_ref().is_some_and(|x| x.mutual)))
        .collect()
}

fn refusal<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (pb::ErrorCode, String) {
    let e = r.expect_err("expected a refusal");
    (e.code, e.reason)
}

#[tokio::test]
async fn contacts_reach_both_sides_live_and_through_catch_up() {
    let app = TestApp::spawn().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let (ann_from, bob_from) = (user_seq(&a).await, user_seq(&b).await);

    // Ann's phone and Bob are connected.
    let phone = app.login(&ann).await;
    let mut ann_ws = app.client(&phone, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 5, is_caught_up).await;
    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 5, is_caught_up).await;

    let c = add(&a, &bob.id, "  Bobby ", "from the choir").await.unwrap();
    assert_eq!(
        (c.user_id.as_str(), c.remark.as_str(), c.notes.as_str(), c.mutual),
        (bob.id.as_str(), "Bobby", "from the choir", false)
    );
    let e = wait_for(&mut ann_events, 5, |e| contact_event(e).is_some()).await;
    let ch = contact_event(&e).unwrap();
    assert_eq!((ch.user_id.as_str(), ch.removed), (bob.id.as_str(), false));
    assert_eq!(ch.contact.as_ref().map(|c| c.remark.as_str()), Some("Bobby"));
    assert!(e.user_seq > ann_from);

    // Bob adds Ann back: both entries are mutual, and Ann's phone hears of hers.
    let back = add(&b, &ann.id, "", "").await.unwrap();
    assert!(back.mutual);
    let e = wait_for(&mut ann_events, 5, |e| {
        contact_event(e).is_some_and(|c| c.contact.as_ref().is_some_and(|x| x.mutual))
    })
    .await;
    assert_eq!(contact_event(&e).unwrap().contact.as_ref().unwrap().remark, "Bobby", "her remark stays");
    wait_for(&mut bob_events, 5, |e| contact_event(e).is_some()).await;
    let listed = list(&a, "", 10).await;
    assert_eq!(
        listed.contacts.iter().map(|c| (c.user_id.as_str(), c.mutual)).collect::<Vec<_>>(),
        vec![(bob.id.as_str(), true)]
    );
    assert_eq!(listed.users.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), vec!["bob"], "with the accounts");

    // Ann removes Bob: her devices and Bob's (no longer mutual) hear of it; catch-up
    // replays every step once, in order.
    let r: pb::RemoveContactResponse =
        call(&a, "ContactService/RemoveContact", pb::RemoveContactRequest { user_id: bob.id.clone() }).await;
    assert!(r.removed);
    let r: pb::RemoveContactResponse =
        call(&a, "ContactService/RemoveContact", pb::RemoveContactRequest { user_id: bob.id.clone() }).await;
    assert!(!r.removed, "not there any more");
    wait_for(&mut bob_events, 5, |e| contact_event(e).is_some_and(|c| c.contact.as_ref().is_some_and(|x| !x.mutual)))
        .await;
    assert_eq!(
        replay(&a, ann_from).await,
        vec![(bob.id.clone(), false, false), (bob.id.clone(), false, true), (bob.id.clone(), true, false)]
    );
    assert_eq!(replay(&b, bob_from).await, vec![(ann.id.clone(), false, true), (ann.id.clone(), false, false)]);
    app.stop().await;
}

#[tokio::test]
async fn contacts_are_imported_by_username_and_refusals_say_why() {
    let app = TestApp::spawn_with(|c| c.service.max_contacts = 3).await;
    let ann = app.register("ann").await;
    let mut others = Vec::new();
    for n in ["bob", "cat", "dan", "eve"] {
        others.push(app.register(n).await);
    }
    let a = app.http(&ann).await;

    let import = |names: &[&str]| pb::ImportContactsRequest {
        usernames: names.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let r: pb::ImportContactsResponse =
        call(&a, "ContactService/ImportContacts", import(&["@Bob", "cat", "nobody", "no such name!", "ann", "bob"]))
            .await;
    let mut got: Vec<_> = r.users.iter().map(|u| u.username.as_str()).collect();
    got.sort_unstable();
    assert_eq!(got, vec!["bob", "cat"], "found ones, case-insensitive, not oneself, once each");
    assert_eq!(r.contacts.len(), 2);
    add(&a, &others[0].id, "Robert", "").await.unwrap();
    let again: pb::ImportContactsResponse = call(&a, "ContactService/ImportContacts", import(&["bob"])).await;
    assert_eq!(again.contacts[0].remark, "Robert", "an import keeps the remark");

    // Paging.
    add(&a, &others[2].id, "", "").await.unwrap();
    let first = list(&a, "", 2).await;
    assert_eq!(first.contacts.len(), 2);
    let rest = list(&a, &first.next_cursor, 2).await;
    assert_eq!((rest.contacts.len(), rest.next_cursor.as_str()), (1, ""));

    // Refusals.
    assert_eq!(refusal(add(&a, &others[3].id, "", "").await), (E::FailedPrecondition, "contact_limit".into()));
    assert_eq!(refusal(add(&a, &ann.id, "", "").await).0, E::InvalidArgument, "oneself");
    assert_eq!(refusal(add(&a, "99999", "", "").await).0, E::NotFound);
    assert_eq!(refusal(add(&a, &others[0].id, &"r".repeat(65), "").await).0, E::InvalidArgument);
    assert_eq!(refusal(add(&a, &others[0].id, "", &"n".repeat(1025)).await).0, E::InvalidArgument);
    let by_mail = pb::ImportContactsRequest { emails: vec!["bob@example.com".into()], ..Default::default() };
    assert_eq!(
        refusal(a.call::<_, pb::ImportContactsResponse>("ContactService/ImportContacts", &by_mail).await).0,
        E::Unimplemented
    );
    let too_many = import(&vec!["bob"; 1001]);
    assert_eq!(
        refusal(a.call::<_, pb::ImportContactsResponse>("ContactService/ImportContacts", &too_many).await).0,
        E::InvalidArgument
    );
    app.stop().await;
}

fn request_event(e: &pb::Event) -> Option<(String, String, pb::FriendRequestState)> {
    match e.kind.as_ref()? {
        pb::event::Kind::FriendRequestChanged(c) => {
            let r = c.request.as_ref()?;
            Some((r.from_user_id.clone(), r.to_user_id.clone(), c.state()))
        }
        _ => None,
    }
}

async fn ask(c: &Client, user: &str, message: &str) -> Result<pb::SendFriendRequestResponse, ClientError> {
    let req = pb::SendFriendRequestRequest { user_id: user.into(), message: message.into() };
    c.call("ContactService/SendFriendRequest", &req).await
}

async fn answer(c: &Client, user: &str, accept: bool) -> Result<pb::AnswerFriendRequestResponse, ClientError> {
    c.call("ContactService/AnswerFriendRequest", &pb::AnswerFriendRequestRequest { user_id: user.into(), accept }).await
}

async fn requests(c: &Client, incoming: bool) -> pb::ListFriendRequestsResponse {
    call(c, "ContactService/ListFriendRequests", pb::ListFriendRequestsRequest { incoming }).await
}

#[tokio::test]
async fn friend_requests_reach_both_sides_and_can_gate_direct_chats() {
    use pb::FriendRequestState as S;
    let app = TestApp::spawn_with(|c| c.service.direct_chats_need_friendship = true).await;
    let (ann, bob, cat) = (app.register("ann").await, app.register("bob").await, app.register("cat").await);
    let (a, b, c) = (app.http(&ann).await, app.http(&bob).await, app.http(&cat).await);
    let bob_from = user_seq(&b).await;

    // The server wants friendship before a direct chat.
    let direct = pb::CreateDirectRequest { user_id: bob.id.clone() };
    assert_eq!(
        refusal(a.call::<_, pb::CreateDirectResponse>("ConversationService/CreateDirect", &direct).await),
        (E::FailedPrecondition, "friendship_required".into())
    );
    let notes = pb::CreateDirectRequest { user_id: ann.id.clone() };
    let _: pb::CreateDirectResponse = call(&a, "ConversationService/CreateDirect", notes).await;

    let mut ann_ws = app.client(&ann, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 5, is_caught_up).await;
    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 5, is_caught_up).await;

    let sent = ask(&a, &bob.id, " we met at the choir ").await.unwrap();
    assert!(!sent.accepted);
    let e = wait_for(&mut bob_events, 5, |e| request_event(e).is_some()).await;
    assert_eq!(request_event(&e), Some((ann.id.clone(), bob.id.clone(), S::Sent)));
    wait_for(&mut ann_events, 5, |e| request_event(e).is_some()).await;
    let waiting = requests(&b, true).await;
    assert_eq!(waiting.requests.iter().map(|r| r.message.as_str()).collect::<Vec<_>>(), vec!["we met at the choir"]);
    assert_eq!(waiting.users[0].username, "ann");
    assert_eq!(requests(&a, false).await.requests.len(), 1);
    assert!(!ask(&a, &bob.id, "again?").await.unwrap().accepted, "the same request twice changes nothing");

    // Bob accepts: both logs, both contacts (mutual), and the direct chat may start.
    answer(&b, &ann.id, true).await.unwrap();
    let e = wait_for(&mut ann_events, 5, |e| request_event(e).is_some_and(|x| x.2 == S::Accepted)).await;
    assert_eq!(request_event(&e).unwrap().0, ann.id);
    wait_for(&mut ann_events, 5, |e| contact_event(e).is_some_and(|c| c.contact.as_ref().is_some_and(|x| x.mutual)))
        .await;
    assert!(list(&a, "", 10).await.contacts[0].mutual);
    let _: pb::CreateDirectResponse = call(&a, "ConversationService/CreateDirect", direct).await;
    assert!(requests(&b, true).await.requests.is_empty());
    assert_eq!(refusal(ask(&a, &bob.id, "").await), (E::FailedPrecondition, "already_friends".into()));
    assert_eq!(refusal(answer(&b, &ann.id, true).await).0, E::NotFound, "answered already");

    // Catch-up replays Bob's side once, in order.
    let diff: pb::GetDifferenceResponse =
        call(&b, "SyncService/GetDifference", pb::GetDifferenceRequest { user_seq: bob_from, ..Default::default() })
            .await;
    let states: Vec<_> = diff.events.iter().filter_map(request_event).map(|x| x.2).collect();
    assert_eq!(states, vec![S::Sent, S::Accepted]);

    // Crossing requests: Cat asks Bob, Bob asks Cat: that accepts Cat's.
    ask(&c, &bob.id, "").await.unwrap();
    assert!(ask(&b, &cat.id, "").await.unwrap().accepted);
    assert!(list(&c, "", 10).await.contacts[0].mutual);

    // Declining and cancelling; refusals.
    let dan = app.register("dan").await;
    let d = app.http(&dan).await;
    ask(&d, &ann.id, "").await.unwrap();
    answer(&a, &dan.id, false).await.unwrap();
    let e = wait_for(&mut ann_events, 5, |e| request_event(e).is_some_and(|x| x.2 == S::Rejected)).await;
    assert_eq!(request_event(&e).unwrap().0, dan.id);
    assert!(list(&d, "", 10).await.contacts.is_empty());
    ask(&d, &ann.id, "please?").await.unwrap();
    let r: pb::CancelFriendRequestResponse =
        call(&d, "ContactService/CancelFriendRequest", pb::CancelFriendRequestRequest { user_id: ann.id.clone() })
            .await;
    assert!(r.cancelled);
    wait_for(&mut ann_events, 5, |e| request_event(e).is_some_and(|x| x.2 == S::Cancelled)).await;
    assert!(requests(&a, true).await.requests.is_empty());
    assert_eq!(refusal(ask(&d, &dan.id, "").await).0, E::InvalidArgument, "oneself");
    assert_eq!(refusal(ask(&d, "99999", "").await).0, E::NotFound);
    assert_eq!(refusal(ask(&d, &ann.id, &"m".repeat(257)).await).0, E::InvalidArgument);
    assert_eq!(refusal(answer(&a, &dan.id, true).await).0, E::NotFound);
    app.stop().await;
}

#[tokio::test]
async fn friend_requests_waiting_are_limited() {
    let app = TestApp::spawn_with(|c| c.service.max_pending_friend_requests = 1).await;
    let (ann, bob, cat) = (app.register("ann").await, app.register("bob").await, app.register("cat").await);
    let a = app.http(&ann).await;
    ask(&a, &bob.id, "").await.unwrap();
    assert_eq!(refusal(ask(&a, &cat.id, "").await), (E::FailedPrecondition, "friend_request_limit".into()));
    app.stop().await;
}
