//! The people of a space: members' profiles inside it (nickname, title, status) and
//! mentions of its roles.

use switchboard_client::proto as pb;
use switchboard_client::{Client, ClientError, Transport};

use crate::helpers::*;
use crate::spaces::{assign, call, create_role, create_space, invite, join};

/// A member's nickname, title and status inside a space: set by the member (title by
/// managers only), shown wherever members are listed, and told to the space live.
#[tokio::test]
async fn space_member_profiles_are_set_by_the_right_people_and_listed() {
    let app = TestApp::spawn().await;
    let [ann, bob] = [app.register("ann").await, app.register("bob").await];
    let (a, b) = (app.client(&ann, Transport::Http).await, app.client(&bob, Transport::Grpc).await);
    let space = create_space(&a, "Studio", false).await;
    join(&b, &invite(&a, &space.id, 0).await).await;
    let mut ann_ws = app.client(&ann, Transport::WsJson).await;
    let mut events = ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 10, is_caught_up).await;

    let update = |user: &str, nickname: Option<&str>, title: Option<&str>, status: Option<&str>| {
        pb::UpdateSpaceMemberProfileRequest {
            space_id: space.id.clone(),
            user_id: user.to_owned(),
            nickname: nickname.map(str::to_owned),
            title: title.map(str::to_owned),
            status: status.map(str::to_owned),
        }
    };
    let method = "SpaceService/UpdateSpaceMemberProfile";
    let r: pb::UpdateSpaceMemberProfileResponse =
        call(&b, method, update("", Some("Bobby"), None, Some("drawing"))).await;
    let m = r.member.unwrap();
    assert_eq!((m.nickname.as_str(), m.status.as_str(), m.title.as_str()), ("Bobby", "drawing", ""));
    let e = wait_for(&mut events, 10, |e| match &e.kind {
        Some(pb::event::Kind::MessageCreated(m)) => matches!(&m.content,
            Some(pb::message::Content::Service(s)) if s.action() == pb::ServiceAction::MemberProfileChanged),
        _ => false,
    })
    .await;
    assert_eq!(e.conversation_id, space.id, "told in the space's log");

    // A title is for managers; nobody edits someone ranking at or above them.
    let own_title =
        b.call::<_, pb::UpdateSpaceMemberProfileResponse>(method, &update("", None, Some("Boss"), None)).await;
    assert_eq!(code_of(own_title), pb::ErrorCode::PermissionDenied);
    let anns = b.call::<_, pb::UpdateSpaceMemberProfileResponse>(method, &update(&ann.id, Some("x"), None, None)).await;
    assert_eq!(code_of(anns), pb::ErrorCode::PermissionDenied);
    let long = "n".repeat(65);
    let e = b
        .call::<_, pb::UpdateSpaceMemberProfileResponse>(method, &update("", Some(&long), None, None))
        .await
        .unwrap_err();
    assert_eq!((e.code, e.field.as_str()), (pb::ErrorCode::InvalidArgument, "nickname"));
    let _: pb::UpdateSpaceMemberProfileResponse =
        call(&a, method, update(&bob.id, None, Some("Illustrator"), None)).await;

    // Listed with the members and on the member card.
    let list: pb::ListSpaceMembersResponse = call(
        &a,
        "SpaceService/ListSpaceMembers",
        pb::ListSpaceMembersRequest { space_id: space.id.clone(), ..Default::default() },
    )
    .await;
    let bobs = list.members.iter().find(|m| m.user_id == bob.id).unwrap();
    assert_eq!(
        (bobs.nickname.as_str(), bobs.title.as_str(), bobs.status.as_str()),
        ("Bobby", "Illustrator", "drawing")
    );
    let card: pb::GetMemberCardResponse = call(
        &a,
        "SpaceService/GetMemberCard",
        pb::GetMemberCardRequest { space_id: space.id.clone(), user_id: bob.id.clone() },
    )
    .await;
    assert_eq!(card.member.unwrap().title, "Illustrator");
    // Clearing with an empty string.
    let r: pb::UpdateSpaceMemberProfileResponse = call(&b, method, update("", Some(""), None, None)).await;
    assert_eq!(r.member.unwrap().nickname, "");
    app.stop().await;
}

