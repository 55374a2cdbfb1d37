//! Profiles, lookup, per-member settings across devices, and the edit window.

use std::time::Duration;

use switchboard_client::proto as pb;
use switchboard_client::{StreamEvent, Transport};

use crate::helpers::*;

#[tokio::test]
async fn profiles_change_and_users_are_found_by_prefix_and_id() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bobby").await;
    let c = app.client(&ann, Transport::WsJson).await;
    let update = pb::UpdateProfileRequest {
        display_name: Some("Ann Example".into()),
        bio: Some("Writes tests".into()),
        status_text: Some("busy".into()),
        username: Some("Annie".into()),
        avatar_file_id: None,
    };
    let r: pb::UpdateProfileResponse = c.call("UserService/UpdateProfile", &update).await.unwrap();
    let u = r.user.unwrap();
    assert_eq!(
        (u.username.as_str(), u.display_name.as_str(), u.bio.as_str()),
        ("Annie", "Ann Example", "Writes tests")
    );
    let taken = c
        .call::<_, pb::UpdateProfileResponse>(
            "UserService/UpdateProfile",
            &pb::UpdateProfileRequest { username: Some("BOBBY".into()), ..Default::default() },
        )
        .await;
    assert_eq!(code_of(taken), pb::ErrorCode::AlreadyExists);
    let found: pb::SearchUsersResponse =
        c.call("UserService/SearchUsers", &pb::SearchUsersRequest { query: "ann ex".into(), limit: 5 }).await.unwrap();
    assert_eq!(found.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), vec![ann.id.clone()]);
    let found: pb::SearchUsersResponse =
        c.call("UserService/SearchUsers", &pb::SearchUsersRequest { query: "BOB".into(), limit: 5 }).await.unwrap();
    assert_eq!(found.users[0].id, bob.id);
    let got: pb::GetUsersResponse = c
        .call(
            "UserService/GetUsers",
            &pb::GetUsersRequest { user_ids: vec![bob.id.clone(), "99999".into(), ann.id.clone()] },
        )
        .await
        .unwrap();
    assert_eq!(got.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), vec![bob.id.clone(), ann.id.clone()]);
    let empty = c
        .call::<_, pb::SearchUsersResponse>(
            "UserService/SearchUsers",
            &pb::SearchUsersRequest { query: " ".into(), limit: 5 },
        )
        .await;
    assert_eq!(code_of(empty), pb::ErrorCode::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn member_settings_reach_every_device_of_the_member() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let g = group(&app.http(&ann).await, pb::ConversationKind::Group, "Settings", &[&bob]).await;
    let gid = conv_id(&g);
    let tablet = app.login(&ann).await;
    let mut t = app.client(&tablet, Transport::Grpc).await;
    let mut events = t.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 10, is_caught_up).await;
    let phone = app.client(&ann, Transport::WsBinary).await;
    let until = 4_102_444_800_000i64;
    let r: pb::UpdateMemberSettingsResponse = phone
        .call(
            "ConversationService/UpdateMemberSettings",
            &pb::UpdateMemberSettingsRequest {
                conversation_id: gid.clone(),
                muted_until_ms: Some(until),
                pinned: Some(true),
                archived: None,
                draft: Some("half a thought".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.settings.as_ref().unwrap().draft, "half a thought");
    let e = wait_for(&mut events, 10, |e| matches!(e.kind, Some(pb::event::Kind::SettingsChanged(_)))).await;
    let Some(pb::event::Kind::SettingsChanged(s)) = e.kind else { unreachable!() };
    let s = s.settings.unwrap();
    assert!(s.pinned && s.muted_until_ms == until && s.draft == "half a thought" && !s.archived);
    let v = view(&app.http(&tablet).await, &gid).await;
    assert!(v.settings.unwrap().pinned);
    // Bob's view is his own.
    assert!(!view(&app.http(&bob).await, &gid).await.settings.unwrap().pinned);
    app.stop().await;
}

#[tokio::test]
async fn the_edit_window_closes() {
    let app = TestApp::spawn_with(|c| c.service.edit_window_secs = 1).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let c = app.http(&ann).await;
    let g = group(&c, pb::ConversationKind::Group, "Window", &[&bob]).await;
    let m = send(&c, &conv_id(&g), "w", "typo").await;
    let edit = pb::EditMessageRequest { conversation_id: conv_id(&g), message_id: m.id.clone(), text: text("fixed") };
    let _: pb::EditMessageResponse = c.call("MessageService/EditMessage", &edit).await.unwrap();
    app.advance(Duration::from_secs(2));
    let late = c.call::<_, pb::EditMessageResponse>("MessageService/EditMessage", &edit).await.unwrap_err();
    assert_eq!((late.code, late.reason.as_str()), (pb::ErrorCode::FailedPrecondition, "edit_window_closed"));
    app.stop().await;
}

fn settings_of(v: &[pb::UserSetting]) -> Vec<(String, String)> {
    v.iter().map(|s| (s.key.clone(), s.value.clone())).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(k, x)| ((*k).to_owned(), (*x).to_owned())).collect()
}

