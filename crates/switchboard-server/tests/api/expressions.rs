//! Sticker packs and custom emoji end to end: who may make them, who sees them, sending a
//! sticker and using custom emoji in text and reactions, seen by a second member live and
//! through catch-up, and every documented refusal with its code and reason.

use switchboard_client::proto as pb;
use switchboard_client::{Client, ClientError, Transport};

use crate::helpers::*;
use crate::spaces::{assign, call, create_role, create_space, invite, join};

use pb::ErrorCode as E;

fn png(shade: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([x as u8 * 8, y as u8 * 8, shade]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Uploads a PNG in one request (public or not); returns its id.
async fn upload(app: &TestApp, user: &TestUser, public: bool, shade: u8) -> String {
    let path = format!("/v1/files?name=s{shade}.png&public={public}");
    let r = http_raw(&app.addr, "POST", &path, &[("Authorization", &bearer(user))], &png(shade)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["id"].as_str().unwrap().to_owned()
}

fn refusal<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (pb::ErrorCode, String) {
    let e = r.expect_err("expected a refusal");
    (e.code, e.reason)
}

async fn new_pack(c: &Client, space: &str, name: &str) -> Result<pb::StickerPack, ClientError> {
    let req = pb::CreateStickerPackRequest { space_id: space.into(), name: name.into() };
    c.call::<_, pb::CreateStickerPackResponse>("ExpressionService/CreateStickerPack", &req)
        .await
        .map(|r| r.pack.unwrap())
}

async fn add_sticker(c: &Client, pack: &str, file: &str, emoji: &str) -> Result<pb::AddStickerResponse, ClientError> {
    let req = pb::AddStickerRequest { pack_id: pack.into(), file_id: file.into(), emoji: emoji.into() };
    c.call("ExpressionService/AddSticker", &req).await
}

async fn get_pack(c: &Client, pack: &str) -> Result<pb::StickerPack, ClientError> {
    let req = pb::GetStickerPackRequest { pack_id: pack.into() };
    c.call::<_, pb::GetStickerPackResponse>("ExpressionService/GetStickerPack", &req).await.map(|r| r.pack.unwrap())
}

async fn packs(c: &Client, space: &str) -> Result<Vec<pb::StickerPack>, ClientError> {
    let req = pb::ListStickerPacksRequest { space_id: space.into() };
    c.call::<_, pb::ListStickerPacksResponse>("ExpressionService/ListStickerPacks", &req).await.map(|r| r.packs)
}

fn sticker_req(conv: &str, key: &str, pack: &str, sticker: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: conv.into(),
        client_key: key.into(),
        sticker_pack_id: pack.into(),
        sticker_id: sticker.into(),
        ..Default::default()
    }
}

async fn try_send(c: &Client, req: pb::SendMessageRequest) -> Result<pb::Message, ClientError> {
    c.call::<_, pb::SendMessageResponse>("MessageService/SendMessage", &req).await.map(|r| r.message.unwrap())
}

fn sticker_of(m: &pb::Message) -> Option<&pb::StickerContent> {
    match m.content.as_ref()? {
        pb::message::Content::Sticker(s) => Some(s),
        _ => None,
    }
}

fn created(e: &pb::Event) -> Option<&pb::Message> {
    match e.kind.as_ref()? {
        pb::event::Kind::MessageCreated(m) => Some(m),
        _ => None,
    }
}

async fn history(c: &Client, conv: &str) -> Vec<pb::Message> {
    let req = pb::GetHistoryRequest { conversation_id: conv.into(), limit: 50, ..Default::default() };
    let r: pb::GetHistoryResponse = call(c, "MessageService/GetHistory", req).await;
    r.messages
}

async fn difference(c: &Client, conv: &str, after: u64) -> Vec<pb::Event> {
    let req = pb::GetDifferenceRequest {
        positions: vec![pb::ConversationPosition { conversation_id: conv.into(), seq: after }],
        ..Default::default()
    };
    let r: pb::GetDifferenceResponse = call(c, "SyncService/GetDifference", req).await;
    r.events.into_iter().filter(|e| e.conversation_id == conv).collect()
}

/// A space with its owner `a` and a member `b` (joined by invite); returns its id and
/// its general channel.
async fn space_of_two(a: &Client, b: &Client, name: &str) -> (String, String) {
    let space = create_space(a, name, false).await;
    join(b, &invite(a, &space.id, 0).await).await;
    (space.id.clone(), space.default_channel_id.clone())
}

#[tokio::test]
async fn sticker_packs_are_made_by_admins_and_space_managers_and_stickers_go_out_as_messages() {
    let app = TestApp::spawn_with(|c| {
        c.service.expressions.max_stickers_per_pack = 2;
        c.service.expressions.max_sticker_packs = 2;
    })
    .await;
    let root = app.admin("root").await;
    let (ann, bob, cat, dan) =
        (app.register("ann").await, app.register("bob").await, app.register("cat").await, app.register("dan").await);
    let (r, a, b, c, d) =
        (app.http(&root).await, app.http(&ann).await, app.http(&bob).await, app.http(&cat).await, app.http(&dan).await);

    // Server-wide packs: administrators only.
    assert_eq!(refusal(new_pack(&a, "", "Mine").await).0, E::PermissionDenied);
    assert_eq!(refusal(new_pack(&r, "", " ").await).0, E::InvalidArgument, "a blank name");
    let classics = new_pack(&r, "", "  Classics ").await.unwrap();
    assert_eq!((classics.name.as_str(), classics.space_id.as_str(), classics.version), ("Classics", "", 1));
    let image = upload(&app, &root, true, 10).await;
    assert_eq!(refusal(add_sticker(&r, &classics.id, &image, "cat").await).0, E::InvalidArgument, "not an emoji");
    let private = upload(&app, &root, false, 11).await;
    assert_eq!(
        refusal(add_sticker(&r, &classics.id, &private, "😺").await),
        (E::InvalidArgument, "sticker_not_public_image".into())
    );
    let anns = upload(&app, &ann, true, 12).await;
    assert_eq!(refusal(add_sticker(&r, &classics.id, &anns, "😺").await).0, E::NotFound, "only one's own uploads");
    let added = add_sticker(&r, &classics.id, &image, "😺").await.unwrap();
    let pack = added.pack.unwrap();
    assert_eq!((pack.stickers.len(), pack.version), (1, 2));
    assert_eq!(pack.stickers[0].id, added.sticker_id);
    assert_eq!(pack.stickers[0].file.as_ref().map(|f| f.id.as_str()), Some(image.as_str()), "the image is filled");
    let cat_sticker = added.sticker_id;
    add_sticker(&r, &classics.id, &upload(&app, &root, true, 13).await, "👍").await.unwrap();
    assert_eq!(
        refusal(add_sticker(&r, &classics.id, &upload(&app, &root, true, 14).await, "👎").await),
        (E::FailedPrecondition, "sticker_limit".into()),
        "service.expressions.max_stickers_per_pack"
    );
    assert_eq!(
        packs(&d, "").await.unwrap().iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        vec![classics.id.as_str()]
    );

    // A space's packs: members with manage_expressions make them; outsiders never see them.
    let (space, general) = space_of_two(&a, &b, "crafts").await;
    join(&c, &invite(&a, &space, 0).await).await;
    assert_eq!(refusal(new_pack(&b, &space, "Bob's").await).0, E::PermissionDenied);
    let role = create_role(&a, &space, "artists", 1, &[pb::Permission::ManageExpressions], &[]).await;
    assign(&a, &space, &cat, &role.id).await;
    let knits = new_pack(&c, &space, "Knits").await.unwrap();
    assert_eq!(knits.space_id, space);
    let yarn = add_sticker(&c, &knits.id, &upload(&app, &cat, true, 20).await, "🧶").await.unwrap().sticker_id;
    assert_eq!(refusal(new_pack(&d, &space, "Dan's").await).0, E::NotFound, "outsiders do not see the space");
    assert_eq!(refusal(get_pack(&d, &knits.id).await).0, E::NotFound);
    assert_eq!(refusal(packs(&d, &space).await).0, E::NotFound);
    assert_eq!(refusal(add_sticker(&d, &knits.id, &upload(&app, &dan, true, 21).await, "🧶").await).0, E::NotFound);
    assert_eq!(
        refusal(add_sticker(&b, &knits.id, &upload(&app, &bob, true, 22).await, "🧶").await).0,
        E::PermissionDenied
    );
    assert_eq!(packs(&b, &space).await.unwrap()[0].stickers.len(), 1);
    new_pack(&a, &space, "Second").await.unwrap();
    assert_eq!(
        refusal(new_pack(&a, &space, "Third").await),
        (E::FailedPrecondition, "sticker_pack_limit".into()),
        "service.expressions.max_sticker_packs"
    );
    let renamed: pb::RenameStickerPackResponse = call(
        &c,
        "ExpressionService/RenameStickerPack",
        pb::RenameStickerPackRequest { pack_id: knits.id.clone(), name: "Knitting".into() },
    )
    .await;
    assert_eq!(renamed.pack.as_ref().map(|p| (p.name.as_str(), p.version)), Some(("Knitting", 3)));

    // Sending: bob watches live; the sticker arrives with its image, and again in history
    // and through catch-up.
    let before = view(&b, &general).await.conversation.unwrap().last_seq;
    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut events = bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;
    let sent = try_send(&a, sticker_req(&general, "st1", &classics.id, &cat_sticker)).await.unwrap();
    let s = sticker_of(&sent).expect("a sticker message");
    assert_eq!(
        (s.pack_id.as_str(), s.sticker_id.as_str(), s.emoji.as_str()),
        (classics.id.as_str(), cat_sticker.as_str(), "😺")
    );
    assert_eq!(s.file.as_ref().map(|f| f.id.as_str()), Some(image.as_str()));
    let e = wait_for(&mut events, 5, |e| created(e).is_some_and(|m| m.id == sent.id)).await;
    let live = sticker_of(created(&e).unwrap()).unwrap();
    assert_eq!((live.emoji.as_str(), live.file.is_some()), ("😺", true));
    let knit_msg = try_send(&a, sticker_req(&general, "st2", &knits.id, &yarn)).await.unwrap();
    let seen = history(&b, &general).await;
    assert!(seen.iter().any(|m| m.id == sent.id && sticker_of(m).is_some_and(|s| s.file.is_some())));
    let replayed = difference(&b, &general, before).await;
    assert!(replayed.iter().filter_map(created).any(|m| m.id == knit_msg.id && sticker_of(m).is_some()));
    let counted = view(&b, &general).await;
    assert_eq!(counted.unread_count, 2, "stickers count as messages");

    // Refusals.
    let g = group(&a, pb::ConversationKind::Group, "elsewhere", &[&bob]).await;
    let elsewhere = conv_id(&g);
    assert_eq!(
        refusal(try_send(&a, sticker_req(&elsewhere, "st3", &knits.id, &yarn)).await),
        (E::InvalidArgument, "sticker_elsewhere".into()),
        "a space's stickers stay in the space"
    );
    try_send(&a, sticker_req(&elsewhere, "st4", &classics.id, &cat_sticker)).await.expect("server-wide goes anywhere");
    let mut with_text = sticker_req(&general, "st5", &classics.id, &cat_sticker);
    with_text.text = text("hello");
    assert_eq!(refusal(try_send(&a, with_text).await).0, E::InvalidArgument, "a sticker is sent alone");
    let half = pb::SendMessageRequest { sticker_id: cat_sticker.clone(), ..sticker_req(&general, "st6", "", "") };
    assert_eq!(refusal(try_send(&a, half).await).0, E::InvalidArgument, "both ids");
    assert_eq!(refusal(try_send(&a, sticker_req(&general, "st7", &classics.id, "12345")).await).0, E::NotFound);
    let edit =
        pb::EditMessageRequest { conversation_id: general.clone(), message_id: sent.id.clone(), text: text("x") };
    assert_eq!(
        refusal(a.call::<_, pb::EditMessageResponse>("MessageService/EditMessage", &edit).await),
        (E::FailedPrecondition, "sticker_not_editable".into())
    );

    // Removing a sticker or its pack leaves the messages that carry it as they were.
    let req = pb::RemoveStickerRequest { pack_id: classics.id.clone(), sticker_id: cat_sticker.clone() };
    let left: pb::RemoveStickerResponse = call(&r, "ExpressionService/RemoveSticker", req.clone()).await;
    assert_eq!(left.pack.unwrap().stickers.len(), 1);
    assert_eq!(
        refusal(r.call::<_, pb::RemoveStickerResponse>("ExpressionService/RemoveSticker", &req).await).0,
        E::NotFound
    );
    assert_eq!(refusal(try_send(&a, sticker_req(&general, "st8", &classics.id, &cat_sticker)).await).0, E::NotFound);
    let del = pb::DeleteStickerPackRequest { pack_id: knits.id.clone() };
    assert_eq!(
        refusal(b.call::<_, pb::DeleteStickerPackResponse>("ExpressionService/DeleteStickerPack", &del).await).0,
        E::PermissionDenied
    );
    let _: pb::DeleteStickerPackResponse = call(&c, "ExpressionService/DeleteStickerPack", del).await;
    assert_eq!(refusal(get_pack(&b, &knits.id).await).0, E::NotFound);
    let kept = history(&b, &general).await;
    for id in [&sent.id, &knit_msg.id] {
        let m = kept.iter().find(|m| &m.id == id).unwrap();
        assert!(sticker_of(m).is_some_and(|s| s.file.is_some()), "still shown after removal");
    }
    app.stop().await;
}

fn emoji_entity(offset: u32, length: u32, id: &str) -> pb::Entity {
    pb::Entity {
        kind: pb::EntityKind::CustomEmoji as i32,
        offset,
        length,
        custom_emoji_id: id.into(),
        ..Default::default()
    }
}

fn with_emoji(conv: &str, key: &str, body: &str, entities: Vec<pb::Entity>) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: conv.into(),
        client_key: key.into(),
        text: Some(pb::TextContent { text: body.into(), entities, ..Default::default() }),
        ..Default::default()
    }
}