fn role_mention(role_id: &str, text_len: u32) -> pb::Entity {
    pb::Entity {
        kind: pb::EntityKind::MentionRole as i32,
        offset: 0,
        length: text_len,
        user_id: String::new(),
        url: String::new(),
        role_id: role_id.into(),
        ..Default::default()
    }
}

async fn send_mentioning(c: &Client, channel: &str, key: &str, role_id: &str) -> Result<(), ClientError> {
    let req = pb::SendMessageRequest {
        conversation_id: channel.into(),
        client_key: key.into(),
        text: Some(pb::TextContent {
            text: "@role look".into(),
            entities: vec![role_mention(role_id, 5)],
            ..Default::default()
        }),
        ..Default::default()
    };
    c.call::<_, pb::SendMessageResponse>("MessageService/SendMessage", &req).await.map(|_| ())
}

/// Mentioning a role gives its holders in the channel mention counters; it needs
/// mention-everyone unless the role is mentionable.
#[tokio::test]
async fn a_role_mention_counts_for_its_holders_and_needs_the_right_unless_mentionable() {
    let app = TestApp::spawn().await;
    let [ann, bob, carol, dan] =
        [app.register("ann").await, app.register("bob").await, app.register("carol").await, app.register("dan").await];
    let a = app.client(&ann, Transport::Http).await;
    let space = create_space(&a, "Guild", false).await;
    let channel = space.default_channel_id.clone();
    for u in [&bob, &carol, &dan] {
        join(&app.client(u, Transport::Http).await, &invite(&a, &space.id, 0).await).await;
    }
    let mods = create_role(&a, &space.id, "mods", 5, &[], &[]).await;
    assign(&a, &space.id, &carol, &mods.id).await;
    let mentions_of = |u: &TestUser| {
        let (app, channel) = (&app, channel.clone());
        let u = u.clone();
        async move { view(&app.http(&u).await, &channel).await.mention_count }
    };

    // Bob holds no mention-everyone: the role is not his to mention yet.
    let b = app.client(&bob, Transport::Grpc).await;
    let denied = send_mentioning(&b, &channel, "b1", &mods.id).await.unwrap_err();
    assert_eq!(denied.code, pb::ErrorCode::PermissionDenied);
    // The owner may: Carol, who holds it, is mentioned; Dan is not.
    send_mentioning(&a, &channel, "a1", &mods.id).await.unwrap();
    assert_eq!((mentions_of(&carol).await, mentions_of(&dan).await), (1, 0));
    // Made mentionable, anyone who may post mentions it.
    let _: pb::UpdateRoleResponse = call(
        &a,
        "SpaceService/UpdateRole",
        pb::UpdateRoleRequest {
            space_id: space.id.clone(),
            role_id: mods.id.clone(),
            mentionable: Some(true),
            ..Default::default()
        },
    )
    .await;
    send_mentioning(&b, &channel, "b2", &mods.id).await.unwrap();
    assert_eq!((mentions_of(&carol).await, mentions_of(&dan).await), (2, 0));
    // Unknown roles and role mentions outside space channels are refused.
    let e = send_mentioning(&a, &channel, "a2", "999").await.unwrap_err();
    assert_eq!((e.code, e.field.as_str()), (pb::ErrorCode::InvalidArgument, "entities"));
    let g = group(&a, pb::ConversationKind::Group, "Plain", &[&bob]).await;
    let e = send_mentioning(&a, &conv_id(&g), "a3", &mods.id).await.unwrap_err();
    assert_eq!((e.code, e.field.as_str()), (pb::ErrorCode::InvalidArgument, "entities"));
    app.stop().await;
}
