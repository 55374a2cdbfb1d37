//! Spaces end to end: layout, roles and overwrites, invites, moderation, join requests,
//! threads and sync, and the permission matrix of every space and channel operation.

use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_client::proto as pb;
use switchboard_client::{Client, ClientError, Transport};

use crate::helpers::*;

use pb::Permission as P;

pub(crate) async fn call<
    Req: prost::Message + Serialize + Clone + 'static,
    Resp: prost::Message + Default + DeserializeOwned + 'static,
>(
    c: &Client,
    method: &str,
    req: Req,
) -> Resp {
    c.call(method, &req).await.unwrap_or_else(|e| panic!("{method}: {e:?}"))
}

/// Calls a method whose answer does not matter; the answer decodes as an empty message
/// (unknown fields are skipped).
pub(crate) async fn try_call<Req: prost::Message + Serialize + Clone + 'static>(
    c: &Client,
    method: &str,
    req: Req,
) -> Result<(), ClientError> {
    c.call::<_, pb::LeaveSpaceResponse>(method, &req).await.map(|_| ())
}

pub(crate) fn perms(v: &[P]) -> Vec<i32> {
    v.iter().map(|p| *p as i32).collect()
}

pub(crate) async fn create_space(c: &Client, name: &str, public: bool) -> pb::Space {
    let r: pb::CreateSpaceResponse =
        call(c, "SpaceService/CreateSpace", pb::CreateSpaceRequest { name: name.into(), public, ..Default::default() })
            .await;
    r.space.unwrap()
}

pub(crate) async fn get_space(c: &Client, id: &str) -> pb::Space {
    let r: pb::GetSpaceResponse = call(c, "SpaceService/GetSpace", pb::GetSpaceRequest { space_id: id.into() }).await;
    r.space.unwrap()
}

pub(crate) async fn invite(c: &Client, space: &str, max_uses: u32) -> String {
    let r: pb::CreateInviteResponse = call(
        c,
        "InviteService/CreateInvite",
        pb::CreateInviteRequest { conversation_id: space.into(), max_uses, ..Default::default() },
    )
    .await;
    r.invite.unwrap().code
}

pub(crate) async fn join(c: &Client, code: &str) -> pb::JoinByInviteResponse {
    call(c, "InviteService/JoinByInvite", pb::JoinByInviteRequest { code: code.into(), ..Default::default() }).await
}

pub(crate) async fn create_role(
    c: &Client,
    space: &str,
    name: &str,
    position: i32,
    p: &[P],
    parents: &[&str],
) -> pb::Role {
    let r: pb::CreateRoleResponse = call(
        c,
        "SpaceService/CreateRole",
        pb::CreateRoleRequest {
            space_id: space.into(),
            name: name.into(),
            colour: 0x3366ff,
            position,
            permissions: perms(p),
            parent_ids: parents.iter().map(|s| s.to_string()).collect(),
            mentionable: false,
        },
    )
    .await;
    r.role.unwrap()
}

pub(crate) async fn assign(c: &Client, space: &str, user: &TestUser, role: &str) {
    let _: pb::AssignRoleResponse = call(
        c,
        "SpaceService/AssignRole",
        pb::AssignRoleRequest { space_id: space.into(), user_id: user.id.clone(), role_id: role.into() },
    )
    .await;
}

pub(crate) async fn my_permissions(c: &Client, space: &str, channel: &str) -> Vec<i32> {
    let r: pb::GetMyPermissionsResponse = call(
        c,
        "SpaceService/GetMyPermissions",
        pb::GetMyPermissionsRequest { space_id: space.into(), channel_id: channel.into() },
    )
    .await;
    r.permissions
}

pub(crate) async fn create_channel(c: &Client, req: pb::CreateChannelRequest) -> String {
    let r: pb::CreateChannelResponse = call(c, "SpaceService/CreateChannel", req).await;
    r.channel.unwrap().conversation.unwrap().id
}

