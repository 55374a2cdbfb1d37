//! The RPC table: every unary method by name, decoded from JSON or protobuf, run against
//! the service, and encoded back in the caller's format. gRPC, WebSocket and HTTP all call
//! [`dispatch`]; the handlers in the submodules only convert wire types and call the service.

mod auth;
mod conversations;
mod invites;
mod messages;
mod signals;
mod spaces;
mod sync;
mod threads;
mod users;

use std::future::Future;
use std::time::Instant;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_service::{Principal, ServiceError, ServiceResult, Services};

use crate::error::ApiError;

pub use sync::positions_from;

/// The server-streaming method; transports handle it themselves.
pub const SUBSCRIBE: &str = "SyncService/Subscribe";

/// Who is calling.
#[derive(Clone)]
pub enum Caller {
    /// A bearer token presented with this request (gRPC, HTTP), or none.
    Token(Option<String>),
    /// A connection authenticated when it opened (WebSocket).
    Connection(Principal),
}

/// The context of one call.
#[derive(Clone)]
pub struct Ctx {
    /// The use cases.
    pub services: Services,
    /// The caller.
    pub caller: Caller,
    /// The client's address, for the limits on Register, Login and Refresh.
    pub peer: Option<std::net::IpAddr>,
}

impl Ctx {
    /// The authenticated caller, charged one request against their rate limit.
    pub async fn principal(&self) -> ServiceResult<Principal> {
        match &self.caller {
            Caller::Token(Some(t)) => self.services.authenticate(t).await,
            Caller::Token(None) => Err(ServiceError::unauthenticated("missing access token")),
            Caller::Connection(p) => {
                self.services.charge(p)?;
                Ok(*p)
            }
        }
    }
}

/// A request body in one of the wire formats.
pub enum Input {
    /// JSON already parsed (WebSocket text frames).
    Json(serde_json::Value),
    /// JSON bytes (HTTP bodies); empty means `{}`.
    JsonBytes(Bytes),
    /// Protobuf bytes (gRPC, WebSocket binary frames).
    Proto(Bytes),
}

/// A response body in the request's format.
#[derive(Debug)]
pub enum Output {
    /// JSON.
    Json(serde_json::Value),
    /// Protobuf.
    Proto(Vec<u8>),
}

fn encode<T: prost::Message + Serialize>(value: &T, json: bool) -> Result<Output, ApiError> {
    if json {
        serde_json::to_value(value)
            .map(Output::Json)
            .map_err(|e| ApiError(ServiceError::internal(format!("encode response: {e}"))))
    } else {
        Ok(Output::Proto(value.encode_to_vec()))
    }
}

async fn call<Req, Resp, F, Fut>(ctx: Ctx, input: Input, handler: F) -> Result<Output, ApiError>
where
    Req: prost::Message + Default + DeserializeOwned + Serialize,
    Resp: prost::Message + Serialize,
    F: FnOnce(Ctx, Req) -> Fut,
    Fut: Future<Output = ServiceResult<Resp>>,
{
    let (req, json) = crate::decode::request::<Req>(input)?;
    let resp = handler(ctx, req).await?;
    encode(&resp, json)
}

macro_rules! rpc_table {
    ($($name:literal => $handler:path),* $(,)?) => {
        /// Every unary method, as "Service/Method".
        pub const METHODS: &[&str] = &[$($name),*];

        async fn route(ctx: Ctx, method: &str, input: Input) -> Result<Output, ApiError> {
            match method {
                $($name => call(ctx, input, $handler).await,)*
                _ => Err(ApiError::unknown_method(method)),
            }
        }
    };
}

