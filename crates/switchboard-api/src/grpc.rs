//! gRPC: every unary method and the Subscribe stream, served from the RPC table. tonic
//! does the framing; the payload stays raw bytes until `rpc::dispatch` decodes it, so the
//! same table serves gRPC, WebSocket and HTTP. Health and reflection are tonic's own.

use std::future::Future;
use std::pin::Pin;

use axum::extract::{Request, State};
use axum::response::Response;
use bytes::{Buf, BufMut, Bytes};
use futures_util::Stream;
use switchboard_service::{CloseReason, Connection, StreamItem};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, ServerStreamingService, UnaryService};

use crate::error::ApiError;
use crate::rpc::{self, Caller, Ctx, Input, Output};
use crate::{ApiState, EVENT_SLOT_PROTO};

/// Passes message bytes through untouched.
#[derive(Debug, Clone, Copy, Default)]
struct BytesCodec;

impl Codec for BytesCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesCodec;
    type Decoder = BytesCodec;

    fn encoder(&mut self) -> Self::Encoder {
        BytesCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesCodec
    }
}

impl Encoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for BytesCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// The bearer token in `authorization` metadata, if any; another scheme is refused.
fn bearer<T>(req: &tonic::Request<T>) -> Result<Option<String>, Status> {
    match req.metadata().get("authorization") {
        None => Ok(None),
        Some(v) => crate::peer::bearer_token(v.to_str().ok()).map(Some).map_err(|e| e.grpc_status()),
    }
}

/// The client address of a gRPC call (the HTTP request's extensions travel with it). The
/// metadata is copied into headers only when a proxy header is configured.
fn peer<T>(req: &tonic::Request<T>, state: &ApiState) -> Option<std::net::IpAddr> {
    let headers = match state.options.client_address_header {
        Some(_) => req.metadata().clone().into_headers(),
        None => http::HeaderMap::new(),
    };
    crate::peer::client_ip(&headers, req.extensions(), &state.options)
}

struct Unary {
    state: ApiState,
    method: String,
}

impl UnaryService<Bytes> for Unary {
    type Response = Bytes;
    type Future = Pin<Box<dyn Future<Output = Result<tonic::Response<Bytes>, Status>> + Send>>;

    fn call(&mut self, req: tonic::Request<Bytes>) -> Self::Future {
        let caller = bearer(&req).map(Caller::Token);
        let ctx = caller.map(|caller| Ctx {
            services: self.state.services.clone(),
            caller,
            peer: peer(&req, &self.state),
            who: Default::default(),
        });
        let method = std::mem::take(&mut self.method);
        Box::pin(async move {
            let ctx = ctx?;
            match rpc::dispatch(ctx, "grpc", &method, Input::Proto(req.into_inner())).await {
                Ok(Output::Proto(bytes)) => Ok(tonic::Response::new(Bytes::from(bytes))),
                Ok(Output::Json(_)) => Err(Status::internal("internal error")),
                Err(e) => Err(e.grpc_status()),
            }
        })
    }
}

type EventResult = Result<Bytes, Status>;

struct Subscribe {
    state: ApiState,
}

fn close_status(reason: CloseReason) -> Status {
    match reason {
        CloseReason::SlowConsumer => Status::resource_exhausted("slow_consumer: reconnect and catch up"),
        CloseReason::SessionEnded(_) => Status::unauthenticated("session_ended"),
        CloseReason::Shutdown => Status::unavailable("server_shutdown: reconnect"),
        CloseReason::TokenExpired => Status::unauthenticated("token_expired: refresh the token and reconnect"),
    }
}

impl ServerStreamingService<Bytes> for Subscribe {
    type Response = Bytes;
    type ResponseStream = Pin<Box<dyn Stream<Item = EventResult> + Send>>;
    type Future = Pin<Box<dyn Future<Output = Result<tonic::Response<Self::ResponseStream>, Status>> + Send>>;

