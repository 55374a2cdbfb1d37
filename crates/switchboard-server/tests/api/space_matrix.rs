//! The permission matrix: every space, channel, invite and thread operation, asserted for
//! the owner, a member with an admin role, a plain member, a member whose channel
//! overwrite denies everything but view, a non-member and a banned user.

use switchboard_client::proto as pb;
use switchboard_client::{Client, ClientError};

use crate::helpers::*;
use crate::spaces::{
    assign, call, create_channel, create_role, create_space, get_space, invite, join, perms, try_call, try_send,
};

use pb::Permission as P;

/// Who does the operation in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Owner,
    Admin,
    Plain,
    Denied,
    Outsider,
    Banned,
}

/// Expected outcome per actor: none = success, or the error code.
type Row = Vec<(Who, Option<pb::ErrorCode>)>;

const EVERYONE: [Who; 6] = [Who::Owner, Who::Admin, Who::Plain, Who::Denied, Who::Outsider, Who::Banned];

/// The fixed parts of the matrix's space.
struct World {
    space: String,
    channel: String,
    victim_code: String,
    low_role: String,
    others_message: String,
    thread: String,
}

/// Runs one operation as `who`; `n` makes keys and victims unique.
async fn run_op(
    app: &TestApp,
    w: &World,
    op: &str,
    c: &Client,
    who: Who,
    owner: &Client,
    n: usize,
) -> Result<(), ClientError> {
    let space = w.space.clone();
    let channel = w.channel.clone();
    match op {
        "GetSpace" => try_call(c, "SpaceService/GetSpace", pb::GetSpaceRequest { space_id: space }).await,
        "ListSpaceMembers" => {
            try_call(
                c,
                "SpaceService/ListSpaceMembers",
                pb::ListSpaceMembersRequest { space_id: space, ..Default::default() },
            )
            .await
        }
        "GetMyPermissions" => {
            try_call(
                c,
                "SpaceService/GetMyPermissions",
                pb::GetMyPermissionsRequest { space_id: space, channel_id: channel },
            )
            .await
        }
        "ReadChannel" => {
            try_call(
                c,
                "MessageService/GetHistory",
                pb::GetHistoryRequest { conversation_id: channel, ..Default::default() },
            )
            .await
        }
        "SendInChannel" => try_send(c, &channel, &format!("send-{n}"), "hello").await,
        "MentionAll" => {
            let body = "@all look";
            let entities = vec![pb::Entity {
                kind: pb::EntityKind::MentionAll as i32,
                offset: 0,
                length: 4,
                ..Default::default()
            }];
            try_call(
                c,
                "MessageService/SendMessage",
                pb::SendMessageRequest {
                    conversation_id: channel,
                    client_key: format!("all-{n}"),
                    text: Some(pb::TextContent { text: body.into(), entities, ..Default::default() }),
                    ..Default::default()
                },
            )
            .await
        }
        "DeleteOthersMessage" => {
            let m = send(owner, &channel, &format!("victim-msg-{n}"), "delete me").await;
            try_call(
                c,
                "MessageService/DeleteMessages",
                pb::DeleteMessagesRequest { conversation_id: channel, message_ids: vec![m.id], for_everyone: true },
            )
            .await
        }
        "StartThread" => {
            try_call(
                c,
                "ThreadService/StartThread",
                pb::StartThreadRequest {
                    conversation_id: channel,
                    message_id: w.others_message.clone(),
                    name: format!("t{n}"),
                },
            )
            .await
        }
        "CreateInvite" => {
            try_call(
                c,
                "InviteService/CreateInvite",
                pb::CreateInviteRequest { conversation_id: space, ..Default::default() },
            )
            .await
        }
        "UpdateSpace" => {
            try_call(
                c,
                "SpaceService/UpdateSpace",
                pb::UpdateSpaceRequest { space_id: space, about: Some(format!("about {n}")), ..Default::default() },
            )
            .await
        }
        "CreateChannel" => {
            try_call(
                c,
                "SpaceService/CreateChannel",
                pb::CreateChannelRequest { space_id: space, name: format!("ch{n}"), ..Default::default() },
            )
            .await
        }
        "UpdateChannel" => {
            try_call(
                c,
                "SpaceService/UpdateChannel",
                pb::UpdateChannelRequest {
                    space_id: space,
                    channel_id: channel,
                    position: Some(n as i32),
                    ..Default::default()
                },
            )
            .await
        }
        "CreateFolder" => {
            try_call(
                c,
                "SpaceService/CreateFolder",
                pb::CreateFolderRequest { space_id: space, name: format!("f{n}"), ..Default::default() },
            )
            .await
        }
        "CreateRole" => {
            try_call(
                c,
                "SpaceService/CreateRole",
                pb::CreateRoleRequest { space_id: space, name: format!("r{n}"), position: 1, ..Default::default() },
            )
            .await
        }
        "SetOverwrite" => {
            try_call(
                c,
                "SpaceService/SetOverwrite",
                pb::SetOverwriteRequest {
                    space_id: space,
                    channel_id: channel,
                    overwrite: Some(pb::Overwrite {
                        target: Some(pb::OverwriteTarget {
                            target: Some(pb::overwrite_target::Target::RoleId(w.low_role.clone())),
                        }),
                        allow: perms(&[P::View]),
                        deny: vec![],
                    }),
                },
            )
            .await
        }
        "AssignRole" | "KickMember" | "BanMember" | "TimeoutMember" => {
            let victim = app.register(&format!("victim{n}")).await;
            join(&app.http(&victim).await, &w.victim_code).await;
            let user_id = victim.id.clone();
            match op {
                "AssignRole" => {
                    try_call(
                        c,
                        "SpaceService/AssignRole",
                        pb::AssignRoleRequest { space_id: space, user_id, role_id: w.low_role.clone() },
                    )
                    .await
                }
                "KickMember" => {
                    try_call(c, "SpaceService/KickMember", pb::KickMemberRequest { space_id: space, user_id }).await
                }
                "BanMember" => {
                    try_call(
                        c,
                        "SpaceService/BanMember",
                        pb::BanMemberRequest { space_id: space, user_id, reason: "x".into() },
                    )
                    .await
                }
                _ => {
                    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
                        as i64
                        + 60_000;
                    try_call(
                        c,
                        "SpaceService/TimeoutMember",
                        pb::TimeoutMemberRequest { space_id: space, user_id, until_ms: until },
                    )
                    .await
                }
            }
        }
        "GetMemberCard" => {
            let owner_id = get_space(owner, &space).await.owner_id;
            try_call(c, "SpaceService/GetMemberCard", pb::GetMemberCardRequest { space_id: space, user_id: owner_id })
                .await
        }
        "GetUnreadSummary" => {
            try_call(c, "SpaceService/GetUnreadSummary", pb::GetUnreadSummaryRequest { space_id: space }).await
        }
        "ListThreads" => {
            try_call(
                c,
                "ThreadService/ListThreads",
                pb::ListThreadsRequest { conversation_id: channel, ..Default::default() },
            )
            .await
        }
        "FollowThread" => {
            try_call(c, "ThreadService/FollowThread", pb::FollowThreadRequest { thread_id: w.thread.clone() }).await
        }
        "UpdateFolder" | "DeleteFolder" => {
            let f: pb::CreateFolderResponse = call(
                owner,
                "SpaceService/CreateFolder",
                pb::CreateFolderRequest { space_id: space.clone(), name: format!("fresh{n}"), ..Default::default() },
            )
            .await;
            let folder_id = f.folder.unwrap().id;
            if op == "UpdateFolder" {
                let req = pb::UpdateFolderRequest {
                    space_id: space,
                    folder_id,
                    name: Some("x".into()),
                    ..Default::default()
                };
                try_call(c, "SpaceService/UpdateFolder", req).await
            } else {
                try_call(c, "SpaceService/DeleteFolder", pb::DeleteFolderRequest { space_id: space, folder_id }).await
            }
        }
        "DeleteChannel" => {
            let req =
                pb::CreateChannelRequest { space_id: space.clone(), name: format!("doomed{n}"), ..Default::default() };
            let channel_id = create_channel(owner, req).await;
            try_call(c, "SpaceService/DeleteChannel", pb::DeleteChannelRequest { space_id: space, channel_id }).await
        }
        "UpdateRole" | "DeleteRole" => {
            let role_id = create_role(owner, &space, &format!("fresh{n}"), 1, &[], &[]).await.id;
            if op == "UpdateRole" {
                let req = pb::UpdateRoleRequest { space_id: space, role_id, colour: Some(7), ..Default::default() };
                try_call(c, "SpaceService/UpdateRole", req).await
            } else {
                try_call(c, "SpaceService/DeleteRole", pb::DeleteRoleRequest { space_id: space, role_id }).await
            }
        }
        "RemoveOverwrite" => {
            let target =
                Some(pb::OverwriteTarget { target: Some(pb::overwrite_target::Target::RoleId(w.low_role.clone())) });
            let _: pb::SetOverwriteResponse = call(
                owner,
                "SpaceService/SetOverwrite",
                pb::SetOverwriteRequest {
                    space_id: space.clone(),
                    channel_id: channel.clone(),
                    overwrite: Some(pb::Overwrite { target: target.clone(), allow: perms(&[P::View]), deny: vec![] }),
                },
            )
            .await;
            let req = pb::RemoveOverwriteRequest { space_id: space, channel_id: channel, target };
            try_call(c, "SpaceService/RemoveOverwrite", req).await
        }
        "UnbanMember" => {
            let victim = app.register(&format!("unbannable{n}")).await;
            let _: pb::BanMemberResponse = call(
                owner,
                "SpaceService/BanMember",
                pb::BanMemberRequest { space_id: space.clone(), user_id: victim.id.clone(), reason: String::new() },
            )
            .await;
            try_call(c, "SpaceService/UnbanMember", pb::UnbanMemberRequest { space_id: space, user_id: victim.id })
                .await
        }
        "ListInvites" => {
            try_call(c, "InviteService/ListInvites", pb::ListInvitesRequest { conversation_id: space }).await
        }
        "RevokeInvite" => {
            let code = invite(owner, &space, 0).await;
            try_call(c, "InviteService/RevokeInvite", pb::RevokeInviteRequest { code }).await
        }
        "ListJoinRequests" => {
            try_call(c, "InviteService/ListJoinRequests", pb::ListJoinRequestsRequest { conversation_id: space }).await
        }
        "UnassignRole" => {
            let victim = app.register(&format!("holder{n}")).await;
            join(&app.http(&victim).await, &w.victim_code).await;
            assign(owner, &space, &victim, &w.low_role).await;
            let req = pb::UnassignRoleRequest { space_id: space, user_id: victim.id, role_id: w.low_role.clone() };
            try_call(c, "SpaceService/UnassignRole", req).await
        }
        "ListBans" => {
            try_call(c, "SpaceService/ListBans", pb::ListBansRequest { space_id: space, ..Default::default() }).await
        }
        "DeleteSpace" => {
            // Only the owner could succeed, so the owner's row runs on a scratch space.
            let target =
                if who == Who::Owner { create_space(owner, &format!("scratch{n}"), false).await.id } else { space };
            try_call(c, "SpaceService/DeleteSpace", pb::DeleteSpaceRequest { space_id: target }).await
        }
        other => panic!("unknown operation {other}"),
    }
}

