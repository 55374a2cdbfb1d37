//! WebSocket at `/v1/ws`: requests and responses matched by id, events of the subscribed
//! stream on the same socket, JSON text frames or protobuf binary frames, keep-alive pings,
//! and close codes that say why the server closed.

mod frames;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use switchboard_proto::v1 as pb;
use switchboard_service::{CloseReason, Connection, EventStream, ServiceError, StreamItem};
use tokio::sync::{Semaphore, mpsc};
use tracing::Instrument;

use crate::ApiState;
use crate::error::ApiError;
use crate::rpc::{self, Caller, Ctx, Input, Output};
use frames::Request;

/// WebSocket read buffer per connection, bytes.
const READ_BUFFER: usize = 1024;
/// Most events that are already waiting and go out with the one being sent, in one write.
const COALESCE: usize = 16;

/// Close code: the session ended (logged out, ended elsewhere, password changed, disabled).
pub const CLOSE_SESSION_ENDED: u16 = 4001;
/// Close code: the client fell too far behind; reconnect and catch up.
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;
/// Close code: going away (server shutdown or idle timeout).
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code: the access token the socket was opened with expired.
pub const CLOSE_TOKEN_EXPIRED: u16 = 4002;

#[derive(Deserialize)]
pub(crate) struct WsQuery {
    access_token: Option<String>,
}

/// Upgrades after checking the token, if one is given, and registering the connection
/// (refused with 429 beyond the per-user and per-session caps); without a token, only
/// public methods (Register, Login, Refresh) are allowed on the socket.
pub(crate) async fn upgrade(
    State(state): State<ApiState>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    extensions: http::Extensions,
    ws: WebSocketUpgrade,
) -> Response {
    let refuse = |e: ApiError| crate::http::no_store(crate::http::error_response(&e));
    let token = match crate::peer::token_from(&headers, q.access_token) {
        Ok(t) => t,
        Err(e) => return refuse(e),
    };
    let conn = match token {
        Some(t) => match state.services.resolve_token(&t).await {
            Ok(p) => match Connection::open(state.services.hub().clone(), p) {
                Ok(c) => Some(c),
                Err(e) => return refuse(ApiError(e)),
            },
            Err(e) => return refuse(ApiError(e)),
        },
        None => None,
    };
    let peer = crate::peer::client_ip(&headers, &extensions, &state.options);
    let hard = state.options.max_frame_bytes.saturating_mul(2);
    // The socket lives on in the upgrade request's span, so its log lines carry its request id.
    let span = tracing::Span::current();
    // A small read buffer: the library zero-fills its whole read buffer on every read and
    // keeps it per connection, so its 128 KiB default costs CPU and idle memory.
    ws.max_message_size(hard)
        .max_frame_size(hard)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| run(socket, state, conn, peer).instrument(span))
        .into_response()
}

struct Subscribed {
    stream: EventStream,
    json: bool,
    /// The subscribed user, for the parts of events only they see.
    viewer: switchboard_core::UserId,
}

async fn next_event(sub: &mut Option<Subscribed>) -> Option<StreamItem> {
    match sub {
        Some(s) => s.stream.next().await,
        None => std::future::pending().await,
    }
}

/// Answers of requests running in their own tasks. Created on the first such request, so
/// that an idle connection (one Subscribe, then only events) does not hold its buffer.
#[derive(Default)]
struct Responses {
    channel: Option<(mpsc::Sender<Message>, mpsc::Receiver<Message>)>,
}

impl Responses {
    fn sender(&mut self) -> mpsc::Sender<Message> {
        self.channel.get_or_insert_with(|| mpsc::channel(64)).0.clone()
    }