async fn add_emoji(c: &Client, space: &str, name: &str, file: &str) -> Result<pb::CustomEmoji, ClientError> {
    let req = pb::AddCustomEmojiRequest { space_id: space.into(), name: name.into(), file_id: file.into() };
    c.call::<_, pb::AddCustomEmojiResponse>("ExpressionService/AddCustomEmoji", &req).await.map(|r| r.emoji.unwrap())
}

async fn list_emoji(c: &Client, space: &str) -> Result<Vec<pb::CustomEmoji>, ClientError> {
    let req = pb::ListCustomEmojiRequest { space_id: space.into() };
    c.call::<_, pb::ListCustomEmojiResponse>("ExpressionService/ListCustomEmoji", &req).await.map(|r| r.emoji)
}

fn custom_reaction(conv: &str, msg: &str, emoji: &str, custom: &str) -> pb::AddReactionRequest {
    pb::AddReactionRequest {
        conversation_id: conv.into(),
        message_id: msg.into(),
        emoji: emoji.into(),
        custom_emoji_id: custom.into(),
    }
}

fn reactions(m: &pb::Message) -> Vec<(String, String, u32, bool)> {
    m.reactions.iter().map(|r| (r.emoji.clone(), r.custom_emoji_id.clone(), r.count, r.mine)).collect()
}

