//! Privacy settings end to end, as a matrix: one owner with a rule for every setting, and
//! viewers of every standing (a contact, a friend, a stranger, someone on an allow list,
//! a contact on a deny list, a blocked contact) trying every operation a setting governs.

use switchboard_client::proto as pb;
use switchboard_client::{Client, ClientError, Transport};

use crate::blocks::{direct, new_group, try_send};
use crate::helpers::*;
use crate::spaces::call;

use pb::{Audience as A, ErrorCode as E, PrivacySetting as S};

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(32, 32, |x, y| image::Rgb([x as u8 * 8, y as u8 * 8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn rule(setting: S, audience: A, allow: &[&TestUser], deny: &[&TestUser]) -> pb::PrivacyRule {
    pb::PrivacyRule {
        setting: setting as i32,
        audience: audience as i32,
        allow_user_ids: allow.iter().map(|u| u.id.clone()).collect(),
        deny_user_ids: deny.iter().map(|u| u.id.clone()).collect(),
    }
}

async fn update(c: &Client, rules: Vec<pb::PrivacyRule>) -> Result<pb::UpdatePrivacySettingsResponse, ClientError> {
    c.call("UserService/UpdatePrivacySettings", &pb::UpdatePrivacySettingsRequest { rules }).await
}

fn refused<T: std::fmt::Debug>(r: Result<T, ClientError>) -> bool {
    match r {
        Ok(_) => false,
        Err(e) => {
            assert_eq!((e.code, e.reason.as_str()), (E::PermissionDenied, "not_reachable"), "{}", e.message);
            true
        }
    }
}

async fn profile(c: &Client, id: &str) -> pb::User {
    let r: pb::GetUsersResponse =
        call(c, "UserService/GetUsers", pb::GetUsersRequest { user_ids: vec![id.into()] }).await;
    r.users.into_iter().next().expect("the profile")
}

/// One viewer's standing and what each setting lets them do.
struct Viewer {
    user: TestUser,
    dm: bool,
    groups: bool,
    presence: bool,
    photo: bool,
    bio: bool,
    search: bool,
}

#[tokio::test]
async fn every_setting_lets_in_exactly_whom_its_rule_says() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let a = app.http(&ann).await;
    let names = ["con", "fri", "str", "alw", "den", "blk"];
    let mut users = Vec::new();
    for n in names {
        users.push(app.register(n).await);
    }
    let [con, fri, stranger, alw, den, blk] = <[TestUser; 6]>::try_from(users).ok().unwrap();
    // Ann's contacts: con, den, blk and fri (who has her too: friends).
    for u in [&con, &fri, &den, &blk] {
        let req = pb::AddContactRequest { user_id: u.id.clone(), ..Default::default() };
        let _: pb::AddContactResponse = call(&a, "ContactService/AddContact", req).await;
    }
    let f = app.http(&fri).await;
    let req = pb::AddContactRequest { user_id: ann.id.clone(), ..Default::default() };
    let _: pb::AddContactResponse = call(&f, "ContactService/AddContact", req).await;
    // A photo and a bio to hide.
    let path = "/v1/files?name=me.png&public=true";
    let up = http_raw(&app.addr, "POST", path, &[("Authorization", &bearer(&ann))], &png()).await;
    assert_eq!(up.status, 201);
    let photo = up.json()["id"].as_str().unwrap().to_owned();
    let patch = pb::UpdateProfileRequest {
        avatar_file_id: Some(photo.clone()),
        bio: Some("ann's bio".into()),
        ..Default::default()
    };
    let _: pb::UpdateProfileResponse = call(&a, "UserService/UpdateProfile", patch).await;

    // Ann's other device follows her settings live; a third catches up later.
    let before: pb::GetStateResponse = call(&a, "SyncService/GetState", pb::GetStateRequest {}).await;
    let mut ann_ws = app.client(&ann, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 5, is_caught_up).await;

    let rules = vec![
        rule(S::DirectMessages, A::Friends, &[&alw], &[]),
        rule(S::GroupInvites, A::Contacts, &[], &[&den]),
        rule(S::Presence, A::Contacts, &[&alw, &blk], &[]),
        rule(S::ProfilePhoto, A::Nobody, &[&fri], &[]),
        rule(S::Bio, A::Contacts, &[], &[]),
        rule(S::Search, A::Nobody, &[&con], &[]),
    ];
    let set = update(&a, rules.clone()).await.unwrap();
    assert_eq!(set.rules.len(), 6);
    assert_eq!(set.user_seq, before.user_seq + 6, "one log entry per rule");
    let got: pb::GetPrivacySettingsResponse =
        call(&a, "UserService/GetPrivacySettings", pb::GetPrivacySettingsRequest {}).await;
    assert_eq!(got.rules, set.rules);
    assert_eq!(got.rules[0].allow_user_ids, vec![alw.id.clone()]);
    for want in &rules {
        let e = wait_for(&mut ann_events, 5, |e| matches!(e.kind, Some(pb::event::Kind::PrivacyChanged(_)))).await;
        let Some(pb::event::Kind::PrivacyChanged(pc)) = e.kind else { unreachable!() };
        assert_eq!(pc.rule.as_ref(), Some(want), "live, in order");
    }
    let mut later = app.client(&ann, Transport::WsJson).await;
    let mut later_events =
        later.subscribe(pb::SubscribeRequest { user_seq: before.user_seq, ..Default::default() }).await.unwrap();
    let e = wait_for(&mut later_events, 5, |e| matches!(e.kind, Some(pb::event::Kind::PrivacyChanged(_)))).await;
    assert!(matches!(e.kind, Some(pb::event::Kind::PrivacyChanged(pc)) if pc.rule.as_ref() == Some(&rules[0])));
    // Blocking blk: a block keeps out whatever the lists say.
    let _: pb::BlockUserResponse =
        call(&a, "ContactService/BlockUser", pb::BlockUserRequest { user_id: blk.id.clone() }).await;

    let v = |user, dm, groups, presence, photo, bio, search| Viewer { user, dm, groups, presence, photo, bio, search };
    let viewers = [
        //   who       dm     groups presence photo  bio    search
        v(con, false, true, true, false, true, true),
        v(fri, true, true, true, true, true, false),
        v(stranger, false, false, false, false, false, false),
        v(alw, true, false, true, false, false, false),
        v(den, false, false, true, false, true, false),
        v(blk, false, false, false, false, false, false),
    ];
    // A direct chat Ann started stays open to the other side whatever her setting says.
    let old = app.register("old").await;
    let started = conv_id(&direct(&a, &old.id).await.unwrap().conversation.unwrap());
    let o = app.http(&old).await;
    try_send(&o, &started, "reply", "hi", false).await.expect("a reply in a chat she started");
    direct(&o, &ann.id).await.expect("and opening it again");

    for (i, viewer) in viewers.iter().enumerate() {
        let who = viewer.user.username.as_str();
        let c = app.http(&viewer.user).await;
        // Direct messages: opening, and (where open) writing.
        match direct(&c, &ann.id).await {
            Ok(r) if viewer.dm => {
                try_send(&c, &conv_id(&r.conversation.unwrap()), "dm", "hi", false).await.expect(who);
            }
            r => assert_eq!(refused(r), !viewer.dm, "{who}: open a direct chat"),
        }
        assert_eq!(refused(new_group(&c, &[&ann.id]).await), !viewer.groups, "{who}: a group with her");
        let own = conv_id(&group(&c, pb::ConversationKind::Group, "own", &[]).await);
        let add = pb::AddMembersRequest { conversation_id: own, user_ids: vec![ann.id.clone()] };
        let added = c.call::<_, pb::AddMembersResponse>("ConversationService/AddMembers", &add).await;
        assert_eq!(refused(added), !viewer.groups, "{who}: adding her");
        // Presence: Ann is online (her socket is open).
        let mut ws = app.client(&viewer.user, Transport::WsJson).await;
        let mut events = ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
        wait_for(&mut events, 5, is_caught_up).await;
        let r: pb::SubscribePresenceResponse = ws
            .call("SignalService/SubscribePresence", &pb::SubscribePresenceRequest { user_ids: vec![ann.id.clone()] })
            .await
            .unwrap();
        let online = r.presences[0].status == pb::PresenceStatus::Online as i32;
        assert_eq!(online, viewer.presence, "{who}: presence");
        if !viewer.presence {
            assert_eq!(r.presences[0].last_seen_at_ms, 0, "{who}: never seen");
        }
        // Photo and bio, in GetUsers.
        let seen = profile(&c, &ann.id).await;
        assert_eq!(seen.avatar_file_id == photo, viewer.photo, "{who}: photo");
        assert_eq!(seen.avatar_url.is_empty(), !viewer.photo, "{who}: photo url");
        assert_eq!(seen.bio == "ann's bio", viewer.bio, "{who}: bio");
        assert_eq!(seen.username, "ann", "the rest is always there");
        // Search last: importing makes a contact.
        let found: pb::SearchUsersResponse =
            call(&c, "UserService/SearchUsers", pb::SearchUsersRequest { query: "an".into(), limit: 10 }).await;
        assert_eq!(found.users.iter().any(|u| u.id == ann.id), viewer.search, "{who}: search");
        if let Some(u) = found.users.iter().find(|u| u.id == ann.id) {
            assert_eq!(u.bio == "ann's bio", viewer.bio, "{who}: bio in search results");
        }
        let imported: pb::ImportContactsResponse = call(
            &c,
            "ContactService/ImportContacts",
            pb::ImportContactsRequest { usernames: vec!["ann".into()], ..Default::default() },
        )
        .await;
        assert_eq!(imported.users.len(), usize::from(viewer.search), "{who}: import ({i})");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_profile_change_tells_followers_the_public_view_and_partial() {
    let app = TestApp::spawn().await;
    let (ann, bob) = (app.register("ann").await, app.register("bob").await);
    let (a, b) = (app.http(&ann).await, app.http(&bob).await);
    let _ = group(&a, pb::ConversationKind::Group, "both", &[&bob]).await;
    let _: pb::AddContactResponse =
        call(&a, "ContactService/AddContact", pb::AddContactRequest { user_id: bob.id.clone(), ..Default::default() })
            .await;
    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut bob_events =
        bob_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut bob_events, 5, is_caught_up).await;
    let change = |bio: &str| pb::UpdateProfileRequest { bio: Some(bio.into()), ..Default::default() };
    let updated = |e: &pb::Event| matches!(e.kind, Some(pb::event::Kind::UserUpdated(_)));

    // No rule: the whole profile, not partial.
    let _: pb::UpdateProfileResponse = call(&a, "UserService/UpdateProfile", change("one")).await;
    let Some(pb::event::Kind::UserUpdated(u)) = wait_for(&mut bob_events, 5, updated).await.kind else {
        unreachable!()
    };
    assert_eq!((u.user.unwrap().bio.as_str(), u.partial), ("one", false));

    // A bio rule: followers get the profile without it, marked partial; Bob (a contact)
    // reads his own view, with it.
    update(&a, vec![rule(S::Bio, A::Contacts, &[], &[])]).await.unwrap();
    let _: pb::UpdateProfileResponse = call(&a, "UserService/UpdateProfile", change("two")).await;
    let Some(pb::event::Kind::UserUpdated(u)) = wait_for(&mut bob_events, 5, updated).await.kind else {
        unreachable!()
    };
    assert_eq!((u.user.unwrap().bio.as_str(), u.partial), ("", true));
    assert_eq!(profile(&b, &ann.id).await.bio, "two");
    let me: pb::GetMeResponse = call(&a, "UserService/GetMe", pb::GetMeRequest {}).await;
    assert_eq!(me.user.unwrap().bio, "two", "the owner sees all of it");
    app.stop().await;
}

#[tokio::test]
async fn bad_rules_are_refused_and_change_nothing() {
    let app = TestApp::spawn_with(|c| c.service.max_privacy_exceptions = 2).await;
    let (ann, bob, cat, dan) =
        (app.register("ann").await, app.register("bob").await, app.register("cat").await, app.register("dan").await);
    let a = app.http(&ann).await;
    let invalid = |r: Result<pb::UpdatePrivacySettingsResponse, ClientError>| {
        let e = r.expect_err("refused");
        assert_eq!(e.code, E::InvalidArgument, "{}", e.message);
    };
    invalid(update(&a, vec![]).await);
    invalid(update(&a, vec![rule(S::Bio, A::Nobody, &[], &[]), rule(S::Bio, A::Contacts, &[], &[])]).await);
    invalid(update(&a, vec![rule(S::Unspecified, A::Nobody, &[], &[])]).await);
    invalid(update(&a, vec![rule(S::Bio, A::Unspecified, &[], &[])]).await);
    invalid(update(&a, vec![rule(S::Bio, A::Nobody, &[&ann], &[])]).await);
    invalid(update(&a, vec![rule(S::Bio, A::Nobody, &[&bob], &[&bob])]).await);
    invalid(update(&a, vec![rule(S::Bio, A::Nobody, &[&bob, &cat], &[&dan])]).await);
    let ghost = pb::PrivacyRule { allow_user_ids: vec!["99999".into()], ..rule(S::Bio, A::Nobody, &[], &[]) };
    invalid(update(&a, vec![rule(S::Presence, A::Nobody, &[], &[]), ghost]).await);
    let mut bad_id = rule(S::Bio, A::Nobody, &[], &[]);
    bad_id.deny_user_ids = vec!["not-an-id".into()];
    invalid(update(&a, vec![bad_id]).await);
    let got: pb::GetPrivacySettingsResponse =
        call(&a, "UserService/GetPrivacySettings", pb::GetPrivacySettingsRequest {}).await;
    assert!(got.rules.iter().all(|r| r.audience == A::Everyone as i32), "nothing changed: {got:?}");
    // The limit is both lists together; twice the same person counts once.
    update(&a, vec![rule(S::Bio, A::Nobody, &[&bob, &bob], &[&cat])]).await.unwrap();
    app.stop().await;
}

fn presence_of<'a>(e: &'a pb::Event, user: &str) -> Option<&'a pb::Presence> {
    match &e.kind {
        Some(pb::event::Kind::Presence(p)) if p.user_id == user => Some(p),
        _ => None,
    }
}

#[tokio::test]
async fn a_running_presence_watch_ends_when_a_rule_or_a_block_keeps_the_watcher_out() {
    let app = TestApp::spawn().await;
    let (ann, bob, cat) = (app.register("ann").await, app.register("bob").await, app.register("cat").await);
    let a = app.http(&ann).await;
    let shared = conv_id(&group(&a, pb::ConversationKind::Group, "all", &[&bob, &cat]).await);
    let mut ann_ws = app.client(&ann, Transport::WsJson).await;
    let mut ann_events =
        ann_ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut ann_events, 5, is_caught_up).await;
    let mut watch = Vec::new();
    for u in [&bob, &cat] {
        let mut ws = app.client(u, Transport::WsJson).await;
        let mut events = ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
        wait_for(&mut events, 5, is_caught_up).await;
        let r: pb::SubscribePresenceResponse = ws
            .call("SignalService/SubscribePresence", &pb::SubscribePresenceRequest { user_ids: vec![ann.id.clone()] })
            .await
            .unwrap();
        assert_eq!(r.presences[0].status, pb::PresenceStatus::Online as i32);
        watch.push((ws, events));
    }
    let [(_bob_ws, mut bob_events), (_cat_ws, mut cat_events)] = <[_; 2]>::try_from(watch).ok().unwrap();

    // Presence for contacts only: Bob (no contact) is told she is offline, never seen;
    // Cat (a contact) keeps following.
    let add = pb::AddContactRequest { user_id: cat.id.clone(), ..Default::default() };
    let _: pb::AddContactResponse = call(&a, "ContactService/AddContact", add).await;
    update(&a, vec![rule(S::Presence, A::Contacts, &[], &[])]).await.unwrap();
    let e = wait_for(&mut bob_events, 5, |e| presence_of(e, &ann.id).is_some()).await;
    let p = presence_of(&e, &ann.id).unwrap();
    assert_eq!((p.status, p.last_seen_at_ms), (pb::PresenceStatus::Offline as i32, 0));
    let away = pb::SetPresenceRequest { status: pb::PresenceStatus::Away as i32 };
    let _: pb::SetPresenceResponse = ann_ws.call("SignalService/SetPresence", &away).await.unwrap();
    let e = wait_for(&mut cat_events, 5, |e| presence_of(e, &ann.id).is_some()).await;
    assert_eq!(presence_of(&e, &ann.id).unwrap().status, pb::PresenceStatus::Away as i32, "Cat still follows");
    // Bob hears nothing more of her presence: the next thing he gets is a marker message.
    send(&a, &shared, "marker-1", "marker").await;
    let e = wait_for(&mut bob_events, 5, |e| {
        presence_of(e, &ann.id).is_some() || matches!(e.kind, Some(pb::event::Kind::MessageCreated(_)))
    })
    .await;
    assert!(presence_of(&e, &ann.id).is_none(), "Bob no longer follows her: {e:?}");

    // A block ends Cat's watch too, although she is a contact.
    let _: pb::BlockUserResponse =
        call(&a, "ContactService/BlockUser", pb::BlockUserRequest { user_id: cat.id.clone() }).await;
    let e = wait_for(&mut cat_events, 5, |e| presence_of(e, &ann.id).is_some()).await;
    let p = presence_of(&e, &ann.id).unwrap();
    assert_eq!((p.status, p.last_seen_at_ms), (pb::PresenceStatus::Offline as i32, 0));
    let online = pb::SetPresenceRequest { status: pb::PresenceStatus::Online as i32 };
    let _: pb::SetPresenceResponse = ann_ws.call("SignalService/SetPresence", &online).await.unwrap();
    send(&a, &shared, "marker-2", "marker").await;
    let e = wait_for(&mut cat_events, 5, |e| {
        presence_of(e, &ann.id).is_some() || matches!(e.kind, Some(pb::event::Kind::MessageCreated(_)))
    })
    .await;
    assert!(presence_of(&e, &ann.id).is_none(), "Cat no longer follows her: {e:?}");
    app.stop().await;
}