rpc_table! {
    "AuthService/Register" => auth::register,
    "AuthService/Login" => auth::login,
    "AuthService/Refresh" => auth::refresh,
    "AuthService/Logout" => auth::logout,
    "AuthService/ChangePassword" => auth::change_password,
    "SessionService/ListSessions" => auth::list_sessions,
    "SessionService/EndSession" => auth::end_session,
    "SessionService/EndOtherSessions" => auth::end_other_sessions,
    "AdminService/CreateRegistrationInvite" => auth::create_registration_invite,
    "AdminService/CreateBot" => auth::create_bot,
    "AdminService/SetUserDisabled" => auth::set_user_disabled,
    "UserService/GetMe" => users::get_me,
    "UserService/UpdateProfile" => users::update_profile,
    "UserService/GetUsers" => users::get_users,
    "UserService/SearchUsers" => users::search_users,
    "ConversationService/CreateDirect" => conversations::create_direct,
    "ConversationService/CreateConversation" => conversations::create_conversation,
    "ConversationService/GetConversation" => conversations::get_conversation,
    "ConversationService/ListConversations" => conversations::list_conversations,
    "ConversationService/UpdateConversation" => conversations::update_conversation,
    "ConversationService/AddMembers" => conversations::add_members,
    "ConversationService/RemoveMember" => conversations::remove_member,
    "ConversationService/LeaveConversation" => conversations::leave_conversation,
    "ConversationService/TransferOwnership" => conversations::transfer_ownership,
    "ConversationService/SetMemberRole" => conversations::set_member_role,
    "ConversationService/ListMembers" => conversations::list_members,
    "ConversationService/UpdateMemberSettings" => conversations::update_member_settings,
    "MessageService/SendMessage" => messages::send_message,
    "MessageService/EditMessage" => messages::edit_message,
    "MessageService/DeleteMessages" => messages::delete_messages,
    "MessageService/ClearHistory" => messages::clear_history,
    "MessageService/GetHistory" => messages::get_history,
    "MessageService/GetMessages" => messages::get_messages,
    "MessageService/MarkRead" => messages::mark_read,
    "MessageService/MarkDelivered" => messages::mark_delivered,
    "MessageService/GetReceipts" => messages::get_receipts,
    "SignalService/SetTyping" => signals::set_typing,
    "SignalService/SetPresence" => signals::set_presence,
    "SignalService/SubscribePresence" => signals::subscribe_presence,
    "SignalService/UnsubscribePresence" => signals::unsubscribe_presence,
    "SyncService/GetState" => sync::get_state,
    "SyncService/GetDifference" => sync::get_difference,
    "SpaceService/CreateSpace" => spaces::create_space,
    "SpaceService/GetSpace" => spaces::get_space,
    "SpaceService/UpdateSpace" => spaces::update_space,
    "SpaceService/DeleteSpace" => spaces::delete_space,
    "SpaceService/ListMySpaces" => spaces::list_my_spaces,
    "SpaceService/SearchSpaces" => spaces::search_spaces,
    "SpaceService/JoinSpace" => spaces::join_space,
    "SpaceService/LeaveSpace" => spaces::leave_space,
    "SpaceService/ListSpaceMembers" => spaces::list_space_members,
    "SpaceService/GetMemberCard" => spaces::get_member_card,
    "SpaceService/CreateFolder" => spaces::create_folder,
    "SpaceService/UpdateFolder" => spaces::update_folder,
    "SpaceService/DeleteFolder" => spaces::delete_folder,
    "SpaceService/CreateChannel" => spaces::create_channel,
    "SpaceService/UpdateChannel" => spaces::update_channel,
    "SpaceService/DeleteChannel" => spaces::delete_channel,
    "SpaceService/CreateRole" => spaces::create_role,
    "SpaceService/UpdateRole" => spaces::update_role,
    "SpaceService/DeleteRole" => spaces::delete_role,
    "SpaceService/AssignRole" => spaces::assign_role,
    "SpaceService/UnassignRole" => spaces::unassign_role,
    "SpaceService/SetOverwrite" => spaces::set_overwrite,
    "SpaceService/RemoveOverwrite" => spaces::remove_overwrite,
    "SpaceService/GetMyPermissions" => spaces::get_my_permissions,
    "SpaceService/KickMember" => spaces::kick_member,
    "SpaceService/BanMember" => spaces::ban_member,
    "SpaceService/UnbanMember" => spaces::unban_member,
    "SpaceService/ListBans" => spaces::list_bans,
    "SpaceService/TimeoutMember" => spaces::timeout_member,
    "SpaceService/GetUnreadSummary" => spaces::get_unread_summary,
    "InviteService/CreateInvite" => invites::create_invite,
    "InviteService/PreviewInvite" => invites::preview_invite,
    "InviteService/JoinByInvite" => invites::join_by_invite,
    "InviteService/ListInvites" => invites::list_invites,
    "InviteService/RevokeInvite" => invites::revoke_invite,
    "InviteService/ListJoinRequests" => invites::list_join_requests,
    "InviteService/DecideJoinRequest" => invites::decide_join_request,
    "ThreadService/StartThread" => threads::start_thread,
    "ThreadService/ListThreads" => threads::list_threads,
    "ThreadService/FollowThread" => threads::follow_thread,
    "ThreadService/UnfollowThread" => threads::unfollow_thread,
}

/// Runs one unary call: decode, call the service, encode; records metrics and logs
/// server-side failures once.
pub async fn dispatch(ctx: Ctx, method: &str, input: Input) -> Result<Output, ApiError> {
    let started = Instant::now();
    let result = route(ctx, method, input).await;
    let known = METHODS.contains(&method);
    let label = if known { method.to_owned() } else { "unknown".to_owned() };
    let code = match &result {
        Ok(_) => "ok",
        Err(e) => e.code().as_str(),
    };
    metrics::counter!("switchboard_requests_total", "method" => label.clone(), "code" => code).increment(1);
    metrics::histogram!("switchboard_request_duration_seconds", "method" => label)
        .record(started.elapsed().as_secs_f64());
    if let Err(e) = &result {
        e.log(method);
    }
    result
}
