//! Bad input gets its documented error, never a panic, a hang or a dropped connection
//! where the connection can go on.

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use switchboard_client::proto as pb;
use switchboard_client::{Client, Transport};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_unknown_methods_and_bad_tokens_get_their_codes_over_http() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let (status, body, _) = http_post(&app, "/v1/rpc/AuthService/Login", "{not json", None).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("ERROR_CODE_INVALID_ARGUMENT")));
    let (status, body, _) = http_post(&app, "/v1/rpc/NoSuchService/Nothing", "{}", Some(&ann.token)).await;
    assert_eq!((status, body["code"].as_str()), (501, Some("ERROR_CODE_UNIMPLEMENTED")));
    let (status, body, _) = http_post(&app, "/v1/rpc/UserService/GetMe", "{}", Some("sba_forged")).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("ERROR_CODE_UNAUTHENTICATED")));
    let (status, body, _) =
        http_post(&app, "/v1/rpc/UserService/GetUsers", r#"{"userIds":"not a list"}"#, Some(&ann.token)).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("ERROR_CODE_INVALID_ARGUMENT")));
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_websocket_frame_gets_an_error_frame_and_the_socket_survives() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let mut ws = raw_ws(&app, Some(&ann.token)).await;
    ws.send(Message::Text("{this is not json".into())).await.unwrap();
    let v = next_json(&mut ws).await;
    assert_eq!(v["error"]["code"], "ERROR_CODE_INVALID_ARGUMENT");
    ws.send(Message::Text(r#"{"method":"UserService/GetMe"}"#.into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["error"]["field"], "id");
    ws.send(Message::Text(r#"{"id":"7","method":"Nope/Nope"}"#.into())).await.unwrap();
    let v = next_json(&mut ws).await;
    assert_eq!(
        (v["response"]["id"].as_str(), v["response"]["error"]["code"].as_str()),
        (Some("7"), Some("ERROR_CODE_UNIMPLEMENTED"))
    );
    ws.send(Message::Text(r#"{"id":"8","method":"UserService/GetUsers","body":{"userIds":["abc"]}}"#.into()))
        .await
        .unwrap();
    let v = next_json(&mut ws).await;
    assert_eq!(v["response"]["error"]["code"], "ERROR_CODE_INVALID_ARGUMENT");
    ws.send(Message::Binary(vec![0xff, 0xff, 0xff].into())).await.unwrap();
    let Message::Binary(b) = next_data(&mut ws).await else { panic!("expected a binary error frame") };
    let frame = pb::ServerFrame::decode(b).unwrap();
    assert!(
        matches!(frame.kind, Some(pb::server_frame::Kind::Error(ref e)) if e.code == pb::ErrorCode::InvalidArgument as i32)
    );
    // Still alive and authenticated.
    ws.send(Message::Text(r#"{"id":"9","method":"UserService/GetMe"}"#.into())).await.unwrap();
    let v = next_json(&mut ws).await;
    assert_eq!(v["response"]["body"]["user"]["id"], ann.id);
    app.stop().await;
}

#[tokio::test]
async fn oversized_frames_and_bodies_are_refused_with_a_clear_error() {
    let app = TestApp::spawn_with(|c| c.transport.max_frame_bytes = 4096).await;
    let ann = app.register("ann").await;
    let mut ws = raw_ws(&app, Some(&ann.token)).await;
    let big = format!(r#"{{"id":"1","method":"UserService/GetMe","body":{{"pad":"{}"}}}}"#, "x".repeat(6000));
    ws.send(Message::Text(big.into())).await.unwrap();
    let v = next_json(&mut ws).await;
    assert_eq!(
        (v["error"]["code"].as_str(), v["error"]["field"].as_str()),
        (Some("ERROR_CODE_INVALID_ARGUMENT"), Some("frame"))
    );
    ws.send(Message::Text(r#"{"id":"2","method":"UserService/GetMe"}"#.into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["response"]["id"], "2");
    // Past twice the limit the socket itself is closed (1009, message too big). The server
    // stops reading at the frame header, so the rest of the frame is still unread when it
    // closes; the kernel then answers with a reset, which can overtake the close frame on
    // the client side. Either way the socket must end, and a close frame must say 1009.
    ws.send(Message::Text("y".repeat(9000).into())).await.unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(f)))) => return Some(u16::from(f.code)),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(other)) => panic!("expected a close frame, got {other:?}"),
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the socket was not closed");
    if let Some(code) = ended {
        assert_eq!(code, 1009);
    }
    let (status, body, _) =
        http_post(&app, "/v1/rpc/UserService/GetMe", &format!("{{\"p\":\"{}\"}}", "z".repeat(5000)), Some(&ann.token))
            .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("body")));
    app.stop().await;
}

#[tokio::test]
async fn invalid_tokens_are_refused_on_every_transport() {
    let app = TestApp::spawn().await;
    for t in [Transport::Grpc, Transport::Http] {
        let c = Client::connect(&app.addr, t, Some("sba_nope")).await.unwrap();
        assert_eq!(
            code_of(c.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await),
            pb::ErrorCode::Unauthenticated
        );
    }
    for t in [Transport::WsJson, Transport::WsBinary] {
        assert_eq!(
            code_of(Client::connect(&app.addr, t, Some("sba_nope")).await.map(|_| ())),
            pb::ErrorCode::Unauthenticated
        );
        let anon = Client::connect(&app.addr, t, None).await.unwrap();
        assert_eq!(
            code_of(anon.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await),
            pb::ErrorCode::Unauthenticated
        );
    }
    let mut grpc = Client::connect(&app.addr, Transport::Grpc, Some("sba_nope")).await.unwrap();
    assert_eq!(code_of(grpc.subscribe(Default::default()).await.map(|_| ())), pb::ErrorCode::Unauthenticated);
    app.stop().await;
}

#[tokio::test]
async fn over_long_text_unknown_ids_and_bad_values_get_invalid_argument_or_not_found() {
    let app = TestApp::spawn_with(|c| c.service.max_message_chars = 100).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let c = app.client(&ann, Transport::Grpc).await;
    let g = group(&c, pb::ConversationKind::Group, "Limits", &[&bob]).await;
    let gid = conv_id(&g);
    let long = c
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: gid.clone(),
                client_key: "k".into(),
                text: text(&"a".repeat(101)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(long.code, pb::ErrorCode::InvalidArgument);
    assert!(long.message.contains("at most 100"), "{}", long.message);
    let no_key = c
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &pb::SendMessageRequest { conversation_id: gid.clone(), text: text("x"), ..Default::default() },
        )
        .await;
    assert_eq!(code_of(no_key), pb::ErrorCode::InvalidArgument);
    let bad_id = c
        .call::<_, pb::GetConversationResponse>(
            "ConversationService/GetConversation",
            &pb::GetConversationRequest { conversation_id: "abc".into() },
        )
        .await;
    assert_eq!(code_of(bad_id), pb::ErrorCode::InvalidArgument);
    let unknown = c
        .call::<_, pb::GetConversationResponse>(
            "ConversationService/GetConversation",
            &pb::GetConversationRequest { conversation_id: "987654".into() },
        )
        .await;
    assert_eq!(code_of(unknown), pb::ErrorCode::NotFound);
    let unknown_msg = c
        .call::<_, pb::EditMessageResponse>(
            "MessageService/EditMessage",
            &pb::EditMessageRequest { conversation_id: gid.clone(), message_id: "987654".into(), text: text("x") },
        )
        .await;
    assert_eq!(code_of(unknown_msg), pb::ErrorCode::NotFound);
    let unknown_user = c
        .call::<_, pb::CreateDirectResponse>(
            "ConversationService/CreateDirect",
            &pb::CreateDirectRequest { user_id: "987654".into() },
        )
        .await;
    assert_eq!(code_of(unknown_user), pb::ErrorCode::NotFound);
    let bad_entity = c
        .call::<_, pb::SendMessageResponse>(
            "MessageService/SendMessage",
            &pb::SendMessageRequest {
                conversation_id: gid.clone(),
                client_key: "e".into(),
                text: Some(pb::TextContent {
                    text: "hi".into(),
                    entities: vec![pb::Entity {
                        kind: pb::EntityKind::Bold as i32,
                        offset: 1,
                        length: 5,
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(code_of(bad_entity), pb::ErrorCode::InvalidArgument);
    let bad_name = Client::connect(&app.addr, Transport::Grpc, None)
        .await
        .unwrap()
        .call::<_, pb::RegisterResponse>(
            "AuthService/Register",
            &pb::RegisterRequest { username: "x!".into(), password: PASSWORD.into(), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert_eq!(bad_name.code, pb::ErrorCode::InvalidArgument);
    app.stop().await;
}

#[tokio::test]
async fn the_rate_limit_answers_resource_exhausted_with_a_retry_hint() {
    let app = TestApp::spawn_with(|c| {
        c.service.rate_limit.per_second = 1.0;
        c.service.rate_limit.burst = 3.0;
    })
    .await;
    let ann = app.register("ann").await;
    let mut last = None;
    for _ in 0..4 {
        last = Some(http_post(&app, "/v1/rpc/UserService/GetMe", "{}", Some(&ann.token)).await);
    }
    let (status, body, retry) = last.unwrap();
    assert_eq!((status, body["code"].as_str()), (429, Some("ERROR_CODE_RESOURCE_EXHAUSTED")));
    assert!(body["retryAfterMs"].as_str().is_some_and(|v| v.parse::<u64>().unwrap() > 0), "{body}");
    assert_eq!(body["reason"].as_str(), Some("rate_limited"));
    assert_eq!(retry.as_deref(), Some("1"));
    let grpc = app.client(&ann, Transport::Grpc).await;
    let e = grpc.call::<_, pb::GetMeResponse>("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (pb::ErrorCode::ResourceExhausted, "rate_limited"));
    assert!(e.retry_after_ms > 0);
    app.stop().await;
}

/// A small deterministic generator, so a failure reproduces.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[tokio::test]
async fn random_frames_and_bodies_never_break_the_server() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann").await;
    let methods = [
        "MessageService/SendMessage",
        "ConversationService/CreateConversation",
        "SyncService/Subscribe",
        "SyncService/GetDifference",
        "UserService/GetUsers",
        "x/y",
        "",
    ];
    let fragments = [
        "{",
        "}",
        "\"id\":",
        "\"1\"",
        ",",
        "\"method\":",
        "\"body\":",
        "[",
        "]",
        "null",
        "-1",
        "1e999",
        "\"\\u0000\"",
        "{\"conversationId\":\"1\"}",
        "true",
    ];
    let mut rng = XorShift(0x5eed_1234_abcd_9876);
    let mut ws = raw_ws(&app, Some(&ann.token)).await;
    for i in 0..300 {
        let frame = match i % 3 {
            0 => {
                let n = (rng.next() % 200) as usize;
                Message::Binary(rng.bytes(n).into())
            }
            1 => {
                let text: String = (0..rng.next() % 12).map(|_| rng.pick(&fragments)).collect();
                Message::Text(text.into())
            }
            _ => {
                let body: String = (0..rng.next() % 6).map(|_| rng.pick(&fragments)).collect();
                let text = format!(r#"{{"id":"{i}","method":"{}","body":{body}}}"#, rng.pick(&methods));
                Message::Text(text.into())
            }
        };
        ws.send(frame).await.unwrap();
        let path = format!("/v1/rpc/{}", rng.pick(&methods));
        let body: String = (0..rng.next() % 8).map(|_| rng.pick(&fragments)).collect();
        let (status, _, _) = http_post(&app, &path, &body, Some(&ann.token)).await;
        assert!(status != 500 && status != 0, "{path} {body:?} -> {status}");
    }
    // The socket still answers, and so does the server.
    ws.send(Message::Text(r#"{"id":"last","method":"UserService/GetMe"}"#.into())).await.unwrap();
    loop {
        let v = match next_data(&mut ws).await {
            Message::Text(t) => serde_json::from_str::<serde_json::Value>(t.as_str()).unwrap(),
            _ => continue,
        };
        if v["response"]["id"] == "last" {
            assert_eq!(v["response"]["body"]["user"]["id"], ann.id);
            break;
        }
    }
    let c = app.client(&ann, Transport::Grpc).await;
    let me: pb::GetMeResponse = c.call("UserService/GetMe", &pb::GetMeRequest {}).await.unwrap();
    assert_eq!(me.user.unwrap().id, ann.id);
    app.stop().await;
}
