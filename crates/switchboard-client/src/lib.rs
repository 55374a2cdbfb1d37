//! Rust client SDK for Switchboard. One [`Client`] type speaks WebSocket (JSON or
//! protobuf frames), gRPC or HTTP; [`Client::call`] runs any unary method by name,
//! [`Client::subscribe`] opens the event stream (WebSocket and gRPC), and [`Positions`]
//! tracks what a device has applied so that a reconnect resumes exactly where it left off;
//! [`Resumable`] does the reconnecting by itself.

mod error;
mod grpc;
mod http;
mod positions;
mod resumable;
mod tls;
mod typed;
mod ws;

use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_proto::v1 as pb;
use tokio::sync::mpsc;

pub use error::ClientError;
pub use positions::Positions;
pub use resumable::Resumable;
pub use switchboard_proto::v1 as proto;
pub use tls::Tls;

/// How a client talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// gRPC over HTTP/2.
    Grpc,
    /// WebSocket with JSON text frames.
    WsJson,
    /// WebSocket with protobuf binary frames.
    WsBinary,
    /// Plain HTTP POST with JSON bodies (no event stream).
    Http,
}

impl Transport {
    /// Every transport.
    pub const ALL: [Transport; 4] = [Transport::Grpc, Transport::WsJson, Transport::WsBinary, Transport::Http];
}

/// What an event stream yields.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant, reason = "events dominate the stream; boxing each would cost an allocation")]
pub enum StreamEvent {
    /// An event.
    Event(pb::Event),
    /// The server closed the stream: WebSocket close code (or 0 for gRPC) and reason.
    Closed {
        /// Close code.
        code: u16,
        /// Reason text (`session_ended`, `slow_consumer`, `server_shutdown`, ...).
        reason: String,
    },
}

/// Events of a subscribed stream.
pub struct Events {
    rx: mpsc::Receiver<StreamEvent>,
}

impl Events {
    /// The next event; `None` once the stream is gone.
    pub async fn next(&mut self) -> Option<StreamEvent> {
        self.rx.recv().await
    }

    /// The next event within `timeout`.
    pub async fn next_within(&mut self, timeout: std::time::Duration) -> Option<StreamEvent> {
        tokio::time::timeout(timeout, self.rx.recv()).await.ok().flatten()
    }
}

#[allow(clippy::large_enum_variant, reason = "one per client")]
enum Inner {
    Grpc(grpc::GrpcConn),
    Ws(ws::WsConn),
    Http(http::HttpConn),
}

/// A connection to a Switchboard server.
pub struct Client {
    inner: Inner,
    transport: Transport,
}

impl Client {
    /// Connects to `addr` (`host:port`), optionally with an access token. WebSocket
    /// connections without a token may only call Register, Login and Refresh. An address
    /// written `https://host:port` connects over TLS, trusting the system's certificate
    /// authorities (see [`Client::connect_tls`] for others).
    pub async fn connect(addr: &str, transport: Transport, token: Option<&str>) -> Result<Self, ClientError> {
        match addr.strip_prefix("https://") {
            Some(rest) => Self::connect_tls(rest, transport, token, &Tls::system_roots()?).await,
            None => Self::open(addr.strip_prefix("http://").unwrap_or(addr), transport, token, None).await,
        }
    }

    /// Connects to `addr` (`host:port`) over TLS (HTTPS, WSS, gRPC over TLS), checking the
    /// server's certificate for the address's host name with `tls`.
    pub async fn connect_tls(
        addr: &str,
        transport: Transport,
        token: Option<&str>,
        tls: &Tls,
    ) -> Result<Self, ClientError> {
        Self::open(addr, transport, token, Some(tls)).await
    }

    async fn open(
        addr: &str,
        transport: Transport,
        token: Option<&str>,
        tls: Option<&Tls>,
    ) -> Result<Self, ClientError> {
        let token = token.map(str::to_owned);
        let inner = match transport {
            Transport::Grpc => Inner::Grpc(grpc::GrpcConn::connect(addr, token, tls).await?),
            Transport::WsJson => Inner::Ws(ws::WsConn::connect(addr, token, true, tls).await?),
            Transport::WsBinary => Inner::Ws(ws::WsConn::connect(addr, token, false, tls).await?),
            Transport::Http => Inner::Http(http::HttpConn::new(addr, token, tls)),
        };
        Ok(Self { inner, transport })
    }

    /// The transport in use.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Calls a unary method, named `"Service/Method"`.
    pub async fn call<Req, Resp>(&self, method: &str, req: &Req) -> Result<Resp, ClientError>
    where
        Req: prost::Message + Serialize + Clone + 'static,
        Resp: prost::Message + Default + DeserializeOwned + 'static,
    {
        match &self.inner {
            Inner::Grpc(c) => c.call(method, req.clone()).await,
            Inner::Ws(c) => c.call(method, req).await,
            Inner::Http(c) => c.call(method, req).await,
        }
    }

    /// Opens the event stream from `positions` (catch-up, then live).
    pub async fn subscribe(&mut self, req: pb::SubscribeRequest) -> Result<Events, ClientError> {
        match &mut self.inner {
            Inner::Grpc(c) => c.subscribe(req).await,
            Inner::Ws(c) => c.subscribe(req).await,
            Inner::Http(_) => Err(ClientError::local("HTTP has no event stream; poll SyncService/GetDifference")),
        }
    }

    /// Takes a WebSocket connection's event channel without subscribing: it then yields
    /// only the close notification (why the server closed the socket). WebSocket only;
    /// `None` after a subscribe.
    pub fn take_events(&mut self) -> Option<Events> {
        match &mut self.inner {
            Inner::Ws(c) => c.take_events(),
            _ => None,
        }
    }

    /// Closes the connection (WebSocket close handshake; others just drop).
    pub async fn close(self) {
        if let Inner::Ws(c) = self.inner {
            c.close().await;
        }
    }
}
