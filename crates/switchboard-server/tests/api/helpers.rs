//! `TestApp` and small helpers shared by the API tests.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use switchboard_client::proto as pb;
use switchboard_client::{Client, StreamEvent, Transport};
use switchboard_server::{App, Config};
use switchboard_service::Argon2Params;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server with its own data directory.
pub struct TestApp {
    pub addr: String,
    services: switchboard_service::Services,
    clock: std::sync::Arc<switchboard_service::clock::OffsetClock>,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A registered user and one session's token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub token: String,
    pub session_id: String,
}

pub const PASSWORD: &str = "correct horse battery";

/// Cheap password hashing and no rate or sign-in limits (every test client comes from
/// 127.0.0.1), so tests stay fast; the tests of those limits turn them back on.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = Config { data_dir: dir.to_path_buf(), ..Config::default() };
    config.service.argon2 = Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 };
    config.service.rate_limit.per_second = 0.0;
    config.service.auth_limits.per_address.per_second = 0.0;
    config.service.auth_limits.failed_logins_per_account.per_second = 0.0;
    config
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let clock = std::sync::Arc::new(switchboard_service::clock::OffsetClock::default());
        let app = App::with_clock(&config, clock.clone()).await.unwrap();
        let services = app.services.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(switchboard_server::run(listener, app, async {
            let _ = rx.await;
        }));
        Self { addr, services, clock, _dir: dir, stop: Some(tx), task: Some(task) }
    }

    /// A server on a fresh schema of the PostgreSQL database in
    /// `SWITCHBOARD_TEST_POSTGRES_URL`, with the local bus; `None` (and a printed reason)
    /// without it. The schema is dropped by [`TestApp::drop_schema`].
    pub async fn spawn_postgres() -> Option<(Self, PgSchema)> {
        let Ok(url) = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") else {
            eprintln!("skipped on PostgreSQL: SWITCHBOARD_TEST_POSTGRES_URL is not set");
            return None;
        };
        let schema = format!("t_{:x}", rand_suffix());
        let (u, s) = (url.clone(), schema.clone());
        let app = Self::spawn_with(move |c| {
            c.store = u;
            c.postgres.schema = s;
            c.postgres.pool_size = 4;
        })
        .await;
        Some((app, PgSchema { url, schema }))
    }

    /// A second server on the same PostgreSQL schema as `schema` (another node of one
    /// installation, with its own local bus).
    pub async fn spawn_beside(schema: &PgSchema, adjust: impl FnOnce(&mut Config)) -> Self {
        let (u, s) = (schema.url.clone(), schema.schema.clone());
        Self::spawn_with(move |c| {
            c.store = u;
            c.postgres.schema = s;
            c.postgres.pool_size = 4;
            adjust(c);
        })
        .await
    }

    /// Registers `name` over HTTP.
    pub async fn register(&self, name: &str) -> TestUser {
        self.register_via(Transport::Http, name).await
    }

    /// Registers `name` over `transport`.
    pub async fn register_via(&self, transport: Transport, name: &str) -> TestUser {
        register_at(&self.addr, transport, name).await
    }

    /// Creates a server administrator (as the CLI does) and logs it in.
    pub async fn admin(&self, name: &str) -> TestUser {
        let u = self.services.create_account(name, Some(PASSWORD), "", true, false, None).await.unwrap();
        let stub =
            TestUser { id: u.id.to_string(), username: u.username, token: String::new(), session_id: String::new() };
        self.login(&stub).await
    }

    /// Logs `user` in again: a second session (device).
    pub async fn login(&self, user: &TestUser) -> TestUser {
        let c = Client::connect(&self.addr, Transport::Http, None).await.unwrap();
        let r: pb::LoginResponse = c
            .call(
                "AuthService/Login",
                &pb::LoginRequest { username: user.username.clone(), password: PASSWORD.into(), device: None },
            )
            .await
            .unwrap();
        let tokens = r.tokens.unwrap();
        TestUser { token: tokens.access_token, session_id: tokens.session_id, ..user.clone() }
    }

    /// Moves the server's clock `by` ahead (edit windows, expiries) instead of sleeping.
    /// The server's use cases (for maintenance calls a test triggers itself).
    pub fn services(&self) -> &switchboard_service::Services {
        &self.services
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by.as_millis() as i64);
    }

    /// Live connections the server's hub counts.
    pub fn connection_count(&self) -> usize {
        self.services.hub().connection_count()
    }

    pub async fn client(&self, user: &TestUser, transport: Transport) -> Client {
        Client::connect(&self.addr, transport, Some(&user.token)).await.unwrap()
    }

    pub async fn http(&self, user: &TestUser) -> Client {
        self.client(user, Transport::Http).await
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// A test's PostgreSQL schema; [`PgSchema::drop`] removes it.
pub struct PgSchema {
    url: String,
    schema: String,
}

impl PgSchema {
    /// Drops the schema and everything in it.
    pub async fn drop(self) {
        if let Ok((client, conn)) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await {
            tokio::spawn(conn);
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)).await;
        }
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 40)
}

