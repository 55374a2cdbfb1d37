//! The WebSocket transport: a background task owns the socket, matches responses to
//! requests by id, and forwards events and the close frame to the event stream.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchboard_proto::v1 as pb;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::{ClientError, Events, StreamEvent, Tls};

type Reply = Result<Body, ClientError>;

/// A response body in either format.
enum Body {
    Json(Value),
    Proto(Vec<u8>),
}

struct Outgoing {
    msg: Message,
    id: String,
    reply: oneshot::Sender<Reply>,
}

pub(crate) struct WsConn {
    out: mpsc::Sender<Outgoing>,
    close: mpsc::Sender<()>,
    events: Arc<Mutex<Option<mpsc::Receiver<StreamEvent>>>>,
    next_id: AtomicU64,
    json: bool,
}

impl WsConn {
    pub(crate) async fn connect(
        addr: &str,
        token: Option<String>,
        json: bool,
        tls: Option<&Tls>,
    ) -> Result<Self, ClientError> {
        let scheme = if tls.is_some() { "wss" } else { "ws" };
        let url = match &token {
            Some(t) => format!("{scheme}://{addr}/v1/ws?access_token={t}"),
            None => format!("{scheme}://{addr}/v1/ws"),
        };
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4 * 1024);
        let (out_tx, out_rx) = mpsc::channel(256);
        let (ev_tx, ev_rx) = mpsc::channel(65_536);
        let (close_tx, close_rx) = mpsc::channel(1);
        match tls {
            None => {
                let (socket, _) =
                    tokio_tungstenite::connect_async_with_config(url, Some(config), false).await.map_err(refused)?;
                tokio::spawn(run(socket, out_rx, ev_tx, close_rx));
            }
            Some(tls) => {
                let stream = crate::tls::connect(addr, tls, b"http/1.1").await.map_err(ClientError::unavailable)?;
                let (socket, _) =
                    tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await.map_err(refused)?;
                tokio::spawn(run(socket, out_rx, ev_tx, close_rx));
            }
        }
        Ok(Self {
            out: out_tx,
            close: close_tx,
            events: Arc::new(Mutex::new(Some(ev_rx))),
            next_id: AtomicU64::new(1),
            json,
        })
    }

    async fn roundtrip(&self, method: &str, body: Body) -> Result<Body, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        let msg = match body {
            Body::Json(v) => Message::Text(json!({"id": id, "method": method, "body": v}).to_string().into()),
            Body::Proto(b) => {
                let f = pb::ClientFrame { id: id.clone(), method: method.to_owned(), body: b };
                Message::Binary(f.encode_to_vec().into())
            }
        };
        let (tx, rx) = oneshot::channel();
        self.out
            .send(Outgoing { msg, id, reply: tx })
            .await
            .map_err(|_| ClientError::unavailable("connection closed"))?;
        rx.await.map_err(|_| ClientError::unavailable("connection closed"))?
    }

    pub(crate) async fn call<Req, Resp>(&self, method: &str, req: &Req) -> Result<Resp, ClientError>
    where
        Req: prost::Message + Serialize,
        Resp: prost::Message + Default + DeserializeOwned,
    {
        let body = if self.json {
            Body::Json(serde_json::to_value(req).map_err(ClientError::protocol)?)
        } else {
            Body::Proto(req.encode_to_vec())
        };
        match self.roundtrip(method, body).await? {
            Body::Json(v) => serde_json::from_value(v).map_err(ClientError::protocol),
            Body::Proto(b) => Resp::decode(b.as_slice()).map_err(ClientError::protocol),
        }
    }

    pub(crate) async fn subscribe(&mut self, req: pb::SubscribeRequest) -> Result<Events, ClientError> {
        let mut slot = self.events.lock().await;
        let rx = slot.take().ok_or_else(|| ClientError::local("already subscribed"))?;
        match self.call::<_, pb::SubscribeResponse>("SyncService/Subscribe", &req).await {
            Ok(_) => Ok(Events { rx }),
            Err(e) => {
                *slot = Some(rx);
                Err(e)
            }
        }
    }

    pub(crate) fn take_events(&mut self) -> Option<Events> {
        self.events.try_lock().ok()?.take().map(|rx| Events { rx })
    }

    pub(crate) async fn close(self) {
        let _ = self.close.send(()).await;
    }
}

