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

use crate::{ClientError, Events, StreamEvent};

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
    pub(crate) async fn connect(addr: &str, token: Option<String>, json: bool) -> Result<Self, ClientError> {
        let url = match &token {
            Some(t) => format!("ws://{addr}/v1/ws?access_token={t}"),
            None => format!("ws://{addr}/v1/ws"),
        };
        let (socket, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => {
                let body = resp.body().clone().unwrap_or_default();
                serde_json::from_slice::<pb::Error>(&body).map(ClientError::from).unwrap_or_else(ClientError::unavailable)
            }
            e => ClientError::unavailable(e),
        })?;
        let (out_tx, out_rx) = mpsc::channel(256);
        let (ev_tx, ev_rx) = mpsc::channel(65_536);
        let (close_tx, close_rx) = mpsc::channel(1);
        tokio::spawn(run(socket, out_rx, ev_tx, close_rx));
        Ok(Self { out: out_tx, close: close_tx, events: Arc::new(Mutex::new(Some(ev_rx))), next_id: AtomicU64::new(1), json })
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
        self.out.send(Outgoing { msg, id, reply: tx }).await.map_err(|_| ClientError::unavailable("connection closed"))?;
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

fn parse(msg: Message) -> Option<Result<pb::ServerFrame, Value>> {
    match msg {
        Message::Binary(b) => pb::ServerFrame::decode(b).ok().map(Ok),
        Message::Text(t) => serde_json::from_str::<Value>(t.as_str()).ok().map(Err),
        _ => None,
    }
}

async fn run(
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    mut out: mpsc::Receiver<Outgoing>,
    events: mpsc::Sender<StreamEvent>,
    mut close: mpsc::Receiver<()>,
) {
    let (mut sink, mut stream) = socket.split();
    let mut pending: HashMap<String, oneshot::Sender<Reply>> = HashMap::new();
    let mut closed = StreamEvent::Closed { code: 1006, reason: "connection lost".into() };
    loop {
        tokio::select! {
            o = out.recv() => {
                let Some(o) = o else { break };
                pending.insert(o.id, o.reply);
                if sink.send(o.msg).await.is_err() { break; }
            }
            _ = close.recv() => {
                let _ = sink.send(Message::Close(None)).await;
                closed = StreamEvent::Closed { code: 1000, reason: "closed by client".into() };
                break;
            }
            m = stream.next() => {
                let Some(Ok(m)) = m else { break };
                if let Message::Close(frame) = &m {
                    if let Some(f) = frame {
                        closed = StreamEvent::Closed { code: f.code.into(), reason: f.reason.to_string() };
                    }
                    break;
                }
                match parse(m) {
                    Some(Ok(frame)) => match frame.kind {
                        Some(pb::server_frame::Kind::Response(r)) => {
                            let reply = match r.result {
                                Some(pb::response_frame::Result::Body(b)) => Ok(Body::Proto(b)),
                                Some(pb::response_frame::Result::Error(e)) => Err(e.into()),
                                None => Ok(Body::Proto(Vec::new())),
                            };
                            if let Some(tx) = pending.remove(&r.id) { let _ = tx.send(reply); }
                        }
                        Some(pb::server_frame::Kind::Event(e)) => { if events.send(StreamEvent::Event(e)).await.is_err() { break; } }
                        Some(pb::server_frame::Kind::Error(e)) => tracing::warn!(message = %e.message, "server reported a frame error"),
                        None => {}
                    },
                    Some(Err(mut v)) => {
                        if let Some(r) = v.get_mut("response") {
                            let id = r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                            let reply = match (r.get_mut("body").map(Value::take), r.get_mut("error").map(Value::take)) {
                                (_, Some(e)) => Err(serde_json::from_value::<pb::Error>(e).map(ClientError::from).unwrap_or_else(ClientError::protocol)),
                                (Some(b), None) => Ok(Body::Json(b)),
                                (None, None) => Ok(Body::Json(json!({}))),
                            };
                            if let Some(tx) = pending.remove(&id) { let _ = tx.send(reply); }
                        } else if let Some(e) = v.get_mut("event").map(Value::take) {
                            match serde_json::from_value::<pb::Event>(e) {
                                Ok(ev) => { if events.send(StreamEvent::Event(ev)).await.is_err() { break; } }
                                Err(e) => tracing::warn!(error = %e, "undecodable event"),
                            }
                        } else if let Some(e) = v.get("error") {
                            tracing::warn!(error = %e, "server reported a frame error");
                        }
                    }
                    None => {}
                }
            }
        }
    }
    for (_, tx) in pending.drain() {
        let _ = tx.send(Err(ClientError::unavailable("connection closed")));
    }
    let _ = events.send(closed).await;
}