fn changed(e: &pb::Event) -> Option<&pb::ReactionChanged> {
    match e.kind.as_ref()? {
        pb::event::Kind::ReactionChanged(r) => Some(r),
        _ => None,
    }
}

#[tokio::test]
async fn custom_emoji_of_a_space_show_in_its_text_and_reactions() {
    let app = TestApp::spawn_with(|c| c.service.expressions.max_custom_emoji_per_space = 2).await;
    let (ann, bob, dan) = (app.register("ann").await, app.register("bob").await, app.register("dan").await);
    let (a, b, d) = (app.http(&ann).await, app.http(&bob).await, app.http(&dan).await);
    let info: pb::GetServerInfoResponse =
        call(&d, "ServerService/GetServerInfo", pb::GetServerInfoRequest::default()).await;
    let limits = info.limits.unwrap();
    assert_eq!((limits.max_custom_emoji_per_space, limits.max_stickers_per_pack), (2, 120));

    let (space, general) = space_of_two(&a, &b, "birds").await;
    let parrot_file = upload(&app, &ann, true, 30).await;
    assert_eq!(refusal(add_emoji(&a, &space, "Parrot!", &parrot_file).await).0, E::InvalidArgument);
    assert_eq!(
        refusal(add_emoji(&a, &space, "parrot", &upload(&app, &ann, false, 31).await).await),
        (E::InvalidArgument, "emoji_not_public_image".into())
    );
    assert_eq!(
        refusal(add_emoji(&b, &space, "bobs", &upload(&app, &bob, true, 32).await).await).0,
        E::PermissionDenied,
        "manage_expressions"
    );
    assert_eq!(refusal(add_emoji(&d, &space, "dans", &upload(&app, &dan, true, 33).await).await).0, E::NotFound);
    let parrot = add_emoji(&a, &space, ":parrot:", &parrot_file).await.unwrap();
    assert_eq!((parrot.name.as_str(), parrot.space_id.as_str()), ("parrot", space.as_str()));
    assert_eq!(refusal(add_emoji(&a, &space, "parrot", &upload(&app, &ann, true, 34).await).await).0, E::AlreadyExists);
    add_emoji(&a, &space, "owl", &upload(&app, &ann, true, 35).await).await.unwrap();
    assert_eq!(
        refusal(add_emoji(&a, &space, "crow", &upload(&app, &ann, true, 36).await).await),
        (E::FailedPrecondition, "custom_emoji_limit".into())
    );
    let listed = list_emoji(&b, &space).await.unwrap();
    assert_eq!(listed.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), vec!["parrot", "owl"]);
    assert_eq!(listed[0].file.as_ref().map(|f| f.id.as_str()), Some(parrot_file.as_str()));
    assert_eq!(refusal(list_emoji(&d, &space).await).0, E::NotFound);

    // In text: bob sees the entity live.
    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut events = bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;
    let sent =
        try_send(&a, with_emoji(&general, "e1", "hi :parrot:", vec![emoji_entity(3, 8, &parrot.id)])).await.unwrap();
    let e = wait_for(&mut events, 5, |e| created(e).is_some_and(|m| m.id == sent.id)).await;
    let Some(pb::message::Content::Text(t)) = &created(&e).unwrap().content else { panic!("text") };
    assert_eq!(t.entities[0].custom_emoji_id, parrot.id);
    assert_eq!(t.entities[0].kind, pb::EntityKind::CustomEmoji as i32);

    // Refused: no id, an id of no emoji here, outside a space.
    let no_id = pb::Entity { custom_emoji_id: String::new(), ..emoji_entity(0, 2, "") };
    assert_eq!(refusal(try_send(&a, with_emoji(&general, "e2", "hi", vec![no_id])).await).0, E::InvalidArgument);
    assert_eq!(
        refusal(try_send(&a, with_emoji(&general, "e3", "hi", vec![emoji_entity(0, 2, "777")])).await),
        (E::InvalidArgument, "custom_emoji_elsewhere".into())
    );
    let g = group(&a, pb::ConversationKind::Group, "flock", &[&bob]).await;
    let outside = conv_id(&g);
    assert_eq!(
        refusal(try_send(&a, with_emoji(&outside, "e4", "hi :parrot:", vec![emoji_entity(3, 8, &parrot.id)])).await),
        (E::InvalidArgument, "custom_emoji_elsewhere".into())
    );
    let edit = pb::EditMessageRequest {
        conversation_id: general.clone(),
        message_id: sent.id.clone(),
        text: Some(pb::TextContent {
            text: "yo".into(),
            entities: vec![emoji_entity(0, 2, "777")],
            ..Default::default()
        }),
    };
    assert_eq!(
        refusal(a.call::<_, pb::EditMessageResponse>("MessageService/EditMessage", &edit).await).1,
        "custom_emoji_elsewhere",
        "edits are checked too"
    );

    // In reactions: bob reacts with the parrot; ann's answer and history carry it.
    let mut ann_ws = app.client(&ann, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 5, is_caught_up).await;
    let r: pb::AddReactionResponse =
        call(&b, "MessageService/AddReaction", custom_reaction(&general, &sent.id, "", &parrot.id)).await;
    assert_eq!(reactions(&r.message.unwrap()), vec![(String::new(), parrot.id.clone(), 1, true)]);
    let e = wait_for(&mut ann_events, 5, |e| changed(e).is_some()).await;
    let ch = changed(&e).unwrap();
    assert_eq!((ch.emoji.as_str(), ch.custom_emoji_id.as_str(), ch.added), ("", parrot.id.as_str(), true));
    let seen = history(&a, &general).await.into_iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(reactions(&seen), vec![(String::new(), parrot.id.clone(), 1, false)]);
    let who: pb::ListReactionsResponse = call(
        &a,
        "MessageService/ListReactions",
        pb::ListReactionsRequest {
            conversation_id: general.clone(),
            message_id: sent.id.clone(),
            custom_emoji_id: parrot.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        who.reactors.iter().map(|x| (x.user_id.as_str(), x.custom_emoji_id.as_str())).collect::<Vec<_>>(),
        vec![(bob.id.as_str(), parrot.id.as_str())]
    );
    for (bad, why) in [
        (custom_reaction(&general, &sent.id, "👍", &parrot.id), "both"),
        (custom_reaction(&general, &sent.id, "", ""), "neither"),
    ] {
        assert_eq!(
            refusal(b.call::<_, pb::AddReactionResponse>("MessageService/AddReaction", &bad).await).0,
            E::InvalidArgument,
            "{why}"
        );
    }
    let (other, _) = space_of_two(&a, &b, "fish").await;
    let fish = add_emoji(&a, &other, "fish", &upload(&app, &ann, true, 40).await).await.unwrap();
    let foreign = custom_reaction(&general, &sent.id, "", &fish.id);
    assert_eq!(
        refusal(b.call::<_, pb::AddReactionResponse>("MessageService/AddReaction", &foreign).await),
        (E::InvalidArgument, "custom_emoji_elsewhere".into())
    );

    // Removing the emoji keeps the reaction; it can be taken back but not given again.
    let rm = pb::RemoveCustomEmojiRequest { space_id: space.clone(), custom_emoji_id: parrot.id.clone() };
    assert_eq!(
        refusal(b.call::<_, pb::RemoveCustomEmojiResponse>("ExpressionService/RemoveCustomEmoji", &rm).await).0,
        E::PermissionDenied
    );
    let _: pb::RemoveCustomEmojiResponse = call(&a, "ExpressionService/RemoveCustomEmoji", rm.clone()).await;
    assert_eq!(
        refusal(a.call::<_, pb::RemoveCustomEmojiResponse>("ExpressionService/RemoveCustomEmoji", &rm).await).0,
        E::NotFound
    );
    assert_eq!(list_emoji(&a, &space).await.unwrap().len(), 1);
    let still = history(&a, &general).await.into_iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(reactions(&still).len(), 1, "reactions with a removed emoji stay");
    let again = custom_reaction(&general, &sent.id, "", &parrot.id);
    let take_back = pb::RemoveReactionRequest {
        conversation_id: general.clone(),
        message_id: sent.id.clone(),
        custom_emoji_id: parrot.id.clone(),
        ..Default::default()
    };
    let r: pb::RemoveReactionResponse = call(&b, "MessageService/RemoveReaction", take_back).await;
    assert!(r.message.unwrap().reactions.is_empty());
    assert_eq!(
        refusal(b.call::<_, pb::AddReactionResponse>("MessageService/AddReaction", &again).await).1,
        "custom_emoji_elsewhere",
        "a removed emoji cannot be used again"
    );
    app.stop().await;
}