pub(crate) async fn try_send(c: &Client, conv: &str, key: &str, body: &str) -> Result<(), ClientError> {
    try_call(
        c,
        "MessageService/SendMessage",
        pb::SendMessageRequest {
            conversation_id: conv.into(),
            client_key: key.into(),
            text: text(body),
            ..Default::default()
        },
    )
    .await
}

pub(crate) async fn conversation_ids(c: &Client) -> Vec<String> {
    let r: pb::ListConversationsResponse =
        call(c, "ConversationService/ListConversations", pb::ListConversationsRequest::default()).await;
    r.conversations.iter().map(conv_id).collect()
}

fn service_action(e: &pb::Event) -> Option<(pb::ServiceAction, String)> {
    let pb::event::Kind::MessageCreated(m) = e.kind.as_ref()? else { return None };
    let Some(pb::message::Content::Service(s)) = m.content.as_ref() else { return None };
    Some((s.action(), s.target_id.clone()))
}

/// The whole life of a space over WebSocket events and HTTP calls: layout, roles with
/// parents, private and announcement channels, overwrites, invites, bans, timeouts, join
/// requests, threads, unread summary and deletion.
#[tokio::test]
async fn a_space_from_creation_to_deletion() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let a = app.http(&ann).await;
    let b = app.http(&bob).await;
    let c = app.http(&carol).await;
    let d = app.http(&dave).await;

    let space = create_space(&a, "Rustaceans", true).await;
    let sid = space.id.clone();
    assert_eq!(space.channels.len(), 1, "a general channel");
    let general = space.default_channel_id.clone();
    assert_eq!(space.channels[0].conversation.as_ref().unwrap().id, general);
    assert_eq!(space.my_permissions.len(), 14, "the owner has everything");

    // Discovery and joining a public space; the new member lands in general, live.
    let mut bob_ws = app.client(&bob, Transport::WsJson).await;
    let mut bob_events = bob_ws.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    wait_for(&mut bob_events, 5, is_caught_up).await;
    let found: pb::SearchSpacesResponse =
        call(&b, "SpaceService/SearchSpaces", pb::SearchSpacesRequest { prefix: "rust".into(), limit: 5 }).await;
    assert_eq!(found.spaces.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), vec![sid.clone()]);
    assert!(!found.spaces[0].joined);
    let joined: pb::JoinSpaceResponse =
        call(&b, "SpaceService/JoinSpace", pb::JoinSpaceRequest { space_id: sid.clone(), ..Default::default() }).await;
    assert!(!joined.pending && joined.space.unwrap().joined);
    wait_for(
        &mut bob_events,
        5,
        |e| matches!(&e.kind, Some(pb::event::Kind::ConversationJoined(j)) if j.conversation_id == general),
    )
    .await;
    assert!(conversation_ids(&b).await.contains(&general), "the channel is in the conversation list");
    send(&a, &general, "hello", "hello space").await;
    wait_for(
        &mut bob_events,
        5,
        |e| matches!(&e.kind, Some(pb::event::Kind::MessageCreated(m)) if m.conversation_id == general),
    )
    .await;

    // Roles with a parent: bob's moderator role inherits mention_everyone from helper.
    let helper = create_role(&a, &sid, "helper", 5, &[P::MentionEveryone], &[]).await;
    let moderator = create_role(&a, &sid, "moderator", 10, &[P::Kick, P::ManageMessages], &[&helper.id]).await;
    assign(&a, &sid, &bob, &moderator.id).await;
    let bp = my_permissions(&b, &sid, "").await;
    for p in [P::Kick, P::ManageMessages, P::MentionEveryone, P::View, P::Send] {
        assert!(bp.contains(&(p as i32)), "{p:?}");
    }
    assert!(!bp.contains(&(P::Ban as i32)));
    let role_event = wait_for(&mut bob_events, 5, |e| {
        service_action(e).is_some_and(|(a, _)| a == pb::ServiceAction::MemberRolesChanged)
    })
    .await;
    assert_eq!(service_action(&role_event).unwrap().1, moderator.id);

    // Folders and a private channel for moderators; an announcement channel.
    let folder: pb::CreateFolderResponse = call(
        &a,
        "SpaceService/CreateFolder",
        pb::CreateFolderRequest { space_id: sid.clone(), name: "Staff".into(), ..Default::default() },
    )
    .await;
    let folder = folder.folder.unwrap();
    let staff = create_channel(
        &a,
        pb::CreateChannelRequest {
            space_id: sid.clone(),
            name: "staff-room".into(),
            folder_id: folder.id.clone(),
            private: true,
            allowed_role_ids: vec![moderator.id.clone()],
            ..Default::default()
        },
    )
    .await;
    let news = create_channel(
        &a,
        pb::CreateChannelRequest {
            space_id: sid.clone(),
            name: "news".into(),
            announcement: true,
            ..Default::default()
        },
    )
    .await;
    let code = invite(&a, &sid, 1).await;
    let preview: pb::PreviewInviteResponse =
        call(&c, "InviteService/PreviewInvite", pb::PreviewInviteRequest { code: code.clone() }).await;
    assert!(!preview.joined);
    assert_eq!(preview.conversation.unwrap().title, "Rustaceans");
    let landed = join(&c, &code).await;
    assert_eq!((landed.conversation_id.as_str(), landed.channel_id.as_str()), (sid.as_str(), general.as_str()));
    let e = try_call(
        &d,
        "InviteService/JoinByInvite",
        pb::JoinByInviteRequest { code: code.clone(), ..Default::default() },
    );
    assert_eq!(code_of(e.await), pb::ErrorCode::FailedPrecondition, "a one-use invite is used up");
    let carol_view = get_space(&c, &sid).await;
    let carol_channels: Vec<String> =
        carol_view.channels.iter().map(|ch| ch.conversation.as_ref().unwrap().id.clone()).collect();
    assert!(carol_channels.contains(&general) && carol_channels.contains(&news) && !carol_channels.contains(&staff));
    assert!(get_space(&b, &sid).await.channels.iter().any(|ch| ch.conversation.as_ref().unwrap().id == staff));
    assert!(conversation_ids(&b).await.contains(&staff));
    assert!(!conversation_ids(&c).await.contains(&staff));
    let hist = try_call(
        &c,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: staff.clone(), ..Default::default() },
    );
    assert_eq!(code_of(hist.await), pb::ErrorCode::NotFound);
    assert_eq!(code_of(try_send(&c, &news, "n1", "may I?").await), pb::ErrorCode::PermissionDenied);
    try_send(&a, &news, "n2", "release day").await.unwrap();

    // A member overwrite takes send away in general, and giving it back works.
    let _: pb::SetOverwriteResponse = call(
        &a,
        "SpaceService/SetOverwrite",
        pb::SetOverwriteRequest {
            space_id: sid.clone(),
            channel_id: general.clone(),
            overwrite: Some(pb::Overwrite {
                target: Some(pb::OverwriteTarget {
                    target: Some(pb::overwrite_target::Target::UserId(carol.id.clone())),
                }),
                allow: vec![],
                deny: perms(&[P::Send]),
            }),
        },
    )
    .await;
    assert_eq!(code_of(try_send(&c, &general, "g1", "hi").await), pb::ErrorCode::PermissionDenied);
    let _: pb::RemoveOverwriteResponse = call(
        &a,
        "SpaceService/RemoveOverwrite",
        pb::RemoveOverwriteRequest {
            space_id: sid.clone(),
            channel_id: general.clone(),
            target: Some(pb::OverwriteTarget { target: Some(pb::overwrite_target::Target::UserId(carol.id.clone())) }),
        },
    )
    .await;
    try_send(&c, &general, "g2", "hi all").await.unwrap();

    // Timeout: carol keeps reading but cannot post until it is lifted.
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 60_000;
    let _: pb::TimeoutMemberResponse = call(
        &b,
        "SpaceService/TimeoutMember",
        pb::TimeoutMemberRequest { space_id: sid.clone(), user_id: carol.id.clone(), until_ms: until },
    )
    .await;
    assert_eq!(code_of(try_send(&c, &general, "g3", "muted?").await), pb::ErrorCode::PermissionDenied);
    let _: pb::TimeoutMemberResponse = call(
        &b,
        "SpaceService/TimeoutMember",
        pb::TimeoutMemberRequest { space_id: sid.clone(), user_id: carol.id.clone(), until_ms: 0 },
    )
    .await;
    try_send(&c, &general, "g4", "back").await.unwrap();

    // Threads: started on a message, followed by posting, shown on the root.
    let root = send(&a, &general, "root", "thread me").await;
    let t: pb::StartThreadResponse = call(
        &b,
        "ThreadService/StartThread",
        pb::StartThreadRequest { conversation_id: general.clone(), message_id: root.id.clone(), name: "Ideas".into() },
    )
    .await;
    assert!(t.created);
    let thread = t.thread.unwrap();
    let tid = thread.conversation.as_ref().unwrap().id.clone();
    assert!(thread.following);
    wait_for(&mut bob_events, 5, |e| {
        service_action(e).is_some_and(|(a, target)| a == pb::ServiceAction::ThreadStarted && target == tid)
    })
    .await;
    try_send(&c, &tid, "t1", "reply from carol").await.unwrap();
    let activity = wait_for(&mut bob_events, 5, |e| matches!(&e.kind, Some(pb::event::Kind::ThreadActivity(_)))).await;
    let Some(pb::event::Kind::ThreadActivity(activity)) = activity.kind else { unreachable!() };
    assert_eq!(
        (activity.conversation_id.as_str(), activity.root_message_id.as_str()),
        (general.as_str(), root.id.as_str())
    );
    assert_eq!(activity.thread.unwrap().reply_count, 1, "the root's counter moves live");
    try_send(&b, &tid, "t2", "reply from bob").await.unwrap();
    let again: pb::StartThreadResponse = call(
        &c,
        "ThreadService/StartThread",
        pb::StartThreadRequest { conversation_id: general.clone(), message_id: root.id.clone(), name: String::new() },
    )
    .await;
    assert!(!again.created && again.thread.unwrap().conversation.unwrap().id == tid, "one thread per message");
    let hist: pb::GetHistoryResponse = call(
        &a,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: general.clone(), ..Default::default() },
    )
    .await;
    let shown = hist.messages.iter().find(|m| m.id == root.id).unwrap().thread.clone().unwrap();
    assert_eq!((shown.thread_id.as_str(), shown.reply_count), (tid.as_str(), 2));
    let listed: pb::ListThreadsResponse = call(
        &a,
        "ThreadService/ListThreads",
        pb::ListThreadsRequest { conversation_id: general.clone(), ..Default::default() },
    )
    .await;
    assert_eq!(listed.threads.len(), 1);
    assert!(!listed.threads[0].following, "ann reads the thread without following it");
    let thread_hist: pb::GetHistoryResponse = call(
        &a,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: tid.clone(), ..Default::default() },
    )
    .await;
    assert_eq!(thread_hist.messages.len(), 3, "opening service message and two replies");
    assert!(conversation_ids(&c).await.contains(&tid), "posting follows the thread");
    let _: pb::UnfollowThreadResponse =
        call(&c, "ThreadService/UnfollowThread", pb::UnfollowThreadRequest { thread_id: tid.clone() }).await;
    assert!(!conversation_ids(&c).await.contains(&tid));

    // Unread summary and member card.
    let summary: pb::GetUnreadSummaryResponse =
        call(&b, "SpaceService/GetUnreadSummary", pb::GetUnreadSummaryRequest { space_id: sid.clone() }).await;
    assert!(summary.unread >= 4, "{summary:?}");
    assert!(summary.channels.iter().any(|ch| ch.channel_id == general));
    let card: pb::GetMemberCardResponse = call(
        &b,
        "SpaceService/GetMemberCard",
        pb::GetMemberCardRequest { space_id: sid.clone(), user_id: carol.id.clone() },
    )
    .await;
    assert_eq!(card.message_count, 2, "carol's two messages in general");
    assert_eq!(card.recent_messages.len(), 2);
    let members: pb::ListSpaceMembersResponse = call(
        &a,
        "SpaceService/ListSpaceMembers",
        pb::ListSpaceMembersRequest { space_id: sid.clone(), limit: 2, ..Default::default() },
    )
    .await;
    assert_eq!(members.members.len(), 2);
    assert!(!members.next_cursor.is_empty());
    let bob_row = members.members.iter().find(|m| m.user_id == bob.id).unwrap();
    assert_eq!(bob_row.role_ids, vec![moderator.id.clone()]);

    // Ban: carol loses every channel at once and cannot come back by invite until unbanned.
    let mut carol_ws = app.client(&carol, Transport::WsJson).await;
    let mut carol_events = carol_ws.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    wait_for(&mut carol_events, 5, is_caught_up).await;
    let kick = try_call(
        &b,
        "SpaceService/BanMember",
        pb::BanMemberRequest { space_id: sid.clone(), user_id: carol.id.clone(), reason: "spam".into() },
    );
    assert_eq!(code_of(kick.await), pb::ErrorCode::PermissionDenied, "moderators kick but do not ban");
    let _: pb::BanMemberResponse = call(
        &a,
        "SpaceService/BanMember",
        pb::BanMemberRequest { space_id: sid.clone(), user_id: carol.id.clone(), reason: "spam".into() },
    )
    .await;
    wait_for(
        &mut carol_events,
        5,
        |e| matches!(&e.kind, Some(pb::event::Kind::ConversationLeft(l)) if l.conversation_id == general),
    )
    .await;
    assert!(conversation_ids(&c).await.is_empty());
    let code2 = invite(&a, &sid, 0).await;
    let back = try_call(
        &c,
        "InviteService/JoinByInvite",
        pb::JoinByInviteRequest { code: code2.clone(), ..Default::default() },
    );
    assert_eq!(code_of(back.await), pb::ErrorCode::PermissionDenied);
    let bans: pb::ListBansResponse =
        call(&a, "SpaceService/ListBans", pb::ListBansRequest { space_id: sid.clone(), ..Default::default() }).await;
    assert_eq!(bans.bans.len(), 1);
    assert_eq!((bans.bans[0].user_id.as_str(), bans.bans[0].reason.as_str()), (carol.id.as_str(), "spam"));
    let _: pb::UnbanMemberResponse = call(
        &a,
        "SpaceService/UnbanMember",
        pb::UnbanMemberRequest { space_id: sid.clone(), user_id: carol.id.clone() },
    )
    .await;
    join(&c, &code2).await;
    assert!(conversation_ids(&c).await.contains(&general));

    // Join requests: with approval on, dave's join waits for a decider, who is told.
    let _: pb::UpdateSpaceResponse = call(
        &a,
        "SpaceService/UpdateSpace",
        pb::UpdateSpaceRequest { space_id: sid.clone(), require_approval: Some(true), ..Default::default() },
    )
    .await;
    let pending = join(&d, &code2).await;
    assert!(pending.pending);
    assert!(!conversation_ids(&d).await.contains(&general));
    wait_for(
        &mut bob_events,
        5,
        |e| matches!(&e.kind, Some(pb::event::Kind::JoinRequested(j)) if j.user_id == dave.id),
    )
    .await;
    let requests: pb::ListJoinRequestsResponse =
        call(&b, "InviteService/ListJoinRequests", pb::ListJoinRequestsRequest { conversation_id: sid.clone() }).await;
    assert_eq!(requests.requests.len(), 1);
    let _: pb::DecideJoinRequestResponse = call(
        &b,
        "InviteService/DecideJoinRequest",
        pb::DecideJoinRequestRequest { conversation_id: sid.clone(), user_id: dave.id.clone(), accept: true },
    )
    .await;
    assert!(conversation_ids(&d).await.contains(&general));

    // Kick, then delete: everyone loses the space and its channels (and the threads
    // followed there).
    let _: pb::FollowThreadResponse =
        call(&d, "ThreadService/FollowThread", pb::FollowThreadRequest { thread_id: tid.clone() }).await;
    assert!(conversation_ids(&d).await.contains(&tid));
    let _: pb::KickMemberResponse =
        call(&b, "SpaceService/KickMember", pb::KickMemberRequest { space_id: sid.clone(), user_id: dave.id.clone() })
            .await;
    assert!(conversation_ids(&d).await.is_empty());
    let _: pb::LeaveSpaceResponse =
        call(&c, "SpaceService/LeaveSpace", pb::LeaveSpaceRequest { space_id: sid.clone() }).await;
    assert!(conversation_ids(&c).await.is_empty(), "leaving takes the channels along");
    let owner_leaves = try_call(&a, "SpaceService/LeaveSpace", pb::LeaveSpaceRequest { space_id: sid.clone() });
    assert_eq!(code_of(owner_leaves.await), pb::ErrorCode::FailedPrecondition);
    let _: pb::DeleteSpaceResponse =
        call(&a, "SpaceService/DeleteSpace", pb::DeleteSpaceRequest { space_id: sid.clone() }).await;
    wait_for(
        &mut bob_events,
        5,
        |e| matches!(&e.kind, Some(pb::event::Kind::ConversationLeft(l)) if l.conversation_id == sid),
    )
    .await;
    for client in [&a, &b, &c] {
        assert!(conversation_ids(client).await.is_empty());
    }
    let gone = try_call(&a, "SpaceService/GetSpace", pb::GetSpaceRequest { space_id: sid.clone() });
    assert_eq!(code_of(gone.await), pb::ErrorCode::NotFound);
    app.stop().await;
}