/// Registers `name` on the server at `addr` over `transport`.
pub async fn register_at(addr: &str, transport: Transport, name: &str) -> TestUser {
    let c = Client::connect(addr, transport, None).await.unwrap();
    let r: pb::RegisterResponse = c
        .call(
            "AuthService/Register",
            &pb::RegisterRequest {
                username: name.into(),
                password: PASSWORD.into(),
                display_name: format!("{name} display"),
                device: Some(pb::DeviceInfo { name: "test".into(), platform: "cli".into() }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let user = r.user.unwrap();
    let tokens = r.tokens.unwrap();
    TestUser { id: user.id, username: user.username, token: tokens.access_token, session_id: tokens.session_id }
}

pub fn text(s: &str) -> Option<pb::TextContent> {
    Some(pb::TextContent { text: s.into(), entities: vec![], ..Default::default() })
}

pub async fn send(c: &Client, conv: &str, key: &str, body: &str) -> pb::Message {
    let r: pb::SendMessageResponse = c
        .call(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: conv.into(),
                client_key: key.into(),
                text: text(body),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    r.message.unwrap()
}

pub async fn group(c: &Client, kind: pb::ConversationKind, title: &str, members: &[&TestUser]) -> pb::ConversationView {
    let r: pb::CreateConversationResponse = c
        .call(
            "ConversationService/CreateConversation",
            &pb::CreateConversationRequest {
                kind: kind as i32,
                title: title.into(),
                member_ids: members.iter().map(|u| u.id.clone()).collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    r.conversation.unwrap()
}

pub async fn view(c: &Client, conv: &str) -> pb::ConversationView {
    let r: pb::GetConversationResponse = c
        .call("ConversationService/GetConversation", &pb::GetConversationRequest { conversation_id: conv.into() })
        .await
        .unwrap();
    r.conversation.unwrap()
}

pub fn conv_id(v: &pb::ConversationView) -> String {
    v.conversation.as_ref().unwrap().id.clone()
}

/// Reads events until `pred` matches one (or panics after `secs`).
pub async fn wait_for(
    events: &mut switchboard_client::Events,
    secs: u64,
    pred: impl Fn(&pb::Event) -> bool,
) -> pb::Event {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match events.next_within(left).await {
            Some(StreamEvent::Event(e)) if pred(&e) => return e,
            Some(StreamEvent::Event(_)) => {}
            Some(StreamEvent::Closed { code, reason }) => {
                panic!("stream closed ({code}: {reason}) while waiting")
            }
            None => panic!("no matching event within {secs}s"),
        }
    }
}

/// Reads events until the stream closes; returns the close code and reason.
pub async fn wait_closed(events: &mut switchboard_client::Events, secs: u64) -> (u16, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match events.next_within(left).await {
            Some(StreamEvent::Closed { code, reason }) => return (code, reason),
            Some(StreamEvent::Event(_)) => {}
            None => panic!("stream did not close within {secs}s"),
        }
    }
}

pub fn is_caught_up(e: &pb::Event) -> bool {
    matches!(e.kind, Some(pb::event::Kind::CaughtUp(_)))
}

pub fn code_of<T: std::fmt::Debug>(r: Result<T, switchboard_client::ClientError>) -> pb::ErrorCode {
    r.expect_err("expected an error").code
}

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn raw_ws(app: &TestApp, token: Option<&str>) -> Socket {
    let url = match token {
        Some(t) => format!("ws://{}/v1/ws?access_token={t}", app.addr),
        None => format!("ws://{}/v1/ws", app.addr),
    };
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

pub async fn next_data(ws: &mut Socket) -> Message {
    loop {
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("no reply")
            .expect("socket ended")
            .unwrap();
        if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
            return m;
        }
    }
}

pub async fn next_json(ws: &mut Socket) -> Value {
    match next_data(ws).await {
        Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// A raw HTTP/1.1 reply: status, lower-cased header lines and the JSON body (or null).
pub struct HttpReply {
    pub status: u16,
    pub head: String,
    pub body: Value,
}

impl HttpReply {
    /// The value of header `name` (lower case), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
    }
}

/// POSTs `body` to `path` with extra header lines, over a fresh connection.
pub async fn http_request(app: &TestApp, path: &str, body: &str, headers: &[(&str, &str)]) -> HttpReply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    let mut extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        extra.push_str("Content-Type: application/json\r\n");
    }
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    HttpReply {
        status: head[9..12].parse().unwrap(),
        head: head.to_ascii_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// POSTs with an optional bearer token; returns status, body and `Retry-After`.
pub async fn http_post(app: &TestApp, path: &str, body: &str, token: Option<&str>) -> (u16, Value, Option<String>) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let r = http_request(app, path, body, &headers).await;
    let retry = r.header("retry-after");
    (r.status, r.body, retry)
}

/// A raw HTTP/1.1 exchange with a binary body: status, lower-cased header lines, body.
pub struct RawReply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawReply {
    /// The value of header `name` (lower case), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")).map(|v| v.trim().to_owned()))
    }

    /// The body as JSON (null when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends one request with `method` over a fresh connection and reads the whole reply
/// (`Connection: close`; bodies here are never chunked on the way in).
pub async fn http_raw(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawReply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let length = if body.is_empty() && matches!(method, "GET" | "HEAD" | "OPTIONS" | "DELETE") {
        String::new()
    } else {
        format!("Content-Length: {}\r\n", body.len())
    };
    let req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}{length}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a reply head");
    let head = String::from_utf8_lossy(&out[..split]).to_ascii_lowercase();
    let mut body = out[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = unchunk(&body);
    }
    RawReply { status: head[9..12].parse().unwrap(), head, body }
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

/// `Authorization: Bearer <token>`.
pub fn bearer(user: &TestUser) -> String {
    format!("Bearer {}", user.token)
}
