//! Transport plumbing: gRPC health and reflection, the operational HTTP endpoints,
//! WebSocket keep-alive, and the bounded per-connection queue.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use switchboard_client::Transport;
use switchboard_client::proto as pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

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
        "switchboard_requests_total{method=\"MessageService/SendMessage\",code=\"ok\"}",
        "switchboard_messages_sent_total",
        "switchboard_request_duration_seconds_bucket",
        "switchboard_fanout_deliveries_total",
    ] {
        assert!(body.contains(metric), "/metrics lacks {metric}");
    }
    app.stop().await;
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
    let mut s = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    let handshake = format!(
        "GET /v1/ws?access_token={} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        ann.token
    );
    s.write_all(handshake.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut bytes))
        .await
        .expect("the server never closed")
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let (head, _) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let frames = &bytes[head.len() + 4..];
    // Server frames are unmasked: [0x80 | opcode, len, payload...].
    let (mut pings, mut close) = (0, None);
    let mut at = 0;
    while at + 2 <= frames.len() {
        let (op, len) = (frames[at] & 0x0f, usize::from(frames[at + 1] & 0x7f));
        let payload = &frames[at + 2..(at + 2 + len).min(frames.len())];
        match op {
            0x9 => pings += 1,
            0x8 => {
                close = Some((
                    u16::from_be_bytes([payload[0], payload[1]]),
                    String::from_utf8_lossy(&payload[2..]).to_string(),
                ))
            }
            _ => {}
        }
        at += 2 + len;
    }
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
    let app = TestApp::spawn_with(|c| c.service.connection_queue = 16).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let c = app.http(&ann).await;
    let g = group(&c, pb::ConversationKind::Group, "Firehose", &[&bob]).await;
    let gid = conv_id(&g);
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/v1/ws?access_token={}", app.addr, bob.token)).await.unwrap();
    ws.send(Message::Text(r#"{"id":"s","method":"SyncService/Subscribe","body":{"liveOnly":true}}"#.into()))
        .await
        .unwrap();
    // Read the acknowledgement and caught_up, then stop reading.
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
    }
    let body = "x".repeat(4000);
    let sender = app.client(&ann, Transport::WsBinary).await;
    let mut sent = 0;
    for i in 0..3000 {
        send(&sender, &gid, &format!("f{i}"), &body).await;
        sent += 1;
        if i % 200 == 199 && http_metric(&app.addr, "switchboard_queue_drops_total").await > 0.0 {
            break;
        }
    }
    assert!(http_metric(&app.addr, "switchboard_queue_drops_total").await > 0.0, "no drop after {sent} messages");
    // Draining the socket now ends with the slow-consumer close.
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("no close").expect("ended") {
            Ok(Message::Close(Some(f))) => break u16::from(f.code),
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(code, 4008);
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