/// A device that was offline catches up on the space's changes through the space's log.
#[tokio::test]
async fn space_changes_reach_an_offline_device_through_catch_up() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let a = app.http(&ann).await;
    let b = app.http(&bob).await;
    let space = create_space(&a, "Offline", false).await;
    join(&b, &invite(&a, &space.id, 0).await).await;
    let state: pb::GetStateResponse = call(&b, "SyncService/GetState", pb::GetStateRequest::default()).await;
    let (user_seq, positions) = (state.user_seq, state.conversations.clone());

    create_role(&a, &space.id, "crew", 3, &[P::Kick], &[]).await;
    let channel = create_channel(
        &a,
        pb::CreateChannelRequest { space_id: space.id.clone(), name: "later".into(), ..Default::default() },
    )
    .await;

    let mut ws = app.client(&bob, Transport::WsBinary).await;
    let mut events = ws.subscribe(pb::SubscribeRequest { user_seq, positions, ..Default::default() }).await.unwrap();
    let mut seen = Vec::new();
    let mut joined_channel = false;
    loop {
        let e = wait_for(&mut events, 5, |_| true).await;
        if is_caught_up(&e) {
            break;
        }
        if let Some((action, target)) = service_action(&e) {
            seen.push((action, target));
        }
        if matches!(&e.kind, Some(pb::event::Kind::ConversationJoined(j)) if j.conversation_id == channel) {
            joined_channel = true;
        }
    }
    assert!(seen.iter().any(|(a, _)| *a == pb::ServiceAction::RoleChanged), "{seen:?}");
    assert!(seen.iter().any(|(a, t)| *a == pb::ServiceAction::ChannelChanged && *t == channel), "{seen:?}");
    assert!(joined_channel, "the new channel's access arrives through the user log");
    app.stop().await;
}

