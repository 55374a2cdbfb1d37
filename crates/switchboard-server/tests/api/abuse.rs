//! What an attacker or a broken client tries: sign-in floods, sockets that stop reading,
//! more sockets than anyone needs, tokens that expire or leak, headers that are almost
//! right. Each test pins the limit or behaviour docs/API.md documents.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};
use switchboard_service::{Argon2Params, RateLimit};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::{Server, free_port};
use crate::helpers::*;

fn login(name: &str, password: &str) -> pb::LoginRequest {
    pb::LoginRequest { username: name.into(), password: password.into(), device: None }
}

#[tokio::test]
async fn sign_in_calls_are_limited_per_client_address() {
    let app =
        TestApp::spawn_with(|c| c.service.auth_limits.per_address = RateLimit { per_second: 0.01, burst: 4.0 }).await;
    let anon = Client::connect(&app.addr, Transport::Http, None).await.unwrap();
    for _ in 0..4 {
        let r = anon.call::<_, pb::LoginResponse>("AuthService/Login", &login("nobody", "wrong password")).await;
        assert_eq!(code_of(r), pb::ErrorCode::Unauthenticated);
    }
    let r = anon.call::<_, pb::LoginResponse>("AuthService/Login", &login("nobody", "wrong password")).await;
    let e = r.unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (pb::ErrorCode::ResourceExhausted, "sign_in_limited"), "{e:?}");
    assert!(e.retry_after_ms > 0);
    // Register and Refresh draw on the same bucket, on every transport.
    let grpc = Client::connect(&app.addr, Transport::Grpc, None).await.unwrap();
    let refresh = pb::RefreshRequest { refresh_token: "x".into() };
    let r = grpc.call::<_, pb::RefreshResponse>("AuthService/Refresh", &refresh).await;
    assert_eq!(code_of(r), pb::ErrorCode::ResourceExhausted);
    let ws = Client::connect(&app.addr, Transport::WsJson, None).await.unwrap();
    let reg = pb::RegisterRequest { username: "newbie".into(), password: PASSWORD.into(), ..Default::default() };
    assert_eq!(
        code_of(ws.call::<_, pb::RegisterResponse>("AuthService/Register", &reg).await),
        pb::ErrorCode::ResourceExhausted
    );
    app.stop().await;
}