#[tokio::test]
async fn synced_settings_reach_every_device_live_and_through_catch_up() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let tablet = app.login(&ann).await;
    let mut t = app.client(&tablet, Transport::WsJson).await;
    let mut live = t.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut live, 10, is_caught_up).await;

    let phone = app.client(&ann, Transport::Grpc).await;
    let change = pb::UpdateUserSettingsRequest {
        set: [("web.theme".to_owned(), "dark".to_owned()), ("lang".to_owned(), "en".to_owned())].into(),
        remove: vec!["never-set".into()],
    };
    let r: pb::UpdateUserSettingsResponse = phone.call("UserService/UpdateUserSettings", &change).await.unwrap();
    assert_eq!(settings_of(&r.settings), pairs(&[("lang", "en"), ("web.theme", "dark")]));
    let first_seq = r.user_seq;
    let e = wait_for(&mut live, 10, |e| matches!(e.kind, Some(pb::event::Kind::UserSettingsChanged(_)))).await;
    assert_eq!(e.user_seq, first_seq);
    let Some(pb::event::Kind::UserSettingsChanged(c)) = e.kind else { unreachable!() };
    let mut set = settings_of(&c.set);
    set.sort();
    assert_eq!((set, c.removed), (pairs(&[("lang", "en"), ("web.theme", "dark")]), vec!["never-set".to_owned()]));

    // A second change, while a third device is away; it catches up from position 0.
    let change = pb::UpdateUserSettingsRequest {
        set: [("web.theme".to_owned(), "light".to_owned())].into(),
        remove: vec!["lang".into()],
    };
    let r: pb::UpdateUserSettingsResponse = phone.call("UserService/UpdateUserSettings", &change).await.unwrap();
    assert_eq!(settings_of(&r.settings), pairs(&[("web.theme", "light")]));
    let laptop = app.login(&ann).await;
    let mut l = app.client(&laptop, Transport::WsBinary).await;
    let mut caught = l.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let e = wait_for(&mut caught, 10, |e| {
            matches!(e.kind, Some(pb::event::Kind::UserSettingsChanged(_)) | Some(pb::event::Kind::CaughtUp(_)))
        })
        .await;
        match e.kind {
            Some(pb::event::Kind::UserSettingsChanged(c)) => seen.push((e.user_seq, settings_of(&c.set), c.removed)),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1], (r.user_seq, pairs(&[("web.theme", "light")]), vec!["lang".to_owned()]));
    let got: pb::GetUserSettingsResponse =
        app.http(&laptop).await.call("UserService/GetUserSettings", &pb::GetUserSettingsRequest {}).await.unwrap();
    assert_eq!(settings_of(&got.settings), pairs(&[("web.theme", "light")]));
    assert!(got.settings[0].updated_at_ms > 0);
    // They are Ann's alone.
    let bobs: pb::GetUserSettingsResponse =
        app.http(&bob).await.call("UserService/GetUserSettings", &pb::GetUserSettingsRequest {}).await.unwrap();
    assert!(bobs.settings.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn synced_settings_refuse_bad_keys_big_values_and_too_many_keys() {
    let app = TestApp::spawn_with(|c| {
        c.service.max_user_settings = 3;
        c.service.max_user_setting_bytes = 10;
    })
    .await;
    let ann = app.register("ann").await;
    let c = app.http(&ann).await;
    let call = |set: Vec<(&str, &str)>, remove: Vec<&str>| {
        let req = pb::UpdateUserSettingsRequest {
            set: set.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
            remove: remove.into_iter().map(str::to_owned).collect(),
        };
        let c = &c;
        async move { c.call::<_, pb::UpdateUserSettingsResponse>("UserService/UpdateUserSettings", &req).await }
    };
    for (set, remove, field) in [
        (vec![], vec![], "set"),
        (vec![("a b", "1")], vec![], "set"),
        (vec![], vec![""], "remove"),
        (vec![("k", "01234567890")], vec![], "set"),
        (vec![("k", "1")], vec!["k"], "remove"),
        (vec![("a", "1"), ("b", "1"), ("c", "1")], vec!["d"], "set"),
    ] {
        let e = call(set.clone(), remove.clone()).await.unwrap_err();
        assert_eq!((e.code, e.field.as_str()), (pb::ErrorCode::InvalidArgument, field), "{set:?} {remove:?}: {e:?}");
    }
    call(vec![("a", "0123456789"), ("b", "1"), ("c", "1")], vec![]).await.unwrap();
    let e = call(vec![("d", "1")], vec![]).await.unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (pb::ErrorCode::ResourceExhausted, "too_many_settings"), "{e:?}");
    let got: pb::GetUserSettingsResponse =
        c.call("UserService/GetUserSettings", &pb::GetUserSettingsRequest {}).await.unwrap();
    assert_eq!(got.settings.len(), 3, "the refused change changed nothing");
    // Replacing and removing within the limit is fine.
    let r = call(vec![("d", "1"), ("a", "2")], vec!["b"]).await.unwrap();
    assert_eq!(settings_of(&r.settings), pairs(&[("a", "2"), ("c", "1"), ("d", "1")]));
    app.stop().await;
}