/// Group conversations outside spaces get invite links too.
#[tokio::test]
async fn groups_have_invite_links() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let a = app.http(&ann).await;
    let b = app.http(&bob).await;
    let g = group(&a, pb::ConversationKind::Group, "Book club", &[]).await;
    let gid = conv_id(&g);
    let code = invite(&a, &gid, 0).await;
    let listed: pb::ListInvitesResponse =
        call(&a, "InviteService/ListInvites", pb::ListInvitesRequest { conversation_id: gid.clone() }).await;
    assert_eq!(listed.invites.len(), 1);
    let no = try_call(
        &b,
        "InviteService/CreateInvite",
        pb::CreateInviteRequest { conversation_id: gid.clone(), ..Default::default() },
    );
    assert_eq!(code_of(no.await), pb::ErrorCode::NotFound, "non-members do not see the group");
    assert_eq!(join(&b, &code).await.conversation_id, gid);
    send(&b, &gid, "hi", "thanks for the link").await;
    let _: pb::RevokeInviteResponse =
        call(&a, "InviteService/RevokeInvite", pb::RevokeInviteRequest { code: code.clone() }).await;
    let gone = try_call(&b, "InviteService/PreviewInvite", pb::PreviewInviteRequest { code });
    assert_eq!(code_of(gone.await), pb::ErrorCode::NotFound);

    // Expiry.
    let r: pb::CreateInviteResponse = call(
        &a,
        "InviteService/CreateInvite",
        pb::CreateInviteRequest { conversation_id: gid.clone(), expires_in_secs: 1, ..Default::default() },
    )
    .await;
    let short = r.invite.unwrap().code;
    app.advance(std::time::Duration::from_secs(2));
    let expired = try_call(&b, "InviteService/PreviewInvite", pb::PreviewInviteRequest { code: short });
    assert_eq!(code_of(expired.await), pb::ErrorCode::FailedPrecondition);

    // Approval: carol's join waits; ann (owner) is told, rejects, and carol is told.
    let carol = app.register("carol").await;
    let c = app.http(&carol).await;
    let mut carol_ws = app.client(&carol, Transport::WsJson).await;
    let mut carol_events = carol_ws.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    wait_for(&mut carol_events, 5, is_caught_up).await;
    let mut ann_ws = app.client(&ann, Transport::WsBinary).await;
    let mut ann_events = ann_ws.subscribe(pb::SubscribeRequest::default()).await.unwrap();
    wait_for(&mut ann_events, 5, is_caught_up).await;
    let _: pb::UpdateConversationResponse = call(
        &a,
        "ConversationService/UpdateConversation",
        pb::UpdateConversationRequest {
            conversation_id: gid.clone(),
            require_approval: Some(true),
            ..Default::default()
        },
    )
    .await;
    let code = invite(&a, &gid, 0).await;
    let preview: pb::PreviewInviteResponse =
        call(&c, "InviteService/PreviewInvite", pb::PreviewInviteRequest { code: code.clone() }).await;
    assert!(preview.require_approval);
    let pending: pb::JoinByInviteResponse = call(
        &c,
        "InviteService/JoinByInvite",
        pb::JoinByInviteRequest { code: code.clone(), message: "I read a lot".into() },
    )
    .await;
    assert!(pending.pending);
    wait_for(&mut ann_events, 5, |e| {
        matches!(&e.kind, Some(pb::event::Kind::JoinRequested(j)) if j.user_id == carol.id && j.conversation_id == gid)
    })
    .await;
    let requests: pb::ListJoinRequestsResponse =
        call(&a, "InviteService/ListJoinRequests", pb::ListJoinRequestsRequest { conversation_id: gid.clone() }).await;
    assert_eq!(requests.requests[0].message, "I read a lot");
    let no =
        try_call(&b, "InviteService/ListJoinRequests", pb::ListJoinRequestsRequest { conversation_id: gid.clone() });
    assert_eq!(code_of(no.await), pb::ErrorCode::PermissionDenied, "plain members do not decide");
    let _: pb::DecideJoinRequestResponse = call(
        &a,
        "InviteService/DecideJoinRequest",
        pb::DecideJoinRequestRequest { conversation_id: gid.clone(), user_id: carol.id.clone(), accept: false },
    )
    .await;
    wait_for(
        &mut carol_events,
        5,
        |e| matches!(&e.kind, Some(pb::event::Kind::JoinRequestDecided(d)) if !d.accepted && d.conversation_id == gid),
    )
    .await;
    assert!(conversation_ids(&c).await.is_empty());
    app.stop().await;
}

