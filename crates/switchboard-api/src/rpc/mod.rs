//! The RPC table: every unary method by name, decoded from JSON or protobuf, run against
//! the service, and encoded back in the caller's format. gRPC, WebSocket and HTTP all call
//! [`dispatch`]; the handlers in the submodules implement the generated per-service traits,
//! and only convert wire types and call the service.

mod auth;
mod contacts;
mod conversations;
mod expressions;
mod files;
mod invites;
mod messages;
mod search;
mod server;
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
use switchboard_proto::v1 as pb;
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
    /// The caller once authenticated, for the access log.
    pub who: std::sync::Arc<std::sync::OnceLock<switchboard_core::UserId>>,
}

impl Ctx {
    /// The authenticated caller, charged one request against their rate limit.
    pub async fn principal(&self) -> ServiceResult<Principal> {
        let p = match &self.caller {
            Caller::Token(Some(t)) => self.services.authenticate(t).await?,
            Caller::Token(None) => return Err(ServiceError::unauthenticated("missing access token")),
            Caller::Connection(p) => {
                self.services.charge(p)?;
                *p
            }
        };
        let _ = self.who.set(p.user_id);
        Ok(p)
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

/// The handlers of every unary method: one trait per service, implemented by
/// [`Handlers`] in the submodules. Traits, the method list and the dispatch are generated
/// from `proto/` (`switchboard_proto::with_unary_methods!`), so a method without a
/// handler does not compile.
pub struct Handlers;

macro_rules! service_traits {
    ($( $(#[$sdoc:meta])* $svc:ident { $( $(#[$doc:meta])* $method:ident => $path:literal ($req:ident, $resp:ident) ),* $(,)? } )*) => {
        $(
            $(#[$sdoc])*
            pub trait $svc {
                $(
                    $(#[$doc])*
                    fn $method(ctx: Ctx, req: pb::$req) -> impl Future<Output = ServiceResult<pb::$resp>> + Send;
                )*
            }
        )*

        /// Every unary method, as "Service/Method".
        pub const METHODS: &[&str] = &[$($($path),*),*];

        async fn route(ctx: Ctx, method: &str, input: Input) -> Result<Output, ApiError> {
            match method {
                $($($path => call(ctx, input, <Handlers as $svc>::$method).await,)*)*
                _ => Err(ApiError::unknown_method(method)),
            }
        }
    };
}

switchboard_proto::with_unary_methods!(service_traits);

/// Runs one unary call: decode, call the service, encode; records metrics (labelled with
/// the `transport` it came by: grpc, connect, http or ws) and logs server-side failures once.
pub async fn dispatch(ctx: Ctx, transport: &'static str, method: &str, input: Input) -> Result<Output, ApiError> {
    let started = Instant::now();
    let who = ctx.who.clone();
    let result = route(ctx, method, input).await;
    let known = METHODS.contains(&method);
    let label = if known { method.to_owned() } else { "unknown".to_owned() };
    let code = match &result {
        Ok(_) => "ok",
        Err(e) => e.code().as_str(),
    };
    metrics::counter!("switchboard_requests_total", "method" => label.clone(), "code" => code, "transport" => transport)
        .increment(1);
    metrics::histogram!("switchboard_request_duration_seconds", "method" => label, "transport" => transport)
        .record(started.elapsed().as_secs_f64());
    if let Err(e) = &result {
        e.log(method);
    }
    // One line per request when the operator turned the access log on (`log_access`):
    // method, result, duration and the caller's id, never a token.
    tracing::info!(
        target: "switchboard_access",
        method,
        transport,
        code,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        user = who.get().map(|u| u.raw()),
        "request"
    );
    result
}