#[tokio::test]
async fn failed_logins_lock_the_account_for_a_while_but_not_other_accounts() {
    let app = TestApp::spawn_with(|c| {
        c.service.auth_limits.failed_logins_per_account = RateLimit { per_second: 0.01, burst: 3.0 };
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let anon = Client::connect(&app.addr, Transport::Http, None).await.unwrap();
    for _ in 0..3 {
        let r = anon.call::<_, pb::LoginResponse>("AuthService/Login", &login(&ann.username, "wrong password")).await;
        assert_eq!(code_of(r), pb::ErrorCode::Unauthenticated);
    }
    // Even the right password is refused until the bucket refills: guessing stops here.
    let e = anon.call::<_, pb::LoginResponse>("AuthService/Login", &login("ANN", PASSWORD)).await.unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (pb::ErrorCode::ResourceExhausted, "account_locked"));
    let ok: pb::LoginResponse = anon.call("AuthService/Login", &login(&bob.username, PASSWORD)).await.unwrap();
    assert_eq!(ok.user.unwrap().id, bob.id);
    app.stop().await;
}

#[tokio::test]
async fn password_checks_beyond_the_hashing_queue_are_refused_even_for_unknown_accounts() {
    // An unknown username costs the same hash as a known one (no timing oracle), so its
    // logins queue for the hashing threads like any other.
    let app = TestApp::spawn_with(|c| {
        c.service.argon2 = Argon2Params { memory_kib: 4096, iterations: 8, parallelism: 1 };
        c.service.password_hashing.workers = 1;
        c.service.password_hashing.queue = 2;
    })
    .await;
    let mut calls = Vec::new();
    for i in 0..24 {
        let addr = app.addr.clone();
        calls.push(tokio::spawn(async move {
            let anon = Client::connect(&addr, Transport::Http, None).await.unwrap();
            anon.call::<_, pb::LoginResponse>("AuthService/Login", &login("ghost", &format!("wrong {i:04}"))).await
        }));
    }
    let mut refused = 0;
    for c in calls {
        match code_of(c.await.unwrap()) {
            pb::ErrorCode::ResourceExhausted => refused += 1,
            pb::ErrorCode::Unauthenticated => {}
            other => panic!("a login got {other:?}"),
        }
    }
    assert!(refused > 0, "24 slow hashes at once into one thread and a queue of two: some must be refused");
    app.stop().await;
}

#[tokio::test]
async fn a_socket_that_stops_reading_is_dropped_after_the_write_deadline() {
    let app = TestApp::spawn_with(|c| {
        c.service.connection_queue = 16;
        c.transport.write_timeout_secs = 1;
        c.service.max_message_chars = 4000;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let conv = group(&app.http(&ann).await, pb::ConversationKind::Group, "flood", &[&bob]).await;
    let id = conv_id(&conv);
    // Bob subscribes over a socket with a tiny receive buffer, then never reads again.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let tcp = sock.connect(app.addr.parse().unwrap()).await.unwrap();
    let url = format!("ws://{}/v1/ws?access_token={}", app.addr, bob.token);
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    ws.send(Message::text(r#"{"id":"1","method":"SyncService/Subscribe","body":{"liveOnly":true}}"#)).await.unwrap();
    let _ack = ws.next().await;
    assert_eq!(app.connection_count(), 1);
    let big = "x".repeat(4000);
    // The sender's own socket is the one connection that stays.
    let sender = app.client(&ann, Transport::WsBinary).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut sent = 0;
    while app.connection_count() > 1 && tokio::time::Instant::now() < deadline && sent < 20_000 {
        let batch: Vec<_> = (0..25)
            .map(|i| {
                let req = pb::SendMessageRequest {
                    conversation_id: id.clone(),
                    client_key: format!("k{sent}-{i}"),
                    text: text(&big),
                    ..Default::default()
                };
                let sender = &sender;
                async move { sender.call::<_, pb::SendMessageResponse>("MessageService/SendMessage", &req).await }
            })
            .collect();
        for r in futures_util::future::join_all(batch).await {
            r.unwrap();
        }
        sent += 25;
    }
    // The hub closed it as a slow consumer; the blocked write then ran into its deadline.
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.connection_count() > 1 && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.connection_count(), 1, "the stalled socket is still registered after {sent} messages");
    drop(ws);
    app.stop().await;
}

#[tokio::test]
async fn live_connections_are_capped_per_session_and_per_user() {
    let app = TestApp::spawn_with(|c| {
        c.service.max_connections_per_session = 2;
        c.service.max_connections_per_user = 3;
    })
    .await;
    let ann = app.register("ann").await;
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(app.client(&ann, Transport::WsJson).await);
    }
    let third = Client::connect(&app.addr, Transport::WsJson, Some(&ann.token)).await.map(|_| ()).unwrap_err();
    assert_eq!(
        (third.code, third.reason.as_str()),
        (pb::ErrorCode::ResourceExhausted, "too_many_connections"),
        "a third socket of one session"
    );
    let mut grpc = app.client(&ann, Transport::Grpc).await;
    let sub = grpc.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await;
    assert_eq!(code_of(sub.map(|_| ())), pb::ErrorCode::ResourceExhausted, "a gRPC stream counts too");
    let phone = app.login(&ann).await;
    held.push(app.client(&phone, Transport::WsJson).await);
    let fourth = Client::connect(&app.addr, Transport::WsJson, Some(&phone.token)).await;
    assert_eq!(code_of(fourth.map(|_| ())), pb::ErrorCode::ResourceExhausted, "a fourth socket of one user");
    let bob = app.register("bob").await;
    held.push(app.client(&bob, Transport::WsJson).await);
    // Closing one frees its place.
    held.remove(0).close().await;
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match Client::connect(&app.addr, Transport::WsJson, Some(&ann.token)).await {
            Ok(c) => break held.push(c),
            Err(_) if tokio::time::Instant::now() < until => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("the freed place was not given back: {e:?}"),
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_socket_closes_with_token_expired_when_its_access_token_expires() {
    let app = TestApp::spawn_with(|c| c.service.access_token_ttl_secs = 3600).await;
    let ann = app.register("ann").await;
    let mut ws = app.client(&ann, Transport::WsJson).await;
    let mut events = ws.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;
    let mut grpc = app.client(&ann, Transport::Grpc).await;
    let mut stream = grpc.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut stream, 5, is_caught_up).await;
    app.advance(Duration::from_secs(3601));
    let (code, reason) = wait_closed(&mut events, 10).await;
    assert_eq!((code, reason.as_str()), (4002, "token_expired"));
    let (code, _) = wait_closed(&mut stream, 10).await;
    assert_eq!(code, tonic::Code::Unauthenticated as u16, "the gRPC stream ends UNAUTHENTICATED");
    let late = Client::connect(&app.addr, Transport::WsJson, Some(&ann.token)).await.map(|_| ());
    assert_eq!(code_of(late), pb::ErrorCode::Unauthenticated, "and the token opens nothing more");
    app.stop().await;
}

#[tokio::test]
async fn authorization_needs_the_bearer_scheme_and_rpc_replies_are_not_cacheable() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    for value in [ann.token.clone(), format!("Token {}", ann.token), "Bearer ".to_owned()] {
        let r = http_request(&app, "/v1/rpc/UserService/GetMe", "{}", &[("Authorization", &value)]).await;
        assert_eq!((r.status, r.body["code"].as_str()), (401, Some("ERROR_CODE_UNAUTHENTICATED")), "{value:?}");
    }
    let r =
        http_request(&app, "/v1/rpc/UserService/GetMe", "{}", &[("Authorization", &format!("bearer {}", ann.token))])
            .await;
    assert_eq!(r.status, 200, "the scheme is case-insensitive");
    let body = format!(r#"{{"username":"ann","password":"{PASSWORD}"}}"#);
    let r = http_request(&app, "/v1/rpc/AuthService/Login", &body, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    app.stop().await;
}

#[tokio::test]
async fn decoder_errors_name_the_field_and_never_rust_types_or_positions() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    for (method, body) in [
        ("MessageService/GetHistory", r#"{"conversationId": {"x": 1}}"#),
        ("MessageService/GetHistory", r#"[1,2,3]"#),
        ("MessageService/GetHistory", r#"{"conversationId":"1","limit":"many"}"#),
        ("MessageService/SendMessage", r#"{"conversationId":"1","text":{"text":5}}"#),
        ("MessageService/SendMessage", r#"{"conversationId":"1","text":"hello"}"#),
        ("MessageService/SendMessage", r#"{"conversationId":"1","text":{"text":"hi"}} trailing"#),
    ] {
        let (status, e, _) = http_post(&app, &format!("/v1/rpc/{method}"), body, Some(&ann.token)).await;
        let m = e["message"].as_str().unwrap_or_default();
        assert_eq!(status, 400, "{method} {body}: {e}");
        for leak in ["switchboard.v1", "struct ", "untagged", "line ", "column"] {
            assert!(!m.contains(leak), "{method} {body}: {m:?} shows {leak:?}");
        }
    }
    let (_, e, _) =
        http_post(&app, "/v1/rpc/MessageService/SendMessage", r#"{"text":{"text":5}}"#, Some(&ann.token)).await;
    assert!(e["message"].as_str().unwrap().contains("text.text"), "{e}");
    app.stop().await;
}

/// Resident memory of a process in KiB, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix(" kB")?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_failed_logins_at_full_hashing_cost_leaves_the_server_small() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // The default argon2 cost (19 MiB per hash), and no per-address or per-account limit,
    // so that every attempt really hashes: memory must stay bounded by the hashing
    // threads alone (it grew by 19 MiB per concurrent attempt, and stayed).
    let env = [
        ("SWITCHBOARD_SERVICE__ARGON2__MEMORY_KIB", "19456"),
        ("SWITCHBOARD_SERVICE__ARGON2__ITERATIONS", "2"),
        ("SWITCHBOARD_SERVICE__AUTH_LIMITS__FAILED_LOGINS_PER_ACCOUNT__PER_SECOND", "0"),
        ("SWITCHBOARD_SERVICE__PASSWORD_HASHING__QUEUE", "1000"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let server = Server::start_with(dir.path(), port, &env).await;
    let pid = server.pid();
    let Some(before) = rss_kib(pid) else {
        eprintln!("skipped: no /proc/<pid>/status on this system");
        return;
    };
    let addr = format!("127.0.0.1:{port}");
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let anon = Client::connect(&addr, Transport::Http, None).await.unwrap();
            for i in 0..6 {
                let req = login("target", &format!("wrong {worker} {i}"));
                let code = code_of(anon.call::<_, pb::LoginResponse>("AuthService/Login", &req).await);
                assert_eq!(code, pb::ErrorCode::Unauthenticated);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let after = rss_kib(pid).unwrap();
    eprintln!("RSS {before} KiB before, {after} KiB after 192 failed logins at 32 in parallel");
    assert!(after < 100 * 1024, "RSS grew from {before} KiB to {after} KiB");
    drop(server);
}