/// Threads work on direct and group conversations too: readers of the parent read them,
/// others do not learn they exist.
#[tokio::test]
async fn threads_on_a_direct_conversation_follow_its_membership() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let (a, b, e) = (app.http(&ann).await, app.http(&bob).await, app.http(&eve).await);
    let direct: pb::CreateDirectResponse =
        call(&a, "ConversationService/CreateDirect", pb::CreateDirectRequest { user_id: bob.id.clone() }).await;
    let dm = conv_id(&direct.conversation.unwrap());
    let root = send(&a, &dm, "r", "what about lunch?").await;
    let t: pb::StartThreadResponse = call(
        &a,
        "ThreadService/StartThread",
        pb::StartThreadRequest { conversation_id: dm.clone(), message_id: root.id.clone(), name: String::new() },
    )
    .await;
    let thread = t.thread.unwrap().conversation.unwrap();
    assert_eq!(thread.title, "what about lunch?", "named after the root by default");
    assert_eq!(thread.parent_conversation_id, dm);
    assert_eq!(thread.root_message_id, root.id);
    try_send(&b, &thread.id, "b1", "noodles").await.unwrap();
    let hist: pb::GetHistoryResponse = call(
        &a,
        "MessageService/GetHistory",
        pb::GetHistoryRequest { conversation_id: thread.id.clone(), ..Default::default() },
    )
    .await;
    assert_eq!(hist.messages.last().unwrap().sender_id, bob.id);
    for attempt in [
        try_send(&e, &thread.id, "e1", "me too").await,
        try_call(&e, "ThreadService/FollowThread", pb::FollowThreadRequest { thread_id: thread.id.clone() }).await,
        try_call(
            &e,
            "MessageService/GetHistory",
            pb::GetHistoryRequest { conversation_id: thread.id.clone(), ..Default::default() },
        )
        .await,
    ] {
        assert_eq!(code_of(attempt), pb::ErrorCode::NotFound);
    }
    let nested = try_call(
        &b,
        "ThreadService/StartThread",
        pb::StartThreadRequest {
            conversation_id: thread.id.clone(),
            message_id: hist.messages[1].id.clone(),
            name: String::new(),
        },
    );
    assert_eq!(code_of(nested.await), pb::ErrorCode::InvalidArgument, "threads do not nest");

    // In a group, a removed member stops following its threads.
    let g = group(&a, pb::ConversationKind::Group, "Lunch", &[&bob, &eve]).await;
    let gid = conv_id(&g);
    let groot = send(&a, &gid, "g", "friday?").await;
    let t: pb::StartThreadResponse = call(
        &a,
        "ThreadService/StartThread",
        pb::StartThreadRequest { conversation_id: gid.clone(), message_id: groot.id, name: String::new() },
    )
    .await;
    let gthread = t.thread.unwrap().conversation.unwrap().id;
    try_send(&e, &gthread, "e2", "in").await.unwrap();
    assert!(conversation_ids(&e).await.contains(&gthread));
    let _: pb::RemoveMemberResponse = call(
        &a,
        "ConversationService/RemoveMember",
        pb::RemoveMemberRequest { conversation_id: gid.clone(), user_id: eve.id.clone() },
    )
    .await;
    assert!(!conversation_ids(&e).await.contains(&gthread), "removal ends the thread follow");
    app.stop().await;
}