    fn call(&mut self, req: tonic::Request<Bytes>) -> Self::Future {
        let services = self.state.services.clone();
        Box::pin(async move {
            let token = bearer(&req)?.unwrap_or_default();
            let principal = services.authenticate(&token).await.map_err(|e| ApiError(e).grpc_status())?;
            let body = <switchboard_proto::v1::SubscribeRequest as prost::Message>::decode(req.into_inner())
                .map_err(|e| ApiError::malformed(e.to_string()).grpc_status())?;
            let pos = rpc::positions_from(body.user_seq, &body.positions).map_err(|e| ApiError(e).grpc_status())?;
            let conn = Connection::open(services.hub().clone(), principal).map_err(|e| ApiError(e).grpc_status())?;
            let events = services.subscribe(&conn, pos, body.live_only).await.map_err(|e| ApiError(e).grpc_status())?;
            let stream = futures_util::stream::unfold(Some((conn, events)), |st| async move {
                let (mut conn, mut events) = st?;
                let item = tokio::select! {
                    item = events.next() => item,
                    reason = conn.closed() => Some(StreamItem::Close(reason)),
                };
                match item {
                    Some(StreamItem::Event(ev)) => {
                        let viewer = conn.principal().user_id;
                        let bytes = ev.encoded(EVENT_SLOT_PROTO, viewer, |e| {
                            Bytes::from(prost::Message::encode_to_vec(&crate::convert::event(e, Some(viewer))))
                        });
                        Some((Ok(bytes), Some((conn, events))))
                    }
                    Some(StreamItem::Close(reason)) => Some((Err(close_status(reason)), None)),
                    None => None,
                }
            });
            Ok(tonic::Response::new(Box::pin(stream) as Self::ResponseStream))
        })
    }
}

/// Serves `/switchboard.v1.<Service>/<Method>`.
pub(crate) async fn handle(State(state): State<ApiState>, req: Request) -> Response {
    let method = req.uri().path().strip_prefix("/switchboard.v1.").unwrap_or_default().to_owned();
    let known = method == rpc::SUBSCRIBE || rpc::METHODS.contains(&method.as_str());
    if crate::connect::is_connect(req.headers()) {
        if !known {
            return crate::connect::not_found(&method);
        }
        return crate::connect::handle(state, method, req).await;
    }
    let limit = state.options.max_frame_bytes;
    let mut grpc = Grpc::new(BytesCodec).max_decoding_message_size(limit);
    let resp = if method == rpc::SUBSCRIBE {
        grpc.server_streaming(Subscribe { state }, req).await
    } else if rpc::METHODS.contains(&method.as_str()) {
        grpc.unary(Unary { state, method }, req).await
    } else {
        ApiError::unknown_method(&method).grpc_status().into_http()
    };
    resp.map(axum::body::Body::new)
}

/// Any other path: `UNIMPLEMENTED` for a gRPC request, a plain 404 for anything else.
pub(crate) async fn fallback(req: Request) -> Response {
    if crate::connect::is_connect(req.headers()) {
        return crate::connect::not_found(req.uri().path().trim_start_matches('/'));
    }
    Status::unimplemented("unknown service or method").into_http::<axum::body::Body>()
}

/// How often the gRPC health status re-checks readiness.
const HEALTH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The gRPC health and reflection services. Health follows readiness, as `/readyz` does:
/// SERVING while the store answers and the bus is connected, NOT_SERVING otherwise and
/// from the moment the server starts draining.
pub(crate) async fn standard_services(
    services: switchboard_service::Services,
    draining: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> axum::Router {
    use tonic_health::ServingStatus;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", ServingStatus::Serving).await;
    tokio::spawn(async move {
        let mut last = ServingStatus::Serving;
        loop {
            let drained = draining.load(std::sync::atomic::Ordering::Relaxed);
            let now = if !drained && services.ready().await.is_ok() {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            if now != last {
                tracing::info!(status = ?now, "gRPC health changed");
                reporter.set_service_status("", now).await;
                last = now;
            }
            if drained {
                return;
            }
            tokio::time::sleep(HEALTH_EVERY).await;
        }
    });
    let mut routes = tonic::service::Routes::new(health);
    let fds = switchboard_proto::FILE_DESCRIPTOR_SET;
    match tonic_reflection::server::Builder::configure().register_encoded_file_descriptor_set(fds).build_v1() {
        Ok(svc) => routes = routes.add_service(svc),
        Err(e) => tracing::error!(error = %e, "gRPC reflection v1 unavailable"),
    }
    match tonic_reflection::server::Builder::configure().register_encoded_file_descriptor_set(fds).build_v1alpha() {
        Ok(svc) => routes = routes.add_service(svc),
        Err(e) => tracing::error!(error = %e, "gRPC reflection v1alpha unavailable"),
    }
    routes.into_axum_router()
}