/// Every space and channel operation, for the owner, a member with an admin role, a plain
/// member, a member whose channel overwrite denies everything but view, a non-member and
/// a banned user.
#[tokio::test]
async fn permission_matrix_of_space_and_channel_operations() {
    let app = TestApp::spawn().await;
    let owner_u = app.register("owner").await;
    let admin_u = app.register("admin").await;
    let plain_u = app.register("plain").await;
    let denied_u = app.register("denied").await;
    let outsider_u = app.register("outsider").await;
    let banned_u = app.register("banned").await;
    let owner = app.http(&owner_u).await;
    let space = create_space(&owner, "Matrix", false).await;
    let sid = space.id.clone();
    let channel = space.default_channel_id.clone();
    let code = invite(&owner, &sid, 0).await;
    for u in [&admin_u, &plain_u, &denied_u, &banned_u] {
        join(&app.http(u).await, &code).await;
    }
    let admin_role = create_role(
        &owner,
        &sid,
        "admins",
        10,
        &[P::ManageSpace, P::ManageChannels, P::ManageRoles, P::Kick, P::Ban, P::ManageMessages, P::MentionEveryone],
        &[],
    )
    .await;
    assign(&owner, &sid, &admin_u, &admin_role.id).await;
    let low_role = create_role(&owner, &sid, "low", 2, &[], &[]).await;
    let all_but_view: Vec<P> = [
        P::Send,
        P::SendInThreads,
        P::ManageMessages,
        P::MentionEveryone,
        P::ManageChannels,
        P::ManageRoles,
        P::ManageSpace,
        P::Kick,
        P::Ban,
        P::CreateInvites,
        P::ManageWebhooks,
    ]
    .to_vec();
    let _: pb::SetOverwriteResponse = call(
        &owner,
        "SpaceService/SetOverwrite",
        pb::SetOverwriteRequest {
            space_id: sid.clone(),
            channel_id: channel.clone(),
            overwrite: Some(pb::Overwrite {
                target: Some(pb::OverwriteTarget {
                    target: Some(pb::overwrite_target::Target::UserId(denied_u.id.clone())),
                }),
                allow: vec![],
                deny: perms(&all_but_view),
            }),
        },
    )
    .await;
    let _: pb::BanMemberResponse = call(
        &owner,
        "SpaceService/BanMember",
        pb::BanMemberRequest { space_id: sid.clone(), user_id: banned_u.id.clone(), reason: "matrix".into() },
    )
    .await;
    let others_message = send(&owner, &channel, "root", "thread root").await.id;
    let thread_root = send(&owner, &channel, "root2", "followable").await.id;
    let t: pb::StartThreadResponse = call(
        &owner,
        "ThreadService/StartThread",
        pb::StartThreadRequest { conversation_id: channel.clone(), message_id: thread_root, name: "followable".into() },
    )
    .await;
    let thread = t.thread.unwrap().conversation.unwrap().id;
    let world = World { space: sid, channel, victim_code: code, low_role: low_role.id, others_message, thread };

    use Who::*;
    let ok = |w: &[Who]| -> Row {
        EVERYONE
            .iter()
            .map(|who| {
                let outcome = if w.contains(who) {
                    None
                } else if matches!(who, Outsider | Banned) {
                    Some(pb::ErrorCode::NotFound)
                } else {
                    Some(pb::ErrorCode::PermissionDenied)
                };
                (*who, outcome)
            })
            .collect()
    };
    let members = [Owner, Admin, Plain, Denied];
    let managers = [Owner, Admin];
    let matrix: Vec<(&str, Row)> = vec![
        ("GetSpace", ok(&members)),
        ("ListSpaceMembers", ok(&members)),
        ("GetMyPermissions", ok(&members)),
        ("GetMemberCard", ok(&members)),
        ("GetUnreadSummary", ok(&members)),
        ("ListThreads", ok(&members)),
        ("FollowThread", ok(&members)),
        ("ListInvites", ok(&members)),
        ("RevokeInvite", ok(&members)),
        ("ReadChannel", ok(&members)),
        ("SendInChannel", ok(&[Owner, Admin, Plain])),
        ("MentionAll", ok(&managers)),
        ("DeleteOthersMessage", ok(&managers)),
        ("StartThread", ok(&[Owner, Admin, Plain])),
        ("CreateInvite", ok(&members)),
        ("UpdateSpace", ok(&managers)),
        ("CreateChannel", ok(&managers)),
        ("UpdateChannel", ok(&managers)),
        ("CreateFolder", ok(&managers)),
        ("UpdateFolder", ok(&managers)),
        ("DeleteFolder", ok(&managers)),
        ("DeleteChannel", ok(&managers)),
        ("UpdateRole", ok(&managers)),
        ("DeleteRole", ok(&managers)),
        ("UnassignRole", ok(&managers)),
        ("RemoveOverwrite", ok(&managers)),
        ("UnbanMember", ok(&managers)),
        ("ListJoinRequests", ok(&managers)),
        ("CreateRole", ok(&managers)),
        ("SetOverwrite", ok(&managers)),
        ("AssignRole", ok(&managers)),
        ("KickMember", ok(&managers)),
        ("BanMember", ok(&managers)),
        ("TimeoutMember", ok(&managers)),
        ("ListBans", ok(&managers)),
        ("DeleteSpace", ok(&[Owner])),
    ];
    let clients = [
        (Owner, app.http(&owner_u).await),
        (Admin, app.http(&admin_u).await),
        (Plain, app.http(&plain_u).await),
        (Denied, app.http(&denied_u).await),
        (Outsider, app.http(&outsider_u).await),
        (Banned, app.http(&banned_u).await),
    ];
    let mut n = 0;
    let mut failures = Vec::new();
    for (op, row) in &matrix {
        for (who, want) in row {
            n += 1;
            let c = &clients.iter().find(|(w, _)| w == who).unwrap().1;
            let got = run_op(&app, &world, op, c, *who, &owner, n).await.err().map(|e| e.code);
            if got != *want {
                failures.push(format!("{op} as {who:?}: want {want:?}, got {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    app.stop().await;
}