    async fn next(&mut self) -> Message {
        match &mut self.channel {
            // The sender half lives here too, so the channel never reports closed.
            Some((_, rx)) => match rx.recv().await {
                Some(m) => m,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }
}

async fn closed(conn: &mut Option<Connection>) -> CloseReason {
    match conn {
        Some(c) => c.closed().await,
        None => std::future::pending().await,
    }
}

fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}

/// Close code: a frame exceeded the hard size limit.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code: the peer broke the WebSocket protocol.
pub const CLOSE_PROTOCOL: u16 = 1002;

/// The close frame for a socket-level receive error. The WebSocket library reports an
/// oversized message only through its error text, so that is what is matched.
fn protocol_close(e: &axum::Error) -> Message {
    let text = e.to_string();
    tracing::debug!(error = %text, "websocket receive error");
    if text.contains("too long") || text.contains("Space limit") {
        close_message(CLOSE_TOO_BIG, "message_too_big")
    } else {
        close_message(CLOSE_PROTOCOL, "protocol_error")
    }
}

fn close_for(reason: CloseReason) -> Message {
    match reason {
        CloseReason::SessionEnded(_) => close_message(CLOSE_SESSION_ENDED, "session_ended"),
        CloseReason::SlowConsumer => close_message(CLOSE_SLOW_CONSUMER, "slow_consumer"),
        CloseReason::Shutdown => close_message(CLOSE_GOING_AWAY, "server_shutdown"),
        CloseReason::TokenExpired => close_message(CLOSE_TOKEN_EXPIRED, "token_expired"),
    }
}

/// Runs `write` to completion within `deadline`. The timer is armed only when the write
/// cannot finish at once (the socket's buffer is full), so the usual write costs none; it
/// is boxed so that idle connections do not carry it in their task.
async fn within<T>(
    deadline: std::time::Duration,
    mut write: std::pin::Pin<&mut impl std::future::Future<Output = T>>,
) -> Result<T, tokio::time::error::Elapsed> {
    match write.as_mut().now_or_never() {
        Some(done) => Ok(done),
        None => Box::pin(tokio::time::timeout(deadline, write)).await,
    }
}

async fn run(socket: WebSocket, state: ApiState, mut conn: Option<Connection>, peer: Option<IpAddr>) {
    let (mut sink, mut incoming) = socket.split();
    if let Some(c) = &conn
        && let Err(e) = state.services.touch_session(c.principal()).await
    {
        ApiError(e).log("ws.connect");
    }
    let deadline = state.options.write_timeout;
    let mut responses = Responses::default();
    let inflight = Arc::new(Semaphore::new(state.options.max_inflight_per_connection));
    let mut sub: Option<Subscribed> = None;
    let mut ping = tokio::time::interval(state.options.ping_interval);
    let mut last_heard = Instant::now();
    metrics::counter!("switchboard_ws_connections_total").increment(1);
    let goodbye = loop {
        let out = tokio::select! {
            msg = incoming.next() => {
                let msg = match msg {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => break Some(protocol_close(&e)),
                    None => break None,
                };
                last_heard = Instant::now();
                match msg {
                    // Boxed: the handler's state exists only while a frame is handled, not in
                    // every idle connection's task.
                    Message::Text(t) => Box::pin(handle(&state, &conn, peer, &mut sub, &mut responses, &inflight, frames::parse_text(t.as_str(), state.options.max_frame_bytes))).await,
                    Message::Binary(b) => Box::pin(handle(&state, &conn, peer, &mut sub, &mut responses, &inflight, frames::parse_binary(b, state.options.max_frame_bytes))).await,
                    Message::Ping(_) | Message::Pong(_) => None,
                    Message::Close(_) => break None,
                }
            }
            out = responses.next() => Some(out),
            item = next_event(&mut sub) => match item {
                Some(StreamItem::Event(ev)) => sub.as_ref().map(|s| frames::event(&ev, s.json, s.viewer)),
                Some(StreamItem::Close(reason)) => break Some(close_for(reason)),
                None => { sub = None; None }
            },
            reason = closed(&mut conn) => break Some(close_for(reason)),
            _ = ping.tick() => {
                if last_heard.elapsed() > state.options.idle_timeout {
                    break Some(close_message(CLOSE_GOING_AWAY, "idle_timeout"));
                }
                Some(Message::Ping(bytes::Bytes::new()))
            }
        };
        let Some(out) = out else { continue };
        // A peer that stops reading fills the socket's buffers and every write waits: past
        // the write deadline the socket is dropped, whatever is still queued for it.
        let write = std::pin::pin!(async {
            sink.feed(out).await.map_err(|_| ())?;
            // Events already waiting join this write: one syscall for a burst instead of one
            // per event (a busy group queues several per socket).
            let mut then = None;
            for _ in 0..COALESCE {
                let Some(s) = sub.as_mut() else { break };
                let frame = match s.stream.next().now_or_never() {
                    Some(Some(StreamItem::Event(ev))) => frames::event(&ev, s.json, s.viewer),
                    Some(Some(StreamItem::Close(reason))) => {
                        then = Some(close_for(reason));
                        break;
                    }
                    Some(None) => {
                        sub = None;
                        break;
                    }
                    None => break,
                };
                sink.feed(frame).await.map_err(|_| ())?;
            }
            sink.flush().await.map_err(|_| ())?;
            Ok::<_, ()>(then)
        });
        match within(deadline, write).await {
            Ok(Ok(None)) => {}
            Ok(Ok(then)) => break then,
            Ok(Err(())) => break None,
            Err(_) => {
                metrics::counter!("switchboard_ws_write_timeouts_total").increment(1);
                tracing::debug!("websocket write deadline passed; dropping the socket");
                return;
            }
        }
    };
    // The goodbye gets the same deadline; a peer that does not read it is simply dropped.
    let goodbye = std::pin::pin!(async {
        if let Some(close) = goodbye {
            let _ = sink.send(close).await;
        }
        let _ = sink.close().await;
    });
    let _ = within(deadline, goodbye).await;
}

/// Handles one parsed frame; returns a frame to send now, if any (errors and Subscribe
/// acknowledgements). Other calls run in their own task and answer through `responses`.
async fn handle(
    state: &ApiState,
    conn: &Option<Connection>,
    peer: Option<IpAddr>,
    sub: &mut Option<Subscribed>,
    responses: &mut Responses,
    inflight: &Arc<Semaphore>,
    parsed: Result<Request, frames::Malformed>,
) -> Option<Message> {
    let req = match parsed {
        Ok(r) => r,
        Err(bad) => {
            return Some(match *bad {
                (Some(id), e, json) => frames::response(&id, Err(e), json),
                (None, e, json) => frames::frame_error(&e, json),
            });
        }
    };
    if req.method == rpc::SUBSCRIBE {
        let result = subscribe(state, conn, sub, req.input, req.json).await;
        return Some(frames::response(&req.id, result, req.json));
    }
    let Ok(permit) = inflight.clone().try_acquire_owned() else {
        let e = ApiError(
            ServiceError::exhausted("too many requests in flight on this connection", 100)
                .because("too_many_in_flight"),
        );
        return Some(frames::response(&req.id, Err(e), req.json));
    };
    let caller = match conn {
        Some(c) => Caller::Connection(*c.principal()),
        None => Caller::Token(None),
    };
    let ctx = Ctx { services: state.services.clone(), caller, peer, who: Default::default() };
    let tx = responses.sender();
    let span = tracing::info_span!("ws_request", frame_id = %req.id, rpc = %req.method);
    tokio::spawn(
        async move {
            let result = rpc::dispatch(ctx, "ws", &req.method, req.input).await;
            let _ = tx.send(frames::response(&req.id, result, req.json)).await;
            drop(permit);
        }
        .instrument(span),
    );
    None
}

async fn subscribe(
    state: &ApiState,
    conn: &Option<Connection>,
    sub: &mut Option<Subscribed>,
    input: Input,
    json: bool,
) -> Result<Output, ApiError> {
    let Some(conn) = conn else {
        return Err(ApiError(ServiceError::unauthenticated("connect with an access token to subscribe")));
    };
    if sub.is_some() {
        return Err(ApiError(
            ServiceError::precondition("this connection is already subscribed").because("already_subscribed"),
        ));
    }
    let (body, _) = crate::decode::request::<pb::SubscribeRequest>(input)?;
    let pos = rpc::positions_from(body.user_seq, &body.positions)?;
    let stream = state.services.subscribe(conn, pos, body.live_only).await?;
    *sub = Some(Subscribed { stream, json, viewer: conn.principal().user_id });
    frames::encode_output(&pb::SubscribeResponse {}, json)
}
