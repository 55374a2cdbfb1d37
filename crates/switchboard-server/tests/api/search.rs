//! Message search over the real API, on both stores: who finds what (a message from before
//! one joined a group that does not share history, a conversation one left, a deleted and
//! an edited message, another space), the filters, snippets, paging, every documented
//! refusal, the index status, and the rebuild command.

use switchboard_client::Client;
use switchboard_client::proto as pb;

use crate::files::upload_once;
use crate::helpers::*;
use crate::spaces::{call, create_space, invite, join};

const SEARCH: &str = "SearchService/SearchMessages";

fn q(query: &str) -> pb::SearchMessagesRequest {
    pb::SearchMessagesRequest { query: query.into(), ..Default::default() }
}

async fn search(c: &Client, req: pb::SearchMessagesRequest) -> pb::SearchMessagesResponse {
    call(c, SEARCH, req).await
}

async fn found(c: &Client, query: &str) -> Vec<String> {
    let mut texts: Vec<String> =
        search(c, q(query)).await.hits.iter().map(|h| text_of(h.message.as_ref().unwrap())).collect();
    texts.sort();
    texts
}

fn text_of(m: &pb::Message) -> String {
    match &m.content {
        Some(pb::message::Content::Text(t)) => t.text.clone(),
        _ => String::new(),
    }
}

async fn create(c: &Client, kind: pb::ConversationKind, title: &str, members: &[&TestUser], shared: bool) -> String {
    let visibility = if shared { pb::HistoryVisibility::Shared } else { pb::HistoryVisibility::SinceJoin };
    let r: pb::CreateConversationResponse = call(
        c,
        "ConversationService/CreateConversation",
        pb::CreateConversationRequest {
            kind: kind as i32,
            title: title.into(),
            member_ids: members.iter().map(|m| m.id.clone()).collect(),
            history_visibility: visibility as i32,
            ..Default::default()
        },
    )
    .await;
    conv_id(r.conversation.as_ref().unwrap())
}

/// The access rules, the same on every store.
async fn who_finds_what(app: &TestApp) {
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let (a, b, c) = (app.http(&ann).await, app.http(&bob).await, app.http(&cat).await);

    // A group that does not share history: cat, added later, finds only what came after.
    let closed = create(&a, pb::ConversationKind::Group, "closed", &[&bob], false).await;
    send(&a, &closed, "c1", "the pineapple plan before cat").await;
    let _: pb::AddMembersResponse = call(
        &a,
        "ConversationService/AddMembers",
        pb::AddMembersRequest { conversation_id: closed.clone(), user_ids: vec![cat.id.clone()] },
    )
    .await;
    send(&b, &closed, "c2", "the pineapple plan after cat joined").await;
    assert_eq!(found(&c, "pineapple").await, ["the pineapple plan after cat joined"]);
    assert_eq!(found(&b, "pineapple").await.len(), 2);

    // A group that shares history: a newcomer finds all of it.
    let open = create(&a, pb::ConversationKind::Group, "open", &[], true).await;
    send(&a, &open, "o1", "mango season is here").await;
    let _: pb::AddMembersResponse = call(
        &a,
        "ConversationService/AddMembers",
        pb::AddMembersRequest { conversation_id: open.clone(), user_ids: vec![cat.id.clone()] },
    )
    .await;
    assert_eq!(found(&c, "mango").await, ["mango season is here"]);

    // Leaving takes the conversation out of one's results; a stranger never had it.
    let _: pb::LeaveConversationResponse = call(
        &c,
        "ConversationService/LeaveConversation",
        pb::LeaveConversationRequest { conversation_id: open.clone() },
    )
    .await;
    assert!(found(&c, "mango").await.is_empty(), "left");
    let dave = app.register("dave").await;
    let d = app.http(&dave).await;
    assert!(found(&d, "mango").await.is_empty() && found(&d, "pineapple").await.is_empty(), "a stranger");
    let r = d
        .call::<_, pb::SearchMessagesResponse>(
            SEARCH,
            &pb::SearchMessagesRequest { conversation_id: open.clone(), ..q("mango") },
        )
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::NotFound, "naming a conversation one cannot read");

    // Deleted and edited messages show at once.
    let gone = send(&a, &open, "o2", "kiwi secret").await;
    let edited = send(&a, &open, "o3", "papaya typo").await;
    assert_eq!(found(&a, "kiwi").await.len(), 1);
    let _: pb::DeleteMessagesResponse = call(
        &a,
        "MessageService/DeleteMessages",
        pb::DeleteMessagesRequest { conversation_id: open.clone(), message_ids: vec![gone.id], for_everyone: true },
    )
    .await;
    assert!(found(&a, "kiwi").await.is_empty(), "deleted");
    let _: pb::EditMessageResponse = call(
        &a,
        "MessageService/EditMessage",
        pb::EditMessageRequest { conversation_id: open.clone(), message_id: edited.id, text: text("guava fixed") },
    )
    .await;
    assert!(found(&a, "papaya").await.is_empty());
    assert_eq!(found(&a, "guava").await, ["guava fixed"]);

    // Another space: its channels are found only by its members.
    let space = create_space(&b, "fruit club", false).await;
    send(&b, &space.default_channel_id, "s1", "durian tasting friday").await;
    assert!(found(&a, "durian").await.is_empty(), "not a member of that space");
    join(&a, &invite(&b, &space.id, 5).await).await;
    assert_eq!(found(&a, "durian").await, ["durian tasting friday"]);
    let spaces_only =
        search(&a, pb::SearchMessagesRequest { kinds: vec![pb::ConversationKind::Group as i32], ..q("durian") }).await;
    assert!(spaces_only.hits.is_empty(), "a kind filter leaves the space channel out");
    let channels =
        search(&a, pb::SearchMessagesRequest { kinds: vec![pb::ConversationKind::SpaceChannel as i32], ..q("durian") })
            .await;
    assert_eq!(channels.hits.len(), 1);
}