/// What one incoming frame means for the connection.
#[allow(clippy::large_enum_variant, reason = "short-lived, moved once")]
enum Incoming {
    /// A response to a pending request.
    Response(String, Reply),
    /// An event of the stream.
    Event(pb::Event),
    /// Nothing to act on.
    Ignore,
}

fn binary_frame(bytes: bytes::Bytes) -> Incoming {
    let Ok(frame) = pb::ServerFrame::decode(bytes) else {
        return Incoming::Ignore;
    };
    match frame.kind {
        Some(pb::server_frame::Kind::Response(r)) => {
            let reply = match r.result {
                Some(pb::response_frame::Result::Body(b)) => Ok(Body::Proto(b)),
                Some(pb::response_frame::Result::Error(e)) => Err(e.into()),
                None => Ok(Body::Proto(Vec::new())),
            };
            Incoming::Response(r.id, reply)
        }
        Some(pb::server_frame::Kind::Event(e)) => Incoming::Event(e),
        Some(pb::server_frame::Kind::Error(e)) => {
            tracing::warn!(message = %e.message, "server reported a frame error");
            Incoming::Ignore
        }
        None => Incoming::Ignore,
    }
}

fn text_frame(text: &str) -> Incoming {
    let Ok(mut v) = serde_json::from_str::<Value>(text) else {
        return Incoming::Ignore;
    };
    if let Some(r) = v.get_mut("response") {
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let reply = match (r.get_mut("body").map(Value::take), r.get_mut("error").map(Value::take)) {
            (_, Some(e)) => {
                Err(serde_json::from_value::<pb::Error>(e).map_or_else(ClientError::protocol, ClientError::from))
            }
            (Some(b), None) => Ok(Body::Json(b)),
            (None, None) => Ok(Body::Json(json!({}))),
        };
        return Incoming::Response(id, reply);
    }
    if let Some(e) = v.get_mut("event").map(Value::take) {
        return match serde_json::from_value::<pb::Event>(e) {
            Ok(ev) => Incoming::Event(ev),
            Err(e) => {
                tracing::warn!(error = %e, "undecodable event");
                Incoming::Ignore
            }
        };
    }
    if let Some(e) = v.get("error") {
        tracing::warn!(error = %e, "server reported a frame error");
    }
    Incoming::Ignore
}

/// The server's refusal of the upgrade (its error body), or why the socket failed.
fn refused(e: tokio_tungstenite::tungstenite::Error) -> ClientError {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            let body = resp.body().clone().unwrap_or_default();
            serde_json::from_slice::<pb::Error>(&body).map(ClientError::from).unwrap_or_else(ClientError::unavailable)
        }
        e => ClientError::unavailable(e),
    }
}

async fn run<S>(
    socket: tokio_tungstenite::WebSocketStream<S>,
    mut out: mpsc::Receiver<Outgoing>,
    events: mpsc::Sender<StreamEvent>,
    mut close: mpsc::Receiver<()>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = socket.split();
    let mut pending: HashMap<String, oneshot::Sender<Reply>> = HashMap::new();
    let mut closed = StreamEvent::Closed { code: 1006, reason: "connection lost".into() };
    loop {
        let incoming = tokio::select! {
            o = out.recv() => {
                let Some(o) = o else { break };
                pending.insert(o.id, o.reply);
                if sink.send(o.msg).await.is_err() {
                    break;
                }
                continue;
            }
            _ = close.recv() => {
                let _ = sink.send(Message::Close(None)).await;
                closed = StreamEvent::Closed { code: 1000, reason: "closed by client".into() };
                break;
            }
            m = stream.next() => match m {
                Some(Ok(Message::Binary(b))) => binary_frame(b),
                Some(Ok(Message::Text(t))) => text_frame(t.as_str()),
                Some(Ok(Message::Close(frame))) => {
                    if let Some(f) = frame {
                        closed = StreamEvent::Closed { code: f.code.into(), reason: f.reason.to_string() };
                    }
                    break;
                }
                Some(Ok(_)) => Incoming::Ignore,
                Some(Err(_)) | None => break,
            },
        };
        match incoming {
            Incoming::Response(id, reply) => {
                if let Some(tx) = pending.remove(&id) {
                    let _ = tx.send(reply);
                }
            }
            Incoming::Event(e) => {
                if events.send(StreamEvent::Event(e)).await.is_err() {
                    break;
                }
            }
            Incoming::Ignore => {}
        }
    }
    for (_, tx) in pending.drain() {
        let _ = tx.send(Err(ClientError::unavailable("connection closed")));
    }
    let _ = events.send(closed).await;
}
