//! Transport plumbing: gRPC health and reflection, the operational HTTP endpoints,
//! WebSocket keep-alive, and the bounded per-connection queue.

use std::time::Duration;

use switchboard_client::Transport;
use switchboard_client::proto as pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

async fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head[9..12].parse().unwrap(), body.to_owned())
}

#[tokio::test]
async fn grpc_health_and_reflection_are_served_on_the_same_port() {
    let app = TestApp::spawn().await;
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{}", app.addr)).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status =
        health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await.unwrap().into_inner();
    assert_eq!(status.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);

    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut refl = ServerReflectionClient::new(channel);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = refl.server_reflection_info(futures_util::stream::iter(vec![req])).await.unwrap().into_inner();
    let resp = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("unexpected reflection answer")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for svc in ["switchboard.v1.MessageService", "switchboard.v1.SyncService", "switchboard.v1.AuthService"] {
        assert!(names.iter().any(|n| n == svc), "{svc} missing from {names:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn health_readiness_and_metrics_endpoints_answer() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let c = app.http(&ann).await;
    let g = group(&c, pb::ConversationKind::Group, "Metrics", &[&bob]).await;
    send(&c, &conv_id(&g), "m", "count me").await;
    assert_eq!(http_get(&app.addr, "/healthz").await.0, 200);
    assert_eq!(http_get(&app.addr, "/readyz").await.0, 200);
    let (status, body) = http_get(&app.addr, "/metrics").await;
    assert_eq!(status, 200);
    for metric in [
        "switchboard_requests_total{method=\"MessageService/SendMessage\",code=\"ok\",transport=\"http\"}",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "switchboard_messages_sent_total",
        "switchboard_request_duration_seconds_bucket",
        "switchboard_fanout_deliveries_total",
    ] {
        assert!(body.contains(metric), "/metrics lacks {metric}");
    }
    check_metric_conventions(&body);
    assert!(body.contains(&format!("switchboard_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{body}");
    app.stop().await;
}

/// With `transport.metrics_listen`, `/metrics` moves to its own address (for an internal
/// network) and leaves the public one.
#[tokio::test]
async fn metrics_can_be_served_on_an_address_of_their_own() {
    let metrics_addr = format!("127.0.0.1:{}", crate::cli::free_port());
    let m = metrics_addr.clone();
    let app = TestApp::spawn_with(move |c| c.transport.metrics_listen = m).await;
    app.register("ann").await;
    assert_eq!(http_get(&app.addr, "/metrics").await.0, 404);
    assert_eq!(http_get(&app.addr, "/readyz").await.0, 200);
    let (status, body) = http_get(&metrics_addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(body.contains("switchboard_requests_total{method=\"AuthService/Register\""), "{body}");
    check_metric_conventions(&body);
    app.stop().await;
}

/// Prometheus conventions: every family has HELP and TYPE, names are `switchboard_` (or
/// the standard `process_`) snake case, counters (and only counters) end in `_total`, durations are histograms in
/// `_seconds`, and nothing is a summary (summaries cannot be added up across nodes).
pub(crate) fn check_metric_conventions(body: &str) {
    let mut helped = std::collections::BTreeSet::new();
    let mut typed = Vec::new();
    for line in body.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("#"), Some("HELP"), Some(name), Some(_)) => {
                helped.insert(name.to_owned());
            }
            (Some("#"), Some("TYPE"), Some(name), Some(kind)) => typed.push((name.to_owned(), kind.to_owned())),
            _ => {}
        }
    }
    assert!(!typed.is_empty(), "no metric families in:\n{body}");
    for (name, kind) in &typed {
        assert!(helped.contains(name), "{name} has no HELP");
        let snake = (name.starts_with("switchboard_") || name.starts_with("process_"))
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(snake, "{name} is not a switchboard_ snake-case name");
        assert_ne!(kind, "summary", "{name} is a summary; use a histogram");
        assert_eq!(
            kind == "counter",
            name.ends_with("_total"),
            "{name} ({kind}): counters, and only they, end in _total"
        );
        if name.contains("duration") || name.contains("latency") {
            assert!(
                kind == "histogram" && name.ends_with("_seconds"),
                "{name} ({kind}) should be a _seconds histogram"
            );
        }
    }
}

#[tokio::test]
async fn a_silent_websocket_is_pinged_and_then_closed_as_idle() {
    let app = TestApp::spawn_with(|c| {
        c.transport.ping_interval_secs = 1;
        c.transport.idle_timeout_secs = 2;
    })
    .await;
    let ann = app.register("ann").await;
    // A raw socket, so that nothing answers the server's pings.
    let mut raw = RawWs::connect(&app.addr, &ann.token).await;
    let frames = raw.read_until_closed(Duration::from_secs(10)).await;
    let pings = frames.iter().filter(|(op, _)| *op == 0x9).count();
    let close = RawWs::close_of(&frames);
    assert_eq!(close, Some((1001, "idle_timeout".to_owned())));
    assert!(pings >= 1);
    // A client that answers pings stays connected.
    let mut c = app.client(&ann, Transport::WsJson).await;
    let mut events = c.subscribe(pb::SubscribeRequest { live_only: true, ..Default::default() }).await.unwrap();
    wait_for(&mut events, 5, is_caught_up).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let me: pb::GetMeResponse = c.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
    assert_eq!(me.user.unwrap().id, ann.id);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_closed_as_a_slow_consumer_and_can_catch_up() {
    // A long write deadline: this test drains the socket later and expects the close frame
    // (abuse.rs covers the deadline itself).
    let app = TestApp::spawn_with(|c| {
        c.service.connection_queue = 16;
        c.transport.write_timeout_secs = 300;
    })
    .await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let c = app.http(&ann).await;
    let g = group(&c, pb::ConversationKind::Group, "Firehose", &[&bob]).await;
    let gid = conv_id(&g);
    // A raw socket that subscribes and then stops reading (and so never answers a ping).
    let mut raw = RawWs::connect(&app.addr, &bob.token).await;
    raw.send_text(r#"{"id":"s","method":"SyncService/Subscribe","body":{"liveOnly":true}}"#).await;
    let body = "x".repeat(4000);
    let sender = app.client(&ann, Transport::WsBinary).await;
    // 8 MB: more than the socket buffers and the queue hold, whatever the kernel's tuning.
    // (The drop counter is process-wide, and other tests drop connections too, so it
    // cannot tell when this one overflowed.)
    let sent = 2000;
    for i in 0..sent {
        send(&sender, &gid, &format!("f{i}"), &body).await;
    }
    assert!(http_metric(&app.addr, "switchboard_queue_drops_total").await > 0.0, "no drop after {sent} messages");
    // Draining the socket now ends with the slow-consumer close.
    let frames = raw.read_until_closed(Duration::from_secs(30)).await;
    assert_eq!(RawWs::close_of(&frames).map(|c| c.0), Some(4008));
    // The client catches up from the store: nothing was lost.
    let mut fresh = app.client(&bob, Transport::WsBinary).await;
    let mut events = fresh.subscribe(switchboard_client::Positions::default().subscribe_request()).await.unwrap();
    let mut pos = switchboard_client::Positions::default();
    loop {
        let e = wait_for(&mut events, 30, |_| true).await;
        if is_caught_up(&e) {
            break;
        }
        assert!(pos.apply(&e));
    }
    assert_eq!(pos.conversations[&gid], 1 + sent);
    app.stop().await;
}

async fn http_metric(addr: &str, name: &str) -> f64 {
    let (_, body) = http_get(addr, "/metrics").await;
    body.lines().filter(|l| l.starts_with(name)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
}

/// A WebSocket spoken by hand, so that nothing is read or answered behind the test's back.
struct RawWs {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl RawWs {
    async fn connect(addr: &str, token: &str) -> Self {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let handshake = format!(
            "GET /v1/ws?access_token={token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(handshake.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed during the handshake");
            buf.extend_from_slice(&chunk[..n]);
        }
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert!(buf.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&buf));
        Self { stream, buf: buf.split_off(end) }
    }

    /// Sends a masked text frame (the all-zero mask is valid and leaves the payload as is).
    async fn send_text(&mut self, text: &str) {
        let mut frame = vec![0x81u8];
        match text.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&[0, 0, 0, 0]);
        frame.extend_from_slice(text.as_bytes());
        self.stream.write_all(&frame).await.unwrap();
    }

    /// Reads until the server closes the TCP connection; returns every frame (opcode, payload).
    async fn read_until_closed(&mut self, limit: Duration) -> Vec<(u8, Vec<u8>)> {
        let mut bytes = std::mem::take(&mut self.buf);
        let read = self.stream.read_to_end(&mut bytes);
        let _ = tokio::time::timeout(limit, read).await.expect("the server never closed");
        let mut frames = Vec::new();
        let mut at = 0;
        while at + 2 <= bytes.len() {
            let op = bytes[at] & 0x0f;
            let (len, head) = match bytes[at + 1] & 0x7f {
                126 => (usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])), 4),
                127 => (u64::from_be_bytes(bytes[at + 2..at + 10].try_into().unwrap()) as usize, 10),
                n => (usize::from(n), 2),
            };
            let end = (at + head + len).min(bytes.len());
            frames.push((op, bytes[at + head..end].to_vec()));
            at += head + len;
        }
        frames
    }

    fn close_of(frames: &[(u8, Vec<u8>)]) -> Option<(u16, String)> {
        frames
            .iter()
            .find(|(op, _)| *op == 0x8)
            .map(|(_, p)| (u16::from_be_bytes([p[0], p[1]]), String::from_utf8_lossy(&p[2..]).to_string()))
    }
}

/// With `transport.metrics_token`, /metrics answers only that bearer token.
#[tokio::test]
async fn metrics_can_require_a_token() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(|c| c.transport.metrics_token = "scrape-me".into()).await;
    let get = |auth: &'static str| {
        let addr = app.addr.clone();
        async move {
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let req = format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out[9..12].parse::<u16>().unwrap()
        }
    };
    assert_eq!(get("").await, 401);
    assert_eq!(get("Authorization: Bearer wrong-one\r\n").await, 401);
    assert_eq!(get("Authorization: Bearer scrape-me\r\n").await, 200);
    assert_eq!(http_get(&app.addr, "/readyz").await.0, 200, "health stays open");
    app.stop().await;
}