#[tokio::test]
async fn search_finds_only_what_the_reader_may_see() {
    let app = TestApp::spawn().await;
    who_finds_what(&app).await;
}

#[tokio::test]
async fn search_finds_only_what_the_reader_may_see_on_postgres() {
    let Some((app, schema)) = TestApp::spawn_postgres().await else { return };
    who_finds_what(&app).await;
    app.stop().await;
    schema.drop().await;
}

/// Filters, order, snippets with highlights, paging and every refusal.
#[tokio::test]
async fn search_filters_snippets_paging_and_refusals() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let g = create(&a, pb::ConversationKind::Group, "team", &[&bob], true).await;
    let first = send(&a, &g, "f1", "Réunion at the café").await;
    let long = format!("{} then the Cafe meeting {}", "padding ".repeat(40), "more ".repeat(40));
    send(&b, &g, "f2", &long).await;
    let r: pb::SendMessageResponse = call(
        &b,
        "MessageService/SendMessage",
        pb::SendMessageRequest {
            conversation_id: g.clone(),
            client_key: "f3".into(),
            text: Some(pb::TextContent {
                text: format!("@{} cafe tomorrow?", ann.username),
                entities: vec![pb::Entity {
                    kind: pb::EntityKind::Mention as i32,
                    offset: 0,
                    length: ann.username.chars().count() as u32 + 1,
                    user_id: ann.id.clone(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let mention = r.message.unwrap();
    let file = upload_once(&app, &ann, "menu.txt", b"soup of the day").await;
    let _: pb::SendMessageResponse = call(
        &a,
        "MessageService/SendMessage",
        pb::SendMessageRequest {
            conversation_id: g.clone(),
            client_key: "f4".into(),
            text: Some(pb::TextContent {
                text: "cafe menu attached".into(),
                attachments: vec![pb::Attachment {
                    file_id: file["id"].as_str().unwrap().into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;

    // Accents and case fold; the last word is a prefix; snippets mark the words.
    let all = search(&b, q("CAFE")).await;
    assert_eq!(all.hits.len(), 4);
    let hit = all.hits.iter().find(|h| h.message.as_ref().unwrap().id == first.id).unwrap();
    assert_eq!(hit.snippet, "Réunion at the café");
    let marked: Vec<String> = hit
        .highlights
        .iter()
        .map(|r| hit.snippet.chars().skip(r.offset as usize).take(r.length as usize).collect())
        .collect();
    assert_eq!(marked, ["café"]);
    let cut = all.hits.iter().find(|h| h.snippet.starts_with('…')).expect("a long message is cut around the match");
    let r = cut.highlights[0];
    assert_eq!(cut.snippet.chars().skip(r.offset as usize).take(r.length as usize).collect::<String>(), "Cafe");
    assert_eq!(search(&b, q("reun")).await.hits.len(), 1, "prefix of the last word");

    // Filters.
    let by_ann = search(&b, pb::SearchMessagesRequest { sender_id: ann.id.clone(), ..q("cafe") }).await;
    assert_eq!(by_ann.hits.len(), 2);
    let mentions = search(&a, pb::SearchMessagesRequest { mentions_me: true, ..q("cafe") }).await;
    assert_eq!(
        mentions.hits.iter().map(|h| h.message.as_ref().unwrap().id.clone()).collect::<Vec<_>>(),
        vec![mention.id.clone()]
    );
    let files = search(&b, pb::SearchMessagesRequest { has_attachments: true, ..q("cafe") }).await;
    assert_eq!(files.hits.len(), 1);
    assert!(files.hits[0].message.as_ref().map(text_of).unwrap().contains("menu"));
    let after = search(&b, pb::SearchMessagesRequest { since_ms: mention.created_at_ms, ..q("cafe") }).await;
    assert_eq!(after.hits.len(), 2, "from the mention on");
    let before = search(&b, pb::SearchMessagesRequest { until_ms: mention.created_at_ms, ..q("cafe") }).await;
    assert_eq!(before.hits.len(), 2);
    let one = search(&b, pb::SearchMessagesRequest { conversation_id: g.clone(), ..q("cafe") }).await;
    assert_eq!(one.hits.len(), 4);

    // Newest first, a page at a time.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = search(
            &b,
            pb::SearchMessagesRequest {
                order: pb::SearchOrder::Newest as i32,
                limit: 3,
                cursor: cursor.clone(),
                ..q("cafe")
            },
        )
        .await;
        seen.extend(page.hits.iter().map(|h| h.message.as_ref().unwrap().seq));
        if page.next_cursor.is_empty() {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(seen.len(), 4);
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first: {seen:?}");

    // Refusals.
    for bad in [q(""), q(" ,.!"), q(&"word ".repeat(11)), q(&"x".repeat(65))] {
        let r = b.call::<_, pb::SearchMessagesResponse>(SEARCH, &bad).await;
        assert_eq!(code_of(r), pb::ErrorCode::InvalidArgument, "{:?}", bad.query);
    }
    let odd = [
        pb::SearchMessagesRequest { cursor: "nope".into(), ..q("cafe") },
        pb::SearchMessagesRequest { cursor: "5000".into(), ..q("cafe") },
        pb::SearchMessagesRequest { kinds: vec![pb::ConversationKind::Space as i32], ..q("cafe") },
        pb::SearchMessagesRequest { since_ms: 10, until_ms: 5, ..q("cafe") },
        pb::SearchMessagesRequest { since_ms: -1, ..q("cafe") },
        pb::SearchMessagesRequest { sender_id: "x".into(), ..q("cafe") },
    ];
    for bad in odd {
        let r = b.call::<_, pb::SearchMessagesResponse>(SEARCH, &bad).await;
        assert_eq!(code_of(r), pb::ErrorCode::InvalidArgument, "{bad:?}");
    }
    // An order this server does not know (protobuf carries any number; JSON only names).
    let grpc = app.client(&bob, switchboard_client::Transport::Grpc).await;
    let r =
        grpc.call::<_, pb::SearchMessagesResponse>(SEARCH, &pb::SearchMessagesRequest { order: 9, ..q("cafe") }).await;
    assert_eq!(code_of(r), pb::ErrorCode::InvalidArgument);

    // The index status is for administrators.
    let r = b
        .call::<_, pb::GetSearchIndexStatusResponse>(
            "AdminService/GetSearchIndexStatus",
            &pb::GetSearchIndexStatusRequest {},
        )
        .await;
    assert_eq!(code_of(r), pb::ErrorCode::PermissionDenied);
    let admin = app.admin("root").await;
    let s: pb::GetSearchIndexStatusResponse =
        call(&app.http(&admin).await, "AdminService/GetSearchIndexStatus", pb::GetSearchIndexStatusRequest {}).await;
    assert_eq!((s.backlog, s.indexed_upto_message_id.clone()), (0, s.newest_message_id.clone()));
}