fn updated(e: &pb::Event) -> Option<&pb::User> {
    match &e.kind {
        Some(pb::event::Kind::UserUpdated(u)) => u.user.as_ref(),
        _ => None,
    }
}

/// A profile change reaches the user's other devices, everyone sharing a conversation
/// with them and their presence subscribers, and nobody else.
#[tokio::test]
async fn a_profile_change_reaches_own_devices_conversation_peers_and_presence_subscribers() {
    let app = TestApp::spawn().await;
    let [ann, bob, carol, dave] =
        [app.register("ann").await, app.register("bob").await, app.register("carol").await, app.register("dave").await];
    group(&app.http(&ann).await, pb::ConversationKind::Group, "Shared", &[&bob]).await;
    let tablet = app.login(&ann).await;
    let mut streams = Vec::new();
    for (who, transport) in [
        (&tablet, Transport::WsJson),
        (&bob, Transport::Grpc),
        (&carol, Transport::WsBinary),
        (&dave, Transport::WsJson),
    ] {
        let mut c = app.client(who, transport).await;
        let mut events = c.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
        wait_for(&mut events, 10, is_caught_up).await;
        streams.push((c, events));
    }
    // Carol shares nothing with Ann but subscribes to her presence.
    let _: pb::SubscribePresenceResponse = streams[2]
        .0
        .call("SignalService/SubscribePresence", &pb::SubscribePresenceRequest { user_ids: vec![ann.id.clone()] })
        .await
        .unwrap();
    let update = pb::UpdateProfileRequest { display_name: Some("Ann Renamed".into()), ..Default::default() };
    let _: pb::UpdateProfileResponse = app.http(&ann).await.call("UserService/UpdateProfile", &update).await.unwrap();
    for (i, (_, events)) in streams.iter_mut().enumerate().take(3) {
        let e = wait_for(events, 10, |e| updated(e).is_some()).await;
        let u = updated(&e).unwrap();
        assert_eq!((u.id.as_str(), u.display_name.as_str()), (ann.id.as_str(), "Ann Renamed"), "stream {i}");
    }
    // Dave shares nothing and did not subscribe: the others have heard by now, he has not.
    let dave_events = &mut streams[3].1;
    while let Some(StreamEvent::Event(e)) = dave_events.next_within(Duration::from_millis(300)).await {
        assert!(updated(&e).is_none(), "dave heard of ann's profile: {e:?}");
    }
    app.stop().await;
}
